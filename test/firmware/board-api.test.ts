// What the real interpreter cannot show (it has no Wifi module and one fixed serial): names resolved with
// Wifi.getHostByName and never handed to send, failed lookups over hours, per-device seeding of Espruino's otherwise
// identical random numbers; and a throwing handler over many polls of a virtual clock.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import type { Kisser } from '../support/kisser';
import type { EspruinoBoard } from './espruino-board';
import { bootAndListen, flashedBoard, HOUR_MS } from './firmware-fixture';
import { startVirtualServer } from './virtual-server';

describe('firmware on the board', () => {
  let address: string;
  let server: Kisser;
  let board: EspruinoBoard;

  beforeAll(async () => {
    address = allocateLoopback('firmware-board-api');
    server = await startVirtualServer(address, () => board, () => 'answer');
  });
  afterAll(async () => {
    board?.powerOff();
    await server?.close();
    releaseLoopback(address);
  });

  it('resolves a name with Wifi.getHostByName and sends only to the address', async () => {
    board = await flashedBoard({ serial: 'dns', hosts: { 'time.lan': address } },
      { servers: [`time.lan:${server.port}`], startupDelayMin: 1, startupDelayMax: 2 });
    const { events } = bootAndListen(board);
    await board.run(10000);
    expect(board.lookups).toEqual(['time.lan']);
    expect(board.sent.map((s) => s.address)).toEqual([address]);
    expect(board.hostnameSends).toEqual([]);
    expect(events.sync.length).toBe(1);
  });

  it('a failed lookup is an error and a wait, never a send to the name', async () => {
    board = await flashedBoard({ serial: 'dns-fail', hosts: {} }, { servers: ['nowhere.lan'], startupDelayMin: 1, startupDelayMax: 2 });
    const { events } = bootAndListen(board);
    await board.run(3 * HOUR_MS);
    expect(board.sent).toEqual([]);
    expect(board.hostnameSends).toEqual([]);
    expect(events.error.filter((e) => e.cause === 'dns-error').length).toBeGreaterThan(0);
    // Looked up again at most hourly.
    expect(board.lookups.length).toBeLessThanOrEqual(4);
  });

  it('a board without a resolver refuses names at start and says it uses IP addresses only', async () => {
    board = await flashedBoard({ serial: 'no-wifi', hosts: null }, { servers: ['time.lan'] });
    board.boot();
    expect(board.uncaught).toEqual([]);
    expect(board.console.join('\n')).toMatch(/kisstime: kisstime.cfg ignored: servers\[0\]: no Wifi here to resolve names: use an IP address/);
    board = await flashedBoard({ serial: 'no-wifi-ip', hosts: null }, { servers: [`${address}:${server.port}`], startupDelayMin: 1, startupDelayMax: 2 });
    const { events } = bootAndListen(board);
    await board.run(10000);
    expect(board.console).toContain('kisstime: no Wifi module: IP addresses only');
    expect(events.sync.length).toBe(1);
  });

  it('a handler that throws is reported as uncaught and does not disturb the polling', async () => {
    board = await flashedBoard({ serial: 'throwing-handler' },
      { servers: [`${address}:${server.port}`], lanServer: true, minInterval: 16, maxInterval: 32, startupDelayMin: 1, startupDelayMax: 2 });
    const { handle, events } = bootAndListen(board);
    handle.on('sync', () => {
      throw new Error('handler bug');
    });
    await board.run(120000);
    expect(events.sync.length).toBeGreaterThanOrEqual(4);
    expect(events.sync.length).toBe(board.sent.length);
    expect(board.uncaught.map(String)).toEqual(events.sync.map(() => 'Error: handler bug'));
    expect(board.openSockets()).toBe(0);
  });

  async function firstRequestMs(serial: string): Promise<number> {
    // Both boards boot at the same moment of 1970 (no RTC), as after a power cut.
    board = await flashedBoard({ serial, clockStartS: 5 }, { servers: [`${address}:${server.port}`], startupDelayMin: 1, startupDelayMax: 300 });
    bootAndListen(board);
    await board.run(400000);
    board.powerOff();
    return board.sent[0].atMs;
  }

  it('two devices with different serials draw different startup delays (the same serial draws the same)', async () => {
    const a = await firstRequestMs('5ccf7f000001');
    const b = await firstRequestMs('5ccf7f000002');
    const again = await firstRequestMs('5ccf7f000001');
    console.log(`startup delays: serial ...01 ${(a / 1000).toFixed(1)} s, serial ...02 ${(b / 1000).toFixed(1)} s`);
    expect(Math.abs(a - b)).toBeGreaterThan(1000);
    // Same serial, same boot time: Espruino's generator is deterministic, which is why the seed must differ per device.
    expect(Math.abs(a - again)).toBeLessThan(1000);
  });
});
