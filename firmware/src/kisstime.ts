// Kisstime on Espruino: carries out the core scheduler's decisions with Espruino's dgram, Wifi, Storage and
// clock. Every protocol, polling and kiss decision stays in src/core; this file only does what it is told.
// The bundle is built from here (firmware/build.js) and must stay inside Espruino's subset: no spread,
// destructuring, default parameters, for (let ...) closures or class fields (see firmware/tools/subset.js).

// Imported file by file, not through src/core/index.ts, so the bundle holds only the client half of the core.

import { checkClientConfig, ClientConfigInput, isIpAddress } from '../../src/core/config';
import { DNS_RETRY_AFTER_FAILURE_S } from '../../src/core/policy';
import {
  Decision, ON_CLOCK_STEPPED, ON_DNS, ON_DNS_ERROR, ON_REPLY, ON_SEND_ERROR, ON_START, ON_TICK, Scheduler, SchedulerEvent,
} from '../../src/core/scheduler';
import { ntpFromUnixSeconds } from '../../src/core/timestamp';
import { stepThresholdS } from './set-clock';
import type { DgramSocket, EspruinoE, EspruinoStorage, EspruinoWifi } from './espruino';

declare const E: EspruinoE;
declare function getTime(): number;
declare function setTime(unixS: number): void;
declare function getSerial(): string;
/** Replaced by the build with package.json's version. */
declare const KISSTIME_VERSION: string;

export const version = KISSTIME_VERSION;

export interface FirmwareConfig extends ClientConfigInput {
  /**
   * Step the clock with setTime when |offset| is over this many seconds; true means 1 s. Like every duration on a
   * board, a number: a duration text ("2s") is refused (firmware/README.md).
   */
  setClock?: boolean | number | string;
}

type Handler = (info: unknown) => void;

/** What carries out one type of decision. */
type Carry<T> = (d: Extract<Decision, { type: T }>) => void;

export interface Kisstime {
  on(event: 'sync' | 'kiss' | 'error', fn: Handler): Kisstime;
  /** Corrected Unix time in seconds (like getTime()), or null before the first sample. */
  now(): number | null;
  stop(): void;
}

const STATE_FILE = 'kisstime.state';
const CONFIG_FILE = 'kisstime.cfg';
/**
 * Espruino's resolver reports no TTL: an address is kept this long before the name is looked up again. The core's
 * firmware build counts on it being the hourly retry after a failure (src/core/scheduler.ts, resolveAllowedAtMs).
 */
const ASSUMED_TTL_S = DNS_RETRY_AFTER_FAILURE_S;

/** An event before later() stamps it with the time. */
type Unstamped<E> = E extends unknown ? Omit<E, 'nowMs'> : never;

function copyInto(from: unknown, to: object): void {
  if (from && typeof from === 'object') {
    for (var key in from) (to as { [key: string]: unknown })[key] = (from as { [key: string]: unknown })[key];
  }
}

