// The clock model: offset and drift of the local clock against the server, and an honest bound on the error of
// the offset it predicts. Pure functions over a plain record that the scheduler persists with its state.
//
// Each accepted sample says where the true offset was: within its root distance of the measured offset (the path
// asymmetry is at most half the delay, and the server admits to the rest). The model keeps the last few of these
// intervals and fits a line through them:
// - the drift is a weighted least-squares slope (a sample whose path took longer than the window's shortest counts
//   less, with its extra delay);
// - its uncertainty is the range of slopes that pass through every interval (exact for a constant drift), widened
//   for frequency wander, and narrowed by what was known of the drift before the last step;
// - the bound at a time t is, over the samples, the least of (how far the fit misses the sample + the sample's
//   half-width + (drift uncertainty + wander) × |t − sample time|). Each term holds whenever the drift lies in its
//   range, so the bound holds without assuming any noise distribution.
// A sample whose interval misses the predicted band is an outlier. A second one that agrees with the first at the
// known drift is a step: the window starts again from the two and keeps the drift. A third outlier in a row means
// the frequency itself changed more than the wander allows: the window starts again and learns the drift anew.
//
// Sign convention: offset = server − local. Drift is the rate of change of the offset: a server whose clock runs
// 300 ppm faster than ours reads +300 ppm.
//
// Everything stored is an integer (Espruino prints floats with about 11 digits): times in ms on the caller's
// monotonic clock, offsets and half-widths in µs, drifts in ppb. Sample times are kept as ages relative to the
// newest one, which keeps them small (a number that does not fit 32 bits costs the board an extra variable), and
// makes a change of time base (a restart) one field: rebaseModel. What Math.min, max and ceil give passes through
// Math.round before it is stored: on Espruino they return a float even for a whole value, at the same extra cost.

import { fieldsOf, isInt, readList } from './saved-fields';

/** Samples kept for the fit. */
export const MODEL_WINDOW = 8;
/** No crystal is off by more than this, so no drift estimate and no drift uncertainty goes past it. */
export const MAX_DRIFT_PPM = 1000;
/**
 * How far the frequency may wander from the fitted one (temperature, ageing): the rate at which the bound grows
 * on top of the drift uncertainty. chrony's default for the same allowance (maxclockerror) is 1 ppm.
 */
export const WANDER_PPM = 1;

const MAX_DRIFT_PPB = MAX_DRIFT_PPM * 1000;
const WANDER_PPB = WANDER_PPM * 1000;
/** The finest half-width a sample may claim: the model stores µs. */
const MIN_HALF_WIDTH_US = 1;
/** Root distances past this are refused anywhere (chrony's limit is 16 s). */
const MAX_HALF_WIDTH_US = 1000000000;
/** Largest integer a double holds exactly (Number.MAX_SAFE_INTEGER, which Espruino lacks). */
const MAX_EXACT = 9007199254740991;

export interface ClockModel {
  /** Time of the newest sample, ms on the caller's monotonic clock. */
  n: number;
  /** Per sample, oldest first: age relative to the newest sample, ms (≥ 0, the newest is 0). */
  t: number[];
  /** Per sample: measured offset, µs. */
  o: number[];
  /** Per sample: half-width of the interval holding the true offset (root distance), µs (≥ 1). */
  e: number[];
  /** The fit: offset at time n, µs. */
  a: number;
  /** The fit: drift, ppb. */
  b: number;
  /** The fit: drift uncertainty (the true drift is within b ± s), ppb. */
  s: number;
  /** What was known of the drift before the window last started again: centre and half-width, ppb. */
  f: number;
  k: number;
  /** The last outlier, which the next may confirm as a step: its time after n (ms), offset (µs), half-width (µs; 0 = none). */
  u: number;
  v: number;
  w: number;
  /** Outliers in a row. */
  x: number;
}

/** What addSample did with a sample. */
export type SampleOutcome = 'accepted' | 'outlier' | 'step';

