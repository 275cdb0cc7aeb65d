import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Decision, handle, handleSyncNow, NEVER, readSavedState, restoreState, SchedulerEvent } from '../../src/core';
import { configOf, newScheduler, seededRandom, VirtualWorld } from './virtual-server';

const DAY_MS = 86400e3;

function wakeOf(out: Decision[]): number | null {
  return (out.find((d) => d.type === 'wake') as { atMs: number | null }).atMs;
}

describe('persisted state', () => {
  test('the saved record round-trips through JSON and restores holds, RATE floors and per-server backoff', () => {
    const config = configOf({ servers: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] });
    const w = new VirtualWorld(newScheduler(config, seededRandom(1), null), (a) => {
      if (a === '192.0.2.1') return { kind: 'kiss', code: 'DENY' };
      if (a === '192.0.2.2') return { kind: 'silent' };
      return { kind: 'kiss', code: 'RATE' };
    });
    w.start();
    w.runUntil(DAY_MS / 4);
    const json = JSON.parse(JSON.stringify(w.snapshot));
    const r = readSavedState(json);
    expect(r.note).toBe('restored');
    expect(r.saved).toEqual(w.snapshot);
    expect(r.saved?.hold).toEqual([{ h: '192.0.2.1', a: '192.0.2.1', p: 123, c: 'DENY' }]);
    const ipOf = (a: string) => r.saved?.srv.find((s) => s.h === a)?.ips[0];
    expect(ipOf('192.0.2.3')?.rf).toBeGreaterThanOrEqual(4096);
    // The silent server backs off on its own; the one that answers (with RATE) keeps no failures.
    expect(ipOf('192.0.2.2')?.fail).toBeGreaterThan(0);
    expect(ipOf('192.0.2.2')?.wait).toBeGreaterThan(0);
    expect(ipOf('192.0.2.3')?.fail).toBe(0);
    // Every number is an integer: Espruino prints floats with few digits.
    const numbers: number[] = [];
    JSON.stringify(json, (_k, v) => (typeof v === 'number' && numbers.push(v), v));
    expect(numbers.every((n) => Number.isInteger(n))).toBe(true);
    // A fraction of a ms of elapsed time (a Node host's wall clock) still gives whole ms.
    const restoredNumbers: number[] = [];
    JSON.stringify(restoreState(json, config, 5_000_000.3, 123.45).state, (_k, v) => (typeof v === 'number' && restoredNumbers.push(v), v));
    expect(restoredNumbers.every((x) => Number.isInteger(x))).toBe(true);
    // Restored on another clock, every wait keeps its distance from the moment of saving.
    const later = restoreState(json, config, 5_000_000, 0).state;
    const shift = 5_000_000 - json.t;
    expect(later.srv[1].ips[0].wait).toBe((ipOf('192.0.2.2')?.wait as number) + shift);
    expect(later.srv[1].ips[0].sent).toBe((ipOf('192.0.2.2')?.sent as number) + shift);
  });

  test('a time at or before NEVER reads as NEVER, so a board keeps each in one variable and a long-ago time never makes a file corrupt', () => {
    expect(NEVER).toBe(-(2 ** 31) + 1);
    const config = configOf({ servers: ['192.0.2.1'] });
    // A file from when NEVER was -1e15, written 10 minutes after its clock's start.
    const old = {
      v: 3, t: 600_000, hold: [],
      srv: [{ h: '192.0.2.1', p: 123, ips: [{ a: '192.0.2.1', iv: 2048, rf: 0, sent: 500_000, fail: 0, wait: -1e15 }], ttl: -1e15, dnsa: -1e15, dnse: -1e15, bad: 0 }],
    };
    const r = readSavedState(old);
    expect(r.note).toBe('restored');
    expect(r.saved?.srv[0]).toMatchObject({ ttl: NEVER, dnsa: NEVER, dnse: NEVER, ips: [{ sent: 500_000, wait: NEVER }] });
    // Restored 30 days on (a host that knows the time that passed): the send is further back than NEVER, and is NEVER.
    const restored = restoreState(old, config, 0, 30 * DAY_MS).state;
    expect(restored.srv[0].ips[0].sent).toBe(NEVER);
    expect(readSavedState(JSON.parse(JSON.stringify(restored))).note).toBe('restored');
    // Restored with no time known to have passed, it keeps its distance from the moment of saving.
    expect(restoreState(old, config, 0, 0).state.srv[0].ips[0].sent).toBe(-100_000);
  });

  test('unknown, corrupt or hostile saved state falls back to a polite fresh start and never throws', () => {
    const config = configOf({ servers: ['192.0.2.1'] });
    fc.assert(fc.property(fc.anything(), (junk) => {
      const s = newScheduler(config, seededRandom(2), junk);
      const wake = wakeOf(handle(s, { type: 'start', nowMs: 0 }));
      expect(wake).not.toBeNull();
      expect(wake as number).toBeGreaterThanOrEqual(1000);
    }), { numRuns: 1000 });
    for (const junk of ['{', { v: 99 }, { v: 3, t: 0, hold: [7], srv: [] }, { v: 3, t: 0, hold: [], srv: [1] }, { v: 3, t: 0, hold: 'x', srv: [] },
      { v: 3, t: 0, hold: [{ a: 1 }], srv: [] }, { v: 3, t: 0.5, hold: [], srv: [] }, { v: 2, f: -1 }]) {
      expect(readSavedState(junk).saved).toBeNull();
      expect(restoreState(junk, config, 0, 0).state.hold).toEqual([]);
    }
    expect(readSavedState('not json').note).toBe('corrupt');
    expect(readSavedState({ v: 99 }).note).toBe('unknown-schema');
    expect(readSavedState(undefined).note).toBe('none');
  });

  test('schema 2 state (the previous release) migrates, keeping its holds, RATE floors and waits', () => {
    const config = configOf({ servers: ['192.0.2.1', '192.0.2.2'] });
    const v2 = {
      v: 2, f: 1, w: 600, z: 100,
      holds: [{ h: '192.0.2.1', a: '192.0.2.1', p: 123, c: 'DENY' }],
      slots: [{ h: '192.0.2.2', a: '192.0.2.2', p: 123, i: 4096, r: 4096, z: 100 }],
      last: null,
    };
    const r = restoreState(v2, config, 1_000_000, 0);
    expect(r.note).toBe('migrated');
    expect(r.state.hold).toEqual(v2.holds);
    expect(r.state.srv[1].ips[0]).toEqual({ a: '192.0.2.2', iv: 4096, rf: 4096, sent: 1_000_000 - 100_000, fail: 1, wait: 1_000_000 + 600_000 });
    const w = new VirtualWorld(newScheduler(config, seededRandom(3), v2), () => ({ kind: 'answer' }));
    w.start();
    w.runUntil(DAY_MS);
    expect(w.sent.length).toBeGreaterThan(0);
    expect(w.sent.every((x) => x.address === '192.0.2.2')).toBe(true);
    expect(w.sent[0].atMs).toBeGreaterThanOrEqual(600_000);
  });

  test('schema 1 state (the first release) migrates, keeping its holds', () => {
    const config = configOf({ servers: ['192.0.2.1', '192.0.2.2'] });
    const v1 = { v: 1, held: ['192.0.2.1|123|DENY', 'junk', 7], failures: 2 };
    const r = restoreState(v1, config, 0, 0);
    expect(r.note).toBe('migrated');
    expect(r.state.hold).toEqual([{ h: '', a: '192.0.2.1', p: 123, c: 'DENY' }]);
    const w = new VirtualWorld(newScheduler(config, seededRandom(3), v1), () => ({ kind: 'answer' }));
    w.start();
    w.runUntil(DAY_MS);
    expect(w.sent.length).toBeGreaterThan(0);
    expect(w.sent.every((x) => x.address === '192.0.2.2')).toBe(true);
  });

  test('holds and waits for servers no longer configured are dropped; those still configured survive', () => {
    const config = configOf({ servers: ['kept.example'] });
    const saved = {
      v: 3, t: 0,
      hold: [{ h: 'gone.example', a: '192.0.2.9', p: 123, c: 'DENY' }, { h: 'kept.example', a: '192.0.2.8', p: 123, c: 'RSTR' }],
      srv: [{ h: 'gone.example', p: 123, ips: [{ a: '192.0.2.9', iv: 4096, rf: 0, sent: -5000, fail: 0, wait: NEVER }], ttl: NEVER, dnsa: NEVER, dnse: NEVER, bad: 0 }],
    };
    const r = restoreState(saved, config, 0, 0);
    expect(r.state.hold.map((h) => h.a)).toEqual(['192.0.2.8']);
    expect(r.state.srv).toEqual([{ h: 'kept.example', p: 123, ips: [], ttl: NEVER, dnsa: NEVER, dnse: NEVER, bad: 0 }]);
  });

  test.each([
    ['answer', 20e3], ['silent', 20e3], ['answer', 3600e3], ['silent', 3600e3], ['answer', 400e3],
  ] as const)('a reboot loop stays polite (%s server, reboot every %i ms): never sooner than the saved state allows', (behaviour, periodMs) => {
    {
      const config = configOf({ servers: ['192.0.2.1'] });
      let saved: unknown = null;
      let sends = 0;
      const sendTimes: number[] = [];
      for (let boot = 0; boot * periodMs < DAY_MS; boot++) {
        const bootAt = boot * periodMs;
        const w = new VirtualWorld(newScheduler(config, seededRandom(boot), saved, bootAt), () => ({ kind: behaviour }));
        w.nowMs = bootAt;
        w.start();
        w.runUntil(bootAt + periodMs);
        sends += w.sent.length;
        sendTimes.push(...w.sent.map((s) => s.atMs));
        if (w.snapshot) saved = JSON.parse(JSON.stringify(w.snapshot));
      }
      const gaps = sendTimes.slice(1).map((t, i) => t - sendTimes[i]);
      console.log('reboot loop every', periodMs / 1000, 's for a day,', behaviour, 'server: requests =', sends);
      expect(sends).toBeGreaterThanOrEqual(1);
      for (const g of gaps) expect(g).toBeGreaterThanOrEqual(2048e3);
      expect(sends).toBeLessThanOrEqual(Math.ceil(DAY_MS / 2048e3));
    }
  });
});

