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

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && v === Math.floor(v) && v >= min && v <= max;
}

function isList(v: unknown): boolean {
  return !!v && typeof (v as unknown[]).length === 'number';
}

const MAX_SECONDS = 1 << 30;

/** Per field: [min, max] for an integer, [max length] for a text. */
type Shape = { [field: string]: number[] };
const HOLD: Shape = { h: [255], a: [64], p: [1, 65535], c: [4] };
const SLOT: Shape = { h: [255], a: [64], p: [1, 65535], i: [0, MAX_SECONDS], r: [0, MAX_SECONDS], z: [-1, MAX_SECONDS] };
const LAST: Shape = { o: [-MAX_SECONDS * 1024, MAX_SECONDS * 1024], d: [-MAX_SECONDS, MAX_SECONDS], s: [0, 16], h: [255] };

/** A copy holding only the shape's fields, or null if any is missing or out of range. */
function checked<T>(v: unknown, shape: Shape): T | null {
  if (!v || typeof v !== 'object') return null;
  const out: { [field: string]: unknown } = {};
  for (var field in shape) {
    const x = (v as { [field: string]: unknown })[field];
    const limits = shape[field];
    if (limits.length === 1 ? !(typeof x === 'string' && x.length <= limits[0]) : !isInt(x, limits[0], limits[1])) return null;
    out[field] = x;
  }
  return out as T;
}

function isConfigured(host: string, servers: ServerSpec[]): boolean {
  for (var i = 0; i < servers.length; i++) {
    if (servers[i].host === host) return true;
  }
  return false;
}

/** Schema 1 kept holds as "address|port|code" strings and one global interval. */
function migrateFromV1(raw: { [k: string]: unknown }): StateSnapshot | null {
  const held = raw.held as unknown[];
  if (!isList(held)) return null;
  const holds: Hold[] = [];
  for (var i = 0; i < held.length && holds.length < MAX_HOLDS; i++) {
    const parts = String(held[i]).split('|');
    if (parts.length !== 3) continue;
    holds.push({ h: '', a: parts[0], p: parseInt(parts[1], 10) || 123, c: parts[2] });
  }
  const failures = isInt(raw.failures, 0, 1000) ? raw.failures as number : 0;
  return { v: SCHEMA_VERSION, f: failures, w: 0, z: -1, holds: holds, slots: [], last: null };
}

/**
 * Reads whatever was stored. Never throws: an unknown or corrupt snapshot gives null and a note, and the
 * scheduler then starts politely from scratch (startup delay, minimum interval).
 */
export function restoreSnapshot(raw: unknown, servers: ServerSpec[]): RestoreResult {
  let note = 'no saved state';
  const r = raw as { [k: string]: unknown };
  let s: StateSnapshot | null = null;
  if (raw !== null && raw !== undefined) {
    note = 'saved state is not an object';
    if (typeof raw === 'object') {
      note = 'saved state is corrupt';
      if (r.v === 1) {
        s = migrateFromV1(r);
        note = s ? 'saved state migrated from schema 1' : 'saved state (schema 1) is corrupt';
      } else if (r.v !== SCHEMA_VERSION) {
        note = 'saved state has unknown schema ' + JSON.stringify(r.v);
      } else if (isInt(r.f, 0, 1000000) && isInt(r.w, 0, MAX_SECONDS) && isInt(r.z, -1, MAX_SECONDS) && isList(r.holds) && isList(r.slots)) {
        s = { v: SCHEMA_VERSION, f: r.f as number, w: r.w as number, z: r.z as number, holds: [], slots: [], last: checked<LastSample>(r.last, LAST) };
        const holds = r.holds as unknown[];
        for (var i = 0; i < holds.length && s && s.holds.length < MAX_HOLDS; i++) {
          const h = checked<Hold>(holds[i], HOLD);
          if (h) s.holds.push(h);
          else s = null;
        }
        const slots = r.slots as unknown[];
        for (var j = 0; j < slots.length && s && j < 64; j++) {
          const sl = checked<SlotState>(slots[j], SLOT);
          if (sl) s.slots.push(sl);
          else s = null;
        }
        note = s ? 'saved state restored' : 'saved state has a corrupt hold or server entry';
      }
    }
  }
  if (!s) return { snapshot: null, note: note };
  // Holds and intervals for servers no longer configured are dropped; those still configured survive.
  const keptHolds: Hold[] = [];
  for (var k = 0; k < s.holds.length; k++) {
    if (s.holds[k].h === '' || isConfigured(s.holds[k].h, servers)) keptHolds.push(s.holds[k]);
  }
  const keptSlots: SlotState[] = [];
  for (var m = 0; m < s.slots.length; m++) {
    if (isConfigured(s.slots[m].h, servers)) keptSlots.push(s.slots[m]);
  }
  s.holds = keptHolds;
  s.slots = keptSlots;
  return { snapshot: s, note: note };
}
