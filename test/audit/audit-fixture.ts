// What the audit tests share: a loopback address per scenario (so parallel files, and clients that only speak to
// port 123, never meet), the built CLI, the rude client bundled into a runnable script, and a way to read one rule.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { expect } from 'vitest';
import { SCENARIO_NAMES, type AuditReport, type RuleId, type RuleResult, type ScenarioName } from '../../src/node/audit';
import { allocateLoopback, releaseLoopback } from '../support/loopback';

export const ROOT = resolve(__dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'kisstime.js');
export const SANDBOX = 'setpriv --pdeathsig TERM --bounding-set -sys_time --';

/** The built CLI (npm test builds first); a clear message when a test is run on its own without a build. */
export function builtCli(): string {
  if (!existsSync(join(ROOT, 'dist', 'src', 'node', 'cli', 'audit.js'))) throw new Error('the CLI is not built: run "npm run build" first (npm test does)');
  return CLI;
}

export function scenarioAddresses(label: string, scenarios: ScenarioName[] = SCENARIO_NAMES): { addresses: string[]; release: () => void } {
  const addresses = scenarios.map((s) => allocateLoopback(label + '-' + s));
  return { addresses, release: () => addresses.forEach(releaseLoopback) };
}

/** The rude client (test/support/rude-client.ts) as one plain script in dir. */
export function bundleRudeClient(dir: string): string {
  const out = join(dir, 'rude-client.js');
  buildSync({ entryPoints: [join(ROOT, 'test', 'support', 'rude-client.ts')], bundle: true, platform: 'node', target: 'node20', outfile: out, logLevel: 'silent' });
  return out;
}

export function ruleOf(report: AuditReport, scenario: ScenarioName, rule: RuleId): RuleResult {
  const sc = report.scenarios.find((s) => s.scenario === scenario);
  const found = sc?.rules.find((r) => r.rule === rule);
  if (!found) throw new Error(scenario + ' · ' + rule + ' was not graded:\n' + JSON.stringify(sc, null, 1));
  return found;
}

/** Every failed rule as "scenario · rule", sorted, for asserting exactly which rules a client broke. */
export function failures(report: AuditReport): string[] {
  const out: string[] = [];
  for (const sc of report.scenarios) for (const r of sc.rules) if (r.verdict === 'fail') out.push(sc.scenario + ' · ' + r.rule);
  return out.sort();
}

/** What a polite client shows: no rule failed, and the rules that matter most were judged and passed (not "not judged"). */
export function expectPolitePass(report: AuditReport, text: string): void {
  expect(failures(report), text).toEqual([]);
  expect(report.verdict).toBe('pass');
  const judged: [ScenarioName, RuleId][] = [['good', 'floor'], ['good', 'clock-leak'], ['good', 'other-fields'], ['deny', 'kiss-stop'], ['rstr', 'kiss-stop'],
    ['rate', 'rate-backoff'], ['silence', 'silence-backoff'], ['spoofed-deny', 'spoofed-kiss']];
  for (const [scenario, rule] of judged) expect(ruleOf(report, scenario, rule).verdict, text).toBe('pass');
  // One request to each refusing server, and never another.
  for (const kiss of ['deny', 'rstr']) expect(report.scenarios.find((s) => s.scenario === kiss)?.requests, text).toHaveLength(1);
}
