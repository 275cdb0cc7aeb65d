// The built bundle on a virtual board syncs against a real chronyd on loopback, steps the clock when asked, and
// leaves no socket open between polls.
//
// chronyd keeps real time while the board's virtual clock jumps ahead over idle stretches, so from chronyd's side
// the board drifts by every skipped second; these tests therefore compare each sample with the board's true offset
// at that moment, and leave poll counting over days to kisses.test.ts, whose server follows the virtual clock.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChronyd, type Chronyd } from '../support/chronyd';
import { bootAndListen, firmware, flashedBoard, HOUR_MS } from './firmware-fixture';

describe('firmware against chronyd', () => {
  let chronyd: Chronyd;
  beforeAll(async () => {
    chronyd = await startChronyd({ label: 'firmware-sync' });
  });
  afterAll(async () => {
    await chronyd?.stop();
  });

  it('measures the true offset of a slow clock and never polls closer than the minimum interval', async () => {
    // Built first: the board's clock starts 1000 s slow from the moment it is made, not from before a build.
    await firmware();
    const board = await flashedBoard({ serial: 'sync-board-1', clockStartS: Date.now() / 1000 - 1000 },
      { servers: [chronyd.address], lanServer: true, minInterval: 16, maxInterval: 120, startupDelayMin: 1, startupDelayMax: 2 });
    const { handle, events } = bootAndListen(board);
    await board.run(5000);
    expect(events.sync.length).toBe(1);
    const first = events.sync[0];
    expect(first.stratum).toBe(10);
    expect(Math.abs((first.offset as number) - (first.trueOffsetS as number))).toBeLessThan(0.05);
    expect(Math.abs((first.offset as number) - 1000)).toBeLessThan(5);
    // now() is getTime() corrected by the clock model's offset, which after one sample is that sample's.
    expect(Math.abs((first.clockOffset as number) - (first.offset as number))).toBeLessThan(0.001);
    expect(Math.abs((handle.now() as number) - board.getTimeS() - (first.clockOffset as number))).toBeLessThan(0.001);
    expect(board.openSockets()).toBe(0);

    await board.run(HOUR_MS);
    const times = board.sent.map((s) => s.atMs);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(16000);
    for (const s of events.sync) expect(Math.abs((s.offset as number) - (s.trueOffsetS as number))).toBeLessThan(0.05);
    expect(events.sync.length).toBe(times.length);
    expect(events.error).toEqual([]);
    expect(board.hostnameSends).toEqual([]);
    expect(board.uncaught).toEqual([]);
    expect(board.openSockets()).toBe(0);
    console.log(`chronyd: ${events.sync.length} syncs from ${times.length} requests in a virtual hour`);
  });

  it('steps the clock with setTime when setClock is on, and the next sample agrees', async () => {
    // A board without an RTC boots at 1970.
    const board = await flashedBoard({ serial: 'sync-board-2', clockStartS: 100 },
      { servers: [chronyd.address], lanServer: true, minInterval: 16, maxInterval: 64, startupDelayMin: 1, startupDelayMax: 2, setClock: 1 });
    const { events } = bootAndListen(board);
    await board.run(5000);
    expect(events.sync.length).toBe(1);
    expect(events.sync[0].stepped).toBeGreaterThan(1.7e9);
    // The handler runs after the step: the board's clock then reads real time, give or take the round trip.
    expect(Math.abs(events.sync[0].trueOffsetS as number)).toBeLessThan(0.05);
    // After one sample the model knows no drift yet: the bound reaches 100 ms within the 64 s maximum.
    await board.run(70000);
    expect(events.sync.length).toBe(2);
    // The second sample measures the skipped 16 s as a drift (and may step again): before any step of its own,
    // the board's true offset was trueOffsetS + stepped.
    const second = events.sync[1];
    expect(Math.abs((second.offset as number) - ((second.trueOffsetS as number) + (second.stepped as number)))).toBeLessThan(0.05);
  });
});