export function createModel(): ClockModel {
  return { n: 0, t: [], o: [], e: [], a: 0, b: 0, s: MAX_DRIFT_PPB, f: 0, k: MAX_DRIFT_PPB, u: 0, v: 0, w: 0, x: 0 };
}

function finite(x: unknown): x is number {
  // NaN - NaN and Infinity - Infinity are NaN; isFinite is not part of the core's subset.
  return typeof x === 'number' && x - x === 0;
}

function clampDrift(ppb: number): number {
  return Math.max(-MAX_DRIFT_PPB, Math.min(MAX_DRIFT_PPB, ppb));
}

/** The fit of an empty window: no offset known, the drift as known before. */
function fitPrior(m: ClockModel): void {
  m.a = 0;
  m.b = m.f;
  m.s = m.k;
}

/**
 * Refits a, b and s from the window and the prior. Slopes are in µs per s, which is ppm; times in s relative to
 * the newest sample, so the sums stay small and exact enough.
 */
function refit(m: ClockModel): void {
  const count = m.t.length;
  const priorPpm = m.f / 1000;
  let priorHalfPpm = m.k / 1000;
  if (count === 0) {
    fitPrior(m);
    return;
  }
  // A sample's interval widened by the wander since it was taken: an old sample constrains today's drift less.
  const widened: number[] = [];
  let narrowest = Infinity;
  for (var i = 0; i < count; i++) {
    widened.push(m.e[i] + WANDER_PPM * m.t[i] / 1000);
    narrowest = Math.min(narrowest, widened[i]);
  }
  // Weights: queueing only ever adds delay, so a sample's error beyond that of the shortest path in the window is
  // at most half its extra delay (the NTP clock filter's reasoning). The shortest path's own error is unknown
  // within its half-width: half of that is the floor. A uniform error on ±h has variance h²/3, so with weights
  // 3/h² the slope's variance is 1/sxx.
  const weights: number[] = [];
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (var j = 0; j < count; j++) {
    const h = widened[j] - narrowest / 2;
    const wt = 3 / (h * h);
    weights.push(wt);
    sw += wt;
    sx -= wt * m.t[j] / 1000;
    sy += wt * m.o[j];
  }
  const mx = sx / sw;
  const my = sy / sw;
  let sxx = 0;
  let sxy = 0;
  for (var k = 0; k < count; k++) {
    const dx = -m.t[k] / 1000 - mx;
    sxx += weights[k] * dx * dx;
    sxy += weights[k] * dx * (m.o[k] - my);
  }
  // The slopes that pass through every pair of intervals (for a line through vertical segments, the pairs decide).
  let lo = -MAX_DRIFT_PPM;
  let hi = MAX_DRIFT_PPM;
  for (var p = 0; p < count; p++) {
    for (var q = p + 1; q < count; q++) {
      const dt = (m.t[p] - m.t[q]) / 1000;
      if (dt > 0) {
        lo = Math.max(lo, (m.o[q] - widened[q] - m.o[p] - widened[p]) / dt);
        hi = Math.min(hi, (m.o[q] + widened[q] - m.o[p] + widened[p]) / dt);
      }
    }
  }
  // The prior is forgotten once the window's own fit, with three samples or more, puts the drift clearly elsewhere:
  // the frequency changed (a temperature shock, a board that trimmed its oscillator) more than the wander allowed.
  if (count >= 3 && sxx > 0 && Math.abs(sxy / sxx - priorPpm) > 3 / Math.sqrt(sxx) + priorHalfPpm) {
    m.k = MAX_DRIFT_PPB * 2;
    priorHalfPpm = MAX_DRIFT_PPM * 2;
  }
  // The prior narrows the range only where the two agree; if they do not, the window's own data win.
  if (m.k < MAX_DRIFT_PPB * 2 && lo <= hi && priorPpm - priorHalfPpm <= hi && priorPpm + priorHalfPpm >= lo) {
    lo = Math.max(lo, priorPpm - priorHalfPpm);
    hi = Math.min(hi, priorPpm + priorHalfPpm);
  }
  // The estimate: the fitted slope and the prior, each weighted by the inverse of its variance (the prior's half-
  // width taken as three standard deviations), then kept inside the range.
  const priorWeight = 9 / (priorHalfPpm * priorHalfPpm + 1e-12);
  let drift = sxx > 0 ? (sxy + priorPpm * priorWeight) / (sxx + priorWeight) : priorPpm;
  let half: number;
  if (lo <= hi) {
    drift = Math.max(lo, Math.min(hi, drift));
    half = Math.max(drift - lo, hi - drift);
  } else {
    // The intervals contradict a constant drift (more wander than allowed, or a server that erred beyond its own
    // root distance): the uncertainty covers both ends of the contradiction.
    half = Math.max(Math.abs(drift - lo), Math.abs(drift - hi));
  }
  m.b = Math.round(clampDrift(drift * 1000));
  m.s = Math.round(Math.min(2 * MAX_DRIFT_PPB, Math.ceil(half * 1000)));
  // The line through the weighted centre with the chosen slope, read at the newest sample.
  m.a = Math.round(my - m.b / 1000 * mx);
}

