// A real chronyd (chrony 4.3 on Debian 12) serving NTP on one loopback address, for interoperability tests.
//
// Observed behaviour of chronyd as a server, which tests can rely on (checked in test/fixtures.test.ts):
// - with `local stratum N` it answers at once: LI=0, VN=4 (echoes the request's version), mode 4, stratum N,
//   refid 7f7f0101 (127.127.1.1, chrony's local reference), origin = the request's transmit timestamp;
// - without `local` (unsynchronised) it still answers: LI=3, stratum 0, refid 00000000 (no ASCII kiss code);
// - a `deny`-ed source gets no reply at all: chrony never sends DENY/RSTR kisses;
// - a source over its `ratelimit` gets no reply either (no RATE kiss); on average one excess request in 2^leak is
//   still answered normally, so assertions about rate limiting must allow a few replies through.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { allocateLoopback, assertLoopback, PROBE_SOURCE, releaseLoopback, udpPortBound } from './loopback';
import { udpBound } from './netns';
import { queryOnce } from './packet';
import { makeTempDir, spawnSandboxed, waitFor, type ManagedProcess } from './process';

export interface ChronydOptions {
  /** Used to derive a private loopback address when address is not given. */
  label?: string;
  /**
   * Run inside this network namespace (test/support/netns.ts), on its own loopback: the address defaults to
   * 127.0.0.1 there, and readiness is checked from inside.
   */
  netns?: string;
  address?: string;
  /** Server port, 123 by default. ntpdig can only talk to 123. */
  port?: number;
  /**
   * `local stratum N`: serve the local clock as synchronised at stratum N. Default 10 (chrony's own default).
   * null leaves `local` out, so chronyd answers as an unsynchronised server (LI=3, stratum 0).
   */
  localStratum?: number | null;
  /**
   * `ratelimit interval I burst B leak L`: interval is log2 seconds between responses (-19..12), burst the number of
   * responses allowed in a burst (1..255), leak the log2 of the fraction of excess requests still answered (1..4).
   * Excess requests are dropped silently.
   */
  rateLimit?: { interval?: number; burst?: number; leak?: number };
  /** `allow` subnets; default 127.0.0.0/8. */
  allow?: string[];
  /** `deny` subnets or addresses: requests from them are dropped silently (chrony sends no kiss). */
  deny?: string[];
  /** Extra chrony.conf lines; %DIR% is replaced by the daemon's private directory. */
  extraConfig?: string[];
  /**
   * How to decide chronyd is up: 'reply' (default) waits for a mode-4 answer to a probe sent from PROBE_SOURCE;
   * 'bound' only waits for the UDP port to be taken, for configurations that deny the probe.
   */
  readyCheck?: 'reply' | 'bound';
  readyTimeoutMs?: number;
  /**
   * Open chronyd's command socket (a Unix socket in its private directory, never the UDP command port), so that
   * clients() can ask it what it received.
   */
  commandSocket?: boolean;
}

/** What chronyd counted from one client address (`chronyc clients`). */
export interface ChronydClient {
  address: string;
  /** NTP packets received from that address. */
  ntpPackets: number;
  /** NTP packets from it that were dropped (rate limiting). */
  ntpDropped: number;
}

