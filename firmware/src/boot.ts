// What a board runs once, at start: reading its config and saved state, and building the scheduler from them.
// Built as a Storage module of its own (kisstime-boot), which the runtime module requires in start() and lets go
// of right after: on Espruino every function of a loaded module holds RAM for as long as the module is loaded, and
// none of these is needed again.

import { Scheduler } from '../../src/core/decisions';
import { RestoreNote } from '../../src/core/state';
import { driftPpm, forgetOffsets, offsetAt } from '../../src/core/clock-model';
import { createScheduler } from '../../src/core/scheduler';
import { boardConfig, BoardConfig, FirmwareConfig } from './board-config';
import type { EspruinoE, EspruinoStorage } from './espruino';

declare const E: EspruinoE;
declare function getTime(): number;
declare function getSerial(): string;

export const STATE_FILE = 'kisstime.state';
/** What became of the saved state, on the console: a board's owner reads it at boot. */
const RESTORED: { [note in RestoreNote]: string } = {
  'none': 'no saved state',
  'restored': 'saved state restored',
  'migrated': 'saved state migrated from an older schema',
  'corrupt': 'saved state corrupt: starting afresh, politely',
  'unknown-schema': 'saved state of an unknown schema: starting afresh, politely',
};
/** 2020-09-13: a clock that reads earlier was never set, or lost its time. */
const CLOCK_SET_AFTER_S = 1600000000;
const CONFIG_FILE = 'kisstime.cfg';

/** The clock model as now() reads it between events: the offset (s) at a time (ms on the scheduler's clock) and the drift. */
export interface ModelReading {
  at: number;
  offset: number;
  drift: number;
}

export interface Prepared {
  s: Scheduler;
  /** getTime() at the scheduler's time 0: its clock counts ms from this start. */
  origin: number;
  stepAboveS: number;
  /** Where the clock survived the restart, the saved model gives corrected time before the first sample. */
  model: ModelReading | null;
}

function copyInto(from: unknown, to: FirmwareConfig): void {
  if (from && typeof from === 'object') {
    for (var key in from) (to as { [key: string]: unknown })[key] = (from as { [key: string]: unknown })[key];
  }
}

/**
 * The config in code, with a fleet operator's kisstime.cfg over it (so servers change without reflashing). A bad
 * kisstime.cfg is reported and left out, never thrown: a board that boots Kisstime must not fail at every boot
 * because of a file. A bad config in code throws, naming the field, for its author to see at once.
 */
function configure(input: FirmwareConfig | undefined, storage: EspruinoStorage, canResolve: boolean): BoardConfig | null {
  const own: FirmwareConfig = {};
  copyInto(input, own);
  const stored = storage.readJSON(CONFIG_FILE, true);
  let problem = '';
  if (stored === undefined) {
    if (storage.read(CONFIG_FILE) !== undefined) problem = 'not JSON';
  } else if (!stored || typeof stored !== 'object' || Array.isArray(stored)) {
    problem = 'not an object';
  } else {
    const merged: FirmwareConfig = {};
    copyInto(own, merged);
    copyInto(stored, merged);
    try {
      return boardConfig(merged, canResolve);
    } catch (e) {
      problem = String((e as Error).message);
    }
  }
  if (problem) console.log('kisstime: ' + CONFIG_FILE + ' ignored: ' + problem);
  if (input === undefined) {
    console.log('kisstime: not started: no config');
    return null;
  }
  return boardConfig(own, canResolve);
}

/** The scheduler this board starts with, or null when there is no usable config (said on the console). */
export function prepare(input: FirmwareConfig | undefined, canResolve: boolean): Prepared | null {
  const storage: EspruinoStorage = require('Storage');
  const config = configure(input, storage, canResolve);
  if (!config) return null;
  if (!canResolve) console.log('kisstime: no Wifi module: IP addresses only');
  // Espruino's generator starts from the same seed on every board: without this, a fleet that loses power
  // together would draw the same startup delay and poll in step.
  // ^ truncates the milliseconds to an integer; % keeps them in range for Espruino's conversion.
  E.srand(E.CRC32(getSerial()) ^ getTime() * 1000 % 2147483647 ^ E.hwRand());
  // The saved record, or the text of a file that is not JSON (which the core calls corrupt).
  const text = storage.read(STATE_FILE);
  const saved = storage.readJSON(STATE_FILE, true);
  const origin = getTime();
  const s = createScheduler(config.client, Math.random, saved === undefined ? text : saved, 0, 0);
  // A board without a battery-backed clock starts at 1970 after a power cut: the saved offsets no longer apply, the
  // drift does.
  if (origin < CLOCK_SET_AFTER_S) forgetOffsets(s.state.m);
  const offset = offsetAt(s.state.m, 0);
  // A file that holds null is no saved state to the core, but it is not what Kisstime writes.
  const note = s.restored === 'none' && text !== undefined ? 'corrupt' : s.restored;
  console.log('kisstime: ' + RESTORED[note]);
  return { s: s, origin: origin, stepAboveS: config.stepAboveS, model: offset === null ? null : { at: 0, offset: offset, drift: driftPpm(s.state.m) || 0 } };
}
