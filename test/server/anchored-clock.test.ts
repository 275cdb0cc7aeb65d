// The server's cheap clock reads: NodeClock's word once a second plus the monotonic time since. They must give what
// NodeClock itself gives, and the allocation-free form the same as the plain one, carries into the seconds included.

import { performance } from 'node:perf_hooks';
import { describe, expect, test } from 'vitest';
import { NodeClock } from '../../src/node/clock';
import { AnchoredClock } from '../../src/node/server';
import { subtractTimestamps, differenceToSeconds } from '../../src/core';

describe('the server\'s anchored clock', () => {
  test('reads the same wall and monotonic time as NodeClock, within 100 µs', () => {
    const clock = new NodeClock();
    const anchored = new AnchoredClock(clock);
    for (let i = 0; i < 20; i++) {
      const p = performance.now();
      const wall = clock.wallNtp();
      const mono = clock.monoMs();
      expect(Math.abs(differenceToSeconds(subtractTimestamps(anchored.wallAt(p), wall)))).toBeLessThan(100e-6);
      expect(Math.abs(anchored.monoAt(p) - mono)).toBeLessThan(0.1);
    }
  });

  test('wallInto writes exactly what wallAt returns, at every fraction of a second', () => {
    const anchored = new AnchoredClock(new NodeClock());
    const into = { s: 0, f: 0 };
    const base = performance.now();
    for (let ms = 0; ms < 3000; ms += 7.3) {
      expect(anchored.wallInto(base + ms, into)).toEqual(anchored.wallAt(base + ms));
    }
  });
});
