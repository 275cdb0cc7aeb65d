// What goes into the scheduler and what comes out: events with their time, decisions for the adapter (or the fleet
// simulator) to carry out, and the scheduler's own record. Plain data throughout, so every adapter reads the same
// protocol and a test can drive it with a virtual clock.

import { Endpoint, PendingRequest, RejectReason, Sample } from './accept';
import { ClientConfig } from './config';
import { SampleOutcome } from './clock-model';
import { KissAction } from './kiss';
import { AddressState, ClientState, RestoreNote } from './state';
import { NtpTimestamp } from './timestamp';

export type SchedulerEvent =
  | { type: 'start'; nowMs: number }
  | { type: 'tick'; nowMs: number }
  | { type: 'reply'; nowMs: number; requestId: number; from: Endpoint; bytes: Uint8Array; t1: NtpTimestamp; t4: NtpTimestamp }
  | { type: 'timeout'; nowMs: number; requestId: number }
  | { type: 'send-error'; nowMs: number; requestId: number; detail: string }
  | { type: 'dns'; nowMs: number; host: string; addresses: string[]; ttlS: number }
  | { type: 'dns-error'; nowMs: number; host: string; detail: string }
  | { type: 'clock-stepped'; nowMs: number; stepS: number };

export type DeferReason = 'not-started' | 'startup-delay' | 'floor' | 'min-interval' | 'rate-limited' | 'backoff' | 'in-flight' | 'resolving' | 'stopped';

/**
 * Why a poll failed: no answer in time, the socket failed, a kiss that is no sample, an answer with no usable time
 * (its reject reason in the detail), or the name did not resolve.
 */
export type FailCause = 'timeout' | 'send-error' | 'kiss' | 'unusable' | 'dns-error';

export type PersistReason = 'send' | 'hold' | 'rate' | 'backoff' | 'model' | 'uptime';

export type Phase = 'idle' | 'waiting' | 'resolving' | 'in-flight' | 'stopped';

export type Decision =
  /** Send these bytes to the address from a fresh socket; the reply, or none, ends by timeoutAtMs. */
  | { type: 'send'; requestId: number; host: string; address: string; port: number; bytes: Uint8Array; timeoutAtMs: number }
  /** The request is over (answered, refused or failed): close its socket, nothing it brings counts any more. */
  | { type: 'settle'; requestId: number }
  | { type: 'resolve'; host: string }
  /**
   * An accepted sample, and the clock model after it: the offset to add to the local clock now, the drift, and how
   * far the true offset may be now, in seconds. outcome says what the model did with the sample ('step': the clock's
   * offset jumped, and the model started again). intervalS is the server's poll interval now; accuracyMet is false
   * when the politeness floors keep the polls further apart than the accuracy asked for needs.
   */
  | {
    type: 'sample'; sample: Sample; outcome: SampleOutcome; clockOffsetS: number; driftPpm: number; maxErrorS: number; intervalS: number;
    nextAtMs: number; accuracyMet: boolean;
  }
  /** A reply that proved nothing (or nothing usable) and was dropped. */
  | { type: 'reject'; reason: RejectReason; host: string; address: string; port: number }
  /** intervalS: the server's interval after a RATE, 0 after DENY/RSTR. */
  | { type: 'kiss'; code: string; action: KissAction; host: string; address: string; port: number; intervalS: number }
  /** A failed poll; detail is what the adapter or resolver said, if anything. */
  | { type: 'backoff'; cause: FailCause; host: string; address: string; failures: number; retryAtMs: number; detail: string }
  | { type: 'failover'; fromHost: string; fromAddress: string; toHost: string; toAddress: string }
  /** A sync-now that politeness holds back until untilMs (null: not while this phase lasts). */
  | { type: 'deferred'; untilMs: number | null; reason: DeferReason }
  /** Every configured server has refused us (DENY/RSTR): nothing more will be sent. */
  | { type: 'stopped' }
  /** Save the scheduler's state record (Scheduler.state) as it stands when written. */
  | { type: 'persist'; reason: PersistReason }
  /** Feed a tick at atMs (null: no timer needed). Always the last decision; phase is where the scheduler now stands. */
  | { type: 'wake'; atMs: number | null; phase: Phase };

/** The request in flight, with the address record it went to. */
export interface InFlight extends PendingRequest {
  ip: AddressState;
}

/** What this boot alone knows: the cursor and the request in flight. Never saved. */
export interface RunState {
  phase: Phase;
  /** The cursor: the server, and the address of it, asked next. */
  si: number;
  ai: number;
  /** When the next request may go out (while waiting). */
  next: number;
  /** When the request in flight times out, or the resolver is given up on. */
  due: number;
  pending: InFlight | null;
  /** How long before the request in flight the previous request to its address went, s. */
  gap: number;
  /** The last request to any server: the 15 s floor holds between any two. */
  last: number;
  /** Requests sent this boot. */
  sent: number;
  /** End of the random startup delay. */
  startup: number;
  /** When to save again to credit uptime while a restored wait runs (NEVER when not needed). */
  credit: number;
  /** The event being handled: its time, and the decisions it has led to so far. */
  now: number;
  out: Decision[];
}

/** One client: its config and randomness, what it remembers (state, saved as it is) and this boot's run. */
export interface Scheduler {
  readonly config: ClientConfig;
  readonly random: () => number;
  readonly state: ClientState;
  readonly run: RunState;
  /** What became of the saved state handed to createScheduler. */
  readonly restored: RestoreNote;
}
