// The persisted scheduler state as a JSON file, written atomically (temp file in the same directory, fsync,
// rename), so a crash or power cut leaves either the old state or the new one, never half of each.
//
// The file wraps the core's snapshot with the wall time it was saved at. The core assumes no time passed while a
// device was off (it may have no clock at all); a Node host does have a wall clock, so on reading, the waits in
// the snapshot are aged by the time since it was saved. A wall clock that went backwards ages nothing.
//
// One file may be shared by several clients ('kisstime query' and 'kisstime sync' by default): a write keeps the
// entries of servers the writer does not use, so a one-off query never erases a hold that 'sync' saved.

import { promises as fsp, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { restoreSnapshot, ServerSpec, StateSnapshot, MAX_HOLDS } from '../core';

const ENVELOPE_TAG = 'kisstime-state';
/** The core reads at most this many server entries back. */
const MAX_SLOTS = 64;
const MAX_AGE_S = 1 << 30;

interface Envelope {
  format: string;
  savedAtMs: number;
  snapshot: unknown;
}

export interface StateRead {
  /** What to hand to the Scheduler: a snapshot, the unparsable text, or undefined when there is no file. */
  raw: unknown;
  /** What happened, for the log. */
  note: string;
}

function isEnvelope(v: unknown): v is Envelope {
  const e = v as Envelope;
  return !!e && typeof e === 'object' && e.format === ENVELOPE_TAG && typeof e.savedAtMs === 'number';
}

function ageSeconds(value: unknown, elapsedS: number): unknown {
  if (typeof value !== 'number' || value < 0 || value !== Math.floor(value)) return value;
  return Math.min(MAX_AGE_S, value + elapsedS);
}

/** The snapshot as it stands elapsedS later: "seconds since the last request" grow, the backoff wait shrinks. */
export function ageSnapshot(raw: unknown, elapsedS: number): unknown {
  const whole = Math.floor(elapsedS);
  if (!(whole > 0) || !raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const s = Object.assign({}, raw) as { [k: string]: unknown };
  s.z = ageSeconds(s.z, whole);
  if (typeof s.w === 'number' && s.w > 0) s.w = Math.max(0, s.w - whole);
  if (Array.isArray(s.slots)) {
    s.slots = s.slots.map((slot: unknown) => {
      if (!slot || typeof slot !== 'object') return slot;
      const copy = Object.assign({}, slot) as { [k: string]: unknown };
      copy.z = ageSeconds(copy.z, whole);
      return copy;
    });
  }
  return s;
}

function parseStateText(text: string, path: string, wallNowMs: number): StateRead {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // The text itself goes to the core, which refuses it and starts politely from scratch.
    return { raw: text, note: 'state file ' + path + ' is not valid JSON (' + (error as Error).message + '); starting afresh' };
  }
  if (!isEnvelope(parsed)) return { raw: parsed, note: 'state file ' + path + ' read' };
  return { raw: ageSnapshot(parsed.snapshot, (wallNowMs - parsed.savedAtMs) / 1000), note: 'state file ' + path + ' read' };
}

function unreadable(path: string, error: unknown): StateRead {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { raw: undefined, note: 'no state file yet at ' + path };
  return { raw: undefined, note: 'cannot read state file ' + path + ' (' + (code || String(error)) + '); starting afresh' };
}

/** Reads the state file; never throws. */
export function readStateFile(path: string, wallNowMs: number): StateRead {
  try {
    return parseStateText(readFileSync(path, 'utf8'), path, wallNowMs);
  } catch (error) {
    return unreadable(path, error);
  }
}

/** The same, without blocking the event loop (used on every save, which may run while a request is in flight). */
export async function readStateFileAsync(path: string, wallNowMs: number): Promise<StateRead> {
  try {
    return parseStateText(await fsp.readFile(path, 'utf8'), path, wallNowMs);
  } catch (error) {
    return unreadable(path, error);
  }
}

function hostsIn(s: { holds?: unknown; slots?: unknown }): ServerSpec[] {
  const hosts: ServerSpec[] = [];
  const add = (item: unknown): void => {
    const h = item && typeof item === 'object' ? (item as { h?: unknown }).h : undefined;
    if (typeof h === 'string' && h !== '') hosts.push({ host: h, port: 123 });
  };
  if (Array.isArray(s.holds)) s.holds.forEach(add);
  if (Array.isArray(s.slots)) s.slots.forEach(add);
  return hosts;
}

/**
 * Ours, plus what another client saved about servers we do not use. Theirs is validated by the core first; if it
 * is corrupt it is dropped, since writing it back would make the whole file unreadable for everyone.
 */
export function mergeSnapshots(ours: StateSnapshot, theirsRaw: unknown, ourHosts: string[]): StateSnapshot {
  if (!theirsRaw || typeof theirsRaw !== 'object') return ours;
  const theirs = restoreSnapshot(theirsRaw, hostsIn(theirsRaw as { holds?: unknown; slots?: unknown })).snapshot;
  if (!theirs) return ours;
  const mine = (h: string): boolean => ourHosts.indexOf(h) >= 0;
  const holds = ours.holds.slice();
  for (const hold of theirs.holds) {
    if (mine(hold.h) || holds.some((o) => o.a === hold.a && o.p === hold.p)) continue;
    holds.push(hold);
  }
  const slots = ours.slots.concat(theirs.slots.filter((slot) => !mine(slot.h)));
  // The most recent request anyone sharing this file made.
  const z = ours.z < 0 ? theirs.z : (theirs.z < 0 ? ours.z : Math.min(ours.z, theirs.z));
  return {
    v: ours.v,
    f: ours.f,
    w: ours.w,
    z: z,
    holds: holds.slice(0, MAX_HOLDS),
    slots: slots.slice(0, MAX_SLOTS),
    last: ours.last || theirs.last,
  };
}

/** Writes text to path so that readers see the old content or the new, never a mix. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await fsp.mkdir(dir, { recursive: true });
  const temp = join(dir, '.' + basename(path) + '.' + process.pid + '.' + Math.floor(Math.random() * 1e9) + '.tmp');
  const handle = await fsp.open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fsp.rename(temp, path);
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  }
  // The rename itself is durable only once the directory is synced; not every platform allows that.
  try {
    const d = await fsp.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Best effort: the data is already safe in the renamed file.
  }
}

/** One client's view of a state file: saves are queued so they land in order, and flush() waits for the last. */
export class StateFile {
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly path: string, private readonly ourHosts: string[], private readonly onError: (error: Error) => void) {}

  read(wallNowMs: number): StateRead {
    return readStateFile(this.path, wallNowMs);
  }

  save(snapshot: StateSnapshot, wallNowMs: () => number): Promise<void> {
    this.queue = this.queue.then(async () => {
      try {
        const now = wallNowMs();
        const existing = (await readStateFileAsync(this.path, now)).raw;
        const envelope: Envelope = { format: ENVELOPE_TAG, savedAtMs: Math.round(now), snapshot: mergeSnapshots(snapshot, existing, this.ourHosts) };
        await writeFileAtomic(this.path, JSON.stringify(envelope, null, 1) + '\n');
      } catch (error) {
        this.onError(new Error('cannot save state to ' + this.path + ': ' + (error instanceof Error ? error.message : String(error))));
      }
    });
    return this.queue;
  }

  flush(): Promise<void> {
    return this.queue;
  }
}

