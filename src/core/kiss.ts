// Kiss-o'-Death handling (RFC 5905 §7.4, RFC 4330 §8, RFC 8633 §5.4).

/** What a kiss makes the client do. */
export type KissAction = 'hold' | 'slow-down' | 'ignore' | 'failed-poll';

/** RFC 8633: a RATE may not push the poll interval past 2^13 s on the server's say-so alone. */
export const RATE_HINT_CAP_S = 8192;

export function classifyKiss(code: string): KissAction {
  if (code === 'DENY' || code === 'RSTR') return 'hold';
  if (code === 'RATE') return 'slow-down';
  // "X" codes are experimental and carry no instruction.
  if (code[0] === 'X') return 'ignore';
  return 'failed-poll';
}

/**
 * The interval after a RATE: at least double the current one. The server's poll field is only a hint,
 * clamped to 2^13 s so a forged or hostile RATE cannot silence a client for days; the configured
 * maximum caps the growth.
 */
export function intervalAfterRate(currentS: number, serverPoll: number, maxIntervalS: number): number {
  let hintS = 0;
  if (serverPoll > 0) {
    hintS = 1;
    for (var i = 0; i < serverPoll && hintS < RATE_HINT_CAP_S; i++) hintS *= 2;
    if (hintS > RATE_HINT_CAP_S) hintS = RATE_HINT_CAP_S;
  }
  let next = currentS * 2;
  if (hintS > next) next = hintS;
  return next > maxIntervalS ? maxIntervalS : next;
}
