// Proves that the test fixtures work against the real programs, and pins down the server behaviour other tests rely
// on (which kiss a real ntpsec sends, that chrony drops instead of kissing), so that a distribution update that
// changes it shows up here first instead of as a puzzling failure elsewhere.

import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChronyd, type Chronyd } from './support/chronyd';
import { answerWithTime, makeKiss, makeReply, startKisser, type Kisser, type KisserRequest } from './support/kisser';
import { allocateLoopback, assertLoopback, freeUdpPort, isLoopbackV4, releaseLoopback } from './support/loopback';
import { ensureNtpsec, startNtpsecd, type Ntpsecd } from './support/ntpsec';
import { runNtpdig } from './support/ntpdig';
import { burst, describeReplies, makeRequest, offsetAndDelay, parsePacket, queryOnce, sleep, type ParsedPacket } from './support/packet';

describe('loopback allocation', () => {
  it('hands out distinct 127/8 addresses outside 127.0.x.x and 127.254.x.x', () => {
    const addresses = Array.from({ length: 20 }, () => allocateLoopback('fixtures:same-label'));
    try {
      expect(new Set(addresses).size).toBe(addresses.length);
      for (const address of addresses) {
        expect(isLoopbackV4(address)).toBe(true);
        expect(address.startsWith('127.0.')).toBe(false);
        expect(address.startsWith('127.254.')).toBe(false);
      }
    } finally {
      addresses.forEach(releaseLoopback);
    }
  });

  it('refuses non-loopback targets', () => {
    expect(() => assertLoopback('192.0.2.1')).toThrow(/non-loopback/);
    expect(() => assertLoopback('localhost')).toThrow(/non-loopback/);
    expect(() => assertLoopback('127.1.2.3')).not.toThrow();
  });

  it('finds a free UDP port on an allocated address', async () => {
    const address = allocateLoopback('fixtures:port');
    try {
      const port = await freeUdpPort(address);
      expect(port).toBeGreaterThan(0);
      const socket = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, address, () => resolve());
      });
      socket.close();
    } finally {
      releaseLoopback(address);
    }
  });
});

