// The Node adapter: a loop that feeds events to the core's Scheduler and carries out its decisions with real
// sockets, timers, DNS and a state file. It decides nothing about the protocol itself.

import { EventEmitter } from 'node:events';
import { ClientConfig, clockOffsetAt, CorrectedClock, createCorrectedClock, createScheduler, Decision, driftPpm, handle, handleSyncNow, maxErrorAt, readCorrected, Phase, REJECT_REASONS, Scheduler, SchedulerEvent } from '../core';
import { NodeClock } from './clock';
import { validateClientConfig } from './config-input';
import { ALL_REFUSED, deferralMessage, failureMessage, restoreMessage } from './describe';
import { cryptoRandom } from './random';
import { sampleReport } from './report';
import { createDnsResolver } from './resolver';
import { StateFile } from './state-file';
import { OutgoingRequest, sendRequest } from './transport';
import { BackoffReport, ClientCounters, ClientOptions, ClientStatus, ClockSource, Resolver, SampleReport, SyncNowResult } from './types';

/** A config error, with the offending field named in the message and kept apart for programs. */
export interface ConfigError extends Error {
  field: string;
}

function configError(field: string, message: string): ConfigError {
  const error = new Error(message) as ConfigError;
  error.field = field;
  return error;
}

/** What the decisions so far say about where the client stands. */
interface FoldedStatus {
  phase: Phase;
  nextMs: number | null;
  failures: number;
  lastReport: SampleReport | null;
  lastKiss: ClientStatus['lastKiss'];
  lastReject: ClientStatus['lastReject'];
  target: ClientStatus['target'];
  stopped: boolean;
}

function freshCounters(): ClientCounters {
  return { sent: 0, samples: 0, kisses: {}, rejected: {}, timeouts: 0, sendErrors: 0, dnsErrors: 0 };
}

export class KisstimeClient extends EventEmitter {
  readonly config: ClientConfig;
  private readonly clock: ClockSource;
  private readonly resolver: Resolver;
  private readonly scheduler: Scheduler;
  private readonly state: StateFile | null;
  private readonly unref: boolean;
  private readonly fileNote: string;
  private readonly requests = new Map<number, OutgoingRequest>();
  private readonly counters: ClientCounters = freshCounters();
  private wakeTimer: unknown = null;
  private started = false;
  private closed = false;
  private stopping: Promise<void> | null = null;
  /** The status as the decisions so far have told it. */
  private readonly seen: FoldedStatus = {
    phase: 'idle', nextMs: null, failures: 0, lastReport: null, lastKiss: null, lastReject: null, target: null, stopped: false,
  };
  /** A save that waits for the in-flight request to end, so disk I/O never runs between T1 and T4. */
  private saveWanted = false;
  /** What now() reads: the model's offset, slewed. */
  private readonly corrected: CorrectedClock = createCorrectedClock();

  constructor(options: ClientOptions) {
    super();
    const checked = validateClientConfig(options && options.config);
    if (!checked.ok) throw configError(checked.field, checked.message);
    this.config = checked.config;
    this.unref = options.unref === true;
    this.clock = options.clock || new NodeClock({ unrefTimers: this.unref });
    this.resolver = options.resolver || createDnsResolver();
    const random = options.random || cryptoRandom;
    let saved: unknown = undefined;
    let elapsedMs = 0;
    this.fileNote = '';
    if (options.statePath) {
      this.state = new StateFile(options.statePath, (error) => this.fail(error));
      const read = this.state.read(this.clock.wallMs());
      saved = read.raw;
      elapsedMs = read.elapsedMs;
      this.fileNote = read.note;
    } else {
      this.state = null;
    }
    this.scheduler = createScheduler(this.config, random, saved, this.clock.monoMs(), elapsedMs);
  }

  /** Starts the polite loop: the first request goes out after the configured random startup delay. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.dispatch({ type: 'start', nowMs: this.clock.monoMs() });
  }

  /** Stops every timer and socket, then waits for the last state write. Safe to call twice. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.closed = true;
    if (this.wakeTimer !== null) this.clock.clearTimer(this.wakeTimer);
    this.wakeTimer = null;
    this.requests.forEach((r) => r.close());
    this.requests.clear();
    if (this.state && this.started) this.save();
    this.stopping = this.state ? this.state.flush() : Promise.resolve();
    return this.stopping;
  }

  /** Asks for a request as soon as politeness allows; says when and why if that is not now. */
  syncNow(): SyncNowResult {
    if (this.closed) return { accepted: false, reason: 'stopped', until: null, message: deferralMessage('stopped', null) };
    if (!this.started) return { accepted: false, reason: 'not-started', until: null, message: deferralMessage('not-started', null) };
    const now = this.clock.monoMs();
    const decisions = this.decide(now, () => handleSyncNow(this.scheduler, now));
    for (const d of decisions) {
      if (d.type === 'deferred') {
        const until = d.untilMs === null ? null : this.dateAt(d.untilMs);
        return { accepted: false, reason: d.reason, until: until, message: deferralMessage(d.reason, until) };
      }
    }
    return { accepted: true };
  }

