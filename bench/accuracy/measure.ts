// The accuracy bench: one loopback server serving time shifted by a known offset, measured in the same run by
// Kisstime's Node client, npm sntp (hapi) and ntpdig (ntpsec), in interleaved rounds. The error of a measurement
// is |measured offset - known shift|: on loopback the path is symmetric and short, so what remains is each
// client's own timestamping (clock resolution, where T1/T4 are read, float conversions), plus the server's.
// The same clients also measure chronyd in the same rounds: it stamps arrivals in the kernel, as real servers do,
// where the Node server can only stamp them once its event loop gets the datagram (chronyd-reference.ts).

import { ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { KisstimeClient } from '../../src/node/client';
import { NodeClock } from '../../src/node/clock';
import { SampleReport } from '../../src/node/types';
import { percentile } from '../../src/fleet/metrics';
import { ChronydReference, startChronydReference } from './chronyd-reference';
import { warmClock } from './offset-server';

export type ClientName = 'kisstime' | 'sntp' | 'ntpdig';

export interface ClientStats {
  client: ClientName;
  label: string;
  samples: number;
  failures: number;
  /** |measured - true| in microseconds. */
  medianAbsErrorUs: number;
  p95AbsErrorUs: number;
  maxAbsErrorUs: number;
  /** Signed median of measured - true: a systematic bias, if any. */
  medianErrorUs: number;
  medianDelayUs: number;
  lastFailure: string;
}

export interface AccuracyResult {
  address: string;
  port: number;
  shiftS: number;
  rounds: number;
  clients: ClientStats[];
  /** The same clients against chronyd (true offset 0), or null when chronyd could not be started (see chronydNote). */
  chronyd: { address: string; clients: ClientStats[] } | null;
  chronydNote: string;
  wallMs: number;
}

type Measurement = { ok: true; offsetS: number; delayS: number } | { ok: false; reason: string };

const TIMEOUT_MS = 2000;
/** ntpdig runs without CAP_SYS_TIME, as in the tests: it is only ever asked to report, and now could not set the clock anyway. */
const SANDBOX = ['setpriv', '--pdeathsig', 'TERM', '--bounding-set', '-sys_time', '--'];

function kisstimeOnce(address: string, port: number, clock: NodeClock): Promise<Measurement> {
  return new Promise((resolve) => {
    // One client per measurement: a client keeps the 15 s floor between its own requests, as it must. They share
    // one warmed-up clock, as the clients of one long-running process would.
    const client = new KisstimeClient({
      clock: clock,
      config: { servers: [address + ':' + port], lanServer: true, minInterval: 16, startupDelayMin: 0, startupDelayMax: 0, timeout: TIMEOUT_MS / 1000 },
    });
    const done = (m: Measurement): void => {
      clearTimeout(timer);
      client.stop().then(() => resolve(m), () => resolve(m));
    };
    const timer = setTimeout(() => done({ ok: false, reason: 'no sample within ' + TIMEOUT_MS + ' ms' }), TIMEOUT_MS + 500);
    client.on('sample', (report: SampleReport) => done({ ok: true, offsetS: report.sample.offsetS, delayS: report.sample.delayS }));
    client.on('backoff', (d: { message: string }) => done({ ok: false, reason: d.message }));
    client.on('error', (e: Error) => done({ ok: false, reason: e.message }));
    client.start();
  });
}

async function sntpOnce(address: string, port: number): Promise<Measurement> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- sntp@3 ships CommonJS without types.
  const sntp = require('sntp') as { time: (o: object) => Promise<{ t: number; d: number }> };
  try {
    // resolveReference would reverse-resolve a stratum-2 reference ID; the server says stratum 1, so no DNS query is made.
    const r = await sntp.time({ host: address, port: port, resolveReference: true, timeout: TIMEOUT_MS });
    return { ok: true, offsetS: r.t / 1000, delayS: r.d / 1000 };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

function ntpdigOnce(address: string): Promise<Measurement> {
  return new Promise((resolve) => {
    execFile(SANDBOX[0], SANDBOX.slice(1).concat(['ntpdig', '-j', '-t', '2', address]), { timeout: 15000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const line = String(stdout).split('\n').find((l) => l.startsWith('{'));
      if (error || !line) {
        resolve({ ok: false, reason: String(stderr).trim().split('\n').pop() || (error ? error.message : 'no output') });
        return;
      }
      const json = JSON.parse(line) as { offset: number; delay?: number };
      resolve({ ok: true, offsetS: json.offset, delayS: typeof json.delay === 'number' ? json.delay : NaN });
    });
  });
}

function startServer(address: string, shiftS: number): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'offset-server.js'), address, '123', String(shiftS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.stdout.once('data', (b: Buffer) => {
      try {
        resolve({ child: child, port: (JSON.parse(b.toString()) as { port: number }).port });
      } catch (e) {
        reject(e);
      }
    });
    child.once('exit', (code) => reject(new Error('offset server exited (' + code + '): ' + err.trim())));
  });
}

