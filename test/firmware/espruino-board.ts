// A virtual Espruino board for the built firmware bundle: a node:vm context with Espruino's globals and modules,
// real loopback UDP underneath, and a virtual clock that only moves forward when the board is idle.
//
// Imitated (from Espruino's documentation and ../../shared/REFERENCE.md):
// - require("dgram"): createSocket("udp4"), on("message", (msg: string, rinfo {address, port, size})), send(msg,
//   port, host) with no callback, close(). A string is sent as its bytes (binary string); anything else is sent as
//   its text, so a Uint8Array goes out as "35,0,0,...", as Espruino does. Replies arrive as binary strings.
//   A send to a host name is recorded and dropped (Espruino would try a lookup, and on ESP8266 broadcast).
// - require("Wifi").getHostByName(name, cb): asynchronous, cb(undefined) for an unknown name; absent when the board
//   has no Wifi module (require throws, as on a Pico).
// - require("Storage"): see flash-storage.ts (28-character names, append-on-change, compaction, unquoted-key JSON).
// - getTime()/setTime() and Date.now() on one clock that starts wherever the board thinks it is; setTime moves the
//   clock, not the timers (board firmware; the Linux build instead delays pending timers).
// - setTimeout/setInterval/clearTimeout/clearInterval with integer ids, on the virtual clock; clearTimeout() and
//   clearInterval() without an id clear every timer on the board, as Espruino's do.
// - E.toString, E.toUint8Array, E.toArrayBuffer, E.CRC32, E.hwRand, E.srand and Math.random, where Math.random and
//   E.hwRand share one generator that starts from the same state on every board until E.srand seeds it.
// - getSerial(); require("kisstime") from a Storage file of that name, and Modules.removeCached; .boot0 run at boot; a
//   global object "global".
// - Missing built-ins removed (Map, Set, WeakMap, Symbol, Array.from, Number.isInteger, Math.trunc/log2/imul,
//   Object.freeze, Date.UTC, Promise.race/allSettled/any), and Uint8Array.prototype.slice returning a plain Array.
// Not imitated: function hoisting, for (let ...) closures, class fields on the prototype, Math.pow's inexactness and
// the RegExp subset (V8 runs those correctly; firmware/tools/subset.js checks the source for them instead), memory
// and variable limits, Espruino's number printing, and real radio/Wi-Fi timing.

import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import * as vm from 'node:vm';
import { assertLoopback } from '../support/loopback';
import { FlashStorage } from './flash-storage';

/** How long a sent datagram may wait for an answer (real time) before the board counts as idle again. */
const QUIET_MS = 200;

export interface SentDatagram {
  /** Virtual monotonic time, ms since the board object was made. */
  atMs: number;
  address: string;
  port: number;
  bytes: Buffer;
}

export interface BoardOptions {
  serial: string;
  storage: FlashStorage;
  /** Names the Wifi resolver knows; null means the board has no Wifi module at all. */
  hosts?: Record<string, string> | null;
  /** What getTime() reads at the first boot, in Unix seconds. Default: the real time now. */
  clockStartS?: number;
  /** Print the board's console output. */
  echo?: boolean;
}

interface Timer {
  id: number;
  dueMs: number;
  periodMs: number | null;
  fn: (...args: unknown[]) => void;
  args: unknown[];
}

/** A deterministic 32-bit generator (xorshift32) standing in for Espruino's rand(). */
class BoardRandom {
  state = 1;
  seed(v: number): void {
    this.state = (v >>> 0) || 1;
  }
  nextU32(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
}

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i) & 255;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function binaryString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof (value as ArrayLike<number>).length === 'number') {
    let out = '';
    const a = value as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) out += String.fromCharCode(a[i] & 255);
    return out;
  }
  return String(value);
}

export class EspruinoBoard {
  readonly sent: SentDatagram[] = [];
  readonly hostnameSends: string[] = [];
  readonly lookups: string[] = [];
  readonly console: string[] = [];
  readonly uncaught: unknown[] = [];
  context: vm.Context | null = null;
  boots = 0;

  private timers: Timer[] = [];
  private nextTimerId = 1;
  private readonly sockets = new Set<{ node: Socket | null; closed: boolean; awaitingSince: number | null }>();
  private readonly random = new BoardRandom();
  private readonly realStart = performance.now();
  private skippedMs = 0;
  /** getTime() minus the monotonic clock, in ms: where the board's wall clock stands. */
  private clockShiftMs: number;

  constructor(readonly options: BoardOptions) {
    this.clockShiftMs = (options.clockStartS ?? Date.now() / 1000) * 1000;
  }

  get storage(): FlashStorage {
    return this.options.storage;
  }

  /** Virtual monotonic time in ms: real time spent waiting on I/O plus every idle stretch skipped. */
  monoMs(): number {
    return performance.now() - this.realStart + this.skippedMs;
  }

  getTimeS(): number {
    return (this.monoMs() + this.clockShiftMs) / 1000;
  }

  /** Real time as it would be if the world had lived through the skipped stretches too: the time a server that
   * follows the virtual clock should report. A board whose clock started at Date.now() reads exactly this. */
  worldTimeMs(): number {
    return Date.now() + this.skippedMs;
  }

