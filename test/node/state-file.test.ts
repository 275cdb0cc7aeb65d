// The state file: atomic replacement, polite recovery from corruption, waits moved on by wall time, and sharing
// between clients that use different servers.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientState, createModel, NEVER, ServerState } from '../../src/core';
import { createClient, mergeStates, readStateFile, StateFile, writeFileAtomic } from '../../src/node';
import { startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { sleep } from '../support/packet';

let dir: string;
let address: string;
let kisser: Kisser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kisstime-state-'));
  address = allocateLoopback('node-state-file');
  kisser = await startKisser(address, 0);
});

afterAll(async () => {
  await kisser.close();
  releaseLoopback(address);
  rmSync(dir, { recursive: true, force: true });
});

function server(h: string, a: string, extra: Partial<ServerState['ips'][number]> = {}): ServerState {
  return { h, p: 123, ttl: NEVER, dnsa: NEVER, dnse: NEVER, bad: 0, ips: [{ a, iv: 64, rf: 0, sent: NEVER, fail: 0, wait: NEVER, ...extra }] };
}

function state(extra: Partial<ClientState> = {}): ClientState {
  return { v: 3, t: 0, hold: [], srv: [], m: createModel(), ...extra };
}

describe('state file', () => {
  it('is replaced atomically: a reader racing many writers only ever sees a whole file', async () => {
    const path = join(dir, 'atomic.json');
    const big = 'x'.repeat(200000);
    let torn = 0;
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        if (existsSync(path)) {
          reads++;
          try {
            JSON.parse(readFileSync(path, 'utf8'));
          } catch {
            torn++;
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all(Array.from({ length: 30 }, (_, i) => writeFileAtomic(path, JSON.stringify({ i, big }))));
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(torn).toBe(0);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('a corrupt file gives a polite fresh start: startup delay, nothing sent at once, a note saying why', async () => {
    const path = join(dir, 'corrupt.json');
    writeFileSync(path, '\u0000\u0001garbage{');
    const client = createClient({ config: { servers: [address + ':' + kisser.port], lanServer: true, minInterval: '16s', startupDelayMin: '20s', startupDelayMax: '60s' }, statePath: path });
    try {
      const before = kisser.count();
      client.start();
      const status = client.status();
      expect(status.restoreNote).toContain('not valid JSON');
      expect(status.phase).toBe('waiting');
      expect(status.next!.getTime() - Date.now()).toBeGreaterThan(19000);
      await sleep(100);
      expect(kisser.count()).toBe(before);
    } finally {
      await client.stop();
    }
    // Stopping wrote a good file over the bad one.
    const read = readStateFile(path, Date.now());
    expect((read.raw as ClientState).v).toBe(3);
  });

  it('round-trips through the file, with the wall time between save and read, never negative', async () => {
    const path = join(dir, 'roundtrip.json');
    const file = new StateFile(path, (e) => {
      throw e;
    });
    const saved = state({ srv: [server('a', '127.1.1.1', { sent: 4000, rf: 32 })] });
    await file.save(saved, 5000, 1_000_000);
    const read = readStateFile(path, 1_000_000 + 45_000);
    expect(read.elapsedMs).toBe(45_000);
    expect(read.raw).toEqual({ ...saved, t: 5000 });
    expect(readStateFile(path, 1_000_000 - 3600_000).elapsedMs).toBe(0);
    // The record saved is a copy: the scheduler may go on changing its own.
    saved.srv[0].ips[0].sent = 9999;
    expect((readStateFile(path, 0).raw as ClientState).srv[0].ips[0].sent).toBe(4000);
  });

  it('a client using other servers keeps the refusals and waits saved for ours, moved onto its own clock', async () => {
    const path = join(dir, 'shared.json');
    const syncFile = new StateFile(path, (e) => {
      throw e;
    });
    // 'sync' saves at its monotonic 10 s, wall 1,000,000 ms: its last request to b went 3 s before.
    await syncFile.save(state({
      hold: [{ h: 'a', a: '127.1.1.1', p: 123, c: 'DENY' }],
      srv: [server('a', '127.1.1.1'), server('b', '127.2.2.2', { iv: 1024, rf: 512, sent: 7000 })],
    }), 10_000, 1_000_000);
    const queryFile = new StateFile(path, (e) => {
      throw e;
    });
    // 'query' saves 20 s of wall time later, at its own monotonic 500 ms.
    await queryFile.save(state({ srv: [server('c', '127.3.3.3', { sent: 400 })] }), 500, 1_020_000);
    const merged = readStateFile(path, 1_020_000).raw as ClientState;
    expect(merged.hold).toEqual([{ h: 'a', a: '127.1.1.1', p: 123, c: 'DENY' }]);
    expect(merged.srv.map((s) => s.h).sort()).toEqual(['a', 'b', 'c']);
    // b's request went 23 s before this save: 500 - 23,000 on the query's clock.
    expect(merged.srv.find((s) => s.h === 'b')?.ips[0]).toMatchObject({ rf: 512, sent: 500 - 23_000 });
    // What the writer says about its own servers wins.
    const again = mergeStates(state({ t: 500, srv: [server('a', '127.1.1.1')] }), 1_020_000, merged, 1_020_000);
    expect(again.hold).toEqual([]);
    // A corrupt file is not carried forward.
    expect(mergeStates(state(), 0, { v: 3, hold: 'nonsense' }, 0)).toEqual(state());
  });
});
