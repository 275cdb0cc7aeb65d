// chrony-style rate limiting in virtual time: burst 8 at once, then one answer per 8 s on average; over the limit
// one RATE kiss per interval and silence otherwise, except the leak that answers about 1 in 4; denied clients get
// DENY/RSTR no faster than one per interval. What the answer says before and after an upstream sync.

import { describe, expect, test } from 'vitest';
import {
  decodePacket, encodeRequest, NtpResponder, refIdToAscii, ServerConfigInput, upstreamReference, validateServerConfig,
} from '../../src/core';

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

function server(input: ServerConfigInput, seed = 7): NtpResponder {
  const r = validateServerConfig(input);
  if (!r.ok) throw new Error(r.message);
  return new NtpResponder(r.config, seeded(seed));
}

const LOCAL = { s: 3900000000, f: 0 };

function ask(s: NtpResponder, from: string, nowMs: number): string {
  const out = new Uint8Array(48);
  const kind = s.respond(encodeRequest({ s: 1, f: nowMs + 1 }), from, nowMs, LOCAL, out);
  if (kind === 'silent') return '-';
  const p = decodePacket(out);
  if (!p.ok) throw new Error('server wrote a malformed reply');
  return kind === 'kiss' ? refIdToAscii(p.packet.refId) : 'ok';
}

describe('rate limiting (chrony defaults: interval 8 s, burst 8, leak 1 in 4)', () => {
  test('a burst of 8 is answered, the 9th gets RATE, then silence until the next interval', () => {
    const s = server({ rateLeak: 0 });
    const got: string[] = [];
    for (let i = 0; i < 12; i++) got.push(ask(s, '10.0.0.1', i * 10));
    expect(got.join(' ')).toBe('ok ok ok ok ok ok ok ok RATE - - -');
    // A different client has its own bucket.
    expect(ask(s, '10.0.0.2', 200)).toBe('ok');
    // 8 s later one token is back.
    expect(ask(s, '10.0.0.1', 8200)).toBe('ok');
    expect(ask(s, '10.0.0.1', 8300)).toBe('RATE');
  });

  test('a client polling once a second gets on average one answer per 8 s and at most one RATE per 8 s', () => {
    const s = server({ rateLeak: 0 });
    let answers = 0;
    const kisses: number[] = [];
    for (let t = 0; t < 800; t++) {
      const r = ask(s, '10.0.0.1', t * 1000);
      if (r === 'ok') answers++;
      if (r === 'RATE') kisses.push(t);
    }
    expect(answers).toBeGreaterThanOrEqual(8 + 99);
    expect(answers).toBeLessThanOrEqual(8 + 101);
    for (let k = 1; k < kisses.length; k++) expect(kisses[k] - kisses[k - 1]).toBeGreaterThanOrEqual(8);
    expect(kisses.length).toBeGreaterThan(80);
  });

  test('the leak answers about 1 in 4 over-limit requests, so a spoofed flood cannot cut a real client off', () => {
    const s = server({});
    let leaked = 0;
    let dropped = 0;
    for (let i = 0; i < 4000; i++) {
      const r = ask(s, '10.0.0.9', 1000 + i);
      if (r === 'ok' && i >= 8) leaked++;
      if (r === '-') dropped++;
    }
    const stats = s.stats();
    expect(stats.leaked).toBe(leaked);
    expect(leaked / (leaked + dropped)).toBeGreaterThan(0.2);
    expect(leaked / (leaked + dropped)).toBeLessThan(0.3);
    expect(stats.kissed.RATE).toBe(1);
  });

  test('a denied client gets DENY and one outside the allow list RSTR, each at most once per interval', () => {
    const s = server({ allow: ['10.0.0.0/8'], deny: ['10.66.0.0/16'] });
    const denied: string[] = [];
    const restricted: string[] = [];
    for (let i = 0; i < 20; i++) {
      denied.push(ask(s, '10.66.1.1', i * 1000));
      restricted.push(ask(s, '192.0.2.1', i * 1000));
    }
    expect(denied.filter((r) => r === 'DENY').length).toBe(3);
    expect(denied.filter((r) => r !== 'DENY' && r !== '-')).toEqual([]);
    expect(restricted.filter((r) => r === 'RSTR').length).toBe(3);
    const st = s.stats();
    expect(st.kissed).toEqual({ RATE: 0, DENY: 3, RSTR: 3 });
    expect(st.dropped.denied).toBe(17);
    expect(st.dropped.restricted).toBe(17);
  });

  test('rate interval 0 turns the limit off', () => {
    const s = server({ rateInterval: 0 });
    for (let i = 0; i < 1000; i++) expect(ask(s, '10.0.0.1', i)).toBe('ok');
  });

  test('RATE asks for the rate interval in its poll field, never less than the client asked', () => {
    const s = server({ rateInterval: '512s', rateBurst: 1, rateLeak: 0 });
    const out = new Uint8Array(48);
    s.respond(encodeRequest({ s: 1, f: 1 }), '10.0.0.1', 0, LOCAL, out);
    expect(s.respond(encodeRequest({ s: 1, f: 2 }), '10.0.0.1', 10, LOCAL, out)).toBe('kiss');
    expect(out[2]).toBe(9);
  });
});

