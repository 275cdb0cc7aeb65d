// Kisstime audits itself: the real `kisstime sync` CLI, one process per scenario, each on its own loopback address,
// 60 s side by side. It must pass every rule, and the rules that matter must actually have been judged.

import { afterAll, describe, expect, test } from 'vitest';
import { formatAuditText, runAudit, type AuditReport } from '../../src/node/audit';
import { builtCli, expectPolitePass, ruleOf, scenarioAddresses } from './audit-fixture';

const lanes = scenarioAddresses('audit-kisstime');
afterAll(() => lanes.release());

describe('kisstime audit of the Kisstime Node CLI', () => {
  test('kisstime sync passes every rule, with floor, kisses, RATE, backoff, forgery and nonces all judged', async () => {
    const cli = builtCli();
    const report: AuditReport = await runAudit({
      // The smallest accuracy keeps it polling near its 16 s floor, so that a short scenario sees several requests.
      cmd: 'node ' + cli + ' sync {host}:{port} --lan --state {state} --min-interval 16s --accuracy 0.1ms --startup-delay 0-0',
      seconds: 60,
      port: 0,
      addresses: lanes.addresses,
    });
    const text = formatAuditText(report);
    console.log(text);
    expectPolitePass(report, text);
    expect(ruleOf(report, 'good', 'source-port').detail).toMatch(/^a new source port for each of the \d+ requests$/);
    expect(ruleOf(report, 'malformed', 'survives').verdict).toBe('pass');
    expect(ruleOf(report, 'offset', 'clock-leak').verdict).toBe('pass');
  }, 120000);
});
