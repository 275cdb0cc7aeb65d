// What a flow author sees when something is wrong, in node-red-node-test-helper with a real UDP server on loopback and
// a virtual clock: a server that answers but is unsynchronised is reported as that (not as silence); a bad config
// is one log line however many nodes use it, with its field's label; an example's placeholder server says what to
// change; kisstime-now refusing while unsynced sends every message to a Catch node, or logs once when there is none.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { Kisser, KisserHandler, makeReply, startKisser } from '../support/kisser';
import { seededRandom } from '../core/virtual-server';
import { VirtualClock } from '../support/virtual-clock';
import { helper, Inbox, kisstimeNodes, sleep, StatusLog, tempUserDir } from './harness';

let address: string;
let kisser: Kisser;
let clock: VirtualClock;

// LI=3 with stratum 16: a server that answers but has no time to give.
const unsynchronised: KisserHandler = (request) => (request.packet ? makeReply(request, { leap: 3, stratum: 16 }) : null);

function useHarness(): void {
  helper.settings({ userDir: tempUserDir(), kisstimeTestHooks: { clock, random: seededRandom(11) }, logging: { console: { level: 'off' } } });
}

function flow(serverExtra: Record<string, unknown>, withCatch: boolean, nowExtra: Record<string, unknown> = {}): Record<string, unknown>[] {
  const nodes: Record<string, unknown>[] = [
    { id: 'tab', type: 'tab', label: 'test' },
    {
      id: 'srv', type: 'kisstime-servers', name: 'lan clock', servers: `${address}:${kisser.port}`, lanServer: true,
      minInterval: '16', minIntervalUnit: 's', maxInterval: '1', maxIntervalUnit: 'h', timeout: '2', startupDelay: '2', startupDelayUnit: 's',
      ...serverExtra,
    },
    { id: 'sync1', z: 'tab', type: 'kisstime-sync', servers: 'srv', wires: [['out1'], ['ev1']] },
    { id: 'sync2', z: 'tab', type: 'kisstime-sync', servers: 'srv', wires: [[], []] },
    { id: 'now1', z: 'tab', type: 'kisstime-now', servers: 'srv', property: 'stamp', format: 'ms', wires: [['stamped']], ...nowExtra },
    { id: 'out1', z: 'tab', type: 'helper' },
    { id: 'ev1', z: 'tab', type: 'helper' },
    { id: 'stamped', z: 'tab', type: 'helper' },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
  if (withCatch) nodes.push({ id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] });
  return nodes;
}

async function load(nodes: Record<string, unknown>[]) {
  await helper.load(kisstimeNodes, nodes);
  const get = (id: string) => helper.getNode(id);
  return {
    ev1: new Inbox(get('ev1')), stamped: new Inbox(get('stamped')), caught: new Inbox(get('caught')),
    status1: new StatusLog(get('sync1')), statusNow: new StatusLog(get('now1')), sync1: get('sync1'), now1: get('now1'),
  };
}

/** The error lines Node-RED logged since the flows were loaded. */
function errorLines(): string[] {
  const spy = helper.log();
  return spy.getCalls().map((c) => c.args[0]).filter((e) => e.level === spy.ERROR).map((e) => String(e.msg));
}

beforeAll(async () => {
  address = allocateLoopback('nodered-problems');
  kisser = await startKisser(address, 0, unsynchronised);
});

afterAll(async () => {
  await kisser.close();
  releaseLoopback(address);
});

afterEach(async () => {
  await helper.unload();
  kisser.setHandler(unsynchronised);
});

