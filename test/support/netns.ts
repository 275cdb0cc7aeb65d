// Network namespaces for tests that need several copies of something with a fixed port (the Espruino interpreter's
// telnet REPL is always TCP 2323). Each namespace has its own loopback and one veth link to this process's namespace,
// addressed from 198.18.0.0/15 (RFC 2544's range for benchmarking, routed nowhere): nothing in it can reach another
// machine, and what runs in it reaches only its own loopback. Needs root (CI runs as root).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { pidAlive } from './process';

export interface NetworkNamespace {
  name: string;
  /** The namespace's end of the veth link: how this process reaches a server inside. */
  address: string;
  /** This process's end of the link. */
  hostAddress: string;
  /** Prefix that runs a command inside: ip netns exec <name>. */
  exec: string[];
  /** Deletes the namespace (its veth link goes with it). Kill what runs inside first. */
  remove(): Promise<void>;
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function ip(args: string[]): Promise<string> {
  const result = await run('ip', args);
  if (result.code !== 0) {
    throw new Error(`ip ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Deletes namespaces left by test workers that died before removing them (their pid is part of the name). */
async function sweepStale(): Promise<void> {
  const list = await ip(['netns', 'list']);
  for (const line of list.split('\n')) {
    const match = /^(kisstime-(\d+)-\d+)\b/.exec(line.trim());
    if (match && !pidAlive(Number(match[2]))) {
      await run('ip', ['netns', 'del', match[1]]);
    }
  }
}

/** The 198.18.0.0/15 addresses this namespace already carries, as numbers. */
async function addressesInUse(): Promise<Set<number>> {
  const out = await ip(['-4', '-o', 'addr', 'show']);
  const used = new Set<number>();
  for (const match of out.matchAll(/inet (198\.1[89]\.\d+\.\d+)\//g)) {
    const [a, b, c, d] = match[1].split('.').map(Number);
    used.add(((a * 256 + b) * 256 + c) * 256 + d);
  }
  return used;
}

function dotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

let created = 0;

/** A new namespace with loopback up and a /30 veth link to this process's namespace. */
export async function createNetns(label: string): Promise<NetworkNamespace> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`${label}: network namespaces need root (ip netns add); CI runs the tests as root`);
  }
  await sweepStale();
  const n = ++created;
  const name = `kisstime-${process.pid}-${n}`;
  const hostIf = `kt${n}h${process.pid}`;
  const nsIf = `kt${n}n${process.pid}`;
  const used = await addressesInUse();
  const rangeStart = ((198 * 256 + 18) * 256) * 256;
  let block = -1;
  for (let attempt = 0; attempt < 64 && block < 0; attempt++) {
    const digest = createHash('sha256').update(`${label}\0${process.pid}\0${n}\0${attempt}`).digest();
    const candidate = rangeStart + 4 * (digest.readUInt32BE(0) % 32768);
    if (![0, 1, 2, 3].some((i) => used.has(candidate + i))) {
      block = candidate;
    }
  }
  if (block < 0) {
    throw new Error(`${label}: no free /30 in 198.18.0.0/15`);
  }
  const hostAddress = dotted(block + 1);
  const address = dotted(block + 2);
  await ip(['netns', 'add', name]);
  const remove = async (): Promise<void> => {
    await run('ip', ['netns', 'del', name]);
    // Normally gone with the namespace; a half-made link is removed here.
    await run('ip', ['link', 'del', hostIf]);
  };
  try {
    await ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', name]);
    await ip(['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await ip(['link', 'set', hostIf, 'up']);
    await ip(['-n', name, 'addr', 'add', `${address}/30`, 'dev', nsIf]);
    await ip(['-n', name, 'link', 'set', nsIf, 'up']);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    await remove();
    throw error;
  }
  return { name, address, hostAddress, exec: ['ip', 'netns', 'exec', name], remove };
}

/** Whether something inside the namespace listens on TCP port (any address). */
export async function tcpListening(ns: string, port: number): Promise<boolean> {
  const out = await ip(['netns', 'exec', ns, 'ss', '-Hltn']);
  return out.split('\n').some((line) => line.split(/\s+/).some((field) => field.endsWith(`:${port}`)));
}

/** Whether something inside the namespace has bound UDP address:port. */
export async function udpBound(ns: string, address: string, port: number): Promise<boolean> {
  const out = await ip(['netns', 'exec', ns, 'ss', '-Hlun']);
  return out.split('\n').some((line) => line.split(/\s+/).includes(`${address}:${port}`));
}
