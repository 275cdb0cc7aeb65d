// Per-client rate limiting, the way chrony's "ratelimit" works: a token bucket per client address that refills at
// one answer per interval and holds at most "burst" answers. Over the limit, a client gets at most one RATE kiss per
// interval and the rest are dropped, so the server never turns into a reflector; a random "leak" still answers one
// in N over-limit requests normally, so a flood spoofing a real client's address cannot cut that client off.

import { ClientTable, NEVER_MS } from './server-table';

export type RateVerdict = 'answer' | 'kiss' | 'leak' | 'drop';

export interface RateLimit {
  /** 0 turns rate limiting off (every request is answered). */
  intervalMs: number;
  burst: number;
  /** Answer 1 in leak over-limit requests anyway; 0 never does. */
  leak: number;
}

/** A client the table has just taken in starts with a full bucket and no kiss on record. */
export function resetClient(t: ClientTable, r: number, nowMs: number, burst: number): void {
  t.tokens[r] = burst;
  t.lastMs[r] = nowMs;
  t.kissMs[r] = NEVER_MS;
}

/** Whether this client may be kissed now: at most one kiss per interval, whatever the code. */
export function kissAllowed(t: ClientTable, r: number, nowMs: number, intervalMs: number): boolean {
  if (nowMs - t.kissMs[r] >= intervalMs || nowMs < t.kissMs[r]) {
    t.kissMs[r] = nowMs;
    return true;
  }
  return false;
}

export function chargeRequest(t: ClientTable, r: number, nowMs: number, limit: RateLimit, random: () => number): RateVerdict {
  if (limit.intervalMs <= 0) return 'answer';
  let elapsed = nowMs - t.lastMs[r];
  // A clock that went backwards refills nothing rather than draining the bucket.
  if (elapsed < 0) elapsed = 0;
  let tokens = t.tokens[r] + elapsed / limit.intervalMs;
  if (tokens > limit.burst) tokens = limit.burst;
  t.lastMs[r] = nowMs;
  if (tokens >= 1) {
    t.tokens[r] = tokens - 1;
    return 'answer';
  }
  t.tokens[r] = tokens;
  if (kissAllowed(t, r, nowMs, limit.intervalMs)) return 'kiss';
  if (limit.leak > 0 && random() * limit.leak < 1) return 'leak';
  return 'drop';
}
