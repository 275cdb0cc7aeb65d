// The fleet half of `npm run bench`: the runs behind bench/RESULTS.md, their plots, and the markdown section.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CLOCKS } from '../../src/fleet/device-clocks';
import { seconds, worldOf } from '../../src/fleet/format';
import { DEFAULT_NETWORK } from '../../src/fleet/network';
import { powerOnBound } from '../../src/fleet/power-on-bound';
import { kisstimeScenarios } from './kisstime-scenarios';
import { accuracyChartSpec, loadChartSpec, peakLines, renderSvg, traceChartSpec } from './plots';
import { devicesWithDrifts } from './trace-devices';
import { POLICY_NAMES } from '../../src/fleet/policy';
import { BASELINES } from '../../src/fleet/policies/baselines';
import { runFleetParallel } from '../../src/fleet/run-fleet';
import { SCENARIO_NAMES, ScenarioName } from '../../src/fleet/scenarios';
import { DEFAULT_BATCH, FleetRunOptions } from '../../src/fleet/simulate';
import { FleetResult } from '../../src/fleet/summary';

export interface FleetBenchPlan {
  /** The speed run: Kisstime, steady state. */
  bigDevices: number;
  bigDays: number;
  /** Every scenario for every policy, all at this size. */
  matrixDevices: number;
  matrixDays: number;
  /** Kisstime's blackout again at the big size, to check the power-on bound at scale. */
  blackoutDevices: number;
  /** Hours of server outage and DNS failure in the matrix (the models retry every second: hours cost minutes). */
  matrixHours: number;
  /** A short run at a million devices (0 to skip): memory and the power-on bound at the size the structure is meant for. */
  millionDevices: number;
  millionDays: number;
  /** Kisstime alone in every scenario, long enough that the event hits a settled fleet: the time it keeps. */
  scenarioDevices: number;
  scenarioDays: number;
}

export const FULL_PLAN: FleetBenchPlan = { bigDevices: 100_000, bigDays: 30, matrixDevices: 10_000, matrixDays: 1, blackoutDevices: 100_000, matrixHours: 2, millionDevices: 1_000_000, millionDays: 0.25, scenarioDevices: 10_000, scenarioDays: 2 };