export function start(input?: FirmwareConfig): Kisstime {
  const storage: EspruinoStorage = require('Storage');
  // A fleet operator's kisstime.cfg wins over the config in code, so servers change without reflashing.
  const raw: FirmwareConfig = {};
  copyInto(input, raw);
  copyInto(storage.readJSON(CONFIG_FILE, true), raw);
  const config = checkClientConfig(raw);
  const stepAboveS = stepThresholdS(raw.setClock);

  let lookup: EspruinoWifi['getHostByName'];
  try {
    lookup = require('Wifi').getHostByName;
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Espruino may lack optional catch binding
  } catch (e) {
    // No Wifi module on this board: only IP addresses can be used.
  }
  if (!lookup) {
    config.servers.forEach((server, i) => {
      // A name must never reach dgram.send: a failed lookup in there becomes a broadcast on ESP8266.
      if (!isIpAddress(server.host)) throw new Error('servers[' + i + ']: no Wifi here: use an IP address');
    });
    console.log('kisstime: IP addresses only');
  }

  // Espruino's generator starts from the same seed on every board: without this, a fleet that loses power
  // together would draw the same startup delay and poll in step.
  // ^ truncates the milliseconds to an integer; % keeps them in range for Espruino's conversion.
  E.srand(E.CRC32(getSerial()) ^ getTime() * 1000 % 2147483647 ^ E.hwRand());

  // No monotonic clock on Espruino: the scheduler runs on getTime() minus the steps this adapter applied.
  let steppedS = 0;
  const monoMs = (): number => {
    return (getTime() - steppedS) * 1000;
  };
  const scheduler = new Scheduler(config, Math.random, storage.readJSON(STATE_FILE, true));
  const handlers: { [event: string]: Handler[] } = {};
  let timer: unknown;
  let socket: DgramSocket | null | undefined;
  let alive = true;

  /**
   * Each handler runs on a turn of its own, as Espruino's own emit() does: one that throws is reported by Espruino
   * as uncaught and cannot cut short the decisions being carried out.
   */
  const emit = (event: string, info: unknown): void => {
    (handlers[event] || []).forEach((fn) => {
      setTimeout(fn, 0, info);
    });
  };

  const closeSocket = (): void => {
    if (socket) socket.close();
    socket = null;
  };

  /** Feeds an event on the next turn, so it never re-enters the scheduler while its decisions are carried out. */
  const later = (event: Unstamped<SchedulerEvent>): void => {
    setTimeout(() => {
      (event as SchedulerEvent).nowMs = monoMs();
      // Each decision is carried out by the entry of carry (below) for its type.
      if (alive) {
        scheduler.handle(event as SchedulerEvent).forEach((d) => {
          (carry[d.type as unknown as number] as (d: Decision) => void)(d);
        });
      }
    }, 0);
  };

  /**
   * What to do with each kind of decision, indexed by its type: every type the firmware build of the scheduler
   * makes (its reject, failover and deferred decisions are Node's), which on the board is the number DO_SEND ...
   * DO_WAKE in src/core/scheduler.ts, in this order. The keys of what handlers receive are quoted so that the
   * minified bundle keeps them.
   */
  const carry: [Carry<'send'>, Carry<'resolve'>, Carry<'sample'>, Carry<'kiss'>, Carry<'backoff'>, Carry<'stopped'>, Carry<'persist'>, Carry<'wake'>] = [
    // A closed socket reports nothing more, and the scheduler matches replies and errors by requestId.
    // DO_SEND
    (d) => {
      closeSocket();
      const s: DgramSocket = require('dgram').createSocket('udp4');
      const id = d.requestId;
      const failed = (e: unknown): void => {
        later({ type: ON_SEND_ERROR, requestId: id, message: String(e) });
      };
      socket = s;
      s.on('message', (msg, rinfo) => {
        // T4 first: the literal is evaluated in order. rinfo's fields are quoted: the minified bundle shortens
        // unquoted property names, and rinfo is Espruino's.
        later({ t4: ntpFromUnixSeconds(getTime()), type: ON_REPLY, requestId: id, from: { address: rinfo['address'], port: rinfo['port'] }, bytes: E.toUint8Array(msg), t1: t1 });
      });
      s.on('error', failed);
      // T1 is read just before the packet leaves; the request itself carries only the random nonce.
      const t1 = ntpFromUnixSeconds(getTime());
      try {
        s.send(E.toString(d.bytes), d.port, d.address);
      } catch (e) {
        failed(e);
      }
    },
    // DO_RESOLVE
    (d) => {
      (lookup as NonNullable<EspruinoWifi['getHostByName']>)(d.host, (ip) => {
        // Some ports report a failed lookup as 0.0.0.0 rather than undefined.
        later(ip && isIpAddress(ip) && ip !== '0.0.0.0' ? { type: ON_DNS, host: d.host, addresses: [ip], ttlS: ASSUMED_TTL_S } : { type: ON_DNS_ERROR, host: d.host, message: 'lookup failed' });
      });
    },
    // DO_SAMPLE
    (d) => {
      closeSocket();
      const stepS = Math.abs(d.offsetS) > stepAboveS ? d.offsetS : 0;
      if (stepS) {
        setTime(getTime() + stepS);
        steppedS += stepS;
        later({ type: ON_CLOCK_STEPPED, stepS: stepS });
      }
      emit('sync', { 'offset': d.offsetS, 'measured': d.sample.offsetS, 'delay': d.delayS, 'server': d.sample.host, 'address': d.sample.address, 'stratum': d.sample.stratum, 'interval': d.intervalS, 'stepped': stepS });
    },
    // DO_KISS
    (d) => {
      if (d.action !== 'ignore') closeSocket();
      emit('kiss', { 'code': d.code, 'action': d.action, 'server': d.host, 'address': d.address, 'interval': d.intervalS });
    },
    // DO_BACKOFF
    (d) => {
      closeSocket();
      emit('error', { 'cause': d.cause, 'message': d.message, 'server': d.host, 'address': d.address, 'failures': d.failures, 'retryIn': d.retryInS });
    },
    // DO_STOPPED
    (d) => {
      emit('error', { 'cause': 'stopped', 'message': d.reason });
    },
    // DO_PERSIST
    (d) => {
      try {
        storage.writeJSON(STATE_FILE, d.snapshot);
      } catch (e) {
        emit('error', { 'cause': 'storage', 'message': String(e) });
      }
    },
    // DO_WAKE. A time already past needs no Math.max(0, ...): Espruino raises a delay under its minimum to the minimum.
    (d) => {
      if (timer) clearTimeout(timer as ReturnType<typeof setTimeout>);
      timer = d.atMs === null ? null : setTimeout(() => {
        timer = null;
        later({ type: ON_TICK });
      }, d.atMs - monoMs());
    },
  ];

  const k: Kisstime = {
    on: (event, fn) => {
      (handlers[event] = handlers[event] || []).push(fn);
      return k;
    },
    now: () => {
      const offsetS = scheduler.offsetS(monoMs());
      return offsetS === null ? null : getTime() + offsetS;
    },
    stop: () => {
      alive = false;
      // Only with an id: Espruino's clearTimeout() without one clears every timer on the board.
      if (timer) clearTimeout(timer as ReturnType<typeof setTimeout>);
      closeSocket();
    },
  };
  console.log('kisstime: ' + scheduler.restoreNote);
  // Started on the next turn so that handlers attached with .on() right after start() see every event.
  later({ type: ON_START });
  return k;
}
