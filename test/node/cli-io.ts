// Runs a CLI subcommand in-process with its output captured, as a user would see it on a terminal.

import type { CliIo } from '../../src/node/cli/args';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function runCli(run: (args: string[], io: CliIo) => Promise<number>, args: string[], signal?: AbortSignal): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await run(args, { out: (t) => (out += t), err: (t) => (err += t), signal });
  return { code, out, err };
}
