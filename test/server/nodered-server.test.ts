// The kisstime-server Node-RED node: it syncs through a kisstime-servers config node from an upstream whose clock is
// 3 s ahead, serves that time at stratum 3, kisses a denied client, reports its counters on its first output and
// the rude clients on its second, and says each problem once (to a Catch node, or as one log line). Real sockets on
// loopback, Node-RED's own test helper (whose RED._ returns the message key: wording is checked in the real runtime,
// nodered-runtime-server.test.ts).

import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { helper, Inbox, kisstimeNodes, StatusLog, tempUserDir, type TestNode } from '../nodered/harness';
import { makeReply, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, freeUdpPort, releaseLoopback } from '../support/loopback';
import { burst, queryOnce, sleep, timestampDiffSeconds } from '../support/packet';

const nodeRequire = createRequire(__filename);
const serverNode = nodeRequire('../../nodes/kisstime-server.js');
const catchNode = nodeRequire('@node-red/nodes/core/common/25-catch.js');

const serverAddress = allocateLoopback('server-nodered');
const upstreamAddress = allocateLoopback('server-nodered-upstream');
let upstream: Kisser;
let upstreamPort = 0;

/** Every call of a node method (warn, error, ...) from now on, as its argument lists. */
function calls(node: TestNode, method: string): unknown[][] {
  const seen: unknown[][] = [];
  node.on('call:' + method, ((call: { args: unknown[] }) => seen.push(call.args)) as (arg: never) => void);
  return seen;
}

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
    const srv = helper.getNode('srv') as TestNode & { server: { reference(): { synced: boolean } } };
    for (let i = 0; i < 400 && !srv.server.reference().synced; i++) await sleep(20);
    expect(srv.server.reference().synced).toBe(true);
    await status.waitFor((s) => /kisstime-server\.status\.stratum/.test(s.text ?? ''), 3000);
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

  test('a bad access list is refused once, to a Catch node with the field named, nothing listens, and inputs log nothing', async () => {
    const port = await freeUdpPort(serverAddress);
    await helper.load([...kisstimeNodes, serverNode, catchNode], [
      { id: 'tab', type: 'tab' },
      { id: 'srv', z: 'tab', type: 'kisstime-server', address: serverAddress, port: String(port), allow: '10.0.0.0/99', localStratum: 5, serveLocal: true },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ]);
    const srv = helper.getNode('srv');
    const errors = calls(srv, 'error');
    const status = new StatusLog(srv);
    const caught = await new Inbox(helper.getNode('caught')).waitFor(1);
    expect(caught[0].error?.message).toBe('kisstime-server.errors.field');
    expect(caught[0].payload).toEqual({ field: 'allow' });
    expect(caught[0].error?.source.id).toBe('srv');
    expect((await status.waitFor((x) => x.fill === 'red')).text).toBe('kisstime-server.status.refused');
    expect(await queryOnce(serverAddress, { port, timeoutMs: 300 })).toBeNull();
    for (let i = 0; i < 5; i++) srv.receive({ payload: i });
    await sleep(100);
    expect(errors.length).toBe(1);
  });

  test('an address already taken (a running chronyd or ntpd, say) reaches a Catch node with the code, address and port', async () => {
    const holder = createSocket('udp4');
    const port = await new Promise<number>((resolve) => holder.bind(0, serverAddress, () => resolve(holder.address().port)));
    try {
      await helper.load([...kisstimeNodes, serverNode, catchNode], [
        { id: 'tab', type: 'tab' },
        { id: 'srv', z: 'tab', type: 'kisstime-server', address: serverAddress, port: String(port), serveLocal: true, localStratum: 5 },
        { id: 'catcher', z: 'tab', type: 'catch', scope: ['srv'], wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ]);
      const caught = await new Inbox(helper.getNode('caught')).waitFor(1);
      expect(caught[0].error?.message).toBe('kisstime-server.errors.addressInUse');
      expect(caught[0].payload).toEqual({ code: 'EADDRINUSE', address: serverAddress, port });
      const status = new StatusLog(helper.getNode('srv'));
      helper.getNode('srv').receive({});
      expect((await status.waitFor((x) => x.fill === 'red')).text).toBe('kisstime-server.status.addressInUse');
    } finally {
      holder.close();
    }
  });

  test('without an upstream it warns once, listens on 127.0.0.1 when no address is set, and answers "unsynchronised"', async () => {
    const port = await freeUdpPort('127.0.0.1');
    await helper.load([...kisstimeNodes, serverNode], [{ id: 'srv', type: 'kisstime-server', address: '', port: String(port), statsInterval: '1' }]);
    const srv = helper.getNode('srv');
    const warnings = calls(srv, 'warn');
    const answer = await queryOnce('127.0.0.1', { port, timeoutMs: 1000 });
    expect(answer?.packet.leap).toBe(3);
    expect(answer?.packet.stratum).toBe(16);
    for (let i = 0; i < 3; i++) srv.receive({});
    await sleep(1200);
    expect(warnings.map((w) => w[0])).toEqual(['kisstime-server.warn.noUpstream']);
  });

  test('a rude client (every 100 ms, its clock in every request, back straight after RATE) is flagged on the second output and the status', async () => {
    const port = await freeUdpPort(serverAddress);
    await helper.load([...kisstimeNodes, serverNode], [
      { id: 'srv', type: 'kisstime-server', address: serverAddress, port: String(port), serveLocal: true, localStratum: 4, statsInterval: '1', wires: [['stats'], ['rude']] },
      { id: 'stats', type: 'helper' },
      { id: 'rude', type: 'helper' },
    ]);
    const rudeInbox = new Inbox(helper.getNode('rude'));
    const status = new StatusLog(helper.getNode('srv'));
    // A polite neighbour asks once and is never listed.
    await queryOnce(serverAddress, { port, timeoutMs: 500, sourceAddress: '127.70.0.1' });
    await burst(serverAddress, 15, { port: port, gapMs: 100, settleMs: 100, sourceAddress: '127.70.0.66', clockInRequest: true });
    // Asked now, the report covers every request the rude client sent.
    helper.getNode('srv').receive({});
    await sleep(100);
    const reports = await rudeInbox.waitFor(1, 3000);
    const report = reports[reports.length - 1];
    expect(report.topic).toBe('clients');
    const payload = report.payload as { rude: number; clients: number; worst: Record<string, unknown>[] };
    expect(payload.rude).toBe(1);
    expect(payload.clients).toBe(2);
    expect(payload.worst[0]).toMatchObject({ address: '127.70.0.66', requests: 15, underFloor: true, lastKiss: 'RATE', clockLeaks: 15 });
    expect(payload.worst[0].ignoredKisses).toBeGreaterThan(0);
    expect(payload.worst[0].shortestIntervalS).toBeLessThan(0.5);
    expect(payload.worst[0].reasons).toEqual(['kisstime-server.reason.ignoredRate', 'kisstime-server.reason.underFloor', 'kisstime-server.reason.clock']);
    const s = await status.waitFor((x) => /kisstime-server\.status\.rude/.test(x.text ?? ''), 3000);
    expect(s.fill).toBe('yellow');
  });
});
