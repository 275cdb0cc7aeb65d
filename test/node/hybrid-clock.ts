// A clock for driving the real client against a real daemon faster than real time: scheduling (monotonic time and
// timers) is virtual, so the client's 16 s floors pass at a word, while T1/T4 come from the real wall clock because
// the daemon stamps its replies with real time.

import { NtpTimestamp } from '../../src/core';
import { NodeClock } from '../../src/node';
import type { ClockSource } from '../../src/node/types';

interface Timer {
  id: number;
  atMs: number;
  fn: () => void;
}

export class HybridClock implements ClockSource {
  private mono = 0;
  private nextId = 1;
  private timers: Timer[] = [];
  private readonly wall = new NodeClock();

  monoMs(): number {
    return this.mono;
  }

  wallNtp(): NtpTimestamp {
    return this.wall.wallNtp();
  }

  wallMs(): number {
    return this.wall.wallMs();
  }

  setTimer(fn: () => void, delayMs: number): unknown {
    const timer = { id: this.nextId++, atMs: this.mono + Math.max(0, delayMs), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Jumps to the earliest timer and fires it; returns how far time moved, or null when no timer is set. */
  fireNext(): number | null {
    const due = this.timers.slice().sort((a, b) => a.atMs - b.atMs || a.id - b.id)[0];
    if (!due) return null;
    this.timers = this.timers.filter((t) => t !== due);
    const moved = Math.max(0, due.atMs - this.mono);
    this.mono = Math.max(this.mono, due.atMs);
    due.fn();
    return moved;
  }
}
