// The poll scheduler: an explicit state machine. It never reads a clock, sleeps or touches a socket.
// Events come in with the time; decisions come out as data for the adapter (or the fleet simulator) to
// carry out. Every politeness rule of the client lives here once.

import { Endpoint, judgeReply, PendingRequest, RejectReason, Sample } from './accept';
import { encodeRequest, makeNonce } from './codec';
import { ClientConfig, isIpAddress } from './config';
import { addToFilter, bestInFilter, ClockFilter, createFilter, FilterEntry, shiftFilter } from './filter';
import { intervalAfterRate, KissAction } from './kiss';
import {
  backoffS, DNS_RETRY_AFTER_FAILURE_S, DNS_TIMEOUT_S, FLOOR_S, jittered, MAX_ADDRESSES_PER_SERVER, MAX_HOLDS, OFFSET_JUMP_S,
} from './policy';
import { Hold, LastSample, restoreSnapshot, SCHEMA_VERSION, SlotState, StateSnapshot } from './state';
import { NtpTimestamp } from './timestamp';

export type SchedulerEvent =
  | { type: 'start'; nowMs: number }
  | { type: 'tick'; nowMs: number }
  | { type: 'reply'; nowMs: number; requestId: number; from: Endpoint; bytes: Uint8Array; t1: NtpTimestamp; t4: NtpTimestamp }
  | { type: 'timeout'; nowMs: number; requestId: number }
  | { type: 'send-error'; nowMs: number; requestId: number; message: string }
  | { type: 'dns'; nowMs: number; host: string; addresses: string[]; ttlS: number }
  | { type: 'dns-error'; nowMs: number; host: string; message: string }
  | { type: 'sync-now'; nowMs: number }
  | { type: 'clock-stepped'; nowMs: number; stepS: number };

export type DeferReason = 'not-started' | 'startup-delay' | 'floor' | 'min-interval' | 'rate-limited' | 'backoff' | 'in-flight' | 'resolving' | 'stopped';

export type FailCause = 'timeout' | 'send-error' | 'kiss' | 'dns-error';

export type PersistReason = 'first-send' | 'hold' | 'rate' | 'backoff' | 'interval' | 'sample';

export type Decision =
  | { type: 'send'; requestId: number; host: string; address: string; port: number; bytes: Uint8Array }
  | { type: 'resolve'; host: string }
  | { type: 'sample'; sample: Sample; offsetS: number; delayS: number; intervalS: number; nextInS: number }
  | { type: 'reject'; reason: RejectReason; host: string; address: string; port: number }
  | { type: 'kiss'; code: string; action: KissAction; host: string; address: string; port: number; intervalS: number }
  | { type: 'backoff'; cause: FailCause; host: string; address: string; failures: number; retryInS: number; message: string }
  | { type: 'failover'; fromHost: string; fromAddress: string; toHost: string; toAddress: string }
  | { type: 'deferred'; untilMs: number | null; reason: DeferReason }
  | { type: 'stopped'; reason: string }
  | { type: 'persist'; reason: PersistReason; snapshot: StateSnapshot }
  | { type: 'wake'; atMs: number | null };

export type Phase = 'idle' | 'waiting' | 'resolving' | 'in-flight' | 'stopped';

export interface SchedulerStatus {
  phase: Phase;
  /** When the next request may go out (or the in-flight one times out); null when stopped. */
  nextMs: number | null;
  failures: number;
  /** The filtered offset estimate, null before the first sample. */
  offsetS: number | null;
  lastSample: Sample | null;
  lastSampleMs: number | null;
  lastKiss: { code: string; host: string; address: string } | null;
  holds: Hold[];
  target: { host: string; address: string; port: number } | null;
  stoppedReason: string;
  restoreNote: string;
}

interface AddressSlot {
  address: string;
  port: number;
  intervalS: number;
  /** Floor set by RATE kisses; 0 until the server asks us to slow down. */
  rateFloorS: number;
  lastSendMs: number | null;
}

