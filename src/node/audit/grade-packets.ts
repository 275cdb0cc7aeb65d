// The rules about what a request carries: a random nonce rather than the clock in the transmit timestamp, nothing
// else but zeros, and a source port that is not 123 and preferably new each time.

import { secondsText } from './grade-timing';
import { RuleResult, SeenRequest } from './types';
import { hexDiffS, hexFromUnixMs, ZERO_HEX } from './wire';

export const PACKET_CLAUSES = {
  clock: 'draft-ietf-ntp-data-minimization §3, RFC 8633 §5.1: the transmit timestamp is a random nonce; the send time stays on the client',
  fields: 'RFC 4330 §5: every field but the first octet and the transmit timestamp may be zero; data minimisation asks that they are',
  port: 'RFC 9109 §3: a randomised source port, never 123 (a fresh one per request, as chrony and Kisstime do, is best)',
} as const;

/** A timestamp within this of our clock is the client's clock: a random 64-bit value lands there about once in 600,000. */
const NEAR_CLOCK_S = 3600;
/** Two transmit timestamps that move apart by the real time between them, within this, are readings of a clock. */
const TRACKS_CLOCK_S = 0.5;

function full(requests: SeenRequest[]): SeenRequest[] {
  return requests.filter((r) => r.length >= 48);
}

/** How far hex is from our clock at the request's arrival (or from the time we served, if that was offset); null if far. */
function nearClockS(hex: string, r: SeenRequest, offsetS: number): number | null {
  if (hex === ZERO_HEX) return null;
  const candidates = offsetS === 0 ? [0] : [0, offsetS];
  let best: number | null = null;
  for (const o of candidates) {
    const d = hexDiffS(hex, hexFromUnixMs(r.wallMs + o * 1000));
    if (Math.abs(d) < NEAR_CLOCK_S && (best === null || Math.abs(d) < Math.abs(best))) best = d;
  }
  return best;
}

export function gradeClockLeak(requests: SeenRequest[], offsetS: number): RuleResult {
  const rule = 'clock-leak';
  const clause = PACKET_CLAUSES.clock;
  const seen = full(requests);
  if (seen.length === 0) return { rule, verdict: 'not-judged', clause, detail: requests.length ? 'only runts (shorter than 48 bytes)' : 'no request' };
  const near: number[] = [];
  for (const r of seen) {
    const d = nearClockS(r.transmit, r, offsetS);
    if (d !== null) near.push(d);
  }
  let tracking = 0;
  let trackedOffsetS = 0;
  for (let i = 1; i < seen.length; i++) {
    const dt = seen[i].atS - seen[i - 1].atS;
    if (dt < 1 || seen[i].transmit === ZERO_HEX || seen[i - 1].transmit === ZERO_HEX) continue;
    if (Math.abs(hexDiffS(seen[i].transmit, seen[i - 1].transmit) - dt) < TRACKS_CLOCK_S) {
      tracking++;
      trackedOffsetS = hexDiffS(seen[i].transmit, hexFromUnixMs(seen[i].wallMs));
    }
  }
  if (near.length > 0) {
    const closest = near.reduce((a, b) => (Math.abs(b) < Math.abs(a) ? b : a));
    return {
      rule, verdict: 'fail', clause,
      detail: 'the transmit timestamp is the client\'s clock in ' + near.length + ' of ' + seen.length + ' requests (closest ' + (Math.abs(closest) < 1 ? (closest * 1000).toFixed(1) + ' ms' : secondsText(Math.abs(closest))) + ' from ours)',
    };
  }
  if (tracking > 0) {
    return {
      rule, verdict: 'fail', clause,
      detail: 'transmit timestamps advance with real time between requests (' + tracking + ' pairs): a clock ' + secondsText(Math.abs(trackedOffsetS)) + (trackedOffsetS < 0 ? ' behind' : ' ahead') + ' of ours',
    };
  }
  const zero = seen.filter((r) => r.transmit === ZERO_HEX).length;
  if (zero > 0) {
    return { rule, verdict: 'warn', clause, detail: 'transmit timestamp zero in ' + zero + ' of ' + seen.length + ' requests: without a nonce the client cannot tell a forged reply (or kiss) from the real one' };
  }
  const distinct = new Set(seen.map((r) => r.transmit)).size;
  if (distinct < seen.length) return { rule, verdict: 'warn', clause, detail: 'the same transmit value in more than one request: a nonce should be new each time' };
  return { rule, verdict: 'pass', clause, detail: seen.length + (seen.length === 1 ? ' request carries' : ' requests carry') + ' random-looking nonces' };
}

