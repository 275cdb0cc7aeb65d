// kisstime serve: a gateway time server. It syncs politely from its upstreams (the same client as 'kisstime sync',
// with its own saved state) and serves the LAN from the local clock corrected by what that client measured, with
// access lists and per-client rate limits enforced by kisses. With --stats it prints what it did every so often.

import { parseArgs } from 'node:util';
import { ClientConduct, formatDurationS, formatServerStats, parseDurationS, ServerConfigInput, ServerStats } from '../../core';
import { KisstimeClient } from '../client';
import { NodeClock } from '../clock';
import { describeConduct } from '../conduct-text';
import { createServer, KisstimeServer, UpstreamReport } from '../server';
import { CliIo, clientConfigFromFlags, clientFlagMessage, defaultStatePath, processIo, signedSeconds, untilStopped } from './args';
import { flagErrorMessage } from './flag-error';

const USAGE = 'usage: kisstime serve --listen ADDR:PORT [--upstream HOST[:PORT]]... [--local-stratum N]\n'
  + '                     [--allow CIDR]... [--deny CIDR]... [--rate-interval D] [--rate-burst N] [--rate-leak N]\n'
  + '                     [--max-clients N] [--stats] [--stats-interval D] [--json]\n'
  + '                     [--lan] [--min-interval D] [--max-interval D] [--startup-delay MIN-MAX] [--state FILE]\n'
  + '  answers only mode-3 requests, always with 48 bytes; before the upstream syncs it answers "unsynchronised"\n'
  + '  (LI=3, stratum 16) unless --local-stratum N; rate limits default to chrony\'s: 8s, burst 8, leak 1 in 4\n'
  + '  (--rate-interval 0 turns them off); outside --allow → RSTR kiss, inside --deny → DENY kiss, both rate-limited\n'
  + '  --stats also lists the rudest clients: those that came back after a DENY, RSTR or too soon after a RATE, asked\n'
  + '  less than 15 s apart, or put their clock in their requests (the record is per address, in the bounded client table)\n';

const OPTIONS = {
  'listen': { type: 'string' },
  'upstream': { type: 'string', multiple: true },
  'allow': { type: 'string', multiple: true },
  'deny': { type: 'string', multiple: true },
  'local-stratum': { type: 'string' },
  'rate-interval': { type: 'string' },
  'rate-burst': { type: 'string' },
  'rate-leak': { type: 'string' },
  'max-clients': { type: 'string' },
  'stats': { type: 'boolean' },
  'stats-interval': { type: 'string' },
  'json': { type: 'boolean' },
  'lan': { type: 'boolean' },
  'min-interval': { type: 'string' },
  'max-interval': { type: 'string' },
  'startup-delay': { type: 'string' },
  'state': { type: 'string' },
  'help': { type: 'boolean', short: 'h' },
} as const;

/** How many of the rudest clients --stats lists. */
const RUDE_SHOWN = 5;

const SERVER_FIELD_FLAGS: { [field: string]: string } = {
  allow: '--allow', deny: '--deny', rateInterval: '--rate-interval', rateBurst: '--rate-burst', rateLeak: '--rate-leak',
  maxClients: '--max-clients', localStratum: '--local-stratum',
};

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

function statsText(stats: ServerStats, rude: { count: number; worst: ClientConduct[] }, json: boolean): string {
  const at = new Date().toISOString();
  if (json) return JSON.stringify({ event: 'stats', at, stats, rudeClients: rude.count, worstClients: rude.worst });
  const dropped = Object.keys(stats.dropped).filter((k) => stats.dropped[k as keyof ServerStats['dropped']] > 0)
    .map((k) => k + ' ' + stats.dropped[k as keyof ServerStats['dropped']]);
  const lines = [at + ' stats    ' + formatServerStats(stats) + (stats.leaked ? '; leaked ' + stats.leaked : '')
    + (dropped.length ? '; dropped: ' + dropped.join(', ') : '') + '; evicted ' + stats.evictions
    + (rude.count ? '; ' + rude.count + ' rude client' + (rude.count === 1 ? '' : 's') : '')];
  for (const c of rude.worst) lines.push(at + ' rude     ' + c.address + ': ' + describeConduct(c) + ' (' + c.requests + ' requests)');
  return lines.join('\n');
}

export async function run(args: string[], io: CliIo = processIo()): Promise<number> {
  let parsed: { values: { [k: string]: string | string[] | boolean | undefined }; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    io.err('kisstime serve: ' + flagErrorMessage(error) + '\n' + USAGE);
    return 2;
  }
  const values = parsed.values;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    io.err('kisstime serve: unexpected argument ' + JSON.stringify(parsed.positionals[0]) + ' (upstreams go after --upstream)\n' + USAGE);
    return 2;
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] as string : undefined);
  const list = (k: string): string[] => (Array.isArray(values[k]) ? values[k] as string[] : []);
  const json = values.json === true;
  const listenText = str('listen');
  const listen = listenText === undefined ? null : parseListen(listenText);
  if (!listen) {
    io.err('kisstime serve: --listen: ' + (listenText === undefined ? 'required' : 'expected ADDR:PORT, e.g. 192.168.1.1:123 or [::]:123: ' + JSON.stringify(listenText)) + '\n' + USAGE);
    return 2;
  }
  let statsEveryS = 0;
  const statsInterval = str('stats-interval');
  if (values.stats || statsInterval !== undefined) {
    statsEveryS = statsInterval === undefined ? 60 : parseDurationS(statsInterval);
    if (!(statsEveryS > 0)) {
      io.err('kisstime serve: --stats-interval: not a positive duration: ' + JSON.stringify(statsInterval) + '\n');
      return 2;
    }
  }

  const serverConfig: ServerConfigInput = {
    allow: list('allow'),
    deny: list('deny'),
    rateInterval: str('rate-interval'),
    rateBurst: str('rate-burst'),
    rateLeak: str('rate-leak'),
    maxClients: str('max-clients'),
    localStratum: str('local-stratum'),
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

  const upstreams = list('upstream');
  let client: KisstimeClient | null = null;
  const statePath = str('state') || defaultStatePath();
  if (upstreams.length > 0) {
    const polling = {
      '--min-interval': str('min-interval'), '--max-interval': str('max-interval'), '--startup-delay': str('startup-delay'),
    };
    const flags = clientConfigFromFlags(upstreams, polling, values.lan === true);
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
    io.err('kisstime serve: ' + (error as Error).message + '\n');
    return 1;
  }
  server.on('error', (error: Error) => io.err('kisstime serve: ' + error.message + '\n'));
  server.on('stats', (stats: ServerStats) => io.out(statsText(stats, server.rudeClients(RUDE_SHOWN), json) + '\n'));
  const boundText = where.address.includes(':') ? '[' + where.address + ']:' + where.port : where.address + ':' + where.port;
  line('listen   ' + boundText + ' ' + (upstreams.length ? 'upstream ' + upstreams.join(' ') : 'no upstream')
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
      if (statsEveryS > 0) io.out(statsText(server.stats(), server.rudeClients(RUDE_SHOWN), json) + '\n');
      Promise.all([server.stop(), client ? client.stop() : Promise.resolve()]).then(() => resolve(0), (error: Error) => {
        io.err('kisstime serve: ' + error.message + '\n');
        resolve(1);
      });
    });
  });
}
