// The real Espruino interpreter (../shared/espruino/espruino, the Linux build of Espruino 2v29) as a board: one scratch
// directory per board, whose ./espruino.flash is the board's Storage. A run of the interpreter in that directory is one
// power-on; running it again in the same directory is a reboot on the same flash.
//
// Facts this relies on (../shared/espruino/README.md, and checked by the tests under test/espruino):
// - stdin must stay an open pipe: at end-of-file the interpreter spins and reports FIFO_FULL;
// - it exits by itself once no timer, watch or socket is left; otherwise it is ended with SIGKILL, by pid (at its bare
//   prompt, run without a script, it ignores SIGTERM, SIGINT and SIGHUP; with a script, SIGTERM does end it);
// - at start it runs the boot code in Storage (.boot0, .boot1, ...) and then the script file it was given;
// - what is typed on stdin is read by its REPL, also while a script file runs; a line starting with \x10 is not echoed;
// - --telnet opens the REPL on TCP 2323 (fixed), and the console moves to a telnet client while one is connected;
// - Storage cannot hold an empty file ("Can't create zero length file").

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { killOnExit, makeTempDir, type ExitInfo } from './process';

/** The project root: the nearest directory above this file with the project's package.json (works from dist/ too). */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && /"name":\s*"@kisstime\//.test(readFileSync(manifest, 'utf8'))) {
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) {
      throw new Error(`no Kisstime package.json above ${__dirname}`);
    }
    dir = up;
  }
}

/** ../shared/espruino/espruino from the project root, or an Error that says where it was looked for. */
export function espruinoPath(root = projectRoot()): string {
  const path = resolve(root, '..', 'shared', 'espruino', 'espruino');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`the Espruino interpreter is missing: no executable at ${path} (../shared/espruino/espruino from the `
      + `project root ${root}). The real-interpreter tests and the espruino bench run the bundle on it; put the shared `
      + 'directory that holds it beside the clone.');
  }
  return path;
}

/** firmware/boot0.js, the .boot0 that firmware:upload and fleet:upload put on a board. */
export function boot0Source(): string {
  return readFileSync(join(projectRoot(), 'firmware', 'boot0.js'), 'utf8');
}

export interface StorageFile {
  name: string;
  /** Bytes as a binary string (one char per byte), as Espruino's Storage holds them. */
  data: string;
}

/**
 * What `npm run firmware:upload` puts on a board (firmware/tools/espruino-cli.js, storageFiles): each module under
 * its name ("kisstime", "kisstime-protocol", "kisstime-boot"), firmware/boot0.js as ".boot0" and, when a config is
 * given, its JSON as "kisstime.cfg".
 */
export function uploadLayout(modules: { name: string; code: string }[], config?: unknown): StorageFile[] {
  const files = modules.map((m) => ({ name: m.name, data: m.code }));
  files.push({ name: '.boot0', data: boot0Source() });
  if (config !== undefined && config !== null) {
    files.push({ name: 'kisstime.cfg', data: JSON.stringify(config) });
  }
  return files;
}

/** One line the board printed, with the time it arrived (performance.now() of this process). */
export interface ConsoleLine {
  text: string;
  atMs: number;
}

/** A line the observer script printed for an event of the kisstime handle (see observeScript). */
export interface BoardEvent {
  kind: string;
  info: Record<string, unknown>;
  atMs: number;
}

/**
 * Board-side JavaScript that prints every sync, kiss and error of the handle as "@kt <event> <json>", for
 * BoardRun.events(). The default handle is the global that .boot0 leaves.
 */
export function observeScript(handle = 'kisstime'): string {
  return `function ktReport(kind) { return function (e) { print("@kt " + kind + " " + JSON.stringify(e)); }; }
${handle}.on("sync", ktReport("sync")).on("kiss", ktReport("kiss")).on("error", ktReport("error"));
`;
}

// One chunk of a Storage.write: the espruino CLI writes in chunks too, so that no one string gets large.
const WRITE_CHUNK = 4096;

function storageWrites(files: StorageFile[]): string {
  const lines = ['var s = require("Storage");'];
  for (const file of files) {
    if (file.data.length === 0) {
      throw new Error(`${file.name}: Espruino's Storage cannot hold an empty file`);
    }
    const size = file.data.length;
    for (let offset = 0; offset < size; offset += WRITE_CHUNK) {
      const chunk = Buffer.from(file.data.substring(offset, offset + WRITE_CHUNK), 'latin1').toString('base64');
      lines.push(size <= WRITE_CHUNK
        ? `s.write(${JSON.stringify(file.name)}, atob("${chunk}"));`
        : `s.write(${JSON.stringify(file.name)}, atob("${chunk}"), ${offset}, ${size});`);
    }
  }
  lines.push('print("@setup " + JSON.stringify(s.list()));');
  return lines.join('\n') + '\n';
}

/** The printable text of one output line: the REPL redraws with \r and ESC[J, and prints ">" as its prompt. */
function visibleText(raw: string): string {
  let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const cr = line.lastIndexOf('\r');
  if (cr >= 0) {
    line = line.slice(cr + 1);
  }
  return line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/^>+/, '');
}

