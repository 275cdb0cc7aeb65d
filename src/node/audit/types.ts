// The politeness audit's vocabulary: what a scenario plays, what was seen on the wire, and what each rule said.

import type { NtpPacket } from '../../core/codec';

/** The scripted behaviours the audit's server can play to a client. */
export type ScenarioName = 'good' | 'silence' | 'deny' | 'rstr' | 'rate' | 'spoofed-deny' | 'malformed' | 'offset';

/** pass: the rule held; fail: it was broken; warn: allowed by the RFCs but worth fixing; not-judged: no evidence. */
export type Verdict = 'pass' | 'fail' | 'warn' | 'not-judged';

export type RuleId = 'asked' | 'floor' | 'kiss-stop' | 'rate-backoff' | 'silence-backoff' | 'spoofed-kiss' | 'clock-leak' | 'other-fields' | 'source-port' | 'survives';

/** What the audit's server sent back to one request. */
export type ReplyKind =
  | 'time'
  | 'none'
  | 'kiss-DENY'
  | 'kiss-RSTR'
  | 'kiss-RATE'
  | 'forged-DENY+time'
  | 'malformed-runt'
  | 'malformed-mode'
  | 'malformed-origin'
  | 'malformed-zero-transmit'
  | 'malformed-version';

/**
 * One datagram that reached the audit's server, as the grading needs it: the header fields as the codec reads them,
 * the timestamps as text. Times are seconds from the scenario's start.
 */
export interface SeenRequest extends Omit<NtpPacket, 'reference' | 'origin' | 'receive' | 'transmit'> {
  atS: number;
  /** Our wall clock at arrival, Unix ms (for the clock-leak check). */
  wallMs: number;
  from: { address: string; port: number };
  length: number;
  /** The four timestamps as 16 hex digits each ("0000000000000000" for zero); absent for a runt. */
  reference: string;
  origin: string;
  receive: string;
  transmit: string;
  reply: ReplyKind;
  /** The transmit timestamp we put in our reply (16 hex digits), so a later request echoing it is recognised. */
  ourTransmit: string;
}

export interface RuleResult {
  rule: RuleId;
  verdict: Verdict;
  /** The RFC clause the rule comes from, with its keyword. */
  clause: string;
  /** What was seen, in one sentence. */
  detail: string;
}

/** How the command started for a scenario ended (all its runs, with --rerun). */
export interface CommandEnd {
  /** The last run was still going when the scenario ended (we stopped it). */
  running: boolean;
  runs: number;
  /** A run that died of a signal we did not send. */
  crash: { signal: string; atS: number } | null;
  /** The first run that exited with a non-zero code. */
  failure: { code: number; atS: number } | null;
  /** How the last run that finished by itself ended. */
  lastExit: { code: number | null; atS: number } | null;
}

export interface ScenarioReport {
  scenario: ScenarioName;
  title: string;
  /** Where the client was pointed. */
  host: string;
  port: number;
  /** Length of the scenario, s. */
  seconds: number;
  requests: SeenRequest[];
  /** Seconds between consecutive requests. */
  intervalsS: number[];
  rules: RuleResult[];
  /** The worst verdict among the rules: fail over warn over pass; not-judged only when nothing was judged. */
  verdict: Verdict;
  command?: CommandEnd;
  /** The last lines the command printed (cmd mode). */
  outputTail?: string;
}

export interface AuditReport {
  tool: 'kisstime audit';
  mode: 'cmd' | 'listen';
  /** The command template (cmd mode) or the listening address (listen mode). */
  target: string;
  startedAt: string;
  secondsPerScenario: number;
  /** Every rerun interval for one-shot commands, s; null when the command runs once per scenario. */
  rerunS: number | null;
  scenarios: ScenarioReport[];
  /** pass when no rule failed. */
  verdict: 'pass' | 'fail';
  /** Things the audit could not judge, one sentence each, for the report's own section. */
  notJudged: string[];
}
