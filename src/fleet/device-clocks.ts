// Each device's own clock: a start error and a frequency error (drift), as a cheap crystal has.
// The clock's error at true time t is start + drift * t; what the device believes after correction is
// up to its policy.

import { unitHash } from './random';

export class DeviceClocks {
  /** The first device (global number) held here; arrays are indexed by device - base. */
  readonly base: number;
  private readonly drift: Float64Array;
  private readonly startErrorS: Float64Array;

  constructor(base: number, count: number, seed: number, driftPpm: number, startErrorS: number) {
    this.base = base;
    this.drift = new Float64Array(count);
    this.startErrorS = new Float64Array(count);
    for (let k = 0; k < count; k++) {
      this.drift[k] = (unitHash(seed, base + k, 31) * 2 - 1) * driftPpm * 1e-6;
      this.startErrorS[k] = (unitHash(seed, base + k, 32) * 2 - 1) * startErrorS;
    }
  }

  /** Seconds of error per second (50 ppm = 5e-5). */
  driftOf(device: number): number {
    return this.drift[device - this.base];
  }

  /** How far the device's own clock is ahead of true time at true time atMs (s). */
  errorS(device: number, atMs: number): number {
    const k = device - this.base;
    return this.startErrorS[k] + this.drift[k] * atMs / 1000;
  }
}