  status(): ClientStatus {
    const seen = this.seen;
    const note = restoreMessage(this.scheduler.restored);
    return {
      phase: seen.phase,
      offsetS: this.offsetS(),
      maxErrorS: maxErrorAt(this.scheduler, this.clock.monoMs()),
      driftPpm: driftPpm(this.scheduler.state.m),
      next: seen.nextMs === null ? null : this.dateAt(seen.nextMs),
      failures: seen.failures,
      lastSample: seen.lastReport,
      lastKiss: seen.lastKiss,
      lastReject: seen.lastReject,
      holds: this.scheduler.state.hold.slice(),
      target: seen.target,
      stoppedReason: seen.stopped ? ALL_REFUSED : '',
      restoreNote: this.fileNote ? note + ' (' + this.fileNote + ')' : note,
      counters: this.countersCopy(),
    };
  }

  /** The filtered offset to add to the local clock, in seconds; null before the first sample. */
  offsetS(): number | null {
    return clockOffsetAt(this.scheduler, this.clock.monoMs());
  }

  /**
   * The local clock corrected by the clock model: it never goes back, and follows the model at a bounded rate (the
   * local clock itself before any sample). A correction too large to slew is stepped, and reported as 'step'.
   */
  now(): Date {
    const mono = this.clock.monoMs();
    const reading = readCorrected(this.corrected, mono, this.clock.wallMs(), clockOffsetAt(this.scheduler, mono));
    if (reading.stepS !== 0) this.emit('step', { stepS: reading.stepS, cause: 'now' });
    return new Date(reading.ms);
  }

  private dateAt(monoMs: number): Date {
    return new Date(this.clock.wallMs() + (monoMs - this.clock.monoMs()));
  }

  private countersCopy(): ClientCounters {
    const c = this.counters;
    return { sent: c.sent, samples: c.samples, kisses: Object.assign({}, c.kisses), rejected: Object.assign({}, c.rejected), timeouts: c.timeouts, sendErrors: c.sendErrors, dnsErrors: c.dnsErrors };
  }

