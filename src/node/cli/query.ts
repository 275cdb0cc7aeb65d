// kisstime query HOST[:PORT]: one polite request, driven by the same core Scheduler as 'sync', so every rule (held
// servers, the 15 s floor, RATE floors, silence backoff) is the core's, read from the state file 'sync' shares.
//
// A query is one request a person asked for, not a polling loop, so it has no startup delay and its minimum
// interval is the smallest the core allows for the host (16 s for a server named directly, the NTP Pool's 30 min
// for pool.ntp.org names). That minimum only matters for the wait after an earlier query or sync; the adaptive
// interval 'sync' has grown into is not a reason to refuse a person's single question.
//
// Exit codes: 0 a sample; 1 no sample (no answer, a kiss, a refusal, an error); 2 bad usage; 3 not sent because
// politeness says wait (the message says how long).

import {
  Decision, formatDurationS, Hold, isPoolName, minIntervalFloorS, parseDurationS,
} from '../../core';
import { KisstimeClient } from '../client';
import { deferralExplanation, kissConsequence } from '../describe';
import { forgetServer } from '../state-file';
import { NodeClientConfigInput, parseServer } from '../config-input';
import { BackoffReport, SampleReport, SyncNowResult } from '../types';
import { CliIo, defaultStatePath, parseFlags, processIo, signedSeconds, stringFlag } from './args';

const USAGE = 'usage: kisstime query HOST[:PORT] [--json] [--state FILE] [--timeout D]\n'
  + '       kisstime query --forget [HOST] [--state FILE]   forget the saved refusals, RATE floors and backoff of HOST\n'
  + '                                                       (of every server without HOST); the 15 s floor stays\n';

const OPTIONS = {
  'json': { type: 'boolean' }, 'state': { type: 'string' }, 'timeout': { type: 'string' }, 'forget': { type: 'string' }, 'help': { type: 'boolean', short: 'h' },
} as const;

type Outcome =
  | { kind: 'sample'; report: SampleReport }
  | { kind: 'kiss'; kiss: Extract<Decision, { type: 'kiss' }> }
  | { kind: 'failed'; backoff: BackoffReport }
  | { kind: 'refused'; reason: string }
  | { kind: 'deferred'; deferral: Extract<SyncNowResult, { accepted: false }> }
  | { kind: 'error'; message: string };

function heldFor(holds: Hold[], host: string): Hold | null {
  for (const h of holds) if (h.h === host || h.a === host) return h;
  return null;
}

function hostPort(host: string, port: number): string {
  return (host.indexOf(':') >= 0 ? '[' + host + ']' : host) + ':' + port;
}

/** Starts the client and waits for the first thing that ends a one-shot query. */
function runOnce(client: KisstimeClient, hardLimitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    let checking = false;
    const finish = (o: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(limit);
      resolve(o);
    };
    const limit = setTimeout(() => finish({ kind: 'error', message: 'no result within ' + formatDurationS(hardLimitMs / 1000) }), hardLimitMs);
    // Waiting with nothing in flight means the core will not send yet: ask it why, which sends if nothing forbids it.
    const checkIdle = (): void => {
      if (done || checking || client.status().phase !== 'waiting') return;
      checking = true;
      const r = client.syncNow();
      checking = false;
      if (!r.accepted) finish({ kind: 'deferred', deferral: r });
    };
    client.on('sample', (report: SampleReport) => finish({ kind: 'sample', report }));
    client.on('kiss', (kiss: Extract<Decision, { type: 'kiss' }>) => {
      if (kiss.action !== 'ignore') finish({ kind: 'kiss', kiss });
    });
    client.on('backoff', (backoff: BackoffReport) => finish({ kind: 'failed', backoff }));
    client.on('stopped', (d: { reason: string }) => finish({ kind: 'refused', reason: d.reason }));
    client.on('status', checkIdle);
    client.on('error', (error: Error) => finish({ kind: 'error', message: error.message }));
    client.start();
    checkIdle();
  });
}

