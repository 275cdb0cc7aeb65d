// When the simulator looks at the devices' clocks, and which ones: the accuracy censuses (an even sample of the
// fleet at fixed virtual times, denser right after a recovery) and the trace of a few chosen devices.

export interface ObservationPlan {
  /** |corrected error| under this many seconds counts as "within target". */
  targetS: number;
  /**
   * Every stride-th device (by global number) is looked at by a census. Reading every device at every census
   * costs more than simulating it; a few thousand devices give the share to a few tenths of a percent.
   */
  stride: number;
  /**
   * The same for the censuses after a recovery, which look at more devices: the goals there ("99 % within target
   * 30 min after the server returns") are judged on a share near 99 %, where 2,000 devices leave ±0.3 % of noise.
   */
  recoveryStride: number;
  /** Census times, ascending; censusRegular[k] is 1 for the evenly spaced ones (the mean share is over those). */
  censusAtMs: Float64Array;
  censusRegular: Uint8Array;
  /** The scenario's recovery moment, Infinity if it has none: every device is looked at then. */
  recoveryMs: number;
  /** Devices (global numbers) whose true error is traced, at traceAtMs. */
  traceDevices: number[];
  traceAtMs: Float64Array;
}

/** Devices looked at per census, and per census after a recovery. */
export const CENSUS_DEVICES = 2000;
export const RECOVERY_CENSUS_DEVICES = 20000;
/** Regular censuses per run, at most: every 5 min on short runs, every 2.4 h on a month. */
const REGULAR_CENSUSES = 300;
const MIN_CENSUS_EVERY_MS = 300e3;
/** After a recovery, a census every minute for two hours: "within target 10 min after power returns". */
const RECOVERY_EVERY_MS = 60e3;
const RECOVERY_WINDOW_MS = 2 * 3600e3;

export interface ObservationOptions {
  devices: number;
  durationMs: number;
  targetS: number;
  /** The scenario's recovery moment, or Infinity. */
  recoveryMs: number;
  traceDevices: number[];
  traceEveryMs: number;
}

export function planObservations(o: ObservationOptions): ObservationPlan {
  const everyMs = Math.max(MIN_CENSUS_EVERY_MS, Math.ceil(o.durationMs / REGULAR_CENSUSES / MIN_CENSUS_EVERY_MS) * MIN_CENSUS_EVERY_MS);
  const times: { atMs: number; regular: number }[] = [];
  for (let atMs = everyMs; atMs <= o.durationMs; atMs += everyMs) times.push({ atMs: atMs, regular: 1 });
  if (o.recoveryMs < Infinity) {
    for (let atMs = o.recoveryMs; atMs <= Math.min(o.durationMs, o.recoveryMs + RECOVERY_WINDOW_MS); atMs += RECOVERY_EVERY_MS) times.push({ atMs: atMs, regular: 0 });
  }
  times.sort((a, b) => a.atMs - b.atMs || b.regular - a.regular);
  const trace: number[] = [];
  if (o.traceDevices.length > 0) {
    if (!(o.traceEveryMs >= 1000)) throw new Error('traceEveryMs: at least 1000');
    for (let atMs = o.traceEveryMs; atMs <= o.durationMs; atMs += o.traceEveryMs) trace.push(atMs);
  }
  for (const i of o.traceDevices) {
    if (!(i >= 0 && i < o.devices && Math.floor(i) === i)) throw new Error('traceDevices: device numbers from 0 to ' + (o.devices - 1));
  }
  return {
    targetS: o.targetS,
    stride: Math.max(1, Math.floor(o.devices / CENSUS_DEVICES)),
    recoveryStride: Math.max(1, Math.floor(o.devices / RECOVERY_CENSUS_DEVICES)),
    censusAtMs: Float64Array.from(times.map((t) => t.atMs)),
    censusRegular: Uint8Array.from(times.map((t) => t.regular)),
    recoveryMs: o.recoveryMs,
    traceDevices: o.traceDevices.slice(),
    traceAtMs: Float64Array.from(trace),
  };
}
