// The Node adapter's public surface, shared by the CLI, the Node-RED nodes and the benches.

import { DeferReason, FailCause, Hold, NtpTimestamp, Phase, RejectReason, Sample } from '../core';
import { NodeClientConfigInput } from './config-input';

/** Where time, timers and randomness come from; tests inject a virtual one. */
export interface ClockSource {
  /** Monotonic milliseconds (never steps). */
  monoMs(): number;
  /** Wall time as an NTP timestamp, from a high-resolution clock anchored to wall time. */
  wallNtp(): NtpTimestamp;
  /** Wall time in Unix milliseconds (fractional). */
  wallMs(): number;
  setTimer(fn: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
  /** Optional: system clock steps (s, forward positive) seen since the last call, so offsets can be corrected. */
  takeStepS?(): number;
}

export interface ResolvedAddresses {
  addresses: string[];
  ttlS: number;
}

/** A resolver for A and AAAA records with TTLs. */
export type Resolver = (host: string) => Promise<ResolvedAddresses>;

export interface ClientOptions {
  config: NodeClientConfigInput;
  /** JSON state file (atomic writes); omit for no persistence. */
  statePath?: string;
  clock?: ClockSource;
  random?: () => number;
  resolver?: Resolver;
  /** Timers and sockets that do not keep the process alive (for embedding); default false. */
  unref?: boolean;
}

/** What a user sees of an accepted sample (Node-RED output 1, CLI line). Seconds throughout. */
export interface SampleReport {
  /** What this sample measured: offset (server − local) and round-trip delay. */
  offset: number;
  delay: number;
  /** The clock model after this sample: the offset to add to the local clock now, the drift, and the error bound now. */
  clockOffset: number;
  driftPpm: number;
  maxError: number;
  /** The model found the clock's offset had jumped, and started again from this sample. */
  step: boolean;
  /** The model set this sample aside (it disagrees with the others); the next poll checks it. */
  outlier: boolean;
  /** False when the politeness floors keep polls further apart than the accuracy asked for needs. */
  accuracyMet: boolean;
  stratum: number;
  refid: string;
  leap: number;
  precision: number;
  rootDistance: number;
  server: string;
  address: string;
  port: number;
  /** The next poll interval, s. */
  interval: number;
  /** Corrected time at receipt. */
  time: Date;
  /** The raw (unfiltered) sample. */
  sample: Sample;
}

export type SyncNowResult =
  | { accepted: true }
  | { accepted: false; reason: DeferReason; until: Date | null; message: string };

export interface ClientCounters {
  sent: number;
  samples: number;
  kisses: { [code: string]: number };
  rejected: { [reason in RejectReason]?: number };
  timeouts: number;
  sendErrors: number;
  dnsErrors: number;
}

export interface ClientStatus {
  phase: Phase;
  /** The clock model now: the offset to add to the local clock, its error bound, and the drift (null before a sample). */
  offsetS: number | null;
  maxErrorS: number | null;
  driftPpm: number | null;
  next: Date | null;
  failures: number;
  lastSample: SampleReport | null;
  lastKiss: { code: string; host: string; address: string } | null;
  /** The last reply refused since the last request, and why (a reply that proves nothing is no answer either). */
  lastReject: { reason: RejectReason; host: string; address: string } | null;
  holds: Hold[];
  target: { host: string; address: string; port: number } | null;
  stoppedReason: string;
  restoreNote: string;
  counters: ClientCounters;
}

/** What the client emits as 'backoff': a failed poll, in words, and when that server may be asked again. */
export interface BackoffReport {
  cause: FailCause;
  host: string;
  address: string;
  failures: number;
  retryInS: number;
  retryAt: Date;
  message: string;
}
