// Kisstime's RAM and flash budgets on the real interpreter (issue 12): running at most 400 variables, measured as
// the espruino bench measures them (bench/espruino/measure.ts: loaded from Storage, 60 s after the first sync,
// over the level before require()), no growth while it runs, and at most 10,240 bytes of minified bundle.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureModule, type MemoryReadings } from '../../bench/espruino/measure';
import { kisstimeModule, SYNC_EVERY_S } from '../../bench/espruino/modules';
import { startChronyd, type Chronyd } from '../support/chronyd';
import { firmware } from '../support/firmware-build';
import { prepare } from './boards';

const RUNNING_BUDGET_VARS = 400;
const FLASH_BUDGET_BYTES = 10240;
const RUNNING_AT_S = 60;
/** Long enough for more than seven syncs after the running reading. */
const WATCH_FOR_S = 150;

describe('RAM and flash budgets on the real interpreter', () => {
  let chronyd: Chronyd;
  let readings: Promise<MemoryReadings>;

  beforeAll(async () => {
    await prepare();
    chronyd = await startChronyd({ label: 'espruino-budget', commandSocket: true });
    const fw = await firmware();
    // One measurement serves both RAM tests; it runs while the flash test runs.
    readings = measureModule(kisstimeModule(fw.minified, chronyd.address, chronyd.port), { seriesEveryS: 20, seriesForS: WATCH_FOR_S, peakForS: 0 }, 'budget');
    readings.catch(() => undefined);
  });
  afterAll(async () => {
    await readings?.catch(() => undefined);
    await chronyd?.stop();
  });

  it(`flash: the minified bundle is at most ${FLASH_BUDGET_BYTES} bytes`, async () => {
    const fw = await firmware();
    console.log(`kisstime.min.js: ${fw.minifiedBytes} bytes (budget ${FLASH_BUDGET_BYTES}, goal 8192)`);
    expect(fw.minifiedBytes).toBeLessThanOrEqual(FLASH_BUDGET_BYTES);
  });

  it(`running: at most ${RUNNING_BUDGET_VARS} variables ${RUNNING_AT_S} s after the first sync`, async () => {
    const r = await readings;
    const running = r.series.find(([t]) => t === RUNNING_AT_S);
    console.log(`kisstime on the interpreter, variables over the ${r.base} in use before require(): after require ${r.afterRequire}, `
      + `after start ${r.afterStart}, then every 20 s from the first sync: ${r.series.map(([, v]) => v).join(', ')}`);
    expect(running?.[1]).toBeLessThanOrEqual(RUNNING_BUDGET_VARS);
  }, (WATCH_FOR_S + 120) * 1000);

  it(`flat: no growth from ${RUNNING_AT_S} s to ${WATCH_FOR_S} s after the first sync, with a sync every ${SYNC_EVERY_S} s`, async () => {
    const r = await readings;
    const running = r.series.filter(([t]) => t >= RUNNING_AT_S).map(([, v]) => v);
    expect(r.reportedSyncs).toBeGreaterThanOrEqual(Math.floor(WATCH_FOR_S / (SYNC_EVERY_S * 1.1)));
    expect(Math.max(...running), `readings from ${RUNNING_AT_S} s on: ${running.join(', ')}`).toBeLessThanOrEqual(running[0]);
  }, (WATCH_FOR_S + 120) * 1000);
});