describe('chronyd fixture', () => {
  let synced: Chronyd;
  let unsynced: Chronyd;
  let limited: Chronyd;
  let deniedSource: string;

  beforeAll(async () => {
    deniedSource = allocateLoopback('fixtures:chrony-denied-client');
    [synced, unsynced, limited] = await Promise.all([
      startChronyd({ label: 'fixtures:chronyd', localStratum: 5, deny: [deniedSource] }),
      startChronyd({ label: 'fixtures:chronyd-unsync', localStratum: null }),
      startChronyd({ label: 'fixtures:chronyd-limited', localStratum: 4, rateLimit: { interval: 1, burst: 2, leak: 4 } }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([synced?.stop(), unsynced?.stop(), limited?.stop()]);
    releaseLoopback(deniedSource);
  });

  it('answers with the configured local stratum, echoing the nonce', async () => {
    const reply = await queryOnce(synced.address, { timeoutMs: 2000 });
    expect(reply, synced.log()).not.toBeNull();
    const packet = reply!.packet;
    expect(packet.mode).toBe(4);
    expect(packet.version).toBe(4);
    expect(packet.leap).toBe(0);
    expect(packet.stratum).toBe(5);
    expect(reply!.from).toEqual({ address: synced.address, port: 123 });
    const { offset, delay } = offsetAndDelay(reply!);
    expect(Math.abs(offset)).toBeLessThan(0.05);
    expect(delay).toBeGreaterThanOrEqual(0);
  });

  it('is measured by ntpdig at an offset of about zero', async () => {
    const result = await runNtpdig(synced.address, { timeoutSec: 2 });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (result.ok) {
      expect(result.stratum).toBe(5);
      expect(Math.abs(result.offset)).toBeLessThan(0.05);
      expect(Math.abs(result.offset - result.reportedOffset)).toBeLessThan(2e-6);
      expect(result.delay).toBeGreaterThanOrEqual(0);
      expect(result.delay).toBeLessThan(0.1);
    }
  });

  it('unsynchronised, answers LI=3 stratum 0 with a zero refid (no kiss code)', async () => {
    const reply = await queryOnce(unsynced.address, { timeoutMs: 2000 });
    expect(reply, unsynced.log()).not.toBeNull();
    expect(reply!.packet.leap).toBe(3);
    expect(reply!.packet.stratum).toBe(0);
    expect(reply!.packet.refid.toString('hex')).toBe('00000000');
  });

  it('drops requests from a denied source silently (no DENY kiss)', async () => {
    const replies = await burst(synced.address, 3, { gapMs: 50, sourceAddress: deniedSource });
    expect(describeReplies(replies)).toBe('- - -');
  });

  it('drops rate-limited requests silently (no RATE kiss), leaking a few', async () => {
    const replies = await burst(limited.address, 20, { gapMs: 20 });
    console.log(`chronyd ratelimit interval 1 burst 2 leak 4, 20 requests 20 ms apart: ${describeReplies(replies)}`);
    const answered = replies.filter((p): p is ParsedPacket => p !== undefined);
    expect(answered.length).toBeGreaterThanOrEqual(2);
    expect(answered.length).toBeLessThan(12);
    expect(answered.every((p) => p.stratum === 4)).toBe(true);
  });
});

describe('ntpsec fixture', () => {
  let plain: Ntpsecd;
  let limited: Ntpsecd;
  let noserveSource: string;

  beforeAll(async () => {
    // First use on a machine downloads and unpacks the .deb: keep that out of the daemons' start-up timeouts.
    await ensureNtpsec();
    noserveSource = allocateLoopback('fixtures:ntpsec-noserve-client');
    [plain, limited] = await Promise.all([
      startNtpsecd({ label: 'fixtures:ntpsec', restrict: [`${noserveSource} kod limited noserve`] }),
      startNtpsecd({ label: 'fixtures:ntpsec-limited', rateLimit: { average: 1, burst: 2, kod: 10 } }),
    ]);
  }, 180000);

  afterAll(async () => {
    await Promise.all([plain?.stop(), limited?.stop()]);
    releaseLoopback(noserveSource);
  });

  it('unsynchronised, answers every request with an INIT kiss that echoes the nonce', async () => {
    const reply = await queryOnce(plain.address, { timeoutMs: 2000 });
    expect(reply, plain.log()).not.toBeNull();
    const packet = reply!.packet;
    console.log(`ntpsec unsynchronised: LI=${packet.leap} stratum=${packet.stratum} refid=${packet.refidAscii ?? packet.refid.toString('hex')}`);
    expect(packet.mode).toBe(4);
    expect(packet.leap).toBe(3);
    expect(packet.stratum).toBe(0);
    expect(packet.refidAscii).toBe('INIT');
    expect(reply!.originMatches).toBe(true);
    expect(describeReplies(await burst(plain.address, 5, { gapMs: 10 }))).toBe('INIT INIT INIT INIT INIT');
  });

  it('with kod limited, sends RATE once a burst exceeds the limit', async () => {
    const replies = await burst(limited.address, 6, { gapMs: 100 });
    const text = describeReplies(replies);
    console.log(`ntpsec limit average 1 burst 2 kod 10, 6 requests 100 ms apart: ${text}`);
    expect(text).toBe('INIT INIT RATE RATE RATE RATE');
    const rate = replies[2]!;
    expect(rate.leap).toBe(3);
    expect(rate.mode).toBe(4);
    // ntpsec's RATE kiss copies the request's transmit timestamp into origin, receive and transmit alike.
    expect(rate.receive).toBe(rate.origin);
    expect(rate.transmit).toBe(rate.origin);
  });

  it('drops requests from a noserve source silently (ntpsec sends no DENY)', async () => {
    expect(describeReplies(await burst(plain.address, 3, { gapMs: 50, sourceAddress: noserveSource }))).toBe('- - -');
  });

  it('makes ntpdig refuse the INIT kiss', async () => {
    const result = await runNtpdig(plain.address, { timeoutSec: 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toMatch(/stratum 0|no eligible servers/);
    }
  });
});

describe('kisser', () => {
  let address: string;
  let kisser: Kisser;

  beforeAll(async () => {
    address = allocateLoopback('fixtures:kisser');
    // Port 123 so that ntpdig, which cannot use another port, can cross-check the kisser's time replies.
    kisser = await startKisser(address, 123);
  });

  afterAll(async () => {
    await kisser?.close();
    releaseLoopback(address);
  });

  it('replies with the kiss code it is told, echoing the nonce', async () => {
    kisser.setHandler((request) => ({ bytes: makeKiss(request, 'DENY') }));
    const reply = await queryOnce(address, { timeoutMs: 1000 });
    expect(reply).not.toBeNull();
    expect(reply!.packet.stratum).toBe(0);
    expect(reply!.packet.leap).toBe(3);
    expect(reply!.packet.refidAscii).toBe('DENY');
    expect(kisser.errors).toEqual([]);
  });

  it('forges origins, replies twice, replies late and from other ports as scripted', async () => {
    const socket = createSocket('udp4');
    const received: { packet: ParsedPacket; port: number; at: number }[] = [];
    socket.on('message', (message, rinfo) => {
      const packet = parsePacket(message);
      if (packet) {
        received.push({ packet, port: rinfo.port, at: Date.now() });
      }
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    kisser.setHandler((request: KisserRequest) => [
      { bytes: makeKiss(request, 'RATE', { origin: 0n }) },
      { bytes: makeReply(request, { stratum: 3 }) },
      { bytes: makeReply(request, { stratum: 4 }), fromPort: 0 },
      { bytes: makeReply(request, { stratum: 5 }), delayMs: 300 },
    ]);
    const { bytes, nonce } = makeRequest();
    const sentAt = Date.now();
    socket.send(bytes, 123, address);
    await sleep(600);
    socket.close();
    expect(received.map((r) => r.packet.stratum)).toEqual([0, 3, 4, 5]);
    expect(received[0].packet.origin).toBe(0n);
    expect(received[1].packet.origin).toBe(nonce);
    expect(received[1].port).toBe(123);
    expect(received[2].port).not.toBe(123);
    expect(received[3].at - sentAt).toBeGreaterThanOrEqual(250);
    expect(kisser.errors).toEqual([]);
  });

  it('counts requests with arrival times, answered or not', async () => {
    kisser.setHandler(() => null);
    const before = kisser.count();
    const since = Date.now() - 1;
    const replies = await burst(address, 3, { gapMs: 30, settleMs: 100 });
    expect(describeReplies(replies)).toBe('- - -');
    const seen = await kisser.waitForRequests(before + 3, 1000);
    expect(seen.length).toBe(before + 3);
    const recent = kisser.requestsSince(since);
    expect(recent.length).toBe(3);
    expect(recent[2].receivedAtMono - recent[0].receivedAtMono).toBeGreaterThanOrEqual(40);
    expect(recent.every((r) => r.packet?.mode === 3 && r.transmit !== 0n)).toBe(true);
  });

  it('serves time that ntpdig measures at the simulated offset', async () => {
    kisser.setHandler((request) => (request.packet ? { bytes: makeReply(request, { offsetSeconds: 2.5 }) } : null));
    const result = await runNtpdig(address, { timeoutSec: 2 });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (result.ok) {
      expect(result.offset).toBeGreaterThan(2.45);
      expect(result.offset).toBeLessThan(2.55);
    }
    kisser.setHandler(answerWithTime);
  });
});