function stats(client: ClientName, label: string, shiftS: number, ms: Measurement[]): ClientStats {
  const ok = ms.filter((m): m is Extract<Measurement, { ok: true }> => m.ok);
  const abs = Float64Array.from(ok.map((m) => Math.abs(m.offsetS - shiftS) * 1e6)).sort();
  const signed = Float64Array.from(ok.map((m) => (m.offsetS - shiftS) * 1e6)).sort();
  const delays = Float64Array.from(ok.map((m) => m.delayS * 1e6)).sort();
  const failed = ms.filter((m): m is Extract<Measurement, { ok: false }> => !m.ok);
  return {
    client: client,
    label: label,
    samples: ok.length,
    failures: failed.length,
    medianAbsErrorUs: percentile(abs, 0.5),
    p95AbsErrorUs: percentile(abs, 0.95),
    maxAbsErrorUs: abs.length ? abs[abs.length - 1] : NaN,
    medianErrorUs: percentile(signed, 0.5),
    medianDelayUs: percentile(delays, 0.5),
    lastFailure: failed.length ? failed[failed.length - 1].reason : '',
  };
}

/** Runs the bench on the first free loopback address of candidates (port 123: ntpdig has no port option). */
export async function measureAccuracy(rounds: number, shiftS: number): Promise<AccuracyResult> {
  const started = Date.now();
  const candidates = ['127.77.0.1', '127.77.0.2', '127.77.0.3', '127.77.1.1'];
  let server: { child: ChildProcess; port: number } | null = null;
  let address = '';
  let lastError = '';
  for (const candidate of candidates) {
    try {
      server = await startServer(candidate, shiftS);
      address = candidate;
      break;
    } catch (e) {
      lastError = (e as Error).message;
    }
  }
  if (!server) throw new Error('could not start the offset server on any of ' + candidates.join(', ') + ': ' + lastError);
  let chronyd: ChronydReference | null = null;
  let chronydNote = '';
  for (const candidate of ['127.77.2.1', '127.77.2.2', '127.77.2.3']) {
    try {
      chronyd = await startChronydReference(candidate);
      chronydNote = '';
      break;
    } catch (e) {
      chronydNote = (e as Error).message;
    }
  }
  const results: { [name: string]: Measurement[] } = { kisstime: [], sntp: [], ntpdig: [], 'kisstime-chronyd': [], 'sntp-chronyd': [], 'ntpdig-chronyd': [] };
  const clock = warmClock();
  try {
    // One unrecorded round first: the first run of each client's code path is unoptimised and not what it does after.
    await kisstimeOnce(address, server.port, clock);
    await sntpOnce(address, server.port);
    for (let round = 0; round < rounds; round++) {
      results.kisstime.push(await kisstimeOnce(address, server.port, clock));
      results.sntp.push(await sntpOnce(address, server.port));
      results.ntpdig.push(await ntpdigOnce(address));
      if (chronyd) {
        results['kisstime-chronyd'].push(await kisstimeOnce(chronyd.address, 123, clock));
        results['sntp-chronyd'].push(await sntpOnce(chronyd.address, 123));
        results['ntpdig-chronyd'].push(await ntpdigOnce(chronyd.address));
      }
    }
  } finally {
    server.child.kill('SIGTERM');
    if (chronyd) await chronyd.stop();
  }
  const labels: { [name in ClientName]: string } = {
    kisstime: 'Kisstime Node client (src/node, one KisstimeClient per sample)',
    sntp: 'npm sntp 3.0.2 (hapi), sntp.time()',
    ntpdig: 'ntpdig (ntpsec), -j, one run per sample',
  };
  const names: ClientName[] = ['kisstime', 'sntp', 'ntpdig'];
  return {
    address: address,
    port: server.port,
    shiftS: shiftS,
    rounds: rounds,
    clients: names.map((n) => stats(n, labels[n], shiftS, results[n])),
    chronyd: chronyd ? { address: chronyd.address, clients: names.map((n) => stats(n, labels[n], 0, results[n + '-chronyd'])) } : null,
    chronydNote: chronydNote,
    wallMs: Date.now() - started,
  };
}