/** The fit's offset at a time, µs. */
function predictUs(m: ClockModel, atMs: number): number {
  return m.a + m.b * (atMs - m.n) / 1000000;
}

/** The error bound at a time, µs; Infinity before any sample. */
function boundUs(m: ClockModel, atMs: number): number {
  const growPpm = (m.s + WANDER_PPB) / 1000;
  let best = Infinity;
  for (var i = 0; i < m.t.length; i++) {
    const sampleMs = m.n - m.t[i];
    const miss = Math.abs(m.o[i] - predictUs(m, sampleMs));
    best = Math.min(best, miss + m.e[i] + growPpm * Math.abs(atMs - sampleMs) / 1000);
  }
  // One µs for the rounding of what is stored.
  return best + 1;
}

/**
 * Starts the window again from the given samples (times in ms, absolute). What the fit knew of the drift is kept as
 * the prior, unless keepDrift is false (the drift itself is in doubt).
 */
function restart(m: ClockModel, times: number[], offsets: number[], halves: number[], keepDrift: boolean): void {
  if (m.t.length > 0) {
    m.f = m.b;
    m.k = keepDrift ? Math.round(Math.min(2 * MAX_DRIFT_PPB, m.s + WANDER_PPB)) : 2 * MAX_DRIFT_PPB;
  }
  const newest = times[times.length - 1];
  m.n = newest;
  m.t = [];
  m.o = offsets;
  m.e = halves;
  for (var i = 0; i < times.length; i++) m.t.push(newest - times[i]);
  m.w = 0;
  m.x = 0;
  refit(m);
}

/**
 * Takes an accepted sample: at atMs (caller's monotonic clock), offset (server − local), the path's delay and the
 * root distance (the bound the server and the path give together), all in seconds. Returns what it did:
 * - 'accepted': the sample joined the window;
 * - 'outlier': it contradicts the model and was set aside (also for non-finite input);
 * - 'step': the model no longer held, and starts again from this sample and the outlier before it: either the two
 *   agree with each other at the known drift (the offset stepped; the drift is kept), or this is the third outlier
 *   in a row (the frequency changed more than the wander allows; the drift is learnt again).
 * A sample older than the newest one means the caller's clock is not the one the model was built on: the window
 * starts again from it ('accepted').
 */
