// Listen mode, for a device that keeps one configured server: the audit listens on one address and plays the
// scenarios one after another, DENY and RSTR last. The device here is the real Kisstime client (the library, in
// this process) over real UDP, with the audit and the client sharing a clock whose scheduling is virtual, so two
// hours per scenario pass in seconds. Kisstime passes; RSTR cannot be judged because the device rightly never asks
// again after the DENY, and the report says so.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createClient, KisstimeClient } from '../../src/node';
import { formatAuditText, runAudit, type AuditReport } from '../../src/node/audit';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { HybridClock } from '../node/hybrid-clock';
import { failures, ruleOf } from './audit-fixture';

const address = allocateLoopback('audit-listen');
const dir = mkdtempSync(join(tmpdir(), 'kisstime-audit-listen-'));
afterAll(() => {
  releaseLoopback(address);
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('kisstime audit --listen', () => {
  test('a Kisstime device configured with one server passes, DENY is judged, and what could not be judged is said', async () => {
    const clock = new HybridClock();
    let client: KisstimeClient | null = null;
    let report: AuditReport | null = null;
    const audit = runAudit({
      listen: { address, port: 0 },
      seconds: 7200,
      clock,
      onEvent: (event) => {
        if (event.type !== 'scenario-start' || client) return;
        // The device is switched on once the audit listens, configured with the audit's address as its one server.
        client = createClient({
          config: { servers: [address + ':' + event.port], lanServer: true, minInterval: '16s', accuracy: '0.1ms', startupDelayMin: 0, startupDelayMax: 0 },
          statePath: join(dir, 'state.json'),
          clock,
        });
        client.start();
      },
    }).then((r) => {
      report = r;
    });
    // Let real time carry each request and its answer over loopback, then move virtual time to the next timer.
    for (let fires = 0; report === null && fires < 5000; fires++) {
      const c = client as KisstimeClient | null;
      for (let i = 0; i < 60 && c && c.status().phase === 'in-flight'; i++) await sleep(5);
      await sleep(2);
      if (report === null) clock.fireNext();
    }
    await audit;
    await (client as KisstimeClient | null)?.stop();
    if (!report) throw new Error('the audit did not finish');
    const done: AuditReport = report;
    const text = formatAuditText(done);
    console.log(text);
    expect(done.mode).toBe('listen');
    expect(done.scenarios.map((s) => s.scenario)).toEqual(['good', 'offset', 'spoofed-deny', 'malformed', 'rate', 'silence', 'deny', 'rstr']);
    expect(failures(done), text).toEqual([]);
    expect(ruleOf(done, 'good', 'floor').verdict).toBe('pass');
    expect(ruleOf(done, 'spoofed-deny', 'spoofed-kiss').verdict).toBe('pass');
    expect(ruleOf(done, 'rate', 'rate-backoff').verdict).toBe('pass');
    expect(ruleOf(done, 'deny', 'kiss-stop').verdict, text).toBe('pass');
    const rstr = done.scenarios.find((s) => s.scenario === 'rstr');
    expect(rstr?.requests).toHaveLength(0);
    expect(ruleOf(done, 'rstr', 'asked').verdict).toBe('not-judged');
    expect(done.notJudged.some((l) => l.startsWith('rstr · asked: no request'))).toBe(true);
    expect(done.notJudged.some((l) => l.startsWith('listen mode:'))).toBe(true);
  }, 120000);
});