interface ServerSlot {
  host: string;
  port: number;
  isName: boolean;
  addresses: AddressSlot[];
  resolvedAtMs: number | null;
  ttlUntilMs: number;
  dnsErrorAtMs: number | null;
  failedSinceResolve: boolean;
}

function findSlot(slots: AddressSlot[], address: string, port: number): AddressSlot | null {
  for (var i = 0; i < slots.length; i++) {
    if (slots[i].address === address && slots[i].port === port) return slots[i];
  }
  return null;
}

function sinceS(nowMs: number, thenMs: number | null): number {
  return thenMs === null ? -1 : Math.max(0, Math.round((nowMs - thenMs) / 1000));
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : (v > hi ? hi : v);
}

export class Scheduler {
  private readonly config: ClientConfig;
  private readonly random: () => number;
  private phase: Phase;
  private servers: ServerSlot[];
  private serverIndex: number;
  private addressIndex: number;
  private holds: Hold[];
  private nextPollMs: number;
  private startupUntilMs: number;
  private pending: PendingRequest | null;
  private pendingDeadlineMs: number;
  private resolvingHost: string;
  private resolveDeadlineMs: number;
  private lastSendMs: number | null;
  private failures: number;
  private nextRequestId: number;
  private filter: ClockFilter;
  private lastSample: Sample | null;
  private lastSampleMs: number | null;
  private lastKiss: { code: string; host: string; address: string } | null;
  private lastSamplePersistMs: number | null;
  private sentSinceStart: boolean;
  private stoppedReason: string;
  private restoreNote: string;
  private restored: StateSnapshot | null;

  /** saved: whatever the adapter read from storage (any value; corrupt state means a polite fresh start). */
  constructor(config: ClientConfig, random: () => number, saved: unknown) {
    this.config = config;
    this.random = random;
    this.phase = 'idle';
    this.servers = [];
    this.serverIndex = 0;
    this.addressIndex = 0;
    this.holds = [];
    this.nextPollMs = 0;
    this.startupUntilMs = 0;
    this.pending = null;
    this.pendingDeadlineMs = 0;
    this.resolvingHost = '';
    this.resolveDeadlineMs = 0;
    this.lastSendMs = null;
    this.failures = 0;
    this.nextRequestId = 1;
    this.filter = createFilter();
    this.lastSample = null;
    this.lastSampleMs = null;
    this.lastKiss = null;
    this.lastSamplePersistMs = null;
    this.sentSinceStart = false;
    this.stoppedReason = '';
    for (var i = 0; i < config.servers.length; i++) {
      const spec = config.servers[i];
      const isName = !isIpAddress(spec.host);
      this.servers.push({
        host: spec.host,
        port: spec.port,
        isName: isName,
        addresses: isName ? [] : [this.newSlot(spec.host, spec.port)],
        resolvedAtMs: null,
        ttlUntilMs: 0,
        dnsErrorAtMs: null,
        failedSinceResolve: false,
      });
    }
    const r = restoreSnapshot(saved, config.servers);
    this.restoreNote = r.note;
    this.restored = r.snapshot;
    if (r.snapshot) {
      this.holds = r.snapshot.holds;
      this.failures = r.snapshot.f;
    }
  }

  handle(event: SchedulerEvent): Decision[] {
    const out: Decision[] = [];
    const now = event.nowMs;
    switch (event.type) {
      case 'start':
        this.start(now, out);
        break;
      case 'tick':
        break;
      case 'reply':
        this.onReply(event, out);
        break;
      case 'timeout':
        if (this.pending && this.pending.id === event.requestId) this.failPoll(now, 'timeout', 'no answer within ' + this.config.timeoutS + ' s', out);
        break;
      case 'send-error':
        if (this.pending && this.pending.id === event.requestId) this.failPoll(now, 'send-error', event.message, out);
        break;
      case 'dns':
        this.onDns(now, event.host, event.addresses, event.ttlS, out);
        break;
      case 'dns-error':
        if (this.phase === 'resolving' && event.host === this.resolvingHost) this.onDnsError(now, event.message, out);
        break;
      case 'sync-now':
        this.onSyncNow(now, out);
        break;
      case 'clock-stepped':
        shiftFilter(this.filter, event.stepS);
        break;
    }
    this.expire(now, out);
    this.pollIfDue(now, out);
    out.push({ type: 'wake', atMs: this.wakeAtMs() });
    return out;
  }

