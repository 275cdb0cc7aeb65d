// Loopback addresses for the fixtures. Real NTP daemons and ntpdig only speak on port 123 (ntpdig has no port option),
// so parallel test files are kept apart by address, never by port. Every address handed out is in 127.0.0.0/8, which
// Linux routes to lo without configuration, so nothing here can reach another machine.

import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './process';

/**
 * Readiness probes of the daemon fixtures come from this address, which allocateLoopback never hands out. Daemons
 * keep rate-limit state per source address, so the probes do not eat into the budget of the traffic a test sends.
 */
export const PROBE_SOURCE = '127.254.0.1';

const REGISTRY_DIR = join(tmpdir(), 'kisstime-loopback');
const held = new Set<string>();
let exitHookInstalled = false;

export function isLoopbackV4(address: string): boolean {
  const parts = address.split('.');
  if (parts.length !== 4 || parts[0] !== '127') {
    return false;
  }
  return parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255);
}

/** Throws unless address is IPv4 loopback: the fixtures must never send anywhere else. */
export function assertLoopback(address: string): void {
  if (!isLoopbackV4(address)) {
    throw new Error(`fixture refused non-loopback address ${JSON.stringify(address)}: only 127.0.0.0/8 is allowed`);
  }
}

function candidate(label: string, attempt: number): string {
  const digest = createHash('sha256').update(`${label}\0${process.pid}\0${attempt}`).digest();
  // 127.0.x.x is avoided because system services live there (127.0.0.1, 127.0.0.53, Debian's 127.0.1.1);
  // 127.254.x.x holds PROBE_SOURCE and 127.255.255.255 is the lo broadcast address.
  const a = 16 + (digest[0] % 238);
  const b = digest[1];
  const c = 1 + (digest[2] % 254);
  return `127.${a}.${b}.${c}`;
}

function tryClaim(address: string): boolean {
  const path = join(REGISTRY_DIR, address);
  for (let round = 0; round < 2; round++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }
    // A claim left behind by a crashed worker is reclaimed; a live one, even our own, means "pick another".
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, 'utf8'));
    } catch {
      continue;
    }
    if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) {
      return false;
    }
    try {
      unlinkSync(path);
    } catch {
      // Another worker reclaimed it first; the next round's exclusive create decides.
    }
  }
  return false;
}

function sweepStaleClaims(): void {
  for (const name of readdirSync(REGISTRY_DIR)) {
    if (!isLoopbackV4(name)) {
      continue;
    }
    try {
      const owner = Number(readFileSync(join(REGISTRY_DIR, name), 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
        unlinkSync(join(REGISTRY_DIR, name));
      }
    } catch {
      // Claimed or swept concurrently by another worker: leave it to them.
    }
  }
}

/**
 * A loopback address no other live process of this machine holds through this function. The address is derived
 * from label and pid, so reruns are reproducible per worker, and claimed with an exclusive file in the OS temp dir,
 * so two vitest workers (or two fixtures in one file) never get the same one even if their hashes collide.
 */
export function allocateLoopback(label: string): string {
  mkdirSync(REGISTRY_DIR, { recursive: true });
  sweepStaleClaims();
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const address of held) {
        try {
          unlinkSync(join(REGISTRY_DIR, address));
        } catch {
          // Already gone; nothing to release.
        }
      }
    });
  }
  for (let attempt = 0; attempt < 1000; attempt++) {
    const address = candidate(label, attempt);
    if (tryClaim(address)) {
      held.add(address);
      return address;
    }
  }
  throw new Error(`could not allocate a loopback address for ${label}`);
}

export function releaseLoopback(address: string): void {
  if (!held.delete(address)) {
    return;
  }
  try {
    unlinkSync(join(REGISTRY_DIR, address));
  } catch {
    // Already gone; nothing to release.
  }
}

/** A UDP port that was free on address a moment ago (the usual bind-to-0 race applies, harmless on a private address). */
export function freeUdpPort(address: string): Promise<number> {
  assertLoopback(address);
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind(0, address, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Resolves true when something already holds address:port for UDP (a bind attempt fails with EADDRINUSE). */
export function udpPortBound(address: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.close();
      if (error.code === 'EADDRINUSE') {
        resolve(true);
      } else {
        reject(error);
      }
    });
    socket.bind(port, address, () => {
      socket.close(() => resolve(false));
    });
  });
}

function run(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5000 }, (error, _stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stderr: String(stderr) });
    });
  });
}

function aliasMarker(address: string): string {
  return join(REGISTRY_DIR, `${address}.alias`);
}

/**
 * Removes lo aliases whose owner process is gone (a worker killed before its fixture's stop() ran), so that crashed
 * runs do not pile up addresses on lo. Each alias is recorded by a marker file holding the owner's pid.
 */
export async function sweepStaleAliases(): Promise<string[]> {
  mkdirSync(REGISTRY_DIR, { recursive: true });
  const removed: string[] = [];
  for (const name of readdirSync(REGISTRY_DIR)) {
    if (!name.endsWith('.alias')) {
      continue;
    }
    const address = name.slice(0, -'.alias'.length);
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(REGISTRY_DIR, name), 'utf8'));
    } catch {
      continue;
    }
    if (!isLoopbackV4(address) || address.startsWith('127.0.') || (Number.isInteger(owner) && owner > 0 && pidAlive(owner))) {
      continue;
    }
    await run('ip', ['-4', 'addr', 'del', `${address}/32`, 'dev', 'lo']);
    try {
      unlinkSync(join(REGISTRY_DIR, name));
    } catch {
      // Another process swept it at the same time.
    }
    removed.push(address);
  }
  return removed;
}

/**
 * Adds address/32 to lo. ntpsec's ntpd only opens sockets on addresses that an interface carries, unlike chronyd,
 * which binds any 127.x.y.z directly. Needs root (CAP_NET_ADMIN). An address that is already there counts as success,
 * so a leftover from a crashed run does not block a rerun.
 *
 * Side effect worth knowing: with the alias in place, the kernel picks the alias itself as the source address for
 * packets an unbound socket sends to it, so such clients reach ntpsec "from" the server's own address, while they
 * reach chronyd (no alias) from 127.0.0.1.
 */
export async function addLoopbackAlias(address: string): Promise<void> {
  assertLoopback(address);
  if (address.startsWith('127.0.')) {
    throw new Error(`refusing to alias ${address}: 127.0.x.x belongs to the system`);
  }
  await sweepStaleAliases();
  // The marker goes first, so that an alias never exists without a record that lets a later run remove it.
  writeFileSync(aliasMarker(address), String(process.pid));
  const result = await run('ip', ['-4', 'addr', 'add', `${address}/32`, 'dev', 'lo']);
  if (result.code !== 0 && !/File exists|already assigned/i.test(result.stderr)) {
    throw new Error(`ip addr add ${address}/32 dev lo failed (${result.code}): ${result.stderr.trim()} (root required)`);
  }
}

export async function removeLoopbackAlias(address: string): Promise<void> {
  assertLoopback(address);
  if (address.startsWith('127.0.')) {
    return;
  }
  // Failure (already removed) is fine: the goal is only that the alias is gone.
  await run('ip', ['-4', 'addr', 'del', `${address}/32`, 'dev', 'lo']);
  try {
    unlinkSync(aliasMarker(address));
  } catch {
    // No marker: nothing more to forget.
  }
}
