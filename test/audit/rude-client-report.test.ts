// The `kisstime audit` command end to end on a deliberately rude client (a request every second, its clock in the
// transmit timestamp, kisses ignored): exit code 1, the reasons in the table and the JSON, and an HTML report that
// a real browser (Debian's chromium) renders with one dot per request on the timeline. Screenshot in test-results/.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, test } from 'vitest';
import type { AuditReport } from '../../src/node/audit';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { builtCli, bundleRudeClient, failures, ROOT, ruleOf } from './audit-fixture';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const dir = mkdtempSync(join(tmpdir(), 'kisstime-audit-rude-'));
// Every scenario listens on its own free port, so consecutive addresses after this one are safe to share.
const first = allocateLoopback('audit-rude');
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  releaseLoopback(first);
});

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [builtCli(), 'audit', ...args], { timeout: 90000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('kisstime audit on a rude client', () => {
  test('exit 1, failed for retrying every second, leaking its clock and ignoring every kiss; the HTML report renders its timeline', async () => {
    const rude = bundleRudeClient(dir);
    const jsonPath = join(dir, 'report.json');
    const htmlPath = join(dir, 'report.html');
    const result = await runCli(['--cmd', 'node ' + rude + ' {host} {port}', '--seconds', '20', '--port', '0', '--first-address', first,
      '--json', jsonPath, '--html', htmlPath, '--quiet']);
    console.log(result.stdout);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('Verdict: FAIL');
    expect(result.stdout).toMatch(/FAIL good · floor: \d+ of \d+ intervals under 15 s; shortest [01]\.\d\d s/);
    expect(result.stdout).toContain('RFC 5905 §7.4: after DENY or RSTR the client MUST stop sending to that server');

    const report = JSON.parse(readFileSync(jsonPath, 'utf8')) as AuditReport;
    expect(report.verdict).toBe('fail');
    const failed = failures(report);
    for (const expected of ['good · floor', 'good · clock-leak', 'deny · kiss-stop', 'rstr · kiss-stop', 'rate · rate-backoff', 'silence · silence-backoff', 'malformed · silence-backoff']) {
      expect(failed).toContain(expected);
    }
    // A forged DENY cannot silence a client that ignores every kiss: that rule passes, for the wrong reason, and
    // the others say why the client is rude.
    expect(ruleOf(report, 'spoofed-deny', 'spoofed-kiss').verdict).toBe('pass');
    expect(ruleOf(report, 'good', 'source-port').verdict).toBe('warn');
    // Its timer runs from its own last send, so the next request lands just under or just over 1 s after the DENY.
    expect(ruleOf(report, 'deny', 'kiss-stop').detail).toMatch(/^asked \d+ more times after the DENY, the first [01]\.\d\d s later$/);
    const total = report.scenarios.reduce((n, s) => n + s.requests.length, 0);
    expect(total).toBeGreaterThan(8 * 15);

    if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM + ' is missing: install Debian\'s chromium package, as .ci/run does');
    const profile = mkdtempSync(join(tmpdir(), 'kisstime-audit-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1100, height: 900 } });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      await page.goto('file://' + htmlPath);
      await expect(page.title()).resolves.toBe('kisstime audit: fail');
      const svg = page.locator('svg#timeline');
      const box = await svg.boundingBox();
      expect(box?.width).toBeGreaterThan(500);
      expect(box?.height).toBeGreaterThan(8 * 25);
      // One visible dot per request, in one lane per scenario.
      expect(await page.locator('svg#timeline g.lane').count()).toBe(8);
      expect(await page.locator('svg#timeline circle.request').count()).toBe(total);
      const dot = await page.locator('g.lane[data-scenario="deny"] circle.request').first().boundingBox();
      expect(dot?.width).toBeGreaterThan(5);
      await expect(page.locator('#scenario-deny').innerText()).resolves.toContain('asked');
      // Self-contained: nothing but the page itself was loaded.
      expect(requested.filter((u) => !u.startsWith('file://'))).toEqual([]);
      expect(errors).toEqual([]);
      mkdirSync(join(ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-results', 'audit-report-rude.png'), fullPage: true });
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120000);
});
