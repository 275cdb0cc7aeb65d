// The Node client against a scriptable server on loopback: real sockets, real timers, a real state file.

import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, KisstimeClient, NodeClock, SampleReport, sendRequest } from '../../src/node';
import { answerWithTime, makeKiss, makeReply, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { sleep } from '../support/packet';

let address: string;
let kisser: Kisser;
let dir: string;
const clients: KisstimeClient[] = [];

function lanClient(extra: { statePath?: string } = {}): KisstimeClient {
  const client = createClient({
    config: { servers: [address + ':' + kisser.port], lanServer: true, minInterval: '16s', startupDelayMin: 0, startupDelayMax: 0, timeout: '1s' },
    statePath: extra.statePath,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  address = allocateLoopback('node-client');
  kisser = await startKisser(address, 0);
  dir = mkdtempSync(join(tmpdir(), 'kisstime-client-'));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  kisser.setHandler(answerWithTime);
});

afterAll(async () => {
  await kisser.close();
  releaseLoopback(address);
  rmSync(dir, { recursive: true, force: true });
});

describe('client against a loopback server', () => {
  it('produces a sample with the server\'s offset from one minimized request', async () => {
    kisser.setHandler((req) => (req.packet ? { bytes: makeReply(req, { offsetSeconds: 0.125, stratum: 3 }) } : null));
    const client = lanClient();
    const sample = once(client, 'sample');
    const before = kisser.count();
    client.start();
    const [report] = (await sample) as [SampleReport];
    const info = JSON.stringify({ offset: report.offset, delay: report.delay, status: client.status() });
    // The server shares this process's event loop, so on a loaded machine the error can reach half the delay.
    expect(report.delay, info).toBeGreaterThanOrEqual(0);
    expect(report.delay, info).toBeLessThan(0.5);
    expect(Math.abs(report.offset - 0.125), info).toBeLessThan(report.delay / 2 + 0.002);
    expect(report.stratum, info).toBe(3);
    expect(report.server, info).toBe(address);
    expect(client.offsetS(), info).toBeCloseTo(report.clockOffset, 9);
    // One sample: the model's offset is that sample's, to the µs the model keeps.
    expect(Math.abs(report.clockOffset - report.offset), info).toBeLessThan(1e-6);
    expect(Math.abs(client.now().getTime() - (Date.now() + 125)), info).toBeLessThan(20);
    const requests = kisser.requests.slice(before);
    expect(requests, info).toHaveLength(1);
    // Data minimization: everything zero except the first byte and the 8-byte nonce.
    const bytes = requests[0].bytes;
    expect(bytes[0], info).toBe(0x23);
    expect(Array.from(bytes.subarray(1, 40)).every((b) => b === 0), info).toBe(true);
    const status = client.status();
    expect(status.counters.sent, info).toBe(1);
    expect(status.counters.samples, info).toBe(1);
    expect(status.next!.getTime() - Date.now(), info).toBeGreaterThan(15000);
  });

  it('a restart with the same state file has corrected time at once, before any request', async () => {
    kisser.setHandler((req) => (req.packet ? { bytes: makeReply(req, { offsetSeconds: 0.125 }) } : null));
    const statePath = join(dir, 'restart.json');
    const first = lanClient({ statePath });
    const sample = once(first, 'sample');
    first.start();
    const [report] = (await sample) as [SampleReport];
    await first.stop();
    const before = kisser.count();
    const second = lanClient({ statePath });
    second.start();
    expect(second.offsetS()).not.toBeNull();
    expect(Math.abs((second.offsetS() as number) - report.clockOffset)).toBeLessThan(1e-3);
    expect(Math.abs(second.now().getTime() - (Date.now() + 125))).toBeLessThan(20);
    expect(kisser.count()).toBe(before);
  });

  it('uses a fresh random source port for every request', async () => {
    const clock = new NodeClock();
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) {
      const reply = new Promise<number>((resolve, reject) => {
        const r = sendRequest({
          address, port: kisser.port, bytes: makeReply(null, { mode: 3 }), clock,
          onReply: (w) => {
            r.close();
            resolve(w.from.port === kisser.port ? kisser.requests[kisser.requests.length - 1].from.port : -1);
          },
          onError: (m) => reject(new Error(m)),
        });
      });
      ports.push(await reply);
    }
    expect(new Set(ports).size).toBe(4);
  });

  it('ignores forged kisses and replies that race the genuine one, and uses the genuine reply', async () => {
    const forger = createSocket('udp4');
    await new Promise<void>((resolve) => forger.bind(0, '127.0.0.1', () => resolve()));
    kisser.setHandler((req) => {
      if (!req.packet) return null;
      // A second socket aims at the client's source port, as an off-path attacker who guessed it would.
      const toClient = (bytes: Buffer): void => forger.send(bytes, req.from.port, req.from.address);
      toClient(makeKiss(req, 'DENY'));
      toClient(makeReply(req, { offsetSeconds: 900 }));
      return [
        // From the server's own address and port, but not echoing our nonce.
        { bytes: makeKiss(req, 'DENY', { origin: 0n }) },
        { bytes: makeKiss(req, 'RATE', { origin: req.transmit ^ 1n }) },
        { bytes: makeReply(req, { offsetSeconds: 1000, origin: 12345n }) },
        // Echoing the nonce, from another port of the server's address.
        { bytes: makeReply(req, { offsetSeconds: 500 }), fromPort: 0 },
        { bytes: makeKiss(req, 'RSTR'), fromPort: 0 },
        // The genuine reply, then a late duplicate carrying a different time.
        { bytes: makeReply(req, { offsetSeconds: 0.25 }), delayMs: 40 },
        { bytes: makeReply(req, { offsetSeconds: 2000 }), delayMs: 80 },
      ];
    });
    try {
      const client = lanClient();
      const rejects: string[] = [];
      client.on('reject', (d: { reason: string }) => rejects.push(d.reason));
      const kisses: string[] = [];
      client.on('kiss', (d: { code: string }) => kisses.push(d.code));
      const sample = once(client, 'sample');
      client.start();
      const [report] = (await sample) as [SampleReport];
      await sleep(150);
      // The genuine reply is built at once but sent 40 ms later, so its transmit stamp is 40 ms stale: θ ≈ 0.25 - 0.02.
      expect(report.offset).toBeGreaterThan(0.2);
      expect(report.offset).toBeLessThan(0.26);
      expect(client.offsetS()).toBeCloseTo(report.clockOffset, 9);
      expect(kisses).toEqual([]);
      // The three same-port forgeries reach the core and are refused for their origin; the connected socket never
      // even delivers the ones from other ports.
      expect(rejects).toEqual(['bad-origin', 'bad-origin', 'bad-origin']);
      const status = client.status();
      expect(status.counters.rejected['bad-origin']).toBe(3);
      expect(status.counters.samples).toBe(1);
      expect(status.holds).toEqual([]);
      expect(status.phase).toBe('waiting');
      expect(status.lastKiss).toBeNull();
    } finally {
      forger.close();
    }
  });

  it('counts a silent server as a timeout and backs off instead of retrying at once', async () => {
    kisser.setHandler(() => null);
    const client = lanClient();
    const backoff = once(client, 'backoff');
    const before = kisser.count();
    client.start();
    const [b] = (await backoff) as [{ cause: string; retryInS: number }];
    expect(b.cause).toBe('timeout');
    expect(b.retryInS).toBeGreaterThanOrEqual(16);
    const r = client.syncNow();
    expect(r.accepted).toBe(false);
    if (!r.accepted) {
      expect(r.reason).toBe('backoff');
      expect(r.message).toMatch(/^deferred until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(backoff\)$/);
    }
    await sleep(100);
    expect(kisser.count() - before).toBe(1);
    expect(client.status().counters.timeouts).toBe(1);
  });

  it('refuses a bad config naming the field', () => {
    expect(() => createClient({ config: { servers: ['127.0.0.1'], minInterval: '5s', lanServer: true } })).toThrow(/^minInterval: /);
    expect(() => createClient({ config: { servers: [] } })).toThrow(/^servers: /);
  });

  it('stops cleanly: no timers or sockets keep the process busy', async () => {
    const client = lanClient();
    client.start();
    await client.stop();
    expect(client.syncNow().accepted).toBe(false);
    await client.stop();
  });
});
