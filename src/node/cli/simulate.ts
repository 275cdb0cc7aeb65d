// kisstime simulate: the fleet simulator (src/fleet) from the command line. A thin wrapper: it parses flags,
// runs the simulation and prints the result; every number comes from src/fleet.

import { formatResult } from '../../fleet/format';
import { POLICY_NAMES, PolicyName } from '../../fleet/policy';
import { runFleetParallel } from '../../fleet/run-fleet';
import { SCENARIO_NAMES, ScenarioName } from '../../fleet/scenarios';
import { CliIo, parseArgs, processIo } from './args';

const USAGE = 'usage: kisstime simulate --devices N --days D --scenario NAME [--policy NAME] [--json] [--seed S] [--workers W]\n'
  + '  scenarios: ' + SCENARIO_NAMES.join(', ') + '\n'
  + '  policies:  ' + POLICY_NAMES.join(', ') + ' (all but kisstime are models of existing clients)\n';

const FLAGS = {
  '--devices': 'value', '--days': 'value', '--scenario': 'value', '--policy': 'value', '--seed': 'value', '--workers': 'value',
  '--json': 'switch', '--help': 'switch',
} as const;

function positiveNumber(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
}

export async function run(args: string[], io: CliIo = processIo()): Promise<number> {
  const parsed = parseArgs(args, FLAGS);
  if (!parsed.ok) {
    io.err('kisstime simulate: ' + parsed.message + '\n' + USAGE);
    return 2;
  }
  if (parsed.switches['--help']) {
    io.out(USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    io.err('kisstime simulate: unexpected argument ' + JSON.stringify(parsed.positionals[0]) + '\n' + USAGE);
    return 2;
  }
  const v = parsed.values;
  const devices = positiveNumber(v['--devices'], 1000);
  const days = positiveNumber(v['--days'], 1);
  const seed = positiveNumber(v['--seed'], 1);
  const workers = positiveNumber(v['--workers'], 0);
  const scenario = (v['--scenario'] ?? 'steady') as ScenarioName;
  const policy = (v['--policy'] ?? 'kisstime') as PolicyName;
  const problems: string[] = [];
  if (!(devices >= 1 && devices <= 10_000_000 && Math.floor(devices) === devices)) problems.push('--devices: a whole number from 1 to 10000000');
  if (!(days > 0 && days <= 366)) problems.push('--days: a number of days above 0, at most 366');
  if (!(seed >= 0 && Math.floor(seed) === seed)) problems.push('--seed: a whole number');
  if (!(workers >= 0 && Math.floor(workers) === workers)) problems.push('--workers: a whole number (0 = one per core)');
  if (SCENARIO_NAMES.indexOf(scenario) < 0) problems.push('--scenario: one of ' + SCENARIO_NAMES.join(', '));
  if (POLICY_NAMES.indexOf(policy) < 0) problems.push('--policy: one of ' + POLICY_NAMES.join(', '));
  if (problems.length > 0) {
    io.err('kisstime simulate: ' + problems.join('; ') + '\n');
    return 2;
  }
  const result = await runFleetParallel({ devices: devices, days: days, scenario: scenario, policy: policy, seed: seed }, workers || undefined);
  io.out(parsed.switches['--json'] ? JSON.stringify(result) + '\n' : formatResult(result));
  return 0;
}