/** Removes what the file remembers about one server (refusals, RATE floors, per-address waits). */
export async function forgetServer(path: string, host: string, wallNowMs: number): Promise<{ holds: number; slots: number }> {
  const read = await readStateFileAsync(path, wallNowMs);
  const raw = read.raw as { holds?: unknown; slots?: unknown } | undefined;
  if (!raw || typeof raw !== 'object') return { holds: 0, slots: 0 };
  const about = (item: unknown): boolean => {
    const e = item as { h?: unknown; a?: unknown } | null;
    return !!e && typeof e === 'object' && (e.h === host || e.a === host);
  };
  const holds = Array.isArray(raw.holds) ? raw.holds : [];
  const slots = Array.isArray(raw.slots) ? raw.slots : [];
  const kept = Object.assign({}, raw, { holds: holds.filter((h) => !about(h)), slots: slots.filter((s) => !about(s)) });
  const removed = { holds: holds.length - kept.holds.length, slots: slots.length - kept.slots.length };
  if (removed.holds + removed.slots > 0) {
    const envelope: Envelope = { format: ENVELOPE_TAG, savedAtMs: Math.round(wallNowMs), snapshot: kept };
    await writeFileAtomic(path, JSON.stringify(envelope, null, 1) + '\n');
  }
  return removed;
}
