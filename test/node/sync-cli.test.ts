// 'kisstime sync': the long-running loop prints a line per event (or JSON lines), saves state, stops on a signal,
// and refuses bad flags with exit 2, naming the flag.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as sync } from '../../src/node/cli/sync';
import { answerWithTime, makeKiss, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { runCli } from './cli-io';

let address: string;
let kisser: Kisser;
let dir: string;

beforeAll(async () => {
  address = allocateLoopback('node-sync-cli');
  kisser = await startKisser(address, 0);
  dir = mkdtempSync(join(tmpdir(), 'kisstime-sync-'));
});

afterAll(async () => {
  await kisser.close();
  releaseLoopback(address);
  rmSync(dir, { recursive: true, force: true });
});

async function waitUntil(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('kisstime sync', () => {
  it('prints JSON lines for the request and the sample, saves state, and stops cleanly on abort', async () => {
    kisser.setHandler(answerWithTime);
    const state = join(dir, 'sync.json');
    const abort = new AbortController();
    let out = '';
    const done = sync([address + ':' + kisser.port, '--lan', '--min-interval', '16s', '--startup-delay', '0-0', '--json', '--state', state],
      { out: (t) => (out += t), err: (t) => (out += t), signal: abort.signal });
    await waitUntil(() => out.includes('"event":"sample"'));
    abort.abort();
    expect(await done).toBe(0);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; offset?: number; localPort?: number });
    expect(events.map((e) => e.event)).toEqual(['start', 'send', 'sample']);
    expect(events[1].localPort).toBeGreaterThan(0);
    expect(Math.abs(events[2].offset!)).toBeLessThan(0.01);
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    expect(saved.snapshot.srv[0].ips[0].a).toBe(address);
    expect(kisser.count()).toBeGreaterThanOrEqual(1);
  });

  it('on a restart waits out the saved interval instead of asking again at once', async () => {
    const state = join(dir, 'restart.json');
    const args = [address + ':' + kisser.port, '--lan', '--min-interval', '16s', '--startup-delay', '0-0', '--state', state];
    const first = new AbortController();
    let out1 = '';
    const run1 = sync(args, { out: (t) => (out1 += t), err: (t) => (out1 += t), signal: first.signal });
    await waitUntil(() => out1.includes('sample'));
    first.abort();
    expect(await run1).toBe(0);
    const seen = kisser.count();
    const second = new AbortController();
    let out2 = '';
    const run2 = sync(args, { out: (t) => (out2 += t), err: (t) => (out2 += t), signal: second.signal });
    await new Promise((r) => setTimeout(r, 200));
    second.abort();
    expect(await run2).toBe(0);
    expect(out2).toMatch(/waiting +first request at /);
    expect(kisser.count()).toBe(seen);
  });

  it('exits when every server has refused us, printing the kiss', async () => {
    kisser.setHandler((req) => (req.packet ? { bytes: makeKiss(req, 'RSTR') } : null));
    const r = await runCli(sync, [address + ':' + kisser.port, '--lan', '--min-interval', '16s', '--startup-delay', '0', '--state', join(dir, 'rstr.json')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/kiss +RSTR from /);
    expect(r.out).toMatch(/stopped +every configured server has refused us/);
    kisser.setHandler(answerWithTime);
  });

  it('refuses bad flags with exit 2 and names the flag', async () => {
    const cases: [string[], string][] = [
      [['127.0.0.1', '--min-interval', 'often'], '--min-interval'],
      [['127.0.0.1', '--min-interval', '16s'], '--min-interval'],
      [['127.0.0.1', '--startup-delay', '5m-1m'], '--startup-delay'],
      [['127.0.0.1', '--lan', '--min-interval', '1m', '--max-interval', '30s'], '--max-interval'],
      [['127.0.0.1', '--frobnicate'], '--frobnicate'],
      [['127.0.0.1', '--state', '--json'], '--state'],
      [[], 'HOST'],
      [['not a host!'], 'HOST'],
    ];
    for (const [args, flag] of cases) {
      const r = await runCli(sync, args.includes('--state') ? args : [...args, '--state', join(dir, 'never.json')]);
      expect(r.code, args.join(' ') + ': ' + r.err).toBe(2);
      expect(r.err, args.join(' ')).toContain(flag);
    }
  });
});
