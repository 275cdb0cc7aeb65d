import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  addSeconds, asciiToRefId, decodePacket, encodePacket, judgeReply, NtpPacket, ntpFromUnixSeconds, PendingRequest, secondsToShortFormat,
} from '../../src/core';

const nonce = { s: 0x12345678, f: 0x9abcdef0 };
const pending: PendingRequest = { id: 1, host: 'time.example', address: '127.0.0.5', port: 123, nonce, sentMs: 1000, answered: false };
const t1 = ntpFromUnixSeconds(1.7e9);
const t4 = addSeconds(t1, 0.004);

function reply(over: Partial<NtpPacket> = {}): Uint8Array {
  const t2 = addSeconds(t1, 0.0515);
  return encodePacket({
    leap: 0, version: 4, mode: 4, stratum: 2, poll: 6, precision: -23, rootDelay: 0, rootDispersion: 0,
    refId: 0x7f000001, reference: t2, origin: nonce, receive: t2, transmit: addSeconds(t2, 0.001), ...over,
  });
}

function judge(bytes: Uint8Array, from = { address: '127.0.0.5', port: 123 }, nowMs = 1004, p: PendingRequest = pending) {
  return judgeReply(p, { from, bytes, nowMs, t1, t4 }, 5000, 5);
}

describe('reply acceptance', () => {
  test('a genuine reply becomes a sample with offset and delay from all four timestamps', () => {
    const v = judge(reply());
    expect(v.kind).toBe('sample');
    if (v.kind !== 'sample') return;
    expect(v.sample.offsetS).toBeCloseTo(0.05, 6);
    expect(v.sample.delayS).toBeCloseTo(0.003, 6);
    expect(v.sample).toMatchObject({ stratum: 2, refId: 0x7f000001, precision: -23, host: 'time.example', address: '127.0.0.5' });
  });

  test('a kiss is believed only after source, mode, origin, freshness and first-reply checks', () => {
    const kiss = (over: Partial<NtpPacket>) => reply({ stratum: 0, leap: 3, refId: asciiToRefId('DENY'), ...over });
    expect(judge(kiss({}), { address: '127.0.0.6', port: 123 })).toEqual({ kind: 'reject', reason: 'wrong-source' });
    expect(judge(kiss({}), { address: '127.0.0.5', port: 124 })).toEqual({ kind: 'reject', reason: 'wrong-source' });
    expect(judge(kiss({ mode: 5 }))).toEqual({ kind: 'reject', reason: 'not-server-mode' });
    expect(judge(kiss({ origin: { s: 1, f: 1 } }))).toEqual({ kind: 'reject', reason: 'bad-origin' });
    expect(judge(kiss({}), undefined, 7000)).toEqual({ kind: 'reject', reason: 'late' });
    expect(judge(kiss({}), undefined, 1004, { ...pending, answered: true })).toEqual({ kind: 'reject', reason: 'duplicate' });
    expect(judge(kiss({}).subarray(0, 47))).toEqual({ kind: 'reject', reason: 'malformed' });
    expect(judge(kiss({}))).toEqual({ kind: 'kiss', code: 'DENY', action: 'hold', poll: 6 });
    expect(judgeReply(null, { from: { address: '127.0.0.5', port: 123 }, bytes: kiss({}), nowMs: 1004, t1, t4 }, 5000, 5)).toEqual({ kind: 'reject', reason: 'no-request' });
  });

  test('kisses are classified: DENY/RSTR hold, RATE slows down, X codes ignored, others fail the poll', () => {
    const code = (c: string) => judge(reply({ stratum: 0, refId: asciiToRefId(c) }));
    expect(code('RSTR')).toMatchObject({ kind: 'kiss', action: 'hold' });
    expect(code('RATE')).toMatchObject({ kind: 'kiss', action: 'slow-down' });
    expect(code('XAUT')).toMatchObject({ kind: 'kiss', action: 'ignore' });
    expect(code('INIT')).toMatchObject({ kind: 'kiss', action: 'failed-poll' });
    expect(code('STEP')).toMatchObject({ kind: 'kiss', action: 'failed-poll' });
  });

  test('sample checks: unsynchronised, stratum 16+, zero timestamps and a too-distant root are refused', () => {
    expect(judge(reply({ leap: 3 }))).toEqual({ kind: 'reject', reason: 'unsynchronised' });
    expect(judge(reply({ stratum: 16 }))).toEqual({ kind: 'reject', reason: 'bad-stratum' });
    expect(judge(reply({ receive: { s: 0, f: 0 } }))).toEqual({ kind: 'reject', reason: 'zero-timestamp' });
    expect(judge(reply({ transmit: { s: 0, f: 0 } }))).toEqual({ kind: 'reject', reason: 'zero-timestamp' });
    // A zero seconds field with a non-zero fraction is a real (if odd) timestamp: compare raw 64-bit fields.
    expect(judge(reply({ transmit: { s: 0, f: 1 } })).kind).toBe('sample');
    expect(judge(reply({ rootDispersion: secondsToShortFormat(6) }))).toEqual({ kind: 'reject', reason: 'root-distance' });
    expect(judge(reply({ rootDelay: secondsToShortFormat(9.9) })).kind).toBe('sample');
  });

  test('a reply is malformed exactly when decodePacket refuses it (judgeReply reads the bytes itself)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 40, max: 60 }), (first, length) => {
      const bytes = new Uint8Array(Math.max(length, 48));
      bytes.set(reply());
      bytes[0] = first;
      const v = judge(bytes.subarray(0, length));
      expect(v.kind === 'reject' && v.reason === 'malformed').toBe(!decodePacket(bytes.subarray(0, length)).ok);
    }), { numRuns: 2000 });
  });
});
