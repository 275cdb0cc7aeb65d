// Kisstime on Espruino: carries out the core scheduler's decisions with Espruino's dgram, Wifi, Storage and
// clock. Every protocol, polling and kiss decision stays in src/core; this file only does what it is told.
// The bundle is built from here (firmware/build.js) and must stay inside Espruino's subset: no spread,
// destructuring, default parameters, for (let ...) closures or class fields (see firmware/tools/subset.js).
//
// Everything is a function at module level, over one record for the running client: on a board, a function at
// module level stays in flash, while a closure keeps its scope, and everything that scope reaches, in RAM.

// Imported file by file, not through src/core/index.ts, so the bundle holds only the client half of the core.
import { isIpAddress } from '../../src/core/config';
import { Decision, Scheduler, SchedulerEvent } from '../../src/core/decisions';
import { DNS_RETRY_AFTER_FAILURE_S } from '../../src/core/policy';
import { CorrectedClock, createCorrectedClock, readCorrected } from '../../src/core/corrected-clock';
import type { handle } from '../../src/core/scheduler';
import { ntpFromUnixSeconds, NtpTimestamp } from '../../src/core/timestamp';
import type { ModelReading, prepare, Prepared } from './boot';
import { STATE_FILE } from './boot';
import type { FirmwareConfig } from './board-config';
import type { DgramSocket, EspruinoE, EspruinoModules, EspruinoWifi } from './espruino';

declare const E: EspruinoE;
declare const Modules: EspruinoModules;
declare function getTime(): number;
declare function setTime(unixS: number): void;
/** Replaced by the build with package.json's version. */
declare const KISSTIME_VERSION: string;

export const version = KISSTIME_VERSION;

export type { FirmwareConfig };

type Handler = (info: unknown) => void;

export interface Kisstime {
  on(event: 'sync' | 'kiss' | 'error', fn: Handler): Kisstime;
  /** Corrected Unix time in seconds (like getTime()), or null before the first sample. */
  now(): number | null;
  stop(): void;
}

/**
 * Espruino's resolver reports no TTL: an address is kept this long before the name is looked up again, the same as
 * the hourly retry after a failure.
 */
const ASSUMED_TTL_S = DNS_RETRY_AFTER_FAILURE_S;

/** The running client: one per board. */
interface Board {
  s: Scheduler;
  stepAboveS: number;
  lookup: EspruinoWifi['getHostByName'];
  handlers: { [event: string]: Handler[] };
  /**
   * getTime() at the scheduler's time 0 (start), moved by every step this adapter makes. Counted from start, the
   * scheduler's times are whole ms that fit 31 bits for 24 days of uptime, and a board keeps each in one variable
   * (an absolute time costs two).
   */
  origin: number;
  timer: unknown;
  socket: DgramSocket | null;
  /** The request the socket belongs to, its local send time, and the name being looked up. */
  id: number;
  t1: NtpTimestamp;
  host: string;
  /** The clock model after the last sample or as restored, for now() between events; null before one. */
  model: ModelReading | null;
  corrected: CorrectedClock;
}

let board: Board | null = null;

/** An event before feed() stamps it with the time. */
type Unstamped<E> = E extends unknown ? Omit<E, 'nowMs'> : never;

function monoMs(b: Board): number {
  return (getTime() - b.origin) * 1000;
}

/**
 * Each handler runs on a turn of its own, as Espruino's own emit() does: one that throws is reported by Espruino as
 * uncaught and cannot cut short the decisions being carried out.
 */
function emit(event: string, info: unknown): void {
  if (board) {
    (board.handlers[event] || []).forEach((fn) => {
      setTimeout(fn, 0, info);
    });
  }
}

function closeSocket(b: Board): void {
  if (b.socket) b.socket.close();
  b.socket = null;
}

/**
 * Runs one event through the scheduler (stamped with the time now) and carries out what it decides. The protocol
 * module is loaded for the event and let go of after it (firmware/src/protocol.ts).
 */
function feed(event: Unstamped<SchedulerEvent>): void {
  const b = board;
  if (!b) return;
  const stamped = event as SchedulerEvent;
  stamped.nowMs = monoMs(b);
  let decisions: Decision[];
  try {
    decisions = (require('kisstime-protocol') as { handle: typeof handle }).handle(b.s, stamped);
  } finally {
    Modules.removeCached('kisstime-protocol');
  }
  decisions.forEach((d) => {
    carryOut(b, d);
  });
}

/** Feeds an event on the next turn, so it never re-enters the scheduler while its decisions are carried out. */
function later(event: Unstamped<SchedulerEvent>): void {
  setTimeout(feed, 0, event);
}

function onMessage(msg: string, rinfo: { address: string; port: number }): void {
  // T4 first. rinfo's fields are quoted: the minified bundle shortens unquoted property names, and rinfo is Espruino's.
  const t4 = ntpFromUnixSeconds(getTime());
  const b = board;
  if (b) later({ type: 'reply', requestId: b.id, from: { address: rinfo['address'], port: rinfo['port'] }, bytes: E.toUint8Array(msg), t1: b.t1, t4: t4 });
}

function onSocketError(e: unknown): void {
  if (board) later({ type: 'send-error', requestId: board.id, detail: String(e) });
}

function onLookup(ip: string | undefined): void {
  const b = board;
  if (!b) return;
  // Some ports report a failed lookup as 0.0.0.0 rather than undefined.
  later(ip && isIpAddress(ip) && ip !== '0.0.0.0'
    ? { type: 'dns', host: b.host, addresses: [ip], ttlS: ASSUMED_TTL_S }
    : { type: 'dns-error', host: b.host, detail: 'lookup failed' });
}

