// Kiss-o'-Death handling (RFC 5905 §7.4, RFC 4330 §8, RFC 8633 §5.4).

/** What a kiss makes the client do. */
export type KissAction = 'hold' | 'slow-down' | 'ignore' | 'failed-poll';

/** RFC 8633: a RATE may not push the poll interval past 2^13 s on the server's say-so alone. */
const RATE_HINT_CAP_POLL = 13;
export const RATE_HINT_CAP_S = 1 << RATE_HINT_CAP_POLL;

export function classifyKiss(code: string): KissAction {
  if (code === 'DENY' || code === 'RSTR') return 'hold';
  if (code === 'RATE') return 'slow-down';
  // "X" codes are experimental and carry no instruction.
  if (code[0] === 'X') return 'ignore';
  return 'failed-poll';
}

/**
 * The interval after a RATE: at least double the current one. The server's poll field (log2 s) is only a hint,
 * clamped to 2^13 s so a forged or hostile RATE cannot silence a client for days; the configured maximum caps the
 * growth. A poll of 0 or less hints at 1 s or less, which no doubled interval is below, so it counts as none.
 */
export function intervalAfterRate(currentS: number, serverPoll: number, maxIntervalS: number): number {
  // 2^poll as a shift: exact (Math.pow is not on Espruino), and 1 << 13 fits a 32-bit int with room to spare.
  return Math.round(Math.min(Math.max(serverPoll > 0 ? 1 << Math.min(serverPoll, RATE_HINT_CAP_POLL) : 0, currentS * 2), maxIntervalS));
}
