// From raw counts to the numbers a report quotes: load percentiles, per-device rates, sync-time distributions,
// the accuracy share over time.

import { bucketSeries, distribution, Distribution, loadStats, LoadStats, percentile } from './metrics';
import { ClockOptions } from './device-clocks';
import { PolicyName } from './policy';
import { ScenarioName } from './scenarios';
import { FleetRunOptions, planRun, RawRun } from './simulate';

export interface FleetResult {
  policy: PolicyName;
  policyLabel: string;
  scenario: ScenarioName;
  scenarioDescription: string;
  devices: number;
  days: number;
  seed: number;
  eventAtS: number;
  recoveryAtS: number;
  /** Requests per second at the busiest server, over the whole run and from the scenario's event on. */
  serverLoad: { server: number; whole: LoadStats; afterEvent: LoadStats; allServersPeakPerS: number; requestsPerServer: number[] };
  requests: number;
  requestsPerDevicePerDay: { mean: number; p50: number; p99: number; max: number };
  timeToFirstSyncS: Distribution;
  /** From the recovery moment (power back, servers back, DNS back) to each device's next sample. */
  timeToSyncAfterRecoveryS: Distribution;
  /** The world the run was in: the crystals and the network's loss. */
  clocks: ClockOptions;
  lossShare: number;
  accuracy: {
    targetS: number; censusDevices: number;
    /**
     * Share of powered device-time within target, estimated by the regular censuses once the installs are done (from
     * the end of the stagger window plus 1 h). A powered device without time counts as outside.
     */
    meanWithinShare: number; minWithinShare: number; finalWithinShare: number;
  };
  /** After the scenario's recovery moment (power back, servers back, DNS back); null where the scenario has none. */
  recovery: RecoveryResult | null;
  /** The traced devices' true error (s, null: no time) at atS, and the bounds their client reported; null when not asked. */
  trace: TraceResult | null;
  deny: { devicesDenied: number; requestsAfterDeny: number; devicesAskingAfterDeny: number };
  floorViolations: number;
  answered: number;
  kissesSent: { rate: number; deny: number };
  dns: { queries: number; peakPerS: number };
  counters: { [name: string]: number };
  /** maxRssMB: the peak resident memory of the whole process so far (every worker included). */
  runtime: { wallMs: number; cpuMs: number; workers: number; events: number; eventsPerS: number; maxRssMB: number };
  loadSeries: { bucketS: number; atS: number[]; maxPerS: number[]; meanPerS: number[] };
  accuracySeries: { atS: number[]; withinShare: number[]; syncedShare: number[] };
}

export interface RecoveryResult {
  atS: number;
  /** From the recovery moment to each device's first moment within target (0 if it never left). */
  timeToWithinS: Distribution;
  /** Devices looked at by each census after the recovery. */
  censusDevices: number;
  /** Share of powered devices within target, minute by minute for two hours after the recovery. */
  afterMinutes: number[];
  withinShare: number[];
  shareAt10Min: number;
  shareAt30Min: number;
  /** The first minute from which at least 99 % of powered devices were within target (NaN if not within two hours). */
  minutesTo99: number;
}

export interface TraceResult {
  atS: number[];
  devices: { device: number; errorS: (number | null)[]; bounds: { atS: number; boundS: number }[] }[];
}

function sumInto(target: Uint32Array, source: Uint32Array): void {
  for (let k = 0; k < target.length; k++) target[k] += source[k];
}

function sum(a: Uint32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k];
  return s;
}

/** How long a run took: wall time, and CPU time of the whole process (every worker thread included). */
export interface RunTiming {
  wallMs: number;
  cpuMs: number;
  workers: number;
}

