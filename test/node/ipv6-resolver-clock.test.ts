// IPv6 end to end on ::1, the resolver's literal and localhost paths (no DNS traffic leaves the machine), and the
// wall clock following a system clock step.

import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient, createDnsResolver, NodeClock, SampleReport } from '../../src/node';
import { makeReply } from '../support/kisser';
import { ntpFromUnixSeconds, subtractTimestamps, differenceToSeconds } from '../../src/core';

let server: Socket;
let port: number;
let requests = 0;

beforeAll(async () => {
  server = createSocket('udp6');
  server.on('message', (msg, rinfo) => {
    requests++;
    server.send(makeReply(msg, { offsetSeconds: -0.0625 }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '::1', () => resolve()));
  port = server.address().port;
});

afterAll(() => {
  server.close();
});

describe('IPv6', () => {
  it('gets a sample from a server on [::1]', async () => {
    const client = createClient({ config: { servers: ['[::1]:' + port], lanServer: true, minInterval: '16s', startupDelayMin: 0, startupDelayMax: 0, timeout: '1s' } });
    try {
      const sample = once(client, 'sample');
      client.start();
      const [report] = (await sample) as [SampleReport];
      expect(report.address).toBe('::1');
      expect(report.port).toBe(port);
      expect(Math.abs(report.offset + 0.0625)).toBeLessThan(report.delay / 2 + 0.002);
      expect(requests).toBe(1);
    } finally {
      await client.stop();
    }
  });
});

describe('resolver', () => {
  const resolve = createDnsResolver();
  it('returns literal addresses as they are, v4 and v6, without DNS', async () => {
    expect(await resolve('127.3.4.5')).toEqual({ addresses: ['127.3.4.5'], ttlS: 86400 });
    expect(await resolve('::1')).toEqual({ addresses: ['::1'], ttlS: 86400 });
    expect(await resolve('[::1]')).toEqual({ addresses: ['::1'], ttlS: 86400 });
  });
  it('maps localhost to the loopback addresses', async () => {
    expect((await resolve('localhost')).addresses).toEqual(['127.0.0.1', '::1']);
  });
});

describe('wall clock', () => {
  it('has sub-millisecond resolution and agrees with Date.now()', () => {
    const clock = new NodeClock();
    const a = clock.wallNtp();
    const b = clock.wallNtp();
    const gap = differenceToSeconds(subtractTimestamps(b, a));
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(gap).toBeLessThan(0.001);
    const drift = differenceToSeconds(subtractTimestamps(clock.wallNtp(), ntpFromUnixSeconds(Date.now() / 1000)));
    expect(drift).toBeGreaterThan(-0.002);
    expect(drift).toBeLessThan(0.002);
  });

  it('follows a step of the system clock and reports it once', () => {
    const clock = new NodeClock();
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 10000);
    try {
      const stepped = clock.wallMs();
      expect(Math.abs(stepped - (realNow() + 10000))).toBeLessThan(5);
      expect(clock.takeStepS()).toBeCloseTo(10, 1);
      expect(clock.takeStepS()).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });
});
