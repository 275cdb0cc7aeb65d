// The server writes its reply over the request's own buffer (one allocation fewer per answer). That is only right
// if the core reads everything it needs from the request before overwriting it: for any client request, answers
// and every kind of kiss come out byte for byte as they do into a separate buffer.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { NtpResponder, validateServerConfig } from '../../src/core';

function responder(deny: string[]): NtpResponder {
  const r = validateServerConfig({ deny, rateBurst: 2, rateLeak: 0, localStratum: 3 });
  if (!r.ok) throw new Error(r.message);
  return new NtpResponder(r.config, () => 0.5);
}

describe('a reply written over its request', () => {
  test('is the same bytes as one written into a separate buffer, for answers, RATE and DENY', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), fc.integer({ min: 1, max: 4 }), (bytes, version) => {
      const request = Uint8Array.from(bytes);
      request[0] = (request[0] & 0xc0) | (version << 3) | 3;
      // Two servers in the same state, one writing apart and one in place; three requests take one client from an
      // answer through its burst to a RATE kiss, and a denied client gets DENY.
      const apart = responder(['10.66.0.0/16']);
      const inPlace = responder(['10.66.0.0/16']);
      for (const [from, nowMs] of [['10.0.0.1', 0], ['10.0.0.1', 1], ['10.0.0.1', 2], ['10.66.0.1', 3]] as [string, number][]) {
        const out = new Uint8Array(48);
        const kindApart = apart.respond(request, from, nowMs, { s: 3900000000, f: 12345 }, out);
        const own = Uint8Array.from(request);
        const kindInPlace = inPlace.respond(own, from, nowMs, { s: 3900000000, f: 12345 }, own);
        expect(kindInPlace).toBe(kindApart);
        if (kindApart !== 'silent') expect(Array.from(own)).toEqual(Array.from(out));
      }
      expect(inPlace.stats()).toEqual(apart.stats());
    }), { numRuns: 300 });
  });
});
