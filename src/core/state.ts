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

function isText(v: unknown, maxLength: number): boolean {
  return typeof v === 'string' && v.length <= maxLength;
}

function isConfigured(host: string, servers: ServerSpec[]): boolean {
  for (var i = 0; i < servers.length; i++) {
    if (servers[i].host === host) return true;
  }
  return false;
}

/** Schema 1 kept holds as "address|port|code" strings and one global interval. */
function migrateFromV1(raw: { [k: string]: unknown }): StateSnapshot | null {
  const held = raw.held;
  if (!held || typeof (held as unknown[]).length !== 'number') return null;
  const holds: Hold[] = [];
  for (var i = 0; i < (held as unknown[]).length && holds.length < MAX_HOLDS; i++) {
    const parts = String((held as unknown[])[i]).split('|');
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
  if (raw === null || raw === undefined) return { snapshot: null, note: 'no saved state' };
  if (typeof raw !== 'object') return { snapshot: null, note: 'saved state is not an object' };
  const r = raw as { [k: string]: unknown };
  let s: StateSnapshot | null = null;
  if (r.v === 1) {
    s = migrateFromV1(r);
    if (!s) return { snapshot: null, note: 'saved state (schema 1) is corrupt' };
  } else if (r.v === SCHEMA_VERSION) {
    if (!isInt(r.f, 0, 1000000) || !isInt(r.w, 0, 1 << 30) || !isInt(r.z, -1, 1 << 30)) return { snapshot: null, note: 'saved state is corrupt' };
    if (!r.holds || typeof (r.holds as unknown[]).length !== 'number' || !r.slots || typeof (r.slots as unknown[]).length !== 'number') {
      return { snapshot: null, note: 'saved state is corrupt' };
    }
    s = { v: SCHEMA_VERSION, f: r.f as number, w: r.w as number, z: r.z as number, holds: [], slots: [], last: null };
    const holds = r.holds as unknown[];
    for (var i = 0; i < holds.length && s.holds.length < MAX_HOLDS; i++) {
      const h = holds[i] as Hold;
      if (!h || !isText(h.h, 255) || !isText(h.a, 64) || !isInt(h.p, 1, 65535) || !isText(h.c, 4)) return { snapshot: null, note: 'saved state has a corrupt hold' };
      s.holds.push({ h: h.h, a: h.a, p: h.p, c: h.c });
    }
    const slots = r.slots as unknown[];
    for (var j = 0; j < slots.length && j < 64; j++) {
      const sl = slots[j] as SlotState;
      if (!sl || !isText(sl.h, 255) || !isText(sl.a, 64) || !isInt(sl.p, 1, 65535) || !isInt(sl.i, 0, 1 << 30) || !isInt(sl.r, 0, 1 << 30) || !isInt(sl.z, -1, 1 << 30)) {
        return { snapshot: null, note: 'saved state has a corrupt server entry' };
      }
      s.slots.push({ h: sl.h, a: sl.a, p: sl.p, i: sl.i, r: sl.r, z: sl.z });
    }
    const last = r.last as LastSample | null;
    if (last && isInt(last.o, -(1 << 30) * 1024, (1 << 30) * 1024) && isInt(last.d, -(1 << 30), 1 << 30) && isInt(last.s, 0, 16) && isText(last.h, 255)) {
      s.last = { o: last.o, d: last.d, s: last.s, h: last.h };
    }
  } else {
    return { snapshot: null, note: 'saved state has unknown schema ' + JSON.stringify(r.v) };
  }

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
  return { snapshot: s, note: r.v === 1 ? 'saved state migrated from schema 1' : 'saved state restored' };
}
