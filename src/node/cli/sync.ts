// kisstime sync HOST[:PORT]...: the long-running polite loop, one line per thing it does (or JSON lines), with its
// state saved so that a restart, a crash loop or a one-off 'kisstime query' cannot make it ask sooner than allowed.

import { Decision, formatDurationS } from '../../core';
import { KisstimeClient } from '../client';
import { deferralExplanation, kissConsequence } from '../describe';
import { BackoffReport, SampleReport } from '../types';
import { CliIo, clientConfigFromFlags, clientFlagMessage, defaultStatePath, parseArgs, processIo, signedSeconds, untilStopped } from './args';

const USAGE = 'usage: kisstime sync HOST[:PORT]... [--state FILE] [--startup-delay MIN-MAX] [--min-interval D]\n'
  + '                    [--max-interval D] [--timeout D] [--lan] [--json]\n'
  + '  durations like 16s, 34m, 36h; --lan says "these are servers I run", the only way under a 30 min minimum interval\n';

const FLAGS = {
  '--state': 'value', '--startup-delay': 'value', '--min-interval': 'value', '--max-interval': 'value', '--timeout': 'value',
  '--lan': 'switch', '--json': 'switch', '--help': 'switch', '-h': 'switch',
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
        + ' s stratum ' + r.stratum + ' refid ' + r.refid + '; next poll in about ' + formatDurationS(r.interval);
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
  const parsed = parseArgs(args, FLAGS);
  if (!parsed.ok) {
    io.err('kisstime sync: ' + parsed.message + '\n' + USAGE);
    return 2;
  }
  if (parsed.switches['--help'] || parsed.switches['-h']) {
    io.out(USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    io.err('kisstime sync: which servers? give at least one HOST[:PORT] (Kisstime has no default server)\n' + USAGE);
    return 2;
  }
  const v = parsed.values;
  const flags = clientConfigFromFlags(parsed.positionals, v, parsed.switches['--lan'] === true);
  if (!flags.ok) {
    io.err('kisstime sync: ' + flags.message + '\n');
    return 2;
  }
  const config = flags.config;
  const statePath = v['--state'] || defaultStatePath();
  const json = parsed.switches['--json'] === true;

  let client: KisstimeClient;
  try {
    client = new KisstimeClient({ config, statePath });
  } catch (error) {
    const e = error as Error & { field?: string };
    io.err('kisstime sync: ' + (e.field ? clientFlagMessage(e.field, e.message, 'HOST') : e.message) + '\n');
    return 2;
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
