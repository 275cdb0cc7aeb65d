// The Node-RED nodes in node-red-node-test-helper, against a real UDP fake server on loopback, with a virtual
// clock: what a flow author sees on the outputs and the status line, and that nodes sharing a config share one
// schedule.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { Kisser, KisserHandler, makeKiss, makeReply, startKisser } from '../support/kisser';
import { ntpTimestampFromUnixMs } from '../support/packet';
import { seededRandom } from '../core/virtual-server';
import { helper, Inbox, kisstimeNodes, sleep, StatusLog, tempUserDir } from './harness';
import { VirtualClock } from '../support/virtual-clock';

const OFFSET_MS = 3.2;

let address: string;
let kisser: Kisser;
let clock: VirtualClock;

// Replies carry the virtual wall time plus a known offset, so the status line is exact.
const answerVirtual: KisserHandler = (request) => {
  if (!request.packet) return null;
  const ts = ntpTimestampFromUnixMs(clock.wallMs() + OFFSET_MS);
  return makeReply(request, { receive: ts, transmit: ts, stratum: 2 });
};
const deny: KisserHandler = (request) => (request.packet ? makeKiss(request, 'DENY') : null);
const silent: KisserHandler = () => null;

function useHarness(userDir: string): void {
  helper.settings({ userDir, kisstimeTestHooks: { clock, random: seededRandom(7) }, logging: { console: { level: 'off' } } });
}

function servers(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'srv', type: 'kisstime-servers', name: 'lan clock', servers: `${address}:${kisser.port}`, lanServer: true,
    minInterval: '16', minIntervalUnit: 's', maxInterval: '1', maxIntervalUnit: 'h', timeout: '2',
    startupDelay: '2', startupDelayUnit: 's', ...extra,
  };
}

function twoSyncFlow(serverExtra: Record<string, unknown> = {}): Record<string, unknown>[] {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    servers(serverExtra),
    { id: 'sync1', z: 'tab', x: 100, y: 100, type: 'kisstime-sync', servers: 'srv', wires: [['out1'], ['ev1']] },
    { id: 'sync2', z: 'tab', x: 100, y: 100, type: 'kisstime-sync', servers: 'srv', wires: [['out2'], ['ev2']] },
    { id: 'now1', z: 'tab', x: 100, y: 100, type: 'kisstime-now', servers: 'srv', property: 'stamp', format: 'ms', wires: [['stamped']] },
    { id: 'catcher', z: 'tab', x: 100, y: 100, type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out1', z: 'tab', x: 100, y: 100, type: 'helper' },
    { id: 'ev1', z: 'tab', x: 100, y: 100, type: 'helper' },
    { id: 'out2', z: 'tab', x: 100, y: 100, type: 'helper' },
    { id: 'ev2', z: 'tab', x: 100, y: 100, type: 'helper' },
    { id: 'stamped', z: 'tab', x: 100, y: 100, type: 'helper' },
    { id: 'caught', z: 'tab', x: 100, y: 100, type: 'helper' },
  ];
}

async function load(flow: Record<string, unknown>[]) {
  await helper.load(kisstimeNodes, flow);
  const get = (id: string) => helper.getNode(id);
  return {
    out1: new Inbox(get('out1')), ev1: new Inbox(get('ev1')), out2: new Inbox(get('out2')), ev2: new Inbox(get('ev2')),
    stamped: new Inbox(get('stamped')), caught: new Inbox(get('caught')),
    status1: new StatusLog(get('sync1')), status2: new StatusLog(get('sync2')),
    sync1: get('sync1'), now1: get('now1'),
  };
}

beforeAll(async () => {
  address = allocateLoopback('nodered-helper');
  kisser = await startKisser(address, 0, answerVirtual);
});

afterAll(async () => {
  await kisser.close();
  releaseLoopback(address);
});

afterEach(async () => {
  await helper.unload();
  kisser.setHandler(answerVirtual);
});

