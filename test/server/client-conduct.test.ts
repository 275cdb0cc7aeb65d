// The server's per-client politeness record, through the sans-IO responder in virtual time: a polite client is never
// listed; a client that polls every second, comes back inside a RATE, asks again after DENY or puts its clock in
// its requests is listed, worst first; the record lives in the bounded table, so a flood cannot grow it.

import { describe, expect, test } from 'vitest';
import { encodeRequest, NtpResponder, ntpFromUnixSeconds, ServerConfigInput, validateServerConfig } from '../../src/core';

function server(input: ServerConfigInput): NtpResponder {
  const r = validateServerConfig(input);
  if (!r.ok) throw new Error(r.message);
  let s = 11;
  return new NtpResponder(r.config, () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  });
}

const UNIX_START_S = 1796400000;

/** A request at nowMs; with clock, its transmit timestamp is the time (as rude clients send), else a random nonce. */
function ask(s: NtpResponder, from: string, nowMs: number, clock = false): void {
  const local = ntpFromUnixSeconds(UNIX_START_S + nowMs / 1000);
  const transmit = clock ? local : { s: Math.floor(Math.random() * 4294967296), f: Math.floor(Math.random() * 4294967296) };
  s.respond(encodeRequest(transmit), from, nowMs, local, new Uint8Array(48));
}

describe('per-client conduct', () => {
  test('a polite client (every 64 s, random nonces) is never listed', () => {
    const s = server({});
    for (let t = 0; t < 3600; t += 64) ask(s, '10.0.0.5', t * 1000);
    expect(s.rudeClients(10, 3600000)).toEqual({ count: 0, worst: [] });
  });

  test('a client polling every second is listed with its rate, its shortest interval and the RATE kisses it ignored', () => {
    const s = server({ rateLeak: 0 });
    for (let t = 0; t < 120; t++) ask(s, '10.0.0.9', t * 1000);
    const { count, worst } = s.rudeClients(10, 120000);
    expect(count).toBe(1);
    expect(worst[0]).toMatchObject({ address: '10.0.0.9', requests: 120, shortestIntervalS: 1, underFloor: true, lastKiss: 'RATE', clockLeaks: 0 });
    expect(worst[0].perMinute).toBeCloseTo(60, 5);
    // After each RATE (one per 8 s) it came back a second later, 7 times out of every 8 s.
    expect(worst[0].ignoredKisses).toBeGreaterThan(90);
  });

  test('a denied client that keeps asking is counted for every request after the first DENY', () => {
    const s = server({ deny: '10.66.0.0/16' });
    for (let i = 0; i < 5; i++) ask(s, '10.66.0.1', i * 60000);
    const { worst } = s.rudeClients(10, 300000);
    expect(worst[0]).toMatchObject({ address: '10.66.0.1', lastKiss: 'DENY', ignoredKisses: 4, underFloor: false });
  });

  test('a client whose transmit timestamp is its clock is listed for that alone', () => {
    const s = server({});
    for (let t = 0; t < 600; t += 64) ask(s, '10.0.0.7', t * 1000, true);
    const { worst } = s.rudeClients(10, 600000);
    expect(worst[0]).toMatchObject({ address: '10.0.0.7', clockLeaks: 10, ignoredKisses: 0, underFloor: false });
  });

  test('worst first: ignoring kisses, then under the floor, then leaking the clock; at most limit of them', () => {
    const s = server({ deny: '10.66.0.0/16', rateLeak: 0 });
    for (let t = 0; t < 600; t += 64) ask(s, '10.0.0.7', t * 1000, true);
    for (let t = 0; t < 60; t += 5) ask(s, '10.0.0.8', t * 1000);
    ask(s, '10.66.0.1', 0);
    ask(s, '10.66.0.1', 300000);
    const all = s.rudeClients(10, 600000);
    expect(all.worst.map((c) => c.address)).toEqual(['10.66.0.1', '10.0.0.8', '10.0.0.7']);
    const top = s.rudeClients(1, 600000);
    expect(top.count).toBe(3);
    expect(top.worst.map((c) => c.address)).toEqual(['10.66.0.1']);
  });

  test('the record is the bounded table\'s: 100k rude sources leave at most maxClients listed', () => {
    const s = server({ maxClients: 1000, rateInterval: 0 });
    for (let i = 0; i < 100000; i++) {
      const from = '10.' + ((i >> 16) & 255) + '.' + ((i >> 8) & 255) + '.' + (i & 255);
      ask(s, from, i, true);
    }
    const { count, worst } = s.rudeClients(5, 100000);
    expect(count).toBe(1000);
    expect(worst).toHaveLength(5);
  });
});
