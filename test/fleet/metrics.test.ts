// The report's load figures: the one-pass histogram gives what sorting every second would.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CountLog } from '../../src/fleet/count-log';
import { loadStats, percentile } from '../../src/fleet/metrics';

describe('server load statistics', () => {
  test('peak, p99 and mean of per-second counts are those of the sorted counts', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 60 }), { minLength: 1, maxLength: 3000 }), (counts) => {
      const perSecond = Uint32Array.from(counts);
      const sorted = Uint32Array.from(counts).sort();
      const s = loadStats(perSecond);
      expect(s.peakPerS).toBe(sorted[sorted.length - 1]);
      expect(s.p99PerS).toBe(percentile(sorted, 0.99));
      expect(s.meanPerS).toBeCloseTo(counts.reduce((a, b) => a + b, 0) / counts.length, 9);
    }));
    expect(loadStats(new Uint32Array(0))).toEqual({ peakPerS: 0, p99PerS: 0, meanPerS: 0 });
  });
});

describe('per-second counts through the log', () => {
  test('count every add once, whatever the order and however many flushes', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 20000 }), fc.array(fc.nat(), { maxLength: 5000 }), (slots, adds) => {
      const log = new CountLog(slots);
      const expected = new Uint32Array(slots);
      for (const a of adds) {
        log.add(a % slots);
        expected[a % slots]++;
      }
      log.flush();
      expect(log.counts).toEqual(expected);
    }), { numRuns: 50 });
  });

  test('a log that fills up many times over loses nothing', () => {
    const log = new CountLog(100);
    const expected = new Uint32Array(100);
    for (let k = 0; k < 20000; k++) {
      const slot = (k * 7919) % 100;
      log.add(slot);
      expected[slot]++;
    }
    log.flush();
    expect(log.counts).toEqual(expected);
  });
});
