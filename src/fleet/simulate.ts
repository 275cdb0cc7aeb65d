// One fleet run: N devices, one policy, one scenario, D virtual days. Devices are simulated in batches (and
// optionally on worker threads); every batch adds into the same counters, so the result does not depend on
// the batching, and memory stays at one batch of live devices however large the fleet.

import { ClientConfigInput } from '../core';
import { DeviceClocks } from './device-clocks';
import { runEngine } from './engine';
import { FleetNetwork, DEFAULT_NETWORK, NetworkOptions } from './network';
import { BASELINES, BaselineFleet } from './policies/baselines';
import { kisstimeConfig, KisstimeFleet } from './policies/kisstime';
import { FleetPolicy, PolicyContext, PolicyName } from './policy';
import { FleetRecorder } from './recorder';
import { makeScenario, Scenario, ScenarioName, ScenarioOptions } from './scenarios';

export interface FleetRunOptions {
  devices: number;
  days: number;
  scenario: ScenarioName;
  policy?: PolicyName;
  seed?: number;
  scenarioOptions?: ScenarioOptions;
  network?: Partial<NetworkOptions>;
  /** Kisstime client configuration on top of the defaults (servers are set by the simulator). */
  kisstime?: ClientConfigInput;
  /** Clock frequency errors are uniform in ±driftPpm. Default 50. */
  driftPpm?: number;
  /** Accuracy target for "within target" (s). Default 0.1. */
  targetS?: number;
  /** Devices alive in memory at once. Default DEFAULT_BATCH. */
  batchSize?: number;
}

/**
 * Devices simulated together. Small batches keep the live heap small: each device's scheduler holds objects that
 * live for hours of virtual time, and a small heap keeps them cache-resident and cheap to collect (measured:
 * 100 devices per batch ran about twice as fast as 10,000).
 */
export const DEFAULT_BATCH = 100;

/** Devices looked at per accuracy census (see CensusPlan). */
export const CENSUS_DEVICES = 2000;

/** Everything one range of devices produced, as summable raw counts. */
export interface RawRun {
  base: number;
  count: number;
  policyLabel: string;
  loadPerSecond: Uint32Array;
  dnsPerSecond: Uint32Array;
  requestsByDevice: Uint32Array;
  firstOnMs: Float64Array;
  firstSyncMs: Float64Array;
  syncAfterRecoveryMs: Float64Array;
  censusPowered: Uint32Array;
  censusSynced: Uint32Array;
  censusWithin: Uint32Array;
  counters: { [name: string]: number };
}

export interface RunPlan {
  scenario: Scenario;
  network: NetworkOptions;
  policy: PolicyName;
  seed: number;
  censusEveryMs: number;
  censusStride: number;
  /** Ranges must keep a NAT address's devices together (its rate-limit bucket is shared). */
  groupSize: number;
}

export function planRun(options: FleetRunOptions): RunPlan {
  const devices = options.devices;
  if (!(devices >= 1 && devices <= 10_000_000 && Math.floor(devices) === devices)) throw new Error('devices: a whole number from 1 to 10,000,000');
  if (!(options.days > 0 && options.days <= 366)) throw new Error('days: more than 0 and at most 366');
  const seed = options.seed ?? 1;
  const scenario = makeScenario(options.scenario, options.days, seed, options.scenarioOptions ?? {});
  const network: NetworkOptions = { ...DEFAULT_NETWORK, ...options.network };
  if (!(network.servers >= 1 && network.servers <= 4)) throw new Error('network.servers: 1 to 4');
  return {
    scenario: scenario,
    network: network,
    policy: options.policy ?? 'kisstime',
    seed: seed,
    // A census every 5 min on short runs, every few hours on a month: at most about 300 of them.
    censusEveryMs: Math.max(300e3, Math.ceil(scenario.durationMs / 300 / 300e3) * 300e3),
    censusStride: Math.max(1, Math.floor(devices / CENSUS_DEVICES)),
    groupSize: scenario.rateLimit ? scenario.rateLimit.devicesPerAddress : 1,
  };
}

function makePolicy(plan: RunPlan, context: PolicyContext, kisstime: ClientConfigInput): FleetPolicy {
  if (plan.policy === 'kisstime') return new KisstimeFleet(context, kisstimeConfig(plan.network.servers, kisstime));
  const model = BASELINES[plan.policy];
  if (!model) throw new Error('policy: unknown ' + JSON.stringify(plan.policy) + ' (kisstime, arduino, router-2003, daily, lwip-rr)');
  return new BaselineFleet(context, model);
}

/** Simulates devices base .. base + count - 1, in batches. */
export function simulateRange(options: FleetRunOptions, base: number, count: number): RawRun {
  const plan = planRun(options);
  const scenario = plan.scenario;
  const network = new FleetNetwork(base, count, scenario, plan.network, plan.seed);
  const clocks = new DeviceClocks(base, count, plan.seed, options.driftPpm ?? 50, 2);
  const recorder = new FleetRecorder(base, count, scenario.recoveryMs, plan.censusEveryMs, scenario.durationMs);
  const census = { targetS: options.targetS ?? 0.1, stride: plan.censusStride };
  const group = plan.groupSize;
  const batch = Math.max(group, Math.round((options.batchSize ?? DEFAULT_BATCH) / group) * group);
  const counters: { [name: string]: number } = { events: 0, powerEvents: 0 };
  let label = '';
  for (let lo = base; lo < base + count; lo += batch) {
    const n = Math.min(batch, base + count - lo);
    const context: PolicyContext = { base: lo, count: n, seed: plan.seed, network: network, clocks: clocks, recorder: recorder };
    const policy = makePolicy(plan, context, options.kisstime ?? {});
    label = policy.label;
    const stats = runEngine(lo, n, scenario, policy, recorder, census);
    network.flushCounts();
    counters.events += stats.events;
    counters.powerEvents += stats.powerEvents;
    const pc = policy.counters();
    for (const key of Object.keys(pc)) counters[key] = (counters[key] ?? 0) + pc[key];
  }
  counters.requests = network.requests;
  counters.answered = network.answered;
  counters.kissesRate = network.kissesRate;
  counters.kissesDeny = network.kissesDeny;
  counters.floorViolations = network.floorViolations;
  counters.requestsAfterDeny = network.requestsAfterDeny;
  counters.devicesDenied = network.devicesDenied;
  counters.devicesAskingAfterDeny = network.devicesAskingAfterDeny;
  return {
    base: base,
    count: count,
    policyLabel: label,
    loadPerSecond: network.loadPerSecond,
    dnsPerSecond: network.dnsPerSecond,
    requestsByDevice: network.requestsByDevice,
    firstOnMs: recorder.firstOnMs,
    firstSyncMs: recorder.firstSyncMs,
    syncAfterRecoveryMs: recorder.syncAfterRecoveryMs,
    censusPowered: recorder.censusPowered,
    censusSynced: recorder.censusSynced,
    censusWithin: recorder.censusWithin,
    counters: counters,
  };
}

/** Splits the fleet into contiguous ranges for workers, never splitting a NAT address's devices. */
export function splitFleet(devices: number, parts: number, groupSize: number): { base: number; count: number }[] {
  const groups = Math.ceil(devices / groupSize);
  const out: { base: number; count: number }[] = [];
  let done = 0;
  for (let p = 0; p < parts; p++) {
    const upto = Math.min(devices, Math.round(groups * (p + 1) / parts) * groupSize);
    if (upto > done) out.push({ base: done, count: upto - done });
    done = Math.max(done, upto);
  }
  return out;
}
