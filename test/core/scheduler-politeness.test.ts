import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Decision, encodePacket, FLOOR_S, handle, handleSyncNow, clockOffsetAt, SchedulerEvent, asciiToRefId, decodePacket, ntpFromUnixSeconds, SILENCE_RETRY_ONCE_SYNCED_S } from '../../src/core';
import { configOf, newScheduler, seededRandom, VirtualWorld } from './virtual-server';

const DAY_MS = 86400e3;

type Step =
  | { kind: 'advance'; ms: number }
  | { kind: 'sync-now' }
  | { kind: 'answer'; how: 'sample' | 'DENY' | 'RSTR' | 'RATE' | 'INIT' | 'XFOO' | 'forged' | 'wrong-port' | 'garbage' }
  | { kind: 'timeout' }
  | { kind: 'send-error' }
  | { kind: 'reboot' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3 * 3600e3 }) }),
  fc.record({ kind: fc.constant('sync-now' as const) }),
  fc.record({ kind: fc.constant('answer' as const), how: fc.constantFrom('sample', 'DENY', 'RSTR', 'RATE', 'INIT', 'XFOO', 'forged', 'wrong-port', 'garbage') as fc.Arbitrary<'sample'> }),
  fc.record({ kind: fc.constant('timeout' as const) }),
  fc.record({ kind: fc.constant('send-error' as const) }),
  fc.record({ kind: fc.constant('reboot' as const) }),
);

/**
 * Drives a scheduler with arbitrary events, as a hostile world would: sync-now storms, kisses, forgeries,
 * timeouts, errors and reboots (restoring the last persisted snapshot). Records every send.
 */
function drive(steps: Step[], seed: number, lanServer: boolean) {
  const config = configOf({ servers: ['127.0.0.10', '127.0.0.11:1123', 'ntp.example.net'], lanServer, minInterval: lanServer ? 16 : 1800, startupDelayMin: 0, startupDelayMax: 5 });
  const random = seededRandom(seed);
  let saved: unknown = null;
  let scheduler = newScheduler(config, random, saved);
  let now = 0;
  let wake: number | null = null;
  let inflight: Extract<Decision, { type: 'send' }> | null = null;
  const sends: { atMs: number; address: string; port: number }[] = [];
  const denied = new Set<string>();
  const violations: string[] = [];

  const apply = (out: Decision[]) => {
    for (const d of out) {
      if (d.type === 'wake') wake = d.atMs;
      if (d.type === 'persist') saved = JSON.parse(JSON.stringify(scheduler.state));
      if (d.type === 'kiss' && d.action === 'hold') denied.add(d.address + ':' + d.port);
      if (d.type === 'send') {
        const key = d.address + ':' + d.port;
        if (denied.has(key)) violations.push('sent to ' + key + ' after DENY/RSTR at ' + now);
        for (const s of sends) {
          if (now - s.atMs < FLOOR_S * 1000) violations.push('two requests ' + (now - s.atMs) + ' ms apart at ' + now);
        }
        sends.push({ atMs: now, address: d.address, port: d.port });
        inflight = d;
      }
      if (d.type === 'resolve') {
        apply(handle(scheduler, { type: 'dns', nowMs: now, host: d.host, addresses: ['127.0.0.20', '127.0.0.21'], ttlS: 60 }));
      }
    }
  };
  const feed = (e: SchedulerEvent) => apply(handle(scheduler, e));
  const reply = (how: string) => {
    if (!inflight) return;
    const req = decodePacket(inflight.bytes);
    if (!req.ok) throw new Error('bad request');
    const t1 = ntpFromUnixSeconds(1.7e9 + now / 1000);
    const t4 = ntpFromUnixSeconds(1.7e9 + now / 1000 + 0.01);
    const kiss = how.length === 4 && how !== 'sample' ? how : '';
    const bytes = how === 'garbage' ? new Uint8Array(20) : encodePacket({
      leap: kiss ? 3 : 0, version: 4, mode: 4, stratum: kiss ? 0 : 2, poll: 17, precision: -20, rootDelay: 0, rootDispersion: 0,
      refId: asciiToRefId(kiss || 'LOCL'), reference: t1,
      origin: how === 'forged' ? { s: 1, f: 2 } : req.packet.transmit, receive: t1, transmit: t1,
    });
    const port = how === 'wrong-port' ? inflight.port + 1 : inflight.port;
    feed({ type: 'reply', nowMs: now, requestId: inflight.requestId, from: { address: inflight.address, port }, bytes, t1, t4 });
  };

  feed({ type: 'start', nowMs: now });
  const current = () => inflight as Extract<Decision, { type: 'send' }> | null;
  for (const s of steps) {
    const sent = current();
    if (s.kind === 'advance') {
      const end = now + s.ms;
      while (wake !== null && wake <= end) {
        now = Math.max(now, wake);
        feed({ type: 'tick', nowMs: now });
      }
      now = end;
      feed({ type: 'tick', nowMs: now });
    } else if (s.kind === 'sync-now') apply(handleSyncNow(scheduler, now));
    else if (s.kind === 'answer') reply(s.how);
    else if (s.kind === 'timeout' && sent) feed({ type: 'timeout', nowMs: now, requestId: sent.requestId });
    else if (s.kind === 'send-error' && sent) feed({ type: 'send-error', nowMs: now, requestId: sent.requestId, detail: 'EHOSTUNREACH' });
    else if (s.kind === 'reboot') {
      scheduler = newScheduler(config, random, saved, now);
      inflight = null;
      wake = null;
      feed({ type: 'start', nowMs: now });
    }
  }
  return { sends, violations };
}

