// Child-process plumbing shared by the daemon fixtures: every daemon runs without CAP_SYS_TIME, dies with the test
// worker, and can be stopped and awaited.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Prefix for every daemon and client the fixtures run. Dropping cap_sys_time from the bounding set makes the kernel
 * refuse settimeofday/clock_settime/adjtimex writes, whatever the daemon's configuration says: ntpsec 1.2.2 calls
 * ntp_adjtime at startup even with "disable kernel" and "disable ntp" (observed: it changed the kernel's status and
 * time constant), so configuration alone is not a guarantee. --pdeathsig makes the daemon exit with its parent, so a
 * crashed or killed worker does not leave daemons holding port 123.
 */
export const SANDBOX_PREFIX = ['setpriv', '--pdeathsig', 'TERM', '--bounding-set', '-sys_time', '--'];

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Last resort for a test that forgot to stop a child: it is killed when this process exits ('exit' handlers must
 * be synchronous, so no waiting there). The child leaves the list once it has exited or failed to start.
 */
export function killOnExit(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
  const forget = (): void => {
    live.delete(child);
  };
  child.once('exit', forget);
  child.once('error', forget);
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  pid: number;
  /** Resolves when the process has exited (and has been reaped). */
  exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. Safe to call twice. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
}

/**
 * Starts file with args inside SANDBOX_PREFIX, stdout and stderr appended to logFile. outer is a command prefix that
 * execs the rest (such as ip netns exec NAME), so the pid stays the daemon's.
 */
export function spawnSandboxed(file: string, args: string[], logFile: string, outer: string[] = []): ManagedProcess {
  const fd = openSync(logFile, 'a');
  const command = [...outer, ...SANDBOX_PREFIX, file, ...args];
  const child = spawn(command[0], command.slice(1), {
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  killOnExit(child);
  let done = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  const stop = async (graceMs = 3000): Promise<ExitInfo> => {
    if (!done) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };
  return {
    pid: child.pid ?? -1,
    exited,
    hasExited: () => done,
    stop,
    output: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

/**
 * Polls check every intervalMs until it returns a value other than undefined. Fails early, with the daemon's output,
 * if the process exits, and after timeoutMs otherwise.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; process?: ManagedProcess },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (options.process?.hasExited()) {
      const info = await options.process.exited;
      throw new Error(`${what}: process exited early (code ${info.code}, signal ${info.signal})\n${tail(options.process.output())}`);
    }
    try {
      const value = await check();
      if (value !== undefined) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  const extra = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  const output = options.process ? `\n${tail(options.process.output())}` : '';
  throw new Error(`${what}: not ready after ${options.timeoutMs} ms${extra}${output}`);
}

export function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes fixture dirs whose owning process died without cleaning up (the owner's pid is part of the name). */
function sweepStaleTempDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const match = /^kisstime-[a-z]+-(\d+)-/.exec(name);
    if (match && !pidAlive(Number(match[1]))) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

/**
 * A private temp dir named kisstime-<prefix>-<pid>-XXXXXX, kept after the run when KISSTIME_KEEP_FIXTURES is set so
 * that daemon logs can be read.
 */
export function makeTempDir(prefix: string): { dir: string; remove(): void } {
  if (!process.env.KISSTIME_KEEP_FIXTURES) {
    sweepStaleTempDirs();
  }
  const dir = mkdtempSync(join(tmpdir(), `kisstime-${prefix}-${process.pid}-`));
  return {
    dir,
    remove: () => {
      if (!process.env.KISSTIME_KEEP_FIXTURES) {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
