// fleet:upload (firmware/tools/fleet.js) against real interpreter boards: three boards, each with its telnet REPL on
// port 2323 in a network namespace of its own (the port is fixed) with its own chronyd on that namespace's loopback,
// updated one after another by the real espruino CLI. Every board must end up synced, and the summary table must say
// what happened, including a config refused before upload and a board that cannot be reached. The dry run's output,
// run on a fresh board, installs the same Storage files and syncs too.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type BuildResult } from '../../firmware/build';
import { startChronyd, type Chronyd } from '../support/chronyd';
import { projectRoot, uploadLayout, type BoardRun } from '../support/espruino';
import { PROBE_SOURCE } from '../support/loopback';
import { createNetns, tcpListening, type NetworkNamespace } from '../support/netns';
import { waitFor } from '../support/process';
import { freshBoard, lanConfig, prepare, removeBoards, STARTUP_MAX_S } from './boards';

/** Faster Storage writes over a reliable link, as the stand-in fleet test used. */
const FAST = ['--espruino-config', 'STORAGE_UPLOAD_METHOD=1', '--espruino-config', 'SERIAL_THROTTLE_SEND=2'];

function runFleet(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(projectRoot(), 'firmware', 'tools', 'fleet.js'), ...args], { timeout: 120000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: stdout + stderr });
    });
  });
}

/** What a board's Storage holds, read at its REPL: the installed files (not the state) and the CRC-32 of each. */
async function storageOf(run: BoardRun): Promise<Record<string, number>> {
  return run.eval<Record<string, number>>('(function () { var s = require("Storage"); var o = {}; '
    + 's.list().forEach(function (n) { if (n !== "kisstime.state") o[n] = E.CRC32(s.read(n)); }); return o; })()');
}

/** Polls kisstime.now() at the board's REPL until it is a time. */
function synced(run: BoardRun, timeoutMs: number): Promise<number> {
  return waitFor(`${run.label}: kisstime.now() after a sync`, async () => {
    const now = await run.eval<number | null>('typeof kisstime === "object" ? kisstime.now() : null');
    return typeof now === 'number' ? now : undefined;
  }, { timeoutMs, intervalMs: 250 });
}

function crcs(files: { name: string; data: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of files) out[f.name] = crc32(Buffer.from(f.data, 'latin1'));
  return out;
}

