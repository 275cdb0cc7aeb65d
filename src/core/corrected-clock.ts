// Corrected time: the local clock plus the clock model's offset, made safe to read. The model's offset moves in
// jumps (each sample refits it), and a clock that jumps back breaks whatever timestamps events with it. So the
// corrected clock runs on the caller's monotonic clock plus a correction that follows the model's target at a
// bounded rate, as ntpd and chrony slew the system clock: between two readings the correction changes by at most
// SLEW_PPM of the monotonic time that passed, so corrected time never goes backwards and never runs more than
// 0.05 % fast or slow. A correction too large to slew in reasonable time is stepped instead, and reported.
// Pure functions over a small record; it is runtime state, not persisted.

/** The fastest the correction moves, ppm of elapsed time (ntpd and the Linux kernel slew at most 500 ppm). */
export const SLEW_PPM = 500;
/**
 * A correction larger than this is stepped rather than slewed, s (ntpd's step threshold, 128 ms). At 500 ppm,
 * slewing 128 ms takes about 4 minutes; anything larger would leave the time visibly wrong for much longer.
 */
export const STEP_THRESHOLD_S = 0.128;

export interface CorrectedClock {
  /** Monotonic time of the last reading, ms (caller's clock). */
  m: number;
  /**
   * Corrected time minus monotonic time, ms: b, fixed at the first reading, plus k. Kept in two parts since b is
   * of the order of 1.7e12, where a double cannot hold the µs steps of a slew.
   */
  b: number;
  k: number;
  /** Whether there was a reading yet. */
  r: boolean;
}

export interface CorrectedReading {
  /** Corrected time, Unix ms. */
  ms: number;
  /** The step taken at this reading, s (positive: forward), or 0: corrected time is monotonic except across a step. */
  stepS: number;
  /** How far the corrected time still is from the model's, s (positive: behind); slewing takes it away. */
  pendingS: number;
}

export function createCorrectedClock(): CorrectedClock {
  return { m: 0, b: 0, k: 0, r: false };
}

/**
 * Reads the corrected time at monoMs, given the local wall clock at that instant (Unix ms) and the model's offset
 * (server − local, s; null when there is no model yet, which holds the correction where it is, or at 0 before the
 * first reading).
 */
export function readCorrected(c: CorrectedClock, monoMs: number, wallMs: number, offsetS: number | null): CorrectedReading {
  if (!c.r) c.b = wallMs - monoMs;
  let target: number | null = null;
  // NaN - NaN is NaN: a non-finite offset counts as none (isFinite is not part of the core's subset).
  if (offsetS !== null && offsetS - offsetS === 0) target = wallMs - monoMs - c.b + offsetS * 1000;
  else if (!c.r) target = 0;
  let stepS = 0;
  if (!c.r) {
    c.k = target === null ? 0 : target;
    c.r = true;
  } else {
    // A monotonic clock that went back means a new time base: the corrected time holds still rather than jump back.
    if (monoMs < c.m) c.k += c.m - monoMs;
    if (target !== null) {
      const gap = target - c.k;
      const budget = SLEW_PPM * 1e-6 * (monoMs < c.m ? 0 : monoMs - c.m);
      if (Math.abs(gap) <= budget) c.k = target;
      else if (Math.abs(gap) > STEP_THRESHOLD_S * 1000) {
        c.k = target;
        stepS = gap / 1000;
      } else c.k += gap > 0 ? budget : -budget;
    }
  }
  c.m = monoMs;
  return { ms: monoMs + c.b + c.k, stepS: stepS, pendingS: target === null ? 0 : (target - c.k) / 1000 };
}
