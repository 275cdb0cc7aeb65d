// The numbers that make Kisstime polite. Every adapter and the fleet simulator get them from here.

/** RFC 4330 §10: never two requests to one server less than 15 s apart, whatever the config or trigger. */
export const FLOOR_S = 15;
/** The smallest minimum interval anyone may configure (a LAN server of one's own). */
export const MIN_INTERVAL_FLOOR_S = 16;
/** NTP Pool rule for SNTP clients, and our floor for any server the operator does not run. */
export const PUBLIC_MIN_INTERVAL_FLOOR_S = 1800;
/** Default poll range 2^11 s .. 2^17 s (about 34 min .. 36 h). */
export const DEFAULT_MIN_INTERVAL_S = 2048;
export const DEFAULT_MAX_INTERVAL_S = 131072;
/** RFC 4330 suggests 1-5 minutes after power-on, so a blackout's end does not bring every device at once. */
export const DEFAULT_STARTUP_DELAY_MIN_S = 1;
export const DEFAULT_STARTUP_DELAY_MAX_S = 300;
/** How long a reply may take: "a few seconds". */
export const DEFAULT_TIMEOUT_S = 5;
export const DEFAULT_MAX_ROOT_DISTANCE_S = 5;
/** The error bound a user needs unless they say otherwise. */
export const DEFAULT_ACCURACY_S = 0.1;
/** Jitter multiplies every interval by a factor in [1, 1 + JITTER_FRACTION), so polls never align to the clock. */
export const JITTER_FRACTION = 0.1;
/** After a server or name stops answering, resolve its name at most this often. */
export const DNS_RETRY_AFTER_FAILURE_S = 3600;
/** A resolver that never answers is treated as a failure after this long. */
export const DNS_TIMEOUT_S = 30;
/** An offset change bigger than this between samples means the clock is not keeping up: poll more often. */
export const OFFSET_JUMP_S = 0.128;
/**
 * While a restored wait runs, the state is saved this often so that a board in a reboot loop is credited with the
 * time it has provably been up (without it, every boot would start the saved wait afresh and never poll). Rare
 * enough to spare the flash: it stops once this boot has sent its first request.
 */
export const UPTIME_CREDIT_S = 120;
/** Bounds on remembered addresses, so state per device stays constant however often DNS rotates. */
export const MAX_HOLDS = 16;
export const MAX_ADDRESSES_PER_SERVER = 4;
export const NTP_PORT = 123;

export function isPoolName(host: string): boolean {
  // The leading dot makes "pool.ntp.org" itself match; trailing dots (absolute names) are the same name.
  return /\.pool\.ntp\.org\.*$/i.test('.' + host);
}

/** The smallest minimum interval allowed for this server. */
export function minIntervalFloorS(host: string, lanServer: boolean): number {
  if (isPoolName(host) || !lanServer) return PUBLIC_MIN_INTERVAL_FLOOR_S;
  return MIN_INTERVAL_FLOOR_S;
}

/**
 * Once a device has had time, a silent server is asked again at least this often (2^12 s, about 68 min): after an
 * outage of hours the fleet is back within its accuracy soon after the servers return, where doubling up to the
 * maximum interval left some devices outside it for hours. A device that never had an answer keeps doubling to the
 * maximum, since its servers may be wrong or gone for good. chrony and ntpd-rs retry an unreachable source every
 * 2^10 s; the NTP Pool asks for at most one query per 30 min.
 */
export const SILENCE_RETRY_ONCE_SYNCED_S = 4096;

/**
 * Silence backoff: the wait before the n-th retry (n >= 1) doubles from the minimum interval up to the maximum, or
 * up to SILENCE_RETRY_ONCE_SYNCED_S for a device that has had time (never below the minimum interval).
 */
export function backoffS(failures: number, minIntervalS: number, maxIntervalS: number, hasHadTime: boolean): number {
  let wait = Math.max(minIntervalS, MIN_INTERVAL_FLOOR_S);
  const ceiling = hasHadTime ? Math.max(wait, Math.min(maxIntervalS, SILENCE_RETRY_ONCE_SYNCED_S)) : maxIntervalS;
  for (var n = failures; --n > 0 && wait < ceiling;) wait *= 2;
  return Math.min(wait, ceiling);
}

export function jittered(seconds: number, random: () => number): number {
  return seconds * (1 + JITTER_FRACTION * random());
}