export function summarize(options: FleetRunOptions, raws: RawRun[], timing: RunTiming, seriesPoints: number): FleetResult {
  const wallMs = timing.wallMs;
  const plan = planRun(options);
  const scenario = plan.scenario;
  const devices = options.devices;
  const servers = plan.network.servers;
  const first = raws[0];
  const seconds = first.dnsPerSecond.length;
  const load = new Uint32Array(first.loadPerSecond.length);
  const dns = new Uint32Array(seconds);
  const censusPowered = new Uint32Array(first.censusPowered.length);
  const censusWithin = new Uint32Array(first.censusPowered.length);
  const censusSynced = new Uint32Array(first.censusPowered.length);
  const perDevice = new Float64Array(devices);
  const firstSync = new Float64Array(devices);
  const afterRecovery = new Float64Array(devices);
  const backWithin = new Float64Array(devices);
  const counters: { [name: string]: number } = {};
  for (const raw of raws) {
    sumInto(load, raw.loadPerSecond);
    sumInto(dns, raw.dnsPerSecond);
    sumInto(censusPowered, raw.censusPowered);
    sumInto(censusSynced, raw.censusSynced);
    sumInto(censusWithin, raw.censusWithin);
    for (let k = 0; k < raw.count; k++) {
      const i = raw.base + k;
      perDevice[i] = raw.requestsByDevice[k] / options.days;
      firstSync[i] = (raw.firstSyncMs[k] - raw.firstOnMs[k]) / 1000;
      afterRecovery[i] = (raw.syncAfterRecoveryMs[k] - scenario.recoveryMs) / 1000;
      backWithin[i] = (raw.withinAfterRecoveryMs[k] - scenario.recoveryMs) / 1000;
    }
    for (const key of Object.keys(raw.counters)) counters[key] = (counters[key] ?? 0) + raw.counters[key];
  }

  const perServer: number[] = [];
  let busiest = 0;
  for (let s = 0; s < servers; s++) {
    perServer.push(sum(load.subarray(s * seconds, (s + 1) * seconds)));
    if (perServer[s] > perServer[busiest]) busiest = s;
  }
  const busiestRow = load.subarray(busiest * seconds, (busiest + 1) * seconds);
  const allServers = new Uint32Array(seconds);
  for (let s = 0; s < servers; s++) sumInto(allServers, load.subarray(s * seconds, (s + 1) * seconds));
  const eventS = Math.floor(scenario.eventMs / 1000);
  const perDeviceSorted = Float64Array.from(perDevice).sort();

  const observations = plan.observations;
  const settledMs = scenario.staggerMs + 3600e3;
  const atS: number[] = [];
  const within: number[] = [];
  const synced: number[] = [];
  const afterMinutes: number[] = [];
  const afterShare: number[] = [];
  let shareSum = 0;
  let shareCount = 0;
  let shareMin = 1;
  for (let k = 0; k < censusPowered.length; k++) {
    const atMs = observations.censusAtMs[k];
    // A census that found every looked-at device powered off says nothing about accuracy.
    const share = censusPowered[k] > 0 ? censusWithin[k] / censusPowered[k] : NaN;
    if (observations.censusRegular[k] === 0) {
      afterMinutes.push(Math.round((atMs - scenario.recoveryMs) / 60e3));
      afterShare.push(share);
      continue;
    }
    atS.push(atMs / 1000);
    within.push(share);
    synced.push(censusPowered[k] > 0 ? censusSynced[k] / censusPowered[k] : NaN);
    if (atMs < settledMs || share !== share) continue;
    shareSum += share;
    shareCount++;
    if (share < shareMin) shareMin = share;
  }
  let recovery: RecoveryResult | null = null;
  if (scenario.hasRecovery) {
    const shareAt = (minutes: number): number => {
      const k = afterMinutes.indexOf(minutes);
      return k >= 0 ? afterShare[k] : NaN;
    };
    let minutesTo99 = NaN;
    for (let k = afterShare.length - 1; k >= 0 && afterShare[k] >= 0.99; k--) minutesTo99 = afterMinutes[k];
    recovery = {
      atS: scenario.recoveryMs / 1000,
      timeToWithinS: distribution(backWithin),
      censusDevices: Math.ceil(devices / observations.recoveryStride),
      afterMinutes: afterMinutes,
      withinShare: afterShare,
      shareAt10Min: shareAt(10),
      shareAt30Min: shareAt(30),
      minutesTo99: minutesTo99,
    };
  }
  let trace: TraceResult | null = null;
  if (observations.traceDevices.length > 0) {
    trace = { atS: Array.from(observations.traceAtMs, (ms) => ms / 1000), devices: [] };
    for (const raw of raws) {
      for (let t = 0; t < raw.traced.length; t++) {
        const bounds: { atS: number; boundS: number }[] = [];
        const pairs = raw.traceBounds[t];
        for (let n = 0; n < pairs.length; n += 2) bounds.push({ atS: pairs[n] / 1000, boundS: pairs[n + 1] });
        trace.devices.push({ device: raw.traced[t], errorS: Array.from(raw.traceErrorS[t], (e) => (e === e ? e : null)), bounds: bounds });
      }
    }
    trace.devices.sort((a, b) => a.device - b.device);
  }

  const bucketS = Math.max(1, Math.ceil(seconds / seriesPoints));
  const series = bucketSeries(busiestRow, 0, seconds, bucketS);
  return {
    policy: plan.policy,
    policyLabel: first.policyLabel,
    scenario: scenario.name,
    scenarioDescription: scenario.description,
    devices: devices,
    days: options.days,
    seed: plan.seed,
    eventAtS: scenario.eventMs / 1000,
    recoveryAtS: scenario.recoveryMs / 1000,
    serverLoad: {
      server: busiest,
      whole: loadStats(busiestRow),
      afterEvent: loadStats(busiestRow.subarray(eventS)),
      allServersPeakPerS: loadStats(allServers).peakPerS,
      requestsPerServer: perServer,
    },
    requests: counters.requests,
    requestsPerDevicePerDay: {
      mean: counters.requests / devices / options.days,
      p50: percentile(perDeviceSorted, 0.5),
      p99: percentile(perDeviceSorted, 0.99),
      max: perDeviceSorted[devices - 1],
    },
    timeToFirstSyncS: distribution(firstSync),
    timeToSyncAfterRecoveryS: distribution(afterRecovery),
    clocks: plan.clocks,
    lossShare: plan.network.loss,
    accuracy: {
      targetS: observations.targetS,
      censusDevices: Math.ceil(devices / observations.stride),
      meanWithinShare: shareCount ? shareSum / shareCount : NaN,
      minWithinShare: shareCount ? shareMin : NaN,
      finalWithinShare: within.length ? within[within.length - 1] : NaN,
    },
    deny: { devicesDenied: counters.devicesDenied, requestsAfterDeny: counters.requestsAfterDeny, devicesAskingAfterDeny: counters.devicesAskingAfterDeny },
    floorViolations: counters.floorViolations,
    answered: counters.answered,
    kissesSent: { rate: counters.kissesRate, deny: counters.kissesDeny },
    dns: { queries: sum(dns), peakPerS: loadStats(dns).peakPerS },
    counters: counters,
    runtime: { wallMs: wallMs, cpuMs: timing.cpuMs, workers: timing.workers, events: counters.events, eventsPerS: wallMs > 0 ? counters.events / (wallMs / 1000) : 0, maxRssMB: process.resourceUsage().maxRSS / 1024 },
    loadSeries: { bucketS: bucketS, atS: series.atS, maxPerS: series.maxPerS, meanPerS: series.meanPerS },
    accuracySeries: { atS: atS, withinShare: within, syncedShare: synced },
    recovery: recovery,
    trace: trace,
  };
}