  status(nowMs: number): SchedulerStatus {
    const best = bestInFilter(this.filter, nowMs);
    const target = this.currentTarget();
    return {
      phase: this.phase,
      nextMs: this.wakeAtMs(),
      failures: this.failures,
      offsetS: best ? best.offsetS : null,
      lastSample: this.lastSample,
      lastSampleMs: this.lastSampleMs,
      lastKiss: this.lastKiss,
      holds: this.holds,
      target: target ? { host: this.servers[this.serverIndex].host, address: target.address, port: target.port } : null,
      stoppedReason: this.stoppedReason,
      restoreNote: this.restoreNote,
    };
  }

  /** The filtered offset to add to the local clock, or null before any sample. */
  offsetS(nowMs: number): number | null {
    const best = bestInFilter(this.filter, nowMs);
    return best ? best.offsetS : null;
  }

  snapshot(nowMs: number): StateSnapshot {
    const slots: SlotState[] = [];
    for (var i = 0; i < this.servers.length; i++) {
      const server = this.servers[i];
      for (var j = 0; j < server.addresses.length; j++) {
        const a = server.addresses[j];
        slots.push({ h: server.host, a: a.address, p: a.port, i: Math.round(a.intervalS), r: Math.round(a.rateFloorS), z: sinceS(nowMs, a.lastSendMs) });
      }
    }
    let last: LastSample | null = null;
    if (this.lastSample) {
      last = { o: Math.round(this.lastSample.offsetS * 1e6), d: Math.round(this.lastSample.delayS * 1e6), s: this.lastSample.stratum, h: this.lastSample.host };
    }
    return {
      v: SCHEMA_VERSION,
      f: this.failures,
      w: this.failures > 0 && this.nextPollMs > nowMs ? Math.ceil((this.nextPollMs - nowMs) / 1000) : 0,
      z: sinceS(nowMs, this.lastSendMs),
      holds: this.holds.concat([]),
      slots: slots,
      last: last,
    };
  }

  private newSlot(address: string, port: number): AddressSlot {
    return { address: address, port: port, intervalS: this.config.minIntervalS, rateFloorS: 0, lastSendMs: null };
  }

  private start(now: number, out: Decision[]): void {
    if (this.phase !== 'idle') return;
    this.phase = 'waiting';
    const c = this.config;
    const startupS = c.startupDelayMinS + this.random() * (c.startupDelayMaxS - c.startupDelayMinS);
    this.startupUntilMs = now + startupS * 1000;
    this.nextPollMs = this.startupUntilMs;
    const saved = this.restored;
    this.restored = null;
    if (saved) {
      // Time while powered off is assumed to be zero: every wait resumes where it was saved.
      if (saved.z >= 0) this.lastSendMs = now - saved.z * 1000;
      for (var i = 0; i < saved.slots.length; i++) {
        const s = saved.slots[i];
        const server = this.serverByHost(s.h);
        if (!server) continue;
        let slot = findSlot(server.addresses, s.a, s.p);
        if (!slot && server.isName && server.addresses.length < MAX_ADDRESSES_PER_SERVER) {
          slot = this.newSlot(s.a, s.p);
          server.addresses.push(slot);
        }
        if (!slot) continue;
        slot.rateFloorS = Math.min(s.r, c.maxIntervalS);
        slot.intervalS = clamp(s.i, Math.max(c.minIntervalS, slot.rateFloorS), c.maxIntervalS);
        if (s.z >= 0) slot.lastSendMs = now - s.z * 1000;
      }
      // The random startup delay goes on top of the saved waits. A device saves its state moments after each
      // request, so after a mass power-on every saved wait ends minInterval after the same instant: without the
      // delay the whole fleet would come back in one second (found by the fleet simulator, bench/fleet).
      if (this.lastSendMs !== null) this.nextPollMs = Math.max(this.nextPollMs, this.lastSendMs + c.minIntervalS * 1000 + startupS * 1000);
      if (saved.f > 0) this.nextPollMs = Math.max(this.nextPollMs, now + saved.w * 1000 + startupS * 1000);
    }
    this.skipToUsable(now);
    if (!this.hasAnyHope()) this.stop('every configured server has refused us (DENY/RSTR)', out);
  }

