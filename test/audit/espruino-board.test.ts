// Kisstime audits the board: the built modules on the real Espruino interpreter, one fresh board per scenario, each on
// its own loopback address, side by side. It must pass every rule, and the rules that matter must have been judged.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { formatAuditText, runAudit } from '../../src/node/audit';
import { espruinoPath } from '../support/espruino';
import { firmware } from '../support/firmware-build';
import { expectPolitePass, scenarioAddresses } from './audit-fixture';

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
    expectPolitePass(report, text);
  }, 150000);
});
