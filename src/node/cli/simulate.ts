// kisstime simulate: the fleet simulator (src/fleet) from the command line. A thin wrapper: it parses flags,
// runs the simulation and prints the result; every number comes from src/fleet.

import { parseArgs } from 'node:util';
import { parseDurationS } from '../../core';
import { DEFAULT_CLOCKS } from '../../fleet/device-clocks';
import { formatResult } from '../../fleet/format';
import { DEFAULT_NETWORK } from '../../fleet/network';
import { POLICY_NAMES } from '../../fleet/policy';
import { PROGRESS_EVERY_MS, PROGRESS_SHOW_AFTER_MS, ProgressLine } from '../../fleet/progress';
import { runFleetParallel } from '../../fleet/run-fleet';
import { SCENARIO_NAMES } from '../../fleet/scenarios';
import { DEFAULT_TARGET_S } from '../../fleet/simulate';
import { CliIo, processIo } from './args';

const USAGE = 'usage: kisstime simulate --devices N --days D --scenario NAME [--policy NAME] [--json] [--seed S] [--workers W]\n'
  + '                         [--drift-ppm P] [--wander-ppm W] [--loss L] [--accuracy A]\n'
  + '  scenarios:    ' + SCENARIO_NAMES.join(', ') + '\n'
  + '  policies:     ' + POLICY_NAMES.join(', ') + ' (all but kisstime are models of existing clients)\n'
  + '  --drift-ppm   static crystal error, uniform in ±P ppm per device (default ' + DEFAULT_CLOCKS.driftPpm + '); each crystal also swings 0-' +
    DEFAULT_CLOCKS.diurnalPpm + ' ppm over the day\n'
  + '  --wander-ppm  random walk of the frequency: its spread over one day, ppm (default ' + DEFAULT_CLOCKS.wanderPpm + ')\n'
  + '  --loss        share of exchanges lost, 0 to below 1, or a percentage such as 1% (default ' + DEFAULT_NETWORK.loss + ')\n'
  + '  --accuracy    the error bound Kisstime devices are asked for, and the target for "within target", e.g. 100ms or 0.1 (seconds; default ' + DEFAULT_TARGET_S * 1000 + 'ms)\n';

const OPTIONS = {
  'devices': { type: 'string' }, 'days': { type: 'string' }, 'scenario': { type: 'string' }, 'policy': { type: 'string' },
  'seed': { type: 'string' }, 'workers': { type: 'string' }, 'drift-ppm': { type: 'string' }, 'wander-ppm': { type: 'string' },
  'loss': { type: 'string' }, 'accuracy': { type: 'string' }, 'json': { type: 'boolean' }, 'help': { type: 'boolean', short: 'h' },
} as const;

function positiveNumber(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
}

/** "0.01", "1%" or "1 %": a share. */
function share(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(text.trim());
  return m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
}

type Parsed = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: false; strict: true }>>;

export async function run(args: string[], io: CliIo = processIo()): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: args, options: OPTIONS, allowPositionals: false, strict: true });
  } catch (error) {
    // Node's own message names the flag ("Unknown option '--frobnicate'"); its first line is the point.
    io.err('kisstime simulate: ' + (error instanceof Error ? error.message.split('\n')[0] : String(error)) + '\n' + USAGE);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    io.out(USAGE);
    return 0;
  }
  const devices = positiveNumber(v.devices, 1000);
  const days = positiveNumber(v.days, 1);
  const seed = positiveNumber(v.seed, 1);
  const workers = positiveNumber(v.workers, 0);
  const driftPpm = positiveNumber(v['drift-ppm'], DEFAULT_CLOCKS.driftPpm);
  const wanderPpm = positiveNumber(v['wander-ppm'], DEFAULT_CLOCKS.wanderPpm);
  const loss = share(v.loss, DEFAULT_NETWORK.loss);
  const targetS = v.accuracy === undefined ? DEFAULT_TARGET_S : parseDurationS(v.accuracy);
  const scenarioText = v.scenario ?? 'steady';
  const policyText = v.policy ?? 'kisstime';
  const scenario = SCENARIO_NAMES.find((name) => name === scenarioText);
  const policy = POLICY_NAMES.find((name) => name === policyText);
  const problems: string[] = [];
  if (!(devices >= 1 && devices <= 10_000_000 && Math.floor(devices) === devices)) problems.push('--devices: a whole number from 1 to 10000000');
  if (!(days > 0 && days <= 366)) problems.push('--days: a number of days above 0, at most 366');
  if (!(seed >= 0 && Math.floor(seed) === seed)) problems.push('--seed: a whole number');
  if (!(workers >= 0 && Math.floor(workers) === workers)) problems.push('--workers: a whole number (0 = one per core)');
  if (!(driftPpm >= 0 && driftPpm <= 1000)) problems.push('--drift-ppm: a number of ppm from 0 to 1000');
  if (!(wanderPpm >= 0 && wanderPpm <= 100)) problems.push('--wander-ppm: a number of ppm per day from 0 to 100');
  if (!(loss >= 0 && loss < 1)) problems.push('--loss: a share from 0 to below 1 (0.01), or a percentage (1%)');
  if (!(targetS > 0)) problems.push('--accuracy: a duration above 0, e.g. 100ms or 0.1 (seconds)');
  if (!scenario) problems.push('--scenario: one of ' + SCENARIO_NAMES.join(', '));
  if (!policy) problems.push('--policy: one of ' + POLICY_NAMES.join(', '));
  if (problems.length > 0 || !scenario || !policy) {
    io.err('kisstime simulate: ' + problems.join('; ') + '\n');
    return 2;
  }
  const progress = io.errIsTerminal ? new ProgressLine({
    totalDeviceMs: devices * days * 86400e3, days: days, showAfterMs: PROGRESS_SHOW_AFTER_MS, everyMs: PROGRESS_EVERY_MS, now: () => Date.now(), write: io.err,
  }) : null;
  const result = await runFleetParallel({
    devices: devices, days: days, scenario: scenario, policy: policy, seed: seed, targetS: targetS,
    // Kisstime devices are asked for the same accuracy the run measures them against.
    kisstime: { accuracy: targetS }, clocks: { driftPpm: driftPpm, wanderPpm: wanderPpm }, network: { loss: loss },
  }, workers || undefined, progress);
  if (progress) progress.finish();
  io.out(v.json ? JSON.stringify(result) + '\n' : formatResult(result));
  return 0;
}