  private onReply(event: { nowMs: number; requestId: number; from: Endpoint; bytes: Uint8Array; t1: NtpTimestamp; t4: NtpTimestamp }, out: Decision[]): void {
    const now = event.nowMs;
    const pending = this.pending && this.pending.id === event.requestId ? this.pending : null;
    const verdict = judgeReply(pending, { from: event.from, bytes: event.bytes, nowMs: now, t1: event.t1, t4: event.t4 }, this.config.timeoutS * 1000, this.config.maxRootDistanceS);
    if (verdict.kind === 'reject') {
      out.push({ type: 'reject', reason: verdict.reason, host: pending ? pending.host : '', address: event.from.address, port: event.from.port });
      return;
    }
    if (!pending) return;
    const server = this.servers[this.serverIndex];
    const slot = findSlot(server.addresses, pending.address, pending.port);
    if (verdict.kind === 'kiss') {
      if (verdict.action === 'ignore') {
        out.push({ type: 'kiss', code: verdict.code, action: verdict.action, host: pending.host, address: pending.address, port: pending.port, intervalS: slot ? slot.intervalS : 0 });
        return;
      }
      pending.answered = true;
      this.pending = null;
      this.phase = 'waiting';
      this.lastKiss = { code: verdict.code, host: pending.host, address: pending.address };
      if (verdict.action === 'hold') {
        this.addHold({ h: pending.host, a: pending.address, p: pending.port, c: verdict.code });
        out.push({ type: 'kiss', code: verdict.code, action: verdict.action, host: pending.host, address: pending.address, port: pending.port, intervalS: 0 });
        this.advance(now, out);
        // Another server may be asked at once (the global floor still applies); the refusing one never again.
        this.nextPollMs = now;
        this.persist(now, 'hold', out);
        if (!this.hasAnyHope()) this.stop('every configured server has refused us (DENY/RSTR)', out);
      } else if (verdict.action === 'slow-down') {
        const s = slot as AddressSlot;
        s.rateFloorS = intervalAfterRate(Math.max(s.intervalS, s.rateFloorS), verdict.poll, this.config.maxIntervalS);
        if (s.intervalS < s.rateFloorS) s.intervalS = s.rateFloorS;
        this.nextPollMs = now + jittered(s.intervalS, this.random) * 1000;
        out.push({ type: 'kiss', code: verdict.code, action: verdict.action, host: pending.host, address: pending.address, port: pending.port, intervalS: s.intervalS });
        this.persist(now, 'rate', out);
      } else {
        out.push({ type: 'kiss', code: verdict.code, action: verdict.action, host: pending.host, address: pending.address, port: pending.port, intervalS: slot ? slot.intervalS : 0 });
        this.failPollAfterAnswer(now, 'kiss', 'kiss ' + verdict.code + ' (no time from this server yet)', out);
      }
      return;
    }

    pending.answered = true;
    this.pending = null;
    this.phase = 'waiting';
    this.failures = 0;
    server.failedSinceResolve = false;
    const sample = verdict.sample;
    const s = slot as AddressSlot;
    const previous = bestInFilter(this.filter, now);
    const entry: FilterEntry = { offsetS: sample.offsetS, delayS: sample.delayS, atMs: now };
    addToFilter(this.filter, entry);
    const oldInterval = s.intervalS;
    if (previous) {
      const floor = Math.max(this.config.minIntervalS, s.rateFloorS);
      // "As performance permits": lengthen while samples agree, shorten when the clock runs away.
      if (Math.abs(sample.offsetS - previous.offsetS) > OFFSET_JUMP_S) s.intervalS = Math.max(floor, s.intervalS / 4);
      else s.intervalS = Math.min(this.config.maxIntervalS, s.intervalS * 2);
    }
    const waitS = jittered(s.intervalS, this.random);
    this.nextPollMs = now + waitS * 1000;
    this.lastSample = sample;
    this.lastSampleMs = now;
    const best = bestInFilter(this.filter, now) as FilterEntry;
    out.push({ type: 'sample', sample: sample, offsetS: best.offsetS, delayS: best.delayS, intervalS: s.intervalS, nextInS: waitS });
    if (s.intervalS !== oldInterval) this.persist(now, 'interval', out);
    else if (this.lastSamplePersistMs === null || now - this.lastSamplePersistMs >= s.intervalS * 1000) this.persist(now, 'sample', out);
  }