describe('what the kisstime nodes say when something is wrong', () => {
  it('a server that answers LI=3, stratum 16 is "unsynchronised" on the status line and output 2, not "no answer"', async () => {
    clock = new VirtualClock(Date.UTC(2025, 1, 1));
    useHarness();
    const n = await load(flow({}, true));
    const before = kisser.count();
    clock.advance(2500);
    await kisser.waitForRequests(before + 1);
    // The reply is refused but the request stays open until its timeout: a forged reply must not end it early.
    await sleep(50);
    clock.advance(2500);
    const st = await n.status1.waitFor((s) => s.fill === 'yellow');
    expect(st).toEqual({ fill: 'yellow', shape: 'ring', text: expect.stringMatching(new RegExp(`^${address.replace(/\./g, '\\.')} is unsynchronised · retry in 1[6-8] s$`)) });
    const [event] = await n.ev1.waitFor(1);
    expect(event.topic).toBe('backoff');
    expect(event.payload).toMatchObject({ rejected: 'unsynchronised', failures: 1 });
    expect(String(event.payload!.message)).toMatch(new RegExp(`^${address.replace(/\./g, '\\.')} is unsynchronised; retry in 1[6-8] s$`));
  });

  it('a bad config logs one line for three nodes, and each node\'s Catch node gets it with the field\'s label', async () => {
    clock = new VirtualClock(Date.UTC(2025, 1, 2));
    useHarness();
    const n = await load(flow({ lanServer: false, minInterval: '5', minIntervalUnit: 'min' }, true));
    const caught = await n.caught.waitFor(3);
    const text = 'Min interval: 5 min is below the floor of 30 min for servers you do not run (tick "This is a LAN server I run" to go lower)';
    expect(caught.map((m) => m.error!.message)).toEqual([text, text, text]);
    expect(caught.map((m) => m.error!.source.id).sort()).toEqual(['now1', 'sync1', 'sync2']);
    await sleep(50);
    expect(errorLines()).toEqual([text]);
  });

  it('without a Catch node a bad config is still one log line, also after messages arrive', async () => {
    clock = new VirtualClock(Date.UTC(2025, 1, 3));
    useHarness();
    const n = await load(flow({ maxInterval: 'soon' }, false));
    for (let i = 0; i < 5; i++) {
      n.sync1.receive({ payload: i });
      n.now1.receive({ payload: i });
    }
    await sleep(50);
    expect(errorLines()).toEqual(['Max interval: "soon" is not a number']);
    expect(n.status1.last()).toEqual({ fill: 'red', shape: 'ring', text: 'fix "Max interval" in the servers config' });
  });

  it('an example\'s placeholder server is refused before any DNS query, saying what to do, and the status says "no servers configured"', async () => {
    clock = new VirtualClock(Date.UTC(2025, 1, 4));
    useHarness();
    const n = await load(flow({ servers: 'your.time.server.example' }, true));
    const [caught] = await n.caught.waitFor(1);
    expect(caught.error!.message).toBe('Servers: "your.time.server.example" is the example\'s placeholder: enter your own time server');
    expect(caught.payload).toMatchObject({ field: 'servers', label: 'Servers' });
    expect(await n.status1.waitFor((s) => s.fill === 'red')).toEqual({ fill: 'red', shape: 'ring', text: 'no servers configured' });
  });

  it('an empty server list says what to add', async () => {
    clock = new VirtualClock(Date.UTC(2025, 1, 5));
    useHarness();
    const n = await load(flow({ servers: '' }, true));
    const [caught] = await n.caught.waitFor(1);
    expect(caught.error!.message).toMatch(/^Servers: add at least one time server\. Kisstime ships no default/);
  });

  it('kisstime-now refusing until the first sample: every message reaches a Catch node, and nothing is logged', async () => {
    clock = new VirtualClock(Date.UTC(2025, 1, 6));
    useHarness();
    const n = await load(flow({}, true, { requireSync: true }));
    for (let i = 0; i < 4; i++) n.now1.receive({ payload: i });
    const caught = await n.caught.waitFor(4);
    expect(caught.map((m) => m.payload)).toEqual([0, 1, 2, 3]);
    expect(caught[0].error!.message).toMatch(/^no time sample yet, so the time would be this machine's uncorrected clock/);
    expect(n.stamped.messages).toEqual([]);
    expect(errorLines()).toEqual([]);
  });

  it('kisstime-now refusing without a Catch node logs one line, not one per message, and passes messages once synced', async () => {
    clock = new VirtualClock(Date.UTC(2025, 1, 7));
    kisser.setHandler((request) => {
      if (!request.packet) return null;
      return makeReply(request);
    });
    useHarness();
    const n = await load(flow({}, false, { requireSync: true }));
    for (let i = 0; i < 6; i++) n.now1.receive({ payload: i });
    await sleep(50);
    expect(errorLines()).toHaveLength(1);
    expect(errorLines()[0]).toMatch(/^no time sample yet/);
    expect(n.stamped.messages).toEqual([]);
    const before = kisser.count();
    clock.advance(2500);
    await kisser.waitForRequests(before + 1);
    await n.status1.waitFor((s) => s.fill === 'green');
    n.now1.receive({ payload: 'after' });
    const [stamped] = await n.stamped.waitFor(1);
    expect(stamped.kisstime).toMatchObject({ synced: true });
  });
});
