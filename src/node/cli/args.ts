// Flag parsing for the subcommands: --flag value, --flag=value and boolean switches. Anything unknown is refused
// with the flag named, because a mistyped "--min-intervl 16s" silently ignored would poll at the default.

import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseDurationS } from '../../core';
import { NodeClientConfigInput } from '../config-input';

export type FlagKind = 'switch' | 'value';

export type ParsedArgs =
  | { ok: true; positionals: string[]; values: { [flag: string]: string }; switches: { [flag: string]: boolean } }
  | { ok: false; message: string };

export function parseArgs(args: string[], flags: { [flag: string]: FlagKind }): ParsedArgs {
  const positionals: string[] = [];
  const values: { [flag: string]: string } = {};
  const switches: { [flag: string]: boolean } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.substring(0, eq) : arg;
    const kind = flags[name];
    if (!kind) return { ok: false, message: 'unknown option ' + name };
    if (kind === 'switch') {
      if (eq > 0) return { ok: false, message: name + ' takes no value' };
      switches[name] = true;
      continue;
    }
    const value = eq > 0 ? arg.substring(eq + 1) : args[++i];
    // "--state --json" is a forgotten value, not a file called "--json".
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) return { ok: false, message: name + ' needs a value' };
    values[name] = value;
  }
  return { ok: true, positionals, values, switches };
}

/** Where query and sync keep their shared state unless told otherwise. */
export function defaultStatePath(): string {
  return process.env.KISSTIME_STATE || join(homedir(), '.kisstime', 'state.json');
}

/** Where a CLI writes; tests pass their own to read the output and to stop a run. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Aborting stops a long-running command as SIGINT would. */
  signal?: AbortSignal;
  /** True when err goes to a terminal: only then may a long command show live progress there. */
  errIsTerminal?: boolean;
}

/**
 * Calls onStop once, at the first SIGINT, SIGTERM or abort of io.signal. Returns what takes those listeners away,
 * for a command that ends by itself first; after it, onStop is never called.
 */
export function untilStopped(io: CliIo, onStop: () => void): () => void {
  let done = false;
  const remove = (): void => {
    done = true;
    process.off('SIGINT', fire);
    process.off('SIGTERM', fire);
    if (io.signal) io.signal.removeEventListener('abort', fire);
  };
  const fire = (): void => {
    if (done) return;
    remove();
    onStop();
  };
  process.on('SIGINT', fire);
  process.on('SIGTERM', fire);
  if (io.signal) {
    if (io.signal.aborted) setImmediate(fire);
    else io.signal.addEventListener('abort', fire);
  }
  return remove;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    errIsTerminal: process.stderr.isTTY === true,
  };
}

/** Seconds with a sign and microseconds: "+0.000123". */
export function signedSeconds(s: number): string {
  return (s >= 0 ? '+' : '') + s.toFixed(6);
}

/** "1s-5m", "0-0" or one duration for both ends. */
export function parseStartupDelay(text: string): { min: number; max: number } | null {
  const parts = text.split('-');
  if (parts.length > 2) return null;
  const min = parseDurationS(parts[0]);
  const max = parts.length === 2 ? parseDurationS(parts[1]) : min;
  return min >= 0 && max >= min ? { min, max } : null;
}

const CLIENT_FIELD_FLAGS: { [field: string]: string } = {
  minInterval: '--min-interval', maxInterval: '--max-interval', startupDelayMin: '--startup-delay', startupDelayMax: '--startup-delay',
  timeout: '--timeout',
};

/**
 * The polling flags sync and serve share, as the core's config input. Only the flags' own form is checked
 * here; the policy (floors, ranges) is the core's, and its refusals are named by clientFlagMessage.
 */
export function clientConfigFromFlags(
  servers: string[], values: { [flag: string]: string | undefined }, lan: boolean,
): { ok: true; config: NodeClientConfigInput } | { ok: false; message: string } {
  const config: NodeClientConfigInput = { servers, lanServer: lan };
  for (const [flag, field] of [['--min-interval', 'minInterval'], ['--max-interval', 'maxInterval'], ['--timeout', 'timeout']] as const) {
    const value = values[flag];
    if (value === undefined) continue;
    if (!(parseDurationS(value) >= 0)) return { ok: false, message: flag + ': not a duration: ' + JSON.stringify(value) + ' (write e.g. "34m")' };
    config[field] = value;
  }
  const delayText = values['--startup-delay'];
  if (delayText !== undefined) {
    const delay = parseStartupDelay(delayText);
    if (!delay) return { ok: false, message: '--startup-delay: expected MIN-MAX durations, e.g. "1s-5m": ' + JSON.stringify(delayText) };
    config.startupDelayMin = delay.min;
    config.startupDelayMax = delay.max;
  }
  return { ok: true, config };
}

/** A core config refusal, reworded to name the flag the user typed (serversFlag names where servers came from). */
export function clientFlagMessage(field: string, message: string, serversFlag: string): string {
  const text = message.substring(message.indexOf(': ') + 2).replace('set lanServer for your own LAN server to go lower', 'if you run them, say so with --lan to go lower');
  if (field.startsWith('servers')) return serversFlag + ': ' + text;
  const flag = CLIENT_FIELD_FLAGS[field];
  return flag ? flag + ': ' + text : message;
}
