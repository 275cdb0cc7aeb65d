// The fleet tool against loopback TCP listeners standing in for boards' telnet REPLs: the real espruino CLI
// connects to each, and what a "device" received is replayed to rebuild its Storage, which then boots on a
// virtual board. What is verified: the bytes the CLI sends and that they recreate the files; not verified: a real
// board's REPL answering (the listeners stay silent, and the CLI completes without answers).

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type BuildResult } from '../../firmware/build';
import { EspruinoBoard } from './espruino-board';
import { BOOT0 } from './firmware-fixture';
import { FlashStorage } from './flash-storage';

interface Device {
  server: Server;
  port: number;
  received: string;
}

function listen(): Promise<Device> {
  return new Promise((resolve) => {
    const device: Device = { server: createServer((socket) => socket.on('data', (d) => { device.received += d.toString('latin1'); })), port: 0, received: '' };
    device.server.listen(0, '127.0.0.1', () => {
      device.port = (device.server.address() as { port: number }).port;
      resolve(device);
    });
  });
}

/** Replays what the CLI typed at the REPL against a stand-in Storage, giving the files it would leave. */
function replay(text: string): Record<string, string> {
  const files: Record<string, string> = {};
  const storage = {
    write(name: string, data: string, offset?: number, size?: number) {
      if (!offset) files[name] = ''.padEnd(size ?? data.length, '\0');
      const at = offset ?? 0;
      files[name] = files[name].slice(0, at) + data + files[name].slice(at + data.length);
    },
  };
  const clean = text.replace(/[\x03\x10]/g, '');
  vm.runInNewContext(clean, {
    require: (m: string) => (m === 'Storage' ? storage : {}),
    atob: (s: string) => Buffer.from(s, 'base64').toString('latin1'),
    print: () => undefined,
    load: () => undefined,
    reset: () => undefined,
    E: { setConsole: () => undefined },
  });
  return files;
}

function runFleet(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(__dirname, '..', '..', 'firmware', 'tools', 'fleet.js'), ...args], { timeout: 90000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: stdout + stderr });
    });
  });
}

const FAST = ['--espruino-config', 'STORAGE_UPLOAD_METHOD=1', '--espruino-config', 'SERIAL_THROTTLE_SEND=2'];

describe('fleet:upload', () => {
  let fw: BuildResult;
  let a: Device;
  let b: Device;
  let closedPort: number;
  let dir: string;
  const configA = { servers: ['127.0.0.9'], startupDelayMax: 2 };

  beforeAll(async () => {
    fw = await build();
    a = await listen();
    b = await listen();
    const closed = await listen();
    closedPort = closed.port;
    await new Promise((resolve) => closed.server.close(resolve));
    dir = mkdtempSync(join(tmpdir(), 'kisstime-fleet-'));
    writeFileSync(join(dir, 'fleet.json'), JSON.stringify([
      { name: 'hall-1', port: `tcp://127.0.0.1:${a.port}`, config: configA },
      { name: 'hall-2', port: `tcp://127.0.0.1:${b.port}` },
      { name: 'gone', port: `tcp://127.0.0.1:${closedPort}`, config: configA },
      { name: 'greedy', port: `tcp://127.0.0.1:${b.port}`, config: { servers: ['127.0.0.9'], minInterval: '5m' } },
    ]));
  }, 60000);
  afterAll(async () => {
    await Promise.all([a, b].map((d) => new Promise((resolve) => d?.server.close(resolve))));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('uploads to each device in turn, keeps going past failures and prints a summary', async () => {
    const r = await runFleet([join(dir, 'fleet.json'), '--timeout', '20', ...FAST]);
    console.log(r.stdout);
    expect(r.code).toBe(1);
    const line = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(name)) ?? '';
    expect(line('hall-1')).toMatch(/ok .*0\.1\.0|ok \(/);
    expect(line('hall-1')).toContain(fw.version);
    expect(line('hall-2')).toMatch(/ok \(/);
    expect(line('gone')).toMatch(/failed: ECONNREFUSED/);
    expect(line('greedy')).toMatch(/refused: minInterval: /);
    expect(r.stdout).toMatch(/2 of 4 devices updated/);

    const filesA = replay(a.received);
    expect(filesA.kisstime).toBe(fw.minified);
    expect(filesA['.boot0']).toBe(BOOT0);
    expect(JSON.parse(filesA['kisstime.cfg'])).toEqual(configA);
    const filesB = replay(b.received);
    expect(filesB.kisstime).toBe(fw.minified);
    expect(filesB['kisstime.cfg']).toBeUndefined();

    // What hall-1 received boots: the replayed Storage starts Kisstime on a virtual board.
    const storage = new FlashStorage();
    for (const [name, data] of Object.entries(filesA)) storage.write(name, data);
    const board = new EspruinoBoard({ serial: 'hall-1', storage, hosts: {} });
    board.boot();
    expect(board.eval('typeof kisstime.now')).toBe('function');
    expect(board.uncaught).toEqual([]);
    board.powerOff();
  }, 90000);

  it('--dry-run writes what each device would receive, without connecting', async () => {
    const out = join(dir, 'dry');
    const before = a.received.length;
    const r = await runFleet([join(dir, 'fleet.json'), '--dry-run', out]);
    expect(r.stdout).toMatch(/3 of 4 devices written/);
    expect(readdirSync(out).sort()).toEqual(['gone.js', 'hall-1.js', 'hall-2.js']);
    const files = replay(readFileSync(join(out, 'hall-1.js'), 'latin1'));
    expect(files.kisstime).toBe(fw.minified);
    expect(JSON.parse(files['kisstime.cfg'])).toEqual(configA);
    expect(a.received.length).toBe(before);
  }, 60000);
});
