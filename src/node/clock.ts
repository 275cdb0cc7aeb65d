// The default ClockSource: a monotonic clock for scheduling, and a wall clock with sub-millisecond precision for
// T1/T4. Date.now() only has whole milliseconds, which alone would bias every offset by up to 1 ms, so the wall
// clock is process.hrtime anchored once to the edge of a Date.now() tick and re-anchored when the system clock steps.

import { ntpFromUnixParts, NtpTimestamp } from '../core';
import { ClockSource } from './types';

/** A gap this large between Date.now() and the hrtime-derived wall time means the system clock was stepped. */
export const STEP_THRESHOLD_MS = 50;
/** Node's setTimeout fires at once for delays over 2^31-1 ms; longer waits are split. */
const MAX_TIMER_MS = 2147483647;

export interface NodeClockOptions {
  /** Unref'd timers do not keep the process alive (libraries embedded in something else that decides). */
  unrefTimers?: boolean;
}

interface Anchor {
  /** Unix time at the anchor, whole milliseconds. */
  wallMs: number;
  hrNs: bigint;
}

/**
 * A tick edge bracketed more loosely than this (the thread was preempted, or a first call was slow) is measured
 * again: half the bracket is how far off the anchor may be, for every timestamp the process takes until the clock
 * steps. A warm bracket is well under 1 µs wide. With 50 µs accepted after at most 5 tries, a process started on a
 * busy machine was seen anchored 159 µs off (1 cold start in 20); tries cost at most a millisecond each.
 */
const EDGE_BRACKET_NS = 5000n;
const EDGE_TRIES = 50;

/**
 * Waits (about 1 ms) for Date.now() to tick over, so the anchor sits at the start of a millisecond, not somewhere
 * in it. The edge lies between the last Date.now() that returned the old value and the first that returned the new
 * one; hrtime read around those calls brackets it, and the bracket's midpoint is the anchor.
 */
function anchorAtTickEdge(): Anchor {
  let best: Anchor | null = null;
  let bestWidth = 0n;
  for (let attempt = 0; attempt < EDGE_TRIES; attempt++) {
    let beforeHr = process.hrtime.bigint();
    let before = Date.now();
    for (;;) {
      const hr = process.hrtime.bigint();
      const now = Date.now();
      if (now !== before) {
        const afterHr = process.hrtime.bigint();
        const width = afterHr - beforeHr;
        if (best === null || width < bestWidth) {
          best = { wallMs: now, hrNs: beforeHr + width / 2n };
          bestWidth = width;
        }
        break;
      }
      beforeHr = hr;
      before = now;
    }
    if (bestWidth < EDGE_BRACKET_NS) break;
  }
  return best as Anchor;
}

export class NodeClock implements ClockSource {
  private anchor: Anchor;
  private pendingStepS = 0;
  private readonly unrefTimers: boolean;

  constructor(options: NodeClockOptions = {}) {
    this.anchor = anchorAtTickEdge();
    this.unrefTimers = options.unrefTimers === true;
  }

  monoMs(): number {
    return Number(process.hrtime.bigint() / 1000n) / 1000;
  }

  wallNtp(): NtpTimestamp {
    const ns = this.wallNs();
    const unixS = ns / 1000000000n;
    return ntpFromUnixParts(Number(unixS), Number(ns - unixS * 1000000000n));
  }

  wallMs(): number {
    return Number(this.wallNs()) / 1e6;
  }

  /** The sum of the system clock steps seen since the last call, in seconds (positive = the clock jumped forward). */
  takeStepS(): number {
    const s = this.pendingStepS;
    this.pendingStepS = 0;
    return s;
  }

  setTimer(fn: () => void, delayMs: number): unknown {
    const handle: { timer: NodeJS.Timeout | null } = { timer: null };
    const arm = (remainingMs: number): void => {
      const chunk = Math.min(Math.max(0, remainingMs), MAX_TIMER_MS);
      handle.timer = setTimeout(() => {
        if (remainingMs > MAX_TIMER_MS) arm(remainingMs - MAX_TIMER_MS);
        else fn();
      }, chunk);
      if (this.unrefTimers) handle.timer.unref();
    };
    arm(delayMs);
    return handle;
  }

  clearTimer(handle: unknown): void {
    const h = handle as { timer: NodeJS.Timeout | null } | null;
    if (h && h.timer) clearTimeout(h.timer);
  }

  private wallNs(): bigint {
    const hr = process.hrtime.bigint();
    const wallNs = BigInt(this.anchor.wallMs) * 1000000n + (hr - this.anchor.hrNs);
    // Date.now() is floor(true wall ms), so in steady state it trails by less than 1 ms; more means a step.
    const driftMs = Date.now() - Number(wallNs / 1000000n);
    if (Math.abs(driftMs) > STEP_THRESHOLD_MS) {
      this.anchor = anchorAtTickEdge();
      this.pendingStepS += driftMs / 1000;
      return BigInt(this.anchor.wallMs) * 1000000n + (process.hrtime.bigint() - this.anchor.hrNs);
    }
    return wallNs;
  }
}

export function createNodeClock(options: NodeClockOptions = {}): NodeClock {
  return new NodeClock(options);
}
