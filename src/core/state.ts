// The persisted snapshot: small, versioned, integers only (Espruino prints floats with limited digits).
// Durations are stored relative to the moment of saving: on restore the device assumes no time passed while
// it was off, so a reboot loop can never ask sooner than the saved state allows.

import { ServerSpec } from './config';
import { MAX_HOLDS } from './policy';

export const SCHEMA_VERSION = 2;

export interface Hold {
  /** The configured server name the address belonged to ('' if unknown, from schema 1). */
  h: string;
  a: string;
  p: number;
  /** The kiss code, DENY or RSTR. */
  c: string;
}

export interface SlotState {
  h: string;
  a: string;
  p: number;
  /** Adaptive poll interval, s. */
  i: number;
  /** Floor imposed by RATE kisses, s (0 = none). */
  r: number;
  /** Seconds since the last request to this address when saved, -1 if never. */
  z: number;
}

export interface LastSample {
  /** Offset and delay in microseconds. */
  o: number;
  d: number;
  s: number;
  h: string;
}

export interface StateSnapshot {
  v: number;
  /** Consecutive unanswered polls. */
  f: number;
  /** Seconds left of the silence backoff when saved. */
  w: number;
  /** Seconds since the last request to any server when saved, -1 if never. */
  z: number;
  holds: Hold[];
  slots: SlotState[];
  last: LastSample | null;
}

export type RestoreResult = { snapshot: StateSnapshot; note: string } | { snapshot: null; note: string };

type Fields = { [field: string]: unknown };

/** True in the firmware build only (firmware/build.js), whose snapshots carry no last sample. */
declare const KISSTIME_FIRMWARE: boolean;

const MAX_SECONDS = 1 << 30;
// Shared rather than repeated: the minifier keeps every array literal it is given.
const PORT = [1, 65535];
const SECONDS = [0, MAX_SECONDS];
const SINCE = [-1, MAX_SECONDS];

/** Per field: [min, max] of an integer, or the longest allowed length of a text. */
type Shape = { [field: string]: number[] | number };
const HEAD: Shape = { f: [0, 1000000], w: SECONDS, z: SINCE };
const HOLD: Shape = { h: 255, a: 64, p: PORT, c: 4 };
const SLOT: Shape = { h: 255, a: 64, p: PORT, i: SECONDS, r: SECONDS, z: SINCE };
const LAST: Shape = { o: [-MAX_SECONDS * 1024, MAX_SECONDS * 1024], d: [-MAX_SECONDS, MAX_SECONDS], s: [0, 16], h: 255 };

function fits(x: unknown, limit: number[] | number): boolean {
  return typeof limit === 'number'
    ? typeof x === 'string' && x.length <= limit
    : typeof x === 'number' && x % 1 === 0 && x >= limit[0] && x <= limit[1];
}

/** A copy holding only the shape's fields, or null if any is missing or out of range. */
function checked<T>(v: unknown, shape: Shape): T | null {
  const out: Fields = {};
  for (var field in shape) {
    // Any value may arrive here: || {} turns null, undefined, 0 and '' into something that has no fields.
    const x = ((v || {}) as Fields)[field];
    if (!fits(x, shape[field])) return null;
    out[field] = x;
  }
  return out as T;
}

/**
 * The first max entries, each checked (one bad entry makes the whole list, and so the snapshot, corrupt),
 * without those whose server is not in hosts.
 */
function entries<T extends { h: string }>(list: unknown, shape: Shape, max: number, hosts: string[]): T[] | null {
  if (!Array.isArray(list)) return null;
  const out: T[] = [];
  for (var i = 0; i < list.length && i < max; i++) {
    const e = checked<T>(list[i], shape);
    if (!e) return null;
    if (hosts.indexOf(e.h) >= 0) out.push(e);
  }
  return out;
}

/**
 * Schema 1 kept holds as "address|port|code" strings and one global interval. It becomes schema 2 fields that
 * then pass the same checks; an entry that makes no valid hold is skipped rather than spoiling the others.
 */
function fromV1(raw: Fields): Fields {
  const held = raw.held;
  const holds: Fields[] = [];
  if (!Array.isArray(held)) return {};
  for (var i = 0; i < held.length; i++) {
    const parts = typeof held[i] === 'string' ? held[i].split('|') : [];
    const hold = parts.length === 3 && checked<Fields>({ h: '', a: parts[0], p: parseInt(parts[1], 10) || 123, c: parts[2] }, HOLD);
    if (hold) holds.push(hold);
  }
  return { f: fits(raw.failures, [0, 1000]) ? raw.failures : 0, w: 0, z: -1, holds: holds, slots: [] };
}

/**
 * Reads whatever was stored. Never throws: an unknown or corrupt snapshot gives null and a note, and the
 * scheduler then starts politely from scratch (startup delay, minimum interval).
 */
export function restoreSnapshot(raw: unknown, servers: ServerSpec[]): RestoreResult {
  let r = raw as Fields;
  let s: StateSnapshot | null = null;
  let note = 'no saved state';
  if (r != null) {
    const v1 = r.v === 1;
    if (v1) r = fromV1(r);
    note = 'has unknown schema';
    if (v1 || r.v === SCHEMA_VERSION) {
      const hosts = servers.map((server) => server.host);
      const head = checked<StateSnapshot>(r, HEAD);
      // Holds and intervals for servers no longer configured are dropped; holds from schema 1 name no server ('').
      const holds = entries<Hold>(r.holds, HOLD, MAX_HOLDS, hosts.concat(''));
      const slots = entries<SlotState>(r.slots, SLOT, 64, hosts);
      note = 'is corrupt';
      if (head && holds && slots) {
        s = head;
        s.v = SCHEMA_VERSION;
        s.holds = holds;
        s.slots = slots;
        s.last = typeof KISSTIME_FIRMWARE === 'undefined' ? checked<LastSample>(r.last, LAST) : null;
        note = v1 ? 'migrated from schema 1' : 'restored';
      }
    }
    note = 'saved state ' + note;
  }
  return { snapshot: s, note: note } as RestoreResult;
}
