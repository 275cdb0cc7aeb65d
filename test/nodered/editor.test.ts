// The editor in a real browser (Debian's chromium, driven by playwright-core): the nodes are in the palette under
// "time" with their own icons; each node's edit dialog shows a bad value's problem in words right under that field,
// starting with the field's label; the help renders; a valid flow deploys and goes green against a loopback server.
// Screenshots go to test-results/.

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

interface FieldError {
  /** The text of the label in the row just above the message. */
  label: string;
  /** Whether that row holds the input the message is about. */
  underField: boolean;
  message: string;
  visible: boolean;
}

/** The editor's globals this test drives (the project has no DOM typings; playwright hands page objects over untyped). */
interface EditorWindow {
  RED: {
    view: { importNodes(nodes: unknown[]): void };
    nodes: { eachConfig(cb: (n: { id: string; type: string }) => void): void };
    sidebar: { help: { show(type: string): void } };
  };
  $(selector: string): { typedInput(method: string, value: string): void };
}

/** The problem line of an input: where it sits (the row right under the field's own row) and what it says. */
async function fieldError(inputId: string): Promise<FieldError> {
  const line = page.locator('[id="' + inputId + '-error"]');
  if ((await line.count()) === 0) return { label: '', underField: false, message: '', visible: false };
  return line.evaluate((el, id) => {
    const row = el.previousElementSibling;
    const label = row && row.querySelector('label');
    const found: FieldError = {
      label: String((label && label.textContent) || '').trim(),
      underField: !!(row && row.querySelector('[id="' + id + '"]')),
      message: String(el.textContent || '').trim(),
      visible: el.offsetParent !== null,
    };
    return found;
  }, inputId);
}

/** Waits until the field shows a problem matching pattern, under that field, starting with the field's label. */
async function expectProblemUnder(inputId: string, pattern: RegExp): Promise<FieldError> {
  await expect.poll(async () => (await fieldError(inputId)).message, { timeout: 5000 }).toMatch(pattern);
  const found = await fieldError(inputId);
  expect(found.visible).toBe(true);
  expect(found.underField).toBe(true);
  expect(found.label).not.toBe('');
  expect(found.message.startsWith(found.label + ':')).toBe(true);
  return found;
}

async function expectNoProblemUnder(inputId: string): Promise<void> {
  await expect.poll(async () => (await fieldError(inputId)).visible, { timeout: 5000 }).toBe(false);
}

function importNodes(nodes: Record<string, unknown>[]): Promise<void> {
  return page.locator('body').evaluate((body, list) => {
    const win: EditorWindow = body.ownerDocument.defaultView;
    win.RED.view.importNodes(list);
  }, nodes);
}

