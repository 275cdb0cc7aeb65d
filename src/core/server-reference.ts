// What the server says about its own time: stratum, leap indicator, refid, reference timestamp, root delay and
// dispersion, and the offset that turns the local clock into the time it serves. It comes from the last upstream
// sample, from "serve local clock at stratum N", or says plainly that the server is not synchronised.

import { LEAP_UNSYNCHRONISED } from './codec';
import { LOCAL_CLOCK_REFID, refIdForAddress } from './server-refid';
import { addSeconds, NtpTimestamp, ZERO_TIMESTAMP } from './timestamp';

/** Stratum 16 means "unsynchronised" (RFC 5905 §7.3); stratum 0 would read as a kiss. */
export const UNSYNCHRONISED_STRATUM = 16;
/** How fast an unrefreshed clock's error is assumed to grow: a typical crystal's frequency error (RFC 5905 PHI). */
export const DISPERSION_RATE_S_PER_S = 15e-6;

export interface ServedReference {
  synced: boolean;
  leap: number;
  stratum: number;
  refId: number;
  /** The last upstream sync, in served time; zero for the local clock (answers use their receive time). */
  reference: NtpTimestamp;
  rootDelayS: number;
  /** At the moment of sync; it grows by DISPERSION_RATE_S_PER_S from atMs. */
  rootDispersionS: number;
  /** Added to the local clock to get the time served. */
  offsetS: number;
  /** Monotonic ms of the sync, for dispersion growth. */
  atMs: number;
  /** Whether the reference timestamp is the receive time of each request (the local clock is its own reference). */
  referenceIsNow: boolean;
}

export function unsynchronisedReference(): ServedReference {
  return {
    synced: false,
    leap: LEAP_UNSYNCHRONISED,
    stratum: UNSYNCHRONISED_STRATUM,
    refId: 0,
    reference: ZERO_TIMESTAMP,
    rootDelayS: 0,
    rootDispersionS: 0,
    offsetS: 0,
    atMs: 0,
    referenceIsNow: false,
  };
}

/** An isolated site's choice: the local clock, uncorrected, at a stratum the operator picked. */
export function localClockReference(stratum: number): ServedReference {
  return {
    synced: true,
    leap: 0,
    stratum: stratum,
    refId: LOCAL_CLOCK_REFID,
    reference: ZERO_TIMESTAMP,
    rootDelayS: 0,
    rootDispersionS: 0,
    offsetS: 0,
    atMs: 0,
    referenceIsNow: true,
  };
}

export interface UpstreamSync {
  /** Upstream's own leap indicator, stratum, root delay and dispersion, from its reply. */
  leap: number;
  stratum: number;
  rootDelayS: number;
  rootDispersionS: number;
  /** Round-trip delay to the upstream, s. */
  delayS: number;
  /** The upstream's address as asked (refid source). */
  address: string;
  /** The (filtered) offset of the local clock against the upstream, s. */
  offsetS: number;
  /** Local clock at the moment the sample arrived. */
  syncedAtLocal: NtpTimestamp;
  atMs: number;
}

/** Stratum upstream + 1, refid = upstream address, reference = the sync moment in served time; LI follows upstream. */
export function upstreamReference(u: UpstreamSync): ServedReference {
  const stratum = u.stratum + 1;
  if (!(stratum >= 2 && stratum <= 15) || u.leap === LEAP_UNSYNCHRONISED) return unsynchronisedReference();
  const delayS = u.delayS > 0 ? u.delayS : 0;
  return {
    synced: true,
    leap: u.leap,
    stratum: stratum,
    refId: refIdForAddress(u.address),
    reference: addSeconds(u.syncedAtLocal, u.offsetS),
    rootDelayS: u.rootDelayS + delayS,
    // Half the round trip is the most the offset can be wrong by on top of what the upstream admits to.
    rootDispersionS: u.rootDispersionS + delayS / 2,
    offsetS: u.offsetS,
    atMs: u.atMs,
    referenceIsNow: false,
  };
}