function printSample(io: CliIo, r: SampleReport, json: boolean): void {
  if (json) {
    io.out(JSON.stringify({
      ok: true, server: r.server, address: r.address, port: r.port, offset: r.offset, delay: r.delay, clockOffset: r.clockOffset,
      driftPpm: r.driftPpm, maxError: r.maxError, stratum: r.stratum, refid: r.refid, leap: r.leap, precision: r.precision,
      rootDistance: r.rootDistance, time: r.time.toISOString(),
    }) + '\n');
    return;
  }
  const lines = [
    ['server', r.server + (r.server === r.address ? '' : ' (' + r.address + ')') + ' port ' + r.port],
    ['offset', signedSeconds(r.offset) + ' s'],
    ['delay', r.delay.toFixed(6) + ' s'],
    ['stratum', String(r.stratum)],
    ['refid', r.refid],
    ['leap', String(r.leap) + (r.leap === 0 ? ' (no warning)' : r.leap === 1 ? ' (61 s minute ahead)' : ' (59 s minute ahead)')],
    ['precision', r.precision.toExponential(1) + ' s (2^' + r.sample.precision + ')'],
    ['root distance', r.rootDistance.toFixed(6) + ' s'],
    ['error bound', '±' + r.maxError.toFixed(6) + ' s (one sample: no drift known yet)'],
    ['time', r.time.toISOString()],
  ];
  io.out(lines.map((l) => (l[0] + ':').padEnd(15) + l[1]).join('\n') + '\n');
}

/** Forgets the saved refusals, RATE floors and backoff of one host (null: of every server), and says how many. */
async function forget(io: CliIo, host: string | null, statePath: string, json: boolean): Promise<number> {
  const who = host === null ? 'every server' : host;
  try {
    const removed = await forgetServer(statePath, host, Date.now());
    io.out(json
      ? JSON.stringify({ ok: true, forgot: who, refusals: removed.holds, waits: removed.waits, state: statePath }) + '\n'
      : 'forgot ' + removed.holds + ' refusal(s) and ' + removed.waits + ' saved wait(s) for ' + who + ' in ' + statePath + '\n');
    return 0;
  } catch (error) {
    const message = 'cannot update ' + statePath + ': ' + (error instanceof Error ? error.message : String(error));
    io.err('kisstime query: ' + message + '\n');
    if (json) io.out(JSON.stringify({ ok: false, error: message }) + '\n');
    return 1;
  }
}