export function addSample(m: ClockModel, atMs: number, offsetS: number, delayS: number, rootDistanceS: number): SampleOutcome {
  if (!finite(atMs) || !finite(offsetS) || !finite(delayS) || !finite(rootDistanceS) || Math.abs(atMs) > MAX_EXACT || Math.abs(offsetS) > MAX_EXACT / 1e6) return 'outlier';
  const at = Math.round(atMs);
  const offsetUs = Math.round(offsetS * 1e6);
  // The root distance already holds half the delay; the delay is a floor in case a caller's does not.
  const half = Math.round(Math.min(MAX_HALF_WIDTH_US, Math.max(MIN_HALF_WIDTH_US, Math.ceil(Math.max(rootDistanceS, delayS / 2) * 1e6))));
  const count = m.t.length;
  if (count === 0 || at < m.n) {
    restart(m, [at], [offsetUs], [half], true);
    return 'accepted';
  }
  if (Math.abs(offsetUs - predictUs(m, at)) > boundUs(m, at) + half) {
    const pendingMs = m.n + m.u;
    if (m.w > 0) {
      const grow = (m.s + WANDER_PPB) / 1e6;
      const agree = Math.abs(offsetUs - m.v - m.b * (at - pendingMs) / 1e6) <= half + m.w + grow * (at - pendingMs);
      if (agree || m.x >= 2) {
        restart(m, [pendingMs, at], [m.v, offsetUs], [m.w, half], agree);
        return 'step';
      }
    }
    m.u = at - m.n;
    m.v = offsetUs;
    m.w = half;
    m.x++;
    return 'outlier';
  }
  if (count === MODEL_WINDOW) {
    m.t.shift();
    m.o.shift();
    m.e.shift();
  }
  for (var i = 0; i < m.t.length; i++) m.t[i] += at - m.n;
  m.t.push(0);
  m.o.push(offsetUs);
  m.e.push(half);
  m.n = at;
  m.w = 0;
  m.x = 0;
  refit(m);
  return 'accepted';
}

/** The predicted offset (server − local) at atMs, seconds; null before any sample. */
export function offsetAt(m: ClockModel, atMs: number): number | null {
  return m.t.length > 0 ? predictUs(m, atMs) / 1e6 : null;
}

/** How far the true offset may be from offsetAt at atMs, seconds; null before any sample. */
export function errorBoundAt(m: ClockModel, atMs: number): number | null {
  return m.t.length > 0 ? boundUs(m, atMs) / 1e6 : null;
}

/** The drift (rate of change of the offset), ppm; null before any sample. */
export function driftPpm(m: ClockModel): number | null {
  return m.t.length > 0 ? m.b / 1000 : null;
}

/** What a sample reports of the model: its offset (s) and error bound (s) at a time, and its drift (ppm). */
export interface ModelReport {
  offsetS: number;
  driftPpm: number;
  maxErrorS: number;
}

/** The model at atMs, as a sample reports it. Before any sample it knows nothing: offset 0, drift 0, bound Infinity. */
export function reportAt(m: ClockModel, atMs: number): ModelReport {
  return { offsetS: predictUs(m, atMs) / 1e6, driftPpm: m.b / 1000, maxErrorS: boundUs(m, atMs) / 1e6 };
}

/** How far the true drift may be from driftPpm, ppm; null before any sample. */
export function driftUncertaintyPpm(m: ClockModel): number | null {
  return m.t.length > 0 ? m.s / 1000 : null;
}

/**
 * The longest wait from atMs before the bound reaches accuracyS, seconds: what accuracy alone asks of the poll
 * interval (the scheduler's politeness floors still apply). 0 before any sample, or when the bound is already
 * past the target.
 */
export function longestIntervalS(m: ClockModel, accuracyS: number, atMs: number): number {
  if (m.t.length === 0 || !finite(accuracyS) || !finite(atMs)) return 0;
  // The bound is the least of terms that each grow linearly after their sample: it reaches the target when the
  // last of them does.
  const growPerMs = (m.s + WANDER_PPB) / 1e6;
  const targetUs = accuracyS * 1e6 - 1;
  let reachMs = -Infinity;
  for (var i = 0; i < m.t.length; i++) {
    const sampleMs = m.n - m.t[i];
    const startUs = Math.abs(m.o[i] - predictUs(m, sampleMs)) + m.e[i];
    if (startUs <= targetUs) reachMs = Math.max(reachMs, sampleMs + (targetUs - startUs) / growPerMs);
  }
  return reachMs > atMs ? (reachMs - atMs) / 1000 : 0;
}