describe('the kisstime nodes in the Node-RED editor (chromium)', () => {
  it('shows kisstime sync and kisstime now in the palette under "time", each with its own icon', async () => {
    const icons: string[] = [];
    for (const type of ['kisstime-sync', 'kisstime-now']) {
      const node = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      expect(await node.evaluate((el) => el.closest('.red-ui-palette-category')?.id)).toBe('red-ui-palette-container-time');
      const icon = await node.locator('.red-ui-palette-icon').evaluate((el) => String(el.ownerDocument.defaultView.getComputedStyle(el).backgroundImage));
      expect(icon).toContain(`${type}.svg`);
      icons.push(icon);
    }
    expect(new Set(icons).size).toBe(2);
    expect(await page.locator('#red-ui-palette-container-time .red-ui-palette-header').innerText()).toMatch(/time/i);
  });

  it('kisstime sync dialog: no config chosen is said under "Servers"', async () => {
    await importNodes([{ id: 'editorsync', type: 'kisstime-sync', name: 'gateway clock', servers: '', x: 240, y: 120, wires: [[], []] }]);
    await page.locator('#red-ui-workspace').click({ position: { x: 700, y: 500 } });
    await page.locator('[id="editorsync"]').dblclick();
    await page.waitForSelector('#node-input-btn-servers-add', { state: 'visible' });
    const found = await expectProblemUnder('node-input-servers', /^Servers: choose a kisstime servers config/);
    expect(found.label).toBe('Servers');
    await page.screenshot({ path: join(SHOTS, 'nodered-editor-sync-dialog.png') });
  });

  it('kisstime servers dialog: each bad value is said under its own field, by its label, and clears when fixed', async () => {
    await page.locator('#node-input-btn-servers-add').click();
    await page.waitForSelector('#node-config-input-servers', { state: 'visible' });

    // The server field starts empty (no public default), and says what to add.
    expect(await page.locator('#node-config-input-servers').inputValue()).toBe('');
    expect(await page.locator('#node-config-input-servers').getAttribute('placeholder')).toMatch(/vendor/);
    await expectProblemUnder('node-config-input-servers', /^Servers: add at least one time server/);
    await typeInto('#node-config-input-servers', 'time_server!');
    await expectProblemUnder('node-config-input-servers', /^Servers: "time_server!" is not a host name, IP address or host:port$/);
    await typeInto('#node-config-input-servers', 'your.time.server.example');
    await expectProblemUnder('node-config-input-servers', /^Servers: "your\.time\.server\.example" is the example's placeholder: enter your own time server$/);
    await typeInto('#node-config-input-servers', `${address}:${kisser.port}`);
    await expectNoProblemUnder('node-config-input-servers');

    // A server name is fine now, so a bad interval is said under the interval, not under the servers.
    await page.locator('#node-config-input-minIntervalUnit').selectOption('s');
    await typeInto('#node-config-input-minInterval', '20');
    const floor = await expectProblemUnder('node-config-input-minInterval', /^Min interval: 20 s is below the floor of 30 min for servers you do not run \(tick "This is a LAN server I run" to go lower\)$/);
    expect(floor.label).toBe('Min interval');
    await expect.poll(() => page.locator('#node-config-input-minInterval').getAttribute('class')).toMatch(/input-error/);
    expect((await fieldError('node-config-input-servers')).visible).toBe(false);
    await page.screenshot({ path: join(SHOTS, 'nodered-editor-servers-dialog.png') });

    // A LAN server of one's own may go down to 16 s, not below.
    await page.locator('#node-config-input-lanServer').check();
    await typeInto('#node-config-input-minInterval', '10');
    await expectProblemUnder('node-config-input-minInterval', /^Min interval: 10 s is below the floor of 16 s/);
    await typeInto('#node-config-input-minInterval', '20');
    await expectNoProblemUnder('node-config-input-minInterval');
    await expect.poll(() => page.locator('#node-config-input-minInterval').getAttribute('class')).not.toMatch(/input-error/);

    // What only the runtime checks (the longest interval) comes back from it, under the field it names.
    await page.locator('#node-config-input-maxIntervalUnit').selectOption('d');
    await typeInto('#node-config-input-maxInterval', '30');
    // The range is the core's sentence after the label; only its start is this test's business.
    await expectProblemUnder('node-config-input-maxInterval', /^Max interval: must be from 20\b/);
    await typeInto('#node-config-input-maxInterval', '1');
    await expectNoProblemUnder('node-config-input-maxInterval');

    await typeInto('#node-config-input-timeout', 'soon');
    await expectProblemUnder('node-config-input-timeout', /^Timeout: "soon" is not a number$/);
    await typeInto('#node-config-input-timeout', '5');
    await expectNoProblemUnder('node-config-input-timeout');

    await page.locator('#node-config-input-startupDelayUnit').selectOption('s');
    await typeInto('#node-config-input-startupDelay', '1');
    await page.locator('#node-config-dialog-ok').click();
    await page.waitForSelector('#node-config-input-servers', { state: 'detached' });
    await expectNoProblemUnder('node-input-servers');
    await page.locator('#node-dialog-ok').click();
    await page.waitForSelector('#node-input-servers', { state: 'detached' });
  });

  it('kisstime now dialog: an empty property is said under "Set"', async () => {
    const config = await page.locator('body').evaluate((body) => {
      const win: EditorWindow = body.ownerDocument.defaultView;
      let id = '';
      win.RED.nodes.eachConfig((n) => { if (n.type === 'kisstime-servers') id = n.id; });
      return id;
    });
    expect(config).not.toBe('');
    await importNodes([{ id: 'editornow', type: 'kisstime-now', name: 'stamp', servers: config, property: '', format: 'ms', x: 240, y: 220, wires: [[]] }]);
    await page.locator('#red-ui-workspace').click({ position: { x: 700, y: 500 } });
    await page.locator('[id="editornow"]').dblclick();
    await page.waitForSelector('#node-input-format', { state: 'visible' });
    const found = await expectProblemUnder('node-input-property', /^Set: name the message property to set, e\.g\. payload$/);
    expect(found.label).toBe('Set');
    await expectNoProblemUnder('node-input-servers');
    await page.screenshot({ path: join(SHOTS, 'nodered-editor-now-dialog.png') });
    await page.locator('body').evaluate((body) => {
      const win: EditorWindow = body.ownerDocument.defaultView;
      win.$('#node-input-property').typedInput('value', 'stamp');
    });
    await page.locator('#node-input-property').dispatchEvent('change');
    await expectNoProblemUnder('node-input-property');
    await page.locator('#node-dialog-ok').click();
    await page.waitForSelector('#node-input-format', { state: 'detached' });
  });

  it('renders the help with Inputs, Outputs, Details and the 15 s floor', async () => {
    await page.locator('body').evaluate((body) => {
      const win: EditorWindow = body.ownerDocument.defaultView;
      win.RED.sidebar.help.show('kisstime-sync');
    });
    const help = page.locator('.red-ui-help').filter({ hasText: 'Reports the corrected time' }).last();
    await expect.poll(() => help.innerText(), { timeout: 5000 }).toMatch(/Outputs/);
    const text = await help.innerText();
    expect(text).toMatch(/Inputs/);
    expect(text).toMatch(/Details/);
    expect(text).toMatch(/deferred until/);
    expect(text).toMatch(/less than 15 s old/);
  });

  it('deploys the flow, which then shows a green status from the loopback server', async () => {
    await page.locator('#red-ui-header-button-deploy').click();
    await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).waitFor({ timeout: 10000 });
    const flows = (await (await fetch(red.url + '/flows')).json()) as Record<string, unknown>[];
    const config = flows.find((n) => n.type === 'kisstime-servers');
    expect(config).toMatchObject({
      servers: `${address}:${kisser.port}`, lanServer: true, minInterval: '20', minIntervalUnit: 's', startupDelay: '1', startupDelayUnit: 's',
    });
    expect(flows.find((n) => n.id === 'editornow')).toMatchObject({ property: 'stamp' });
    const label = page.locator('[id="editorsync"] .red-ui-flow-node-status-label');
    await expect.poll(() => label.textContent(), { timeout: 15000 }).toMatch(/^synced ±[\d.]+ (ms|µs), -?[\d.]+ ppm · next \d+ (s|min)$/);
    await page.screenshot({ path: join(SHOTS, 'nodered-editor.png') });
    expect(kisser.count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