function onWake(): void {
  if (board) {
    board.timer = null;
    feed({ type: 'tick' });
  }
}

function send(b: Board, d: Extract<Decision, { type: 'send' }>): void {
  closeSocket(b);
  const s: DgramSocket = require('dgram').createSocket('udp4');
  b.socket = s;
  b.id = d.requestId;
  s.on('message', onMessage);
  s.on('error', onSocketError);
  // T1 is read just before the packet leaves; the request itself carries only the random nonce.
  b.t1 = ntpFromUnixSeconds(getTime());
  try {
    s.send(E.toString(d.bytes), d.port, d.address);
  } catch (e) {
    onSocketError(e);
  }
}

function carryOut(b: Board, d: Decision): void {
  if (d.type === 'send') send(b, d);
  else if (d.type === 'settle') {
    if (d.requestId === b.id) closeSocket(b);
  } else if (d.type === 'resolve') {
    b.host = d.host;
    (b.lookup as NonNullable<EspruinoWifi['getHostByName']>)(d.host, onLookup);
  } else if (d.type === 'sample') {
    const stepS = Math.abs(d.clockOffsetS) > b.stepAboveS ? d.clockOffsetS : 0;
    if (stepS) {
      setTime(getTime() + stepS);
      b.origin += stepS;
      later({ type: 'clock-stepped', stepS: stepS });
    }
    // The model as of now, for now() between events: after a step the local clock carries the offset itself.
    b.model = { at: Math.round(monoMs(b)), offset: d.clockOffsetS - stepS, drift: d.driftPpm };
    const x = d.sample;
    // The keys of what handlers receive are quoted so that the minified bundle keeps them.
    emit('sync', {
      'offset': x.offsetS, 'delay': x.delayS, 'clockOffset': d.clockOffsetS, 'driftPpm': d.driftPpm, 'maxError': d.maxErrorS,
      'step': d.outcome === 'step', 'server': x.host, 'address': x.address, 'stratum': x.stratum, 'interval': d.intervalS, 'stepped': stepS,
    });
  } else if (d.type === 'kiss') {
    emit('kiss', { 'code': d.code, 'action': d.action, 'server': d.host, 'address': d.address, 'interval': d.intervalS });
  } else if (d.type === 'backoff') {
    const message = d.cause === 'timeout' ? 'no answer' : (d.cause === 'kiss' ? 'kiss ' : (d.cause === 'unusable' ? 'unusable: ' : '')) + d.detail;
    emit('error', { 'cause': d.cause, 'message': message, 'server': d.host, 'address': d.address, 'failures': d.failures, 'retryIn': (d.retryAtMs - monoMs(b)) / 1000 });
  } else if (d.type === 'stopped') {
    emit('error', { 'cause': 'stopped', 'message': 'all servers refused' });
  } else if (d.type === 'persist') {
    try {
      require('Storage').writeJSON(STATE_FILE, b.s.state);
    } catch (e) {
      emit('error', { 'cause': 'storage', 'message': String(e) });
    }
  } else if (d.type === 'wake') {
    // Only with an id: Espruino's clearTimeout() without one clears every timer on the board. A time already past
    // needs no Math.max(0, ...): Espruino raises a delay under its minimum to the minimum.
    if (b.timer) clearTimeout(b.timer as ReturnType<typeof setTimeout>);
    b.timer = d.atMs === null ? null : setTimeout(onWake, d.atMs - monoMs(b));
  }
  // reject, failover and deferred: nothing to do on a board.
}

function on(event: 'sync' | 'kiss' | 'error', fn: Handler): Kisstime {
  if (board) (board.handlers[event] = board.handlers[event] || []).push(fn);
  return api;
}

/** Corrected Unix time, s: the local clock plus the model's offset, slewed so that it never goes back (corrected-clock.ts). */
function now(): number | null {
  const b = board;
  const m = b && b.model;
  if (!b || !m) return null;
  const mono = monoMs(b);
  return readCorrected(b.corrected, mono, getTime() * 1000, m.offset + m.drift * (mono - m.at) / 1e9).ms / 1000;
}

function stop(): void {
  const b = board;
  if (!b) return;
  board = null;
  if (b.timer) clearTimeout(b.timer as ReturnType<typeof setTimeout>);
  closeSocket(b);
}

const api: Kisstime = { on: on, now: now, stop: stop };

export function start(input?: FirmwareConfig): Kisstime {
  let lookup: EspruinoWifi['getHostByName'];
  try {
    lookup = require('Wifi').getHostByName;
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Espruino may lack optional catch binding
  } catch (e) {
    // No Wifi module on this board: only IP addresses can be used.
  }
  let prepared: Prepared | null;
  try {
    prepared = (require('kisstime-boot') as { prepare: typeof prepare }).prepare(input, !!lookup);
  } finally {
    // Its functions would hold RAM for good; it is needed only here (firmware/src/boot.ts).
    Modules.removeCached('kisstime-boot');
  }
  if (!prepared) return api;
  stop();
  board = {
    s: prepared.s, stepAboveS: prepared.stepAboveS, lookup: lookup, handlers: {}, origin: prepared.origin, timer: null, socket: null, id: 0,
    t1: { s: 0, f: 0 }, host: '', model: prepared.model, corrected: createCorrectedClock(),
  };
  // Started on the next turn so that handlers attached with .on() right after start() see every event.
  later({ type: 'start' });
  return api;
}
