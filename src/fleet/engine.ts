// The discrete-event loop in virtual time for one batch of devices. One heap entry per device (its next event),
// power switched by the scenario, and an accuracy census at fixed virtual times. Nothing here knows how a
// policy polls.

import { DeviceHeap } from './event-heap';
import { FleetPolicy } from './policy';
import { FleetRecorder } from './recorder';
import { Scenario } from './scenarios';

export interface CensusPlan {
  /** |corrected error| under this many seconds counts as "within target". */
  targetS: number;
  /**
   * Every stride-th device (by global number) is looked at. Reading every device's filter at every census
   * costs more than simulating it; a few thousand devices give the share to about a percent.
   */
  stride: number;
}

export interface EngineStats {
  events: number;
  powerEvents: number;
}

/** Simulates devices base .. base + count - 1 from time 0 to the end of the scenario. */
export function runEngine(base: number, count: number, scenario: Scenario, policy: FleetPolicy, recorder: FleetRecorder, census: CensusPlan): EngineStats {
  const heap = new DeviceHeap(count);
  const powerAtMs = new Float64Array(count);
  const on = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    powerAtMs[k] = scenario.firstOnMs(base + k);
    heap.set(k, powerAtMs[k]);
  }
  const endMs = scenario.durationMs;
  const censusEveryMs = recorder.censusEveryMs;
  const censuses = recorder.censusPowered.length;
  let nextCensus = 0;
  let events = 0;
  let powerEvents = 0;
  for (;;) {
    const atMs = heap.topKey();
    if (nextCensus < censuses && atMs >= (nextCensus + 1) * censusEveryMs) {
      takeCensus(base, count, policy, recorder, nextCensus, census);
      nextCensus++;
      continue;
    }
    if (atMs >= endMs) break;
    const k = heap.top();
    const i = base + k;
    if (powerAtMs[k] <= atMs) {
      powerEvents++;
      if (on[k] === 1) {
        on[k] = 0;
        policy.powerOff(i, atMs);
        recorder.poweredOff(i);
        powerAtMs[k] = atMs + scenario.offForMs(i);
      } else {
        on[k] = 1;
        recorder.poweredOn(i, atMs);
        policy.powerOn(i, atMs);
        powerAtMs[k] = scenario.nextOffMs(i, atMs);
      }
    } else {
      events++;
      policy.step(i, atMs);
      // While this device's next event (a reply 30 ms after its request, a DNS answer) still comes before every
      // other device's, the census and its own power switch, popping it again would pick it anyway: take it now.
      const censusMs = nextCensus < censuses ? (nextCensus + 1) * censusEveryMs : Infinity;
      for (;;) {
        const next = policy.nextAtMs(i);
        if (!(next < powerAtMs[k] && next < endMs && next < censusMs && next < heap.secondKey())) break;
        events++;
        policy.step(i, next);
      }
    }
    const next = on[k] === 1 ? policy.nextAtMs(i) : Infinity;
    heap.set(k, next < powerAtMs[k] ? next : powerAtMs[k]);
  }
  return { events: events, powerEvents: powerEvents };
}

function takeCensus(base: number, count: number, policy: FleetPolicy, recorder: FleetRecorder, index: number, census: CensusPlan): void {
  const atMs = (index + 1) * recorder.censusEveryMs;
  const stride = census.stride;
  let powered = 0;
  let synced = 0;
  let within = 0;
  // The first device of this batch that is a multiple of the stride.
  for (let i = Math.ceil(base / stride) * stride; i < base + count; i += stride) {
    if (!recorder.isPowered(i)) continue;
    powered++;
    const e = policy.clockErrorS(i, atMs);
    if (e !== e) continue;
    synced++;
    if (Math.abs(e) < census.targetS) within++;
  }
  recorder.censusPowered[index] += powered;
  recorder.censusSynced[index] += synced;
  recorder.censusWithin[index] += within;
}
