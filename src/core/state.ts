// The client's persisted state: one plain record per device, saved as it is (JSON) and checked field by field
// when read back. Property names are short because a board keeps this record in RAM, where a name of up to four
// characters costs no variable of its own, and writes it to flash on every save.
//
// Times are integer milliseconds on the scheduler's clock, with `t` the moment the record was last saved. The
// clock of the next boot starts elsewhere, so restoring shifts every time by (now - t - elapsed): with elapsed 0,
// a device assumes no time passed while it was off, and a reboot loop can never ask sooner than the saved state
// allows. A Node host knows the elapsed wall time and passes it.
//
// A board keeps a whole number under 2^31 in one variable, and any other number in two. Espruino's Math.min, max,
// floor and ceil return such another number even when the value is whole, so what they give passes through
// Math.round before the record (or the scheduler's run record) keeps it.

import { ClockModel, createModel, rebaseModel, restoreModel } from './clock-model';
import { ClientConfig, isIpAddress } from './config';
import { MAX_ADDRESSES_PER_SERVER, MAX_HOLDS } from './policy';
import { Fields, fieldsOf, isInt, isText, readList } from './saved-fields';

export const SCHEMA_VERSION = 3;

/**
 * "Never": a time so far back that every rule's "at least so long after it" has passed (the longest wait is the
 * maximum interval, 2^20 s plus jitter, about 1.2e9 ms), so "never" needs no special case. It is the most negative
 * whole number that a board keeps in one variable: a time that does not fit 32 bits costs it a second one. Any time
 * at or before it reads as never (files once held -1e15): no rule tells such times apart.
 */
export const NEVER = -2147483647;

/** One address of a server: everything politeness remembers about asking it. */
export interface AddressState {
  /** The address. */
  a: string;
  /** Poll interval, s. */
  iv: number;
  /** Floor set by RATE kisses, s; 0 until the server asks us to slow down. */
  rf: number;
  /** When the last request went to it, ms (NEVER if never). */
  sent: number;
  /** Consecutive failed polls. */
  fail: number;
  /** No request before this, ms: the silence backoff (NEVER when none). */
  wait: number;
}

/** One configured server: its name or address, and what its name resolved to. */
export interface ServerState {
  h: string;
  p: number;
  /** Its addresses: one for an IP, up to MAX_ADDRESSES_PER_SERVER from DNS (none until resolved). */
  ips: AddressState[];
  /** The resolved addresses are good until then, ms. */
  ttl: number;
  /** When the name was last resolved, ms (NEVER). */
  dnsa: number;
  /** When its lookup last failed, ms (NEVER). */
  dnse: number;
  /** 1 when a poll failed since the last lookup: the name is then worth a fresh look only hourly. */
  bad: number;
}

/** An address that refused us with DENY or RSTR: never asked again. */
export interface Hold {
  /** The configured server the address belonged to ('' if unknown, from schema 1). */
  h: string;
  a: string;
  p: number;
  /** The kiss code, DENY or RSTR. */
  c: string;
}

export interface ClientState {
  v: number;
  /** When the record was last saved, ms: the anchor that restoring shifts from. */
  t: number;
  hold: Hold[];
  srv: ServerState[];
  /** The clock model: offset, drift and error bound, learnt from the accepted samples (clock-model.ts). */
  m: ClockModel;
}

export type RestoreNote = 'none' | 'restored' | 'migrated' | 'corrupt' | 'unknown-schema';

const MAX_MS = 9e15;
const MAX_S = 1 << 30;

/** A time as saved: any whole ms, since one at or before NEVER reads as NEVER. */
function isTime(x: unknown): x is number {
  return isInt(x, -MAX_MS, MAX_MS);
}

/** A configured name, as opposed to an address (which is its own only address). */
export function isName(server: ServerState): boolean {
  return server.ips.length === 0 || server.ips[0].a !== server.h;
}

export function newAddress(address: string, intervalS: number): AddressState {
  return { a: address, iv: intervalS, rf: 0, sent: NEVER, fail: 0, wait: NEVER };
}

/** The state of a device that has never asked anyone: its configured servers, nothing remembered. */
export function freshState(config: ClientConfig, nowMs: number): ClientState {
  return {
    v: SCHEMA_VERSION,
    t: nowMs,
    hold: [],
    m: createModel(),
    srv: config.servers.map((spec): ServerState => ({
      h: spec.host,
      p: spec.port,
      // An address is its own only address; a name has none until it is resolved.
      ips: isIpAddress(spec.host) ? [newAddress(spec.host, config.minIntervalS)] : [],
      ttl: NEVER,
      dnsa: NEVER,
      dnse: NEVER,
      bad: 0,
    })),
  };
}

