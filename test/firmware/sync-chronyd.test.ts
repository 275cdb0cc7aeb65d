// What the real interpreter cannot show: a board that boots at 1970 (no RTC) and whose clock really moves when setClock
// steps it (the Linux build's setTime delays its timers instead; test/espruino/sync.test.ts covers what it does show).
// The built bundle runs on a virtual board against a real chronyd on loopback.
//
// chronyd keeps real time while the board's virtual clock jumps ahead over idle stretches, so from chronyd's side
// the board drifts by every skipped second; the test therefore compares each sample with the board's true offset.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChronyd, type Chronyd } from '../support/chronyd';
import { bootAndListen, flashedBoard } from './firmware-fixture';

describe('firmware against chronyd', () => {
  let chronyd: Chronyd;
  beforeAll(async () => {
    chronyd = await startChronyd({ label: 'firmware-sync' });
  });
  afterAll(async () => {
    await chronyd?.stop();
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
