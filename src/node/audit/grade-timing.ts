// The rules about when a client asks: the 15 s floor, stopping after DENY/RSTR, slowing down after RATE, backing off
// in silence, and not being silenced by a forged kiss. Pure functions of the requests seen.

import { RuleResult, SeenRequest } from './types';

/** RFC 4330 §10's floor, less what timers and the network may shave off a client that aims at exactly 15 s. */
export const FLOOR_S = 15;
const FLOOR_TOLERANCE_S = 0.1;
/** A request this soon after a kiss was already on its way when the kiss arrived. */
const IN_FLIGHT_S = 0.1;
/** "Longer" means at least this much longer: random jitter alone (chrony 2 %, ntpd-rs 5 %, Kisstime 10 %) stays under it. */
const GROWTH = 1.2;
/**
 * Retries at an unchanged pace before a backoff must show: chrony asks four times at its poll interval before it
 * doubles it (seen on chrony 4.3: 16, 16, 16, 16, 32 s), which is patient, not rude.
 */
const SAME_PACE_RETRIES = 4;

export const CLAUSES = {
  asked: 'the audit can only judge requests it sees',
  floor: 'RFC 4330 §10: a client MUST NOT poll less than 15 s apart, under any conditions',
  kissStop: 'RFC 5905 §7.4: after DENY or RSTR the client MUST stop sending to that server',
  rate: 'RFC 5905 §7.4: after RATE the client MUST poll less often at once, and less often again at each RATE',
  silence: 'RFC 4330 §10, RFC 5905 §13: poll less often while a server does not answer (exponential backoff)',
  spoof: 'RFC 8633 §5.4, RFC 5905 §8: a kiss counts only if its origin timestamp matches the request',
} as const;

/** What the good scenario showed about the client's usual pace; null when good was not played. */
export interface Baseline {
  requests: number;
  medianIntervalS: number | null;
}

export function intervalsOf(requests: SeenRequest[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < requests.length; i++) out.push(requests[i].atS - requests[i - 1].atS);
  return out;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function secondsText(seconds: number): string {
  return (seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1)) + ' s';
}

function list(values: number[]): string {
  const shown = values.slice(0, 6).map((v) => (v < 10 ? v.toFixed(2) : v.toFixed(1)));
  return shown.join(', ') + (values.length > 6 ? ', …' : '') + ' s';
}

export function gradeAsked(requests: SeenRequest[], seconds: number, required: boolean): RuleResult {
  const n = requests.length;
  if (n > 0) return { rule: 'asked', verdict: 'pass', clause: CLAUSES.asked, detail: n + (n === 1 ? ' request' : ' requests') + ' in ' + secondsText(seconds) };
  return {
    rule: 'asked', verdict: required ? 'fail' : 'not-judged', clause: CLAUSES.asked,
    detail: 'no request in ' + secondsText(seconds) + (required ? ': nothing could be judged (shorten the client\'s start-up delay or lengthen --seconds)' : ''),
  };
}

/** priorAtS: the last request before this scenario (listen mode), in this scenario's time base, or null. */
export function gradeFloor(requests: SeenRequest[], priorAtS: number | null): RuleResult {
  const times = (priorAtS === null ? [] : [priorAtS]).concat(requests.map((r) => r.atS));
  if (times.length < 2) return { rule: 'floor', verdict: 'not-judged', clause: CLAUSES.floor, detail: 'fewer than two requests' };
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(times[i] - times[i - 1]);
  const short = gaps.filter((g) => g < FLOOR_S - FLOOR_TOLERANCE_S);
  const shortest = Math.min(...gaps);
  if (short.length > 0) {
    return { rule: 'floor', verdict: 'fail', clause: CLAUSES.floor, detail: short.length + ' of ' + gaps.length + ' intervals under 15 s; shortest ' + secondsText(shortest) };
  }
  return { rule: 'floor', verdict: 'pass', clause: CLAUSES.floor, detail: 'shortest interval ' + secondsText(shortest) };
}

