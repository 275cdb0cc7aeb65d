// kisstime serve from the command line: flags refused by name, a local-clock server answering, kisses for denied
// clients, and --stats printing what happened (requests, answers, kisses and drops by reason).

import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, test } from 'vitest';
import { run } from '../../src/node/cli/serve';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { queryOnce, sleep } from '../support/packet';

function capture(): { io: Parameters<typeof run>[1] & object; out: string[]; err: string[]; abort: () => void } {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t), signal: controller.signal }, out, err, abort: () => controller.abort() };
}

const address = allocateLoopback('server-cli');
afterAll(() => releaseLoopback(address));

describe('kisstime serve', () => {
  test('bad flags are refused with the flag named and exit code 2', async () => {
    for (const [args, words] of [
      [[], '--listen: required'],
      [['--listen', 'nonsense'], '--listen: expected ADDR:PORT'],
      [['--listen', '127.0.0.1:0', '--allow', '10.0.0.0/40'], '--allow: not an address or CIDR block (e.g. 192.168.1.0/24, fd00::/8): "10.0.0.0/40"'],
      [['--listen', '127.0.0.1:0', '--rate-burst', '0'], '--rate-burst:'],
      [['--listen', '127.0.0.1:0', '--local-stratum', '16'], '--local-stratum:'],
      [['--listen', '127.0.0.1:0', '--upstream', 'pool.ntp.org', '--min-interval', '16s'], '--min-interval:'],
      [['--listen', '127.0.0.1:0', '--bogus'], 'unknown option --bogus'],
    ] as [string[], string][]) {
      const c = capture();
      expect(await run(args, c.io)).toBe(2);
      expect(c.err.join('')).toContain(words);
    }
  });

  test('serves the local clock at the stratum asked, kisses a denied client, and prints stats', async () => {
    const c = capture();
    const done = run(['--listen', `${address}:0`, '--local-stratum', '7', '--deny', '127.66.0.0/16', '--stats', '--stats-interval', '0.2s'], c.io);
    let port = 0;
    for (let i = 0; i < 100 && port === 0; i++) {
      const m = /listen\s+\S+:(\d+)/.exec(c.out.join(''));
      if (m) port = parseInt(m[1], 10);
      else await sleep(20);
    }
    expect(port).toBeGreaterThan(0);
    const answer = await queryOnce(address, { port, timeoutMs: 1000 });
    expect(answer?.packet.stratum).toBe(7);
    expect(answer?.packet.leap).toBe(0);
    const kiss = await queryOnce(address, { port, timeoutMs: 1000, sourceAddress: '127.66.0.9' });
    expect(kiss?.packet.stratum).toBe(0);
    expect(kiss?.packet.refidAscii).toBe('DENY');
    // A mode-6 control query gets nothing back.
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.send(Buffer.from([0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]), port, address, () => resolve()));
    probe.close();
    await sleep(450);
    c.abort();
    expect(await done).toBe(0);
    const text = c.out.join('');
    expect(text).toMatch(/stats +3 req · 1 ok · DENY 1 · dropped 1 · 2\/8192 clients.*too-short 1/);
  });

  test('--stats names the rudest clients: one that keeps asking after DENY, one under the 15 s floor', async () => {
    const c = capture();
    const done = run(['--listen', `${address}:0`, '--local-stratum', '7', '--deny', '127.66.0.0/16', '--stats', '--stats-interval', '0.3s'], c.io);
    let port = 0;
    for (let i = 0; i < 100 && port === 0; i++) {
      const m = /listen\s+\S+:(\d+)/.exec(c.out.join(''));
      if (m) port = parseInt(m[1], 10);
      else await sleep(20);
    }
    for (let i = 0; i < 3; i++) await queryOnce(address, { port, timeoutMs: 200, sourceAddress: '127.66.0.9' });
    for (let i = 0; i < 2; i++) await queryOnce(address, { port, timeoutMs: 200, sourceAddress: '127.67.0.4' });
    await sleep(500);
    c.abort();
    expect(await done).toBe(0);
    const text = c.out.join('');
    expect(text).toMatch(/; 2 rude clients\n/);
    expect(text).toMatch(/rude +127\.66\.0\.9: asked 2 times after DENY; shortest interval 0\.\d s \(floor 15 s\), [\d.]+ requests\/min \(3 requests\)/);
    expect(text).toMatch(/rude +127\.67\.0\.4: shortest interval 0\.\d s \(floor 15 s\)/);
  });

  test('an address already taken is reported with the address, the usual culprit and exit 1', async () => {
    const holder = createSocket('udp4');
    const port = await new Promise<number>((resolve) => holder.bind(0, address, () => resolve(holder.address().port)));
    try {
      const c = capture();
      expect(await run(['--listen', `${address}:${port}`, '--local-stratum', '7'], c.io)).toBe(1);
      expect(c.err.join('')).toContain(`cannot listen on ${address}:${port}: EADDRINUSE, the address is taken (usually by a time server already running there: chronyd or ntpd)`);
    } finally {
      holder.close();
    }
  });
});
