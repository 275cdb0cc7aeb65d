// The CLI as users expect it: waits, backoff and refusals kept per server, --forget that clears what it says it
// clears, a sync that sent nothing leaves no wait, help on stdout, --version, one JSON object for every outcome with
// --json, ISO times, and a refused reply that says why. Against two scriptable servers on loopback.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as query } from '../../src/node/cli/query';
import { run as sync } from '../../src/node/cli/sync';
import { answerWithTime, makeKiss, makeReply, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { sleep } from '../support/packet';
import { runCli } from './cli-io';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'kisstime.js');
let a: string;
let b: string;
let first: Kisser;
let second: Kisser;
let dir: string;
let n = 0;

const state = (): string => join(dir, 'state-' + ++n + '.json');
const silent = (): null => null;

beforeAll(async () => {
  a = allocateLoopback('cli-behaviour-a');
  b = allocateLoopback('cli-behaviour-b');
  first = await startKisser(a, 0);
  second = await startKisser(b, 0);
  dir = mkdtempSync(join(tmpdir(), 'kisstime-cli-'));
});

afterAll(async () => {
  await first.close();
  await second.close();
  releaseLoopback(a);
  releaseLoopback(b);
  rmSync(dir, { recursive: true, force: true });
});

describe('the kisstime CLI', () => {
  it('a failure at one host never delays a query to another', async () => {
    const file = state();
    first.setHandler(silent);
    second.setHandler(answerWithTime);
    const failed = await runCli(query, [a + ':' + first.port, '--state', file, '--timeout', '0.3s']);
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/no answer within 300 ms|no answer within 0\.3 s/);
    // The failed host waits out its backoff...
    const again = await runCli(query, [a + ':' + first.port, '--state', file, '--timeout', '0.3s']);
    expect(again.code).toBe(3);
    expect(again.err).toMatch(/backing off/);
    // ...and the other host, never asked, is asked at once.
    const before = second.count();
    const other = await runCli(query, [b + ':' + second.port, '--state', file]);
    expect(other.code, other.err).toBe(0);
    expect(second.count()).toBe(before + 1);
  });

  it('--forget HOST clears the refusal it reports, and the next query is sent once the 15 s floor allows', async () => {
    const file = state();
    first.setHandler((req) => (req.packet ? { bytes: makeKiss(req, 'DENY') } : null));
    expect((await runCli(query, [a + ':' + first.port, '--state', file])).code).toBe(1);
    const refused = await runCli(query, [a + ':' + first.port, '--state', file, '--json']);
    expect(JSON.parse(refused.out)).toMatchObject({ ok: false, held: 'DENY' });
    const forgot = await runCli(query, ['--forget', a, '--state', file, '--json']);
    expect(JSON.parse(forgot.out)).toMatchObject({ ok: true, forgot: a, refusals: 1 });
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.snapshot.hold).toEqual([]);
    // Within 15 s of the DENY'd request: refused by the floor (and says so), not by the forgotten hold.
    const soon = await runCli(query, [a + ':' + first.port, '--state', file, '--json']);
    expect(soon.code).toBe(3);
    expect(JSON.parse(soon.out).deferred).toMatch(/floor|min-interval/);
  });

  it('--forget with no host clears the backoff of every server', async () => {
    const file = state();
    first.setHandler(silent);
    second.setHandler(silent);
    await runCli(query, [a + ':' + first.port, '--state', file, '--timeout', '0.2s']);
    await runCli(query, [b + ':' + second.port, '--state', file, '--timeout', '0.2s']);
    const forgot = await runCli(query, ['--forget', '--state', file]);
    expect(forgot.code, forgot.err).toBe(0);
    expect(forgot.out).toMatch(/forgot 0 refusal\(s\) and 2 saved wait\(s\) for every server/);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    for (const server of saved.snapshot.srv) for (const ip of server.ips) expect(ip.fail).toBe(0);
  });

  it('a sync that sent nothing leaves no wait for a query', async () => {
    const file = state();
    second.setHandler(answerWithTime);
    const controller = new AbortController();
    // A startup delay of a minute: stopped after a moment, it has sent nothing.
    const running = runCli(sync, [b + ':' + second.port, '--lan', '--min-interval', '16s', '--startup-delay', '60s', '--state', file], controller.signal);
    await sleep(500);
    controller.abort();
    expect((await running).code).toBe(0);
    const before = second.count();
    const r = await runCli(query, [b + ':' + second.port, '--state', file]);
    expect(r.code, r.err).toBe(0);
    expect(second.count()).toBe(before + 1);
  });

  it('a reply that proves itself but carries no time says why, never "no answer"', async () => {
    first.setHandler((req) => (req.packet ? { bytes: makeReply(req, { leap: 3, stratum: 16 }) } : null));
    const r = await runCli(query, [a + ':' + first.port, '--state', state(), '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unsynchronised/);
    expect(r.err).not.toMatch(/no answer/);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, failed: 'unusable' });
  });

  it('help goes to stdout with exit 0, --version answers, an unknown flag is named, and --json failures are JSON', () => {
    const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/kisstime query/);
    expect(help.stderr).toBe('');
    const subHelp = spawnSync(process.execPath, [BIN, 'sync', '--help'], { encoding: 'utf8' });
    expect(subHelp.status).toBe(0);
    expect(subHelp.stdout).toMatch(/--accuracy/);
    const version = execFileSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    expect(version.trim()).toBe('kisstime ' + JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const unknown = spawnSync(process.execPath, [BIN, 'sync', '127.0.0.1', '--min-intervl', '16s'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--min-intervl');
    const bad = spawnSync(process.execPath, [BIN, 'query', '--json'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, error: expect.stringMatching(/which server/) });
    const badSync = spawnSync(process.execPath, [BIN, 'sync', '--json', '127.0.0.1', '--min-interval', '1s'], { encoding: 'utf8' });
    expect(badSync.status).toBe(2);
    expect(JSON.parse(badSync.stdout)).toMatchObject({ event: 'error', error: expect.stringMatching(/--min-interval/) });
  });
});