function isKiss(r: SeenRequest): boolean {
  return r.reply === 'kiss-DENY' || r.reply === 'kiss-RSTR' || r.reply === 'kiss-RATE';
}

function oneShotNote(what: string): string {
  return what + ', but it asked only once with good replies too (a one-shot), so this says nothing about the kiss; '
    + '--rerun S starts it again every S seconds, as a cron job would';
}

export function gradeKissStop(requests: SeenRequest[], seconds: number, baseline: Baseline | null): RuleResult {
  const first = requests.find(isKiss);
  const rule = 'kiss-stop';
  if (!first) return { rule, verdict: 'not-judged', clause: CLAUSES.kissStop, detail: 'no request, so no kiss was sent' };
  const code = first.reply.substring(5);
  const after = requests.filter((r) => r.atS > first.atS + IN_FLIGHT_S);
  if (after.length > 0) {
    return {
      rule, verdict: 'fail', clause: CLAUSES.kissStop,
      detail: 'asked ' + after.length + ' more time' + (after.length === 1 ? '' : 's') + ' after the ' + code + ', the first ' + secondsText(after[0].atS - first.atS) + ' later',
    };
  }
  const window = seconds - first.atS;
  const silentFor = 'no request in the ' + secondsText(window) + ' after the ' + code;
  if (!baseline) return { rule, verdict: 'not-judged', clause: CLAUSES.kissStop, detail: silentFor + ', but good was not played, so its usual pace is unknown' };
  if (baseline.requests < 2 || baseline.medianIntervalS === null) return { rule, verdict: 'not-judged', clause: CLAUSES.kissStop, detail: oneShotNote(silentFor) };
  if (window < 2 * baseline.medianIntervalS) {
    return { rule, verdict: 'not-judged', clause: CLAUSES.kissStop, detail: silentFor + ', less than twice its usual interval of ' + secondsText(baseline.medianIntervalS) };
  }
  return { rule, verdict: 'pass', clause: CLAUSES.kissStop, detail: silentFor + ' (it asked every ' + secondsText(baseline.medianIntervalS) + ' with good replies)' };
}

/** priorAtS: the device's last request before this scenario (listen mode, where RATE is sent from the first request). */
export function gradeRateBackoff(requests: SeenRequest[], seconds: number, priorAtS: number | null): RuleResult {
  const rule = 'rate-backoff';
  const k = requests.findIndex((r) => r.reply === 'kiss-RATE');
  if (k < 0) return { rule, verdict: 'not-judged', clause: CLAUSES.rate, detail: requests.length === 0 ? 'no request' : 'asked once (answered with time), so no RATE was sent' };
  const before = k > 0 ? requests[k].atS - requests[k - 1].atS : priorAtS !== null ? requests[0].atS - priorAtS : null;
  const after = intervalsOf(requests.slice(k));
  const open = seconds - requests[requests.length - 1].atS;
  const shown = (before !== null ? 'intervals ' + secondsText(before) + ' before the first RATE' : 'first RATE at ' + secondsText(requests[k].atS))
    + (after.length ? ', then ' + list(after) : '');
  if (after.length === 0) {
    if (before !== null && open >= GROWTH * before && open >= FLOOR_S) {
      return { rule, verdict: 'pass', clause: CLAUSES.rate, detail: 'no request in the ' + secondsText(open) + ' after the RATE (it asked ' + secondsText(before) + ' apart before)' };
    }
    return { rule, verdict: 'not-judged', clause: CLAUSES.rate, detail: 'only ' + secondsText(open) + ' left after the RATE' + (before === null ? ', and its pace before is unknown' : '') };
  }
  if (before !== null && after[0] < GROWTH * before) {
    return { rule, verdict: 'fail', clause: CLAUSES.rate, detail: 'asked again ' + secondsText(after[0]) + ' after a RATE, no slower than the ' + secondsText(before) + ' before it; ' + shown };
  }
  for (let i = 1; i < after.length; i++) {
    if (after[i] < GROWTH * after[i - 1]) {
      return { rule, verdict: 'fail', clause: CLAUSES.rate, detail: 'after RATE #' + (i + 1) + ' it asked ' + secondsText(after[i]) + ' later, no slower than the ' + secondsText(after[i - 1]) + ' after RATE #' + i + '; ' + shown };
    }
  }
  const last = after[after.length - 1];
  const grewAgain = after.length >= 2 || open >= GROWTH * last;
  if (before === null && !grewAgain) return { rule, verdict: 'not-judged', clause: CLAUSES.rate, detail: shown + ': one interval, and its pace before is unknown' };
  return { rule, verdict: 'pass', clause: CLAUSES.rate, detail: shown + (grewAgain ? '' : '; a second slow-down was not seen in ' + secondsText(seconds)) };
}

