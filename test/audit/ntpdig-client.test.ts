// ntpdig (ntpsec) one-shots under audit, graded honestly. Run once per scenario it sends one request and exits, so
// the kiss and backoff rules cannot be judged from one run, and the report says so instead of passing it. Run again
// every 16 s (as cron would), it has no memory: it asks again after a DENY and ignores RATE. Either way it puts its
// clock in the transmit timestamp. ntpdig only speaks to port 123, so every scenario has its own loopback address.

import { afterAll, describe, expect, test } from 'vitest';
import { formatAuditText, runAudit } from '../../src/node/audit';
import { failures, ruleOf, SANDBOX, scenarioAddresses } from './audit-fixture';

const once = scenarioAddresses('audit-ntpdig-once');
const rerun = scenarioAddresses('audit-ntpdig-rerun');
afterAll(() => {
  once.release();
  rerun.release();
});

const NTPDIG = SANDBOX + ' ntpdig -t 1 {host}';

describe('kisstime audit of ntpdig one-shots', () => {
  test('run once: the clock leak fails, and every rule that needs a second request is "not judged" with the reason', async () => {
    const [single, cron] = await Promise.all([
      runAudit({ cmd: NTPDIG, seconds: 10, port: 123, addresses: once.addresses }),
      runAudit({ cmd: NTPDIG, seconds: 50, port: 123, addresses: rerun.addresses, rerunS: 16 }),
    ]);
    const singleText = formatAuditText(single);
    const cronText = formatAuditText(cron);
    console.log(singleText + '\n' + cronText);

    expect(single.verdict).toBe('fail');
    expect(failures(single).every((f) => f.endsWith('clock-leak')), singleText).toBe(true);
    expect(ruleOf(single, 'good', 'clock-leak').detail).toMatch(/the transmit timestamp is the client's clock in 1 of 1 requests/);
    const deny = ruleOf(single, 'deny', 'kiss-stop');
    expect(deny.verdict).toBe('not-judged');
    expect(deny.detail).toContain('a one-shot');
    expect(ruleOf(single, 'good', 'floor').verdict).toBe('not-judged');
    expect(ruleOf(single, 'malformed', 'survives').verdict).toBe('not-judged');
    expect(single.notJudged.some((line) => line.startsWith('deny · kiss-stop'))).toBe(true);

    expect(ruleOf(cron, 'good', 'floor').verdict).toBe('pass');
    expect(ruleOf(cron, 'deny', 'kiss-stop').verdict).toBe('fail');
    expect(ruleOf(cron, 'rstr', 'kiss-stop').verdict).toBe('fail');
    expect(ruleOf(cron, 'rate', 'rate-backoff').verdict).toBe('fail');
    expect(ruleOf(cron, 'good', 'clock-leak').verdict).toBe('fail');
    expect(ruleOf(cron, 'spoofed-deny', 'spoofed-kiss').verdict).toBe('pass');
  }, 120000);
});
