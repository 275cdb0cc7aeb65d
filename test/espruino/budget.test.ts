// Kisstime's RAM and flash budgets on the real interpreter (issue 12): running within the goal of 300 variables
// (the budget is 400), measured as the espruino bench measures them (bench/espruino/measure.ts: loaded from Storage,
// over the level before require()), 60 s after the first sync and at every later reading; no growth once the clock
// model's window of samples is full; and the flash under a ceiling, set just above today's size so that growth is
// seen. The ceiling is not the issues' budget (10,240 B, and 12,288 B with the clock model), which the board's
// feature set does not fit (firmware/README.md, "Flash"). Both figures are printed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureModule, type MemoryReadings } from '../../bench/espruino/measure';
import { kisstimeModule, SYNC_EVERY_S } from '../../bench/espruino/modules';
import { startChronyd, type Chronyd } from '../support/chronyd';
import { firmware } from '../support/firmware-build';
import { prepare } from './boards';

/** The goal; the budget of 400 holds with it. */
const RUNNING_GOAL_VARS = 300;
const FLASH_CEILING_BYTES = 19712;
const ISSUE_FLASH_BUDGET_BYTES = 12288;
const RUNNING_AT_S = 60;
/** After eight syncs 16 s apart the clock model's window is full: from then on nothing may grow. */
const WINDOW_FULL_AT_S = 140;
/** Long enough for six more syncs after the window is full. */
const WATCH_FOR_S = 240;

describe('RAM and flash budgets on the real interpreter', () => {
  let chronyd: Chronyd;
  let readings: Promise<MemoryReadings>;

  beforeAll(async () => {
    await prepare();
    chronyd = await startChronyd({ label: 'espruino-budget', commandSocket: true });
    const fw = await firmware();
    // One measurement serves both RAM tests; it runs while the flash test runs.
    readings = measureModule(kisstimeModule(fw.modules, chronyd.address, chronyd.port), { seriesEveryS: 20, seriesForS: WATCH_FOR_S, peakForS: 0 }, 'budget');
    readings.catch(() => undefined);
  });
  afterAll(async () => {
    await readings?.catch(() => undefined);
    await chronyd?.stop();
  });

  it(`flash: the three minified modules together are at most ${FLASH_CEILING_BYTES} bytes`, async () => {
    const fw = await firmware();
    console.log(fw.modules.map((m) => `${m.name}.min.js ${m.minifiedBytes}`).join(', ')
      + `: ${fw.minifiedBytes} bytes (ceiling ${FLASH_CEILING_BYTES}; the issues' budget ${ISSUE_FLASH_BUDGET_BYTES}, not met)`);
    expect(fw.minifiedBytes).toBeLessThanOrEqual(FLASH_CEILING_BYTES);
  });

  it(`running: at most ${RUNNING_GOAL_VARS} variables ${RUNNING_AT_S} s after the first sync, and at every reading after`, async () => {
    const r = await readings;
    const running = r.series.find(([t]) => t === RUNNING_AT_S);
    console.log(`kisstime on the interpreter, variables over the ${r.base} in use before require(): after require ${r.afterRequire}, `
      + `after start ${r.afterStart}, then every 20 s from the first sync: ${r.series.map(([, v]) => v).join(', ')}`);
    expect(running?.[1]).toBeLessThanOrEqual(RUNNING_GOAL_VARS);
    expect(Math.max(...r.series.map(([, v]) => v))).toBeLessThanOrEqual(RUNNING_GOAL_VARS);
  }, (WATCH_FOR_S + 120) * 1000);

  it(`flat: no growth from ${WINDOW_FULL_AT_S} s to ${WATCH_FOR_S} s after the first sync, with a sync every ${SYNC_EVERY_S} s`, async () => {
    const r = await readings;
    const running = r.series.filter(([t]) => t >= WINDOW_FULL_AT_S).map(([, v]) => v);
    expect(r.reportedSyncs).toBeGreaterThanOrEqual(Math.floor(WATCH_FOR_S / (SYNC_EVERY_S * 1.1)));
    expect(running.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...running), `readings from ${WINDOW_FULL_AT_S} s on: ${running.join(', ')}`).toBeLessThanOrEqual(running[0]);
  }, (WATCH_FOR_S + 120) * 1000);
});
