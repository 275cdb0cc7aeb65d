// A redeploy that changes the server list, in node-red-node-test-helper with real UDP servers on loopback and a
// virtual clock: the new server is asked without waiting out the old server's backoff, and a refusal stays with the
// server that sent it.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { Kisser, makeKiss, makeReply, startKisser } from '../support/kisser';
import { seededRandom } from '../core/virtual-server';
import { VirtualClock } from '../support/virtual-clock';
import { helper, Inbox, kisstimeNodes, sleep, StatusLog, tempUserDir } from './harness';

let silentAddress: string;
let answeringAddress: string;
let silent: Kisser;
let answering: Kisser;
let clock: VirtualClock;

function flow(servers: string): Record<string, unknown>[] {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    {
      id: 'srv', type: 'kisstime-servers', name: 'lan clock', servers, lanServer: true, minInterval: '16', minIntervalUnit: 's',
      maxInterval: '1', maxIntervalUnit: 'h', timeout: '2', startupDelay: '2', startupDelayUnit: 's',
    },
    { id: 'sync1', z: 'tab', type: 'kisstime-sync', servers: 'srv', wires: [['out1'], ['ev1']] },
    { id: 'out1', z: 'tab', type: 'helper' },
    { id: 'ev1', z: 'tab', type: 'helper' },
  ];
}

async function load(userDir: string, servers: string) {
  helper.settings({ userDir, kisstimeTestHooks: { clock, random: seededRandom(5) }, logging: { console: { level: 'off' } } });
  await helper.load(kisstimeNodes, flow(servers));
  return { out1: new Inbox(helper.getNode('out1')), ev1: new Inbox(helper.getNode('ev1')), status1: new StatusLog(helper.getNode('sync1')) };
}

/** Moves virtual time in small steps, letting real sockets answer in between. */
async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 250) {
    clock.advance(250);
    await sleep(2);
  }
}

beforeAll(async () => {
  silentAddress = allocateLoopback('nodered-redeploy-silent');
  answeringAddress = allocateLoopback('nodered-redeploy-answering');
  silent = await startKisser(silentAddress, 0, () => null);
  answering = await startKisser(answeringAddress, 0, (request) => (request.packet ? makeReply(request) : null));
});

afterAll(async () => {
  await Promise.all([silent.close(), answering.close()]);
  releaseLoopback(silentAddress);
  releaseLoopback(answeringAddress);
});

afterEach(async () => {
  await helper.unload();
});

describe('a redeploy with a changed server list', () => {
  it('asks the new server without waiting out the old server\'s backoff', async () => {
    clock = new VirtualClock(Date.UTC(2025, 2, 1));
    const userDir = tempUserDir();
    let n = await load(userDir, `${silentAddress}:${silent.port}`);
    // Three unanswered polls: the backoff before the next one is now well over a minute.
    for (let i = 1; i <= 3; i++) {
      await advance(20_000 * i);
      await silent.waitForRequests(i, 5000).catch(() => undefined);
    }
    const backoff = await n.status1.waitFor((s) => /retry in/.test(String(s.text)));
    expect(backoff.text).toMatch(/^no answer from /);
    await helper.unload();

    n = await load(userDir, `${answeringAddress}:${answering.port}`);
    // Only the startup delay (at most 2 s) stands between the redeploy and the new server's first request.
    await advance(3000);
    await answering.waitForRequests(1, 3000);
    const [sample] = await n.out1.waitFor(1);
    expect(sample.payload).toMatchObject({ address: answeringAddress });
  });

  it('keeps a refusal bound to the server that sent it, across a redeploy that adds another server', async () => {
    clock = new VirtualClock(Date.UTC(2025, 2, 2));
    const userDir = tempUserDir();
    const denierAddress = allocateLoopback('nodered-redeploy-denier');
    const denier = await startKisser(denierAddress, 0, (request) => (request.packet ? makeKiss(request, 'DENY') : null));
    try {
      let n = await load(userDir, `${denierAddress}:${denier.port}`);
      await advance(3000);
      await denier.waitForRequests(1);
      expect((await n.status1.waitFor((s) => s.fill === 'red')).text).toBe(`held: DENY from ${denierAddress} · stopped`);
      await helper.unload();

      n = await load(userDir, `${denierAddress}:${denier.port} ${answeringAddress}:${answering.port}`);
      const before = answering.count();
      await advance(20_000);
      await answering.waitForRequests(before + 1, 3000);
      await n.out1.waitFor(1);
      expect(denier.count()).toBe(1);
      expect(n.ev1.messages.map((m) => m.topic)).toContain('hold');
    } finally {
      await denier.close();
      releaseLoopback(denierAddress);
    }
  });
});
