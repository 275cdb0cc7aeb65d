// npm run bench:server: the Kisstime server against chronyd on this machine, under the same load generator, in one
// run. Prints a table; it asserts nothing. See README.md next to this file for how the load is made.
//
// Options: --workers N (load processes, default 3), --sockets N (per worker, default 4), --seconds S (per blast
// phase, default 4), --rate R (total requests/s for the latency phase, default 5000), --rounds N (alternating
// kisstime/chronyd rounds, medians reported; default 3), --skip-chronyd.

import { ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { encodeRequest, NtpResponder, validateServerConfig } from '../../src/core';
import { NodeClock } from '../../src/node/clock';
import type { WorkerJob, WorkerResult } from './load-worker';

interface Options {
  workers: number;
  sockets: number;
  seconds: number;
  rate: number;
  skipChronyd: boolean;
  rounds: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { workers: 3, sockets: 4, seconds: 4, rate: 5000, skipChronyd: false, rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--workers') o.workers = parseInt(v, 10);
    else if (argv[i] === '--sockets') o.sockets = parseInt(v, 10);
    else if (argv[i] === '--seconds') o.seconds = parseFloat(v);
    else if (argv[i] === '--rate') o.rate = parseInt(v, 10);
    else if (argv[i] === '--skip-chronyd') o.skipChronyd = true;
    else if (argv[i] === '--rounds') o.rounds = parseInt(v, 10);
  }
  return o;
}

// Loopback only. 127.201.x / 127.202.x are outside the range the test fixtures allocate from by default hashing?
// They may overlap; the bench is not meant to run alongside the test suite.
const KISSTIME_ADDRESS = '127.201.0.1';
const CHRONYD_ADDRESS = '127.201.0.2';
const PORT = 11123;
const SANDBOX = ['setpriv', '--pdeathsig', 'TERM', '--bounding-set', '-sys_time', '--'];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? parseInt(m[1], 10) : NaN;
}

/** utime + stime in seconds. */
function cpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.substring(stat.lastIndexOf(')') + 2).split(' ');
  return (parseInt(fields[11], 10) + parseInt(fields[12], 10)) / 100;
}

function probe(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(false);
    }, 200);
    s.on('message', () => {
      clearTimeout(timer);
      s.close();
      resolve(true);
    });
    s.send(Buffer.from(encodeRequest({ s: 1, f: 1 })), port, address);
  });
}

async function waitReady(address: string, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await probe(address, port)) return;
    await sleep(50);
  }
  throw new Error(`${address}:${port} never answered`);
}

async function startKisstime(): Promise<{ pid: number; stop: () => void }> {
  const child: ChildProcess = fork(join(__dirname, 'kisstime-target.js'), [KISSTIME_ADDRESS, String(PORT)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m: { listening?: unknown; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve()));
  });
  await waitReady(KISSTIME_ADDRESS, PORT);
  return { pid: child.pid as number, stop: () => child.kill('SIGTERM') };
}

async function startChronyd(): Promise<{ pid: number; stop: () => void; version: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kisstime-bench-chronyd-'));
  const conf = join(dir, 'chrony.conf');
  // Serving only: local clock at stratum 10, no upstream, rate limiting off (chrony's default when "ratelimit" is
  // absent), client log on (its default, like the Kisstime table), no command port.
  writeFileSync(conf, [
    `bindaddress ${CHRONYD_ADDRESS}`, `port ${PORT}`, 'allow 127.0.0.0/8', 'local stratum 10',
    `pidfile ${join(dir, 'chronyd.pid')}`, `driftfile ${join(dir, 'drift')}`, 'cmdport 0', 'bindcmdaddress /', '',
  ].join('\n'));
  const child = spawn(SANDBOX[0], [...SANDBOX.slice(1), 'chronyd', '-d', '-x', '-4', '-u', 'root', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d) => {
    log += String(d);
  });
  await waitReady(CHRONYD_ADDRESS, PORT);
  const m = /chronyd version (\S+)/.exec(log);
  return {
    pid: child.pid as number,
    version: m ? m[1] : '?',
    stop: () => {
      child.kill('SIGTERM');
      setTimeout(() => rmSync(dir, { recursive: true, force: true }), 500);
    },
  };
}

function runWorkers(o: Options, address: string, mode: 'blast' | 'paced', durationMs: number): Promise<WorkerResult[]> {
  const jobs: Promise<WorkerResult>[] = [];
  for (let w = 0; w < o.workers; w++) {
    const sources: string[] = [];
    for (let s = 0; s < o.sockets; s++) sources.push(`127.202.${w + 1}.${s + 1}`);
    const job: WorkerJob = { address, port: PORT, sources, mode, rate: o.rate / o.workers, durationMs, batch: 16 };
    jobs.push(new Promise((resolve, reject) => {
      const child = fork(join(__dirname, 'load-worker.js'), [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.once('message', (m: WorkerResult) => resolve(m));
      child.once('exit', (code) => (code ? reject(new Error('load worker exited with ' + code)) : undefined));
    }));
  }
  return Promise.all(jobs);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Row {
  name: string;
  offered: number;
  answered: number;
  cpuPct: number;
  cpuUsPerAnswer: number;
  p50: number;
  p99: number;
  pacedLoss: number;
  rssIdleMiB: number;
  rssPeakMiB: number;
}

async function measure(o: Options, name: string, pid: number, address: string): Promise<Row> {
  const rssIdle = rssKiB(pid);
  let rssPeak = rssIdle;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssKiB(pid));
  }, 100);
  const durationMs = o.seconds * 1000;
  const cpu0 = cpuS(pid);
  const blast = await runWorkers(o, address, 'blast', durationMs);
  const cpu1 = cpuS(pid);
  await sleep(300);
  const paced = await runWorkers(o, address, 'paced', 3000);
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, rssKiB(pid));
  const windowS = blast[0].windowMs / 1000;
  const answeredInWindow = blast.reduce((a, r) => a + r.receivedInWindow, 0);
  const answeredTotal = blast.reduce((a, r) => a + r.received, 0);
  const lat = paced.flatMap((r) => r.latenciesUs).sort((a, b) => a - b);
  const pacedSent = paced.reduce((a, r) => a + r.sent, 0);
  return {
    name,
    offered: blast.reduce((a, r) => a + r.sent, 0) / (durationMs / 1000),
    answered: answeredInWindow / windowS,
    cpuPct: ((cpu1 - cpu0) / (durationMs / 1000)) * 100,
    cpuUsPerAnswer: ((cpu1 - cpu0) * 1e6) / Math.max(1, answeredTotal),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    pacedLoss: 1 - lat.length / Math.max(1, pacedSent),
    rssIdleMiB: rssIdle / 1024,
    rssPeakMiB: rssPeak / 1024,
  };
}

