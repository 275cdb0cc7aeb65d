// A live progress line for long fleet runs: virtual days done, events per second and time left, rewritten in place
// on a terminal. Whoever makes one decides whether the stream is a terminal; nothing here writes otherwise.

import { ProgressSink } from './engine';

export interface ProgressOptions {
  /** Devices × virtual duration: what "done" means, in device-milliseconds. */
  totalDeviceMs: number;
  days: number;
  /** Nothing is shown for runs shorter than this (ms of wall time). */
  showAfterMs: number;
  /** The line is rewritten at most this often (ms). */
  everyMs: number;
  /** Wall clock in ms (tests pass their own). */
  now: () => number;
  write: (text: string) => void;
}

export const PROGRESS_SHOW_AFTER_MS = 1000;
export const PROGRESS_EVERY_MS = 250;

function duration(s: number): string {
  if (!(s < Infinity)) return '?';
  if (s < 90) return Math.ceil(s) + ' s';
  return Math.round(s / 60) + ' min';
}

function perS(v: number): string {
  if (v >= 1e6) return (v / 1e6).toFixed(2) + ' M';
  if (v >= 1e3) return (v / 1e3).toFixed(1) + ' k';
  return v.toFixed(0);
}

export class ProgressLine implements ProgressSink {
  private readonly options: ProgressOptions;
  private readonly startedMs: number;
  private deviceMs: number;
  private events: number;
  private shownMs: number;
  private shown: boolean;

  constructor(options: ProgressOptions) {
    this.options = options;
    this.startedMs = options.now();
    this.deviceMs = 0;
    this.events = 0;
    this.shownMs = -Infinity;
    this.shown = false;
  }

  advance(deviceMs: number, events: number): void {
    this.deviceMs += deviceMs;
    this.events += events;
    const o = this.options;
    const nowMs = o.now();
    const elapsedMs = nowMs - this.startedMs;
    if (elapsedMs < o.showAfterMs || nowMs - this.shownMs < o.everyMs) return;
    this.shownMs = nowMs;
    this.shown = true;
    const done = Math.min(1, this.deviceMs / o.totalDeviceMs);
    const leftS = done > 0 ? elapsedMs / 1000 * (1 - done) / done : Infinity;
    o.write('\r\x1b[K' + 'simulated ' + (done * o.days).toFixed(1) + ' of ' + o.days + ' virtual days (' + Math.floor(done * 100) + ' %), ' +
      perS(this.events / (elapsedMs / 1000)) + ' events/s, about ' + duration(leftS) + ' left');
  }

  /** Takes the line away again, so that what follows starts on a clean line. */
  finish(): void {
    if (this.shown) this.options.write('\r\x1b[K');
    this.shown = false;
  }
}
