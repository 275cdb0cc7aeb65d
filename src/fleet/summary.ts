// From raw counts to the numbers a report quotes: load percentiles, per-device rates, sync-time distributions,
// the accuracy share over time.

import { bucketSeries, distribution, Distribution, loadStats, LoadStats, percentile } from './metrics';
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
  accuracy: {
    targetS: number; driftPpm: number; censusEveryS: number; censusDevices: number;
    /** Over censuses once the installs are done (from the end of the stagger window plus 1 h). */
    meanWithinShare: number; minWithinShare: number; finalWithinShare: number;
  };
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

  const settledMs = scenario.staggerMs + 3600e3;
  const atS: number[] = [];
  const within: number[] = [];
  const synced: number[] = [];
  let shareSum = 0;
  let shareCount = 0;
  let shareMin = 1;
  for (let k = 0; k < censusPowered.length; k++) {
    const atMs = (k + 1) * plan.censusEveryMs;
    // A census that found every looked-at device powered off says nothing about accuracy.
    const share = censusPowered[k] > 0 ? censusWithin[k] / censusPowered[k] : NaN;
    atS.push(atMs / 1000);
    within.push(share);
    synced.push(censusPowered[k] > 0 ? censusSynced[k] / censusPowered[k] : NaN);
    if (atMs < settledMs || share !== share) continue;
    shareSum += share;
    shareCount++;
    if (share < shareMin) shareMin = share;
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
    accuracy: {
      targetS: options.targetS ?? 0.1,
      driftPpm: options.driftPpm ?? 50,
      censusEveryS: plan.censusEveryMs / 1000,
      censusDevices: Math.ceil(devices / plan.censusStride),
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
  };
}
