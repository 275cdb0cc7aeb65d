// Each device's own clock, as a cheap crystal keeps it: a start error, a static frequency error, a daily
// temperature swing and a slow random wander of the frequency. The clock's error at true time t is the start
// error plus the integral of its frequency error up to t; what the device believes after correction is up to
// its policy.

import { unitHash } from './random';

export interface ClockOptions {
  /** Static frequency error: uniform in ±driftPpm per device. */
  driftPpm: number;
  /**
   * Daily temperature term: a sine of one day's period whose amplitude is uniform in 0..diurnalPpm per device (a
   * 10 °C swing moves a tuning-fork crystal a few ppm), warmest in the afternoon.
   */
  diurnalPpm: number;
  /** Random-walk wander: the standard deviation of the frequency's change over one day (ppm). */
  wanderPpm: number;
  /** The error at time zero: uniform in ±startErrorS. */
  startErrorS: number;
}

export const DEFAULT_CLOCKS: ClockOptions = { driftPpm: 50, diurnalPpm: 2, wanderPpm: 0.5, startErrorS: 2 };

const DAY_MS = 86400e3;
/** The wander's frequency holds for one segment and then takes a step: fine enough for an hourly random walk. */
const SEGMENT_MS = 3600e3;
const SEGMENT_S = SEGMENT_MS / 1000;
const OMEGA_PER_S = 2 * Math.PI / (DAY_MS / 1000);
/** Warmest at 15:00 virtual time give or take 3 h: devices in one region share the weather, not the room. */
const WARMEST_S = 15 * 3600;
const WARMEST_SPREAD_S = 3 * 3600;

const SALT_DRIFT = 31;
const SALT_START = 32;
const SALT_DIURNAL = 33;
const SALT_PHASE = 34;
const SALT_WANDER = 35;

function checkOptions(o: ClockOptions): void {
  if (!(o.driftPpm >= 0 && o.driftPpm <= 1000)) throw new Error('driftPpm: 0 to 1000 ppm');
  if (!(o.diurnalPpm >= 0 && o.diurnalPpm <= 100)) throw new Error('diurnalPpm: 0 to 100 ppm');
  if (!(o.wanderPpm >= 0 && o.wanderPpm <= 100)) throw new Error('wanderPpm: 0 to 100 ppm per day');
  if (!(o.startErrorS >= 0)) throw new Error('startErrorS: 0 or more seconds');
}

export class DeviceClocks {
  /** The first device (global number) held here; arrays are indexed by device - base. */
  readonly base: number;
  private readonly seed: number;
  private readonly staticDrift: Float64Array;
  private readonly startErrorS: Float64Array;
  /**
   * The temperature term amplitude·sin(ωt + φ) integrates to A·(cos φ − cos(ωt + φ)) with A = amplitude / ω: kept
   * as A (seconds), A·cos φ and φ.
   */
  private readonly diurnalS: Float64Array;
  private readonly diurnalAtZeroS: Float64Array;
  private readonly diurnalPhase: Float64Array;
  /** Each wander step is uniform in ±wanderStep (s/s): the variance of a day's 24 steps is wanderPpm². */
  private readonly wanderStep: number;
  /**
   * The wander, walked lazily per device: the segment it was last read in, its frequency there and the error the
   * wander had built up by that segment's start. Reads come in nearly time order, so a read walks a few segments.
   */
  private readonly segment: Int32Array;
  private readonly segmentFreq: Float64Array;
  private readonly segmentErrorS: Float64Array;

  constructor(base: number, count: number, seed: number, options: ClockOptions) {
    checkOptions(options);
    this.base = base;
    this.seed = seed;
    this.staticDrift = new Float64Array(count);
    this.startErrorS = new Float64Array(count);
    this.diurnalS = new Float64Array(count);
    this.diurnalAtZeroS = new Float64Array(count);
    this.diurnalPhase = new Float64Array(count);
    this.segment = new Int32Array(count);
    this.segmentFreq = new Float64Array(count);
    this.segmentErrorS = new Float64Array(count);
    // A uniform step in ±a has variance a²/3; 24 of them a day make wanderPpm² when a = wanderPpm·√(3/24).
    this.wanderStep = options.wanderPpm * 1e-6 * Math.sqrt(3 * SEGMENT_MS / DAY_MS);
    for (let k = 0; k < count; k++) {
      const i = base + k;
      this.staticDrift[k] = (unitHash(seed, i, SALT_DRIFT) * 2 - 1) * options.driftPpm * 1e-6;
      this.startErrorS[k] = (unitHash(seed, i, SALT_START) * 2 - 1) * options.startErrorS;
      const warmestS = WARMEST_S + (unitHash(seed, i, SALT_PHASE) * 2 - 1) * WARMEST_SPREAD_S;
      // sin(ωt + φ) peaks where ωt + φ = π/2.
      const phase = Math.PI / 2 - OMEGA_PER_S * warmestS;
      this.diurnalS[k] = unitHash(seed, i, SALT_DIURNAL) * options.diurnalPpm * 1e-6 / OMEGA_PER_S;
      this.diurnalAtZeroS[k] = this.diurnalS[k] * Math.cos(phase);
      this.diurnalPhase[k] = phase;
    }
  }

  /** The static frequency error (s/s; 50 ppm = 5e-5), without the temperature term and the wander. */
  staticDriftOf(device: number): number {
    return this.staticDrift[device - this.base];
  }

  /** How far the device's own clock is ahead of true time at true time atMs (s). */
  errorS(device: number, atMs: number): number {
    const k = device - this.base;
    const atS = atMs / 1000;
    const diurnalS = this.diurnalAtZeroS[k] - this.diurnalS[k] * Math.cos(OMEGA_PER_S * atS + this.diurnalPhase[k]);
    return this.startErrorS[k] + this.staticDrift[k] * atS + diurnalS + this.wanderErrorS(k, atMs);
  }

  private wanderErrorS(k: number, atMs: number): number {
    if (this.wanderStep === 0) return 0;
    const target = Math.floor(atMs / SEGMENT_MS);
    let segment = this.segment[k];
    // Most reads fall in the segment of the read before (a request and its reply, a census).
    if (segment === target) return this.segmentErrorS[k] + this.segmentFreq[k] * (atMs - segment * SEGMENT_MS) / 1000;
    let freq = this.segmentFreq[k];
    let errorS = this.segmentErrorS[k];
    const device = this.base + k;
    while (segment < target) {
      errorS += freq * SEGMENT_S;
      segment++;
      freq += this.stepAt(device, segment);
    }
    // A read may lag the last one by a reply's flight time, which can cross back over a segment boundary.
    while (segment > target && segment > 0) {
      freq -= this.stepAt(device, segment);
      segment--;
      errorS -= freq * SEGMENT_S;
    }
    this.segment[k] = segment;
    this.segmentFreq[k] = freq;
    this.segmentErrorS[k] = errorS;
    return errorS + freq * (atMs / 1000 - segment * SEGMENT_S);
  }

  /** The frequency step taken at the start of a segment: fixed by (seed, device, segment), so walking back undoes it. */
  private stepAt(device: number, segment: number): number {
    return (unitHash(this.seed, device, SALT_WANDER + segment * 64) * 2 - 1) * this.wanderStep;
  }
}
