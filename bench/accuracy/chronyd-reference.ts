// chronyd as the accuracy bench's second reference: it stamps a request's arrival in the kernel, as real servers do,
// while the bench's own Node server stamps it only once its event loop hands it the datagram. A Node client's reply
// reaches it just as late, so against the Node server part of a Node client's own lateness cancels; against chronyd
// it shows. chronyd serves the local clock (`local stratum 1`, -x: it never adjusts it), so the true offset is 0.

import { ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRequest } from '../../src/core';
import { isLoopbackV4 } from './offset-server';

export interface ChronydReference {
  address: string;
  /** Stops chronyd and removes its directory once it has exited (it writes its drift file on the way out). */
  stop(): Promise<void>;
}

/** One probe: resolves true if anything answers a client request on address:123 within timeoutMs. */
function answers(address: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('message', () => done(true));
    socket.on('error', () => done(false));
    socket.send(encodeRequest({ s: 1, f: 1 }), 123, address);
  });
}

/** Starts chronyd on address:123 (loopback only) and waits until it answers; rejects if it cannot. */
export async function startChronydReference(address: string): Promise<ChronydReference> {
  if (!isLoopbackV4(address)) throw new Error('address: loopback (127.0.0.0/8) only, got ' + address);
  const dir = mkdtempSync(join(tmpdir(), 'kisstime-bench-chronyd-'));
  const config = join(dir, 'chrony.conf');
  writeFileSync(config, [
    'bindaddress ' + address, 'port 123', 'allow 127.0.0.0/8', 'local stratum 1',
    'pidfile ' + join(dir, 'chronyd.pid'), 'driftfile ' + join(dir, 'chrony.drift'), 'logdir ' + dir,
    // No command port and no command socket, whose default path every instance would share.
    'cmdport 0', 'bindcmdaddress /',
  ].join('\n') + '\n');
  // As the test fixtures run it: without CAP_SYS_TIME, dying with this process; -x never touches the clock.
  const child: ChildProcess = spawn('setpriv', ['--pdeathsig', 'TERM', '--bounding-set', '-sys_time', '--', 'chronyd', '-d', '-x', '-4', '-u', 'root', '-f', config], { stdio: 'ignore' });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  }).then(() => { exited = true; });
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 50 && !exited; i++) {
    if (await answers(address, 100)) return { address: address, stop: stop };
  }
  const hadExited = exited;
  await stop();
  throw new Error('chronyd did not answer on ' + address + ':123' + (hadExited ? ' (it exited)' : ''));
}