  /** How far the board's clock is behind real time, in seconds (what a perfect sync would report as offset). */
  trueOffsetS(): number {
    return Date.now() / 1000 - this.getTimeS();
  }

  openSockets(): number {
    let n = 0;
    for (const s of this.sockets) if (!s.closed) n++;
    return n;
  }

  /** Power-on: a fresh interpreter (same Storage, same clock), then .boot0 if present. */
  boot(): vm.Context {
    this.powerOff();
    this.boots++;
    this.random.seed(1);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the board's globals are plain functions that close over it
    const board = this;
    const modules: Record<string, unknown> = {};
    const storage = this.storage;
    const storageModule = {
      read: (n: string) => storage.read(n),
      readJSON: (n: string, noExceptions?: boolean) => storage.readJSON(n, noExceptions),
      write: (n: string, d: unknown) => storage.write(n, d),
      writeJSON: (n: string, v: unknown) => storage.writeJSON(n, v),
      erase: (n: string) => storage.erase(n),
      list: () => storage.list(),
      getFree: () => storage.getFree(),
    };
    const sandbox: Record<string, unknown> = {
      console: { log: (...args: unknown[]) => board.log(args) },
      getTime: () => board.getTimeS(),
      setTime: (s: number) => {
        board.clockShiftMs = s * 1000 - board.monoMs();
      },
      getSerial: () => board.options.serial,
      setTimeout: (fn: () => void, ms?: number, ...args: unknown[]) => board.addTimer(fn, ms, null, args),
      setInterval: (fn: () => void, ms?: number, ...args: unknown[]) => board.addTimer(fn, ms, Math.max(1, ms ?? 0), args),
      clearTimeout: (id?: number) => board.removeTimer(id),
      clearInterval: (id?: number) => board.removeTimer(id),
      E: {
        toString: (v: unknown) => binaryString(v),
        toUint8Array: (v: unknown) => {
          const s = binaryString(v);
          // Built in the board's own realm, as the firmware's own arrays are.
          const out = new (vm.runInContext('Uint8Array', board.context as vm.Context) as Uint8ArrayConstructor)(s.length);
          for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
          return out;
        },
        toArrayBuffer: (v: unknown) => (sandbox.E as { toUint8Array(x: unknown): Uint8Array }).toUint8Array(v).buffer,
        CRC32: (v: unknown) => crc32(binaryString(v)),
        hwRand: () => board.random.nextU32() | 0,
        srand: (seed: number) => board.random.seed(seed),
      },
      require: (name: string) => board.require(name, modules, storageModule),
      Modules: { removeCached: (name: string) => delete modules[name] },
    };
    const context = vm.createContext(sandbox);
    this.context = context;
    vm.runInContext(`
      var global = this;
      delete this.Map; delete this.Set; delete this.WeakMap; delete this.WeakSet; delete this.WeakRef; delete this.Symbol;
      delete this.Proxy; delete this.Reflect; delete this.BigInt; delete this.queueMicrotask;
      delete Array.from; delete Array.of; delete Uint8Array.from; delete Number.isInteger; delete Number.isNaN;
      delete Number.isFinite; delete Math.trunc; delete Math.log2; delete Math.imul; delete Math.sign; delete Object.freeze;
      delete Date.UTC; delete Promise.race; delete Promise.allSettled; delete Promise.any; delete Promise.prototype.finally;
      Uint8Array.prototype.slice = function (a, b) { return Array.prototype.slice.call(this, a, b); };
    `, context);
    const rand = this.random;
    (vm.runInContext('Math', context) as { random: () => number }).random = () => rand.nextU32() / 4294967296;
    (vm.runInContext('Date', context) as { now: () => number }).now = () => board.getTimeS() * 1000;
    const boot0 = this.storage.read('.boot0');
    if (boot0 !== undefined) this.guard(() => vm.runInContext(boot0, context, { filename: '.boot0' }));
    return context;
  }

  /** Power-off: every timer and socket of the running interpreter is gone. */
  powerOff(): void {
    this.timers = [];
    for (const s of this.sockets) this.closeSocket(s);
    this.sockets.clear();
    this.context = null;
  }

  /** Evaluates code on the board, like typing it at the REPL. */
  eval(code: string): unknown {
    if (!this.context) throw new Error('board is off');
    return vm.runInContext(code, this.context);
  }

  /**
   * Runs the board for virtualMs of virtual time. Whenever nothing is in flight, the clock jumps to the next timer;
   * while a datagram awaits an answer (up to QUIET_MS of real time), the harness waits in real time.
   */
  async run(virtualMs: number): Promise<void> {
    const end = this.monoMs() + virtualMs;
    for (let guard = 0; guard < 1_000_000; guard++) {
      await this.settle();
      const next = this.nextTimer();
      if (!next || next.dueMs > end) {
        if (this.monoMs() < end) this.skippedMs += end - this.monoMs();
        return;
      }
      if (next.dueMs > this.monoMs()) this.skippedMs += next.dueMs - this.monoMs();
      if (next.periodMs === null) this.timers.splice(this.timers.indexOf(next), 1);
      else next.dueMs += next.periodMs;
      this.guard(() => next.fn(...next.args));
    }
    throw new Error('board: too many timer firings');
  }

