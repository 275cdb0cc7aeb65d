// A real chronyd as the client under audit (client mode only: -x never touches the clock, and it runs without
// CAP_SYS_TIME). chrony 4.3 is a careful client: random nonces, a new source port per request, a forged kiss
// ignored, RATE obeyed. It does not stop after DENY or RSTR, and the audit must say so. With iburst it sends its
// first requests 2 s apart, which breaks the SNTP floor.

import { afterAll, describe, expect, test } from 'vitest';
import { formatAuditText, runAudit } from '../../src/node/audit';
import { failures, ruleOf, SANDBOX, scenarioAddresses } from './audit-fixture';

const lanes = scenarioAddresses('audit-chronyd');
const burstLane = scenarioAddresses('audit-chronyd-iburst', ['good']);
afterAll(() => {
  lanes.release();
  burstLane.release();
});

/** chronyd in the foreground as a client of {host}:{port} only: no command port, files under the scratch path. */
function chronydTemplate(serverOptions: string): string {
  return SANDBOX + ' chronyd -d -x -4 -u root -f /dev/null \'server {host} port {port} ' + serverOptions + '\''
    + ' \'pidfile {state}.pid\' \'driftfile {state}.drift\' \'cmdport 0\' \'bindcmdaddress /\'';
}

describe('kisstime audit of chronyd as a client', () => {
  test('chronyd fails exactly the DENY and RSTR rules, and iburst breaks the 15 s floor', async () => {
    const [report, burst] = await Promise.all([
      runAudit({ cmd: chronydTemplate('minpoll 4 maxpoll 6'), seconds: 60, port: 0, addresses: lanes.addresses }),
      runAudit({ cmd: chronydTemplate('iburst minpoll 4 maxpoll 6'), seconds: 20, port: 0, addresses: burstLane.addresses, scenarios: ['good'] }),
    ]);
    const text = formatAuditText(report);
    console.log(text + '\n' + formatAuditText(burst));
    expect(failures(report), text).toEqual(['deny · kiss-stop', 'rstr · kiss-stop']);
    expect(ruleOf(report, 'deny', 'kiss-stop').detail).toMatch(/^asked \d+ more times? after the DENY/);
    expect(ruleOf(report, 'good', 'floor').verdict).toBe('pass');
    expect(ruleOf(report, 'good', 'clock-leak').verdict).toBe('pass');
    expect(ruleOf(report, 'good', 'source-port').verdict).toBe('pass');
    expect(ruleOf(report, 'spoofed-deny', 'spoofed-kiss').verdict).toBe('pass');
    expect(ruleOf(report, 'rate', 'rate-backoff').verdict).toBe('pass');
    // chronyd fills in poll and precision: allowed, and reported as a warning.
    expect(ruleOf(report, 'good', 'other-fields').verdict).toBe('warn');
    expect(ruleOf(report, 'good', 'other-fields').detail).toContain('poll 4');

    expect(failures(burst)).toEqual(['good · floor']);
    expect(ruleOf(burst, 'good', 'floor').detail).toMatch(/intervals under 15 s; shortest [0-9.]+ s/);
  }, 120000);
});
