// `npm start`'s demo, run as the script itself (in a user directory of its own) and looked at in headless chromium:
// it prints one terminal line per sync, its dashboard charts the offset and error bound, the poll interval and the
// server node's requests per second with points, and neither the dashboard nor the editor asks anything off this
// machine (the palette catalogue is emptied). A screenshot of the dashboard goes to test-results/.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { freeUdpPort } from '../support/loopback';
import { freeTcpPort, ROOT } from './runtime-process';

const SHOTS = join(ROOT, 'test-results');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

let demo: ChildProcess;
let exited: Promise<void>;
let output = '';
let userDir: string;
let url: string;
let browser: Browser;
/** Every request a page made to somewhere other than this machine (each one is refused). */
const offMachine: string[] = [];

async function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = pattern.exec(output);
    if (found) return found;
    if (demo.exitCode !== null) throw new Error('the demo exited:\n' + output.slice(-3000));
    if (Date.now() > end) throw new Error(`no ${pattern} from the demo after ${timeoutMs} ms:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openPage(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    offMachine.push(route.request().url());
    return route.abort();
  });
  // The dashboard's chart widgets register themselves on window.uiCharts when they see window.Cypress (their own
  // test hook), which lets this test read how many points each chart holds.
  await page.addInitScript('window.Cypress = {};');
  await page.goto(url + path, { waitUntil: 'domcontentloaded' });
  return page;
}

/** Points per series of the dashboard chart with this label, as the chart itself holds them. */
async function chartPoints(page: Page, label: string): Promise<Record<string, number>> {
  return page.locator('body').evaluate((body, wanted) => {
    const win = body.ownerDocument.defaultView;
    const charts = win.uiCharts || {};
    const counts: Record<string, number> = {};
    for (const id of Object.keys(charts)) {
      const widget = charts[id];
      if (!widget.props || widget.props.label !== wanted || !widget.chart) continue;
      const chart = widget.chart.value || widget.chart;
      const option = chart.getOption();
      for (const series of option.series || []) counts[String(series.name)] = (series.data || []).length;
    }
    return counts;
  }, label);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium), as .ci/run does`);
  mkdirSync(SHOTS, { recursive: true });
  userDir = mkdtempSync(join(tmpdir(), 'kisstime-demo-'));
  const [uiPort, ntpPort, servePort] = await Promise.all([freeTcpPort(), freeUdpPort('127.0.0.1'), freeUdpPort('127.0.0.1')]);
  url = `http://127.0.0.1:${uiPort}`;
  demo = spawn(process.execPath, [join(ROOT, 'scripts', 'start-demo.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(uiPort), KISSTIME_DEMO_NTP_PORT: String(ntpPort), KISSTIME_DEMO_SERVE_PORT: String(servePort), KISSTIME_DEMO_USER_DIR: userDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  demo.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  exited = new Promise<void>((done) => demo.once('exit', () => done()));
  await waitForOutput(/Kisstime demo is running/, 30000);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    demo.kill('SIGINT');
    const timer = setTimeout(() => demo.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  if (userDir) rmSync(userDir, { recursive: true, force: true });
});

describe('the npm start demo and its dashboard (chromium)', () => {
  it('names the dashboard in its banner and prints each sync as one line', async () => {
    expect(output).toContain(`Dashboard     ${url}/dashboard/kisstime`);
    const line = await waitForOutput(/\[debug:terminal\] (sync from 127\.0\.0\.1: offset \+(\d+\.\d) ms, delay [\d.]+ ms, error bound ±[\d.]+ (ms|µs), next in \d+ s)\n/, 20000);
    // The demo server runs 0.5 s ahead of this machine.
    expect(Math.abs(Number(line[2]) - 500)).toBeLessThan(50);
  });

  it('charts the offset and its error bound, the poll interval and the server\'s requests per second, with points', async () => {
    const page = await openPage('/dashboard/kisstime');
    await expect.poll(() => chartPoints(page, 'offset and error bound (ms)'), { timeout: 20000 })
      .toEqual({ 'offset': expect.any(Number), 'error bound': expect.any(Number) });
    await expect.poll(async () => Math.min(...Object.values(await chartPoints(page, 'offset and error bound (ms)'))), { timeout: 20000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => (await chartPoints(page, 'poll interval (min)'))['poll interval'] || 0, { timeout: 20000 }).toBeGreaterThanOrEqual(1);
    // Stats come every 5 s and a rate needs two of them; the demo's impatient client keeps the server busy.
    await expect.poll(async () => (await chartPoints(page, 'server: requests per second'))['requests/s'] || 0, { timeout: 30000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.getByText('server: kisses sent').count(), { timeout: 5000 }).toBeGreaterThan(0);
    // The impatient client outruns the server's rate limit (burst 8, then one per 8 s) within seconds.
    await expect.poll(() => page.locator('body').innerText(), { timeout: 30000 }).toMatch(/server: kisses sent\s*[1-9]\d* \(RATE [1-9]\d*, DENY 0, RSTR 0\)/);
    const text = await page.locator('body').innerText();
    expect(text).toMatch(/last sample\s*\+\d+\.\d ms ± \d+\.\d ms from 127\.0\.0\.1/);
    expect(text).toMatch(/kisses received\s*0\s/);
    expect(text).toMatch(/holds\s*0 server addresses refused us/);
    await page.screenshot({ path: join(SHOTS, 'dashboard.png'), fullPage: true });
    await page.close();
  });

  it('the editor loads without asking anything off this machine (no palette catalogue)', async () => {
    const settings = (await (await fetch(url + '/settings')).json()) as { editorTheme?: { palette?: { catalogues?: unknown[] } } };
    expect(settings.editorTheme?.palette?.catalogues).toEqual([]);
    const page = await openPage('/');
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="kisstime-sync"]', { timeout: 20000 });
    await page.waitForSelector('[id="5e7f0c10f0000002"]', { timeout: 10000 });
    await page.close();
    expect(offMachine).toEqual([]);
  });
});
