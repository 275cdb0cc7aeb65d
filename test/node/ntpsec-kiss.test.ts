// Real Kiss-o'-Death packets from a real ntpsec ntpd on loopback: INIT while it is unsynchronised, and RATE once a
// client goes over its `restrict ... kod limited` budget.

import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, KisstimeClient } from '../../src/node';
import { run as query } from '../../src/node/cli/query';
import { startNtpsecd, type Ntpsecd } from '../support/ntpsec';
import { runCli } from './cli-io';
import { HybridClock } from './hybrid-clock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let plain: Ntpsecd;
let limited: Ntpsecd;
let dir: string;

interface KissEvent { code: string; action: string; intervalS: number }

beforeAll(async () => {
  [plain, limited] = await Promise.all([
    startNtpsecd({ label: 'node-ntpsec-init' }),
    startNtpsecd({ label: 'node-ntpsec-rate', rateLimit: { average: 1, burst: 2, kod: 10 } }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'kisstime-ntpsec-'));
}, 120000);

afterAll(async () => {
  await Promise.all([plain?.stop(), limited?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until the in-flight request has an outcome (real time), then lets virtual time run to the next timer. */
async function settle(client: KisstimeClient): Promise<void> {
  for (let i = 0; i < 200 && client.status().phase === 'in-flight'; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ntpsec ntpd on loopback', () => {
  it('INIT from an unsynchronised server is a failed poll: no sample, no offset, a backoff', async () => {
    const client = createClient({
      config: { servers: [plain.address], lanServer: true, minInterval: '16s', startupDelayMin: 0, startupDelayMax: 0, timeout: '2s' },
    });
    try {
      let samples = 0;
      client.on('sample', () => samples++);
      const kiss = once(client, 'kiss');
      const backoff = once(client, 'backoff');
      client.start();
      const [k] = (await kiss) as [KissEvent];
      const [b] = (await backoff) as [{ cause: string; retryInS: number }];
      expect(k.code).toBe('INIT');
      expect(k.action).toBe('failed-poll');
      expect(b.cause).toBe('kiss');
      expect(b.retryInS).toBeGreaterThanOrEqual(16);
      expect(samples).toBe(0);
      // Its timestamps are never time: no offset, and now() is the plain local clock.
      expect(client.offsetS()).toBeNull();
      expect(client.status().lastSample).toBeNull();
      expect(Math.abs(client.now().getTime() - Date.now())).toBeLessThan(50);
      expect(client.status().counters.kisses).toEqual({ INIT: 1 });
    } finally {
      await client.stop();
    }
  });

  it('kisstime query reports the INIT kiss and what it will do, with a non-zero exit', async () => {
    const r = await runCli(query, [plain.address, '--state', join(dir, 'init.json'), '--timeout', '2s']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('kiss INIT');
    expect(r.err).toContain('failed poll');
    expect(r.out).toBe('');
  });

  it('RATE from `kod limited` makes the client slow down, by at least double, and stay slowed', async () => {
    const clock = new HybridClock();
    const client = createClient({
      config: { servers: [limited.address], lanServer: true, minInterval: '16s', maxInterval: '1h', startupDelayMin: 0, startupDelayMax: 0, timeout: '2s' },
      clock,
    });
    const sends: number[] = [];
    const kisses: (KissEvent & { atMs: number })[] = [];
    client.on('send', () => sends.push(clock.monoMs()));
    client.on('kiss', (k: KissEvent) => kisses.push({ ...k, atMs: clock.monoMs() }));
    try {
      client.start();
      // Virtual time lets the client poll at its own pace while ntpsec, in real time, sees a fast burst.
      for (let step = 0; step < 40; step++) {
        await settle(client);
        if (kisses.some((k) => k.code === 'RATE')) break;
        clock.fireNext();
      }
      const rate = kisses.find((k) => k.code === 'RATE');
      expect(rate, 'kisses: ' + JSON.stringify(kisses) + '\n' + limited.log()).toBeDefined();
      expect(rate!.action).toBe('slow-down');
      expect(rate!.intervalS).toBeGreaterThanOrEqual(32);
      // A poll now would be refused by the client itself.
      const r = client.syncNow();
      expect(r.accepted).toBe(false);
      if (!r.accepted) {
        // The core names the latest constraint: the RATE floor, or the backoff that earlier INITs started.
        expect(['rate-limited', 'backoff']).toContain(r.reason);
        expect(r.until!.getTime() - Date.now()).toBeGreaterThan(rate!.intervalS * 1000 - 1000);
      }
      // The next request waits out the new interval in (virtual) time.
      const before = sends.length;
      for (let step = 0; step < 10 && sends.length === before; step++) {
        await settle(client);
        clock.fireNext();
      }
      expect(sends.length).toBe(before + 1);
      const gapS = (sends[sends.length - 1] - rate!.atMs) / 1000;
      console.log('ntpsec RATE: interval after the kiss ' + rate!.intervalS + ' s; next request ' + gapS.toFixed(1) + ' s later (virtual time); kisses: '
        + kisses.map((k) => k.code).join(' '));
      expect(gapS).toBeGreaterThanOrEqual(rate!.intervalS);
    } finally {
      await client.stop();
    }
  });
});