  private onDns(now: number, host: string, addresses: string[], ttlS: number, out: Decision[]): void {
    if (this.phase !== 'resolving' || host !== this.resolvingHost) return;
    if (!addresses || addresses.length === 0) {
      this.onDnsError(now, 'no addresses', out);
      return;
    }
    const server = this.servers[this.serverIndex];
    const current = server.addresses[this.addressIndex];
    const next: AddressSlot[] = [];
    for (var i = 0; i < addresses.length && next.length < MAX_ADDRESSES_PER_SERVER; i++) {
      const existing = findSlot(server.addresses, addresses[i], server.port);
      next.push(existing || this.newSlot(addresses[i], server.port));
    }
    server.addresses = next;
    server.resolvedAtMs = now;
    server.ttlUntilMs = now + (ttlS > 0 ? ttlS : 0) * 1000;
    server.dnsErrorAtMs = null;
    this.addressIndex = current ? Math.max(0, next.indexOf(current)) : 0;
    this.phase = 'waiting';
    this.resolvingHost = '';
  }

  private onDnsError(now: number, message: string, out: Decision[]): void {
    const server = this.servers[this.serverIndex];
    server.dnsErrorAtMs = now;
    this.phase = 'waiting';
    this.resolvingHost = '';
    const before = this.currentTarget();
    if (!before) this.advance(now, out);
    const retryMs = this.resolveAllowedAtMs(server) - now;
    out.push({ type: 'backoff', cause: 'dns-error', host: server.host, address: '', failures: this.failures, retryInS: retryMs / 1000, message: message });
  }

  private onSyncNow(now: number, out: Decision[]): void {
    if (this.phase === 'idle') {
      out.push({ type: 'deferred', untilMs: null, reason: 'not-started' });
      return;
    }
    if (this.phase === 'stopped') {
      out.push({ type: 'deferred', untilMs: null, reason: 'stopped' });
      return;
    }
    if (this.phase === 'in-flight') {
      out.push({ type: 'deferred', untilMs: this.pendingDeadlineMs, reason: 'in-flight' });
      return;
    }
    if (this.phase === 'resolving') {
      out.push({ type: 'deferred', untilMs: this.resolveDeadlineMs, reason: 'resolving' });
      return;
    }
    let until = now;
    let reason: DeferReason = 'floor';
    const consider = (atMs: number, why: DeferReason): void => {
      if (atMs > until) {
        until = atMs;
        reason = why;
      }
    };
    consider(this.startupUntilMs, 'startup-delay');
    if (this.lastSendMs !== null) {
      consider(this.lastSendMs + FLOOR_S * 1000, 'floor');
      consider(this.lastSendMs + this.config.minIntervalS * 1000, 'min-interval');
    }
    const target = this.currentTarget();
    if (target && target.lastSendMs !== null && target.rateFloorS > 0) consider(target.lastSendMs + target.rateFloorS * 1000, 'rate-limited');
    if (this.failures > 0) consider(this.nextPollMs, 'backoff');
    if (until <= now) {
      this.nextPollMs = now;
      return;
    }
    out.push({ type: 'deferred', untilMs: until, reason: reason });
    if (this.nextPollMs > until) this.nextPollMs = until;
  }

