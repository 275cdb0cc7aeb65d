// Durations as people write them in configs and flags: "16s", "34m", "36h", "2d", or a number of seconds.

/** True in the firmware build only (firmware/build.js). */
declare const KISSTIME_FIRMWARE: boolean;

const UNIT_S: { [unit: string]: number } = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400 };

/** Seconds, or NaN when the text is not a duration. */
export function parseDurationS(input: string | number): number {
  // Split by hand: Espruino's RegExp has no ? quantifier or (?:...) group. Only digits and dots reach +number,
  // so hex, exponents and signs are refused; "1.2.3" and "" are NaN there.
  const t = typeof input === 'string' ? input.trim() : '';
  let end = 0;
  while (end < t.length && '0123456789.'.indexOf(t.charAt(end)) >= 0) end++;
  const unit = t.substring(end).trim() || 's';
  const value = typeof input === 'number' ? input : (end > 0 && Object.prototype.hasOwnProperty.call(UNIT_S, unit) ? +t.substring(0, end) * UNIT_S[unit] : NaN);
  return value >= 0 && value < Infinity ? value : NaN;
}

/** A short human form: "0.1 s", "15 s", "34 min", "1.5 h", "2 d". */
export function formatDurationS(seconds: number): string {
  // On a board only config errors print durations, and plain seconds are clear enough there.
  if (typeof KISSTIME_FIRMWARE !== 'undefined') return seconds + ' s';
  const s = seconds < 0 ? 0 : seconds;
  const unit = s < 90 ? 1 : (s < 5400 ? 60 : (s < 172800 ? 3600 : 86400));
  // Whole seconds and minutes (a sub-second value keeps its milliseconds); hours and days one decimal.
  const places = s < 1 ? 1000 : (unit < 3600 ? 1 : 10);
  return Math.round(s / unit * places) / places + (unit === 1 ? ' s' : (unit === 60 ? ' min' : (unit === 3600 ? ' h' : ' d')));
}
