// kisstime-server in a real Node-RED 4 runtime and editor (Debian's chromium): the words a user sees come from the
// en-US catalogue through RED._; a taken address reaches a Catch node naming the address and the usual culprit; a
// rude client is flagged on the second output and the status, with its reasons in words; the missing upstream is
// said once; the edit dialog shows each error under its field, named by the field's label; the node has its own
// icon. Screenshot in test-results/.

import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommsEvent, NodeRedProcess, ROOT, startNodeRed } from '../nodered/runtime-process';
import { allocateLoopback, freeUdpPort, releaseLoopback } from '../support/loopback';
import { burst } from '../support/packet';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const SHOTS = join(ROOT, 'test-results');

const address = allocateLoopback('server-nodered-runtime');
let red: NodeRedProcess;
let holder: Socket;
let busyPort = 0;
let browser: Browser | null = null;

beforeAll(async () => {
  holder = createSocket('udp4');
  busyPort = await new Promise<number>((resolve) => holder.bind(0, address, () => resolve(holder.address().port)));
  red = await startNodeRed();
});

afterAll(async () => {
  await browser?.close();
  await red?.stop();
  holder?.close();
  releaseLoopback(address);
});

function debugFrom(id: string, topic?: string): (e: CommsEvent) => boolean {
  return (e) => e.topic === 'debug' && e.data.id === id && (topic === undefined || e.data.topic === topic);
}

function statusOf(id: string, match: (s: { fill?: string; text?: string }) => boolean): (e: CommsEvent) => boolean {
  return (e) => e.topic === 'status/' + id && match(e.data as { fill?: string; text?: string });
}

