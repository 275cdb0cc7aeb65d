// Politeness of the built bundle over virtual days, which the real interpreter cannot run: an answering server,
// a silent one and RATE kisses towards the 36 h maximum, and flash writes per day, with the request counts printed
// for the closing note. DENY and RSTR are shown on the real interpreter (test/espruino/holds.test.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import type { Kisser } from '../support/kisser';
import type { EspruinoBoard } from './espruino-board';
import { bootAndListen, DAY_MS, flashedBoard } from './firmware-fixture';
import { startVirtualServer, type Behaviour } from './virtual-server';

describe('firmware politeness over a virtual day', () => {
  let address: string;
  let server: Kisser;
  let board: EspruinoBoard;
  let behaviour: Behaviour = 'answer';
  const counts: Record<string, number> = {};

  beforeAll(async () => {
    address = allocateLoopback('firmware-kisses');
    server = await startVirtualServer(address, () => board, () => behaviour);
  });
  afterAll(async () => {
    board?.powerOff();
    await server?.close();
    releaseLoopback(address);
    console.log(`requests per virtual day (defaults: 34 min .. 36 h, startup 1-300 s): ${JSON.stringify(counts)}`);
  });

  /** A fresh board on the defaults (a server the operator does not run: 34 min minimum). */
  async function freshBoard(serial: string): Promise<EspruinoBoard> {
    board = await flashedBoard({ serial }, { servers: [`${address}:${server.port}`] });
    return board;
  }

  it('answers: polls lengthen towards the maximum; steady-state flash writes stay few', async () => {
    behaviour = 'answer';
    const b = await freshBoard('kiss-answer');
    const { events } = bootAndListen(b);
    await b.run(DAY_MS);
    counts.answering = b.sent.length;
    expect(events.sync.length).toBe(b.sent.length);
    expect(b.sent.length).toBeLessThanOrEqual(8);
    const writesBefore = b.storage.writesTo('kisstime.state');
    const sentBefore = b.sent.length;
    await b.run(DAY_MS);
    counts.answeringSecondDay = b.sent.length - sentBefore;
    counts.stateWritesSecondDay = b.storage.writesTo('kisstime.state') - writesBefore;
    // At the 36 h maximum a poll happens at most once a day, and a sample is saved at most once per interval.
    expect(counts.stateWritesSecondDay).toBeLessThanOrEqual(2);
    expect(b.openSockets()).toBe(0);
    expect(b.uncaught).toEqual([]);
  });

  it('silent: backs off, doubling the wait from 34 min towards 36 h', async () => {
    behaviour = 'silent';
    const b = await freshBoard('kiss-silent');
    const { events } = bootAndListen(b);
    await b.run(DAY_MS);
    counts.silent = b.sent.length;
    const gaps = b.sent.slice(1).map((s, i) => s.atMs - b.sent[i].atMs);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1] * 1.7);
    expect(b.sent.length).toBeLessThanOrEqual(8);
    expect(events.error.every((e) => e.cause === 'timeout')).toBe(true);
    expect(b.openSockets()).toBe(0);
  });

  it('RATE: every kiss at least doubles the interval, and the slowdown survives a reboot', async () => {
    behaviour = 'RATE';
    const b = await freshBoard('kiss-rate');
    const { events } = bootAndListen(b);
    await b.run(DAY_MS);
    counts.rate = b.sent.length;
    const intervals = events.kiss.map((k) => k.interval as number);
    expect(intervals.length).toBe(b.sent.length);
    for (let i = 1; i < intervals.length; i++) expect(intervals[i]).toBeGreaterThanOrEqual(Math.min(2 * intervals[i - 1], 131072));
    const gaps = b.sent.slice(1).map((s, i) => s.atMs - b.sent[i].atMs);
    for (let i = 0; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(intervals[i] * 1000);
    expect(b.sent.length).toBeLessThanOrEqual(6);
    const lastInterval = intervals[intervals.length - 1];
    const sentBefore = b.sent.length;
    const lastSendMs = b.sent[b.sent.length - 1].atMs;
    bootAndListen(b);
    await b.run(DAY_MS);
    // The RATE floor was saved with the slot, and the next request after the reboot honours it.
    const saved = b.storage.readJSON('kisstime.state') as { srv: { ips: { rf: number }[] }[] };
    expect(saved.srv[0].ips[0].rf).toBeGreaterThanOrEqual(lastInterval);
    const next = b.sent[sentBefore];
    expect(next === undefined || next.atMs - lastSendMs >= lastInterval * 1000).toBe(true);
  });
});
