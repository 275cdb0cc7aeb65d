// npm run bench:server: `kisstime serve` against a bare Node dgram echo (the platform's limit for a server written
// for Node) and chronyd (the anchor), on this machine, under the same load generator, in one run. Prints a table,
// writes bench/server/results.json and puts it in bench/RESULTS.md; it asserts nothing. See README.md next to this
// file.
//
// Options: --workers N (load processes, default 3), --sockets N (per worker, default 4), --seconds S (per blast
// phase, default 4), --rate R (total requests/s for the latency phase, default 5000), --rounds N (alternating rounds,
// medians reported; default 3), --cluster N (also Kisstime on N cluster workers sharing the socket; default 0),
// --latency-seconds S (paced load per server in the latency phase, in 250 ms turns; default 6), --skip-chronyd.

import { ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSocket } from 'node:dgram';
import { encodeRequest, NtpResponder, validateServerConfig } from '../../src/core';
import { NodeClock } from '../../src/node/clock';
import { AnchoredClock } from '../../src/node/server';
import type { Target as Endpoint, WorkerJob, WorkerResult } from './load-worker';

interface Options {
  workers: number;
  sockets: number;
  seconds: number;
  rate: number;
  skipChronyd: boolean;
  rounds: number;
  cluster: number;
  /** Latency phase: seconds of paced load per server, in turns. */
  latencySeconds: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { workers: 3, sockets: 4, seconds: 4, rate: 5000, skipChronyd: false, rounds: 3, cluster: 0, latencySeconds: 6 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--workers') o.workers = parseInt(v, 10);
    else if (argv[i] === '--sockets') o.sockets = parseInt(v, 10);
    else if (argv[i] === '--seconds') o.seconds = parseFloat(v);
    else if (argv[i] === '--rate') o.rate = parseInt(v, 10);
    else if (argv[i] === '--skip-chronyd') o.skipChronyd = true;
    else if (argv[i] === '--rounds') o.rounds = parseInt(v, 10);
    else if (argv[i] === '--cluster') o.cluster = parseInt(v, 10);
    else if (argv[i] === '--latency-seconds') o.latencySeconds = parseFloat(v);
  }
  return o;
}

// Loopback only, and not meant to run alongside the test suite (whose fixtures may draw addresses from 127.201.x).
const ADDRESSES = { kisstime: '127.201.0.1', echo: '127.201.0.3', chronyd: '127.201.0.2', cluster: '127.201.0.4' };
const PORT = 11123;
const SANDBOX = ['setpriv', '--pdeathsig', 'TERM', '--bounding-set', '-sys_time', '--'];

/** The repository root, whether this runs compiled (dist/bench/server) or not. */
const ROOT = __dirname.includes(sep + 'dist' + sep) ? join(__dirname, '..', '..', '..') : join(__dirname, '..', '..');

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** pid and every process under it (a cluster's workers, a shell's child). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(' ')[1], 10);
      const list = children.get(ppid) ?? [];
      list.push(parseInt(name, 10));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function rssKiB(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += m ? parseInt(m[1], 10) : 0;
    } catch {
      // Gone.
    }
  }
  return total;
}

/** utime + stime in seconds, summed over the processes. */
function cpuS(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.substring(stat.lastIndexOf(')') + 2).split(' ');
      total += (parseInt(fields[11], 10) + parseInt(fields[12], 10)) / 100;
    } catch {
      // Gone.
    }
  }
  return total;
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

interface Target {
  name: string;
  address: string;
  pids: () => number[];
  stop: () => void;
}

/** The real command line a user runs: rate limiting off and the local clock at stratum 10, as chronyd is set up. */
async function startKisstimeServe(): Promise<Target> {
  const address = ADDRESSES.kisstime;
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'kisstime.js'), 'serve', '--listen', `${address}:${PORT}`, '--local-stratum', '10', '--rate-interval', '0'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitReady(address, PORT);
  const pid = child.pid as number;
  return { name: 'kisstime serve (node ' + process.version + ')', address, pids: () => [pid], stop: () => child.kill('SIGTERM') };
}

async function startForked(script: string, address: string, name: string, extra: string[] = []): Promise<Target> {
  const child: ChildProcess = fork(join(__dirname, script), [address, String(PORT), ...extra], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m: { listening?: unknown; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve()));
  });
  await waitReady(address, PORT);
  const pid = child.pid as number;
  return { name, address, pids: () => processTree(pid), stop: () => child.kill('SIGTERM') };
}