describe('scheduler politeness under arbitrary events', () => {
  test('never two requests under 15 s apart, never a DENY/RSTR address again, through sync-now storms and reboots', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 120 }), fc.integer(), fc.boolean(), (steps, seed, lan) => {
      const r = drive(steps, seed, lan);
      expect(r.violations).toEqual([]);
    }), { numRuns: 400 });
  });

  test('a sync-now storm every second for an hour sends no faster than the policy allows', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 3600; i++) steps.push({ kind: 'sync-now' }, { kind: 'answer', how: 'sample' }, { kind: 'advance', ms: 1000 });
    const lan = drive(steps, 7, true);
    expect(lan.violations).toEqual([]);
    // LAN server, 16 s minimum interval: at most one request per 16 s.
    expect(lan.sends.length).toBeLessThanOrEqual(Math.ceil(3600 / 16) + 1);
    const pub = drive(steps, 7, false);
    // Anyone else's server: 30 min minimum, so at most 3 in an hour (startup, +30 min, +60 min).
    expect(pub.sends.length).toBeLessThanOrEqual(3);
  });
});

describe('scheduler over a virtual day', () => {
  test('a silent server gets exponentially fewer requests: 6 in a day at the default 34 min minimum', () => {
    const w = new VirtualWorld(newScheduler(configOf({ servers: ['192.0.2.1'] }), seededRandom(3), null), () => ({ kind: 'silent' }));
    w.start();
    w.runUntil(DAY_MS);
    const gaps = w.sent.slice(1).map((s, i) => (s.atMs - w.sent[i].atMs) / 1000);
    console.log('silent server, requests in one virtual day:', w.sent.length, 'gaps (s):', gaps.map(Math.round).join(', '));
    expect(w.sent.length).toBe(6);
    for (let i = 1; i < gaps.length; i++) {
      expect(gaps[i] / gaps[i - 1]).toBeGreaterThan(1.7);
      expect(gaps[i] / gaps[i - 1]).toBeLessThan(2.3);
    }
  });

  test('a server that goes silent after giving time is asked again at least every 2^12 s, still doubling up to there', () => {
    const outageFromMs = DAY_MS;
    const w = new VirtualWorld(newScheduler(configOf({ servers: ['192.0.2.1'] }), seededRandom(5), null),
      (_a, _p, atMs) => (atMs < outageFromMs ? { kind: 'answer' } : { kind: 'silent' }));
    w.start();
    w.runUntil(3 * DAY_MS);
    const silent = w.sent.filter((s) => s.atMs >= outageFromMs);
    const gaps = silent.slice(1).map((s, i) => (s.atMs - silent[i].atMs) / 1000);
    console.log('silent after a day of answers, gaps (s):', gaps.map(Math.round).join(', '));
    // 34 min, then 68 min at most (plus up to 10 % jitter, and the 5 s timeout before the wait begins): about 20 a
    // day instead of 6, within the Pool's 48.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2048);
    expect(gaps[1]).toBeGreaterThanOrEqual(4096);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(SILENCE_RETRY_ONCE_SYNCED_S * 1.1 + 6);
    expect(silent.length).toBeGreaterThan(30);
  });

  test('a DENY gets exactly one request, then silence for the rest of the day and after a reboot', () => {
    const config = configOf({ servers: ['192.0.2.1'] });
    const w = new VirtualWorld(newScheduler(config, seededRandom(4), null), () => ({ kind: 'kiss', code: 'DENY' }));
    w.start();
    w.runUntil(DAY_MS);
    console.log('DENY server, requests in one virtual day:', w.sent.length);
    expect(w.sent.length).toBe(1);
    expect(w.decisions.some((d) => d.type === 'stopped')).toBe(true);
    const again = newScheduler(config, seededRandom(5), w.snapshot);
    const out = handle(again, { type: 'start', nowMs: 0 });
    expect(out.some((d) => d.type === 'stopped')).toBe(true);
    expect(handleSyncNow(again, 1).filter((d) => d.type === 'send')).toEqual([]);
  });

  test('RSTR fails over to the next server and never returns to the first', () => {
    const w = new VirtualWorld(
      newScheduler(configOf({ servers: ['192.0.2.1', '192.0.2.2'] }), seededRandom(6), null),
      (address) => (address === '192.0.2.1' ? { kind: 'kiss', code: 'RSTR' } : { kind: 'answer' }),
    );
    w.start();
    w.runUntil(DAY_MS);
    expect(w.sent.filter((s) => s.address === '192.0.2.1').length).toBe(1);
    expect(w.sent.filter((s) => s.address === '192.0.2.2').length).toBeGreaterThan(1);
    const failover = w.decisions.find((d) => d.type === 'failover');
    expect(failover).toMatchObject({ fromAddress: '192.0.2.1', toAddress: '192.0.2.2' });
  });

  test('RATE at least doubles the interval each time, takes the poll hint only up to 2^13 s, and stops at the maximum', () => {
    const config = configOf({ servers: ['192.0.2.1'], maxInterval: '12h' });
    const w = new VirtualWorld(newScheduler(config, seededRandom(8), null), () => ({ kind: 'kiss', code: 'RATE', poll: 17 }));
    w.start();
    w.runUntil(7 * DAY_MS);
    const intervals = w.decisions.filter((d) => d.type === 'kiss').map((d) => (d as { intervalS: number }).intervalS);
    console.log('RATE kisses, intervals (s):', intervals.join(', '), '; requests in the first day:', w.sent.filter((s) => s.atMs < DAY_MS).length);
    // 2048 -> max(4096, hint 2^17 clamped to 8192) = 8192, then at least double the spacing the server saw (the
    // interval with its jitter) each time, up to 43200 (the 12 h maximum).
    expect(intervals[0]).toBe(8192);
    for (let i = 1; i < 4; i++) expect(intervals[i]).toBeGreaterThanOrEqual(Math.min(43200, 2 * intervals[i - 1]));
    expect(intervals.slice(3)).toEqual(intervals.slice(3).map(() => 43200));
    const gaps = w.sent.slice(1).map((s, i) => (s.atMs - w.sent[i].atMs) / 1000);
    gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(intervals[i]));
  });

  test('a small poll hint still doubles the interval', () => {
    const w = new VirtualWorld(newScheduler(configOf({ servers: ['192.0.2.1'] }), seededRandom(9), null), () => ({ kind: 'kiss', code: 'RATE', poll: 4 }));
    w.start();
    w.runUntil(DAY_MS);
    const intervals = w.decisions.filter((d) => d.type === 'kiss').map((d) => (d as { intervalS: number }).intervalS);
    expect(intervals[0]).toBe(4096);
    expect(intervals[1]).toBeGreaterThanOrEqual(8192);
    expect(intervals[2]).toBeGreaterThanOrEqual(2 * intervals[1]);
  });

  test('X codes are ignored and INIT counts as a failed poll; neither is taken as time', () => {
    for (const code of ['XKEY', 'INIT']) {
      const w = new VirtualWorld(newScheduler(configOf({ servers: ['192.0.2.1'] }), seededRandom(10), null), () => ({ kind: 'kiss', code }));
      w.start();
      w.runUntil(DAY_MS);
      expect(w.decisions.filter((d) => d.type === 'sample')).toEqual([]);
      expect(clockOffsetAt(w.scheduler, w.nowMs)).toBeNull();
      const backoffs = w.decisions.filter((d) => d.type === 'backoff').map((d) => (d as { cause: string }).cause);
      // An ignored X kiss leaves the request open; it then times out like silence.
      expect(backoffs[0]).toBe(code === 'INIT' ? 'kiss' : 'timeout');
      expect(w.sent.length).toBe(6);
    }
  });

  test('an unsynchronised server fails the poll as soon as it answers, says why, and is backed off like silence', () => {
    const w = new VirtualWorld(newScheduler(configOf({ servers: ['192.0.2.1'] }), seededRandom(13), null), () => ({ kind: 'answer', leap: 3 }));
    w.start();
    w.runUntil(DAY_MS);
    const backoffs = w.decisions.filter((d) => d.type === 'backoff') as Extract<Decision, { type: 'backoff' }>[];
    expect(backoffs.length).toBe(w.sent.length);
    expect(backoffs.every((b) => b.cause === 'unusable' && b.detail === 'unsynchronised')).toBe(true);
    expect(w.decisions.filter((d) => d.type === 'sample')).toEqual([]);
    // Failed when the answer came (20 ms after the request), not at the 5 s timeout.
    const sendAt = w.sent[0].atMs;
    const failIndex = w.decisions.indexOf(backoffs[0]);
    const sendIndex = w.decisions.findIndex((d) => d.type === 'send');
    expect(failIndex).toBeGreaterThan(sendIndex);
    expect(backoffs[0].retryAtMs - sendAt).toBeGreaterThanOrEqual(2048e3 + 20);
    expect(backoffs[0].retryAtMs - sendAt).toBeLessThan(2048e3 * 1.1 + 100);
    expect(w.sent.length).toBe(6);
  });

  test('as the clock model learns the drift, the interval lengthens to what the accuracy allows; a step brings it back to the floor', () => {
    let offset = 0;
    // A clock 20 ppm fast against the server, 20 ms paths: the model needs a few samples to know the drift.
    const driftPpm = -20;
    const w = new VirtualWorld(newScheduler(configOf({ servers: ['192.0.2.1'] }), seededRandom(11), null),
      (_a, _p, atMs) => ({ kind: 'answer', offsetS: offset + driftPpm * 1e-6 * atMs / 1000 }));
    w.start();
    w.runUntil(5 * DAY_MS);
    const samples = w.decisions.filter((d) => d.type === 'sample') as Extract<Decision, { type: 'sample' }>[];
    const intervals = samples.map((s) => s.intervalS);
    console.log('intervals while the model learns (s):', intervals.slice(0, 8).join(', '));
    // First the floor (one sample knows no drift), then longer as the drift is pinned down, never past the maximum.
    expect(intervals[0]).toBe(2048);
    for (let i = 1; i < 5; i++) expect(intervals[i]).toBeGreaterThanOrEqual(intervals[i - 1]);
    expect(Math.max(...intervals)).toBeGreaterThan(8 * 2048);
    expect(Math.max(...intervals)).toBeLessThanOrEqual(131072);
    expect(Math.abs(samples[samples.length - 1].driftPpm - driftPpm)).toBeLessThan(1);
    // One sample knows no drift: its bound passes 100 ms long before the 34 min floor, and the sample says so. From
    // then on each interval is what keeps the bound within the 100 ms asked for.
    expect(samples[0].accuracyMet).toBe(false);
    expect(samples.slice(1, 8).every((s) => s.accuracyMet)).toBe(true);
    const before = samples.length;
    offset = 1;
    w.runUntil(7 * DAY_MS);
    const after = (w.decisions.filter((d) => d.type === 'sample') as Extract<Decision, { type: 'sample' }>[]).slice(before);
    // The jump is an outlier first, checked at the floor, then a step: the model starts again from the new offset,
    // keeping the drift it knew.
    expect(after[0].outcome).toBe('outlier');
    expect(after[0].intervalS).toBe(2048);
    expect(after[1].outcome).toBe('step');
    expect(Math.abs(after[1].clockOffsetS - after[1].sample.offsetS)).toBeLessThan(0.01);
  });

  test('jitter spreads the intervals and startup delays cover the 1-300 s window', () => {
    const starts: number[] = [];
    for (let seed = 0; seed < 400; seed++) {
      const s = newScheduler(configOf({ servers: ['192.0.2.1'] }), seededRandom(seed), null);
      const wake = handle(s, { type: 'start', nowMs: 0 }).find((d) => d.type === 'wake') as { atMs: number };
      starts.push(wake.atMs / 1000);
    }
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...starts)).toBeLessThanOrEqual(300);
    // Roughly uniform: every 30 s bucket of the window is used.
    const buckets = new Array(10).fill(0);
    for (const s of starts) buckets[Math.min(9, Math.floor((s - 1) / 29.9))]++;
    expect(Math.min(...buckets)).toBeGreaterThan(15);
    const w = new VirtualWorld(newScheduler(configOf({ servers: ['192.0.2.1'], maxInterval: 2048 }), seededRandom(12), null), () => ({ kind: 'answer' }));
    w.start();
    w.runUntil(DAY_MS);
    const gaps = w.sent.slice(1).map((s, i) => (s.atMs - w.sent[i].atMs) / 1000);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2048);
    expect(Math.max(...gaps)).toBeLessThan(2048 * 1.1 + 1);
    expect(new Set(gaps.map(Math.round)).size).toBeGreaterThan(gaps.length / 2);
  });
});