  private async settle(): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      let busy = false;
      for (const s of this.sockets) {
        if (!s.closed && s.awaitingSince !== null && performance.now() - s.awaitingSince < QUIET_MS) busy = true;
      }
      if (!busy) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  private nextTimer(): Timer | null {
    let best: Timer | null = null;
    for (const t of this.timers) if (!best || t.dueMs < best.dueMs) best = t;
    return best;
  }

  private addTimer(fn: (...args: unknown[]) => void, ms: number | undefined, periodMs: number | null, args: unknown[]): number {
    const id = this.nextTimerId++;
    this.timers.push({ id, dueMs: this.monoMs() + Math.max(0, Number(ms) || 0), periodMs, fn, args });
    return id;
  }

  private removeTimer(id: number | undefined): void {
    this.timers = id === undefined ? [] : this.timers.filter((t) => t.id !== id);
  }

  /** Timers set and not yet run or cleared. */
  pendingTimers(): number {
    return this.timers.length;
  }

  private log(args: unknown[]): void {
    const line = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    this.console.push(line);
    if (this.options.echo) console.log(`[${this.options.serial}] ${line}`);
  }

  /** Code that throws on Espruino prints "Uncaught ..." and carries on; the harness keeps the error for assertions. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.uncaught.push(error);
      this.log([`Uncaught ${String(error)}`]);
    }
  }

  private require(name: string, modules: Record<string, unknown>, storageModule: unknown): unknown {
    if (name === 'Storage') return storageModule;
    if (name === 'dgram') return { createSocket: (type: string) => this.createSocket(type) };
    if (name === 'Wifi') {
      if (this.options.hosts === null) throw new Error('Module Wifi not found');
      return { getHostByName: (host: string, cb: (ip?: string) => void) => this.getHostByName(host, cb) };
    }
    if (modules[name]) return modules[name];
    const source = this.storage.read(name);
    if (source === undefined) throw new Error(`Module ${name} not found`);
    const exportsObject = vm.runInContext('({})', this.context as vm.Context);
    const wrapper = vm.runInContext(`(function (exports) {\n${source}\n})`, this.context as vm.Context, { filename: name }) as (e: unknown) => void;
    wrapper(exportsObject);
    modules[name] = exportsObject;
    return exportsObject;
  }

  private getHostByName(host: string, cb: (ip?: string) => void): void {
    this.lookups.push(host);
    const ip = (this.options.hosts ?? {})[host];
    this.addTimer(() => cb(ip), 0, null, []);
  }

  private closeSocket(s: { node: Socket | null; closed: boolean }): void {
    if (s.closed) return;
    s.closed = true;
    if (s.node) s.node.close();
  }

  private createSocket(type: string): unknown {
    if (type !== 'udp4') throw new Error('board: only udp4 sockets');
    const s = { node: null as Socket | null, closed: false, awaitingSince: null as number | null };
    const listeners: { message: ((msg: string, rinfo: unknown) => void)[]; error: ((e: unknown) => void)[] } = { message: [], error: [] };
    this.sockets.add(s);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the socket's methods run with the socket as this
    const board = this;
    const ensureNode = (): Socket => {
      if (s.node) return s.node;
      const node = createSocket('udp4');
      node.on('message', (msg, rinfo) => {
        if (s.closed) return;
        s.awaitingSince = null;
        const text = msg.toString('latin1');
        for (const fn of listeners.message) board.guard(() => fn(text, { address: rinfo.address, port: rinfo.port, size: rinfo.size }));
      });
      node.on('error', (error) => {
        for (const fn of listeners.error) board.guard(() => fn(error));
      });
      s.node = node;
      return node;
    };
    return {
      on(event: string, fn: (...args: never[]) => void) {
        if (event === 'message' || event === 'error') (listeners[event] as unknown[]).push(fn);
      },
      send(msg: unknown, port: number, host: string) {
        if (s.closed) throw new Error('socket closed');
        if (!isIPv4(String(host))) {
          // Espruino would look the name up inside send and, on a failed lookup, send to 0.0.0.0 or broadcast.
          board.hostnameSends.push(String(host));
          return;
        }
        assertLoopback(host);
        // A string goes out as its bytes; anything else as its text ("35,0,0,..." for a Uint8Array).
        const bytes = Buffer.from(typeof msg === 'string' ? msg : String(msg), 'latin1');
        board.sent.push({ atMs: board.monoMs(), address: host, port, bytes });
        s.awaitingSince = performance.now();
        ensureNode().send(bytes, port, host);
      },
      close() {
        board.closeSocket(s);
      },
    };
  }
}

/** Puts the firmware on a board's Storage the way the upload tool does: the module and the .boot0 starter. */
export function flash(storage: FlashStorage, modules: { name: string; code: string }[], boot0: string, config?: unknown): void {
  modules.forEach((m) => storage.write(m.name, m.code));
  storage.write('.boot0', boot0);
  if (config !== undefined) storage.writeJSON('kisstime.cfg', config);
}
