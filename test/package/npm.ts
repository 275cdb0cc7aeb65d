// Running npm from the tests: on a chosen Node binary, and without the npm_* variables that the `npm test` around
// these tests exports (npm reads npm_config_* as its own settings, and those describe this repository, not the
// directory the tests install into). The npm cache and registry settings are kept.

import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

const KEEP = ['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig'];

export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of Object.keys(process.env)) {
    if (!/^npm_/i.test(key) || KEEP.indexOf(key.toLowerCase()) >= 0) env[key] = process.env[key];
  }
  return env;
}

/** npm-cli.js of the npm that runs this test (npm test sets npm_execpath; otherwise the npm on PATH). */
export function npmCliPath(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && /npm-cli\.js$/.test(fromNpm) && existsSync(fromNpm)) return fromNpm;
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (!existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    if (/npm-cli\.js$/.test(real)) return real;
    const beside = join(dirname(real), 'npm-cli.js');
    if (existsSync(beside)) return beside;
  }
  throw new Error('cannot find npm-cli.js: run the tests through npm (npm test)');
}

/** Runs npm on the given Node binary, in dir; returns what it printed (both streams), or throws with it. */
export function runNpm(nodeBinary: string, npmCli: string, dir: string, args: string[]): string {
  try {
    // stderr joins stdout, so warnings such as EBADENGINE come back to the caller.
    return execFileSync('/bin/sh', ['-c', '"$0" "$@" 2>&1', nodeBinary, npmCli, ...args, '--no-audit', '--no-fund', '--no-update-notifier', '--prefer-offline'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      // npm spawns `node` for install scripts: the same Node it runs on.
      env: { ...npmEnv(), PATH: dirname(nodeBinary) + delimiter + (process.env.PATH || '') },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} in ${dir} failed: ${e.message}\n${String(e.stdout || '')}\n${String(e.stderr || '')}`);
  }
}
