import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { addSample, createCorrectedClock, createModel, errorBoundAt, offsetAt, readCorrected, shiftModel, SLEW_PPM, STEP_THRESHOLD_S } from '../../src/core';
import { VirtualClock } from '../support/virtual-clock';

const WALL_AT_ZERO_MS = 1.7e12;

describe('corrected clock', () => {
  test('without a model it reads the local clock', () => {
    const clock = new VirtualClock(WALL_AT_ZERO_MS);
    const c = createCorrectedClock();
    clock.advance(5000);
    expect(readCorrected(c, clock.monoMs(), clock.wallMs(), null)).toEqual({ ms: clock.wallMs(), stepS: 0, pendingS: 0 });
    clock.advance(5000);
    expect(readCorrected(c, clock.monoMs(), clock.wallMs(), null).ms).toBe(clock.wallMs());
  });

  test('a small correction is slewed at 500 ppm: monotonic, never faster or slower than that, then exact', () => {
    const clock = new VirtualClock(WALL_AT_ZERO_MS);
    const c = createCorrectedClock();
    readCorrected(c, clock.monoMs(), clock.wallMs(), null);
    const offsetS = 0.05;
    let last = readCorrected(c, clock.monoMs(), clock.wallMs(), offsetS);
    expect(last.stepS).toBe(0);
    expect(last.pendingS).toBeCloseTo(offsetS, 9);
    let elapsedMs = 0;
    while (last.pendingS > 0) {
      clock.advance(1000);
      elapsedMs += 1000;
      const r = readCorrected(c, clock.monoMs(), clock.wallMs(), offsetS);
      // Unix ms near 1.7e12 are doubles with steps of 0.24 µs: the rate is good to about 1e-9 over a second.
      const rate = (r.ms - last.ms) / 1000;
      expect(rate).toBeGreaterThan(1);
      expect(rate).toBeLessThanOrEqual(1 + SLEW_PPM * 1e-6 + 1e-9);
      expect(r.stepS).toBe(0);
      last = r;
    }
    // 50 ms at 500 ppm takes 100 s.
    expect(elapsedMs).toBe(100000);
    expect(last.ms).toBeCloseTo(clock.wallMs() + 50, 6);
  });

  test('slewing backwards too: time slows down but never goes back', () => {
    const clock = new VirtualClock(WALL_AT_ZERO_MS);
    const c = createCorrectedClock();
    readCorrected(c, clock.monoMs(), clock.wallMs(), 0);
    let last = readCorrected(c, clock.monoMs(), clock.wallMs(), -0.1);
    for (let i = 0; i < 300; i++) {
      clock.advance(1000);
      const r = readCorrected(c, clock.monoMs(), clock.wallMs(), -0.1);
      expect(r.ms - last.ms).toBeGreaterThanOrEqual(1000 * (1 - SLEW_PPM * 1e-6) - 1e-6);
      last = r;
    }
    expect(last.pendingS).toBe(0);
    expect(last.ms).toBeCloseTo(clock.wallMs() - 100, 6);
  });

  test('a correction past the step threshold is stepped at once and reported, either way', () => {
    const clock = new VirtualClock(WALL_AT_ZERO_MS);
    const c = createCorrectedClock();
    readCorrected(c, clock.monoMs(), clock.wallMs(), null);
    clock.advance(1000);
    const forward = readCorrected(c, clock.monoMs(), clock.wallMs(), 2.5);
    expect(forward.stepS).toBeCloseTo(2.5, 6);
    expect(forward.ms).toBeCloseTo(clock.wallMs() + 2500, 6);
    clock.advance(1000);
    const back = readCorrected(c, clock.monoMs(), clock.wallMs(), 2.5 - STEP_THRESHOLD_S - 0.01);
    expect(back.stepS).toBeCloseTo(-STEP_THRESHOLD_S - 0.01, 6);
    // Just under the threshold: slewed, not stepped.
    clock.advance(1000);
    const small = readCorrected(c, clock.monoMs(), clock.wallMs(), 2.5 - 0.01);
    expect(small.stepS).toBe(0);
    expect(small.pendingS).toBeGreaterThan(0.12);
  });

  test('the first reading with a model starts at the model: nothing was shown before, so nothing is stepped', () => {
    const clock = new VirtualClock(WALL_AT_ZERO_MS);
    const c = createCorrectedClock();
    const r = readCorrected(c, clock.monoMs(), clock.wallMs(), 1234.5);
    expect(r).toEqual({ ms: clock.wallMs() + 1234500, stepS: 0, pendingS: 0 });
  });

  test('a step of the local wall clock, once the model is shifted for it, leaves corrected time untouched', () => {
    const clock = new VirtualClock(WALL_AT_ZERO_MS);
    const model = createModel();
    addSample(model, clock.monoMs(), 0.3, 0.001, 0.001);
    const c = createCorrectedClock();
    const before = readCorrected(c, clock.monoMs(), clock.wallMs(), offsetAt(model, clock.monoMs()));
    clock.advance(1000);
    // The system clock jumps 5 s forward; the adapter tells the model.
    const wallStepMs = 5000;
    shiftModel(model, wallStepMs / 1000);
    const after = readCorrected(c, clock.monoMs(), clock.wallMs() + wallStepMs, offsetAt(model, clock.monoMs()));
    expect(after.stepS).toBe(0);
    expect(after.ms - before.ms).toBeCloseTo(1000, 6);
  });

  test('follows a drifting model exactly, since its drift is under the slew rate', () => {
    const clock = new VirtualClock(WALL_AT_ZERO_MS);
    const model = createModel();
    for (let i = 0; i < 8; i++) {
      addSample(model, clock.monoMs(), 0.02 + 120e-6 * clock.monoMs() / 1000, 0.0005, 0.0005);
      clock.advance(64000);
    }
    const c = createCorrectedClock();
    readCorrected(c, clock.monoMs(), clock.wallMs(), offsetAt(model, clock.monoMs()));
    for (let i = 0; i < 100; i++) {
      clock.advance(1000);
      const r = readCorrected(c, clock.monoMs(), clock.wallMs(), offsetAt(model, clock.monoMs()));
      const trueMs = clock.wallMs() + (0.02 + 120e-6 * clock.monoMs() / 1000) * 1000;
      expect(r.pendingS).toBe(0);
      expect(Math.abs(r.ms - trueMs)).toBeLessThanOrEqual(errorBoundAt(model, clock.monoMs())! * 1000);
    }
  });

  test('a monotonic clock that goes back: corrected time holds still rather than go back', () => {
    const c = createCorrectedClock();
    const first = readCorrected(c, 50000, WALL_AT_ZERO_MS + 50000, 0.01);
    const second = readCorrected(c, 20000, WALL_AT_ZERO_MS + 50000, 0.01);
    expect(second.ms).toBeGreaterThanOrEqual(first.ms);
    expect(second.stepS).toBe(0);
  });

  test('property: whatever the offsets and the reading times, time never goes back or changes rate by more than the slew rate, except at a reported step', () => {
    fc.assert(fc.property(
      fc.array(fc.record({
        advanceMs: fc.double({ min: 0, max: 600000, noNaN: true }),
        offsetS: fc.oneof(fc.constant(null), fc.double({ min: -5, max: 5, noNaN: true }), fc.constant(NaN), fc.constant(Infinity)),
      }), { minLength: 1, maxLength: 60 }),
      (readings) => {
        const clock = new VirtualClock(WALL_AT_ZERO_MS);
        const c = createCorrectedClock();
        let last: { ms: number; mono: number } | null = null;
        for (const step of readings) {
          clock.advance(step.advanceMs);
          const r = readCorrected(c, clock.monoMs(), clock.wallMs(), step.offsetS);
          expect(Number.isFinite(r.ms) && Number.isFinite(r.pendingS) && Number.isFinite(r.stepS)).toBe(true);
          if (last && r.stepS === 0) {
            const dMono = clock.monoMs() - last.mono;
            expect(r.ms - last.ms).toBeGreaterThanOrEqual(dMono * (1 - SLEW_PPM * 1e-6) - 1e-3);
            expect(r.ms - last.ms).toBeLessThanOrEqual(dMono * (1 + SLEW_PPM * 1e-6) + 1e-3);
          }
          if (r.stepS !== 0) expect(Math.abs(r.stepS)).toBeGreaterThan(STEP_THRESHOLD_S);
          last = { ms: r.ms, mono: clock.monoMs() };
        }
      },
    ), { numRuns: 500 });
  });
});
