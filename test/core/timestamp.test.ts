import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  addSeconds, NTP_UNIX_OFFSET_S, ntpFromUnixParts, ntpFromUnixSeconds, ntpToUnixSeconds, NtpTimestamp, offsetAndDelay, subtractTimestamps,
} from '../../src/core';

const TWO64 = 1n << 64n;
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const timestamp = fc.record({ s: u32, f: u32 });

function big(ts: NtpTimestamp): bigint {
  return (BigInt(ts.s) << 32n) | BigInt(ts.f);
}

/** a - b modulo 2^64 as a signed 64-bit fixed-point number (RFC 5905's reference arithmetic). */
function bigDiff(a: NtpTimestamp, b: NtpTimestamp): bigint {
  let d = (big(a) - big(b)) % TWO64;
  if (d < 0n) d += TWO64;
  if (d >= TWO64 / 2n) d -= TWO64;
  return d;
}

function toSeconds(fixed: bigint): number {
  // Exact enough for comparison: integer part plus fraction, each well inside a double.
  const whole = fixed >> 32n;
  const frac = fixed - (whole << 32n);
  return Number(whole) + Number(frac) / 4294967296;
}

/** Four timestamps that could come from one exchange: all within a few hours of each other, any era position. */
const exchange = fc.tuple(timestamp, fc.integer({ min: -20000, max: 20000 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 }), u32, u32, u32)
  .map(([t1, offsetMs, d1, d2, f2, f3, f4]) => {
    const t2 = addSeconds(t1, offsetMs / 1000 + d1 / 1e6 + f2 / 2 ** 52);
    const t3 = addSeconds(t2, d2 / 1e6 + f3 / 2 ** 52);
    const t4 = addSeconds(t1, (d1 + d2) / 1e6 + 1e-3 + f4 / 2 ** 52);
    return [t1, t2, t3, t4] as const;
  });

describe('timestamps and the offset/delay maths', () => {
  test('offset and delay match a 64-bit BigInt reference to within 2^-32 s', () => {
    fc.assert(fc.property(exchange, ([t1, t2, t3, t4]) => {
      const r = offsetAndDelay(t1, t2, t3, t4);
      const refOffset = toSeconds(bigDiff(t2, t1) + bigDiff(t3, t4)) / 2;
      const refDelay = toSeconds(bigDiff(t4, t1) - bigDiff(t3, t2));
      expect(Math.abs(r.offsetS - refOffset)).toBeLessThanOrEqual(2 ** -32);
      expect(Math.abs(r.delayS - refDelay)).toBeLessThanOrEqual(2 ** -32);
    }), { numRuns: 5000 });
  });

  test('differences work across the 2036 era rollover', () => {
    const beforeRollover: NtpTimestamp = { s: 0xffffffff, f: 0xc0000000 }; // 2036-02-07 06:28:15.75
    const afterRollover: NtpTimestamp = { s: 0, f: 0x40000000 }; // 06:28:16.25, era 1
    expect(subtractTimestamps(afterRollover, beforeRollover)).toEqual({ s: 0, f: 0x80000000 });
    expect(subtractTimestamps(beforeRollover, afterRollover)).toEqual({ s: -1, f: 0x80000000 });
    // A client whose clock is just before the rollover and a server just after it.
    const r = offsetAndDelay(beforeRollover, { s: 1, f: 0 }, { s: 1, f: 0 }, { s: 0xffffffff, f: 0xd0000000 });
    expect(r.delayS).toBeCloseTo(0.0625, 9);
    expect(r.offsetS).toBeCloseTo(1.21875, 9);
  });

  test('unix conversion picks the era nearest the pivot, before and after 2036', () => {
    const t2036 = 2085978496; // 2036-02-07T06:28:16Z, NTP era 1 second 0
    expect(ntpFromUnixSeconds(t2036)).toEqual({ s: 0, f: 0 });
    expect(ntpToUnixSeconds({ s: 10, f: 0 }, t2036)).toBe(t2036 + 10);
    expect(ntpToUnixSeconds({ s: 0xfffffff0, f: 0 }, t2036)).toBe(t2036 - 16);
    fc.assert(fc.property(fc.integer({ min: 0, max: 4102444800 }), fc.integer({ min: 0, max: 999999999 }), (unixS, ns) => {
      const ts = ntpFromUnixParts(unixS, ns);
      const back = ntpToUnixSeconds(ts, unixS);
      expect(Math.abs(back - (unixS + ns / 1e9))).toBeLessThan(1e-6);
      expect(ts.s).toBe((unixS + NTP_UNIX_OFFSET_S) % 4294967296 + (ts.f === 0 && ns > 999999999 ? 1 : 0));
    }));
  });

  test('fractional Unix seconds convert exactly, truncated to 2^-32 s, in either era', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 4102444800, noNaN: true }), (unixS) => {
      const exact = (BigInt(Math.floor(unixS * 4294967296)) + (BigInt(NTP_UNIX_OFFSET_S) << 32n)) % TWO64;
      expect(big(ntpFromUnixSeconds(unixS))).toBe(exact);
    }), { numRuns: 5000 });
  });

  test('nanosecond parts convert exactly to the 2^-32 s fraction', () => {
    expect(ntpFromUnixParts(0, 500000000)).toEqual({ s: NTP_UNIX_OFFSET_S, f: 0x80000000 });
    expect(ntpFromUnixParts(0, 1)).toEqual({ s: NTP_UNIX_OFFSET_S, f: 4 });
    expect(ntpFromUnixParts(0, 999999999.9999)).toEqual({ s: NTP_UNIX_OFFSET_S + 1, f: 0 });
  });
});
