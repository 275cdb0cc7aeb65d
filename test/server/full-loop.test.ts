// The full loop, Kisstime client against Kisstime server over real loopback sockets, both on one virtual clock so
// that hours of polling run in about a second: a client that polls faster than the server's rate limit gets a RATE
// kiss and slows down to what the kiss asked for; a denied client gets DENY (or RSTR) and stops asking.

import { afterEach, describe, expect, test } from 'vitest';
import { createClient, KisstimeClient } from '../../src/node';
import { createServer, KisstimeServer } from '../../src/node/server';
import type { ServerConfigInput } from '../../src/core';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { VirtualClock } from '../support/virtual-clock';

interface Loop {
  clock: VirtualClock;
  server: KisstimeServer;
  client: KisstimeClient;
  sendsAtS: number[];
  kisses: { code: string; atS: number; intervalS: number }[];
  samples: number;
  stopped: string | null;
  /** Advances virtual time second by second, letting each real round trip finish before time moves on. */
  run(seconds: number): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
});

async function startLoop(label: string, serverConfig: ServerConfigInput, accuracy = '100ms'): Promise<Loop> {
  const address = allocateLoopback(label);
  const clock = new VirtualClock(Date.now());
  const server = createServer({ listen: { address, port: 0 }, config: serverConfig, clock });
  const bound = await server.start();
  const client = createClient({
    config: { servers: [`${address}:${bound.port}`], lanServer: true, minInterval: '16s', maxInterval: '4096s', startupDelayMin: 0, startupDelayMax: 0, timeout: 2, accuracy },
    clock,
  });
  let outstanding: (() => void) | null = null;
  const settle = (): void => {
    if (outstanding) outstanding();
    outstanding = null;
  };
  const loop: Loop = {
    clock, server, client, sendsAtS: [], kisses: [], samples: 0, stopped: null,
    async run(seconds: number) {
      for (let i = 0; i < seconds; i++) {
        let answered: Promise<void> | null = null;
        answered = new Promise<void>((resolve) => {
          outstanding = resolve;
        });
        clock.advance(1000);
        if (client.status().phase === 'in-flight') {
          // A real datagram is on its way: virtual time waits for the answer (or gives up after 300 ms of real time).
          await Promise.race([answered, new Promise((r) => setTimeout(r, 300))]);
        }
        outstanding = null;
      }
    },
  };
  // The scheduler's send decision, at the virtual moment it was made (the socket's 'send' event comes later).
  let lastPhase = '';
  client.on('status', (st: { phase: string }) => {
    if (st.phase === 'in-flight' && lastPhase !== 'in-flight') loop.sendsAtS.push(clock.monoMs() / 1000);
    lastPhase = st.phase;
  });
  client.on('sample', () => {
    loop.samples++;
    settle();
  });
  client.on('kiss', (k: { code: string; intervalS: number }) => {
    loop.kisses.push({ code: k.code, atS: clock.monoMs() / 1000, intervalS: k.intervalS });
    settle();
  });
  client.on('stopped', (s: { reason: string }) => {
    loop.stopped = s.reason;
  });
  client.on('reject', settle);
  client.on('error', () => undefined);
  cleanups.push(async () => {
    await client.stop();
    await server.stop();
    releaseLoopback(address);
  });
  client.start();
  return loop;
}

describe('Kisstime client against Kisstime server', () => {
  test('a client polling faster than the rate limit gets RATE and backs off to the interval the kiss asked for', async () => {
    // 16 s LAN polling against a server that allows one answer per 256 s after a burst of 2.
    // Client and server share one clock, so the client's model soon needs few polls for 100 ms: asking for 0.1 ms
    // keeps it polling every minute or two, faster than the server allows.
    const loop = await startLoop('server-loop-rate', { rateInterval: '256s', rateBurst: 2, rateLeak: 0, localStratum: 5 }, '0.1ms');
    await loop.run(3 * 3600);
    const stats = loop.server.stats();
    expect(loop.kisses.map((k) => k.code)).toContain('RATE');
    const firstRate = loop.kisses.find((k) => k.code === 'RATE') as { atS: number; intervalS: number };
    expect(firstRate.intervalS).toBeGreaterThanOrEqual(256);
    // Before the kiss it polled every 16-64 s; after it, never faster than the server's interval.
    const before = loop.sendsAtS.filter((t) => t < firstRate.atS);
    const after = loop.sendsAtS.filter((t) => t > firstRate.atS);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(after.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < after.length; i++) expect(after[i] - after[i - 1]).toBeGreaterThanOrEqual(256 - 1e-6);
    expect(after[0] - firstRate.atS).toBeGreaterThanOrEqual(256 - 1e-6);
    // Having slowed down, it is answered again and never silently dropped.
    expect(loop.samples).toBeGreaterThanOrEqual(2 + after.length - 1);
    expect(stats.kissed.RATE).toBe(loop.kisses.filter((k) => k.code === 'RATE').length);
    expect(stats.kissed.RATE).toBeLessThanOrEqual(2);
    expect(stats.dropped['rate-limited']).toBe(0);
  });

  test('a denied client gets DENY and stops; one outside the allow list gets RSTR and stops', async () => {
    const denied = await startLoop('server-loop-deny', { deny: ['127.0.0.0/8'] });
    await denied.run(3600);
    expect(denied.kisses.map((k) => k.code)).toEqual(['DENY']);
    expect(denied.stopped).not.toBeNull();
    expect(denied.sendsAtS.length).toBe(1);
    expect(denied.server.stats().kissed.DENY).toBe(1);

    const restricted = await startLoop('server-loop-rstr', { allow: ['10.0.0.0/8'] });
    await restricted.run(3600);
    expect(restricted.kisses.map((k) => k.code)).toEqual(['RSTR']);
    expect(restricted.stopped).not.toBeNull();
    expect(restricted.sendsAtS.length).toBe(1);
  });
});
