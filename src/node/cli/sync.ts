// kisstime sync HOST[:PORT]...: the long-running polite loop, one line per thing it does (or JSON lines), with its
// state saved so that a restart, a crash loop or a one-off 'kisstime query' cannot make it ask sooner than allowed.

import { Decision, formatDurationS } from '../../core';
import { KisstimeClient } from '../client';
import { deferralExplanation, kissConsequence } from '../describe';
import { BackoffReport, SampleReport } from '../types';
import { CliIo, clientConfigFromFlags, clientFlagMessage, defaultStatePath, parseFlags, processIo, signedSeconds, stringFlag, untilStopped } from './args';

const USAGE = 'usage: kisstime sync HOST[:PORT]... [--state FILE] [--startup-delay MIN-MAX] [--min-interval D]\n'
  + '                    [--max-interval D] [--accuracy D] [--timeout D] [--lan] [--json]\n'
  + '  durations like 16s, 34m, 36h; --lan says "these are servers I run", the only way under a 30 min minimum interval;\n'
  + '  --accuracy is the error bound you need (default 100ms): polls are as rare as the clock model allows for it\n';

const OPTIONS = {
  'state': { type: 'string' }, 'startup-delay': { type: 'string' }, 'min-interval': { type: 'string' }, 'max-interval': { type: 'string' },
  'accuracy': { type: 'string' }, 'timeout': { type: 'string' }, 'lan': { type: 'boolean' }, 'json': { type: 'boolean' },
  'help': { type: 'boolean', short: 'h' },
} as const;

/** Config fields as the user spelled them on the command line. */
function endpoint(host: string, address: string, port?: number): string {
  const a = address && address !== host ? ' (' + address + (port ? ' port ' + port : '') + ')' : (port ? ' port ' + port : '');
  return host + a;
}

/** One human line per event; null for events that are not worth a line. */
function humanLine(event: string, e: unknown): string | null {
  switch (event) {
    case 'send': {
      const s = e as { host: string; address: string; port: number; localPort: number | null };
      return 'request  ' + endpoint(s.host, s.address, s.port) + ' from local port ' + s.localPort;
    }
    case 'sample': {
      const r = e as SampleReport;
      return 'sample   ' + endpoint(r.server, r.address) + ' offset ' + signedSeconds(r.offset) + ' s delay ' + r.delay.toFixed(6)
        + ' s stratum ' + r.stratum + ' refid ' + r.refid + (r.outlier ? ' (set aside: it disagrees with the others)' : '')
        + '; clock ' + signedSeconds(r.clockOffset) + ' s ±' + r.maxError.toFixed(6) + ' s, drift ' + r.driftPpm.toFixed(3) + ' ppm'
        + (r.step ? ' (the offset stepped: the model started again)' : '') + '; next poll in about ' + formatDurationS(r.interval)
        + (r.accuracyMet ? '' : ' (the minimum interval allows no more)');
    }
    case 'kiss': {
      const k = e as Extract<Decision, { type: 'kiss' }>;
      return 'kiss     ' + k.code + ' from ' + endpoint(k.host, k.address, k.port) + ': ' + kissConsequence(k.action, k.intervalS);
    }
    case 'backoff': {
      const b = e as BackoffReport;
      return 'backoff  ' + endpoint(b.host, b.address) + ': ' + b.message + '; ' + b.failures + ' failed in a row, next try in '
        + formatDurationS(b.retryInS);
    }
    case 'failover': {
      const f = e as Extract<Decision, { type: 'failover' }>;
      return 'failover ' + endpoint(f.fromHost, f.fromAddress) + ' -> ' + endpoint(f.toHost, f.toAddress);
    }
    case 'deferred': {
      const d = e as { reason: Parameters<typeof deferralExplanation>[0]; message: string };
      return 'deferred ' + d.message + ': ' + deferralExplanation(d.reason);
    }
    case 'reject': {
      const r = e as Extract<Decision, { type: 'reject' }>;
      return 'ignored  a reply from ' + r.address + ' port ' + r.port + ': ' + r.reason;
    }
    case 'resolve':
      return 'resolve  ' + (e as { host: string }).host;
    case 'stopped':
      return 'stopped  ' + (e as { reason: string }).reason;
    default:
      return null;
  }
}