/**
 * The local clock lost its time (a board without a battery-backed clock, after a power cut): the samples' offsets
 * mean nothing any more, but the drift still holds, and becomes what the next samples start from.
 */
export function forgetOffsets(m: ClockModel): void {
  if (m.t.length > 0) {
    m.f = m.b;
    m.k = Math.round(Math.min(2 * MAX_DRIFT_PPB, m.s + WANDER_PPB));
  }
  m.t = [];
  m.o = [];
  m.e = [];
  m.w = 0;
  m.x = 0;
  fitPrior(m);
}

/** After the local clock was stepped by stepS (forward positive), every offset moves the other way. */
export function shiftModel(m: ClockModel, stepS: number): void {
  if (!finite(stepS)) return;
  const us = Math.round(stepS * 1e6);
  for (var i = 0; i < m.o.length; i++) m.o[i] -= us;
  m.a -= us;
  m.v -= us;
}

/**
 * Moves the model to another monotonic time base: a time t on the old clock is t + deltaMs on the new one. For a
 * restart, save the model rebased by −(now) and restore it rebased by +(now on the new clock + the time that
 * passed while off, if the local clock kept running).
 */
export function rebaseModel(m: ClockModel, deltaMs: number): void {
  if (finite(deltaMs)) m.n = Math.round(m.n + deltaMs);
}

function integers(x: unknown, lo: number, hi: number): number[] | null {
  return readList(x, (e) => (isInt(e, lo, hi) ? e : null), MODEL_WINDOW);
}

/**
 * A model from whatever was stored, or null if it is not one. Never throws. The fit is read and range-checked like
 * every other field, not recomputed: the saver computed it from the same samples, the next sample refits it, and the
 * fitting code then stays out of what a board loads to start.
 */
export function restoreModel(raw: unknown): ClockModel | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const r = fieldsOf(raw);
  const t = integers(r.t, 0, MAX_EXACT);
  const o = integers(r.o, -MAX_EXACT, MAX_EXACT);
  const e = integers(r.e, MIN_HALF_WIDTH_US, MAX_HALF_WIDTH_US);
  if (!t || !o || !e || o.length !== t.length || e.length !== t.length) return null;
  // Ages from oldest to newest fall to 0.
  for (var i = 0; i < t.length; i++) {
    if (i > 0 && t[i] > t[i - 1]) return null;
  }
  if (t.length > 0 && t[t.length - 1] !== 0) return null;
  if (!isInt(r.n, -MAX_EXACT, MAX_EXACT) || !isInt(r.f, -MAX_DRIFT_PPB, MAX_DRIFT_PPB) || !isInt(r.k, 0, 2 * MAX_DRIFT_PPB)) return null;
  const w = r.w;
  if (!isInt(r.u, 0, MAX_EXACT) || !isInt(r.v, -MAX_EXACT, MAX_EXACT) || !(w === 0 || isInt(w, MIN_HALF_WIDTH_US, MAX_HALF_WIDTH_US))) return null;
  if (!isInt(r.x, 0, MAX_EXACT)) return null;
  if (!isInt(r.a, -MAX_EXACT, MAX_EXACT) || !isInt(r.b, -MAX_DRIFT_PPB, MAX_DRIFT_PPB) || !isInt(r.s, 0, 2 * MAX_DRIFT_PPB)) return null;
  return { n: r.n, t: t, o: o, e: e, a: r.a, b: r.b, s: r.s, f: r.f, k: r.k, u: r.u, v: r.v, w: w, x: r.x };
}