export async function run(args: string[], io: CliIo = processIo()): Promise<number> {
  const json = args.indexOf('--json') >= 0;
  /** Every outcome with --json is one JSON object on stdout; the words go to stderr either way. */
  const say = (words: string, body: { [k: string]: unknown }, code: number): number => {
    io.err('kisstime query: ' + words + '\n');
    if (json) io.out(JSON.stringify(Object.assign({ ok: code === 0 }, body)) + '\n');
    return code;
  };
  // "--forget" with no host after it forgets every server.
  const forgetAt = args.indexOf('--forget');
  const all = forgetAt >= 0 && (forgetAt === args.length - 1 || args[forgetAt + 1].startsWith('-'));
  const parsed = parseFlags(all ? args.filter((_a, i) => i !== forgetAt) : args, OPTIONS, true);
  if (!parsed.ok) return say(parsed.message + '\n' + USAGE, { error: parsed.message }, 2);
  const v = parsed.values;
  if (v.help) {
    io.out(USAGE);
    return 0;
  }
  const statePath = stringFlag(v, 'state') || defaultStatePath();
  const forgetHost = stringFlag(v, 'forget');
  if (all || forgetHost !== undefined) {
    if (parsed.positionals.length > 0) return say('--forget takes only the host to forget\n' + USAGE, { error: '--forget takes only the host to forget' }, 2);
    return forget(io, all ? null : forgetHost as string, statePath, json);
  }
  if (parsed.positionals.length !== 1) {
    const what = parsed.positionals.length === 0 ? 'which server? give HOST[:PORT]' : 'one server only';
    return say(what + '\n' + USAGE, { error: what }, 2);
  }
  const target = parsed.positionals[0];
  const spec = parseServer(target);
  if (!spec) return say('HOST: not a host name, IP address or host:port: ' + JSON.stringify(target), { error: 'HOST: not a host name, IP address or host:port' }, 2);
  const timeoutText = stringFlag(v, 'timeout');
  if (timeoutText !== undefined && !(parseDurationS(timeoutText) >= 0)) {
    return say('--timeout: not a duration: ' + JSON.stringify(timeoutText) + ' (write e.g. "2s")', { error: '--timeout: not a duration' }, 2);
  }
  const config: NodeClientConfigInput = {
    servers: [target],
    lanServer: !isPoolName(spec.host),
    minInterval: minIntervalFloorS(spec.host, true),
    startupDelayMin: 0,
    startupDelayMax: 0,
  };
  if (timeoutText !== undefined) config.timeout = timeoutText;

  let client: KisstimeClient;
  try {
    client = new KisstimeClient({ config, statePath });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const words = message.startsWith('timeout') ? '--' + message : message;
    return say(words, { error: words }, 2);
  }
  const before = client.status();
  if (!/^(no saved state|saved state restored)/.test(before.restoreNote)) io.err('kisstime query: note: ' + before.restoreNote + '\n');
  const hold = heldFor(before.holds, spec.host);
  if (hold) {
    await client.stop();
    return say(spec.host + ' (' + hostPort(hold.a, hold.p) + ') refused us with a ' + hold.c + ' kiss earlier; not asking it again.\n'
      + 'To ask it anyway (only if its operator allows you again): kisstime query --forget ' + spec.host + ' --state ' + statePath
      + '  (or delete ' + statePath + ')', { server: spec.host, held: hold.c, address: hold.a, port: hold.p }, 1);
  }

  const outcome = await runOnce(client, (client.config.timeoutS + 35) * 1000);
  await client.stop();
  switch (outcome.kind) {
    case 'sample':
      printSample(io, outcome.report, json);
      return 0;
    case 'kiss': {
      const k = outcome.kiss;
      const what = kissConsequence(k.action, k.intervalS);
      return say('kiss ' + k.code + ' from ' + k.host + ' (' + hostPort(k.address, k.port) + '): ' + what
        + (k.action === 'hold' ? '\nTo ask it anyway later (only if its operator allows you again): kisstime query --forget ' + k.host + ' --state ' + statePath : ''),
      { server: k.host, address: k.address, port: k.port, kiss: k.code, action: k.action, message: what }, 1);
    }
    case 'failed': {
      const b = outcome.backoff;
      return say(b.host + (b.address && b.address !== b.host ? ' (' + b.address + ')' : '') + ': ' + b.message + '; a new query will wait '
        + formatDurationS(b.retryInS) + ' (until ' + b.retryAt.toISOString() + ')',
      { server: b.host, address: b.address, failed: b.cause, message: b.message, retryAt: b.retryAt.toISOString() }, 1);
    }
    case 'refused':
      return say(outcome.reason, { server: spec.host, refused: outcome.reason }, 1);
    case 'deferred': {
      const d = outcome.deferral;
      const waitS = d.until ? Math.max(1, Math.ceil((d.until.getTime() - Date.now()) / 1000)) : 0;
      const when = d.until ? 'wait ' + formatDurationS(waitS) + ' (until ' + d.until.toISOString() + ')' : 'cannot ask at all';
      return say('not sending to ' + spec.host + ' now: ' + deferralExplanation(d.reason) + '; ' + when,
        { server: spec.host, deferred: d.reason, waitS: waitS, until: d.until ? d.until.toISOString() : null }, 3);
    }
    case 'error':
      return say(outcome.message, { server: spec.host, error: outcome.message }, 1);
  }
}
