import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  asciiToRefId, decodePacket, encodePacket, encodeRequest, makeNonce, NtpPacket, refIdToAscii, refIdToString,
} from '../../src/core';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const timestamp = fc.record({ s: u32, f: u32 });
const packet: fc.Arbitrary<NtpPacket> = fc.record({
  leap: fc.integer({ min: 0, max: 3 }),
  version: fc.integer({ min: 1, max: 4 }),
  mode: fc.integer({ min: 0, max: 7 }),
  stratum: fc.integer({ min: 0, max: 255 }),
  poll: fc.integer({ min: -128, max: 127 }),
  precision: fc.integer({ min: -128, max: 127 }),
  rootDelay: u32,
  rootDispersion: u32,
  refId: u32,
  reference: timestamp,
  origin: timestamp,
  receive: timestamp,
  transmit: timestamp,
});

describe('packet codec', () => {
  test('every packet survives encode then decode unchanged', () => {
    fc.assert(fc.property(packet, (p) => {
      const d = decodePacket(encodePacket(p));
      expect(d.ok).toBe(true);
      if (d.ok) expect(d.packet).toEqual(p);
    }), { numRuns: 2000 });
  });

  test('decoding never throws, whatever the bytes and length', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
      const d = decodePacket(bytes);
      if (bytes.length < 48) expect(d).toEqual({ ok: false, reason: 'too-short', length: bytes.length });
      else expect(d.ok || d.reason === 'bad-version').toBe(true);
    }), { numRuns: 5000 });
  });

  test('the client request reveals nothing but version, mode and the nonce', () => {
    fc.assert(fc.property(timestamp, (nonce) => {
      const bytes = encodeRequest(nonce);
      expect(bytes.length).toBe(48);
      expect(bytes[0]).toBe(0x23);
      expect(Array.from(bytes.subarray(1, 40)).every((b) => b === 0)).toBe(true);
      const d = decodePacket(bytes);
      expect(d.ok && d.packet.transmit).toEqual(nonce);
    }));
  });

  test('nonces use the full 64 bits and are never zero', () => {
    expect(makeNonce(() => 0)).toEqual({ s: 0, f: 1 });
    const nearOne = makeNonce(() => 0.9999999999);
    expect(nearOne.s).toBeGreaterThan(0xfffffff0);
    expect(nearOne.s).toBeLessThanOrEqual(0xffffffff);
  });

  test('kiss codes and reference IDs read as people expect', () => {
    expect(refIdToAscii(asciiToRefId('RATE'))).toBe('RATE');
    expect(refIdToAscii(asciiToRefId('GPS'))).toBe('GPS');
    expect(refIdToAscii(0x01020304)).toBe('????');
    expect(refIdToString(0x7f000001, 2)).toBe('127.0.0.1');
    expect(refIdToString(asciiToRefId('LOCL'), 1)).toBe('LOCL');
  });
});