/** The sans-IO decision and the clock reads, in this process: the part of each request that is Kisstime's own code. */
function coreCostNs(): { respondNs: number; clockNs: number } {
  const checked = validateServerConfig({ rateInterval: 0, localStratum: 10 });
  if (!checked.ok) throw new Error(checked.message);
  const r = new NtpResponder(checked.config, Math.random);
  const clock = new NodeClock();
  const req = encodeRequest({ s: 1, f: 2 });
  const out = Buffer.allocUnsafe(48);
  const n = 300000;
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) r.respond(req, '127.202.1.1', i, { s: 3900000000, f: i }, out);
  const respondNs = Number(process.hrtime.bigint() - t) / n;
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    clock.wallNtp();
    clock.monoMs();
    clock.wallNtp();
  }
  const clockNs = Number(process.hrtime.bigint() - t) / n;
  return { respondNs, clockNs };
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Each figure's median over the rounds (so a row need not come from one single round). */
function medianRow(list: Row[]): Row {
  const pick = (f: (r: Row) => number): number => median(list.map(f));
  return {
    name: list[0].name, offered: pick((r) => r.offered), answered: pick((r) => r.answered), cpuPct: pick((r) => r.cpuPct),
    cpuUsPerAnswer: pick((r) => r.cpuUsPerAnswer), p50: pick((r) => r.p50), p99: pick((r) => r.p99), pacedLoss: pick((r) => r.pacedLoss),
    rssIdleMiB: pick((r) => r.rssIdleMiB), rssPeakMiB: Math.max(...list.map((r) => r.rssPeakMiB)),
  };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  // Rounds alternate between the two servers so that a noisy neighbour or CPU throttling hits both alike.
  const byServer: Row[][] = [[], []];
  for (let round = 0; round < o.rounds; round++) {
    const kisstime = await startKisstime();
    try {
      byServer[0].push(await measure(o, 'kisstime (node ' + process.version + ')', kisstime.pid, KISSTIME_ADDRESS));
    } finally {
      kisstime.stop();
    }
    if (!o.skipChronyd) {
      const chronyd = await startChronyd();
      try {
        byServer[1].push(await measure(o, 'chronyd ' + chronyd.version, chronyd.pid, CHRONYD_ADDRESS));
      } finally {
        chronyd.stop();
      }
    }
    await sleep(500);
  }
  const rows = byServer.filter((list) => list.length > 0).map(medianRow);
  const core = coreCostNs();
  const out = process.stdout;
  out.write(`\nKisstime server vs chronyd — ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), load: ${o.workers} worker processes × ${o.sockets} sockets, `
    + `blast ${o.seconds} s, latency phase ${o.rate} req/s for 3 s; medians of ${o.rounds} alternating rounds\n\n`);
  const header = ['server', 'offered/s', 'answered/s', 'server CPU', 'CPU µs/answer', `p50 µs @${o.rate}/s`, 'p99 µs', 'loss @rate', 'RSS idle MiB', 'RSS peak MiB'];
  const table = rows.map((r) => [r.name, fmt(r.offered), fmt(r.answered), fmt(r.cpuPct) + '%', fmt(r.cpuUsPerAnswer, 1), fmt(r.p50), fmt(r.p99), fmt(r.pacedLoss * 100, 2) + '%', fmt(r.rssIdleMiB, 1), fmt(r.rssPeakMiB, 1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ') + '\n';
  out.write(line(header));
  for (const row of table) out.write(line(row));
  if (rows.length === 2) {
    out.write(`\nthroughput ratio kisstime/chronyd (answered/s, same load, same run): ${(rows[0].answered / rows[1].answered).toFixed(2)} (goal ≥ 0.5)\n`);
    out.write('efficiency ratio (chronyd CPU µs per answer ÷ kisstime\'s; the throughput ratio if each had a core to itself): '
      + `${(rows[1].cpuUsPerAnswer / rows[0].cpuUsPerAnswer).toFixed(2)}\n`);
  }
  out.write(`where the time goes (kisstime): ${fmt(rows[0].cpuUsPerAnswer, 1)} µs of server CPU per answer in all; of that, the sans-IO `
    + `decision and reply ${fmt(core.respondNs / 1000, 2)} µs and three clock reads ${fmt(core.clockNs / 1000, 2)} µs (measured in-process); `
    + 'the rest is Node\'s dgram path: a JS callback, Buffer and rinfo per datagram, one recvmsg and one sendmsg syscall each (no batching).\n');
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
