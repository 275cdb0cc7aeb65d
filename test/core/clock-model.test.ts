import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  addSample, ClockModel, createModel, driftPpm, driftUncertaintyPpm, errorBoundAt, longestIntervalS, MODEL_WINDOW, offsetAt,
  rebaseModel, restoreModel, shiftModel, WANDER_PPM,
} from '../../src/core';

/** A small deterministic generator, so a failing scenario can be replayed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

/**
 * A path with a fixed base delay and queueing on either leg: the offset error is half the difference of the two
 * queues plus a fixed asymmetry, so it always lies within half the delay, as on a real network.
 */
function pathSample(random: () => number, baseDelayS: number, queueS: number, asymmetry: number): { errorS: number; delayS: number } {
  const up = -Math.log(1 - random()) * queueS;
  const down = -Math.log(1 - random()) * queueS;
  return { errorS: (up - down) / 2 + asymmetry * baseDelayS / 2, delayS: baseDelayS + up + down };
}

describe('clock model basics', () => {
  test('an empty model predicts nothing and asks for a poll at once', () => {
    const m = createModel();
    expect(offsetAt(m, 0)).toBeNull();
    expect(errorBoundAt(m, 0)).toBeNull();
    expect(driftPpm(m)).toBeNull();
    expect(longestIntervalS(m, 0.1, 0)).toBe(0);
  });

  test('one sample: its offset, a bound of its root distance that grows at the largest plausible drift', () => {
    const m = createModel();
    expect(addSample(m, 5000, 0.25, 0.002, 0.003)).toBe('accepted');
    expect(offsetAt(m, 5000)).toBeCloseTo(0.25, 6);
    expect(offsetAt(m, 65000)).toBeCloseTo(0.25, 6);
    expect(errorBoundAt(m, 5000)).toBeCloseTo(0.003, 5);
    // 60 s later: 3 ms + 60 s × (1000 ppm + 1 ppm of wander).
    expect(errorBoundAt(m, 65000)).toBeCloseTo(0.003 + 60 * 1001e-6, 5);
    expect(driftPpm(m)).toBe(0);
  });

  test('sign convention: a server whose clock runs 300 ppm faster reads +300 ppm', () => {
    const m = createModel();
    for (let i = 0; i < 10; i++) addSample(m, i * 64000, 0.1 + 300e-6 * i * 64, 0.0002, 0.0001);
    expect(driftPpm(m)!).toBeCloseTo(300, 1);
    expect(offsetAt(m, 10 * 64000)!).toBeCloseTo(0.1 + 300e-6 * 640, 5);
    const slow = createModel();
    for (let i = 0; i < 10; i++) addSample(slow, i * 64000, -300e-6 * i * 64, 0.0002, 0.0001);
    expect(driftPpm(slow)!).toBeCloseTo(-300, 1);
  });

  test('keeps at most the window of samples, and its record holds integers only', () => {
    const m = createModel();
    for (let i = 0; i < 20; i++) addSample(m, 1000 + i * 16000, 0.5 + 12e-6 * i * 16, 0.0003, 0.0002);
    expect(m.t.length).toBe(MODEL_WINDOW);
    const numbers: number[] = [m.n, m.a, m.b, m.s, m.f, m.k, m.u, m.v, m.w, m.x].concat(m.t, m.o, m.e);
    for (const x of numbers) expect(Number.isInteger(x), String(x)).toBe(true);
    expect(m.t[m.t.length - 1]).toBe(0);
  });
});

describe('clock model goals with loopback-like samples (delays of tens to hundreds of µs)', () => {
  test('driftPpm within ±2 ppm after 10 samples at the 15 s floor, and the offset between samples within 1 ms', () => {
    const random = lcg(7);
    const worst = { drift: 0, between: 0 };
    for (let run = 0; run < 200; run++) {
      const rate = (random() * 2 - 1) * 500e-6;
      const offset0 = (random() * 2 - 1) * 2;
      const asymmetry = random() * 2 - 1;
      const m = createModel();
      let t = random() * 1e7;
      for (let i = 0; i < 10; i++) {
        const gapMs = 16000 + random() * 4000;
        // Between samples once there are two: with one, the drift is not known yet (16 s × 500 ppm is 8 ms).
        if (i > 1) {
          const mid = t + gapMs / 2;
          worst.between = Math.max(worst.between, Math.abs(offsetAt(m, mid)! - (offset0 + rate * mid / 1000)));
        }
        t += gapMs;
        const p = pathSample(random, 100e-6 + random() * 100e-6, 30e-6, asymmetry * 0.3);
        addSample(m, t, offset0 + rate * t / 1000 + p.errorS, p.delayS, p.delayS / 2 + 20e-6);
      }
      worst.drift = Math.max(worst.drift, Math.abs(driftPpm(m)! - rate * 1e6));
    }
    expect(worst.drift).toBeLessThanOrEqual(2);
    expect(worst.between).toBeLessThan(0.001);
  });
});