describe('fleet:upload to real interpreter boards', () => {
  let fw: BuildResult;
  let dir: string;
  const namespaces: NetworkNamespace[] = [];
  const chronyds: Chronyd[] = [];

  beforeAll(async () => {
    await prepare();
    // fleet.js uploads firmware/dist, so this test writes it (the other tests build in memory).
    fw = await build();
    dir = mkdtempSync(join(tmpdir(), 'kisstime-fleet-'));
  }, 60000);
  afterAll(async () => {
    await removeBoards();
    await Promise.all(chronyds.map((c) => c.stop()));
    await Promise.all(namespaces.map((ns) => ns.remove()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('updates three boards one after another; each syncs, and the summary says so', async () => {
    const boards: { name: string; ns: NetworkNamespace; run: BoardRun; chronyd: Chronyd }[] = [];
    for (const name of ['hall-1', 'hall-2', 'hall-3']) {
      const ns = await createNetns(`espruino-${name}`);
      namespaces.push(ns);
      const chronyd = await startChronyd({ netns: ns.name, commandSocket: true });
      chronyds.push(chronyd);
      // A fresh board at its prompt, as one waiting for its first upload.
      const run = freshBoard(`fleet-${name}`, { netns: ns.name }).boot({ telnet: true });
      await waitFor(`${name}: telnet REPL on ${ns.address}:2323`, async () => ((await tcpListening(ns.name, 2323)) ? true : undefined), { timeoutMs: 10000 });
      boards.push({ name, ns, run, chronyd });
    }
    // Each namespace's chronyd is on its own loopback, so one config serves them all.
    const defaults = lanConfig('127.0.0.1', 123);
    const devices = [
      { name: 'hall-1', port: `tcp://${boards[0].ns.address}:2323` },
      { name: 'greedy', port: `tcp://${boards[0].ns.address}:2323`, config: { minInterval: '5m' } },
      { name: 'hall-2', port: `tcp://${boards[1].ns.address}:2323` },
      { name: 'gone', port: `tcp://${boards[1].ns.address}:2324` },
      { name: 'hall-3', port: `tcp://${boards[2].ns.address}:2323`, config: { startupDelayMax: 3 } },
    ];
    writeFileSync(join(dir, 'fleet.json'), JSON.stringify({ config: defaults, devices }));

    const started = Date.now();
    const result = await runFleet([join(dir, 'fleet.json'), '--timeout', '30', ...FAST]);
    console.log(`fleet:upload took ${((Date.now() - started) / 1000).toFixed(1)} s:\n${result.stdout}`);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['device', 'port', 'result', 'bundle']);
    const rows = lines.slice(1, 1 + devices.length).map((l) => l.split(/\s{2,}/));
    expect(rows.map((r) => r[0])).toEqual(devices.map((d) => d.name));
    expect(rows.map((r) => r[1])).toEqual(devices.map((d) => d.port));
    for (const r of [rows[0], rows[2], rows[4]]) {
      expect(r[2]).toMatch(/^ok \(\d+\.\d s\)$/);
      expect(r[3]).toBe(fw.version);
    }
    expect(rows[1].slice(2)).toEqual([expect.stringMatching(/^refused: minInterval: /), '-']);
    expect(rows[3].slice(2)).toEqual(['failed: ECONNREFUSED', '-']);
    expect(lines[1 + devices.length]).toBe(`3 of 5 devices updated with kisstime ${fw.version} (${fw.minifiedBytes} bytes)`);

    for (const [i, board] of boards.entries()) {
      const config = { ...defaults, ...devices[[0, 2, 4][i]].config };
      const now = await synced(board.run, (STARTUP_MAX_S + 10) * 1000);
      expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(1);
      expect(await storageOf(board.run)).toEqual(crcs(uploadLayout(fw.modules.map((m) => ({ name: m.name, code: m.minified })), config)));
      expect(await board.run.eval('require("Storage").readJSON("kisstime.cfg")')).toEqual(config);
      // One request reached this board's chronyd, from the board.
      const clients = (await board.chronyd.clients()).filter((c) => c.address !== PROBE_SOURCE);
      expect(clients).toEqual([expect.objectContaining({ address: '127.0.0.1', ntpPackets: 1 })]);
      expect(board.run.uncaught()).toEqual([]);
    }
  }, 180000);

  it('--dry-run writes what a board would receive; run on a fresh board, it installs Kisstime, which syncs', async () => {
    const chronyd = await startChronyd({ label: 'espruino-fleet-dry-run', commandSocket: true });
    chronyds.push(chronyd);
    const config = lanConfig(chronyd.address, chronyd.port);
    writeFileSync(join(dir, 'dry.json'), JSON.stringify([{ name: 'hall-9', port: 'tcp://192.0.2.1:23', config }]));
    const out = join(dir, 'dry');
    const result = await runFleet([join(dir, 'dry.json'), '--dry-run', out]);
    expect(result.stdout).toMatch(/1 of 1 devices written/);
    expect(readdirSync(out)).toEqual(['hall-9.js']);
    // The file ends with load(), so the board restarts into its new .boot0 within this run.
    const run = freshBoard('fleet-dry-run').boot({ script: readFileSync(join(out, 'hall-9.js'), 'latin1') });
    await synced(run, (STARTUP_MAX_S + 10) * 1000);
    // The same Storage as the test fixture lays out for every other real-interpreter test.
    expect(await storageOf(run)).toEqual(crcs(uploadLayout(fw.modules.map((m) => ({ name: m.name, code: m.minified })), config)));
    const clients = (await chronyd.clients()).filter((c) => c.address !== PROBE_SOURCE);
    expect(clients).toEqual([expect.objectContaining({ address: '127.0.0.1', ntpPackets: 1 })]);
    expect(run.uncaught()).toEqual([]);
  }, 60000);
});
