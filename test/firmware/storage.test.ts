// What the firmware keeps in flash, with the flash writes counted (which the real interpreter cannot do): a reboot
// loop over a virtual hour, the fleet config file, a bad config, and a state file written by the previous schema.
// Corrupt state and config files are fuzzed on the real interpreter (test/espruino/board-faults.test.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import type { Kisser } from '../support/kisser';
import { EspruinoBoard } from './espruino-board';
import { BOOT0, bootAndListen, flashedBoard, HOUR_MS } from './firmware-fixture';
import { FlashStorage } from './flash-storage';
import { startVirtualServer, type Behaviour } from './virtual-server';

describe('firmware state in Storage', () => {
  let address: string;
  let other: string;
  let server: Kisser;
  let otherServer: Kisser;
  let board: EspruinoBoard;
  const behaviour: Behaviour = 'answer';

  beforeAll(async () => {
    address = allocateLoopback('firmware-storage-a');
    other = allocateLoopback('firmware-storage-b');
    server = await startVirtualServer(address, () => board, () => behaviour);
    otherServer = await startVirtualServer(other, () => board, () => behaviour);
  });
  afterAll(async () => {
    board?.powerOff();
    await server?.close();
    await otherServer?.close();
    releaseLoopback(address);
    releaseLoopback(other);
  });

  it('a reboot loop stays polite: at most one request however often the board restarts', async () => {
    board = await flashedBoard({ serial: 'reboot-loop' }, { servers: [`${address}:${server.port}`], startupDelayMin: 1, startupDelayMax: 20 });
    for (let i = 0; i < 360; i++) {
      bootAndListen(board);
      await board.run(10000);
    }
    console.log(`reboot every 10 s for a virtual hour: ${board.sent.length} request(s), ${board.storage.writesTo('kisstime.state')} state write(s)`);
    expect(board.sent.length).toBeLessThanOrEqual(1);
    expect(board.storage.writesTo('kisstime.state')).toBeLessThanOrEqual(2);
  });

  it('takes the config from kisstime.cfg over the one in code, so a fleet changes servers without reflashing', async () => {
    const storage = new FlashStorage();
    board = await flashedBoard({ serial: 'fleet-cfg', storage }, { servers: [`${other}:${otherServer.port}`], startupDelayMin: 1, startupDelayMax: 2 });
    storage.write('.boot0', `var kisstime = require("kisstime").start({ servers: ["${address}:${server.port}"], startupDelayMax: 2 });`);
    bootAndListen(board);
    await board.run(10000);
    expect(board.sent.map((s) => s.address)).toEqual([other]);
  });

  it('keeps the holds of a schema-1 state file across a firmware update', async () => {
    const storage = new FlashStorage();
    // What the previous firmware wrote: holds as "address|port|code" strings.
    storage.writeJSON('kisstime.state', { v: 1, held: [`${address}|${server.port}|DENY`], failures: 0 });
    board = await flashedBoard({ serial: 'upgrade', storage },
      { servers: [`${address}:${server.port}`, `${other}:${otherServer.port}`], startupDelayMin: 1, startupDelayMax: 2 });
    const { events } = bootAndListen(board);
    await board.run(HOUR_MS);
    expect(board.console.join('\n')).toMatch(/saved state migrated/);
    expect(board.sent.length).toBeGreaterThan(0);
    expect(board.sent.every((s) => s.address === other)).toBe(true);
    expect(events.sync.length).toBeGreaterThan(0);
    const saved = storage.readJSON('kisstime.state') as { v: number; hold: { a: string; c: string }[] };
    expect(saved.v).toBe(3);
    expect(saved.hold).toEqual([expect.objectContaining({ a: address, c: 'DENY' })]);
  });

  it('imitates the flash: 28-character names, unchanged writes cost nothing', () => {
    const storage = new FlashStorage();
    expect(() => storage.write('x'.repeat(29), 'a')).toThrow(/1-28 characters/);
    storage.writeJSON('kisstime.state', { v: 2 });
    storage.writeJSON('kisstime.state', { v: 2 });
    expect(storage.writesTo('kisstime.state')).toBe(1);
    expect(storage.read('kisstime.state')).toBe('{v:2}');
    expect(BOOT0).toMatch(/require\('kisstime'\)\.start\(\)/);
  });
});
