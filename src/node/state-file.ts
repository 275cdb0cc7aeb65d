// The scheduler's state record as a JSON file, written atomically (temp file in the same directory, fsync,
// rename), so a crash or power cut leaves either the old state or the new one, never half of each.
//
// The file wraps the record with the wall time it was saved at. The core assumes no time passed while a device was
// off (it may have no clock at all); a Node host does have a wall clock, so the time since saving is handed to the
// core, which moves the saved waits on by that much. A wall clock that went backwards counts as no time.
//
// One file may be shared by several clients ('kisstime query' and 'kisstime sync' by default): a write keeps what
// the file says about servers the writer does not use, so a one-off query never erases a hold that 'sync' saved.

import { promises as fsp, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ClientState, copyState, MAX_HOLDS, NEVER, readSavedState, shiftedState } from '../core';

const ENVELOPE_TAG = 'kisstime-state';
/** The core reads at most this many servers back. */
const MAX_SERVERS = 64;

interface Envelope {
  format: string;
  savedAtMs: number;
  snapshot: unknown;
}

export interface StateRead {
  /** What to hand to the scheduler: a saved record, the unparsable text, or undefined when there is no file. */
  raw: unknown;
  /** Wall time since it was saved, ms (0 when unknown). */
  elapsedMs: number;
  /** What happened, for the log. */
  note: string;
}

function isEnvelope(v: unknown): v is Envelope {
  const e = v as Envelope;
  return !!e && typeof e === 'object' && e.format === ENVELOPE_TAG && typeof e.savedAtMs === 'number';
}

function parseStateText(text: string, path: string, wallNowMs: number): StateRead & { savedAtMs: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // The text itself goes to the core, which refuses it and starts politely from scratch.
    return { raw: text, elapsedMs: 0, savedAtMs: wallNowMs, note: 'state file ' + path + ' is not valid JSON (' + (error as Error).message + '); starting afresh' };
  }
  if (!isEnvelope(parsed)) return { raw: parsed, elapsedMs: 0, savedAtMs: wallNowMs, note: 'state file ' + path + ' read' };
  return { raw: parsed.snapshot, elapsedMs: Math.max(0, wallNowMs - parsed.savedAtMs), savedAtMs: parsed.savedAtMs, note: 'state file ' + path + ' read' };
}

function unreadable(path: string, error: unknown, wallNowMs: number): StateRead & { savedAtMs: number } {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { raw: undefined, elapsedMs: 0, savedAtMs: wallNowMs, note: 'no state file yet at ' + path };
  return { raw: undefined, elapsedMs: 0, savedAtMs: wallNowMs, note: 'cannot read state file ' + path + ' (' + (code || String(error)) + '); starting afresh' };
}

/** Reads the state file; never throws. */
export function readStateFile(path: string, wallNowMs: number): StateRead {
  try {
    return parseStateText(readFileSync(path, 'utf8'), path, wallNowMs);
  } catch (error) {
    return unreadable(path, error, wallNowMs);
  }
}

/** The same, without blocking the event loop (used on every save, which may run while a request is in flight). */
async function readStateFileAsync(path: string, wallNowMs: number): Promise<StateRead & { savedAtMs: number }> {
  try {
    return parseStateText(await fsp.readFile(path, 'utf8'), path, wallNowMs);
  } catch (error) {
    return unreadable(path, error, wallNowMs);
  }
}

/**
 * Ours, plus what another client saved about servers we do not use, moved onto our clock. Theirs is checked by the
 * core first; if it is corrupt it is dropped, since writing it back would make the whole file unreadable for everyone.
 */
export function mergeStates(ours: ClientState, oursWallMs: number, theirsRaw: unknown, theirsWallMs: number): ClientState {
  const theirs = readSavedState(theirsRaw).saved;
  if (!theirs) return ours;
  const moved = shiftedState(theirs, ours.t - theirs.t + theirsWallMs - oursWallMs);
  const mine = (h: string): boolean => ours.srv.some((server) => server.h === h);
  const hold = ours.hold.concat(moved.hold.filter((h) => !mine(h.h) && !ours.hold.some((o) => o.a === h.a && o.p === h.p)));
  return {
    v: ours.v,
    t: ours.t,
    m: ours.m,
    hold: hold.slice(0, MAX_HOLDS),
    srv: ours.srv.concat(moved.srv.filter((server) => !mine(server.h))).slice(0, MAX_SERVERS),
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

  constructor(readonly path: string, private readonly onError: (error: Error) => void) {}

  read(wallNowMs: number): StateRead {
    return readStateFile(this.path, wallNowMs);
  }

  /** Saves a copy of state as it is now: monoNowMs on the scheduler's clock is the same instant as wallNowMs. */
  save(state: ClientState, monoNowMs: number, wallNowMs: number): Promise<void> {
    const ours = copyState(state);
    ours.t = Math.round(monoNowMs);
    this.queue = this.queue.then(async () => {
      try {
        const existing = await readStateFileAsync(this.path, wallNowMs);
        const envelope: Envelope = { format: ENVELOPE_TAG, savedAtMs: Math.round(wallNowMs), snapshot: mergeStates(ours, wallNowMs, existing.raw, existing.savedAtMs) };
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

/**
 * Forgets what the file remembers against one server, named or by address (null: every server): its refusals, RATE
 * floors and backoff.
 * When the last request went out is kept: no request ever follows another to the same server within 15 s.
 */
export async function forgetServer(path: string, host: string | null, wallNowMs: number): Promise<{ holds: number; waits: number }> {
  const read = await readStateFileAsync(path, wallNowMs);
  const saved = readSavedState(read.raw).saved;
  if (!saved) return { holds: 0, waits: 0 };
  const about = (name: string): boolean => host === null || name === host;
  const holds = saved.hold.filter((h) => !about(h.h) && !about(h.a));
  let waits = 0;
  saved.srv.forEach((server) => {
    server.ips.forEach((ip) => {
      if ((!about(server.h) && !about(ip.a)) || (ip.rf === 0 && ip.fail === 0 && ip.wait === NEVER)) return;
      waits++;
      ip.rf = 0;
      ip.fail = 0;
      ip.wait = NEVER;
    });
    if (about(server.h)) server.bad = 0;
  });
  const removed = { holds: saved.hold.length - holds.length, waits: waits };
  if (removed.holds + removed.waits > 0) {
    saved.hold = holds;
    const envelope: Envelope = { format: ENVELOPE_TAG, savedAtMs: read.savedAtMs, snapshot: saved };
    await writeFileAtomic(path, JSON.stringify(envelope, null, 1) + '\n');
  }
  return removed;
}