export interface Chronyd {
  address: string;
  port: number;
  /** Private directory holding chrony.conf, the pid and drift files and chronyd.log (its -d output). */
  logDir: string;
  configPath: string;
  pid: number;
  /** chronyd's log output so far. */
  log(): string;
  /** What chronyd received, per client address (needs commandSocket). */
  clients(): Promise<ChronydClient[]>;
  /** Stops chronyd, waits for it to exit, frees the address and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

export function chronydConfig(options: ChronydOptions & { address: string; port: number; dir: string }): string {
  const lines = [
    '# Written by test/support/chronyd.ts: a loopback-only server that never touches the system clock.',
    `bindaddress ${options.address}`,
    `port ${options.port}`,
    // No server/pool lines: chronyd never sends a packet anywhere.
    ...(options.allow ?? ['127.0.0.0/8']).map((subnet) => `allow ${subnet}`),
    ...(options.deny ?? []).map((subnet) => `deny ${subnet}`),
  ];
  const stratum = options.localStratum === undefined ? 10 : options.localStratum;
  if (stratum !== null) {
    lines.push(`local stratum ${stratum}`);
  }
  if (options.rateLimit) {
    const { interval, burst, leak } = options.rateLimit;
    const parts = ['ratelimit'];
    if (interval !== undefined) {
      parts.push(`interval ${interval}`);
    }
    if (burst !== undefined) {
      parts.push(`burst ${burst}`);
    }
    if (leak !== undefined) {
      parts.push(`leak ${leak}`);
    }
    lines.push(parts.join(' '));
  }
  lines.push(
    `pidfile ${join(options.dir, 'chronyd.pid')}`,
    `driftfile ${join(options.dir, 'chrony.drift')}`,
    `logdir ${options.dir}`,
    // No chronyc access over UDP: cmdport 0 closes the command port. The Unix socket's default path
    // (/run/chrony/chronyd.sock) would be shared by every instance, so it is either disabled ("/") or private.
    'cmdport 0',
    `bindcmdaddress ${options.commandSocket ? join(options.dir, 'chronyd.sock') : '/'}`,
    ...(options.extraConfig ?? []).map((line) => line.split('%DIR%').join(options.dir)),
  );
  return `${lines.join('\n')}\n`;
}

export async function startChronyd(options: ChronydOptions = {}): Promise<Chronyd> {
  const allocated = options.address === undefined && options.netns === undefined;
  const address = options.address ?? (options.netns ? '127.0.0.1' : allocateLoopback(options.label ?? 'chronyd'));
  assertLoopback(address);
  const port = options.port ?? 123;
  const temp = makeTempDir('chronyd');
  const configPath = join(temp.dir, 'chrony.conf');
  writeFileSync(configPath, chronydConfig({ ...options, address, port, dir: temp.dir }));

  // -d: foreground, log to stderr. -x: never adjust the system clock. -4: no IPv6 sockets (which would otherwise
  // be bound to the wildcard address). -u root: stay root instead of switching to _chrony, which cannot read the
  // private temp dir and may not exist.
  const daemon: ManagedProcess = spawnSandboxed('chronyd', ['-d', '-x', '-4', '-u', 'root', '-f', configPath], join(temp.dir, 'chronyd.log'),
    options.netns ? ['ip', 'netns', 'exec', options.netns] : []);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) {
      return;
    }
    stopped = true;
    await daemon.stop();
    temp.remove();
    if (allocated) {
      releaseLoopback(address);
    }
  };

  try {
    await waitFor(
      `chronyd on ${address}:${port}`,
      async () => {
        if (options.netns) {
          return (await udpBound(options.netns, address, port)) ? true : undefined;
        }
        if (options.readyCheck === 'bound') {
          return (await udpPortBound(address, port)) ? true : undefined;
        }
        const reply = await queryOnce(address, { port, timeoutMs: 200, sourceAddress: PROBE_SOURCE });
        return reply ? true : undefined;
      },
      { timeoutMs: options.readyTimeoutMs ?? 10000, intervalMs: 50, process: daemon },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const clients = (): Promise<ChronydClient[]> => {
    if (!options.commandSocket) {
      return Promise.reject(new Error('chronyd was started without commandSocket: true'));
    }
    return new Promise((resolve, reject) => {
      // -c: CSV, one client per line: address, NTP packets, NTP drops, ...
      execFile('chronyc', ['-h', join(temp.dir, 'chronyd.sock'), '-n', '-c', 'clients'], { timeout: 5000 }, (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`chronyc clients failed: ${String(stderr).trim() || error.message}`));
          return;
        }
        resolve(String(stdout).split('\n').filter((line) => line.trim() !== '').map((line) => {
          const fields = line.split(',');
          return { address: fields[0], ntpPackets: Number(fields[1]), ntpDropped: Number(fields[2]) };
        }));
      });
    });
  };

  return {
    address,
    port,
    logDir: temp.dir,
    configPath,
    pid: daemon.pid,
    log: daemon.output,
    clients,
    stop,
  };
}