function num(v: number, digits = 0): string {
  if (v !== v) return '-';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function pct(v: number): string {
  return v === v ? num(v * 100, 1) + ' %' : '-';
}

function strip(r: FleetResult): object {
  const copy: { [k: string]: unknown } = { ...r };
  delete copy.loadSeries;
  delete copy.accuracySeries;
  delete copy.trace;
  // The minute-by-minute shares after a recovery are for plots; the file keeps the figures the tables quote.
  if (r.recovery) copy.recovery = { atS: r.recovery.atS, timeToWithinS: r.recovery.timeToWithinS, shareAt10Min: r.recovery.shareAt10Min, shareAt30Min: r.recovery.shareAt30Min, minutesTo99: r.recovery.minutesTo99 };
  return copy;
}

/** The traced devices of the big run: crystals across the static range. */
const TRACE_PPM = [-45, -15, 15, 45];
const TRACE_EVERY_MS = 120e3;
/** The trace plot's window: days 2 to 5, after the installs. */
const TRACE_FROM_H = 48;
const TRACE_TO_H = 120;

export async function runFleetBench(plan: FleetBenchPlan, outDir: string, log: (line: string) => void): Promise<{ markdown: string; json: object }> {
  const plotDir = join(outDir, 'plots');
  mkdirSync(plotDir, { recursive: true });
  const run = async (options: FleetRunOptions): Promise<FleetResult> => {
    const r = await runFleetParallel(options);
    log('  ' + r.policy + ' / ' + r.scenario + ' ' + num(r.devices) + ' x ' + r.days + ' d: ' + num(r.runtime.wallMs / 1000, 1) + ' s');
    return r;
  };

  log('fleet: ' + num(plan.bigDevices) + ' Kisstime devices x ' + plan.bigDays + ' days (steady)');
  const traced = devicesWithDrifts(1, DEFAULT_CLOCKS, Math.min(plan.bigDevices, 1000), TRACE_PPM);
  const big = await run({
    devices: plan.bigDevices, days: plan.bigDays, scenario: 'steady', policy: 'kisstime', trace: { devices: traced.map((t) => t.device), everyMs: TRACE_EVERY_MS },
  });
  log('fleet: ' + num(plan.blackoutDevices) + ' Kisstime devices, blackout');
  const bigBlackout = await run({ devices: plan.blackoutDevices, days: 1, scenario: 'blackout', policy: 'kisstime' });
  const million: FleetResult[] = [];
  if (plan.millionDevices > 0) {
    log('fleet: ' + num(plan.millionDevices) + ' Kisstime devices, blackout, ' + plan.millionDays + ' d');
    million.push(await run({ devices: plan.millionDevices, days: plan.millionDays, scenario: 'blackout', policy: 'kisstime' }));
  }
  log('fleet: every scenario x every policy, ' + num(plan.matrixDevices) + ' devices x ' + plan.matrixDays + ' d');
  const matrix: { [scenario: string]: FleetResult[] } = {};
  for (const scenario of SCENARIO_NAMES) {
    matrix[scenario] = [];
    for (const policy of POLICY_NAMES) {
      matrix[scenario].push(await run({ devices: plan.matrixDevices, days: plan.matrixDays, scenario: scenario, policy: policy, scenarioOptions: { hours: plan.matrixHours } }));
    }
  }

  log('fleet: Kisstime in every scenario, ' + num(plan.scenarioDevices) + ' devices x ' + plan.scenarioDays + ' d');
  const scenarios = await kisstimeScenarios(plan.scenarioDevices, plan.scenarioDays, run, big);

  const blackout = matrix.blackout;
  const eventH = blackout[0].eventAtS / 3600;
  const plots: { file: string; spec: object }[] = [
    {
      file: 'blackout-load.svg',
      spec: loadChartSpec(peakLines(blackout), {
        title: 'Mass power-on after a 1 h blackout: ' + num(plan.matrixDevices) + ' devices', fromH: eventH - 1, toH: eventH + 6,
        yTitle: 'peak requests/s at the busiest server (per ' + blackout[0].loadSeries.bucketS + ' s bucket)',
      }),
    },
    {
      file: 'outage-load.svg',
      spec: loadChartSpec(peakLines(matrix.outage), {
        title: 'All servers silent for ' + plan.matrixHours + ' h from hour ' + num(eventH) + ': ' + num(plan.matrixDevices) + ' devices', fromH: 0, toH: plan.matrixDays * 24,
        yTitle: 'peak requests/s at the busiest server (per ' + matrix.outage[0].loadSeries.bucketS + ' s bucket)',
      }),
    },
    {
      file: 'kisstime-30d-load.svg',
      spec: loadChartSpec([
        { name: 'peak second in bucket', atS: big.loadSeries.atS, perS: big.loadSeries.maxPerS },
        { name: 'mean over bucket', atS: big.loadSeries.atS, perS: big.loadSeries.meanPerS },
      ], {
        title: num(plan.bigDevices) + ' Kisstime devices, ' + plan.bigDays + ' days, steady state', fromH: 0, toH: plan.bigDays * 24,
        yTitle: 'requests/s at the busiest server (per ' + big.loadSeries.bucketS + ' s bucket)',
      }),
    },
    { file: 'accuracy-steady.svg', spec: accuracyChartSpec(matrix.steady, 'Share of devices within 100 ms of true time, steady state') },
    { file: 'accuracy-kisstime-30d.svg', spec: accuracyChartSpec([big], 'Kisstime, ' + num(plan.bigDevices) + ' devices, ' + plan.bigDays + ' days: share within 100 ms') },
  ];
  const traceToH = Math.min(TRACE_TO_H, plan.bigDays * 24);
  const traceFromH = Math.max(0, Math.min(TRACE_FROM_H, traceToH - 24));
  if (big.trace) {
    plots.push({
      file: 'trace-kisstime.svg',
      spec: traceChartSpec(big.trace, {
        title: 'Kisstime: true error of four devices\' corrected time, hours ' + traceFromH + '-' + traceToH, fromH: traceFromH, toH: traceToH, targetS: big.accuracy.targetS,
        label: (device) => {
          const t = traced.find((x) => x.device === device);
          return 'device ' + device + (t ? ' (crystal ' + (t.ppm >= 0 ? '+' : '') + num(t.ppm, 1) + ' ppm)' : '');
        },
      }),
    });
  }
  for (const p of plots) writeFileSync(join(plotDir, p.file), await renderSvg(p.spec));

  const md: string[] = [];
  const bound = powerOnBound(plan.matrixDevices, 299);
  md.push('## Fleet simulator', '');
  md.push('Every Kisstime device runs the real core `Scheduler` (src/core/scheduler.ts) with its own seeded random stream; the simulator ' +
    'carries out its decisions as an adapter does (send, resolve, persist, wake) against virtual servers whose replies are built with the ' +
    'core codec. The other clients are **models** of existing clients, labelled below with their source. Reproduce one row with ' +
    '`kisstime simulate --devices N --days D --scenario NAME --policy NAME [--json]`.', '');
  md.push('### Headline: peak server load after a mass power-on', '');
  md.push('All devices lose power at hour ' + num(eventH) + ' and come back in the same instant one hour later. Peak = the busiest second at the busiest server from the power cut on.', '');
  md.push('| client | devices | peak requests/s after power-on | p99 requests/s | requests per device per day |', '|---|---:|---:|---:|---:|');
  for (const r of million.concat([bigBlackout])) {
    md.push('| kisstime | ' + num(r.devices) + ' | **' + num(r.serverLoad.afterEvent.peakPerS) + '** (bound ' + num(powerOnBound(r.devices, 299)) + ') | ' +
      num(r.serverLoad.afterEvent.p99PerS) + ' | ' + num(r.requestsPerDevicePerDay.mean, 1) + (r.days < 1 ? ' (' + r.days + '-day run)' : '') + ' |');
  }
  for (const r of blackout) {
    md.push('| ' + r.policy + ' | ' + num(r.devices) + ' | **' + num(r.serverLoad.afterEvent.peakPerS) + '**' + (r.policy === 'kisstime' ? ' (bound ' + num(bound) + ')' : '') +
      ' | ' + num(r.serverLoad.afterEvent.p99PerS) + ' | ' + num(r.requestsPerDevicePerDay.mean, 1) + ' |');
  }
  md.push('', 'The bound: each device\'s first request after power-on falls at a random point of its 1-300 s startup window (the core adds the delay on top of any saved wait), ' +
    'so the load in one second is a sum of independent draws with mean at most N/299; the bound is the smallest count that all 299 seconds together exceed with probability under 10^-6 (Poisson tail). ' +
    'The CI test test/fleet/politeness.test.ts asserts it for 1,000 devices and checks that the models exceed it.', '');
  md.push('![server load after a blackout](fleet/plots/blackout-load.svg)', '');

  md.push(...scenarios.markdown);
  md.push('![true error of four devices over three days](fleet/plots/trace-kisstime.svg)', '');
  md.push('The plot follows four devices of the ' + num(big.devices) + '-device steady run, every ' + num(TRACE_EVERY_MS / 60e3) + ' min of virtual time: the true error of ' +
    'the corrected time (local clock plus the client\'s correction, against true time), and the error bound the client reported with each sample when it reports one ' +
    '(the `maxError` of a sample decision).', '');

  md.push('### Speed', '');
  md.push('| run | devices | virtual days | wall time | CPU time (all threads) | workers | events | events/s | peak RSS of the bench so far |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of [big, bigBlackout].concat(million)) {
    md.push('| ' + r.policy + ' / ' + r.scenario + ' | ' + num(r.devices) + ' | ' + r.days + ' | **' + num(r.runtime.wallMs / 1000, 1) + ' s** | ' + num(r.runtime.cpuMs / 1000, 1) + ' s | ' +
      r.runtime.workers + ' | ' + num(r.runtime.events) + ' | ' + num(r.runtime.eventsPerS) + ' | ' + num(r.runtime.maxRssMB) + ' MB |');
  }
  const wallS = big.runtime.wallMs / 1000;
  md.push('', 'Target: ' + num(plan.bigDevices) + ' devices x ' + plan.bigDays + ' days in under 60 s on this 2-core machine. This run: **' + num(wallS, 1) + ' s** wall, ' +
    (wallS < 60 ? 'within the target.' : '**not within the target**.') + ' CPU time over all threads was ' + num(big.runtime.cpuMs / 1000, 1) + ' s, i.e. about ' +
    num(big.runtime.cpuMs / 1000 / big.runtime.workers, 1) + ' s per core with both cores free; wall time above that is other work on the machine (load average above). ' +
    'That is ' + num(big.runtime.cpuMs * 1000 / big.runtime.events, 2) + ' µs of CPU per event, the real scheduler\'s work included (it is not shortcut): the time grows with the events, ' +
    'so a client that polls less simulates faster. A CPU profile (`node --cpu-prof`) splits it between the core and the simulator.');
  md.push('', 'The event queue is an indexed binary heap over device numbers in typed arrays (one entry per device); server load is counted in per-second ' +
    'typed-array buckets, never as per-request records; devices are simulated in batches of ' + DEFAULT_BATCH + ' (a small live heap is cheaper to run and to collect) and split ' +
    'across worker threads, one per core. Memory is one batch of live schedulers plus a few typed arrays per device (about 100 bytes per device), so 1M devices fit; ' +
    'time grows linearly with devices x days.', '');
  md.push('![Kisstime load over 30 days](fleet/plots/kisstime-30d-load.svg)', '');
  md.push('Kisstime, ' + num(big.devices) + ' devices x ' + big.days + ' days: peak ' + num(big.serverLoad.whole.peakPerS) + ' requests/s, p99 ' + num(big.serverLoad.whole.p99PerS) +
    ', mean ' + num(big.serverLoad.whole.meanPerS, 1) + '; ' + num(big.requestsPerDevicePerDay.mean, 1) + ' requests per device per day (p99 ' + num(big.requestsPerDevicePerDay.p99, 1) +
    '); time to first sync p50 ' + seconds(big.timeToFirstSyncS.p50) + ', p90 ' + seconds(big.timeToFirstSyncS.p90) + ', p99 ' + seconds(big.timeToFirstSyncS.p99) +
    ', max ' + seconds(big.timeToFirstSyncS.max) + '; within 100 ms: ' + pct(big.accuracy.meanWithinShare) + ' on average (lowest census ' + pct(big.accuracy.minWithinShare) + '); ' +
    num(big.dns.queries / big.devices / big.days, 1) + ' DNS lookups and ' + num((big.counters.persists ?? 0) / big.devices / big.days, 1) + ' state writes (persist decisions) per device per day.', '');
  md.push('![accuracy over 30 days](fleet/plots/accuracy-kisstime-30d.svg)', '');

  md.push('### Every scenario, every client (' + num(plan.matrixDevices) + ' devices, ' + plan.matrixDays + ' virtual day' + (plan.matrixDays > 1 ? 's' : '') + ')', '');
  md.push('Peak/p99/mean: requests per second at the busiest server over the whole run; "after event": peak from the scenario\'s event on. ' +
    'Resync: from the recovery moment (power back, servers back, DNS back) to each device\'s next accepted sample. Within 100 ms: share of powered device-time ' +
    'after installs settle. World: ' + worldOf(big) + '.', '');
  for (const scenario of SCENARIO_NAMES) {
    const rows = matrix[scenario as ScenarioName];
    md.push('#### ' + scenario + ': ' + rows[0].scenarioDescription, '');
    md.push('| client | peak/s | after event | p99/s | mean/s | req/device/day | first sync p50 / p99 | resync p50 / p99 | within 100 ms | after DENY | under 15 s floor | DNS queries |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      md.push('| ' + r.policy + ' | ' + num(r.serverLoad.whole.peakPerS) + ' | ' + num(r.serverLoad.afterEvent.peakPerS) + ' | ' + num(r.serverLoad.whole.p99PerS) + ' | ' +
        num(r.serverLoad.whole.meanPerS, 2) + ' | ' + num(r.requestsPerDevicePerDay.mean, 1) + ' | ' + seconds(r.timeToFirstSyncS.p50) + ' / ' + seconds(r.timeToFirstSyncS.p99) + ' | ' +
        (r.recoveryAtS > 0 ? seconds(r.timeToSyncAfterRecoveryS.p50) + ' / ' + seconds(r.timeToSyncAfterRecoveryS.p99) : '-') + ' | ' + pct(r.accuracy.meanWithinShare) + ' | ' +
        num(r.deny.requestsAfterDeny) + ' | ' + num(r.floorViolations) + ' | ' + num(r.dns.queries) + ' |');
    }
    md.push('');
  }
  md.push('![server load during an outage](fleet/plots/outage-load.svg)', '');
  md.push('![accuracy in steady state](fleet/plots/accuracy-steady.svg)', '');
  md.push('### What the numbers say, and what the model leaves out', '');
  md.push('- **Mass power-on.** Kisstime spreads a fleet over its 1-300 s startup window even when the saved state says "wait": the core adds the startup delay on top of the saved wait. ' +
    'Before that fix (found by this simulator) every device had saved its state moments after its last request, so all came back in the same second, 2048 s after power-on: ' +
    '998 of 1,000 devices in one second.');
  md.push('- **Time right after a reboot.** A device\'s clock runs on while it is off (as with an RTC, or a Node host\'s wall clock), and it saved that clock\'s reading ' +
    'with its state, so on power-on it hands the core the time it was off, as the Node adapter does with its state file: the saved waits move on by that much and the restored ' +
    'offset and drift keep the corrected time within the target before any request (the +10 min column). A board without such a clock passes 0 and waits out its saved interval instead.');
  md.push('- **Within 100 ms.** ' + pct(big.accuracy.meanWithinShare) + ' of powered device-time in the ' + num(big.devices) + '-device steady run, at ' +
    num(big.requestsPerDevicePerDay.mean, 1) + ' requests per device per day. The clock model corrects the frequency as well as the offset, so a ±50 ppm crystal ' +
    '(4.3 s a day) stays within the target between samples hours apart; a client that corrects only the offset can only poll more.');
  md.push('- **Outages.** Most devices keep time through a silent spell on their drift estimate. The few that drift out are back soon after the servers ' +
    'return: once a device has had time, its silence backoff doubles only up to 2^12 s (about 68 min; a device that never had an answer doubles up to the ' +
    'maximum interval), so it asks a silent server about 20 times a day, where a steady device asks about 4. The retries stay spread, since each device ' +
    'began backing off when it last needed time: the recovering server sees no surge.');
  md.push('- **Rate limiting.** 1,000 devices behind one NAT address exceed chrony\'s default limit (one response per 8 s per address) even at Kisstime\'s rate; the RATE kisses are honoured and the fleet slows down (fewer requests per device per day).');
  md.push('- **The world.** Each crystal has a static error (uniform in ±' + num(DEFAULT_CLOCKS.driftPpm) + ' ppm), a daily temperature swing (amplitude uniform in 0-' +
    num(DEFAULT_CLOCKS.diurnalPpm) + ' ppm, warmest mid-afternoon) and a random walk of its frequency (spread ' + num(DEFAULT_CLOCKS.wanderPpm, 2) + ' ppm over a day); its clock keeps running ' +
    'through power cuts, as with an RTC. Each device\'s path has a one-way delay of ' + num(DEFAULT_NETWORK.minDelayMs) + '-' + num(DEFAULT_NETWORK.maxDelayMs) + ' ms, uneven by up to ±' +
    num(DEFAULT_NETWORK.asymmetry * 100) + ' % between the directions (half the difference is an offset error no client can see), exponential queueing (mean ' + num(DEFAULT_NETWORK.jitterMeanMs) +
    ' ms) and ' + pct(DEFAULT_NETWORK.spikeChance) + ' of packets waiting in a full buffer (mean ' + num(DEFAULT_NETWORK.spikeMeanMs) + ' ms); ' + pct(DEFAULT_NETWORK.loss) + ' of exchanges are lost.');
  md.push('- **Left out.** Device timers run on true time (only the clocks that stamp T1/T4 drift); servers have unlimited capacity, and load is offered load (counted when sent, also while a server is down); ' +
    'chrony\'s suspension of limiting for clients that poll faster when unanswered is not modelled; the accuracy census looks at an even sample of about 2,000 devices (up to 20,000 in the two hours after a recovery); DNS answers (and failures) come back after 20 ms.');
  md.push('');
  md.push('### The clients', '');
  md.push('- **kisstime**: ' + big.policyLabel + ' (minimum interval 2048 s, maximum 131072 s, startup delay 1-300 s, two servers by DNS name, TTL 3600 s).');
  for (const name of Object.keys(BASELINES)) md.push('- **' + name + '**: ' + BASELINES[name].label + '.');
  md.push('');
  return {
    markdown: md.join('\n'),
    json: { big: strip(big), bigBlackout: strip(bigBlackout), kisstimeScenarios: scenarios.results.map(strip), matrix: SCENARIO_NAMES.map((s) => matrix[s].map(strip)) },
  };
}
