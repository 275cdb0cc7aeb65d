// A fixed-size clock filter (the NTP clock-filter idea): of the last 8 samples, trust the one with the least
// delay, since queueing only ever adds delay and the offset error is bounded by half the delay.

export const FILTER_SIZE = 8;
/** How fast a stored sample is assumed to go stale: a typical crystal's frequency error (RFC 5905 PHI). */
const STALENESS_S_PER_S = 15e-6;

export interface FilterEntry {
  offsetS: number;
  delayS: number;
  atMs: number;
}

export interface ClockFilter {
  entries: (FilterEntry | null)[];
  next: number;
}

export function createFilter(): ClockFilter {
  const entries: (FilterEntry | null)[] = [];
  for (var i = 0; i < FILTER_SIZE; i++) entries.push(null);
  return { entries: entries, next: 0 };
}

export function addToFilter(filter: ClockFilter, entry: FilterEntry): void {
  filter.entries[filter.next] = entry;
  filter.next = (filter.next + 1) % FILTER_SIZE;
}

/** The entry with the least delay, counting age as extra uncertainty so an old quiet sample does not win forever. */
export function bestInFilter(filter: ClockFilter, nowMs: number): FilterEntry | null {
  let best: FilterEntry | null = null;
  let bestScore = 0;
  for (var i = 0; i < FILTER_SIZE; i++) {
    const e = filter.entries[i];
    if (!e) continue;
    const score = (e.delayS > 0 ? e.delayS : 0) / 2 + STALENESS_S_PER_S * (nowMs - e.atMs) / 1000;
    if (best === null || score < bestScore) {
      best = e;
      bestScore = score;
    }
  }
  return best;
}

/** After the local clock was stepped by stepS, stored offsets must move the other way to stay true. */
export function shiftFilter(filter: ClockFilter, stepS: number): void {
  for (var i = 0; i < FILTER_SIZE; i++) {
    const e = filter.entries[i];
    if (e) e.offsetS -= stepS;
  }
}