async function startChronyd(): Promise<Target> {
  const address = ADDRESSES.chronyd;
  const dir = mkdtempSync(join(tmpdir(), 'kisstime-bench-chronyd-'));
  const conf = join(dir, 'chrony.conf');
  // Serving only: local clock at stratum 10, no upstream, rate limiting off (chrony's default when "ratelimit" is
  // absent), client log on (its default, like the Kisstime table), no command port.
  writeFileSync(conf, [
    `bindaddress ${address}`, `port ${PORT}`, 'allow 127.0.0.0/8', 'local stratum 10',
    `pidfile ${join(dir, 'chronyd.pid')}`, `driftfile ${join(dir, 'drift')}`, 'cmdport 0', 'bindcmdaddress /', '',
  ].join('\n'));
  const child = spawn(SANDBOX[0], [...SANDBOX.slice(1), 'chronyd', '-d', '-x', '-4', '-u', 'root', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d) => {
    log += String(d);
  });
  await waitReady(address, PORT);
  const m = /chronyd version (\S+)/.exec(log);
  const pid = child.pid as number;
  return {
    name: 'chronyd ' + (m ? m[1] : '?'),
    address,
    // setpriv execs chronyd in place, so the pid is chronyd's.
    pids: () => [pid],
    stop: () => {
      child.kill('SIGTERM');
      setTimeout(() => rmSync(dir, { recursive: true, force: true }), 500);
    },
  };
}