type FieldName = 'LI' | 'stratum' | 'poll' | 'precision' | 'root delay' | 'root dispersion' | 'refid' | 'reference' | 'origin' | 'receive';

const TIMESTAMP_FIELDS: ('reference' | 'origin' | 'receive')[] = ['reference', 'origin', 'receive'];

export function gradeOtherFields(requests: SeenRequest[], offsetS: number): RuleResult {
  const rule = 'other-fields';
  const clause = PACKET_CLAUSES.fields;
  const seen = full(requests);
  if (seen.length === 0) return { rule, verdict: 'not-judged', clause, detail: requests.length ? 'only runts (shorter than 48 bytes)' : 'no request' };
  const counts = new Map<string, number>();
  const leaks = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string): void => {
    m.set(k, (m.get(k) ?? 0) + 1);
  };
  const ours = new Set<string>();
  for (const r of seen) {
    const scalar: [FieldName, number, string][] = [
      ['LI', r.leap, String(r.leap)], ['stratum', r.stratum, String(r.stratum)], ['poll', r.poll, String(r.poll)],
      ['precision', r.precision, String(r.precision)], ['root delay', r.rootDelay, ''], ['root dispersion', r.rootDispersion, ''],
      ['refid', r.refId, ''],
    ];
    for (const [name, value, shown] of scalar) if (value !== 0) bump(counts, shown ? name + ' ' + shown : name);
    for (const name of TIMESTAMP_FIELDS) {
      const hex = r[name];
      if (hex === ZERO_HEX) continue;
      if (ours.has(hex)) bump(counts, name + ' (echoes our reply)');
      else if (nearClockS(hex, r, offsetS) !== null) bump(leaks, name);
      else bump(counts, name);
    }
    if (r.ourTransmit !== ZERO_HEX) ours.add(r.ourTransmit);
  }
  if (leaks.size > 0) {
    const which = Array.from(leaks.entries()).map(([k, n]) => k + ' (' + n + ' of ' + seen.length + ')');
    return { rule, verdict: 'fail', clause, detail: 'the client\'s clock is in the ' + which.join(', ') + ' timestamp' + (leaks.size > 1 ? 's' : '') };
  }
  if (counts.size > 0) {
    const which = Array.from(counts.entries()).map(([k, n]) => (n === seen.length ? k : k + ' (' + n + ' of ' + seen.length + ')'));
    return { rule, verdict: 'warn', clause, detail: 'non-zero: ' + which.join(', ') };
  }
  return { rule, verdict: 'pass', clause, detail: 'every field zero but the first octet and the transmit nonce' };
}

export function gradeSourcePort(requests: SeenRequest[]): RuleResult {
  const rule = 'source-port';
  const clause = PACKET_CLAUSES.port;
  const ports = requests.map((r) => r.from.port);
  if (ports.indexOf(123) >= 0) return { rule, verdict: 'warn', clause, detail: 'sent from port 123 in ' + ports.filter((p) => p === 123).length + ' of ' + ports.length + ' requests' };
  if (ports.length < 2) return { rule, verdict: 'not-judged', clause, detail: ports.length ? 'one request (port ' + ports[0] + ')' : 'no request' };
  const distinct = new Set(ports).size;
  if (distinct === 1) {
    return { rule, verdict: 'warn', clause, detail: 'one source port (' + ports[0] + ') for all ' + ports.length + ' requests: RFC 9109 allows one per association, but a fresh port per request makes a forged reply harder to aim' };
  }
  if (distinct < ports.length) return { rule, verdict: 'pass', clause, detail: distinct + ' source ports for ' + ports.length + ' requests' };
  return { rule, verdict: 'pass', clause, detail: 'a new source port for each of the ' + ports.length + ' requests' };
}
