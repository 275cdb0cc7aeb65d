// Durations as people write them in configs and flags: "16s", "34m", "36h", "2d", or a number of seconds.

const UNIT_S: { [unit: string]: number } = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400 };

/** Seconds, or NaN when the text is not a duration. */
export function parseDurationS(input: string | number): number {
  if (typeof input === 'number') return input >= 0 && input < Infinity ? input : NaN;
  if (typeof input !== 'string') return NaN;
  // Split by hand: Espruino's RegExp has no ? quantifier, (?:...) group or | inside a group.
  const t = input.trim();
  let end = 0;
  while (end < t.length && '0123456789.'.indexOf(t.charAt(end)) >= 0) end++;
  const number = t.substring(0, end);
  const unit = t.substring(end).trim();
  if (!/^\d+$/.test(number) && !/^\d+\.\d+$/.test(number)) return NaN;
  if (unit !== '' && !Object.prototype.hasOwnProperty.call(UNIT_S, unit)) return NaN;
  return parseFloat(number) * (unit === '' ? 1 : UNIT_S[unit]);
}

function trimNumber(v: number): string {
  const r = Math.round(v * 10) / 10;
  return r === Math.floor(r) ? String(r) : r.toFixed(1);
}

/** A short human form: "15 s", "34 min", "1.5 h", "2 d". */
export function formatDurationS(seconds: number): string {
  const s = seconds < 0 ? 0 : seconds;
  if (s < 90) return Math.round(s) + ' s';
  if (s < 5400) return Math.round(s / 60) + ' min';
  if (s < 172800) return trimNumber(s / 3600) + ' h';
  return trimNumber(s / 86400) + ' d';
}