function jsonLine(event: string, e: unknown): string {
  const body: { [k: string]: unknown } = { event, at: new Date().toISOString() };
  const source = e as { [k: string]: unknown };
  for (const key of Object.keys(source)) {
    const v = source[key];
    if (key === 'type' || key === 'bytes' || key === 'snapshot' || key === 'sample') continue;
    body[key] = v instanceof Date ? v.toISOString() : v;
  }
  return JSON.stringify(body);
}

export async function run(args: string[], io: CliIo = processIo()): Promise<number> {
  const json = args.indexOf('--json') >= 0;
  /** A refusal before anything starts: on stderr, and as one JSON line on stdout with --json. */
  const refuse = (message: string, usage: boolean): number => {
    io.err('kisstime sync: ' + message + '\n' + (usage ? USAGE : ''));
    if (json) io.out(JSON.stringify({ event: 'error', at: new Date().toISOString(), error: message }) + '\n');
    return 2;
  };
  const parsed = parseFlags(args, OPTIONS, true);
  if (!parsed.ok) return refuse(parsed.message, true);
  const v = parsed.values;
  if (v.help) {
    io.out(USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) return refuse('which servers? give at least one HOST[:PORT] (Kisstime has no default server)', true);
  const polling = {
    '--min-interval': stringFlag(v, 'min-interval'), '--max-interval': stringFlag(v, 'max-interval'), '--startup-delay': stringFlag(v, 'startup-delay'),
    '--timeout': stringFlag(v, 'timeout'), '--accuracy': stringFlag(v, 'accuracy'),
  };
  const flags = clientConfigFromFlags(parsed.positionals, polling, v.lan === true);
  if (!flags.ok) return refuse(flags.message, false);
  const config = flags.config;
  const statePath = stringFlag(v, 'state') || defaultStatePath();

  let client: KisstimeClient;
  try {
    client = new KisstimeClient({ config, statePath });
  } catch (error) {
    const e = error as Error & { field?: string };
    return refuse(e.field ? clientFlagMessage(e.field, e.message, 'HOST') : e.message, false);
  }

  const print = (event: string, e: unknown): void => {
    if (json) {
      io.out(jsonLine(event, e) + '\n');
    } else {
      const line = humanLine(event, e);
      if (line) io.out(new Date().toISOString() + ' ' + line + '\n');
    }
  };
  for (const event of ['send', 'sample', 'kiss', 'backoff', 'failover', 'deferred', 'reject', 'resolve', 'stopped']) {
    client.on(event, (e: unknown) => print(event, e));
  }

  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      stopListening();
      client.stop().then(() => resolve(code), (error: Error) => {
        io.err('kisstime sync: ' + error.message + '\n');
        resolve(1);
      });
    };
    const stopListening = untilStopped(io, () => {
      if (!json) io.out(new Date().toISOString() + ' stopping; state saved to ' + statePath + '\n');
      finish(0);
    });
    // Every server refused us: nothing left to do, and staying up would suggest otherwise.
    client.on('stopped', () => setImmediate(() => finish(1)));
    client.on('error', (error: Error) => io.err('kisstime sync: ' + error.message + '\n'));

    client.start();
    const status = client.status();
    const note = status.restoreNote;
    if (json) {
      io.out(JSON.stringify({ event: 'start', at: new Date().toISOString(), servers: client.config.servers, minIntervalS: client.config.minIntervalS,
        maxIntervalS: client.config.maxIntervalS, statePath, restoreNote: note, holds: status.holds, next: status.next ? status.next.toISOString() : null }) + '\n');
    } else {
      io.out(new Date().toISOString() + ' start    ' + client.config.servers.map((s) => s.host + ':' + s.port).join(' ') + '; interval '
        + formatDurationS(client.config.minIntervalS) + ' to ' + formatDurationS(client.config.maxIntervalS) + '; state ' + statePath + ' (' + note + ')\n');
      for (const h of status.holds) io.out(new Date().toISOString() + ' held     ' + endpoint(h.h || h.a, h.a, h.p) + ' refused us earlier (' + h.c + '); not asked\n');
      if (status.next && status.phase === 'waiting') io.out(new Date().toISOString() + ' waiting  first request at ' + status.next.toISOString() + '\n');
    }
    if (status.phase === 'stopped') finish(1);
  });
}
