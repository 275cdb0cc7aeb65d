// What the subcommands share: Node's own util.parseArgs with the flag named in every refusal, the polling flags as a
// client config, the state file's place, and stopping on a signal.

import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDurationS } from '../../core';
import { NodeClientConfigInput } from '../config-input';
import { flagErrorMessage } from './flag-error';

export type ParsedFlags = { ok: true; values: { [flag: string]: string | boolean | (string | boolean)[] | undefined }; positionals: string[] } | { ok: false; message: string };

/** util.parseArgs, strict, with its refusal reworded to name the flag ("unknown option --min-intervl"). */
export function parseFlags(args: string[], options: NonNullable<ParseArgsConfig['options']>, allowPositionals: boolean): ParsedFlags {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals });
    return { ok: true, values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    return { ok: false, message: flagErrorMessage(error) };
  }
}

/** A string flag's value, or undefined. */
export function stringFlag(values: { [flag: string]: unknown }, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
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
  timeout: '--timeout', accuracy: '--accuracy',
};

/**
 * The polling flags sync and serve share, as the core's config input. Only the flags' own form is checked
 * here; the policy (floors, ranges) is the core's, and its refusals are named by clientFlagMessage.
 */
export function clientConfigFromFlags(
  servers: string[], values: { [flag: string]: string | undefined }, lan: boolean,
): { ok: true; config: NodeClientConfigInput } | { ok: false; message: string } {
  const config: NodeClientConfigInput = { servers, lanServer: lan };
  for (const [flag, field] of [['--min-interval', 'minInterval'], ['--max-interval', 'maxInterval'], ['--timeout', 'timeout'], ['--accuracy', 'accuracy']] as const) {
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
