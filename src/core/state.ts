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

const MAX_SECONDS = 1 << 30;
const SECONDS = [0, MAX_SECONDS];
const SINCE = [-1, MAX_SECONDS];

/**
 * Per field, the [min, max] of an integer or the longest allowed length of a text. Every field of the snapshot's
 * head and entries is one letter and means the same wherever it appears, so one table serves every shape, and a
 * shape is just its fields' letters.
 */
const LIMITS: { [field: string]: number[] | number } = { f: [0, 1000000], w: SECONDS, z: SINCE, h: 255, a: 64, p: [1, 65535], c: 4, i: SECONDS, r: SECONDS };
if (typeof KISSTIME_FIRMWARE === 'undefined') {
  LIMITS.o = [-MAX_SECONDS * 1024, MAX_SECONDS * 1024];
  LIMITS.d = [-MAX_SECONDS, MAX_SECONDS];
  LIMITS.s = [0, 16];
}

/** A copy holding only the fields named (one letter each), or null if any is missing or out of range. */
function checked<T>(v: unknown, fields: string): T | null {
  const out: Fields = {};
  for (var i = 0; i < fields.length; i++) {
    const field = fields[i];
    const limit = LIMITS[field];
    // Any value may arrive here: || {} turns null, undefined, 0 and '' into something that has no fields.
    const x = ((v || {}) as Fields)[field];
    // A range has a length; a text's limit, a number, has none.
    if (!((limit as number[]).length
      ? typeof x === 'number' && x % 1 === 0 && x >= (limit as number[])[0] && x <= (limit as number[])[1]
      : typeof x === 'string' && x.length <= (limit as number))) return null;
    out[field] = x;
  }
  return out as T;
}

/**
 * The first max entries, each checked, without those whose server is not in hosts. One bad entry makes the whole
 * list, and so the snapshot, corrupt; unless lenient, when it is skipped.
 */
function entries<T extends { h: string }>(list: unknown, fields: string, max: number, hosts: string[], lenient?: boolean): T[] | null {
  if (!Array.isArray(list)) return null;
  const out: T[] = [];
  for (var i = 0; i < list.length && i < max; i++) {
    const e = checked<T>(list[i], fields);
    if (!e) {
      if (!lenient) return null;
    } else if (hosts.indexOf(e.h) >= 0) out.push(e);
  }
  return out;
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
    if (v1) {
      // Schema 1 kept holds as "address|port|code" strings, failures, and one global interval. It becomes schema 2
      // fields that then pass the same checks, leniently: an entry that makes no valid hold is skipped rather than
      // spoiling the others, and failures out of range count as none. Nothing unknown is turned into a string or a
      // number here: an object whose toString or valueOf is not a function would throw.
      // Quoted, as names from the file: the firmware build shortens unquoted names ('failures' is one of ours too).
      const failures = r['failures'];
      const held = r['held'];
      r = {
        f: checked({ f: failures }, 'f') ? failures : 0, w: 0, z: -1, slots: [],
        holds: Array.isArray(held) ? held.map((x) => {
          const parts = typeof x === 'string' ? x.split('|') : [];
          return { h: '', a: parts[0], p: +parts[1] || 123, c: parts[2] };
        }) : 0,
      };
    }
    note = 'has unknown schema';
    if (v1 || r.v === SCHEMA_VERSION) {
      const hosts = servers.map((server) => server.host);
      const head = checked<StateSnapshot>(r, 'fwz');
      // Holds and intervals for servers no longer configured are dropped; holds from schema 1 name no server ('').
      const holds = entries<Hold>(r.holds, 'hapc', MAX_HOLDS, hosts.concat(''), v1);
      const slots = entries<SlotState>(r.slots, 'hapirz', 64, hosts);
      note = 'is corrupt';
      if (head && holds && slots) {
        s = head;
        s.v = SCHEMA_VERSION;
        s.holds = holds;
        s.slots = slots;
        // The board neither saves a last sample nor reads one back, so its restored snapshot leaves the field out.
        if (typeof KISSTIME_FIRMWARE === 'undefined') s.last = checked<LastSample>(r.last, 'odsh');
        note = v1 ? 'migrated from schema 1' : 'restored';
      }
    }
    note = 'saved state ' + note;
  }
  return { snapshot: s, note: note } as RestoreResult;
}