function runWorkers(o: Options, targets: Endpoint[], mode: 'blast' | 'paced', durationMs: number, sliceMs: number): Promise<WorkerResult[]> {
  const jobs: Promise<WorkerResult>[] = [];
  for (let w = 0; w < o.workers; w++) {
    const sources: string[] = [];
    for (let s = 0; s < o.sockets; s++) sources.push(`127.202.${w + 1}.${s + 1}`);
    const job: WorkerJob = { targets, sources, mode, rate: o.rate / o.workers, durationMs, sliceMs, batch: 16 };
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

export interface Row {
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

type Throughput = Omit<Row, 'p50' | 'p99' | 'pacedLoss'>;
type Latency = Pick<Row, 'p50' | 'p99' | 'pacedLoss'>;

/** Turn length: short enough that every server meets the same moments of the machine's other work. */
const SLICE_MS = 250;

/**
 * One blast phase: every server running, each getting the whole load in turns of SLICE_MS for o.seconds in all:
 * what each answered, the CPU it took (an idle server takes none), its memory.
 */
async function measureBlast(o: Options, targets: Target[]): Promise<Throughput[]> {
  const pids = targets.map((t) => t.pids());
  const rssIdle = pids.map(rssKiB);
  const rssPeak = rssIdle.slice();
  const sampler = setInterval(() => pids.forEach((p, i) => {
    rssPeak[i] = Math.max(rssPeak[i], rssKiB(p));
  }), 100);
  const durationMs = o.seconds * 1000 * targets.length;
  const cpu0 = pids.map(cpuS);
  const blast = await runWorkers(o, targets.map((t) => ({ address: t.address, port: PORT })), 'blast', durationMs, SLICE_MS);
  const cpu1 = pids.map(cpuS);
  clearInterval(sampler);
  const turnS = durationMs / 1000 / targets.length;
  return targets.map((target, i) => {
    const answered = blast.reduce((a, r) => a + r.receivedFrom[i], 0);
    return {
      name: target.name,
      offered: blast.reduce((a, r) => a + r.sentTo[i], 0) / turnS,
      answered: answered / turnS,
      cpuPct: ((cpu1[i] - cpu0[i]) / turnS) * 100,
      cpuUsPerAnswer: ((cpu1[i] - cpu0[i]) * 1e6) / Math.max(1, answered),
      rssIdleMiB: rssIdle[i] / 1024,
      rssPeakMiB: Math.max(rssPeak[i], rssKiB(pids[i])) / 1024,
    };
  });
}

/**
 * The latency phase, with every server running at once and taking turns of SLICE_MS at the paced rate, so that
 * whatever else the machine does falls on all of them alike: p50, p99 and the share never answered, per server.
 */
async function measureLatency(o: Options, targets: Target[]): Promise<Latency[]> {
  const durationMs = o.latencySeconds * 1000 * targets.length;
  const paced = await runWorkers(o, targets.map((t) => ({ address: t.address, port: PORT })), 'paced', durationMs, SLICE_MS);
  return targets.map((_, i) => {
    const lat = paced.flatMap((r) => r.latenciesUs[i]).sort((a, b) => a - b);
    const sent = paced.reduce((a, r) => a + r.sentTo[i], 0);
    return { p50: percentile(lat, 50), p99: percentile(lat, 99), pacedLoss: 1 - lat.length / Math.max(1, sent) };
  });
}

/** The sans-IO decision and the clock reads, in this process: the part of each request that is Kisstime's own code. */
function coreCostNs(): { respondNs: number; clockNs: number } {
  const checked = validateServerConfig({ rateInterval: 0, localStratum: 10 });
  if (!checked.ok) throw new Error(checked.message);
  const r = new NtpResponder(checked.config, Math.random);
  const clock = new AnchoredClock(new NodeClock());
  const req = encodeRequest({ s: 1, f: 2 });
  const out = Buffer.allocUnsafe(48);
  const n = 300000;
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) r.respond(req, '127.202.1.1', i, { s: 3900000000, f: i }, out);
  const respondNs = Number(process.hrtime.bigint() - t) / n;
  t = process.hrtime.bigint();
  // What the server reads per answer: the receive time (wall and monotonic from one reading) and the transmit time.
  for (let i = 0; i < n; i++) {
    const p = performance.now();
    clock.wallAt(p);
    clock.monoAt(p);
    clock.wallAt(performance.now());
  }
  const clockNs = Number(process.hrtime.bigint() - t) / n;
  return { respondNs, clockNs };
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function medianLatency(list: Latency[]): Latency {
  return { p50: median(list.map((l) => l.p50)), p99: median(list.map((l) => l.p99)), pacedLoss: median(list.map((l) => l.pacedLoss)) };
}

/** Each figure's median over the rounds (so a row need not come from one single round). */
function medianRow(list: Throughput[]): Throughput {
  const pick = (f: (r: Throughput) => number): number => median(list.map(f));
  return {
    name: list[0].name, offered: pick((r) => r.offered), answered: pick((r) => r.answered), cpuPct: pick((r) => r.cpuPct),
    cpuUsPerAnswer: pick((r) => r.cpuUsPerAnswer), rssIdleMiB: pick((r) => r.rssIdleMiB), rssPeakMiB: Math.max(...list.map((r) => r.rssPeakMiB)),
  };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function table(rows: Row[], rate: number): string {
  const header = ['server', 'offered/s', 'answered/s', 'server CPU', 'CPU µs/answer', `p50 µs @${rate}/s`, 'p99 µs', 'loss @rate', 'RSS idle MiB', 'RSS peak MiB'];
  const cells = rows.map((r) => [r.name, fmt(r.offered), fmt(r.answered), fmt(r.cpuPct) + '%', fmt(r.cpuUsPerAnswer, 1), fmt(r.p50), fmt(r.p99), fmt(r.pacedLoss * 100, 2) + '%', fmt(r.rssIdleMiB, 1), fmt(r.rssPeakMiB, 1)]);
  const md = ['| ' + header.join(' | ') + ' |', '|' + header.map((_, i) => (i === 0 ? '---' : '---:')).join('|') + '|'];
  for (const c of cells) md.push('| ' + c.join(' | ') + ' |');
  return md.join('\n');
}

/** The goals set for the server, measured: each ratio with the figures it comes from. */
function ratios(kisstime: Row, echo: Row | undefined, chronyd: Row | undefined): string[] {
  const lines: string[] = [];
  if (echo) {
    lines.push(`- kisstime serve / Node echo, answers/s: **${(kisstime.answered / echo.answered).toFixed(2)}** (goal ≥ 0.9); p99 ${fmt(kisstime.p99)} µs vs ${fmt(echo.p99)} µs (goal: no worse than the echo's); CPU per answer ${fmt(kisstime.cpuUsPerAnswer, 1)} vs ${fmt(echo.cpuUsPerAnswer, 1)} µs (echo's share ${(echo.cpuUsPerAnswer / kisstime.cpuUsPerAnswer).toFixed(2)})`);
  }
  if (chronyd) {
    lines.push(`- kisstime serve / chronyd, answers/s: **${(kisstime.answered / chronyd.answered).toFixed(2)}** (goal ≥ 0.5); efficiency (chronyd's CPU µs per answer over Kisstime's, the throughput ratio with a core each): ${(chronyd.cpuUsPerAnswer / kisstime.cpuUsPerAnswer).toFixed(2)}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const load = loadavg()[0];
  const starters: (() => Promise<Target>)[] = [
    startKisstimeServe,
    () => startForked('echo-target.js', ADDRESSES.echo, 'Node dgram echo (node ' + process.version + ')'),
  ];
  if (!o.skipChronyd) starters.push(startChronyd);
  if (o.cluster > 1) starters.push(() => startForked('kisstime-cluster-target.js', ADDRESSES.cluster, `kisstime, ${o.cluster} cluster workers`, [String(o.cluster)]));
  // Every server runs for the whole measurement and they take turns, so a noisy neighbour or CPU throttling hits
  // them all alike; rounds repeat the blast phase, and each figure is the median over rounds.
  const all: Target[] = [];
  const byServer: Throughput[][] = starters.map(() => []);
  const latencies: Latency[][] = starters.map(() => []);
  try {
    for (const start of starters) all.push(await start());
    // A first, unrecorded round warms every server up (JIT, buffers, the client table).
    await measureBlast({ ...o, seconds: 0.5 }, all);
    for (let round = 0; round < o.rounds; round++) {
      const results = await measureBlast(o, all);
      results.forEach((r, i) => byServer[i].push(r));
      await sleep(300);
      // The tail is mostly the scheduler's doing: one phase per round, and the median of each figure, so that
      // one unlucky stretch of the machine does not decide the comparison.
      (await measureLatency(o, all)).forEach((l, i) => latencies[i].push(l));
    }
  } finally {
    for (const t of all) t.stop();
  }
  const rows: Row[] = byServer.map((list, i) => Object.assign(medianRow(list), medianLatency(latencies[i])));
  const core = coreCostNs();
  const kisstime = rows[0];
  const echo = rows[1];
  const chronyd = o.skipChronyd ? undefined : rows[2];
  const setup = `${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? '?'}), load average ${load.toFixed(2)} at the start; load: ${o.workers} worker processes × ${o.sockets} sockets, `
    + `every server running throughout and taking ${SLICE_MS} ms turns; blast ${o.seconds} s per server and round, medians of ${o.rounds} rounds; `
    + `latency ${o.rate} req/s for ${o.latencySeconds} s per server and round, medians of ${o.rounds} rounds`;
  const where = `where the time goes (kisstime): ${fmt(kisstime.cpuUsPerAnswer, 1)} µs of server CPU per answer in all, the echo ${fmt(echo.cpuUsPerAnswer, 1)} µs; `
    + `of Kisstime's own work, the sans-IO decision and reply take ${fmt(core.respondNs / 1000, 2)} µs and the clock reads ${fmt(core.clockNs / 1000, 2)} µs (measured in process); `
    + 'the rest is Node\'s dgram path, which the echo pays too: a JS callback, a Buffer and an rinfo object per datagram, one recvmsg and one sendmsg each (Node has neither recvmmsg nor sendmmsg).';
  const cluster = o.cluster > 1 ? rows[rows.length - 1] : undefined;
  const clusterLine = cluster
    ? [`- ${o.cluster} cluster workers sharing the socket / one process, answers/s: **${(cluster.answered / kisstime.answered).toFixed(2)}**, at ${fmt(cluster.rssPeakMiB / kisstime.rssPeakMiB, 1)}× the memory; `
      + 'each worker keeps its own client table, so per-client rate limits and conduct records split across workers. With the load generator on the same 2 CPUs this says little about a machine with cores to spare.']
    : [];
  const caveat = 'The machine ran other work at the same time (the load average above): answered/s and the tail latency, which here mostly measures '
    + 'the scheduler, vary between runs by tens of percent; CPU µs per answer is the steadier figure. The generator outruns every server, so each '
    + 'socket buffer overflows during the blast; chronyd keeps the kernel\'s default receive buffer (net.core.rmem_default) while the Node servers '
    + 'ask for 4 MiB, so it drops the most and its answered/s understates it: compare it by CPU µs per answer.';
  // The rounds side by side: how far the tail moves from one round to the next, beside the gap between the servers.
  const rounds = '- p99 µs in each round: ' + rows.map((r, i) => r.name.replace(/ \(.*\)$/, '') + ' ' + latencies[i].map((l) => fmt(l.p99)).join(', ')).join('; ');
  const md = ['## Server', '', '`npm run bench:server` (bench/server/run.ts): ' + setup + '.', '', table(rows, o.rate), '', ...ratios(kisstime, echo, chronyd), rounds, ...clusterLine, '', where, '', caveat, ''].join('\n');
  process.stdout.write('\n' + md + '\n');
  const out = join(ROOT, 'bench', 'server', 'results.json');
  writeFileSync(out, JSON.stringify({ markdown: md, json: { options: o, rows, latencies, core }, generatedAt: new Date().toISOString() }, null, 1) + '\n');
  process.stderr.write('wrote ' + out + '\n');
  // bench/RESULTS.md is assembled by bench/index.ts; 'server' reruns nothing else.
  await new Promise<void>((resolve) => fork(join(__dirname, '..', 'index.js'), ['server'], { stdio: 'inherit' }).once('exit', () => resolve()));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
