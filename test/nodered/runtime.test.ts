// The nodes in a real Node-RED 4 process (nodesDir = this package), against a real chronyd on loopback, then
// against a server that answers with a real DENY kiss: what the editor's debug sidebar and status lines show,
// and that the traffic stops, also across a redeploy.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chronyd, startChronyd } from '../support/chronyd';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { Kisser, makeKiss, startKisser } from '../support/kisser';
import { CommsEvent, NodeRedProcess, startNodeRed } from './runtime-process';

let red: NodeRedProcess;
let chronyd: Chronyd;
let kisser: Kisser;
let kisserAddress: string;

function flow(configId: string, server: string): Record<string, unknown>[] {
  const p = configId;
  return [
    { id: p + '-tab', type: 'tab', label: 'runtime test' },
    {
      id: configId, type: 'kisstime-servers', name: 'test server', servers: server, lanServer: true,
      minInterval: '16', minIntervalUnit: 's', maxInterval: '1', maxIntervalUnit: 'h', timeout: '1', startupDelay: '1', startupDelayUnit: 's',
    },
    { id: p + '-inject', z: p + '-tab', type: 'inject', name: 'sync now', props: [{ p: 'payload' }], payload: '', payloadType: 'date', repeat: '', once: false, wires: [[p + '-sync']] },
    { id: p + '-sync', z: p + '-tab', type: 'kisstime-sync', name: 'sync', servers: configId, wires: [[p + '-samples'], [p + '-events']] },
    { id: p + '-samples', z: p + '-tab', type: 'debug', name: 'samples', active: true, tosidebar: true, complete: 'payload', targetType: 'msg', wires: [] },
    { id: p + '-events', z: p + '-tab', type: 'debug', name: 'events', active: true, tosidebar: true, complete: 'payload', targetType: 'msg', wires: [] },
  ];
}

function debugFrom(id: string, topic?: string) {
  return (e: CommsEvent) => e.topic === 'debug' && e.data.id === id && (topic === undefined || e.data.topic === topic);
}

function statusOf(id: string, match: (s: { text?: string; fill?: string; shape?: string }) => boolean) {
  return (e: CommsEvent) => e.topic === 'status/' + id && match(e.data as { text?: string });
}

beforeAll(async () => {
  [red, chronyd] = await Promise.all([startNodeRed(), startChronyd({ label: 'nodered-runtime' })]);
  kisserAddress = allocateLoopback('nodered-runtime-kisser');
  kisser = await startKisser(kisserAddress, 0, (request) => (request.packet ? makeKiss(request, 'DENY') : null));
});

afterAll(async () => {
  await Promise.all([red && red.stop(), chronyd && chronyd.stop(), kisser && kisser.close()]);
  if (kisserAddress) releaseLoopback(kisserAddress);
});

describe('a real Node-RED runtime with the kisstime nodes', () => {
  it('loads the nodes into the palette', async () => {
    const r = await fetch(red.url + '/nodes', { headers: { Accept: 'application/json' } });
    const sets = (await r.json()) as { types: string[]; enabled: boolean; err?: string }[];
    const types = sets.filter((s) => s.enabled && !s.err).flatMap((s) => s.types);
    expect(types).toEqual(expect.arrayContaining(['kisstime-servers', 'kisstime-sync', 'kisstime-now']));
  });

  it('deployed over the admin API, it gets a sample from a real chronyd and shows it in the debug output', async () => {
    await red.deploy(flow('cfgchrony', chronyd.address));
    const sample = await red.waitForEvent(debugFrom('cfgchrony-samples', 'sample'), 15000, 'sample from chronyd');
    const payload = JSON.parse(String(sample.data.msg)) as Record<string, unknown>;
    expect(payload.server).toBe(chronyd.address);
    expect(payload.stratum).toBe(10);
    expect(Math.abs(payload.offset as number)).toBeLessThan(0.05);
    expect(payload.delay as number).toBeGreaterThanOrEqual(0);
    expect(payload.delay as number).toBeLessThan(0.05);
    expect(typeof payload.time).toBe('string');
    const status = await red.waitForEvent(statusOf('cfgchrony-sync', (s) => s.fill === 'green'), 5000, 'green status');
    expect(status.data.text).toMatch(/^synced ±[\d.]+ (ms|µs), -?[\d.]+ ppm · next \d+ (s|min)$/);
  });

  it('a DENY from the server turns the status red, stops traffic, and a redeploy does not ask again', async () => {
    await red.deploy(flow('cfgkiss', `${kisserAddress}:${kisser.port}`));
    const red1 = await red.waitForEvent(statusOf('cfgkiss-sync', (s) => s.fill === 'red'), 15000, 'red status');
    expect(red1.data).toMatchObject({ fill: 'red', shape: 'ring', text: `held: DENY from ${kisserAddress} · stopped` });
    const kiss = await red.waitForEvent(debugFrom('cfgkiss-events', 'kiss'), 5000, 'kiss event');
    expect(JSON.parse(String(kiss.data.msg))).toMatchObject({ code: 'DENY', action: 'hold', address: kisserAddress });
    const seenBy = () => JSON.stringify(kisser.requests.map((r) => ({ from: r.from, at: r.receivedAt }))) + '\n' + red.output().slice(-2000);
    expect(kisser.count(), seenBy()).toBe(1);

    // The sync-now button is answered without a packet.
    await red.inject('cfgkiss-inject');
    const deferred = await red.waitForEvent(debugFrom('cfgkiss-events', 'deferred'), 5000, 'deferred answer');
    expect(JSON.parse(String(deferred.data.msg))).toMatchObject({ reason: 'stopped' });

    // The refusal is on disk, and a full redeploy (every node restarted) keeps quiet.
    const stateFile = join(red.userDir, 'kisstime', 'cfgkiss.json');
    expect(existsSync(stateFile)).toBe(true);
    expect(readFileSync(stateFile, 'utf8')).toContain('DENY');
    const seen = red.events.length;
    await red.deploy(flow('cfgkiss', `${kisserAddress}:${kisser.port}`));
    await red.waitForEvent((e) => red.events.indexOf(e) >= seen && statusOf('cfgkiss-sync', (s) => s.fill === 'red')(e), 10000, 'red status after redeploy');
    await red.waitForEvent((e) => red.events.indexOf(e) >= seen && debugFrom('cfgkiss-events', 'hold')(e), 5000, 'hold event after redeploy');
    await new Promise((r) => setTimeout(r, 2500));
    expect(kisser.count(), seenBy()).toBe(1);
  });
});
