// The real-interpreter fixture itself (test/support/espruino.ts): where it finds the interpreter, what it refuses,
// and that a board it cannot stop any other way is killed by pid.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { espruinoPath, projectRoot } from '../support/espruino';
import { freshBoard, prepare, removeBoards } from './boards';

describe('the Espruino interpreter fixture', () => {
  beforeAll(prepare, 120000);
  afterAll(removeBoards);

  it('finds the interpreter at ../shared/espruino/espruino from the project root, and says where it looked when it is not there', () => {
    expect(espruinoPath()).toBe(join(projectRoot(), '..', 'shared', 'espruino', 'espruino'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'kisstime-noshared-'));
    try {
      const root = join(elsewhere, 'clone');
      expect(() => espruinoPath(root)).toThrow(`the Espruino interpreter is missing: no executable at ${join(elsewhere, 'shared', 'espruino', 'espruino')}`);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('writes Storage on a fresh board only, and refuses an empty file (Storage cannot hold one)', async () => {
    const board = freshBoard('fixture-flash');
    await expect(board.flash([{ name: 'x', data: '' }])).rejects.toThrow(/cannot hold an empty file/);
    const binary = '\u0000\u00ff\u0080\n'.repeat(2000);
    expect(await board.flash([{ name: 'a', data: 'one' }, { name: 'b', data: binary }])).toEqual(['a', 'b']);
    await expect(board.flash([{ name: 'c', data: 'two' }])).rejects.toThrow(/fresh board only/);
    // A reboot on the same flash: what was written is there, byte for byte (written in chunks of 4096).
    const run = board.boot({ script: 'var s = require("Storage"); print("@read " + JSON.stringify([s.read("a"), s.read("b").length, E.CRC32(s.read("b"))]));' });
    expect(JSON.parse((await run.waitForLine(/^@read /, 5000)).text.slice(6))).toEqual(['one', binary.length, crc32(Buffer.from(binary, 'latin1'))]);
    expect(await run.waitForExit(5000)).toEqual({ code: 0, signal: null });
  }, 30000);

  // At its bare prompt (no script) the interpreter ignores SIGTERM; with a script, SIGTERM ends it.
  it('reads the console and the REPL, and kills a board that ignores SIGTERM by pid', async () => {
    const run = freshBoard('fixture-kill').boot();
    await run.waitForLine(/espruino\.com/, 5000);
    expect(await run.eval<number>('6 * 7')).toBe(42);
    process.kill(run.pid, 'SIGTERM');
    await expect(run.waitForExit(1000)).rejects.toThrow(/still running/);
    expect(await run.kill()).toEqual({ code: null, signal: 'SIGKILL' });
  }, 30000);
});
