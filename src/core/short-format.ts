// NTP short format (16.16 fixed point), used by root delay and root dispersion.

export function shortFormatToSeconds(raw: number): number {
  return raw / 65536;
}

export function secondsToShortFormat(seconds: number): number {
  if (!(seconds > 0)) return 0;
  const raw = Math.round(seconds * 65536);
  return raw > 4294967295 ? 4294967295 : raw;
}
