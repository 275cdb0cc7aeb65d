// The client under audit, in cmd mode: the user's command template with {host}, {port} and {state} filled in, run by
// /bin/sh in a process group of its own so that the whole client (and whatever it started) stops at the scenario's
// end. With a rerun interval it is started again every so often, as cron would run a one-shot tool.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { ClockSource } from '../types';
import { CommandEnd } from './types';

export const PLACEHOLDERS = ['{host}', '{port}', '{state}'];

export function fillTemplate(template: string, values: { host: string; port: number; state: string }): string {
  return template.split('{host}').join(values.host).split('{port}').join(String(values.port)).split('{state}').join(values.state);
}

/** Why a template cannot work, or null: without {host} the client would ask some other server. */
export function templateProblem(template: string): string | null {
  if (template.trim() === '') return 'the command is empty';
  if (template.indexOf('{host}') < 0) return 'the command must contain {host}, where the client is told which server to ask';
  return null;
}

export interface CommandRun {
  /** Stops the client (SIGTERM to its group, SIGKILL after graceMs) and says how it ended. */
  stop(graceMs?: number): Promise<CommandEnd>;
}

interface Child {
  pid: number;
  exited: Promise<{ code: number | null; signal: string | null; atMs: number }>;
  done: boolean;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Starts command (already filled in) in cwd, its output appended to logFile. rerunS > 0 starts it again every rerunS
 * seconds from the first start, whenever the previous run has exited.
 */
export function startCommand(command: string, options: { cwd: string; logFile: string; rerunS: number; clock: ClockSource }): CommandRun {
  const { clock } = options;
  const startedMs = clock.monoMs();
  const children: Child[] = [];
  let timer: unknown = null;
  let stopped = false;

  const launch = (): void => {
    const fd = openSync(options.logFile, 'a');
    const child = spawn('/bin/sh', ['-c', command], { cwd: options.cwd, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const record: Child = {
      pid: child.pid ?? -1,
      done: false,
      exited: new Promise((resolve) => {
        const finish = (code: number | null, signal: string | null): void => {
          record.done = true;
          resolve({ code, signal, atMs: clock.monoMs() });
        };
        child.once('exit', finish);
        child.once('error', () => finish(127, null));
      }),
    };
    children.push(record);
  };

  const schedule = (): void => {
    if (options.rerunS <= 0) return;
    timer = clock.setTimer(() => {
      if (stopped) return;
      if (children.every((c) => c.done)) launch();
      schedule();
    }, options.rerunS * 1000);
  };

  launch();
  schedule();

  return {
    stop: async (graceMs = 2000): Promise<CommandEnd> => {
      stopped = true;
      if (timer !== null) clock.clearTimer(timer);
      const running = !children[children.length - 1].done;
      for (const c of children) {
        if (c.done || c.pid <= 0) continue;
        killGroup(c.pid, 'SIGTERM');
        const force = setTimeout(() => killGroup(c.pid, 'SIGKILL'), graceMs);
        await c.exited;
        clearTimeout(force);
        // Whatever it started in its group goes too, even if the shell itself has exited.
        killGroup(c.pid, 'SIGKILL');
      }
      const ends = await Promise.all(children.map((c) => c.exited));
      const finished = ends.slice(0, running ? ends.length - 1 : ends.length);
      const at = (ms: number): number => (ms - startedMs) / 1000;
      const crashed = finished.find((e) => e.signal !== null);
      const failed = finished.find((e) => e.code !== null && e.code !== 0);
      const last = finished[finished.length - 1];
      return {
        running,
        runs: children.length,
        crash: crashed && crashed.signal ? { signal: crashed.signal, atS: at(crashed.atMs) } : null,
        failure: failed && failed.code !== null ? { code: failed.code, atS: at(failed.atMs) } : null,
        lastExit: last ? { code: last.code, atS: at(last.atMs) } : null,
      };
    },
  };
}

/** The last lines a command printed, for the report. */
export function outputTail(logFile: string, lines = 15): string {
  try {
    const text = readFileSync(logFile, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