/** A saved address, or null if any field is missing or out of range. */
function readAddress(x: unknown): AddressState | null {
  const e = fieldsOf(x);
  return isText(e.a, 64) && isInt(e.iv, 0, MAX_S) && isInt(e.rf, 0, MAX_S) && isTime(e.sent) && isInt(e.fail, 0, 1000000)
    && isTime(e.wait)
    ? { a: e.a, iv: e.iv, rf: e.rf, sent: e.sent, fail: e.fail, wait: e.wait }
    : null;
}

function readHold(x: unknown): Hold | null {
  const e = fieldsOf(x);
  return isText(e.h, 255) && isText(e.a, 64) && isInt(e.p, 1, 65535) && isText(e.c, 4) ? { h: e.h, a: e.a, p: e.p, c: e.c } : null;
}

/**
 * Schema 2 kept ages in seconds at the moment of saving, and one failure count and backoff for the whole client.
 * It becomes schema 3 as of that moment (t = 0): the shared failures and backoff go to every address, which is
 * the polite reading of them.
 */
function fromSchema2(r: Fields): Fields {
  const f = r.f;
  const w = r.w;
  const ago = (z: unknown): unknown => (z === -1 ? NEVER : (isInt(z, 0, MAX_S) ? -z * 1000 : z));
  const slots = r.slots;
  return {
    // A head out of range, or slots that are no list, make the whole record corrupt, as they did in schema 2.
    v: SCHEMA_VERSION, t: isInt(f, 0, 1000000) && isInt(w, 0, MAX_S) && isInt(r.z, -1, MAX_S) ? 0 : NaN, hold: r.holds,
    srv: !Array.isArray(slots) ? slots : slots.map((x: unknown) => {
      const e = fieldsOf(x);
      return {
        h: e.h, p: e.p, ttl: NEVER, dnsa: NEVER, dnse: NEVER, bad: 0,
        ips: [{ a: e.a, iv: e.i, rf: e.r, sent: ago(e.z), fail: f, wait: isInt(w, 1, MAX_S) ? w * 1000 : NEVER }],
      };
    }),
  };
}

/** Schema 1 kept holds as "address|port|code" strings; they survive, naming no server. */
function fromSchema1(r: Fields): Fields {
  const held = r['held'];
  return {
    v: SCHEMA_VERSION, t: 0, srv: [],
    hold: Array.isArray(held) ? held.map((x: unknown) => {
      const parts = typeof x === 'string' ? x.split('|') : [];
      return { h: '', a: parts[0], p: +parts[1] || 123, c: parts[2] };
    }).filter((h) => readHold(h)) : [],
  };
}

/** Every time in the record moved by shiftMs, to the whole ms (the record holds integers); none goes before NEVER. */
function shiftTimes(state: ClientState, shiftMs: number): void {
  const whole = Math.round(shiftMs);
  const move = (ms: number): number => (ms > NEVER && ms + whole > NEVER ? ms + whole : NEVER);
  state.t = move(state.t);
  rebaseModel(state.m, whole);
  state.srv.forEach((server) => {
    server.ttl = move(server.ttl);
    server.dnsa = move(server.dnsa);
    server.dnse = move(server.dnse);
    server.ips.forEach((ip) => {
      ip.sent = move(ip.sent);
      ip.wait = move(ip.wait);
    });
  });
}

/**
 * What was saved, checked field by field and brought to this schema, with its times still on the saving clock (t
 * the moment of saving), or null and why not. Never throws, whatever the value.
 */
