// kisstime serve: a gateway time server. It syncs politely from its upstreams (the same client as 'kisstime sync',
// with its own saved state) and serves the LAN from the local clock corrected by what that client measured, with
// access lists and per-client rate limits enforced by kisses. With --stats it prints what it did every so often.

import { formatDurationS, formatServerStats, parseDurationS, ServerConfigInput, ServerStats } from '../../core';
import { KisstimeClient } from '../client';
import { NodeClock } from '../clock';
import { createServer, KisstimeServer, UpstreamReport } from '../server';
import { CliIo, clientConfigFromFlags, clientFlagMessage, defaultStatePath, parseArgs, processIo, signedSeconds, untilStopped } from './args';

const USAGE = 'usage: kisstime serve --listen ADDR:PORT [--upstream HOST[:PORT]]... [--local-stratum N]\n'
  + '                     [--allow CIDR]... [--deny CIDR]... [--rate-interval D] [--rate-burst N] [--rate-leak N]\n'
  + '                     [--max-clients N] [--stats] [--stats-interval D] [--json]\n'
  + '                     [--lan] [--min-interval D] [--max-interval D] [--startup-delay MIN-MAX] [--state FILE]\n'
  + '  answers only mode-3 requests, always with 48 bytes; before the upstream syncs it answers "unsynchronised"\n'
  + '  (LI=3, stratum 16) unless --local-stratum N; rate limits default to chrony\'s: 8s, burst 8, leak 1 in 4\n'
  + '  (--rate-interval 0 turns them off); outside --allow → RSTR kiss, inside --deny → DENY kiss, both rate-limited\n';

const REPEATABLE = ['--upstream', '--allow', '--deny'];

const FLAGS = {
  '--listen': 'value', '--local-stratum': 'value', '--rate-interval': 'value', '--rate-burst': 'value', '--rate-leak': 'value',
  '--max-clients': 'value', '--stats-interval': 'value', '--stats': 'switch', '--json': 'switch',
  '--lan': 'switch', '--min-interval': 'value', '--max-interval': 'value', '--startup-delay': 'value', '--state': 'value',
  '--help': 'switch', '-h': 'switch',
} as const;

const SERVER_FIELD_FLAGS: { [field: string]: string } = {
  allow: '--allow', deny: '--deny', rateInterval: '--rate-interval', rateBurst: '--rate-burst', rateLeak: '--rate-leak',
  maxClients: '--max-clients', localStratum: '--local-stratum',
};

/** Pulls the flags that may be given more than once out of args, since parseArgs keeps only the last value. */
function takeRepeatable(args: string[]): { rest: string[]; lists: { [flag: string]: string[] }; problem: string } {
  const lists: { [flag: string]: string[] } = {};
  for (const f of REPEATABLE) lists[f] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.substring(0, eq) : arg;
    if (!REPEATABLE.includes(name)) {
      rest.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.substring(eq + 1) : args[++i];
    if (value === undefined || value === '') return { rest, lists, problem: name + ' needs a value' };
    lists[name].push(value);
  }
  return { rest, lists, problem: '' };
}

/** "127.0.0.1:123", "[::1]:123", ":123" (all IPv4 addresses) → address and port. */
export function parseListen(text: string): { address: string; port: number } | null {
  const bracket = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:]*):(\d+)$/.exec(text);
  const m = bracket || plain;
  if (!m) return null;
  const port = parseInt(m[2], 10);
  if (!(port >= 0 && port <= 65535)) return null;
  return { address: m[1] === '' ? '0.0.0.0' : m[1], port };
}

function flagMessage(table: { [field: string]: string }, field: string, message: string): string {
  const base = field.replace(/\[\d+\]$/, '');
  const flag = table[base];
  return flag ? flag + ': ' + message.substring(message.indexOf(': ') + 2) : message;
}

function statsText(stats: ServerStats, json: boolean): string {
  if (json) return JSON.stringify({ event: 'stats', at: new Date().toISOString(), stats });
  const dropped = Object.keys(stats.dropped).filter((k) => stats.dropped[k as keyof ServerStats['dropped']] > 0)
    .map((k) => k + ' ' + stats.dropped[k as keyof ServerStats['dropped']]);
  return new Date().toISOString() + ' stats    ' + formatServerStats(stats) + (stats.leaked ? '; leaked ' + stats.leaked : '')
    + (dropped.length ? '; dropped: ' + dropped.join(', ') : '') + '; evicted ' + stats.evictions;
}

