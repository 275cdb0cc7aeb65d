// A virtual ClockSource for tests: time moves only when a test says so, and every timer the client asks for is
// counted, so "no timers left after 50 redeploys" is something a test can check.

import { ntpFromUnixSeconds, NtpTimestamp } from '../../src/core';
import type { ClockSource } from '../../src/node/types';

interface VirtualTimer {
  id: number;
  atMs: number;
  fn: () => void;
}

export class VirtualClock implements ClockSource {
  private mono = 0;
  private nextId = 1;
  private timers: VirtualTimer[] = [];
  /** How many timers were ever set, for tests that want to see the client is not spinning. */
  setCount = 0;

  constructor(private readonly wallAtZeroMs: number) {}

  monoMs(): number {
    return this.mono;
  }

  wallMs(): number {
    return this.wallAtZeroMs + this.mono;
  }

  wallNtp(): NtpTimestamp {
    return ntpFromUnixSeconds(this.wallMs() / 1000);
  }

  setTimer(fn: () => void, delayMs: number): unknown {
    const timer = { id: this.nextId++, atMs: this.mono + Math.max(0, delayMs), fn };
    this.timers.push(timer);
    this.setCount++;
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  pendingTimers(): number {
    return this.timers.length;
  }

  /** Jumps to the earliest timer and fires it; returns how far time moved, or null when no timer is set. */
  fireNext(): number | null {
    return this.fireFirstDue(Infinity);
  }

  /** Moves time forward by ms, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.mono + ms;
    while (this.fireFirstDue(end) !== null);
    this.mono = end;
  }

  /** Fires the earliest timer due by limitMs (ties in the order they were set); how far time moved, or null if none. */
  private fireFirstDue(limitMs: number): number | null {
    const due = this.timers.filter((t) => t.atMs <= limitMs).sort((a, b) => a.atMs - b.atMs || a.id - b.id)[0];
    if (!due) return null;
    this.timers = this.timers.filter((t) => t !== due);
    const moved = Math.max(0, due.atMs - this.mono);
    this.mono = Math.max(this.mono, due.atMs);
    due.fn();
    return moved;
  }
}
