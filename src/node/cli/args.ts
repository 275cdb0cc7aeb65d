// Flag parsing for the subcommands: --flag value, --flag=value and boolean switches. Anything unknown is refused
// with the flag named, because a mistyped "--min-intervl 16s" silently ignored would poll at the default.

import { homedir } from 'node:os';
import { join } from 'node:path';

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
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
}

/** Seconds with a sign and microseconds: "+0.000123". */
export function signedSeconds(s: number): string {
  return (s >= 0 ? '+' : '') + s.toFixed(6);
}
