// Kisstime audits the board: the built modules on the real Espruino interpreter, one fresh board per scenario, each on
// its own loopback address, side by side. It must pass every rule, and the rules that matter must have been judged.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { formatAuditText, runAudit } from '../../src/node/audit';
import { espruinoPath } from '../support/espruino';
import { firmware } from '../support/firmware-build';
import { failures, ruleOf, scenarioAddresses } from './audit-fixture';

const lanes = scenarioAddresses('audit-espruino');
const dir = mkdtempSync(join(tmpdir(), 'kisstime-audit-board-'));
afterAll(() => {
  lanes.release();
  rmSync(dir, { recursive: true, force: true });
});

describe('kisstime audit of the Kisstime board', () => {
  test('the board on the Espruino interpreter passes every rule, with floor, kisses, RATE, backoff and nonces judged', async () => {
    const fw = await firmware();
    for (const m of fw.modules) writeFileSync(join(dir, m.name + '.min.js'), m.minified, 'latin1');
    const report = await runAudit({
      cmd: ['node', join(__dirname, 'espruino-board-client.js'), espruinoPath(), dir, '{host}', '{port}', '{state}'].join(' '),
      seconds: 60,
      port: 0,
      addresses: lanes.addresses,
    });
    const text = formatAuditText(report);
    console.log(text);
    expect(failures(report), text).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(ruleOf(report, 'good', 'floor').verdict).toBe('pass');
    expect(ruleOf(report, 'good', 'clock-leak').verdict).toBe('pass');
    expect(ruleOf(report, 'good', 'other-fields').verdict).toBe('pass');
    for (const kiss of ['deny', 'rstr'] as const) {
      expect(ruleOf(report, kiss, 'kiss-stop').verdict, text).toBe('pass');
      expect(report.scenarios.find((s) => s.scenario === kiss)?.requests).toHaveLength(1);
    }
    expect(ruleOf(report, 'rate', 'rate-backoff').verdict, text).toBe('pass');
    expect(ruleOf(report, 'silence', 'silence-backoff').verdict, text).toBe('pass');
    expect(ruleOf(report, 'spoofed-deny', 'spoofed-kiss').verdict, text).toBe('pass');
  }, 150000);
});
