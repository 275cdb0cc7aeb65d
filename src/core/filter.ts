// A fixed-size clock filter (the NTP clock-filter idea): of the last 8 samples, trust the one with the least
// delay, since queueing only ever adds delay and the offset error is bounded by half the delay.

export const FILTER_SIZE = 8;
/** How fast a stored sample is assumed to go stale: a typical crystal's frequency error (RFC 5905 PHI, 15 ppm), per ms. */
const STALENESS_S_PER_MS = 15e-9;

export interface FilterEntry {
  offsetS: number;
  delayS: number;
  atMs: number;
}

/** The newest FILTER_SIZE entries, oldest first. */
export type ClockFilter = FilterEntry[];

export function createFilter(): ClockFilter {
  return [];
}

export function addToFilter(filter: ClockFilter, entry: FilterEntry): void {
  if (filter.push(entry) > FILTER_SIZE) filter.shift();
}

/** The entry with the least delay, counting age as extra uncertainty so an old quiet sample does not win forever. */
export function bestInFilter(filter: ClockFilter, nowMs: number): FilterEntry | null {
  let best: FilterEntry | null = null;
  let bestScore = Infinity;
  for (var e of filter) {
    // Twice (half the delay + the staleness): doubling is exact in binary floating point, so the order is the same.
    const score = Math.max(e.delayS, 0) + 2 * STALENESS_S_PER_MS * (nowMs - e.atMs);
    if (score < bestScore) {
      best = e;
      bestScore = score;
    }
  }
  return best;
}

/** After the local clock was stepped by stepS, stored offsets must move the other way to stay true. */
export function shiftFilter(filter: ClockFilter, stepS: number): void {
  for (var e of filter) e.offsetS -= stepS;
}
