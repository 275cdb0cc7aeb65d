// The discrete-event loop in virtual time for one batch of devices. One heap entry per device (its next event),
// power switched by the scenario, and the observations (accuracy censuses, the recovery sweep, traces) at their
// virtual times, always before any event at the same time. Nothing here knows how a policy polls.

import { DeviceHeap } from './event-heap';
import { ObservationPlan } from './observations';
import { FleetPolicy } from './policy';
import { FleetRecorder } from './recorder';
import { Scenario } from './scenarios';

export interface EngineStats {
  events: number;
  powerEvents: number;
}

/** Where a batch reports how far it got: device-milliseconds of virtual time simulated, and events handled. */
export interface ProgressSink {
  advance(deviceMs: number, events: number): void;
}

/** Events between two progress reports: rare enough to cost nothing, often enough to be live (a few per second). */
const REPORT_EVERY_EVENTS = 1 << 16;

/** Simulates devices base .. base + count - 1 from time 0 to the end of the scenario. */
export function runEngine(
  base: number, count: number, scenario: Scenario, policy: FleetPolicy, recorder: FleetRecorder, plan: ObservationPlan, progress: ProgressSink | null,
): EngineStats {
  const heap = new DeviceHeap(count);
  const powerAtMs = new Float64Array(count);
  const on = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    powerAtMs[k] = scenario.firstOnMs(base + k);
    heap.set(k, powerAtMs[k]);
  }
  const endMs = scenario.durationMs;
  const targetS = plan.targetS;
  const recoveryMs = plan.recoveryMs;
  const withinAfterRecovery = recorder.withinAfterRecoveryMs;
  const kBase = base - recorder.base;
  const censusAtMs = plan.censusAtMs;
  const traceAtMs = plan.traceAtMs;
  const traced = recorder.traced.filter((i) => i >= base && i < base + count);
  let nextCensus = 0;
  let nextTrace = traced.length > 0 ? 0 : traceAtMs.length;
  let sweepDone = !(recoveryMs < Infinity);
  let events = 0;
  let powerEvents = 0;
  let reportedEvents = 0;
  let reportedMs = 0;
  let observeMs = observeAt(plan, nextCensus, nextTrace, sweepDone);
  for (;;) {
    const atMs = heap.topKey();
    if (atMs >= observeMs) {
      if (!sweepDone && observeMs === recoveryMs) {
        sweepDone = true;
        recoverySweep(base, count, policy, recorder, recoveryMs, targetS);
      } else if (nextCensus < censusAtMs.length && censusAtMs[nextCensus] === observeMs) {
        takeCensus(base, count, policy, recorder, nextCensus, observeMs, plan);
        nextCensus++;
      } else {
        for (const i of traced) recorder.traceErrorS[recorder.traced.indexOf(i)][nextTrace] = policy.clockErrorS(i, observeMs);
        nextTrace++;
      }
      observeMs = observeAt(plan, nextCensus, nextTrace, sweepDone);
      continue;
    }
    if (atMs >= endMs) break;
    const k = heap.top();
    const i = base + k;
    let next: number;
    if (powerAtMs[k] <= atMs) {
      powerEvents++;
      if (on[k] === 1) {
        on[k] = 0;
        policy.powerOff(i, atMs);
        recorder.poweredOff(i);
        powerAtMs[k] = atMs + scenario.offForMs(i);
        next = Infinity;
      } else {
        on[k] = 1;
        recorder.poweredOn(i, atMs);
        policy.powerOn(i, atMs);
        powerAtMs[k] = scenario.nextOffMs(i, atMs);
        next = policy.nextAtMs(i);
      }
    } else {
      events++;
      policy.step(i, atMs);
      next = policy.nextAtMs(i);
      // While this device's next event (a reply 30 ms after its request, a DNS answer) still comes before every
      // other device's, the observations and its own power switch, popping it again would pick it anyway: take it now.
      let lastMs = atMs;
      const powerMs = powerAtMs[k];
      while (next < powerMs && next < endMs && next < observeMs && next < heap.secondKey()) {
        events++;
        policy.step(i, next);
        lastMs = next;
        next = policy.nextAtMs(i);
      }
      if (progress && events - reportedEvents >= REPORT_EVERY_EVENTS) {
        const doneMs = count * lastMs;
        progress.advance(doneMs - reportedMs, events - reportedEvents);
        reportedMs = doneMs;
        reportedEvents = events;
      }
    }
    // Back within target after the recovery: looked at after each of the device's own events while it is not yet.
    if (atMs >= recoveryMs && on[k] === 1 && withinAfterRecovery[kBase + k] === Infinity) {
      if (Math.abs(policy.clockErrorS(i, atMs)) < targetS) withinAfterRecovery[kBase + k] = atMs;
    }
    heap.set(k, next < powerAtMs[k] ? next : powerAtMs[k]);
  }
  if (progress) progress.advance(count * endMs - reportedMs, events - reportedEvents);
  return { events: events, powerEvents: powerEvents };
}

/** The next observation's time: census, trace or the recovery sweep, whichever comes first. */
function observeAt(plan: ObservationPlan, nextCensus: number, nextTrace: number, sweepDone: boolean): number {
  const c = nextCensus < plan.censusAtMs.length ? plan.censusAtMs[nextCensus] : Infinity;
  const t = nextTrace < plan.traceAtMs.length ? plan.traceAtMs[nextTrace] : Infinity;
  const r = sweepDone ? Infinity : plan.recoveryMs;
  return c < t ? (c < r ? c : r) : (t < r ? t : r);
}

function recoverySweep(base: number, count: number, policy: FleetPolicy, recorder: FleetRecorder, atMs: number, targetS: number): void {
  for (let i = base; i < base + count; i++) {
    if (!recorder.isPowered(i)) continue;
    if (Math.abs(policy.clockErrorS(i, atMs)) < targetS) recorder.withinAfterRecoveryMs[i - recorder.base] = atMs;
  }
}

function takeCensus(base: number, count: number, policy: FleetPolicy, recorder: FleetRecorder, index: number, atMs: number, plan: ObservationPlan): void {
  const stride = plan.censusRegular[index] === 1 ? plan.stride : plan.recoveryStride;
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
    if (Math.abs(e) < plan.targetS) within++;
  }
  recorder.censusPowered[index] += powered;
  recorder.censusSynced[index] += synced;
  recorder.censusWithin[index] += within;
}