/**
 * Every interpreter runs without CAP_SYS_TIME (Espruino's setTime must never reach the system clock) and is killed
 * with its parent (--pdeathsig KILL: it ignores TERM), so a crashed test worker leaves no board behind.
 */
const SANDBOX = ['setpriv', '--pdeathsig', 'KILL', '--bounding-set', '-sys_time', '--'];

export interface BootOptions {
  /** JavaScript run after the boot code, as the script file of this run. None: the bare REPL, as a board at its prompt. */
  script?: string;
  /** Open the REPL on TCP port 2323 as well. */
  telnet?: boolean;
}

/** One power-on of a board: the interpreter process, its console, and its REPL on stdin. */
export class BoardRun {
  readonly pid: number;
  /** performance.now() when the process was started. */
  readonly startedAtMs: number;
  readonly exited: Promise<ExitInfo>;
  private readonly output: ConsoleLine[] = [];
  private partial = '';
  private raw = '';
  private done = false;
  private evalCount = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly child: ChildProcess, readonly label: string) {
    this.pid = child.pid ?? -1;
    this.startedAtMs = performance.now();
    // A test that failed before its cleanup must not leave interpreters running (they ignore SIGTERM).
    killOnExit(child);
    const take = (chunk: Buffer): void => {
      const text = chunk.toString('latin1');
      this.raw += text;
      const parts = (this.partial + text).split('\n');
      this.partial = parts.pop() ?? '';
      const atMs = performance.now();
      for (const part of parts) {
        const line = visibleText(part);
        if (line.trim() !== '') {
          this.output.push({ text: line, atMs });
        }
      }
      this.notify();
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    this.exited = new Promise<ExitInfo>((resolveExit) => {
      const finish = (info: ExitInfo): void => {
        this.done = true;
        const rest = visibleText(this.partial);
        if (rest.trim() !== '') {
          this.output.push({ text: rest, atMs: performance.now() });
        }
        this.partial = '';
        resolveExit(info);
        this.notify();
      };
      child.once('close', (code, signal) => finish({ code, signal }));
      child.once('error', () => finish({ code: null, signal: null }));
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) {
      listener();
    }
  }

  hasExited(): boolean {
    return this.done;
  }

  /** Every non-empty console line so far (banner included), prompts and terminal escapes removed. */
  lines(): ConsoleLine[] {
    return this.output.slice();
  }

  /** The console so far as one text, for assertions and failure messages. */
  text(): string {
    return this.output.map((l) => l.text).join('\n');
  }

  /** Everything the process wrote, unprocessed. */
  rawOutput(): string {
    return this.raw;
  }

  /** Lines that report an uncaught exception or an interpreter assertion. */
  uncaught(): string[] {
    return this.output.map((l) => l.text).filter((t) => /^Uncaught\b|ASSERT\(|HARD FAULT|New interpreter error/.test(t));
  }

  /** The observer script's events (observeScript), optionally of one kind. */
  events(kind?: string): BoardEvent[] {
    const out: BoardEvent[] = [];
    for (const line of this.output) {
      const match = /^@kt (\w+) (.*)$/.exec(line.text);
      if (match && (kind === undefined || match[1] === kind)) {
        out.push({ kind: match[1], info: JSON.parse(match[2]) as Record<string, unknown>, atMs: line.atMs });
      }
    }
    return out;
  }

  /**
   * Resolves when check() returns a value, checked after every chunk of output and at exit; rejects after timeoutMs,
   * or when the board exits first (unless the check accepts the exit), with the tail of the console.
   */
  waitFor<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolveWait, rejectWait) => {
      const tryNow = (): boolean => {
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          cleanup();
          rejectWait(error);
          return true;
        }
        if (value !== undefined) {
          cleanup();
          resolveWait(value);
          return true;
        }
        if (this.done) {
          cleanup();
          rejectWait(new Error(`${this.label}: ${what}: the interpreter exited first\n${this.tail()}`));
          return true;
        }
        return false;
      };
      const listener = (): void => {
        tryNow();
      };
      const timer = setTimeout(() => {
        cleanup();
        rejectWait(new Error(`${this.label}: ${what}: not within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
      tryNow();
    });
  }

  /** The first line (from index `from` on) that matches pattern. */
  waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<ConsoleLine> {
    return this.waitFor(`a line matching ${pattern}`, () => this.output.slice(from).find((l) => pattern.test(l.text)), timeoutMs);
  }

  /** Resolves once the observer has printed at least count events of this kind. */
  waitForEvents(kind: string, count: number, timeoutMs: number): Promise<BoardEvent[]> {
    return this.waitFor(`${count} ${kind} event(s)`, () => {
      const found = this.events(kind);
      return found.length >= count ? found : undefined;
    }, timeoutMs);
  }

  /** Waits for the interpreter to exit by itself (no timer, watch or socket left); rejects after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<ExitInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rejectExit) => {
      timer = setTimeout(() => rejectExit(new Error(`${this.label}: still running after ${timeoutMs} ms: something keeps it alive (a timer, `
        + `a watch or a socket)\n${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Types a line at the REPL (not echoed). */
  send(code: string): void {
    if (this.done || !this.child.stdin) {
      throw new Error(`${this.label}: cannot type at the REPL: the interpreter has exited`);
    }
    this.child.stdin.write(`\x10${code.replace(/\n/g, ' ')}\n`);
  }

  /** Evaluates expression at the REPL and resolves with its value, through JSON. */
  async eval<T>(expression: string, timeoutMs = 5000): Promise<T> {
    const id = ++this.evalCount;
    const from = this.output.length;
    this.send(`print("@eval${id} " + JSON.stringify(${expression}))`);
    const line = await this.waitForLine(new RegExp(`^@eval${id} `), timeoutMs, from);
    const json = line.text.slice(`@eval${id} `.length);
    return (json === 'undefined' ? undefined : JSON.parse(json)) as T;
  }

  /** Ends the interpreter with SIGKILL, by pid (it ignores SIGTERM), and waits until it is gone. */
  async kill(): Promise<ExitInfo> {
    // A pid of -1 (the spawn failed) must never reach kill(): it would signal every process.
    if (!this.done && this.pid > 0) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // Already gone between the check and the signal.
      }
    }
    return this.exited;
  }

  /** For failure messages: the uncaught errors first, then the last lines (Espruino's caret lines left out). */
  tail(lines = 30): string {
    const cut = (t: string): string => (t.length > 200 ? t.slice(0, 200) + '...' : t);
    const recent = this.output.map((l) => l.text).filter((t) => !/^\s*\^$/.test(t)).slice(-lines);
    const uncaught = this.uncaught().filter((t) => !recent.includes(t));
    return [...uncaught.map((t) => `  ! ${cut(t)}`), ...recent.map((t) => `  | ${cut(t)}`)].join('\n');
  }
}

export interface BoardOptions {
  /** Run every power-on inside this network namespace (ip netns exec), for boards that need their own port 2323. */
  netns?: string;
}

/** A board: a scratch directory whose espruino.flash is its Storage. */
export class EspruinoBoard {
  readonly dir: string;
  private readonly removeDir: () => void;
  private readonly runs: BoardRun[] = [];
  private powerOns = 0;

  private constructor(readonly label: string, private readonly options: BoardOptions) {
    const temp = makeTempDir('espruino');
    this.dir = temp.dir;
    this.removeDir = temp.remove;
  }

  /** A fresh board: empty flash. Fails at once, with a clear message, if the interpreter is missing. */
  static fresh(label: string, options: BoardOptions = {}): EspruinoBoard {
    espruinoPath();
    return new EspruinoBoard(label, options);
  }

  get flashPath(): string {
    return join(this.dir, 'espruino.flash');
  }

  /** How many times the board has been powered on (setup runs included). */
  get boots(): number {
    return this.powerOns;
  }

  /**
   * Writes files to the Storage of a fresh board, by running the interpreter once with a setup script, and resolves
   * with Storage.list() as the board reports it. A board with a flash already would run its boot code during the
   * setup run, so only a fresh board can be written this way.
   */
  async flash(files: StorageFile[], timeoutMs = 15000): Promise<string[]> {
    if (existsSync(this.flashPath)) {
      throw new Error(`${this.label}: flash() writes a fresh board only (this one has a flash, and its boot code would run)`);
    }
    writeFileSync(join(this.dir, 'setup.js'), storageWrites(files), 'latin1');
    const run = this.start(['setup.js'], 'setup');
    const line = await run.waitForLine(/^@setup /, timeoutMs);
    const exit = await run.waitForExit(timeoutMs);
    if (exit.code !== 0 || run.uncaught().length > 0) {
      throw new Error(`${this.label}: the setup run failed (exit ${exit.code})\n${run.tail()}`);
    }
    return JSON.parse(line.text.slice('@setup '.length)) as string[];
  }

  /** Powers the board on: boot code from Storage, then the script (if any). */
  boot(options: BootOptions = {}): BoardRun {
    const args: string[] = [];
    if (options.script !== undefined) {
      const file = `boot-${this.powerOns + 1}.js`;
      writeFileSync(join(this.dir, file), options.script, 'latin1');
      args.push(file);
    }
    if (options.telnet) {
      args.push('--telnet');
    }
    return this.start(args, `power-on ${this.powerOns + 1}`);
  }

  private start(args: string[], what: string): BoardRun {
    const command = [...(this.options.netns ? ['ip', 'netns', 'exec', this.options.netns] : []), ...SANDBOX, espruinoPath(), ...args];
    const child = spawn(command[0], command.slice(1), { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    this.powerOns++;
    const run = new BoardRun(child, `${this.label} (${what})`);
    this.runs.push(run);
    return run;
  }

  /** Kills whatever still runs (SIGKILL, by pid) and removes the scratch directory. */
  async remove(): Promise<void> {
    await Promise.all(this.runs.map((run) => run.kill()));
    this.removeDir();
  }
}
