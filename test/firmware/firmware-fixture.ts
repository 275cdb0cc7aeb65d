// The built firmware, ready to flash onto virtual boards: built in memory from the current source, so a test
// never runs a stale firmware/dist.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firmware } from '../support/firmware-build';
import { EspruinoBoard, flash, type BoardOptions } from './espruino-board';
import { FlashStorage } from './flash-storage';

export const BOOT0 = readFileSync(join(__dirname, '..', '..', 'firmware', 'boot0.js'), 'utf8');

export { firmware };

export interface Handle {
  on(event: string, fn: (info: Record<string, unknown>) => void): Handle;
  now(): number | null;
  stop(): void;
}

export interface BoardEvents {
  sync: Record<string, unknown>[];
  kiss: Record<string, unknown>[];
  error: Record<string, unknown>[];
}

/** Boots the board and listens to the kisstime handle that .boot0 left in the global scope. */
export function bootAndListen(board: EspruinoBoard): { handle: Handle; events: BoardEvents } {
  board.boot();
  const handle = board.eval('typeof kisstime === "undefined" ? null : kisstime') as Handle | null;
  if (!handle) throw new Error(`kisstime did not start: ${board.console.join('\n')}`);
  const events: BoardEvents = { sync: [], kiss: [], error: [] };
  // The board's true offset is taken at the moment of the event: the virtual clock moves on afterwards.
  handle.on('sync', (e) => events.sync.push({ ...e, trueOffsetS: board.trueOffsetS(), atMs: board.monoMs() }));
  handle.on('kiss', (e) => events.kiss.push(e));
  handle.on('error', (e) => events.error.push(e));
  return { handle, events };
}

/** A board with the minified firmware and this config in kisstime.cfg. */
export async function flashedBoard(options: Partial<BoardOptions> & { serial: string }, config: unknown, which: 'minified' | 'readable' = 'minified'): Promise<EspruinoBoard> {
  const fw = await firmware();
  const storage = options.storage ?? new FlashStorage();
  flash(storage, fw.modules.map((m) => ({ name: m.name, code: m[which] })), BOOT0, config);
  return new EspruinoBoard({ hosts: {}, ...options, storage });
}

export const HOUR_MS = 3600 * 1000;
export const DAY_MS = 24 * HOUR_MS;
