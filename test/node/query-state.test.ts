// 'kisstime query' shares the state file with 'sync': it refuses a server that refused us, waits out the floor and a
// RATE, and says so without sending. The server here is the scriptable kisser, which counts every datagram.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as query } from '../../src/node/cli/query';
import { answerWithTime, makeKiss, makeReply, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { sleep } from '../support/packet';
import { runCli } from './cli-io';

let address: string;
let kisser: Kisser;
let dir: string;
let n = 0;

function freshState(): string {
  return join(dir, 'state-' + ++n + '.json');
}

beforeAll(async () => {
  address = allocateLoopback('node-query-state');
  kisser = await startKisser(address, 0);
  dir = mkdtempSync(join(tmpdir(), 'kisstime-query-'));
});

afterAll(async () => {
  await kisser.close();
  releaseLoopback(address);
  rmSync(dir, { recursive: true, force: true });
});

describe('kisstime query', () => {
  it('prints offset, delay, stratum, refid, leap, precision, root distance and server', async () => {
    kisser.setHandler((req) => (req.packet ? { bytes: makeReply(req, { offsetSeconds: -0.5, stratum: 4, refid: 0x0a000001 }) } : null));
    const r = await runCli(query, [address + ':' + kisser.port, '--state', freshState()]);
    expect(r.code, r.err).toBe(0);
    const offset = Number(/offset:\s+([-+]\d+\.\d+) s/.exec(r.out)![1]);
    const delay = Number(/delay:\s+(\d+\.\d+) s/.exec(r.out)![1]);
    // The fake server shares this process's event loop: on a loaded machine the error can reach half the delay.
    expect(Math.abs(offset + 0.5)).toBeLessThan(delay / 2 + 0.002);
    expect(r.out).toMatch(/stratum:\s+4/);
    expect(r.out).toMatch(/refid:\s+10\.0\.0\.1/);
    expect(r.out).toMatch(/leap:\s+0/);
    expect(r.out).toMatch(/precision:\s+9\.5e-7 s \(2\^-20\)/);
    expect(r.out).toMatch(/root distance:\s+0\.00\d+ s/);
    expect(r.out).toContain('server:        ' + address);
  });

  it('within the 15 s floor says how long to wait and sends nothing', async () => {
    kisser.setHandler(answerWithTime);
    const state = freshState();
    const first = await runCli(query, [address + ':' + kisser.port, '--state', state, '--json']);
    expect(first.code, first.err).toBe(0);
    expect(JSON.parse(first.out).stratum).toBe(2);
    const seen = kisser.count();
    const second = await runCli(query, [address + ':' + kisser.port, '--state', state]);
    expect(second.code).toBe(3);
    expect(second.err).toMatch(/not sending to .*wait 1[56] s/);
    await sleep(100);
    expect(kisser.count()).toBe(seen);
  });

  it('refuses a server that sent DENY, in this run and the next, and says how to clear it', async () => {
    kisser.setHandler((req) => (req.packet ? { bytes: makeKiss(req, 'DENY') } : null));
    const state = freshState();
    const first = await runCli(query, [address + ':' + kisser.port, '--state', state]);
    expect(first.code).toBe(1);
    expect(first.err).toContain('kiss DENY');
    expect(first.err).toContain('never be asked again');
    expect(first.err).toContain('--forget ' + address);
    const seen = kisser.count();
    const second = await runCli(query, [address + ':' + kisser.port, '--state', state]);
    expect(second.code).toBe(1);
    expect(second.err).toContain('refused us with a DENY kiss');
    expect(second.err).toContain('kisstime query --forget ' + address + ' --state ' + state);
    expect(second.err).toContain('delete ' + state);
    await sleep(100);
    expect(kisser.count()).toBe(seen);

    const forgot = await runCli(query, ['--forget', address, '--state', state]);
    expect(forgot.code, forgot.err).toBe(0);
    expect(forgot.out).toMatch(/forgot 1 refusal/);
    // Forgetting the refusal does not forget that a request went out moments ago.
    kisser.setHandler(answerWithTime);
    const third = await runCli(query, [address + ':' + kisser.port, '--state', state]);
    expect(third.code).toBe(3);
    expect(kisser.count()).toBe(seen);
  });

  it('after a RATE kiss waits out the server\'s slow-down, not just the floor', async () => {
    kisser.setHandler((req) => (req.packet ? { bytes: makeKiss(req, 'RATE', { poll: 6 }) } : null));
    const state = freshState();
    const first = await runCli(query, [address + ':' + kisser.port, '--state', state]);
    expect(first.code).toBe(1);
    expect(first.err).toContain('kiss RATE');
    expect(first.err).toMatch(/no sooner than 64 s/);
    const seen = kisser.count();
    const second = await runCli(query, [address + ':' + kisser.port, '--state', state, '--json']);
    expect(second.code).toBe(3);
    const body = JSON.parse(second.out);
    expect(body.deferred).toBe('rate-limited');
    expect(body.waitS).toBeGreaterThan(55);
    expect(second.err).toContain('slow down');
    expect(kisser.count()).toBe(seen);
  });

  it('starts politely from a corrupt state file and replaces it with a good one', async () => {
    kisser.setHandler(answerWithTime);
    const state = freshState();
    writeFileSync(state, '{"format":"kisstime-state","savedAtMs":1,"snap');
    const r = await runCli(query, [address + ':' + kisser.port, '--state', state]);
    expect(r.err).toContain('not valid JSON');
    expect(r.code, r.err).toBe(0);
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    expect(saved.format).toBe('kisstime-state');
    expect(saved.snapshot.v).toBe(3);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('rejects bad usage with exit 2, naming what is wrong', async () => {
    const noHost = await runCli(query, []);
    expect(noHost.code).toBe(2);
    const badFlag = await runCli(query, ['127.0.0.1', '--bogus']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toContain('--bogus');
    const badTimeout = await runCli(query, ['127.0.0.1', '--timeout', 'soon']);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.err).toContain('--timeout');
  });
});