describe('sync-now', () => {
  function started(input = {}) {
    const config = configOf({ servers: ['192.0.2.1'], lanServer: true, minInterval: 60, startupDelayMin: 0, startupDelayMax: 0, ...input });
    const w = new VirtualWorld(newScheduler(config, seededRandom(4), null), () => ({ kind: 'answer' }));
    w.start();
    w.runUntil(1000);
    return w;
  }

  test('is deferred with the reason and the time it will be allowed, and nothing is sent', () => {
    const w = started();
    expect(w.sent.length).toBe(1);
    w.nowMs = 5000;
    const out = w.syncNow();
    expect(out.filter((d) => d.type === 'send')).toEqual([]);
    expect(out.find((d) => d.type === 'deferred')).toEqual({ type: 'deferred', untilMs: 60000, reason: 'min-interval' });
    w.runUntil(59999);
    expect(w.sent.length).toBe(1);
    w.runUntil(60000);
    expect(w.sent.length).toBe(2);
  });

  test('is honoured at once when the policy allows it', () => {
    const w = started({ maxInterval: 3600 });
    w.runUntil(200e3);
    const before = w.sent.length;
    // The interval has grown past 60 s by now, so a poll is not due yet; the 60 s minimum has passed.
    w.nowMs = w.sent[before - 1].atMs + 61e3;
    const out = w.syncNow();
    expect(out.filter((d) => d.type === 'send').length).toBe(1);
    expect(w.sent.length).toBe(before + 1);
  });

  test('names the startup delay, RATE and silence backoff as reasons', () => {
    const config = configOf({ servers: ['192.0.2.1'], startupDelayMin: 100, startupDelayMax: 100 });
    const s = newScheduler(config, seededRandom(5), null);
    handle(s, { type: 'start', nowMs: 0 });
    expect(handleSyncNow(s, 10).find((d) => d.type === 'deferred')).toMatchObject({ reason: 'startup-delay', untilMs: 100000 });

    const rate = new VirtualWorld(newScheduler(config, seededRandom(6), null), () => ({ kind: 'kiss', code: 'RATE' }));
    rate.start();
    rate.runUntil(200e3);
    expect(rate.syncNow().find((d) => d.type === 'deferred')).toMatchObject({ reason: 'rate-limited' });

    const silent = new VirtualWorld(newScheduler(config, seededRandom(7), null), () => ({ kind: 'silent' }));
    silent.start();
    silent.runUntil(2 * 3600e3);
    expect(silent.syncNow().find((d) => d.type === 'deferred')).toMatchObject({ reason: 'backoff' });
  });
});