  /** 'error' without a listener would throw out of a socket callback; a warning is the polite fallback. */
  private fail(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error.message, 'KisstimeWarning');
  }

  /**
   * One event in, its decisions carried out, then the events emitted. Emitting last means a listener that calls
   * syncNow() or stop() sees a client whose timers and sockets already match the scheduler.
   */
  private dispatch(event: SchedulerEvent): Decision[] {
    return this.decide(event.nowMs, () => handle(this.scheduler, event));
  }

  /** Runs one of the scheduler's handlers at nowMs and carries out what it decides. */
  private decide(nowMs: number, handler: () => Decision[]): Decision[] {
    if (this.closed) return [];
    const step = (this.clock as { takeStepS?: () => number }).takeStepS;
    if (step) {
      const stepS = step.call(this.clock);
      if (stepS !== 0) this.dispatch({ type: 'clock-stepped', nowMs: nowMs, stepS: stepS });
    }
    const decisions = handler();
    const emits: [string, unknown][] = [];
    for (const d of decisions) this.carryOut(d, emits);
    if (this.saveWanted && this.state && this.seen.phase !== 'in-flight') this.save();
    for (const e of emits) this.emit(e[0], e[1]);
    if (!this.closed) this.emit('status', this.status());
    return decisions;
  }

  private carryOut(d: Decision, emits: [string, unknown][]): void {
    const seen = this.seen;
    switch (d.type) {
      case 'send':
        this.counters.sent++;
        seen.target = { host: d.host, address: d.address, port: d.port };
        seen.lastReject = null;
        this.send(d);
        break;
      case 'settle': {
        const request = this.requests.get(d.requestId);
        if (request) request.close();
        this.requests.delete(d.requestId);
        break;
      }
      case 'resolve':
        this.resolve(d.host);
        emits.push(['resolve', d]);
        break;
      case 'sample':
        this.counters.samples++;
        seen.failures = 0;
        seen.lastReport = sampleReport(d, this.clock.wallMs());
        emits.push(['sample', seen.lastReport]);
        if (d.outcome === 'step') emits.push(['step', { stepS: null, cause: 'model', report: seen.lastReport }]);
        break;
      case 'reject':
        this.counters.rejected[d.reason] = (this.counters.rejected[d.reason] || 0) + 1;
        seen.lastReject = { reason: d.reason, host: d.host, address: d.address };
        emits.push(['reject', d]);
        break;
      case 'kiss':
        this.counters.kisses[d.code] = (this.counters.kisses[d.code] || 0) + 1;
        if (d.action !== 'ignore') seen.lastKiss = { code: d.code, host: d.host, address: d.address };
        emits.push(['kiss', d]);
        break;
      case 'backoff': {
        if (d.cause === 'timeout') this.counters.timeouts++;
        else if (d.cause === 'send-error') this.counters.sendErrors++;
        else if (d.cause === 'dns-error') this.counters.dnsErrors++;
        if (d.cause !== 'dns-error') seen.failures = d.failures;
        const retryInS = Math.max(0, (d.retryAtMs - this.clock.monoMs()) / 1000);
        const report: BackoffReport = {
          cause: d.cause, host: d.host, address: d.address, failures: d.failures, retryInS: retryInS, retryAt: this.dateAt(d.retryAtMs),
          message: failureMessage(d.cause, d.detail, this.config.timeoutS),
        };
        emits.push(['backoff', report]);
        break;
      }
      case 'failover':
        seen.target = d.toAddress ? { host: d.toHost, address: d.toAddress, port: this.portOf(d.toHost) } : null;
        emits.push(['failover', d]);
        break;
      case 'deferred': {
        const until = d.untilMs === null ? null : this.dateAt(d.untilMs);
        emits.push(['deferred', { reason: d.reason, until: until, message: deferralMessage(d.reason, until) }]);
        break;
      }
      case 'stopped':
        seen.stopped = true;
        emits.push(['stopped', { reason: ALL_REFUSED }]);
        break;
      case 'persist':
        if (this.state) this.saveWanted = true;
        emits.push(['persist', d]);
        break;
      case 'wake':
        seen.phase = d.phase;
        seen.nextMs = d.atMs;
        this.arm(d.atMs);
        break;
    }
  }

  private portOf(host: string): number {
    const spec = this.config.servers.filter((server) => server.host === host)[0];
    return spec ? spec.port : 0;
  }

  /** Writes the scheduler's state record as it stands now, with the wall time, for the next process to read. */
  private save(): void {
    this.saveWanted = false;
    if (this.state) this.state.save(this.scheduler.state, this.clock.monoMs(), this.clock.wallMs());
  }

  private send(d: Extract<Decision, { type: 'send' }>): void {
    const id = d.requestId;
    const request = sendRequest({
      address: d.address,
      port: d.port,
      bytes: d.bytes,
      clock: this.clock,
      unref: this.unref,
      onSent: () => {
        if (!this.closed) this.emit('send', { requestId: id, host: d.host, address: d.address, port: d.port, localPort: request.localPort });
      },
      onReply: (reply) => this.dispatch({ type: 'reply', nowMs: this.clock.monoMs(), requestId: id, from: reply.from, bytes: reply.bytes, t1: reply.t1, t4: reply.t4 }),
      onError: (message) => this.dispatch({ type: 'send-error', nowMs: this.clock.monoMs(), requestId: id, detail: message }),
    });
    this.requests.set(id, request);
  }

  private resolve(host: string): void {
    let answer: Promise<{ addresses: string[]; ttlS: number }>;
    try {
      answer = Promise.resolve(this.resolver(host));
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (r) => this.dispatch({ type: 'dns', nowMs: this.clock.monoMs(), host: host, addresses: r.addresses, ttlS: r.ttlS }),
      (error: unknown) => this.dispatch({ type: 'dns-error', nowMs: this.clock.monoMs(), host: host, detail: error instanceof Error ? error.message : String(error) }),
    ).catch((error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))));
  }

  private arm(atMs: number | null): void {
    if (this.wakeTimer !== null) this.clock.clearTimer(this.wakeTimer);
    this.wakeTimer = null;
    if (atMs === null || this.closed) return;
    const delayMs = Math.max(0, atMs - this.clock.monoMs());
    this.wakeTimer = this.clock.setTimer(() => {
      this.wakeTimer = null;
      // Timers may fire a fraction of a millisecond early; the scheduler then simply asks to be woken again.
      this.dispatch({ type: 'tick', nowMs: this.clock.monoMs() });
    }, delayMs);
  }
}

/** Every reason a reply can be refused, for status displays that want to list zeros too. */
export const REJECT_REASON_NAMES = REJECT_REASONS;

export function createClient(options: ClientOptions): KisstimeClient {
  return new KisstimeClient(options);
}