export async function run(args: string[], io: CliIo = processIo()): Promise<number> {
  const taken = takeRepeatable(args);
  const parsed = taken.problem ? { ok: false as const, message: taken.problem } : parseArgs(taken.rest, FLAGS);
  if (!parsed.ok) {
    io.err('kisstime serve: ' + parsed.message + '\n' + USAGE);
    return 2;
  }
  if (parsed.switches['--help'] || parsed.switches['-h']) {
    io.out(USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    io.err('kisstime serve: unexpected argument ' + JSON.stringify(parsed.positionals[0]) + ' (upstreams go after --upstream)\n' + USAGE);
    return 2;
  }
  const v = parsed.values;
  const json = parsed.switches['--json'] === true;
  const listen = v['--listen'] === undefined ? null : parseListen(v['--listen']);
  if (!listen) {
    io.err('kisstime serve: --listen: ' + (v['--listen'] === undefined ? 'required' : 'expected ADDR:PORT, e.g. 192.168.1.1:123 or [::]:123: ' + JSON.stringify(v['--listen'])) + '\n' + USAGE);
    return 2;
  }
  let statsEveryS = 0;
  if (parsed.switches['--stats'] || v['--stats-interval'] !== undefined) {
    statsEveryS = v['--stats-interval'] === undefined ? 60 : parseDurationS(v['--stats-interval']);
    if (!(statsEveryS > 0)) {
      io.err('kisstime serve: --stats-interval: not a positive duration: ' + JSON.stringify(v['--stats-interval']) + '\n');
      return 2;
    }
  }

  const serverConfig: ServerConfigInput = {
    allow: taken.lists['--allow'],
    deny: taken.lists['--deny'],
    rateInterval: v['--rate-interval'],
    rateBurst: v['--rate-burst'],
    rateLeak: v['--rate-leak'],
    maxClients: v['--max-clients'],
    localStratum: v['--local-stratum'],
  };
  const clock = new NodeClock();
  let server: KisstimeServer;
  try {
    server = createServer({ listen, config: serverConfig, clock, statsIntervalS: statsEveryS });
  } catch (error) {
    const e = error as Error & { field?: string };
    io.err('kisstime serve: ' + (e.field ? flagMessage(SERVER_FIELD_FLAGS, e.field, e.message) : e.message) + '\n');
    return 2;
  }

  const upstreams = taken.lists['--upstream'];
  let client: KisstimeClient | null = null;
  const statePath = v['--state'] || defaultStatePath();
  if (upstreams.length > 0) {
    const flags = clientConfigFromFlags(upstreams, v, parsed.switches['--lan'] === true);
    if (!flags.ok) {
      io.err('kisstime serve: ' + flags.message + '\n');
      return 2;
    }
    try {
      client = new KisstimeClient({ config: flags.config, statePath, clock });
    } catch (error) {
      const e = error as Error & { field?: string };
      const text = e.field ? clientFlagMessage(e.field, e.message, '--upstream') : e.message;
      io.err('kisstime serve: ' + text + '\n');
      return 2;
    }
  } else if (serverConfig.localStratum === undefined) {
    io.err('kisstime serve: note: no --upstream and no --local-stratum, so every answer says "unsynchronised" (LI=3, stratum 16)\n');
  }

  const line = (text: string, event: { [k: string]: unknown }): void => {
    io.out(json ? JSON.stringify(Object.assign({ event: text.split(' ')[0], at: new Date().toISOString() }, event)) + '\n' : new Date().toISOString() + ' ' + text + '\n');
  };

  let where: { address: string; port: number };
  try {
    where = await server.start();
  } catch (error) {
    io.err('kisstime serve: ' + (error as Error).message + (listen.port < 1024 ? ' (port ' + listen.port + ' needs root or CAP_NET_BIND_SERVICE)' : '') + '\n');
    return 1;
  }
  server.on('error', (error: Error) => io.err('kisstime serve: ' + error.message + '\n'));
  server.on('stats', (stats: ServerStats) => io.out(statsText(stats, json) + '\n'));
  const listenText = where.address.includes(':') ? '[' + where.address + ']:' + where.port : where.address + ':' + where.port;
  line('listen   ' + listenText + ' ' + (upstreams.length ? 'upstream ' + upstreams.join(' ') : 'no upstream')
    + (serverConfig.localStratum !== undefined ? '; local clock at stratum ' + serverConfig.localStratum + ' until synced' : '')
    + '; rate limit ' + (server.config.rate.intervalMs > 0 ? formatDurationS(server.config.rate.intervalMs / 1000) + ' burst ' + server.config.rate.burst + ' leak 1/' + server.config.rate.leak : 'off')
    + '; up to ' + server.config.maxClients + ' clients', { address: where.address, port: where.port, upstreams });

  if (client) {
    const c = client;
    server.follow(c);
    c.on('sample', (r: UpstreamReport & { server: string; address: string; stratum: number }) => {
      const ref = server.reference();
      line('upstream ' + r.server + ' (' + r.address + ') offset ' + signedSeconds(r.offset) + ' s; serving at stratum ' + ref.stratum + (ref.synced ? '' : ' (unsynchronised)'),
        { server: r.server, address: r.address, offset: r.offset, stratum: ref.stratum, synced: ref.synced });
    });
    c.on('kiss', (k: { code: string; host: string; address: string }) => line('upstream kiss ' + k.code + ' from ' + k.host + ' (' + k.address + ')', { code: k.code, host: k.host, address: k.address }));
    c.on('backoff', (b: { host: string; message: string; retryInS: number }) => line('upstream backoff ' + b.host + ': ' + b.message + '; next try in ' + formatDurationS(b.retryInS), { host: b.host, message: b.message, retryInS: b.retryInS }));
    c.on('stopped', (s: { reason: string }) => line('upstream stopped: ' + s.reason + '; still serving from the last sync (dispersion grows)', { reason: s.reason }));
    c.on('error', (error: Error) => io.err('kisstime serve: upstream: ' + error.message + '\n'));
    c.start();
  }

  return new Promise<number>((resolve) => {
    untilStopped(io, () => {
      if (statsEveryS > 0) io.out(statsText(server.stats(), json) + '\n');
      Promise.all([server.stop(), client ? client.stop() : Promise.resolve()]).then(() => resolve(0), (error: Error) => {
        io.err('kisstime serve: ' + error.message + '\n');
        resolve(1);
      });
    });
  });
}