export function gradeSilenceBackoff(requests: SeenRequest[], seconds: number): RuleResult {
  const rule = 'silence-backoff';
  const gaps = intervalsOf(requests);
  if (gaps.length === 0) return { rule, verdict: 'not-judged', clause: CLAUSES.silence, detail: requests.length === 0 ? 'no request' : 'asked once' };
  const open = seconds - requests[requests.length - 1].atS;
  for (let k = 1; k < gaps.length; k++) {
    // 10 % slack: a client may jitter its retries, but not shorten them.
    if (gaps[k] < 0.9 * gaps[k - 1]) return { rule, verdict: 'fail', clause: CLAUSES.silence, detail: 'retried sooner as the silence went on: ' + list(gaps) };
  }
  if (gaps[gaps.length - 1] >= GROWTH * gaps[0] || (gaps.length >= 1 && open >= GROWTH * gaps[gaps.length - 1] && open >= FLOOR_S)) {
    return { rule, verdict: 'pass', clause: CLAUSES.silence, detail: 'retries ' + list(gaps) + (open >= gaps[gaps.length - 1] ? ', then nothing for ' + secondsText(open) : '') };
  }
  if (gaps.length < SAME_PACE_RETRIES) {
    return { rule, verdict: 'not-judged', clause: CLAUSES.silence, detail: 'retries ' + list(gaps) + ', then ' + secondsText(open) + ' to the end: too few to see a backoff' };
  }
  return { rule, verdict: 'fail', clause: CLAUSES.silence, detail: 'kept retrying without backing off: ' + list(gaps) };
}

export function gradeSpoofedKiss(requests: SeenRequest[], seconds: number, baseline: Baseline | null): RuleResult {
  const rule = 'spoofed-kiss';
  if (requests.length === 0) return { rule, verdict: 'not-judged', clause: CLAUSES.spoof, detail: 'no request' };
  const first = requests[0];
  const later = requests.filter((r) => r.atS > first.atS + IN_FLIGHT_S);
  if (later.length > 0) return { rule, verdict: 'pass', clause: CLAUSES.spoof, detail: 'kept asking after forged DENYs (' + requests.length + ' requests)' };
  const window = seconds - first.atS;
  const stopped = 'no request in the ' + secondsText(window) + ' after a forged DENY';
  if (!baseline) return { rule, verdict: 'not-judged', clause: CLAUSES.spoof, detail: stopped + ', but good was not played, so its usual pace is unknown' };
  if (baseline.requests < 2 || baseline.medianIntervalS === null) return { rule, verdict: 'not-judged', clause: CLAUSES.spoof, detail: oneShotNote(stopped) };
  if (window < 2 * baseline.medianIntervalS) return { rule, verdict: 'not-judged', clause: CLAUSES.spoof, detail: stopped + ', less than twice its usual interval' };
  return {
    rule, verdict: 'fail', clause: CLAUSES.spoof,
    detail: stopped + ' whose origin did not match its request, though it asked every ' + secondsText(baseline.medianIntervalS) + ' with good replies: a forgery silenced it',
  };
}
