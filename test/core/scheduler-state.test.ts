import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Decision, restoreSnapshot, Scheduler, SchedulerEvent } from '../../src/core';
import { configOf, seededRandom, VirtualWorld } from './virtual-server';

const DAY_MS = 86400e3;

function wakeOf(out: Decision[]): number | null {
  return (out.find((d) => d.type === 'wake') as { atMs: number | null }).atMs;
}

describe('persisted state', () => {
  test('a snapshot round-trips through JSON and restores holds, RATE floors and failures', () => {
    const config = configOf({ servers: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] });
    const w = new VirtualWorld(new Scheduler(config, seededRandom(1), null), (a) => {
      if (a === '192.0.2.1') return { kind: 'kiss', code: 'DENY' };
      if (a === '192.0.2.2') return { kind: 'kiss', code: 'RATE' };
      return { kind: 'silent' };
    });
    w.start();
    w.runUntil(DAY_MS / 4);
    const json = JSON.parse(JSON.stringify(w.snapshot));
    const r = restoreSnapshot(json, config.servers);
    expect(r.snapshot).toEqual(w.snapshot);
    expect(r.snapshot?.holds).toEqual([{ h: '192.0.2.1', a: '192.0.2.1', p: 123, c: 'DENY' }]);
    expect(r.snapshot?.slots.find((s) => s.a === '192.0.2.2')?.r).toBeGreaterThanOrEqual(4096);
    // Every number is an integer: Espruino prints floats with few digits.
    const numbers: number[] = [];
    JSON.stringify(json, (_k, v) => (typeof v === 'number' && numbers.push(v), v));
    expect(numbers.every((n) => Number.isInteger(n))).toBe(true);
  });

  test('unknown, corrupt or hostile snapshots fall back to a polite fresh start and never throw', () => {
    const config = configOf({ servers: ['192.0.2.1'] });
    fc.assert(fc.property(fc.anything(), (junk) => {
      const s = new Scheduler(config, seededRandom(2), junk);
      const wake = wakeOf(s.handle({ type: 'start', nowMs: 0 }));
      expect(wake).not.toBeNull();
      expect(wake as number).toBeGreaterThanOrEqual(1000);
    }), { numRuns: 1000 });
    for (const junk of ['{', { v: 99 }, { v: 2, f: -1 }, { v: 2, f: 0, w: 0, z: 0, holds: 'x', slots: [] }, { v: 2, f: 0, w: 0, z: 0, holds: [{ a: 1 }], slots: [] }]) {
      expect(restoreSnapshot(junk, config.servers).snapshot).toBeNull();
    }
  });

  test('schema 1 state migrates, keeping its holds', () => {
    const config = configOf({ servers: ['192.0.2.1', '192.0.2.2'] });
    const r = restoreSnapshot({ v: 1, held: ['192.0.2.1|123|DENY'], failures: 2 }, config.servers);
    expect(r.note).toMatch(/schema 1/);
    expect(r.snapshot?.holds).toEqual([{ h: '', a: '192.0.2.1', p: 123, c: 'DENY' }]);
    const s = new Scheduler(config, seededRandom(3), { v: 1, held: ['192.0.2.1|123|DENY'], failures: 0 });
    const w = new VirtualWorld(s, () => ({ kind: 'answer' }));
    w.start();
    w.runUntil(DAY_MS);
    expect(w.sent.length).toBeGreaterThan(0);
    expect(w.sent.every((x) => x.address === '192.0.2.2')).toBe(true);
  });

  test('holds and intervals for servers no longer configured are dropped; those still configured survive', () => {
    const r = restoreSnapshot({
      v: 2, f: 0, w: 0, z: -1,
      holds: [{ h: 'gone.example', a: '192.0.2.9', p: 123, c: 'DENY' }, { h: 'kept.example', a: '192.0.2.8', p: 123, c: 'RSTR' }],
      slots: [{ h: 'gone.example', a: '192.0.2.9', p: 123, i: 4096, r: 0, z: 5 }],
      last: null,
    }, configOf({ servers: ['kept.example'] }).servers);
    expect(r.snapshot?.holds.map((h) => h.a)).toEqual(['192.0.2.8']);
    expect(r.snapshot?.slots).toEqual([]);
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
        const w = new VirtualWorld(new Scheduler(config, seededRandom(boot), saved), () => ({ kind: behaviour }));
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
    const w = new VirtualWorld(new Scheduler(config, seededRandom(4), null), () => ({ kind: 'answer' }));
    w.start();
    w.runUntil(1000);
    return w;
  }

  test('is deferred with the reason and the time it will be allowed, and nothing is sent', () => {
    const w = started();
    expect(w.sent.length).toBe(1);
    const out = w.event({ type: 'sync-now', nowMs: 5000 });
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
    const out = w.event({ type: 'sync-now', nowMs: w.nowMs });
    expect(out.filter((d) => d.type === 'send').length).toBe(1);
    expect(w.sent.length).toBe(before + 1);
  });

  test('names the startup delay, RATE and silence backoff as reasons', () => {
    const config = configOf({ servers: ['192.0.2.1'], startupDelayMin: 100, startupDelayMax: 100 });
    const s = new Scheduler(config, seededRandom(5), null);
    s.handle({ type: 'start', nowMs: 0 });
    expect(s.handle({ type: 'sync-now', nowMs: 10 }).find((d) => d.type === 'deferred')).toMatchObject({ reason: 'startup-delay', untilMs: 100000 });

    const rate = new VirtualWorld(new Scheduler(config, seededRandom(6), null), () => ({ kind: 'kiss', code: 'RATE' }));
    rate.start();
    rate.runUntil(200e3);
    expect(rate.event({ type: 'sync-now', nowMs: rate.nowMs }).find((d) => d.type === 'deferred')).toMatchObject({ reason: 'rate-limited' });

    const silent = new VirtualWorld(new Scheduler(config, seededRandom(7), null), () => ({ kind: 'silent' }));
    silent.start();
    silent.runUntil(2 * 3600e3);
    expect(silent.event({ type: 'sync-now', nowMs: silent.nowMs }).find((d) => d.type === 'deferred')).toMatchObject({ reason: 'backoff' });
  });
});

describe('DNS', () => {
  test('names are resolved before sending, re-resolved no sooner than the TTL, and after failures at most hourly', () => {
    const resolves: number[] = [];
    let w: VirtualWorld;
    let silent = false;
    const scheduler = new Scheduler(configOf({ servers: ['time.example.net'], lanServer: true, minInterval: 16, maxInterval: 64 }), seededRandom(8), null);
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
    const s = new Scheduler(configOf({ servers: ['nowhere.example'] }), seededRandom(9), null);
    let now = 0;
    let wake: number | null = null;
    const run = (e: SchedulerEvent) => {
      for (const d of s.handle(e)) {
        if (d.type === 'resolve') {
          resolves.push(now);
          run({ type: 'dns-error', nowMs: now, host: d.host, message: 'ENOTFOUND' });
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
