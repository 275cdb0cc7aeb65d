// The scenarios the audit's server plays, and the exact bytes it answers with in each. Answers and kisses are
// written by the core's own server code (the bytes a Kisstime gateway sends); the malformed and forged replies are
// made here on purpose.

import { asciiToRefId, HEADER_BYTES, NtpTimestamp, TRANSMIT_OFFSET, writeAnswer, writeKiss, writeTimestampAt } from '../../core';
import { ReplyKind, RuleId, ScenarioName } from './types';

export interface ScenarioInfo {
  name: ScenarioName;
  title: string;
  /** What the server does, for the report. */
  plays: string;
  /** The rules graded in this scenario, besides the ones graded everywhere. */
  rules: RuleId[];
}

/** Rules every scenario grades from the requests themselves. */
export const COMMON_RULES: RuleId[] = ['asked', 'floor', 'clock-leak', 'other-fields', 'source-port'];

/** How far the offset scenario's clock is off: past any sanity threshold a client may have (ntpd panics at 1000 s). */
export const LARGE_OFFSET_S = 3600;

export const SCENARIOS: ScenarioInfo[] = [
  { name: 'good', title: 'good replies', plays: 'answers every request with the right time (stratum 1)', rules: [] },
  { name: 'silence', title: 'silence', plays: 'never answers', rules: ['silence-backoff'] },
  { name: 'deny', title: 'DENY kiss', plays: 'answers every request with a DENY kiss', rules: ['kiss-stop'] },
  { name: 'rstr', title: 'RSTR kiss', plays: 'answers every request with an RSTR kiss', rules: ['kiss-stop'] },
  { name: 'rate', title: 'RATE kiss', plays: 'answers the first request with time (in listen mode, not even that), every later one with a RATE kiss', rules: ['rate-backoff'] },
  {
    name: 'spoofed-deny', title: 'spoofed DENY',
    plays: 'answers every request with a DENY whose origin is not the request\'s nonce (a forgery), then with the right time', rules: ['spoofed-kiss'],
  },
  {
    name: 'malformed', title: 'malformed replies',
    plays: 'answers with a 12-byte runt, a mode-3 packet, a wrong origin, a zero transmit timestamp and version 0, in turn', rules: ['silence-backoff', 'survives'],
  },
  { name: 'offset', title: 'large offset', plays: 'answers with time ' + LARGE_OFFSET_S + ' s ahead', rules: ['survives'] },
];

export const SCENARIO_NAMES: ScenarioName[] = SCENARIOS.map((s) => s.name);

export function scenarioInfo(name: ScenarioName): ScenarioInfo {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error('unknown scenario ' + name);
  return found;
}

/**
 * Listen mode plays scenarios one after another to one device, so the order matters: a device that honours DENY
 * never asks again, so DENY and RSTR come last; silence and RATE leave a polite device asking slowly, so they come
 * after the scenarios that need a few requests.
 */
export const LISTEN_ORDER: ScenarioName[] = ['good', 'offset', 'spoofed-deny', 'malformed', 'rate', 'silence', 'deny', 'rstr'];

const AUDIT_REFID = asciiToRefId('AUDT');
const KISS_DENY = asciiToRefId('DENY');
const KISS_RSTR = asciiToRefId('RSTR');
const KISS_RATE = asciiToRefId('RATE');
const PRECISION = -20;

/** One datagram to send back. */
export interface PlannedReply {
  bytes: Uint8Array;
}

export interface ReplyPlan {
  kind: ReplyKind;
  replies: PlannedReply[];
}

function timeAnswer(request: Uint8Array, served: NtpTimestamp): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  writeAnswer(out, request, {
    leap: 0, stratum: 1, precision: PRECISION, refId: AUDIT_REFID, rootDelayS: 0, rootDispersionS: 0.001,
    reference: { s: served.s - 8, f: served.f }, receive: served,
  });
  writeTimestampAt(out, TRANSMIT_OFFSET, served);
  return out;
}

function kiss(request: Uint8Array, code: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  writeKiss(out, request, code, PRECISION, 0);
  return out;
}

/** The five malformed replies, in the order they are played. */
function malformed(request: Uint8Array, served: NtpTimestamp, index: number): ReplyPlan {
  const good = timeAnswer(request, served);
  switch (index % 5) {
    case 0:
      return { kind: 'malformed-runt', replies: [{ bytes: good.subarray(0, 12) }] };
    case 1:
      good[0] = (good[0] & 0xf8) | 3;
      return { kind: 'malformed-mode', replies: [{ bytes: good }] };
    case 2:
      good[31] ^= 0x55;
      return { kind: 'malformed-origin', replies: [{ bytes: good }] };
    case 3:
      for (let i = 40; i < 48; i++) good[i] = 0;
      return { kind: 'malformed-zero-transmit', replies: [{ bytes: good }] };
    default:
      good[0] = good[0] & 0xc7;
      return { kind: 'malformed-version', replies: [{ bytes: good }] };
  }
}

/**
 * What the server sends back to the index-th request (0-based) of a scenario. served is the time to answer with,
 * already offset for the offset scenario. A runt request (no nonce to echo) gets the same treatment, echoing zeros.
 * rateFromFirst: kiss RATE from the first request on (listen mode, where the device's pace before the scenario is
 * already known from the scenario before); otherwise the first is answered with time, to see the pace before.
 */
export function planReply(scenario: ScenarioName, request: Uint8Array, index: number, served: NtpTimestamp, rateFromFirst: boolean): ReplyPlan {
  const req = request.length >= HEADER_BYTES ? request : padded(request);
  switch (scenario) {
    case 'good':
    case 'offset':
      return { kind: 'time', replies: [{ bytes: timeAnswer(req, served) }] };
    case 'silence':
      return { kind: 'none', replies: [] };
    case 'deny':
      return { kind: 'kiss-DENY', replies: [{ bytes: kiss(req, KISS_DENY) }] };
    case 'rstr':
      return { kind: 'kiss-RSTR', replies: [{ bytes: kiss(req, KISS_RSTR) }] };
    case 'rate':
      return index === 0 && !rateFromFirst ? { kind: 'time', replies: [{ bytes: timeAnswer(req, served) }] } : { kind: 'kiss-RATE', replies: [{ bytes: kiss(req, KISS_RATE) }] };
    case 'spoofed-deny': {
      const forged = kiss(req, KISS_DENY);
      // Flip bits in the origin: an off-path attacker does not know the nonce.
      for (let i = 24; i < 32; i++) forged[i] ^= 0xa5;
      return { kind: 'forged-DENY+time', replies: [{ bytes: forged }, { bytes: timeAnswer(req, served) }] };
    }
    case 'malformed':
      return malformed(req, served, index);
  }
}

function padded(request: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  out.set(request.subarray(0, HEADER_BYTES));
  // A runt has no version to echo: answer as version 4.
  if (((out[0] >> 3) & 7) === 0) out[0] |= 4 << 3;
  return out;
}

/** The scenarios named in a comma-separated list, or why the list is wrong. */
export function parseScenarioList(text: string): { ok: true; scenarios: ScenarioName[] } | { ok: false; message: string } {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) return { ok: false, message: 'name at least one scenario: ' + SCENARIO_NAMES.join(', ') };
  const out: ScenarioName[] = [];
  for (const n of names) {
    const found = SCENARIO_NAMES.find((s) => s === n);
    if (!found) return { ok: false, message: 'unknown scenario ' + JSON.stringify(n) + ' (known: ' + SCENARIO_NAMES.join(', ') + ')' };
    if (out.indexOf(found) < 0) out.push(found);
  }
  return { ok: true, scenarios: out };
}