describe('outliers and steps', () => {
  function steady(): ClockModel {
    const m = createModel();
    for (let i = 0; i < 8; i++) addSample(m, i * 60000, 0.01 + 20e-6 * i * 60, 0.004, 0.003);
    return m;
  }

  test('a single sample far outside the bound is set aside and changes nothing', () => {
    const m = steady();
    const before = JSON.stringify({ t: m.t, o: m.o, a: m.a, b: m.b, s: m.s });
    expect(addSample(m, 8 * 60000, 0.01 + 20e-6 * 480 + 0.5, 0.004, 0.003)).toBe('outlier');
    expect(JSON.stringify({ t: m.t, o: m.o, a: m.a, b: m.b, s: m.s })).toBe(before);
    // The next good sample is taken, and clears the pending outlier.
    expect(addSample(m, 9 * 60000, 0.01 + 20e-6 * 540, 0.004, 0.003)).toBe('accepted');
    expect(m.w).toBe(0);
  });

  test('two outliers that agree are a step: the model follows the new offset and keeps the drift it knew', () => {
    const m = steady();
    const knew = driftUncertaintyPpm(m)!;
    const jump = 2.5;
    expect(addSample(m, 8 * 60000, 0.01 + 20e-6 * 480 + jump, 0.004, 0.003)).toBe('outlier');
    expect(addSample(m, 9 * 60000, 0.01 + 20e-6 * 540 + jump, 0.004, 0.003)).toBe('step');
    expect(m.t.length).toBe(2);
    expect(offsetAt(m, 10 * 60000)!).toBeCloseTo(0.01 + 20e-6 * 600 + jump, 3);
    expect(driftPpm(m)!).toBeCloseTo(20, 0);
    // What it knew of the drift keeps the new window's uncertainty far below what two samples alone give (6 ms / 60 s).
    expect(driftUncertaintyPpm(m)!).toBeLessThanOrEqual(knew + WANDER_PPM + 0.001);
    expect(driftUncertaintyPpm(m)!).toBeLessThan(20);
  });

  test('two outliers that disagree with each other are not a step', () => {
    const m = steady();
    expect(addSample(m, 8 * 60000, 1.5, 0.004, 0.003)).toBe('outlier');
    expect(addSample(m, 9 * 60000, -1.5, 0.004, 0.003)).toBe('outlier');
    expect(m.t.length).toBe(8);
  });

  test('a frequency change beyond the wander allowance: never stuck rejecting, and the bound holds again after it', () => {
    let checks = 0;
    let inside = 0;
    fc.assert(fc.property(
      fc.record({
        seed: fc.integer({ min: 1, max: 2147483647 }),
        beforePpm: fc.double({ min: -100, max: 100, noNaN: true }),
        changePpm: fc.double({ min: -30, max: 30, noNaN: true }),
        gapS: fc.double({ min: 60, max: 900, noNaN: true }),
      }),
      (s) => {
        const random = lcg(s.seed);
        const m = createModel();
        let offset = 0;
        let tS = 0;
        let inARow = 0;
        for (let i = 0; i < 30; i++) {
          const ratePpm = i < 12 ? s.beforePpm : s.beforePpm + s.changePpm;
          // Ten samples after the change, the model must describe the clock again.
          if (i >= 22) {
            for (const f of [0.25, 0.5, 1]) {
              const at = tS + s.gapS * f;
              checks++;
              if (Math.abs(offsetAt(m, at * 1000)! - (offset + ratePpm * 1e-6 * s.gapS * f)) <= errorBoundAt(m, at * 1000)!) inside++;
            }
          }
          tS += s.gapS;
          offset += ratePpm * 1e-6 * s.gapS;
          const p = pathSample(random, 0.002, 0.002, 0);
          const outcome = addSample(m, tS * 1000, offset + p.errorS, p.delayS, p.delayS / 2 + 0.001);
          inARow = outcome === 'outlier' ? inARow + 1 : 0;
          expect(inARow).toBeLessThanOrEqual(2);
        }
      },
    ), { numRuns: 200 });
    expect(inside / checks).toBeGreaterThanOrEqual(0.98);
  });

  test('non-finite input is refused as an outlier and leaves no NaN behind', () => {
    const m = steady();
    expect(addSample(m, NaN, 0, 0, 0.001)).toBe('outlier');
    expect(addSample(m, 9e5, Infinity, 0, 0.001)).toBe('outlier');
    expect(addSample(m, 9e5, 0.01, NaN, 0.001)).toBe('outlier');
    expect(addSample(m, 9e5, 0.01, 0.001, -Infinity)).toBe('outlier');
    expect(Number.isFinite(offsetAt(m, 9e5)!)).toBe(true);
  });

  test('a sample from before the newest means a new time base: the window starts again from it', () => {
    const m = steady();
    expect(addSample(m, 1000, 0.02, 0.004, 0.003)).toBe('accepted');
    expect(m.t.length).toBe(1);
    expect(driftPpm(m)!).toBeCloseTo(20, 0);
  });
});

