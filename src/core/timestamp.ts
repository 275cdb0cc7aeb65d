// NTP timestamps: 32-bit seconds since 1900 (within the current era) and a 32-bit fraction.

export interface NtpTimestamp {
  /** Seconds within the era, 0 .. 2^32-1. */
  s: number;
  /** Fraction of a second in units of 2^-32 s, 0 .. 2^32-1. */
  f: number;
}

/** A signed difference of two timestamps: s + f / 2^32 seconds, with f in 0 .. 2^32-1. */
export interface NtpDifference {
  s: number;
  f: number;
}

// Written as literals: Math.pow(2, 32) is inexact on Espruino.
export const TWO_POW_32 = 4294967296;
export const TWO_POW_31 = 2147483648;
/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_S = 2208988800;

export const ZERO_TIMESTAMP: NtpTimestamp = { s: 0, f: 0 };

function wrapSeconds(s: number): number {
  const r = s % TWO_POW_32;
  return r < 0 ? r + TWO_POW_32 : (r === 0 ? 0 : r);
}

/** From whole Unix seconds and nanoseconds, exactly (the Node adapter's high-resolution clock). */
export function ntpFromUnixParts(unixS: number, nanos: number): NtpTimestamp {
  let s = Math.floor(unixS);
  let ns = nanos + (unixS - s) * 1e9;
  while (ns >= 1e9) {
    ns -= 1e9;
    s += 1;
  }
  while (ns < 0) {
    ns += 1e9;
    s -= 1;
  }
  let f = Math.round(ns * TWO_POW_32 / 1e9);
  if (f >= TWO_POW_32) {
    f -= TWO_POW_32;
    s += 1;
  }
  return { s: wrapSeconds(s + NTP_UNIX_OFFSET_S), f: f };
}

/**
 * From fractional Unix seconds (Espruino's getTime(), Date.now() / 1000). The fraction of a double is exact and
 * scaling by 2^32 is exact, so no detour through nanoseconds (which rounds twice). Truncated rather than rounded:
 * rounding could carry into the seconds, and a double near today's date has no bits below 2^-32 s to round.
 */
export function ntpFromUnixSeconds(unixS: number): NtpTimestamp {
  const whole = Math.floor(unixS);
  // Adding 2^32 as well keeps the remainder positive for any time since 1764 (the start of NTP era -1), so the
  // sign checks of wrapSeconds are not needed. One literal, NTP_UNIX_OFFSET_S + 2^32, since the minifiers fold
  // no sums of imported constants.
  return { s: (whole + 6503956096) % TWO_POW_32, f: Math.floor((unixS - whole) * TWO_POW_32) };
}

/**
 * To fractional Unix seconds, choosing the era that puts the result nearest to pivotUnixS
 * (a rough idea of "now"), so that a timestamp from era 1 (after 2036-02-07) reads correctly.
 */
export function ntpToUnixSeconds(ts: NtpTimestamp, pivotUnixS: number): number {
  const pivotNtp = pivotUnixS + NTP_UNIX_OFFSET_S;
  const era = Math.floor(pivotNtp / TWO_POW_32);
  let best = 0;
  let bestDistance = -1;
  for (var e = era - 1; e <= era + 1; e++) {
    const candidate = e * TWO_POW_32 + ts.s + ts.f / TWO_POW_32;
    const distance = Math.abs(candidate - pivotNtp);
    if (bestDistance < 0 || distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best - NTP_UNIX_OFFSET_S;
}

export function isZeroTimestamp(ts: NtpTimestamp): boolean {
  return ts.s === 0 && ts.f === 0;
}

export function timestampsEqual(a: NtpTimestamp, b: NtpTimestamp): boolean {
  return a.s === b.s && a.f === b.f;
}

/** a - b, taking seconds modulo 2^32 as a signed value so that differences work across the 2036 era rollover. */
export function subtractTimestamps(a: NtpTimestamp, b: NtpTimestamp): NtpDifference {
  let s = a.s - b.s;
  let f = a.f - b.f;
  if (f < 0) {
    f += TWO_POW_32;
    s -= 1;
  }
  s = wrapSeconds(s);
  if (s >= TWO_POW_31) s -= TWO_POW_32;
  return { s: s, f: f };
}

/** Only the final, small difference becomes a double, so no precision is lost to whole timestamps. */
export function differenceToSeconds(d: NtpDifference): number {
  return d.s + d.f / TWO_POW_32;
}

/** A difference of two seconds fields, taken modulo 2^32 as a signed value so that it holds across the 2036 era rollover. */
function eraSeconds(s: number): number {
  // s is within (-2^32, 2^32): subtracting the nearest multiple of 2^32 leaves [-2^31, 2^31), every step exact.
  return s - Math.round(s / TWO_POW_32) * TWO_POW_32;
}

/**
 * Offset and delay (RFC 5905 §8) from the seconds and fraction fields of the four timestamps, as judgeReply reads
 * them straight from a reply's bytes. Whole seconds and fractions are summed apart, each exactly as an integer,
 * and meet in one rounding at the end: no precision is lost to whole timestamps, and no objects are built on the way.
 */
export function offsetAndDelayOf(s1: number, f1: number, s2: number, f2: number, s3: number, f3: number, s4: number, f4: number): { offsetS: number; delayS: number } {
  return {
    offsetS: (eraSeconds(s2 - s1) + eraSeconds(s3 - s4) + (f2 - f1 + f3 - f4) / TWO_POW_32) / 2,
    delayS: eraSeconds(s4 - s1) - eraSeconds(s3 - s2) + (f4 - f1 - f3 + f2) / TWO_POW_32,
  };
}

/** As offsetAndDelayOf, from the four timestamps. */
export function offsetAndDelay(t1: NtpTimestamp, t2: NtpTimestamp, t3: NtpTimestamp, t4: NtpTimestamp): { offsetS: number; delayS: number } {
  return offsetAndDelayOf(t1.s, t1.f, t2.s, t2.f, t3.s, t3.f, t4.s, t4.f);
}

/** Adds seconds (which may be fractional and negative) to a timestamp, wrapping at the era boundary. */
export function addSeconds(ts: NtpTimestamp, seconds: number): NtpTimestamp {
  const whole = Math.floor(seconds);
  let f = ts.f + Math.round((seconds - whole) * TWO_POW_32);
  let s = ts.s + whole;
  if (f >= TWO_POW_32) {
    f -= TWO_POW_32;
    s += 1;
  }
  return { s: wrapSeconds(s), f: f };
}
