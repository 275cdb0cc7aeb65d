// Real NTP clients sync from the Kisstime server on loopback: ntpdig and chronyd (-Q: measure once, print the
// offset, never touch the clock). The upstream is a scripted fake server whose clock is 3 s ahead, reached by a real
// Kisstime client, so the time served must be the local clock plus the offset that client measured: a server that
// ignored the upstream would be 3 s off, and one that passed the upstream's time through unfiltered would show it.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient, KisstimeClient } from '../../src/node';
import { createServer, KisstimeServer } from '../../src/node/server';
import { answerWithTime, makeReply, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, freeUdpPort, releaseLoopback } from '../support/loopback';
import { runNtpdig } from '../support/ntpdig';
import { queryOnce, timestampDiffSeconds } from '../support/packet';
import { makeTempDir, SANDBOX_PREFIX } from '../support/process';

const UPSTREAM_OFFSET_S = 3;

let serverAddress = '';
let upstreamAddress = '';
let upstream: Kisser;
let client: KisstimeClient;
let server: KisstimeServer;

/** chronyd -Q: one measurement against address, "System clock wrong by X seconds (ignored)". */
function chronydQuery(address: string): Promise<{ wrongByS: number | null; output: string }> {
  const temp = makeTempDir('server-chronyq');
  const args = ['chronyd', '-Q', '-x', '-4', '-u', 'root', '-f', '/dev/null', `server ${address} iburst maxsamples 4`, `pidfile ${join(temp.dir, 'chronyd.pid')}`];
  return new Promise((resolve) => {
    execFile(SANDBOX_PREFIX[0], [...SANDBOX_PREFIX.slice(1), ...args], { timeout: 25000 }, (_error, stdout, stderr) => {
      temp.remove();
      const output = String(stdout) + String(stderr);
      const m = /System clock wrong by (-?[0-9.]+) seconds/.exec(output);
      resolve({ wrongByS: m ? parseFloat(m[1]) : null, output });
    });
  });
}

beforeAll(async () => {
  serverAddress = allocateLoopback('server-real-clients');
  upstreamAddress = allocateLoopback('server-real-clients-upstream');
  const upstreamPort = await freeUdpPort(upstreamAddress);
  upstream = await startKisser(upstreamAddress, upstreamPort, (request) =>
    request.packet ? { bytes: makeReply(request, { offsetSeconds: UPSTREAM_OFFSET_S, stratum: 2, leap: 0 }) } : answerWithTime(request));
  server = createServer({ listen: { address: serverAddress, port: 123 }, config: {} });
  await server.start();
  client = createClient({
    config: { servers: [`${upstreamAddress}:${upstreamPort}`], lanServer: true, minInterval: '16s', startupDelayMin: 0, startupDelayMax: 0 },
    clock: server.clock,
  });
  server.follow(client);
});

afterAll(async () => {
  await client?.stop();
  await server?.stop();
  await upstream?.close();
  releaseLoopback(serverAddress);
  releaseLoopback(upstreamAddress);
});

describe('real clients sync from the Kisstime server', () => {
  test('before the upstream syncs, ntpdig is told the server is unsynchronised (LI=3, stratum 16)', async () => {
    const r = await runNtpdig(serverAddress, { timeoutSec: 1 });
    expect(r.ok).toBe(false);
    expect(server.stats().answered).toBeGreaterThanOrEqual(1);
  });

  test('after the upstream syncs, ntpdig sees stratum 3 and the upstream clock (+3 s)', async () => {
    client.start();
    const deadline = Date.now() + 10000;
    while (!server.reference().synced && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(server.reference().synced).toBe(true);
    const r = await runNtpdig(serverAddress, { timeoutSec: 2 });
    if (!r.ok) throw new Error(r.reason + '\n' + r.stderr);
    expect(r.stratum).toBe(3);
    expect(r.leap).toBe('no-leap');
    expect(r.offset).toBeGreaterThan(UPSTREAM_OFFSET_S - 0.02);
    expect(r.offset).toBeLessThan(UPSTREAM_OFFSET_S + 0.02);
    // refid = the upstream's IPv4 address, as stratum-2+ servers do; the reference time is the last sync.
    const q = await queryOnce(serverAddress, { timeoutMs: 1000 });
    if (!q) throw new Error('no answer to a plain query');
    expect(Array.from(q.packet.refid).join('.')).toBe(upstreamAddress);
    const lastSync = upstream.requests[upstream.requests.length - 1];
    expect(timestampDiffSeconds(q.packet.reference, lastSync.receivedNtp)).toBeGreaterThan(UPSTREAM_OFFSET_S - 0.02);
    expect(timestampDiffSeconds(q.packet.reference, lastSync.receivedNtp)).toBeLessThan(UPSTREAM_OFFSET_S + 0.02);
  });

  test('chronyd as a client measures the same +3 s', async () => {
    expect(server.reference().synced).toBe(true);
    const r = await chronydQuery(serverAddress);
    if (r.wrongByS === null) throw new Error('chronyd printed no measurement:\n' + r.output);
    // chronyd prints how far the local clock is from the server's time; the sign says the local clock is behind.
    expect(Math.abs(r.wrongByS)).toBeGreaterThan(UPSTREAM_OFFSET_S - 0.02);
    expect(Math.abs(r.wrongByS)).toBeLessThan(UPSTREAM_OFFSET_S + 0.02);
  }, 30000);
});
