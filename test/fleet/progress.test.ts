// Live progress of a long fleet run: on a terminal a line with virtual days, events/s and time left, rewritten in
// place; nothing for a short run; nothing at all when stderr is not a terminal.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ProgressLine } from '../../src/fleet/progress';

const ROOT = join(__dirname, '..', '..');
const DAY_MS = 86400e3;

function line(showAfterMs: number) {
  let nowMs = 0;
  const written: string[] = [];
  const p = new ProgressLine({ totalDeviceMs: 1000 * 30 * DAY_MS, days: 30, showAfterMs: showAfterMs, everyMs: 250, now: () => nowMs, write: (t) => { written.push(t); } });
  return { p, written, at: (ms: number) => { nowMs = ms; } };
}

function run(command: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * A run of the simulator's own machinery (the arduino model polls every minute: no core scheduler in the loop, so
 * its length does not change when the scheduler gets faster) that takes a few seconds.
 */
const LONG_RUN = ['bin/kisstime.js', 'simulate', '--devices', '8000', '--days', '1', '--policy', 'arduino', '--workers', '1'];

describe('progress of a fleet run', () => {
  test('shows virtual days done, events per second and time left, once the run has lasted a while, and takes the line away at the end', () => {
    const l = line(1000);
    l.at(500);
    l.p.advance(100 * 30 * DAY_MS, 1_000_000);
    expect(l.written).toEqual([]);
    l.at(2000);
    l.p.advance(100 * 30 * DAY_MS, 1_000_000);
    // 200 of 1,000 device-months in 2 s: 6 of 30 days, 1 M events/s, 8 s left.
    expect(l.written).toEqual(['\r\x1b[Ksimulated 6.0 of 30 virtual days (20 %), 1.00 M events/s, about 8 s left']);
    l.at(2100);
    l.p.advance(1, 1);
    expect(l.written.length).toBe(1);
    l.p.finish();
    expect(l.written[l.written.length - 1]).toBe('\r\x1b[K');
  });

  test('a short run shows nothing and leaves nothing behind', () => {
    const l = line(1000);
    l.at(900);
    l.p.advance(1000 * 30 * DAY_MS, 10);
    l.p.finish();
    expect(l.written).toEqual([]);
  });

  test('on a terminal, kisstime simulate shows its progress on stderr', async () => {
    // script(1) gives the command a pseudo-terminal; what it shows comes back on script's stdout.
    const r = await run('script', ['-q', '-e', '-c', ['node'].concat(LONG_RUN).join(' '), '/dev/null']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/simulated \d+\.\d of 1 virtual days \(\d+ %\), [\d.]+ (k |M )?events\/s, about \d+ s left/);
    expect(r.out).toMatch(/arduino \/ steady: 8,000 devices/);
  }, 60_000);

  test('with stderr not a terminal, it prints nothing there', async () => {
    const r = await run('node', LONG_RUN);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/arduino \/ steady: 8,000 devices/);
    const wallS = Number(/runtime: ([\d.]+) s wall/.exec(r.out)?.[1]);
    // Long enough that a terminal would have shown progress.
    expect(wallS).toBeGreaterThan(1.5);
  }, 60_000);
});