describe('what the answer says', () => {
  test('before any upstream sync: LI=3, stratum 16; with "local stratum 5": LI=0, stratum 5', () => {
    const out = new Uint8Array(48);
    const plain = server({});
    plain.respond(encodeRequest({ s: 1, f: 1 }), '10.0.0.1', 0, LOCAL, out);
    expect(out[0] >> 6).toBe(3);
    expect(out[1]).toBe(16);
    const local = server({ localStratum: 5 });
    local.respond(encodeRequest({ s: 1, f: 1 }), '10.0.0.1', 0, LOCAL, out);
    const p = decodePacket(out);
    expect(p.ok && p.packet).toMatchObject({ leap: 0, stratum: 5, refId: 0x7f7f0101, receive: LOCAL, reference: LOCAL });
  });

  test('after a sync: stratum upstream+1, refid = upstream address, reference = sync time, offset applied, LI followed', () => {
    const s = server({ localStratum: 9 });
    s.setReference(upstreamReference({
      leap: 1, stratum: 2, rootDelayS: 0.01, rootDispersionS: 0.02, delayS: 0.004, address: '192.0.2.10', offsetS: 2.5, syncedAtLocal: { s: 3899999990, f: 0 }, atMs: 0,
    }));
    const out = new Uint8Array(48);
    s.respond(encodeRequest({ s: 1, f: 1 }), '10.0.0.1', 10000, LOCAL, out);
    const p = decodePacket(out);
    if (!p.ok) throw new Error('malformed');
    expect(p.packet).toMatchObject({ leap: 1, stratum: 3, refId: 0xc000020a, reference: { s: 3899999992, f: 2147483648 }, receive: { s: 3900000002, f: 2147483648 } });
    expect(p.packet.rootDelay / 65536).toBeCloseTo(0.014, 4);
    // 0.02 + 0.002 at sync, plus 15 ppm over the 10 s since.
    expect(p.packet.rootDispersion / 65536).toBeCloseTo(0.02215, 4);
    s.stampTransmit(out, { s: 3900000001, f: 0 });
    const q = decodePacket(out);
    expect(q.ok && q.packet.transmit).toEqual({ s: 3900000003, f: 2147483648 });
  });

  test('an upstream at stratum 15 cannot be served onwards: unsynchronised (or the local clock if configured)', () => {
    const ref = upstreamReference({ leap: 0, stratum: 15, rootDelayS: 0, rootDispersionS: 0, delayS: 0, address: '192.0.2.1', offsetS: 0, syncedAtLocal: LOCAL, atMs: 0 });
    expect(ref.synced).toBe(false);
    const s = server({});
    s.setReference(ref);
    const out = new Uint8Array(48);
    s.respond(encodeRequest({ s: 1, f: 1 }), '10.0.0.1', 0, LOCAL, out);
    expect(out[1]).toBe(16);
  });
});