export function readSavedState(raw: unknown): { saved: ClientState | null; note: RestoreNote } {
  if (raw == null) return { saved: null, note: 'none' };
  let r = fieldsOf(raw);
  const v = r.v;
  if (v === 1) r = fromSchema1(r);
  else if (v === 2) r = fromSchema2(r);
  else if (v !== SCHEMA_VERSION) return { saved: null, note: typeof raw === 'object' ? 'unknown-schema' : 'corrupt' };
  const servers = readList(r.srv, (x) => {
    const e = fieldsOf(x);
    const ips = readList(e.ips, readAddress, MAX_ADDRESSES_PER_SERVER);
    return isText(e.h, 255) && isInt(e.p, 1, 65535) && ips && isTime(e.ttl) && isTime(e.dnsa)
      && isTime(e.dnse) && (e.bad === 0 || e.bad === 1)
      ? { h: e.h, p: e.p, ips: ips, ttl: e.ttl, dnsa: e.dnsa, dnse: e.dnse, bad: e.bad }
      : null;
  }, 64);
  const holds = readList(r.hold, readHold, MAX_HOLDS);
  // Schemas 1 and 2 had no model: a fresh one. A model that is there but not readable makes the record corrupt.
  const model = r.m === undefined ? createModel() : restoreModel(r.m);
  if (!servers || !holds || !model || !isTime(r.t)) return { saved: null, note: 'corrupt' };
  // Schema 2 saved one entry per address: they gather under their server.
  const srv: ServerState[] = [];
  servers.forEach((server) => {
    const same = srv.filter((other) => other.h === server.h && other.p === server.p)[0];
    if (same) same.ips = same.ips.concat(server.ips).filter((_ip, i) => i < MAX_ADDRESSES_PER_SERVER);
    else srv.push(server);
  });
  const saved: ClientState = { v: SCHEMA_VERSION, t: r.t, hold: holds, srv: srv, m: model };
  // Not moved, but times at or before NEVER (old files held -1e15) become NEVER.
  shiftTimes(saved, 0);
  return { saved: saved, note: v === SCHEMA_VERSION ? 'restored' : 'migrated' };
}

/**
 * The state to start from: the fresh state for this config, with what was saved about its servers put back.
 * Anything unreadable gives the fresh state and says why, and the scheduler then starts politely from scratch
 * (startup delay, minimum interval). elapsedMs is how long the device is known to have been off.
 */
export function restoreState(raw: unknown, config: ClientConfig, atMs: number, elapsedMs: number): { state: ClientState; note: RestoreNote } {
  const nowMs = Math.round(atMs);
  const state = freshState(config, nowMs);
  const read = readSavedState(raw);
  const saved = read.saved;
  if (!saved) return { state: state, note: read.note };
  // What was saved about servers no longer configured is dropped; holds that name no server ('') are kept.
  state.hold = saved.hold.filter((h) => h.h === '' || state.srv.some((server) => server.h === h.h));
  state.m = saved.m;
  state.srv = state.srv.map((server) => {
    const old = saved.srv.filter((o) => o.h === server.h && o.p === server.p)[0];
    if (!old) return server;
    // An IP server keeps only what was saved about that IP.
    if (!isName(server)) old.ips = old.ips.filter((ip) => ip.a === server.h).concat(server.ips).filter((_ip, i) => i < 1);
    old.ips.forEach((ip) => {
      ip.rf = Math.round(Math.min(ip.rf, config.maxIntervalS));
      ip.iv = Math.round(Math.min(Math.max(ip.iv, config.minIntervalS, ip.rf), config.maxIntervalS));
    });
    return old;
  });
  shiftTimes(state, nowMs - saved.t - elapsedMs);
  state.t = nowMs;
  return { state: state, note: read.note };
}

/** A copy that shares nothing with the original: what a save keeps while the scheduler goes on. */
export function copyState(state: ClientState): ClientState {
  const m = state.m;
  return {
    v: state.v,
    t: state.t,
    m: { n: m.n, t: m.t.concat([]), o: m.o.concat([]), e: m.e.concat([]), a: m.a, b: m.b, s: m.s, f: m.f, k: m.k, u: m.u, v: m.v, w: m.w, x: m.x },
    hold: state.hold.map((h) => ({ h: h.h, a: h.a, p: h.p, c: h.c })),
    srv: state.srv.map((server) => ({
      h: server.h, p: server.p, ttl: server.ttl, dnsa: server.dnsa, dnse: server.dnse, bad: server.bad,
      ips: server.ips.map((ip) => ({ a: ip.a, iv: ip.iv, rf: ip.rf, sent: ip.sent, fail: ip.fail, wait: ip.wait })),
    })),
  };
}

/** The same state as seen from a clock shifted by shiftMs (another process's clock, for merging saved files). */
export function shiftedState(state: ClientState, shiftMs: number): ClientState {
  const copy = copyState(state);
  shiftTimes(copy, shiftMs);
  return copy;
}
