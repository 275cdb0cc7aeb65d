// The no-amplification promise, for every byte sequence: a well-formed mode-3 request gets exactly 48 bytes (an
// answer or a kiss) and anything else gets nothing, and nothing is ever written past the 48-byte header.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { NtpResponder, validateServerConfig } from '../../src/core';

function responder(input: Parameters<typeof validateServerConfig>[0]): NtpResponder {
  const r = validateServerConfig(input);
  if (!r.ok) throw new Error(r.message);
  let seed = 1;
  return new NtpResponder(r.config, () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  });
}

function isValidRequest(bytes: Uint8Array): boolean {
  const version = (bytes[0] >> 3) & 7;
  return bytes.length >= 48 && version >= 1 && version <= 4 && (bytes[0] & 7) === 3;
}

const anyBytes = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 120 }),
  // Mostly well-formed headers too, or the valid branch would hardly ever run.
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }), fc.uint8Array({ minLength: 47, maxLength: 100 }))
    .map(([li, vn, mode, rest]) => {
      const b = new Uint8Array(rest.length + 1);
      b[0] = (li << 6) | (vn << 3) | mode;
      b.set(rest, 1);
      return b;
    }),
);

describe('server never amplifies and never answers garbage', () => {
  test('every byte sequence from any source gets 48 bytes if it is a valid mode-3 request, else silence', () => {
    const configs = [{}, { localStratum: 3 }, { deny: ['10.0.0.0/8'] }, { allow: ['192.168.0.0/16'] }, { rateInterval: 0 }];
    const servers = configs.map(responder);
    const sources = fc.constantFrom('10.1.2.3', '192.168.1.5', '127.0.0.1', '::1', 'fd00::5', '::ffff:10.9.9.9', 'not-an-address');
    let nowMs = 0;
    const seen = { answer: 0, kiss: 0, silent: 0 };
    fc.assert(fc.property(anyBytes, sources, fc.integer({ min: 0, max: servers.length - 1 }), fc.integer({ min: 0, max: 20000 }), (bytes, from, which, stepMs) => {
      nowMs += stepMs;
      const out = new Uint8Array(64).fill(0xa5);
      const kind = servers[which].respond(bytes, from, nowMs, { s: 3900000000, f: 12345 }, out);
      seen[kind]++;
      // Past the header, the buffer is untouched: the reply is 48 bytes whatever the request length.
      expect(Array.from(out.subarray(48))).toEqual(new Array(16).fill(0xa5));
      if (!isValidRequest(bytes)) {
        expect(kind).toBe('silent');
        return;
      }
      if (kind === 'silent') return;
      expect(out[0] & 7).toBe(4);
      expect((out[0] >> 3) & 7).toBe((bytes[0] >> 3) & 7);
      // Origin echoes the client's transmit timestamp, answer or kiss.
      expect(Array.from(out.subarray(24, 32))).toEqual(Array.from(bytes.subarray(40, 48)));
      if (kind === 'kiss') expect(out[1]).toBe(0);
      else expect(out[1]).toBeGreaterThan(0);
    }), { numRuns: 20000 });
    // The run exercised every branch, so the assertions above were not vacuous.
    expect(seen.answer).toBeGreaterThan(100);
    expect(seen.kiss).toBeGreaterThan(10);
    expect(seen.silent).toBeGreaterThan(100);
  });

  test('drops are counted by reason: control, private, symmetric, broadcast, short and bad-version packets', () => {
    const server = responder({});
    const out = new Uint8Array(48);
    const make = (vn: number, mode: number, length = 48): Uint8Array => {
      const b = new Uint8Array(length);
      b[0] = (vn << 3) | mode;
      return b;
    };
    const ts = { s: 1, f: 2 };
    expect(server.respond(make(2, 6, 12), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(2, 7, 8), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(2, 7, 48), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(4, 6), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(4, 1), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(4, 2), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(4, 5), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(4, 4), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(0, 3), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(4, 3, 47), '127.0.0.1', 0, ts, out)).toBe('silent');
    expect(server.respond(make(4, 3, 68), '127.0.0.1', 0, ts, out)).toBe('answer');
    const s = server.stats();
    expect(s.requests).toBe(11);
    expect(s.answered).toBe(1);
    expect(s.dropped).toMatchObject({
      'too-short': 3, 'control-mode': 1, 'private-mode': 1, 'symmetric-mode': 2, 'broadcast-mode': 1, 'server-mode': 1, 'bad-version': 1,
    });
    // Garbage never reaches the client table.
    expect(s.clients).toBe(1);
  });
});
