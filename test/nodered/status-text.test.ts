// The status line under a sync node, for the states a user meets: in sync (with the clock model's error bound, or
// the offset when a report has none), asking, silent, answered but unsynchronised, slowed down, refused.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { ClientStatus, SampleReport } from '../../src/node/types';
import { catalogue, Translate } from './catalogue';

const nodeRequire = createRequire(__filename);
type Problem = Record<string, unknown> | null;
const { statusFor, formatOffsetS, formatBoundS } = nodeRequire('../../nodes/lib/status-text.js') as {
  statusFor(status: ClientStatus | null, problem: Problem, nowMs: number, t: Translate): { fill: string; shape: string; text: string };
  formatOffsetS(offsetS: number): string;
  formatBoundS(boundS: number): string;
};

const t = catalogue('kisstime-servers');
const say = (key: string, vars?: Record<string, unknown>) => t('kisstime-servers.' + key, vars);
const NOW = 1_800_000_000_000;

function status(over: Partial<ClientStatus>): ClientStatus {
  return {
    phase: 'waiting', offsetS: null, maxErrorS: null, driftPpm: null, next: new Date(NOW + 60_000), failures: 0, lastSample: null, lastKiss: null, lastReject: null, holds: [],
    target: { host: 'time.lan', address: '192.0.2.1', port: 123 }, stoppedReason: '', restoreNote: '',
    counters: { sent: 0, samples: 0, kisses: {}, rejected: {}, timeouts: 0, sendErrors: 0, dnsErrors: 0 },
    ...over,
  };
}

/** A report as the client gives it. */
function report(extra: Partial<SampleReport> = {}): SampleReport {
  const sample: SampleReport['sample'] = {
    offsetS: 0.0032, delayS: 0.001, stratum: 2, refId: 0x47505300, leap: 0, precision: -20, poll: 0, rootDelayS: 0, rootDispersionS: 0,
    rootDistanceS: 0.01, host: 'time.lan', address: '192.0.2.1', port: 123, transmit: { s: 0, f: 0 },
  };
  return {
    offset: 0.0032, delay: 0.001, clockOffset: 0.0032, driftPpm: 0, maxError: 0.002, step: false, outlier: false, accuracyMet: true,
    stratum: 2, refid: 'GPS', leap: 0, precision: 1e-6, rootDistance: 0.01, server: 'time.lan', address: '192.0.2.1', port: 123,
    interval: 2048, time: new Date(NOW), sample: sample, ...extra,
  };
}

const line = (s: ClientStatus | null, problem: Problem = null) => statusFor(s, problem, NOW, say);

