// Per-device facts the metrics need, in typed arrays: when each device first came up and first had time, when it
// had time again and was back within target after the scenario's recovery moment, counts from the fleet-wide
// accuracy census, and the trace of a few chosen devices.

import { ObservationPlan } from './observations';

export class FleetRecorder {
  /** The first device (global number) held here; arrays are indexed by device - base. */
  readonly base: number;
  readonly count: number;
  readonly firstOnMs: Float64Array;
  readonly firstSyncMs: Float64Array;
  /** The first sync at or after the recovery moment (power back, servers back). */
  readonly syncAfterRecoveryMs: Float64Array;
  /**
   * The first moment at or after the recovery moment when the device's corrected time was within target, looked at
   * the recovery moment itself and after each of the device's own events (Infinity: never seen within).
   */
  readonly withinAfterRecoveryMs: Float64Array;
  readonly powered: Uint8Array;
  readonly recoveryMs: number;
  /** Counts at each census of plan.censusAtMs: devices looked at that were powered, had time, were within target. */
  readonly censusPowered: Uint32Array;
  readonly censusSynced: Uint32Array;
  readonly censusWithin: Uint32Array;
  /**
   * The traced devices held here, and per traced device its true error at each trace time (NaN: no time, or off),
   * and the error bound the client reported, as (time, bound) pairs at the moments it reported one.
   */
  readonly traced: number[];
  readonly traceErrorS: Float64Array[];
  readonly traceBounds: number[][];

  constructor(base: number, count: number, recoveryMs: number, plan: ObservationPlan) {
    this.base = base;
    this.count = count;
    this.firstOnMs = new Float64Array(count).fill(Infinity);
    this.firstSyncMs = new Float64Array(count).fill(Infinity);
    this.syncAfterRecoveryMs = new Float64Array(count).fill(Infinity);
    this.withinAfterRecoveryMs = new Float64Array(count).fill(Infinity);
    this.powered = new Uint8Array(count);
    this.recoveryMs = recoveryMs;
    const censuses = plan.censusAtMs.length;
    this.censusPowered = new Uint32Array(censuses);
    this.censusSynced = new Uint32Array(censuses);
    this.censusWithin = new Uint32Array(censuses);
    this.traced = plan.traceDevices.filter((i) => i >= base && i < base + count);
    this.traceErrorS = this.traced.map(() => new Float64Array(plan.traceAtMs.length).fill(NaN));
    this.traceBounds = this.traced.map(() => []);
  }

  poweredOn(device: number, nowMs: number): void {
    const k = device - this.base;
    this.powered[k] = 1;
    if (this.firstOnMs[k] === Infinity) this.firstOnMs[k] = nowMs;
  }

  poweredOff(device: number): void {
    this.powered[device - this.base] = 0;
  }

  isPowered(device: number): boolean {
    return this.powered[device - this.base] === 1;
  }

  /** A policy got a time sample it believes. */
  synced(device: number, nowMs: number): void {
    const k = device - this.base;
    if (this.firstSyncMs[k] === Infinity) this.firstSyncMs[k] = nowMs;
    if (nowMs >= this.recoveryMs && this.syncAfterRecoveryMs[k] === Infinity) this.syncAfterRecoveryMs[k] = nowMs;
  }

  /** The client reported an error bound (s) at nowMs: kept for traced devices only. */
  reportedBound(device: number, nowMs: number, boundS: number): void {
    const t = this.traced.indexOf(device);
    if (t >= 0) this.traceBounds[t].push(nowMs, boundS);
  }
}
