// Per-device facts the metrics need, in typed arrays: when each device first came up and first had time,
// when it had time again after the scenario's event, and counts from the fleet-wide accuracy census.

export class FleetRecorder {
  /** The first device (global number) held here; arrays are indexed by device - base. */
  readonly base: number;
  readonly firstOnMs: Float64Array;
  readonly firstSyncMs: Float64Array;
  /** The first sync at or after the recovery moment (power back, servers back). */
  readonly syncAfterRecoveryMs: Float64Array;
  readonly powered: Uint8Array;
  readonly recoveryMs: number;
  /** Census k happens at (k + 1) * censusEveryMs; counts of devices looked at, powered, with time, within target. */
  readonly censusEveryMs: number;
  readonly censusPowered: Uint32Array;
  readonly censusSynced: Uint32Array;
  readonly censusWithin: Uint32Array;

  constructor(base: number, count: number, recoveryMs: number, censusEveryMs: number, durationMs: number) {
    this.base = base;
    this.firstOnMs = new Float64Array(count).fill(Infinity);
    this.firstSyncMs = new Float64Array(count).fill(Infinity);
    this.syncAfterRecoveryMs = new Float64Array(count).fill(Infinity);
    this.powered = new Uint8Array(count);
    this.recoveryMs = recoveryMs;
    this.censusEveryMs = censusEveryMs;
    const censuses = Math.floor(durationMs / censusEveryMs);
    this.censusPowered = new Uint32Array(censuses);
    this.censusSynced = new Uint32Array(censuses);
    this.censusWithin = new Uint32Array(censuses);
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
}
