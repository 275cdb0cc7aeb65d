// How each client behaves, kept in the same bounded table as its rate limit: how often it asks, the shortest gap
// between two of its requests, whether it came back while a kiss we sent should have kept it away, and whether its
// requests carry its clock. Recording is a few typed-array writes per request; finding the worst clients is a scan
// done on the stats timer, never per packet.

import { readU32 } from './codec';
import { FLOOR_S } from './policy';
import { ClientTable, NEVER_MS } from './server-table';

export const KISS_SENT_NONE = 0;
export const KISS_SENT_RATE = 1;
export const KISS_SENT_DENY = 2;
export const KISS_SENT_RSTR = 3;
/** By KISS_SENT_*: the kiss last sent, if any. */
const KISS_NAMES: ('RATE' | 'DENY' | 'RSTR' | null)[] = [null, 'RATE', 'DENY', 'RSTR'];

/** A transmit timestamp this close to the time we serve is a clock reading; a random nonce lands here once in 600,000. */
const CLOCK_WINDOW_S = 3600;
const U32_MAX = 4294967295;

export interface ClientConduct {
  address: string;
  requests: number;
  /** Requests per minute over the time this client has been in the table (0 after a single request). */
  perMinute: number;
  /** The shortest time between two of its requests, s; null after a single request. */
  shortestIntervalS: number | null;
  /** Under RFC 4330's 15 s floor at least once. */
  underFloor: boolean;
  /** The last kiss we sent it, if any. */
  lastKiss: 'RATE' | 'DENY' | 'RSTR' | null;
  /** Requests that came after a DENY or RSTR, or sooner than a RATE asked. */
  ignoredKisses: number;
  /** Requests whose transmit timestamp was its clock rather than a random nonce. */
  clockLeaks: number;
  /** Seconds since its last request. */
  idleS: number;
}

export function resetConduct(t: ClientTable, r: number, nowMs: number): void {
  t.requests[r] = 0;
  t.firstMs[r] = nowMs;
  t.seenMs[r] = NEVER_MS;
  t.shortestMs[r] = -1;
  t.kissCode[r] = KISS_SENT_NONE;
  t.ignoredKisses[r] = 0;
  t.clockLeaks[r] = 0;
}

function bump(counts: Uint32Array, r: number): void {
  if (counts[r] < U32_MAX) counts[r]++;
}

/**
 * Notes one request from record r. servedS: the seconds part of the time we serve now (NTP era seconds), to spot a
 * clock in the transmit timestamp. rateAwayMs: how long a RATE kiss asked the client to stay away.
 */
export function noteRequest(t: ClientTable, r: number, nowMs: number, request: Uint8Array, servedS: number, rateAwayMs: number): void {
  if (t.requests[r] > 0) {
    const gap = nowMs - t.seenMs[r];
    if (gap >= 0 && (t.shortestMs[r] < 0 || gap < t.shortestMs[r])) t.shortestMs[r] = gap;
  }
  const kiss = t.kissCode[r];
  if (kiss === KISS_SENT_DENY || kiss === KISS_SENT_RSTR || (kiss === KISS_SENT_RATE && nowMs - t.kissMs[r] < rateAwayMs)) bump(t.ignoredKisses, r);
  bump(t.requests, r);
  t.seenMs[r] = nowMs;
  if (request.length >= 48) {
    const seconds = readU32(request, 40);
    if (seconds !== 0 || readU32(request, 44) !== 0) {
      // Modulo 2^32 and signed, so the check holds across the 2036 era change.
      let d = (seconds - servedS) % 4294967296;
      if (d >= 2147483648) d -= 4294967296;
      if (d < -2147483648) d += 4294967296;
      if (d > -CLOCK_WINDOW_S && d < CLOCK_WINDOW_S) bump(t.clockLeaks, r);
    }
  }
}

/** Remembers the kiss just sent to record r (KISS_SENT_RATE, KISS_SENT_DENY or KISS_SENT_RSTR). */
export function noteKissSent(t: ClientTable, r: number, code: number): void {
  t.kissCode[r] = code;
}

function conductOf(t: ClientTable, r: number, nowMs: number): ClientConduct {
  const n = t.requests[r];
  const span = t.seenMs[r] - t.firstMs[r];
  const shortest = t.shortestMs[r];
  return {
    address: t.keys[r],
    requests: n,
    perMinute: n > 1 && span > 0 ? ((n - 1) / span) * 60000 : 0,
    shortestIntervalS: shortest >= 0 ? shortest / 1000 : null,
    underFloor: shortest >= 0 && shortest < FLOOR_S * 1000,
    lastKiss: KISS_NAMES[t.kissCode[r]],
    ignoredKisses: t.ignoredKisses[r],
    clockLeaks: t.clockLeaks[r],
    idleS: (nowMs - t.seenMs[r]) / 1000,
  };
}

function isRude(t: ClientTable, r: number): boolean {
  return t.ignoredKisses[r] > 0 || (t.shortestMs[r] >= 0 && t.shortestMs[r] < FLOOR_S * 1000) || t.clockLeaks[r] > 0;
}

/** Worse first: ignoring kisses, then asking under the floor (more often first), then leaking the clock. */
function worse(a: ClientConduct, b: ClientConduct): boolean {
  if (a.ignoredKisses !== b.ignoredKisses) return a.ignoredKisses > b.ignoredKisses;
  if (a.underFloor !== b.underFloor) return a.underFloor;
  if (a.perMinute !== b.perMinute) return a.perMinute > b.perMinute;
  return a.clockLeaks > b.clockLeaks;
}

/** The rude clients in the table, worst first, at most limit of them, and how many there are in all. */
export function rudeClients(t: ClientTable, limit: number, nowMs: number): { count: number; worst: ClientConduct[] } {
  const worst: ClientConduct[] = [];
  let count = 0;
  for (var r = 0; r < t.size; r++) {
    if (!isRude(t, r)) continue;
    count++;
    const c = conductOf(t, r, nowMs);
    let at = worst.length;
    while (at > 0 && worse(c, worst[at - 1])) at--;
    if (at >= limit) continue;
    worst.splice(at, 0, c);
    if (worst.length > limit) worst.pop();
  }
  return { count: count, worst: worst };
}
