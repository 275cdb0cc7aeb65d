// The status line under a sync node, for the states a user meets: in sync, silent, slowed down, refused.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { ClientStatus } from '../../src/node/types';

const nodeRequire = createRequire(__filename);
const { statusFor, formatOffsetS } = nodeRequire('../../nodes/lib/status-text.js') as {
  statusFor(status: ClientStatus | null, lastProblem: Record<string, unknown> | null, nowMs: number): { fill: string; shape: string; text: string };
  formatOffsetS(offsetS: number): string;
};

const NOW = 1_800_000_000_000;

function status(over: Partial<ClientStatus>): ClientStatus {
  return {
    phase: 'waiting', offsetS: null, maxErrorS: null, driftPpm: null, next: new Date(NOW + 60_000), failures: 0, lastSample: null, lastKiss: null, lastReject: null, holds: [],
    target: { host: 'ntp.lan', address: '192.0.2.1', port: 123 }, stoppedReason: '', restoreNote: '',
    counters: { sent: 0, samples: 0, kisses: {}, rejected: {}, timeouts: 0, sendErrors: 0, dnsErrors: 0 },
    ...over,
  };
}

describe('the kisstime status line', () => {
  it('formats offsets in µs, ms or s with a sign', () => {
    expect(formatOffsetS(0.0032)).toBe('+3.2 ms');
    expect(formatOffsetS(-0.000041)).toBe('-41 µs');
    expect(formatOffsetS(1.2041)).toBe('+1.204 s');
  });

  it('green dot with offset and next poll when in sync', () => {
    expect(statusFor(status({ offsetS: 0.0032, next: new Date(NOW + 34 * 60_000) }), null, NOW)).toEqual({ fill: 'green', shape: 'dot', text: 'offset +3.2 ms · next 34 min' });
  });

  it('yellow ring with the retry time while backing off after silence', () => {
    const s = status({ failures: 2, next: new Date(NOW + 8 * 60_000) });
    expect(statusFor(s, { type: 'backoff', cause: 'timeout' }, NOW)).toEqual({ fill: 'yellow', shape: 'ring', text: 'no answer · retry in 8 min' });
  });

  it('yellow dot naming the RATE kiss before any sample, and a RATE note once in sync', () => {
    const rate = { type: 'kiss', code: 'RATE', action: 'slow-down', address: '192.0.2.1' };
    expect(statusFor(status({ next: new Date(NOW + 2.5 * 3_600_000), counters: { ...status({}).counters, sent: 1 } }), rate, NOW))
      .toEqual({ fill: 'yellow', shape: 'dot', text: 'RATE from 192.0.2.1 · next 2.5 h' });
    expect(statusFor(status({ offsetS: -0.002, next: new Date(NOW + 80 * 60_000) }), rate, NOW).text).toBe('offset -2.0 ms · next 80 min (RATE)');
  });

  it('red ring naming the refusal when stopped, also when it is only known from the saved holds', () => {
    const stopped = status({ phase: 'stopped', next: null, lastKiss: { code: 'DENY', host: 'ntp.lan', address: '1.2.3.4' } });
    expect(statusFor(stopped, null, NOW)).toEqual({ fill: 'red', shape: 'ring', text: 'DENY from 1.2.3.4 · stopped' });
    const restored = status({ phase: 'stopped', next: null, holds: [{ h: 'ntp.lan', a: '1.2.3.5', p: 123, c: 'RSTR' }] });
    expect(statusFor(restored, null, NOW).text).toBe('RSTR from 1.2.3.5 · stopped');
  });

  it('blue ring counting down to the first poll', () => {
    expect(statusFor(status({ next: new Date(NOW + 12_000) }), null, NOW)).toEqual({ fill: 'blue', shape: 'ring', text: 'first poll in 12 s' });
  });
});
