// The editor in a real browser (Debian's chromium, driven by playwright-core): the nodes are in the palette
// under "time", the config dialog refuses an interval under the floor and names the floor, the help renders,
// and a valid flow deploys and goes green against a loopback server. Screenshots go to test-results/.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { Kisser, makeReply, startKisser } from '../support/kisser';
import { NodeRedProcess, ROOT, startNodeRed } from './runtime-process';

const SHOTS = join(ROOT, 'test-results');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

let red: NodeRedProcess;
let browser: Browser;
let page: Page;
let kisser: Kisser;
let address: string;
const pageErrors: string[] = [];

const CHROMIUM = '/usr/bin/chromium';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium), as .ci/run does`);
  mkdirSync(SHOTS, { recursive: true });
  address = allocateLoopback('nodered-editor');
  kisser = await startKisser(address, 0, (request) => (request.packet ? makeReply(request, { offsetSeconds: 0.0032 }) : null));
  red = await startNodeRed();
  await red.deploy([{ id: 'editortab', type: 'tab', label: 'Flow 1' }]);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(red.url + '/', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="kisstime-sync"]', { timeout: 20000 });
});

afterAll(async () => {
  await browser?.close();
  await red?.stop();
  await kisser?.close();
  if (address) releaseLoopback(address);
});

async function typeInto(selector: string, text: string): Promise<void> {
  const input = page.locator(selector);
  await input.fill(text);
  // The editor validates on keyup and change; fill() alone only fires input.
  await input.dispatchEvent('keyup');
  await input.dispatchEvent('change');
  expect(await input.inputValue()).toBe(text);
}

describe('the kisstime nodes in the Node-RED editor (chromium)', () => {
  it('shows kisstime sync and kisstime now in the palette under "time"', async () => {
    for (const type of ['kisstime-sync', 'kisstime-now']) {
      const category = await page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).evaluate(
        (el) => el.closest('.red-ui-palette-category')?.id,
      );
      expect(category).toBe('red-ui-palette-container-time');
    }
    expect(await page.locator('#red-ui-palette-container-time .red-ui-palette-header').innerText()).toMatch(/time/i);
  });

  it('flags a minimum interval under the floor, naming the floor, and accepts it for a LAN server', async () => {
    await page.evaluate(() => {
      const w = globalThis as unknown as { RED: { view: { importNodes(n: unknown[]): void } } };
      w.RED.view.importNodes([{ id: 'editorsync', type: 'kisstime-sync', name: 'gateway clock', servers: '', x: 240, y: 120, wires: [[], []] }]);
    });
    await page.locator('#red-ui-workspace').click({ position: { x: 700, y: 500 } });
    await page.locator('[id="editorsync"]').dblclick();
    await page.waitForSelector('#node-input-btn-servers-add', { state: 'visible' });
    await page.locator('#node-input-btn-servers-add').click();
    await page.waitForSelector('#node-config-input-servers', { state: 'visible' });

    // The server field starts empty: no public default.
    expect(await page.locator('#node-config-input-servers').inputValue()).toBe('');
    expect(await page.locator('#node-config-input-servers').getAttribute('placeholder')).toMatch(/vendor/);

    await typeInto('#node-config-input-servers', `${address}:${kisser.port}`);
    await page.locator('#node-config-input-minIntervalUnit').selectOption('s');
    await typeInto('#node-config-input-minInterval', '20');
    const hint = page.locator('#node-config-kisstime-hint');
    await expect.poll(() => hint.innerText()).toMatch(/20 s is below the floor of 30 min/);
    await expect.poll(() => page.locator('#node-config-input-minInterval').getAttribute('class')).toMatch(/input-error/);
    await page.screenshot({ path: join(SHOTS, 'nodered-editor-floor.png') });

    // A LAN server of one's own may go down to 16 s, not below.
    await page.locator('#node-config-input-lanServer').check();
    await typeInto('#node-config-input-minInterval', '10');
    await expect.poll(() => hint.innerText()).toMatch(/10 s is below the floor of 16 s/);
    await expect.poll(() => page.locator('#node-config-input-minInterval').getAttribute('class')).toMatch(/input-error/);
    await typeInto('#node-config-input-minInterval', '20');
    await expect.poll(() => page.locator('#node-config-input-minInterval').getAttribute('class')).not.toMatch(/input-error/);
    await expect.poll(() => hint.isVisible()).toBe(false);
    await page.locator('#node-config-input-startupDelayUnit').selectOption('s');
    await typeInto('#node-config-input-startupDelay', '1');
    await page.locator('#node-config-dialog-ok').click();
    await page.waitForSelector('#node-config-input-servers', { state: 'detached' });
    await page.locator('#node-dialog-ok').click();
    await page.waitForSelector('#node-input-servers', { state: 'detached' });
  });

  it('renders the help with Inputs, Outputs and Details', async () => {
    await page.evaluate(() => {
      const w = globalThis as unknown as { RED: { sidebar: { help: { show(type: string): void } } } };
      w.RED.sidebar.help.show('kisstime-sync');
    });
    const help = page.locator('.red-ui-help').filter({ hasText: 'Reports the corrected time' }).last();
    await expect.poll(() => help.innerText(), { timeout: 5000 }).toMatch(/Outputs/);
    const text = await help.innerText();
    expect(text).toMatch(/Inputs/);
    expect(text).toMatch(/Details/);
    expect(text).toMatch(/deferred until/);
  });

  it('deploys the flow, which then shows a green status from the loopback server', async () => {
    await page.locator('#red-ui-header-button-deploy').click();
    await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).waitFor({ timeout: 10000 });
    const flows = (await (await fetch(red.url + '/flows')).json()) as Record<string, unknown>[];
    const config = flows.find((n) => n.type === 'kisstime-servers');
    expect(config).toMatchObject({
      servers: `${address}:${kisser.port}`, lanServer: true, minInterval: '20', minIntervalUnit: 's', startupDelay: '1', startupDelayUnit: 's',
    });
    const label = page.locator('[id="editorsync"] .red-ui-flow-node-status-label');
    await expect.poll(() => label.textContent(), { timeout: 15000 }).toMatch(/^offset \+\d+\.\d ms · next 2[0-2] s$/);
    await page.screenshot({ path: join(SHOTS, 'nodered-editor.png') });
    expect(kisser.count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
