// Shared set-up for the real-interpreter tests: short LAN configs (real time runs here, so every interval is the
// smallest a LAN server allows), boards flashed the way firmware:upload flashes them, and their cleanup.

import { firmware } from '../support/firmware-build';
import { EspruinoBoard, espruinoPath, uploadLayout, type BoardOptions, type StorageFile } from '../support/espruino';

/** Every test's timings hang on these: the smallest intervals Kisstime allows, for a server the operator runs. */
export const MIN_INTERVAL_S = 16;
export const STARTUP_MIN_S = 1;
export const STARTUP_MAX_S = 2;
/** The core multiplies every interval by up to 1 + JITTER_FRACTION (src/core/policy.ts). */
export const JITTER = 0.1;

/** A board config for one server on loopback, polled as fast as Kisstime allows; overrides win. */
export function lanConfig(address: string, port: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    servers: [`${address}:${port}`],
    lanServer: true,
    minInterval: MIN_INTERVAL_S,
    maxInterval: MIN_INTERVAL_S,
    startupDelayMin: STARTUP_MIN_S,
    startupDelayMax: STARTUP_MAX_S,
    timeout: 1,
    ...overrides,
  };
}

/**
 * For each file's beforeAll: fails at once, saying where it looked, if the interpreter is missing, and builds the
 * bundle before any test's clock starts.
 */
export async function prepare(): Promise<void> {
  espruinoPath();
  await firmware();
}

/** The boards a test file made, removed (interpreters killed by pid, scratch directories deleted) by removeBoards(). */
const made: EspruinoBoard[] = [];

export function freshBoard(label: string, options: BoardOptions = {}): EspruinoBoard {
  const board = EspruinoBoard.fresh(label, options);
  made.push(board);
  return board;
}

export async function removeBoards(): Promise<void> {
  await Promise.all(made.splice(0).map((board) => board.remove()));
}

export interface FlashOptions {
  /** Which bundle is the module: the minified one (what gets flashed) or the readable one. */
  bundle?: 'minified' | 'readable';
  /** Files written after the upload's three (a state file, a different .boot0). */
  extra?: StorageFile[];
  /** Leave out .boot0, for tests that start Kisstime from their own script. */
  withoutBoot0?: boolean;
  boardOptions?: BoardOptions;
}

/** A fresh board with Storage as firmware:upload lays it out for this config (kisstime, .boot0, kisstime.cfg). */
export async function flashedBoard(label: string, config: unknown, options: FlashOptions = {}): Promise<EspruinoBoard> {
  const fw = await firmware();
  const board = freshBoard(label, options.boardOptions);
  const files = uploadLayout(fw.modules.map((m) => ({ name: m.name, code: options.bundle === 'readable' ? m.readable : m.minified })), config)
    .filter((f) => !(options.withoutBoot0 && f.name === '.boot0'));
  const extra = options.extra ?? [];
  const names = new Set(extra.map((f) => f.name));
  await board.flash([...files.filter((f) => !names.has(f.name)), ...extra]);
  return board;
}

/** Seconds between consecutive arrival times (ms). */
export function gapsS(timesMs: number[]): number[] {
  return timesMs.slice(1).map((t, i) => (t - timesMs[i]) / 1000);
}