describe('clock steps, time bases and polling', () => {
  test('shiftModel: after the local clock steps forward by 2 s, every offset is 2 s smaller', () => {
    const m = createModel();
    for (let i = 0; i < 5; i++) addSample(m, i * 30000, 3 + 50e-6 * i * 30, 0.001, 0.001);
    const before = offsetAt(m, 200000)!;
    const bound = errorBoundAt(m, 200000)!;
    shiftModel(m, 2);
    expect(offsetAt(m, 200000)!).toBeCloseTo(before - 2, 6);
    expect(errorBoundAt(m, 200000)!).toBeCloseTo(bound, 6);
    // And the next true sample is accepted, not taken for a step.
    expect(addSample(m, 150000, 1 + 50e-6 * 150, 0.001, 0.001)).toBe('accepted');
  });

  test('rebaseModel moves the model to another monotonic clock without changing what it predicts', () => {
    const m = createModel();
    for (let i = 0; i < 5; i++) addSample(m, 1e9 + i * 30000, 0.5 - 40e-6 * i * 30, 0.001, 0.001);
    const at = 1e9 + 200000;
    const o = offsetAt(m, at)!;
    const b = errorBoundAt(m, at)!;
    rebaseModel(m, -1e9);
    expect(offsetAt(m, at - 1e9)!).toBeCloseTo(o, 9);
    expect(errorBoundAt(m, at - 1e9)!).toBeCloseTo(b, 9);
  });

  test('longestIntervalS: the bound reaches the target exactly then, and a looser target waits longer', () => {
    const m = createModel();
    for (let i = 0; i < 8; i++) addSample(m, i * 1800000, 0.2 + 35e-6 * i * 1800, 0.03, 0.02);
    const now = 7 * 1800000 + 1000;
    const waitS = longestIntervalS(m, 0.1, now);
    expect(waitS).toBeGreaterThan(3600);
    expect(errorBoundAt(m, now + waitS * 1000)!).toBeCloseTo(0.1, 4);
    expect(errorBoundAt(m, now + waitS * 900)!).toBeLessThan(0.1);
    expect(longestIntervalS(m, 0.2, now)).toBeGreaterThan(waitS * 1.5);
    // A target tighter than the samples themselves cannot be met by waiting.
    expect(longestIntervalS(m, 0.01, now)).toBe(0);
  });

  test('a well-modelled clock polls rarely: 100 ms is kept for hours', () => {
    const m = createModel();
    for (let i = 0; i < 8; i++) addSample(m, i * 4 * 3600000, -0.05 + 48e-6 * i * 4 * 3600, 0.04, 0.025);
    // Bounded by the allowed wander (1 ppm) and the drift uncertainty, from 25 ms: about 8 hours.
    const waitS = longestIntervalS(m, 0.1, 7 * 4 * 3600000);
    expect(waitS).toBeGreaterThan(6 * 3600);
    expect(waitS).toBeLessThan(0.075 / (WANDER_PPM * 1e-6));
  });
});

describe('restoreModel', () => {
  test('a saved model comes back through JSON and predicts the same', () => {
    const m = createModel();
    for (let i = 0; i < 10; i++) addSample(m, i * 20000, 0.3 + 80e-6 * i * 20, 0.0005, 0.0004);
    addSample(m, 200000, 9, 0.0005, 0.0004);
    const r = restoreModel(JSON.parse(JSON.stringify(m)));
    expect(r).toEqual(m);
    expect(offsetAt(r!, 300000)).toBe(offsetAt(m, 300000));
  });

  test('anything that is not a model gives null', () => {
    const good = createModel();
    for (let i = 0; i < 3; i++) addSample(good, i * 20000, 0.3, 0.0005, 0.0004);
    const bad: unknown[] = [
      null, undefined, 0, 'model', [], {}, { ...good, t: [5, 0, 1] }, { ...good, t: [2, 1] }, { ...good, e: [0, 1, 1] },
      { ...good, o: [1.5, 2, 3] }, { ...good, f: 2e6 }, { ...good, n: '5' }, { ...good, w: -1 }, { ...good, t: new Array(9).fill(0) },
      { ...good, t: [40000, 20000, 1] }, { ...good, x: -1 }, { ...good, x: 0.5 }, { ...good, a: 0.5 }, { ...good, b: 2e6 },
      { ...good, s: -1 }, { ...good, s: 3e6 },
    ];
    for (const b of bad) expect(restoreModel(b), JSON.stringify(b)).toBeNull();
    expect(restoreModel(good)).not.toBeNull();
  });

  test('never throws, whatever JSON it is given', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const r = restoreModel(v);
      return r === null || Array.isArray(r.t);
    }), { numRuns: 2000 });
    // Shapes close to a model, with any JSON in any field.
    const field = fc.oneof(fc.jsonValue(), fc.array(fc.integer(), { maxLength: 9 }), fc.integer());
    fc.assert(fc.property(fc.record({ n: field, t: field, o: field, e: field, a: field, b: field, s: field, f: field, k: field, u: field, v: field, w: field, x: field }), (v) => {
      const r = restoreModel(v);
      if (r === null) return true;
      const at = r.n + 1000;
      return Number.isFinite(offsetAt(r, at) ?? 0) && Number.isFinite(errorBoundAt(r, at) ?? 0);
    }), { numRuns: 2000 });
  });
});

