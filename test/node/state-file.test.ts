// The state file: atomic replacement, polite recovery from corruption, aging by wall time, and sharing between
// clients that use different servers.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateSnapshot } from '../../src/core';
import { ageSnapshot, createClient, mergeSnapshots, readStateFile, StateFile, writeFileAtomic } from '../../src/node';
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

function snapshot(extra: Partial<StateSnapshot> = {}): StateSnapshot {
  return { v: 2, f: 0, w: 0, z: 10, holds: [], slots: [], last: null, ...extra };
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
    expect((read.raw as StateSnapshot).v).toBe(2);
  });

  it('ages saved waits by the wall time that passed, and never by a clock that went backwards', () => {
    const raw = snapshot({ z: 10, w: 100, f: 2, slots: [{ h: 'a', a: '127.1.1.1', p: 123, i: 64, r: 0, z: 5 }] });
    const aged = ageSnapshot(raw, 30.7) as StateSnapshot;
    expect(aged.z).toBe(40);
    expect(aged.w).toBe(70);
    expect(aged.slots[0].z).toBe(35);
    expect(aged.f).toBe(2);
    expect(ageSnapshot(raw, -3600)).toEqual(raw);
    expect(ageSnapshot(snapshot({ z: -1 }), 100)).toEqual(snapshot({ z: -1 }));
    expect(ageSnapshot('not an object', 10)).toBe('not an object');
  });

  it('round-trips through the file, aged by the time between save and read', async () => {
    const path = join(dir, 'roundtrip.json');
    const file = new StateFile(path, ['a'], (e) => {
      throw e;
    });
    await file.save(snapshot({ z: 0, slots: [{ h: 'a', a: '127.1.1.1', p: 123, i: 64, r: 32, z: 0 }] }), () => 1_000_000);
    const read = readStateFile(path, 1_000_000 + 45_000).raw as StateSnapshot;
    expect(read.z).toBe(45);
    expect(read.slots[0]).toEqual({ h: 'a', a: '127.1.1.1', p: 123, i: 64, r: 32, z: 45 });
  });

  it('a client using other servers keeps the refusals and RATE floors saved for ours', async () => {
    const path = join(dir, 'shared.json');
    const syncFile = new StateFile(path, ['a', 'b'], (e) => {
      throw e;
    });
    await syncFile.save(snapshot({
      holds: [{ h: 'a', a: '127.1.1.1', p: 123, c: 'DENY' }],
      slots: [{ h: 'b', a: '127.2.2.2', p: 123, i: 1024, r: 512, z: 3 }],
    }), () => Date.now());
    const queryFile = new StateFile(path, ['c'], (e) => {
      throw e;
    });
    await queryFile.save(snapshot({ z: 0, slots: [{ h: 'c', a: '127.3.3.3', p: 123, i: 16, r: 0, z: 0 }] }), () => Date.now());
    const merged = readStateFile(path, Date.now()).raw as StateSnapshot;
    expect(merged.holds).toEqual([{ h: 'a', a: '127.1.1.1', p: 123, c: 'DENY' }]);
    expect(merged.slots.map((s) => s.h).sort()).toEqual(['b', 'c']);
    expect(merged.z).toBe(0);
    // What the writer says about its own servers wins.
    const again = mergeSnapshots(snapshot({ holds: [] }), merged, ['a']);
    expect(again.holds).toEqual([]);
    // A corrupt file is not carried forward.
    expect(mergeSnapshots(snapshot(), { v: 2, holds: 'nonsense' }, [])).toEqual(snapshot());
  });
});