describe('DNS', () => {
  test('names are resolved before sending, re-resolved no sooner than the TTL, and after failures at most hourly', () => {
    const resolves: number[] = [];
    let w: VirtualWorld;
    let silent = false;
    const scheduler = newScheduler(configOf({ servers: ['time.example.net'], lanServer: true, minInterval: 16, maxInterval: 64 }), seededRandom(8), null);
    // eslint-disable-next-line prefer-const
    w = new VirtualWorld(scheduler, () => (silent ? { kind: 'silent' } : { kind: 'answer' }), () => {
      resolves.push(w.nowMs);
      return { addresses: ['192.0.2.50', '2001:db8::50'], ttlS: 600 };
    });
    w.start();
    w.runUntil(3600e3);
    const gaps = resolves.slice(1).map((t, i) => t - resolves[i]);
    expect(w.sent.length).toBeGreaterThan(50);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(600e3);
    silent = true;
    const from = resolves.length;
    w.runUntil(12 * 3600e3);
    const later = resolves.slice(from - 1);
    const laterGaps = later.slice(1).map((t, i) => t - later[i]);
    expect(laterGaps.length).toBeGreaterThan(0);
    expect(Math.min(...laterGaps)).toBeGreaterThanOrEqual(3600e3);
    // Both resolved addresses were used in failover.
    expect(new Set(w.sent.map((s) => s.address))).toEqual(new Set(['192.0.2.50', '2001:db8::50']));
  });

  test('a failing resolver is asked again at most hourly and nothing is sent meanwhile', () => {
    const resolves: number[] = [];
    const s = newScheduler(configOf({ servers: ['nowhere.example'] }), seededRandom(9), null);
    let now = 0;
    let wake: number | null = null;
    const run = (e: SchedulerEvent) => {
      for (const d of handle(s, e)) {
        if (d.type === 'resolve') {
          resolves.push(now);
          run({ type: 'dns-error', nowMs: now, host: d.host, detail: 'ENOTFOUND' });
        }
        if (d.type === 'send') throw new Error('sent without an address');
        if (d.type === 'wake') wake = d.atMs;
      }
    };
    run({ type: 'start', nowMs: 0 });
    while (wake !== null && (wake as number) < DAY_MS) {
      now = wake as number;
      run({ type: 'tick', nowMs: now });
    }
    expect(resolves.length).toBeGreaterThanOrEqual(23);
    expect(resolves.length).toBeLessThanOrEqual(25);
  });
});
