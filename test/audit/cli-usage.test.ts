// kisstime audit's command line: help on stdout with exit 0, and every mistake refused with exit 2 and the flag named,
// before anything listens or runs.

import { createSocket } from 'node:dgram';
import { describe, expect, test } from 'vitest';
import { run } from '../../src/node/cli/audit';
import { allocateLoopback, releaseLoopback } from '../support/loopback';

async function audit(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

describe('kisstime audit flags', () => {
  test('--help prints the usage to stdout and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await audit([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('usage: kisstime audit --cmd TEMPLATE');
      expect(r.out).toContain('{host}, {port} and {state}');
      expect(r.err).toBe('');
    }
  });

  test('mistakes exit 2 with the flag named', async () => {
    const cases: [string[], string][] = [
      [['--cmd', 'x {host}', '--bogus'], 'kisstime audit: unknown option --bogus'],
      [['--cmd', 'x {host}', '--seconds'], '--seconds needs a value'],
      [[], '--cmd: give --cmd TEMPLATE or --listen ADDR:PORT'],
      [['--cmd', 'x {host}', '--listen', '127.0.0.1:123'], '--cmd: give --cmd or --listen, not both'],
      [['--cmd', 'ntpdig 127.0.0.1'], '--cmd: the command must contain {host}'],
      [['--cmd', 'x {host}', '--seconds', 'soon'], '--seconds: a number of seconds above 0: "soon"'],
      [['--cmd', 'x {host}', '--scenarios', 'good,flood'], '--scenarios: unknown scenario "flood" (known: good, silence, deny'],
      [['--cmd', 'x {host}', '--port', '70000'], '--port: a port from 0 to 65535'],
      [['--cmd', 'x {host}', '--first-address', '10.0.0.1'], '--first-address: must be an IPv4 loopback address'],
      [['--listen', 'somewhere'], '--listen: expected ADDR:PORT'],
      [['--listen', '127.0.0.1:0', '--rerun', '5'], '--rerun: only applies to a command (cmd mode)'],
      [['--cmd', 'x {host}', 'extra'], 'unexpected argument "extra"'],
    ];
    for (const [args, words] of cases) {
      const r = await audit(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toContain(words);
      expect(r.out).toBe('');
    }
  });

  test('an address that is taken is reported with its address, the likely culprit, and exit 2', async () => {
    const address = allocateLoopback('audit-cli-taken');
    const holder = createSocket('udp4');
    try {
      const port = await new Promise<number>((resolve) => holder.bind(0, address, () => resolve(holder.address().port)));
      const r = await audit(['--cmd', 'true {host}', '--first-address', address, '--port', String(port), '--scenarios', 'good', '--seconds', '1', '--quiet']);
      expect(r.code).toBe(2);
      expect(r.err).toContain('kisstime audit: cannot listen on ' + address + ':' + port + ': EADDRINUSE (another time server, such as chronyd or ntpd, may hold it)');
    } finally {
      holder.close();
      releaseLoopback(address);
    }
  });

  test('a command that never starts fails "asked", and the table says what it printed', async () => {
    const address = allocateLoopback('audit-cli-missing');
    try {
      const r = await audit(['--cmd', 'no-such-sntp-client {host}', '--first-address', address, '--port', '0', '--scenarios', 'good', '--seconds', '1', '--quiet']);
      expect(r.code).toBe(1);
      expect(r.out).toContain('FAIL good · asked: no request in 1.00 s');
      expect(r.out).toMatch(/good: code 127, last output: .*no-such-sntp-client: not found/);
    } finally {
      releaseLoopback(address);
    }
  });
});