describe('property: any drift, offset, noise, delay and gap', () => {
  test('the true offset stays inside the bound, drift converges, and nothing is ever NaN or infinite', () => {
    let checks = 0;
    let inside = 0;
    fc.assert(fc.property(
      fc.record({
        seed: fc.integer({ min: 1, max: 2147483647 }),
        ratePpm: fc.double({ min: -500, max: 500, noNaN: true }),
        offsetS: fc.double({ min: -100000, max: 100000, noNaN: true }),
        baseDelayS: fc.double({ min: 10e-6, max: 0.3, noNaN: true }),
        queueFraction: fc.double({ min: 0, max: 2, noNaN: true }),
        asymmetry: fc.double({ min: -1, max: 1, noNaN: true }),
        rootS: fc.double({ min: 0, max: 0.05, noNaN: true }),
        // Frequency wander within what the model allows for, as a slow sine.
        wanderPpm: fc.double({ min: 0, max: WANDER_PPM, noNaN: true }),
        gapMinS: fc.double({ min: 15, max: 3600, noNaN: true }),
        gapSpread: fc.double({ min: 1, max: 40, noNaN: true }),
        samples: fc.integer({ min: 1, max: 30 }),
      }),
      (s) => {
        const random = lcg(s.seed);
        const periodS = 86400;
        // Offset with a drift of rate + wander·sin(2πt/P): its integral, exactly.
        const truth = (tS: number): number => s.offsetS + s.ratePpm * 1e-6 * tS + s.wanderPpm * 1e-6 * periodS / (2 * Math.PI) * (1 - Math.cos(2 * Math.PI * tS / periodS));
        const m = createModel();
        let tS = 0;
        for (let i = 0; i < s.samples; i++) {
          const gapS = s.gapMinS * (1 + random() * (s.gapSpread - 1));
          if (i > 0) {
            for (const f of [0.1, 0.5, 1]) {
              const at = tS + gapS * f;
              const o = offsetAt(m, at * 1000)!;
              const b = errorBoundAt(m, at * 1000)!;
              expect(Number.isFinite(o) && Number.isFinite(b) && b > 0).toBe(true);
              checks++;
              if (Math.abs(o - truth(at)) <= b) inside++;
            }
            expect(Number.isFinite(longestIntervalS(m, 0.1, tS * 1000))).toBe(true);
          }
          tS += gapS;
          const p = pathSample(random, s.baseDelayS, s.baseDelayS * s.queueFraction, s.asymmetry);
          const outcome = addSample(m, tS * 1000, truth(tS) + p.errorS, p.delayS, p.delayS / 2 + s.rootS);
          expect(['accepted', 'outlier', 'step']).toContain(outcome);
        }
        // The true drift (at the last sample, wander included) is within the uncertainty the model states.
        const trueDriftPpm = s.ratePpm + s.wanderPpm * Math.sin(2 * Math.PI * tS / periodS);
        if (s.samples >= 2) expect(Math.abs(driftPpm(m)! - trueDriftPpm)).toBeLessThanOrEqual(driftUncertaintyPpm(m)! + WANDER_PPM + 0.001);
        // Converges: with the window full, the uncertainty is no more than the pair of end samples allows.
        if (s.samples >= MODEL_WINDOW) {
          const spanS = m.t[0] / 1000;
          const widest = Math.max.apply(null, m.e) / 1e6 + WANDER_PPM * 1e-6 * spanS;
          expect(driftUncertaintyPpm(m)!).toBeLessThanOrEqual(4 * widest / spanS * 1e6 + 0.01);
        }
      },
    ), { numRuns: 400 });
    expect(checks).toBeGreaterThan(1000);
    expect(inside / checks).toBeGreaterThanOrEqual(0.99);
  });
});
