// RAM of an SNTP module on the real Espruino interpreter, measured the way a board loads it: the module is written to
// Storage in one run of the interpreter, and the next run in the same directory require()s it from there (so its
// function bodies stay in flash), starts it against a server on loopback and reads process.memory().usage (variables
// in use, after a garbage collection) at fixed moments. Used by the espruino bench and by the RAM budget test.

import { EspruinoBoard, type BoardRun } from '../../test/support/espruino';

export interface ModuleUnderTest {
  /** Storage file name, and so the name given to require(). */
  name: string;
  /** The Storage files it needs: the module itself under its name, and any module it loads. */
  files: { name: string; data: string }[];
  /**
   * Board-side JavaScript that starts the module M against the server and calls firstSync() once its first sync
   * is done (and sync() on every sync, where the module reports them).
   */
  start: string;
  /** Board-side JavaScript that stops it again. */
  stop: string;
}

export interface MemoryPlan {
  /** A reading every seriesEveryS seconds from the first sync on, until seriesForS. */
  seriesEveryS: number;
  seriesForS: number;
  /** Then, if above 0, the peak: the sampler runs every 5 ms for this long (make it longer than a poll interval). */
  peakForS: number;
}

export interface MemoryReadings {
  module: string;
  /** Variables in use before require(), with this script's own variables (identical for every module). */
  base: number;
  /** What the module uses on top of base, in variables. */
  afterRequire: number;
  afterStart: number;
  /** Readings after the first sync: [seconds since the first sync (half a second more, see OFF_GRID_MS), variables over base]. */
  series: [number, number][];
  /** The highest reading while the sampler ran, over base and without the sampler's own variables; null if not run. */
  peak: number | null;
  /** Syncs the module reported (Kisstime's sync events; 1 for a module that reports only its first). */
  reportedSyncs: number;
  /** The interpreter's process.version. */
  interpreter: string;
}

/**
 * The readings are taken this far off the whole seconds after the first sync. A module that polls on a fixed grid
 * from its first sync (sntp's setInterval) would otherwise be mid-sync at every reading where the two grids meet.
 */
const OFF_GRID_MS = 500;

/**
 * The measuring script. Everything it uses is declared before the first reading (Espruino does not hoist), every
 * reading is taken in a timer callback or at top level, and nothing is printed between a reading and its use.
 */
export function memoryScript(m: ModuleUnderTest, plan: MemoryPlan): string {
  return `var M = null, handle = null, t0 = 0, n = 0, syncs = 0, sampler = null, peak = 0, over = 0, u = 0;
function used() { return process.memory().usage; }
function out(what, value) { print("@mem " + what + " " + value); }
function sample() { u = used(); if (u > peak) peak = u; }
function finish() { ${m.stop}; out("syncs", syncs); out("done", 0); }
function endPeak() { clearInterval(sampler); sampler = null; out("peak", peak - over); finish(); }
function startPeak() { over = used(); sampler = setInterval(sample, 5); u = used(); over = u - over; peak = 0; setTimeout(endPeak, ${plan.peakForS * 1000}); }
function point() {
  u = used(); n++;
  out("at", (n * ${plan.seriesEveryS}) + "," + u);
  if (n * ${plan.seriesEveryS} < ${plan.seriesForS}) setTimeout(point, ${plan.seriesEveryS * 1000});
  else if (${plan.peakForS} > 0) startPeak();
  else finish();
}
function firstSync() { if (t0) return; t0 = 1; setTimeout(point, ${plan.seriesEveryS * 1000 + OFF_GRID_MS}); }
function sync() { syncs++; firstSync(); }
out("version", process.version);
u = used(); out("base", u);
M = require(${JSON.stringify(m.name)});
u = used(); out("required", u);
${m.start};
u = used(); out("started", u);
`;
}

function parseReadings(module: string, run: BoardRun): MemoryReadings {
  const values = new Map<string, string[]>();
  for (const line of run.lines()) {
    const match = /^@mem (\w+) (.*)$/.exec(line.text);
    if (match) values.set(match[1], [...(values.get(match[1]) ?? []), match[2]]);
  }
  const one = (key: string): number => {
    const v = values.get(key);
    if (!v) throw new Error(`${module}: no "@mem ${key}" reading\n${run.tail()}`);
    return Number(v[0]);
  };
  const base = one('base');
  // The board already took the sampler's own variables (its interval timer) out of the peak.
  const peak = values.has('peak') ? one('peak') : null;
  return {
    module,
    base,
    afterRequire: one('required') - base,
    afterStart: one('started') - base,
    series: (values.get('at') ?? []).map((v) => {
      const [t, used] = v.split(',').map(Number);
      return [t, used - base];
    }),
    peak: peak === null ? null : peak - base,
    reportedSyncs: one('syncs'),
    interpreter: (values.get('version') ?? ['?'])[0],
  };
}

/**
 * Measures one module on a fresh board: one run writes it to Storage, the next require()s it from there. Resolves
 * when the plan is done; the board is removed either way.
 */
export async function measureModule(m: ModuleUnderTest, plan: MemoryPlan, label: string): Promise<MemoryReadings> {
  const board = EspruinoBoard.fresh(label);
  try {
    await board.flash(m.files);
    const run = board.boot({ script: memoryScript(m, plan) });
    await run.waitForLine(/^@mem done /, (plan.seriesForS + plan.peakForS + 120) * 1000);
    if (run.uncaught().length > 0) throw new Error(`${label}: uncaught on the board\n${run.tail()}`);
    await run.kill();
    return parseReadings(m.name, run);
  } finally {
    await board.remove();
  }
}