describe('the kisstime status line', () => {
  it('formats offsets in µs, ms or s with a sign, and error bounds to two digits', () => {
    expect(formatOffsetS(0.0032)).toBe('+3.2 ms');
    expect(formatOffsetS(-0.000041)).toBe('-41 µs');
    expect(formatOffsetS(1.2041)).toBe('+1.204 s');
    expect(formatBoundS(0.002)).toBe('2 ms');
    expect(formatBoundS(0.00234)).toBe('2.3 ms');
    expect(formatBoundS(0.000183)).toBe('180 µs');
    expect(formatBoundS(1.24)).toBe('1.2 s');
  });

  it('green dot "synced ±2 ms, 12 ppm · next 34 min": the clock model\'s error bound now, and its drift', () => {
    const s = status({ offsetS: 0.0032, maxErrorS: 0.002, driftPpm: 12.3, next: new Date(NOW + 34 * 60_000), lastSample: report() });
    expect(line(s)).toEqual({ fill: 'green', shape: 'dot', text: 'synced ±2 ms, 12 ppm · next 34 min' });
    expect(line({ ...s, driftPpm: -0.052 }).text).toBe('synced ±2 ms, -0.052 ppm · next 34 min');
    // The floors win over the accuracy asked for, and the line says so.
    const floored = { ...s, maxErrorS: 0.14, lastSample: report({ accuracyMet: false }) };
    expect(line(floored).text).toBe('synced ±140 ms, 12 ppm (the minimum interval allows no more) · next 34 min');
  });

  it('falls back to the offset when there is no error bound', () => {
    const s = status({ offsetS: 0.0032, next: new Date(NOW + 34 * 60_000), lastSample: report() });
    expect(line(s)).toEqual({ fill: 'green', shape: 'dot', text: 'synced, offset +3.2 ms · next 34 min' });
  });

  it('"asking time.lan…" while a request is in flight, even after failures, never "no answer"', () => {
    expect(line(status({ phase: 'in-flight' }))).toEqual({ fill: 'blue', shape: 'dot', text: 'asking time.lan…' });
    const failing = status({ phase: 'in-flight', failures: 2, next: new Date(NOW + 2000) });
    expect(line(failing, { type: 'backoff', cause: 'timeout', host: 'time.lan' }).text).toBe('asking time.lan…');
    const synced = status({ phase: 'in-flight', offsetS: 0.001, maxErrorS: 0.0015, driftPpm: 3, lastSample: report() });
    expect(line(synced).text).toBe('synced ±1.5 ms, 3 ppm · asking time.lan…');
  });

  it('yellow ring "no answer from time.lan · retry in 8 min" while backing off after silence', () => {
    const s = status({ failures: 2, next: new Date(NOW + 8 * 60_000) });
    expect(line(s, { type: 'backoff', cause: 'timeout', host: 'time.lan', address: '192.0.2.1' }))
      .toEqual({ fill: 'yellow', shape: 'ring', text: 'no answer from time.lan · retry in 8 min' });
  });

  it('"time.lan is unsynchronised" when the server answered with LI=3 or stratum 16', () => {
    const s = status({ failures: 1, next: new Date(NOW + 16_000) });
    for (const rejected of ['unsynchronised', 'bad-stratum']) {
      expect(line(s, { type: 'backoff', cause: 'timeout', host: 'time.lan', rejected }).text).toBe('time.lan is unsynchronised · retry in 16 s');
    }
    expect(line(s, { type: 'backoff', cause: 'timeout', host: 'time.lan', rejected: 'bad-origin' }).text)
      .toBe('time.lan sent an unusable reply (bad-origin) · retry in 16 s');
  });

  it('yellow dot naming the RATE kiss before any sample, and a RATE note once in sync', () => {
    const rate = { type: 'kiss', code: 'RATE', action: 'slow-down', host: 'time.lan', address: '192.0.2.1' };
    expect(line(status({ next: new Date(NOW + 2.5 * 3_600_000), counters: { ...status({}).counters, sent: 1 } }), rate))
      .toEqual({ fill: 'yellow', shape: 'dot', text: 'slowed down: RATE from time.lan · next 2.5 h' });
    expect(line(status({ offsetS: -0.002, next: new Date(NOW + 80 * 60_000) }), rate).text).toBe('synced, offset -2.0 ms · next 80 min (slowed by RATE)');
  });

  it('"held: DENY from time.lan" while another server is tried, and a red ring when every server refused', () => {
    const deny = { type: 'kiss', code: 'DENY', action: 'hold', host: 'time.lan', address: '192.0.2.1' };
    const other = status({ target: { host: 'backup.lan', address: '192.0.2.2', port: 123 } });
    expect(line(other, deny)).toEqual({ fill: 'yellow', shape: 'ring', text: 'held: DENY from time.lan · trying backup.lan' });
    const stopped = status({ phase: 'stopped', next: null, lastKiss: { code: 'DENY', host: 'time.lan', address: '192.0.2.1' } });
    expect(line(stopped)).toEqual({ fill: 'red', shape: 'ring', text: 'held: DENY from time.lan · stopped' });
    // After a restart the refusal is known only from the saved holds.
    const restored = status({ phase: 'stopped', next: null, holds: [{ h: 'time.lan', a: '192.0.2.5', p: 123, c: 'RSTR' }] });
    expect(line(restored).text).toBe('held: RSTR from time.lan · stopped');
  });

  it('blue ring counting down to the first poll', () => {
    expect(line(status({ next: new Date(NOW + 12_000) }))).toEqual({ fill: 'blue', shape: 'ring', text: 'first poll in 12 s' });
  });
});