  /** Deadlines that pass without an event: an unanswered request, a resolver that never answers. */
  private expire(now: number, out: Decision[]): void {
    if (this.phase === 'in-flight' && this.pending && now >= this.pendingDeadlineMs) {
      this.failPoll(now, 'timeout', 'no answer within ' + this.config.timeoutS + ' s', out);
    }
    if (this.phase === 'resolving' && now >= this.resolveDeadlineMs) this.onDnsError(now, 'resolver did not answer', out);
  }

  private failPoll(now: number, cause: FailCause, message: string, out: Decision[]): void {
    if (this.pending) this.pending.answered = true;
    this.pending = null;
    this.phase = 'waiting';
    this.failPollAfterAnswer(now, cause, message, out);
  }

  private failPollAfterAnswer(now: number, cause: FailCause, message: string, out: Decision[]): void {
    const server = this.servers[this.serverIndex];
    const failed = this.currentTarget();
    this.failures++;
    server.failedSinceResolve = true;
    const retryS = jittered(backoffS(this.failures, this.config.minIntervalS, this.config.maxIntervalS), this.random);
    this.nextPollMs = now + retryS * 1000;
    out.push({ type: 'backoff', cause: cause, host: server.host, address: failed ? failed.address : '', failures: this.failures, retryInS: retryS, message: message });
    this.advance(now, out);
    this.persist(now, 'backoff', out);
  }

  private pollIfDue(now: number, out: Decision[]): void {
    if (this.phase !== 'waiting' || now < this.nextPollMs) return;
    let slot = this.currentTarget();
    const server = this.servers[this.serverIndex];
    if (server.isName && (server.addresses.length === 0 || now >= server.ttlUntilMs) && now >= this.resolveAllowedAtMs(server)) {
      this.phase = 'resolving';
      this.resolvingHost = server.host;
      this.resolveDeadlineMs = now + DNS_TIMEOUT_S * 1000;
      out.push({ type: 'resolve', host: server.host });
      return;
    }
    if (!slot) {
      this.advance(now, out);
      slot = this.currentTarget();
      if (!slot) {
        if (!this.hasAnyHope()) this.stop('every configured server has refused us (DENY/RSTR)', out);
        else this.nextPollMs = Math.max(now + FLOOR_S * 1000, this.nextResolveMs());
        return;
      }
      if (this.servers[this.serverIndex] !== server) {
        this.pollIfDue(now, out);
        return;
      }
    }
    let earliest = now;
    if (this.lastSendMs !== null) earliest = Math.max(earliest, this.lastSendMs + FLOOR_S * 1000);
    if (slot.lastSendMs !== null) earliest = Math.max(earliest, slot.lastSendMs + Math.max(FLOOR_S, slot.rateFloorS) * 1000);
    if (earliest > now) {
      this.nextPollMs = earliest;
      return;
    }
    const s = this.servers[this.serverIndex];
    const nonce = makeNonce(this.random);
    const id = this.nextRequestId++;
    this.pending = { id: id, host: s.host, address: slot.address, port: slot.port, nonce: nonce, sentMs: now, answered: false };
    this.pendingDeadlineMs = now + this.config.timeoutS * 1000;
    this.phase = 'in-flight';
    this.lastSendMs = now;
    slot.lastSendMs = now;
    out.push({ type: 'send', requestId: id, host: s.host, address: slot.address, port: slot.port, bytes: encodeRequest(nonce) });
    if (!this.sentSinceStart) {
      // One write per boot is enough to keep a reboot loop to the floor even before any reply is saved.
      this.sentSinceStart = true;
      this.persist(now, 'first-send', out);
    }
  }

  private wakeAtMs(): number | null {
    if (this.phase === 'idle' || this.phase === 'stopped') return null;
    if (this.phase === 'in-flight') return this.pendingDeadlineMs;
    if (this.phase === 'resolving') return this.resolveDeadlineMs;
    return this.nextPollMs;
  }

  private currentTarget(): AddressSlot | null {
    const server = this.servers[this.serverIndex];
    const slot = server ? server.addresses[this.addressIndex] : null;
    return slot && !this.isHeld(slot) ? slot : null;
  }

