// The kisstime-server Node-RED node: it syncs through a kisstime-servers config node from an upstream whose clock is
// 3 s ahead, serves that time at stratum 3, kisses a denied client, and reports its counters on its output and
// status. Real sockets on loopback, Node-RED's own test helper.

import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { helper, Inbox, kisstimeNodes, StatusLog, tempUserDir } from '../nodered/harness';
import { makeReply, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, freeUdpPort, releaseLoopback } from '../support/loopback';
import { queryOnce, sleep, timestampDiffSeconds } from '../support/packet';

const nodeRequire = createRequire(__filename);
const serverNode = nodeRequire('../../nodes/kisstime-server.js');

const serverAddress = allocateLoopback('server-nodered');
const upstreamAddress = allocateLoopback('server-nodered-upstream');
let upstream: Kisser;
let upstreamPort = 0;

beforeAll(async () => {
  upstreamPort = await freeUdpPort(upstreamAddress);
  upstream = await startKisser(upstreamAddress, upstreamPort, (r) => (r.packet ? { bytes: makeReply(r, { offsetSeconds: 3, stratum: 2 }) } : null));
  helper.settings({ userDir: tempUserDir() });
  await helper.startServer();
});

afterEach(async () => {
  await helper.unload();
});

afterAll(async () => {
  await helper.stopServer();
  await upstream.close();
  releaseLoopback(serverAddress);
  releaseLoopback(upstreamAddress);
});

describe('kisstime-server node', () => {
  test('serves the upstream-corrected time at stratum 3, kisses a denied client, and emits stats', async () => {
    const port = await freeUdpPort(serverAddress);
    const flow = [
      { id: 'up', type: 'kisstime-servers', servers: `${upstreamAddress}:${upstreamPort}`, lanServer: true, minInterval: '16', minIntervalUnit: 's', startupDelay: '1', startupDelayUnit: 's' },
      { id: 'srv', type: 'kisstime-server', upstream: 'up', address: serverAddress, port: String(port), deny: '127.66.0.0/16', statsInterval: '1', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load([...kisstimeNodes, serverNode], flow);
    const status = new StatusLog(helper.getNode('srv'));
    const inbox = new Inbox(helper.getNode('out'));
    await status.waitFor((s) => /stratum 3/.test(s.text ?? ''), 8000);
    const answer = await queryOnce(serverAddress, { port, timeoutMs: 1000 });
    if (!answer) throw new Error('no answer');
    expect(answer.packet.stratum).toBe(3);
    const offset = (timestampDiffSeconds(answer.packet.receive, answer.t1) + timestampDiffSeconds(answer.packet.transmit, answer.t4)) / 2;
    expect(Math.abs(offset - 3)).toBeLessThan(0.02);
    const kiss = await queryOnce(serverAddress, { port, timeoutMs: 1000, sourceAddress: '127.66.1.1' });
    expect(kiss?.packet.refidAscii).toBe('DENY');
    helper.getNode('srv').receive({});
    await sleep(50);
    const msgs = await inbox.waitFor(1);
    const stats = msgs[msgs.length - 1];
    expect(stats.topic).toBe('stats');
    expect(stats.payload).toMatchObject({ answered: 1, kissed: { RATE: 0, DENY: 1, RSTR: 0 }, synced: true, stratum: 3, clients: 2 });
  }, 20000);

  test('a bad access list is refused with the field named, and nothing listens', async () => {
    const port = await freeUdpPort(serverAddress);
    await helper.load([...kisstimeNodes, serverNode], [{ id: 'srv', type: 'kisstime-server', address: serverAddress, port: String(port), allow: '10.0.0.0/99' }]);
    const status = new StatusLog(helper.getNode('srv'));
    const s = await status.waitFor((x) => x.fill === 'red');
    expect(s.text).toContain('allow');
    expect(await queryOnce(serverAddress, { port, timeoutMs: 300 })).toBeNull();
  });
});
