// What the firmware keeps in flash: a corrupt file, a reboot loop, the fleet config file, and a state file written
// by the previous schema, all on the built bundle.

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

  it('a corrupt state file means a polite fresh start: startup delay first, then one request', async () => {
    for (const junk of ['{v:2,f:', '{"v":2,"f":-5,"w":0,"z":0,"holds":[],"slots":[]}', '[1,2,3]', '{v:99}']) {
      const storage = new FlashStorage();
      storage.write('kisstime.state', junk);
      board = await flashedBoard({ serial: 'corrupt', storage }, { servers: [`${address}:${server.port}`], startupDelayMin: 60, startupDelayMax: 120 });
      const { events } = bootAndListen(board);
      await board.run(59000);
      expect(board.sent.length).toBe(0);
      await board.run(66000);
      expect(board.sent.length).toBe(1);
      expect(events.sync.length).toBe(1);
      expect(board.uncaught).toEqual([]);
      expect(board.console.join('\n')).toMatch(/kisstime: saved state (corrupt|unknown-schema)/);
      board.powerOff();
    }
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

  it('ignores a bad kisstime.cfg with a console line naming the field, and sends nothing without a config', async () => {
    const cases: [unknown, RegExp][] = [
      [{ servers: [`${address}:${server.port}`], minInterval: '5m' }, /minInterval: /],
      [{ servers: [] }, /servers: /],
      [{ servers: ['bad host'] }, /servers\[0\]: /],
      [{ servers: [address], setClock: 'soon' }, /setClock: /],
      // What a board accepts less of than Node (firmware/README.md): durations as texts, server objects, IPv6.
      [{ servers: [address], minInterval: '34m' }, /minInterval: expected seconds$/],
      [{ servers: [address], setClock: '2s' }, /setClock: /],
      [{ servers: [{ host: address, port: 123 }] }, /servers\[0\]: /],
      [{ servers: [address, '[::1]:123'] }, /servers\[1\]: /],
      ['not an object', /not an object/],
    ];
    for (const [config, message] of cases) {
      board = await flashedBoard({ serial: 'bad-config' }, config);
      board.boot();
      expect(board.uncaught).toEqual([]);
      const lines = board.console.join('\n');
      expect(lines).toMatch(/kisstime: kisstime.cfg ignored: /);
      expect(lines.split('\n').find((l) => l.includes('ignored'))).toMatch(message);
      expect(lines).toContain('kisstime: not started: no config');
      await board.run(HOUR_MS);
      expect(board.sent).toEqual([]);
      board.powerOff();
    }
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