describe('kisstime-server in a real Node-RED runtime', () => {
  it('a taken address reaches a Catch node naming the address and the usual culprit, once; a missing upstream is said once', async () => {
    const rudePort = await freeUdpPort(address);
    await red.deploy([
      { id: 'srvtab', type: 'tab', label: 'server' },
      { id: 'busy', z: 'srvtab', type: 'kisstime-server', address, port: String(busyPort), serveLocal: true, localStratum: 5, wires: [[], []] },
      { id: 'busycatch', z: 'srvtab', type: 'catch', scope: ['busy'], wires: [['busyerr']] },
      { id: 'busyerr', z: 'srvtab', type: 'debug', active: true, tosidebar: true, complete: 'true', targetType: 'full', wires: [] },
      { id: 'lonely', z: 'srvtab', type: 'kisstime-server', address, port: '0', wires: [[], []] },
      {
        id: 'rudesrv', z: 'srvtab', type: 'kisstime-server', address, port: String(rudePort), serveLocal: true, localStratum: 4, statsInterval: '1',
        wires: [[], ['rudeout']],
      },
      { id: 'rudeout', z: 'srvtab', type: 'debug', active: true, tosidebar: true, complete: 'payload', targetType: 'msg', wires: [] },
    ]);
    const caught = await red.waitForEvent(debugFrom('busyerr'), 10000, 'the Catch node\'s message');
    const msg = JSON.parse(String(caught.data.msg)) as { error: { message: string; source: { id: string } }; payload: unknown };
    expect(msg.error.message).toBe(`cannot listen on ${address}:${busyPort}: the address is taken, usually by a time server already running there (chronyd or ntpd). Stop it, or choose another address or port.`);
    expect(msg.error.source.id).toBe('busy');
    expect(msg.payload).toEqual({ code: 'EADDRINUSE', address, port: busyPort });
    await red.waitForEvent(statusOf('busy', (s) => s.fill === 'red' && s.text === `address in use: ${address}:${busyPort}`), 5000, 'red status');

    // The rude client: every 100 ms from one port, its clock in every request, straight back after a RATE.
    await burst(address, 15, { port: rudePort, gapMs: 100, settleMs: 100, sourceAddress: '127.71.0.66', clockInRequest: true });
    const seen = red.events.length;
    const report = await red.waitForEvent((e) => red.events.indexOf(e) >= seen && debugFrom('rudeout')(e), 5000, 'the rude-client report');
    const payload = JSON.parse(String(report.data.msg)) as { rude: number; worst: { address: string; reasons: string[] }[] };
    expect(payload.rude).toBe(1);
    expect(payload.worst[0].address).toBe('127.71.0.66');
    expect(payload.worst[0].reasons[0]).toMatch(/^came back \d+ times sooner than a RATE asked$/);
    expect(payload.worst[0].reasons[1]).toMatch(/^asked 0\.\d s apart at the shortest \(the floor is 15 s\), [\d.]+ a minute$/);
    expect(payload.worst[0].reasons[2]).toBe('its clock is in 15 of its 15 requests');
    await red.waitForEvent(statusOf('rudesrv', (s) => s.fill === 'yellow' && /^stratum 4 · \d+ ok · \d+ kissed · 1 clients · rude: 127\.71\.0\.66$/.test(s.text ?? '')), 5000, 'rude in the status');

    const log = red.output();
    expect(log.split('no upstream set: every answer says "unsynchronised"').length - 1).toBe(1);
    // Caught, so not logged as well.
    expect(log).not.toContain(`cannot listen on ${address}:${busyPort}`);
  }, 40000);

  it('the edit dialog shows each error under its field, named by the label; the node has its own icon', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM + ' is missing: install Debian\'s chromium package, as .ci/run does');
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(red.url + '/', { waitUntil: 'domcontentloaded' });
    const paletteNode = page.locator('.red-ui-palette-node[data-palette-type="kisstime-server"]');
    await paletteNode.waitFor({ timeout: 20000 });
    expect(await paletteNode.locator('.red-ui-palette-icon').getAttribute('style')).toContain('kisstime-server.svg');

    // Dragged from the palette, as a user adds it, so the defaults are the node's own.
    await paletteNode.dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x: 300, y: 200 } });
    const id = await page.evaluate(() => {
      const w = globalThis as unknown as { RED: { nodes: { filterNodes(f: { type: string }): { id: string }[] } } };
      return w.RED.nodes.filterNodes({ type: 'kisstime-server' }).map((n) => n.id).find((n) => ['busy', 'lonely', 'rudesrv'].indexOf(n) < 0);
    });
    if (!id) throw new Error('the node was not added');
    await page.locator('[id="' + id + '"]').dblclick();
    await page.waitForSelector('#node-input-port', { state: 'visible' });
    // A new node listens on loopback until the user picks an interface.
    expect(await page.locator('#node-input-address').inputValue()).toBe('127.0.0.1');

    const typeInto = async (field: string, value: string): Promise<void> => {
      const input = page.locator('#node-input-' + field);
      await input.fill(value);
      await input.dispatchEvent('keyup');
      await input.dispatchEvent('change');
    };
    const errorUnder = async (field: string, words: string): Promise<void> => {
      const hint = page.locator('#kisstime-server-error-' + field);
      await expect.poll(() => hint.isVisible()).toBe(true);
      expect(await hint.innerText()).toBe(words);
      const input = await page.locator('#node-input-' + field).boundingBox();
      const box = await hint.boundingBox();
      if (!input || !box) throw new Error('no layout for ' + field);
      // Directly under its own field: below the input, before the next row.
      expect(box.y).toBeGreaterThanOrEqual(input.y + input.height - 2);
      expect(box.y - (input.y + input.height)).toBeLessThan(20);
    };

    await typeInto('port', '70000');
    await errorUnder('port', 'Port: a whole number from 0 to 65535 (123 is NTP\'s)');
    await typeInto('allow', '192.168.1.0/24, 10.0.0.0/99');
    await errorUnder('allow', 'Allow: not an address or CIDR block: "10.0.0.0/99" (e.g. 192.168.1.0/24, fd00::/8)');
    await typeInto('statsInterval', '0.5');
    await errorUnder('statsInterval', 'Stats every: at least 1 s');
    expect(await page.locator('#kisstime-server-error-deny').isVisible()).toBe(false);
    await page.screenshot({ path: join(SHOTS, 'nodered-server-editor-errors.png') });

    await typeInto('port', '11123');
    await typeInto('allow', '192.168.1.0/24');
    await typeInto('statsInterval', '10');
    for (const field of ['port', 'allow', 'statsInterval']) await expect.poll(() => page.locator('#kisstime-server-error-' + field).isVisible()).toBe(false);
    await page.locator('#node-dialog-cancel').click();
    expect(pageErrors).toEqual([]);
  }, 60000);
});