describe('kisstime nodes in node-red-node-test-helper', () => {
  it('two sync nodes on one config share one schedule: one request, both get the sample', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 1));
    useHarness(tempUserDir());
    const before = kisser.count();
    const n = await load(twoSyncFlow());
    expect(kisser.count()).toBe(before);
    clock.advance(2500);
    await kisser.waitForRequests(before + 1);
    const [s1] = await n.out1.waitFor(1);
    const [s2] = await n.out2.waitFor(1);
    expect(s1.topic).toBe('sample');
    expect(s2.topic).toBe('sample');
    const p = s1.payload as Record<string, unknown>;
    expect(p.offset as number).toBeCloseTo(OFFSET_MS / 1000, 6);
    expect(p.delay as number).toBeCloseTo(0, 6);
    expect(p).toMatchObject({ stratum: 2, server: address });
    // The clock model after one sample: that sample's offset, and polls as far apart as 100 ms allows (over 16 s).
    expect(p.clockOffset as number).toBeCloseTo(OFFSET_MS / 1000, 5);
    expect(p.interval as number).toBeGreaterThanOrEqual(16);
    expect(p.time).toBeInstanceOf(Date);
    expect((p.time as Date).getTime()).toBeCloseTo(clock.wallMs() + OFFSET_MS, 0);
    expect(s2.payload).toEqual(s1.payload);
    // Separate copies: a flow that edits one node's message must not edit the other's.
    expect(s2).not.toBe(s1);
    expect(s2.payload).not.toBe(s1.payload);
    // Both nodes show the same status, and it is the green one from the spec.
    const st = await n.status1.waitFor((s) => s.fill === 'green');
    expect(st).toEqual({ fill: 'green', shape: 'dot', text: expect.stringMatching(/^synced ±[\d.]+ (ms|µs), -?[\d.]+ ppm · next \d+ (s|min)$/) });
    expect((await n.status2.waitFor((s) => s.fill === 'green')).text).toBe(st.text);
    // Ten more seconds: still one request in total, whatever the number of nodes.
    clock.advance(10000);
    await sleep(100);
    expect(kisser.count()).toBe(before + 1);
  });

  it('sync now before the interval has passed answers "deferred until" on output 2 and sends nothing', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 2));
    useHarness(tempUserDir());
    const n = await load(twoSyncFlow());
    clock.advance(2500);
    await n.out1.waitFor(1);
    const sentBefore = kisser.count();
    n.sync1.receive({ topic: 'please', payload: 'now', correlation: 42 });
    const [answer] = await n.ev1.waitFor(1);
    expect(answer.topic).toBe('deferred');
    expect(answer.correlation).toBe(42);
    expect(answer.payload).toMatchObject({ reason: 'min-interval' });
    expect(String(answer.payload!.message)).toMatch(/^deferred until \d\d:\d\d:\d\d \(min-interval\): the minimum poll interval; nothing was sent$/);
    const until = answer.payload!.until as Date;
    expect(until.getTime() - clock.wallMs()).toBeGreaterThan(10000);
    expect(until.getTime() - clock.wallMs()).toBeLessThanOrEqual(16000);
    await sleep(100);
    expect(kisser.count()).toBe(sentBefore);
    expect(n.ev2.messages).toEqual([]);
    // Once the interval has passed, the same request is allowed and a sample follows.
    clock.advance(16000);
    n.sync1.receive({ payload: 'now' });
    await kisser.waitForRequests(sentBefore + 1);
    await n.out1.waitFor(2);
  });

  it('kisstime-now stamps messages with the corrected time', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 3));
    useHarness(tempUserDir());
    const n = await load(twoSyncFlow());
    n.now1.receive({ payload: 'before' });
    const [first] = await n.stamped.waitFor(1);
    expect(first.kisstime).toEqual({ synced: false, offset: null, maxError: null });
    expect(first.stamp).toBe(clock.wallMs());
    clock.advance(2500);
    await n.out1.waitFor(1);
    n.now1.receive({ payload: 'after' });
    const [, second] = await n.stamped.waitFor(2);
    expect(second.payload).toBe('after');
    // A small correction is slewed, at most 500 ppm of the time that passed (here 2.5 s), so time never jumps.
    expect(second.stamp as number).toBeGreaterThan(clock.wallMs());
    expect(second.stamp as number).toBeLessThanOrEqual(clock.wallMs() + 2500 * 500e-6 + 0.001);
    expect((second.kisstime as { synced: boolean }).synced).toBe(true);
    // Enough time later, the corrected time has caught up with the model.
    clock.advance(10_000);
    n.now1.receive({ payload: 'later' });
    const [, , third] = await n.stamped.waitFor(3);
    expect(third.stamp as number).toBeCloseTo(clock.wallMs() + OFFSET_MS, 0);
  });

  it('silence: "asking …" while the request is out, then a yellow ring "no answer from … · retry in …", and backoff on output 2', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 4));
    kisser.setHandler(silent);
    useHarness(tempUserDir());
    const n = await load(twoSyncFlow());
    const before = kisser.count();
    clock.advance(2500);
    await kisser.waitForRequests(before + 1);
    expect((await n.status1.waitFor((s) => s.fill === 'blue' && /asking/.test(String(s.text)))).text).toBe(`asking ${address}…`);
    clock.advance(2500);
    const st = await n.status1.waitFor((s) => s.fill === 'yellow');
    expect(st).toEqual({ fill: 'yellow', shape: 'ring', text: expect.stringMatching(new RegExp(`^no answer from ${address.replace(/\./g, '\\.')} · retry in 1[6-8] s$`)) });
    const events = await n.ev1.waitFor(1);
    expect(events[0].topic).toBe('backoff');
    expect(events[0].payload).toMatchObject({ cause: 'timeout', failures: 1 });
    expect(String(events[0].payload!.message)).toMatch(/retry in 1[6-8] s/);
  });

  it('a DENY turns the status red, stops traffic, and is remembered across a restart', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 5));
    kisser.setHandler(deny);
    const userDir = tempUserDir();
    useHarness(userDir);
    let n = await load(twoSyncFlow());
    const before = kisser.count();
    clock.advance(2500);
    await kisser.waitForRequests(before + 1);
    const st = await n.status1.waitFor((s) => s.fill === 'red');
    expect(st).toEqual({ fill: 'red', shape: 'ring', text: `held: DENY from ${address} · stopped` });
    const events = await n.ev1.waitFor(2);
    expect(events.map((m) => m.topic)).toEqual(['kiss', 'stopped']);
    expect(events[0].payload).toMatchObject({ code: 'DENY', action: 'hold', address });
    clock.advance(3_600_000);
    await sleep(50);
    expect(kisser.count()).toBe(before + 1);

    // Restart (a redeploy or a Node-RED restart): still refused, still silent, and the flow is told why.
    await helper.unload();
    // The refusal is on disk under the Node-RED user directory, named after the config node.
    const stateFile = join(userDir, 'kisstime', 'srv.json');
    expect(existsSync(stateFile)).toBe(true);
    expect(readFileSync(stateFile, 'utf8')).toContain('DENY');
    kisser.setHandler(answerVirtual);
    useHarness(userDir);
    n = await load(twoSyncFlow());
    const again = await n.status1.waitFor((s) => s.fill === 'red');
    expect(again.text).toBe(`held: DENY from ${address} · stopped`);
    const held = await n.ev1.waitFor(1);
    expect(held.map((m) => m.topic)).toContain('hold');
    clock.advance(24 * 3_600_000);
    n.sync1.receive({ payload: 'now' });
    const answers = await n.ev1.waitFor(held.length + 1);
    expect(answers[answers.length - 1].payload).toMatchObject({ reason: 'stopped' });
    await sleep(50);
    expect(kisser.count()).toBe(before + 1);
  });

  it('a DENY from the first server fails over to the next: kiss and failover on output 2, then a sample from the other', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 10));
    const otherAddress = allocateLoopback('nodered-helper-other');
    const denier = await startKisser(otherAddress, 0, deny);
    try {
      useHarness(tempUserDir());
      const n = await load(twoSyncFlow({ servers: `${otherAddress}:${denier.port}, ${address}:${kisser.port}` }));
      clock.advance(2500);
      await denier.waitForRequests(1);
      const st = await n.status1.waitFor((x) => x.fill === 'yellow');
      expect(st).toEqual({ fill: 'yellow', shape: 'ring', text: `held: DENY from ${otherAddress} · trying ${address}` });
      const events = await n.ev1.waitFor(2);
      expect(events.map((m) => m.topic)).toEqual(['kiss', 'failover']);
      expect(events[1].payload).toMatchObject({ fromAddress: otherAddress, toAddress: address });
      const before = kisser.count();
      // The next server may be asked once the 15 s floor since the refused request (sent 1-2 s after start) has
      // passed, not sooner: nothing at 14.5 s, a request by 17.5 s.
      clock.advance(12_000);
      await sleep(50);
      expect(kisser.count()).toBe(before);
      clock.advance(3_000);
      await kisser.waitForRequests(before + 1);
      const [sample] = await n.out1.waitFor(1);
      expect(sample.payload).toMatchObject({ address });
      // Virtual time moved on while the request was out, so the offset is not the exact 3.2 ms here.
      expect((await n.status1.waitFor((x) => x.fill === 'green')).text).toMatch(/^synced ±[\d.]+ (ms|µs), -?[\d.]+ ppm · next \d+ (s|min)$/);
      expect(denier.count()).toBe(1);
    } finally {
      await denier.close();
      releaseLoopback(otherAddress);
    }
  });

  it('the last request time survives a restart: sync now right after a redeploy is deferred', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 6));
    const userDir = tempUserDir();
    useHarness(userDir);
    let n = await load(twoSyncFlow());
    clock.advance(2500);
    await n.out1.waitFor(1);
    await helper.unload();
    useHarness(userDir);
    n = await load(twoSyncFlow());
    clock.advance(2500);
    const before = kisser.count();
    n.sync1.receive({ payload: 'now' });
    const [answer] = await n.ev1.waitFor(1);
    expect(answer.topic).toBe('deferred');
    expect(['min-interval', 'floor']).toContain(answer.payload!.reason);
    await sleep(50);
    expect(kisser.count()).toBe(before);
  });

  it('a minimum interval under the floor is an error naming the field by its label, caught by a Catch node, with a red status', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 7));
    useHarness(tempUserDir());
    const before = kisser.count();
    const n = await load(twoSyncFlow({ lanServer: false, minInterval: '20', minIntervalUnit: 'min' }));
    const caught = await n.caught.waitFor(1);
    expect(caught[0].error!.message).toBe('Min interval: 20 min is below the floor of 30 min for servers you do not run (tick "This is a LAN server I run" to go lower)');
    expect(['sync1', 'sync2', 'now1']).toContain(caught[0].error!.source.id);
    expect(caught[0].topic).toBe('config-error');
    expect(caught[0].payload).toMatchObject({ field: 'minInterval', label: 'Min interval' });
    expect(await n.status1.waitFor((s) => s.fill === 'red')).toEqual({ fill: 'red', shape: 'ring', text: 'fix "Min interval" in the servers config' });
    // A message into the misconfigured node reaches the Catch node too, with the message that caused it.
    await sleep(20);
    const seen = n.caught.messages.length;
    n.sync1.receive({ topic: 'asked', payload: 1 });
    const withMsg = await n.caught.waitFor(seen + 1);
    const last = withMsg[withMsg.length - 1];
    expect(last.topic).toBe('asked');
    expect(last.error!.source.id).toBe('sync1');
    expect(last.error!.message).toMatch(/^Min interval: 20 min is below/);
    clock.advance(3_600_000);
    await sleep(50);
    expect(kisser.count()).toBe(before);
  });

  it('an administrator floor in settings.js (kisstimeMinInterval) beats the LAN flag, and the error says where it comes from', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 9));
    helper.settings({ userDir: tempUserDir(), kisstimeMinInterval: '1h', kisstimeTestHooks: { clock, random: seededRandom(7) } });
    const before = kisser.count();
    const n = await load(twoSyncFlow());
    const [caught] = await n.caught.waitFor(1);
    expect(caught.error!.message).toBe('Min interval: 16 s is below the floor of 60 min for this Node-RED (kisstimeMinInterval in settings.js)');
    clock.advance(60_000);
    await sleep(50);
    expect(kisser.count()).toBe(before);
  });

  it('50 redeploys leave no open sockets and no timers', async () => {
    clock = new VirtualClock(Date.UTC(2025, 0, 8));
    const userDir = tempUserDir();
    const count = (type: string) => process.getActiveResourcesInfo().filter((r) => r === type).length;
    const udpBefore = count('UDPWRAP');
    let samples = 0;
    for (let i = 0; i < 50; i++) {
      useHarness(userDir);
      const n = await load(twoSyncFlow());
      const sentBefore = kisser.count();
      // Each deploy asks once its restored interval allows, gets its sample, and is torn down. Time stops while a
      // request is in flight, so the real reply wins against the virtual timeout.
      for (let t = 0; t < 20_000 && !/asking/.test(String(n.status1.last()?.text)); t += 250) {
        clock.advance(250);
        await sleep(1);
      }
      await kisser.waitForRequests(sentBefore + 1).catch((err: Error) => {
        throw new Error(`deploy ${i}: ${err.message}; status ${JSON.stringify(n.status1.statuses)}; state ${readFileSync(join(userDir, 'kisstime', 'srv.json'), 'utf8')}`);
      });
      await n.out1.waitFor(1);
      samples++;
      await helper.unload();
    }
    // afterEach unloads again; the helper tolerates a second unload.
    expect(samples).toBe(50);
    expect(clock.pendingTimers()).toBe(0);
    await sleep(20);
    expect(count('UDPWRAP')).toBe(udpBefore);
    useHarness(userDir);
    await load(twoSyncFlow());
  });
});
