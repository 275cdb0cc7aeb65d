// Durations as people write them in configs and flags: "16s", "34m", "36h", "2d", or a number of seconds.

const UNIT_S: { [unit: string]: number } = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400 };

/** Seconds, or NaN when the text is not a duration. */
export function parseDurationS(input: string | number): number {
  // Only digits and dots reach +number, so hex, exponents and signs are refused; "1.2.3" is NaN there.
  const m = typeof input === 'string' ? /^\s*([\d.]+)\s*([a-z]*)\s*$/.exec(input) : null;
  const unit = m ? m[2] || 's' : '';
  const value = typeof input === 'number' ? input : (m && Object.prototype.hasOwnProperty.call(UNIT_S, unit) ? +m[1] * UNIT_S[unit] : NaN);
  return value >= 0 && value < Infinity ? value : NaN;
}

/** A short human form: "0.1 s", "15 s", "34 min", "1.5 h", "2 d". */
export function formatDurationS(seconds: number): string {
  const s = seconds < 0 ? 0 : seconds;
  const unit = s < 90 ? 1 : (s < 5400 ? 60 : (s < 172800 ? 3600 : 86400));
  // Whole seconds and minutes (a sub-second value keeps its milliseconds); hours and days one decimal.
  const places = s < 1 ? 1000 : (unit < 3600 ? 1 : 10);
  return Math.round(s / unit * places) / places + (unit === 1 ? ' s' : (unit === 60 ? ' min' : (unit === 3600 ? ' h' : ' d')));
}