  private isHeld(slot: AddressSlot): boolean {
    for (var i = 0; i < this.holds.length; i++) {
      if (this.holds[i].a === slot.address && this.holds[i].p === slot.port) return true;
    }
    return false;
  }

  /** Moves the cursor to the next address that has not refused us, across servers; reports a failover. */
  private advance(now: number, out: Decision[]): void {
    const fromServer = this.servers[this.serverIndex];
    const fromSlot = fromServer.addresses[this.addressIndex];
    const total = this.servers.length;
    let si = this.serverIndex;
    let ai = this.addressIndex + 1;
    for (var step = 0; step <= total; step++) {
      const server = this.servers[si];
      for (; ai < server.addresses.length; ai++) {
        if (!this.isHeld(server.addresses[ai])) break;
      }
      if (ai < server.addresses.length || (server.isName && server !== fromServer && now >= this.resolveAllowedAtMs(server))) break;
      si = (si + 1) % total;
      ai = 0;
    }
    this.serverIndex = si;
    this.addressIndex = ai < this.servers[si].addresses.length ? ai : 0;
    const to = this.servers[si];
    const toSlot = to.addresses[this.addressIndex];
    const toAddress = toSlot ? toSlot.address : '';
    if (to !== fromServer || toSlot !== fromSlot) {
      out.push({ type: 'failover', fromHost: fromServer.host, fromAddress: fromSlot ? fromSlot.address : '', toHost: to.host, toAddress: toAddress });
    }
  }

  /** After a restore, the saved holds may rule out the first address. */
  private skipToUsable(now: number): void {
    if (this.currentTarget() || (this.servers[0].isName && this.servers[0].addresses.length === 0)) return;
    this.advance(now, []);
  }

  /** Whether any server could still be asked: a usable address, or a name that may resolve to a new one. */
  private hasAnyHope(): boolean {
    for (var i = 0; i < this.servers.length; i++) {
      const server = this.servers[i];
      if (server.isName) return true;
      for (var j = 0; j < server.addresses.length; j++) {
        if (!this.isHeld(server.addresses[j])) return true;
      }
    }
    return false;
  }

  private resolveAllowedAtMs(server: ServerSlot): number {
    let at = server.ttlUntilMs;
    if (server.failedSinceResolve && server.resolvedAtMs !== null) at = Math.max(at, server.resolvedAtMs + DNS_RETRY_AFTER_FAILURE_S * 1000);
    if (server.dnsErrorAtMs !== null) at = Math.max(at, server.dnsErrorAtMs + DNS_RETRY_AFTER_FAILURE_S * 1000);
    // A name whose every address refused us is worth a fresh look only hourly (pools rotate addresses).
    if (server.addresses.length > 0 && server.resolvedAtMs !== null && this.allHeld(server)) at = Math.max(at, server.resolvedAtMs + DNS_RETRY_AFTER_FAILURE_S * 1000);
    return at;
  }

  private allHeld(server: ServerSlot): boolean {
    for (var i = 0; i < server.addresses.length; i++) {
      if (!this.isHeld(server.addresses[i])) return false;
    }
    return true;
  }

  private nextResolveMs(): number {
    let at = -1;
    for (var i = 0; i < this.servers.length; i++) {
      if (!this.servers[i].isName) continue;
      const t = this.resolveAllowedAtMs(this.servers[i]);
      if (at < 0 || t < at) at = t;
    }
    return at;
  }

  private addHold(hold: Hold): void {
    if (this.holds.length >= MAX_HOLDS) this.holds.shift();
    this.holds.push(hold);
  }

  private stop(reason: string, out: Decision[]): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.stoppedReason = reason;
    out.push({ type: 'stopped', reason: reason });
  }

  private persist(now: number, reason: PersistReason, out: Decision[]): void {
    if (reason === 'sample' || reason === 'interval') this.lastSamplePersistMs = now;
    out.push({ type: 'persist', reason: reason, snapshot: this.snapshot(now) });
  }

  private serverByHost(host: string): ServerSlot | null {
    for (var i = 0; i < this.servers.length; i++) {
      if (this.servers[i].host === host) return this.servers[i];
    }
    return null;
  }
}
