// The poll scheduler: an explicit state machine. It never reads a clock, sleeps or touches a socket.
// Events come in with the time; decisions come out as data for the adapter (or the fleet simulator) to
// carry out. Every politeness rule of the client lives here once.
//
// The state lives in closures made by the constructor rather than in private fields: this file is most of
// the Espruino bundle, and local names minify to one letter where every this.field would cost five bytes more
// on each of its hundreds of uses (firmware/README.md "Size").

import { Endpoint, judgeReply, PendingRequest, RejectReason, Sample, Verdict } from './accept';
import { encodeRequest, makeNonce } from './codec';
import { ClientConfig, isIpAddress } from './config';
import { addToFilter, bestInFilter, createFilter, FilterEntry, shiftFilter } from './filter';
import { intervalAfterRate, KissAction } from './kiss';
import {
  backoffS, DNS_RETRY_AFTER_FAILURE_S, DNS_TIMEOUT_S, FLOOR_S, jittered, MAX_ADDRESSES_PER_SERVER, MAX_HOLDS, OFFSET_JUMP_S,
} from './policy';
import { maxOf as max, minOf as min, roundOf } from './math';
import { Hold, restoreSnapshot, SCHEMA_VERSION, SlotState, StateSnapshot } from './state';
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

/**
 * How the board spells the types of events and decisions. Node builds keep the names; the firmware build, whose
 * adapter (firmware/src/kisstime.ts) is the only other party, makes them small numbers: the same protocol in fewer
 * bytes. Decisions are numbered as the adapter's table of handlers is ordered. Types only Node uses (timeout and
 * sync-now events; reject, failover and deferred decisions) keep their names.
 */
export const ON_START = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'start' : 0) as 'start';
export const ON_TICK = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'tick' : 1) as 'tick';
export const ON_REPLY = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'reply' : 2) as 'reply';
export const ON_SEND_ERROR = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'send-error' : 3) as 'send-error';
export const ON_DNS = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'dns' : 4) as 'dns';
export const ON_DNS_ERROR = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'dns-error' : 5) as 'dns-error';
export const ON_CLOCK_STEPPED = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'clock-stepped' : 6) as 'clock-stepped';
export const DO_SEND = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'send' : 0) as 'send';
export const DO_RESOLVE = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'resolve' : 1) as 'resolve';
export const DO_SAMPLE = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'sample' : 2) as 'sample';
export const DO_KISS = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'kiss' : 3) as 'kiss';
export const DO_BACKOFF = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'backoff' : 4) as 'backoff';
export const DO_STOPPED = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'stopped' : 5) as 'stopped';
export const DO_PERSIST = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'persist' : 6) as 'persist';
export const DO_WAKE = (typeof KISSTIME_FIRMWARE === 'undefined' ? 'wake' : 7) as 'wake';

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
  /** NEVER until the first request. */
  lastSendMs: number;
}

interface ServerSlot {
  host: string;
  port: number;
  isName: boolean;
  addresses: AddressSlot[];
  /** When the name was last resolved, or its lookup last failed (NEVER if not yet). */
  /** Unset in the firmware build, which has no use for it (resolveAllowedAtMs). */
  resolvedAtMs?: number;
  ttlUntilMs: number;
  dnsErrorAtMs: number;
  /** Set when a poll fails, cleared by a sample; unset until then. */
  failedSinceResolve?: boolean;
}

// Phases as small numbers inside; status() reports them by name (PHASES[phase]). The order matters: WAITING is 0,
// the two phases with a deadline come next, and the two with no wake at all last (wakeAtMs, pollIfDue).
const WAITING = 0;
const RESOLVING = 1;
const IN_FLIGHT = 2;
const IDLE = 3;
const STOPPED = 4;
const PHASES: Phase[] = ['waiting', 'resolving', 'in-flight', 'idle', 'stopped'];

/** A time before every other, so that "at least FLOOR_S after it" needs no special case for "never". */
const NEVER = -Infinity;

// The board's messages are short (its handlers get the cause and the server beside them).
const ALL_REFUSED = typeof KISSTIME_FIRMWARE === 'undefined' ? 'every configured server has refused us (DENY/RSTR)' : 'all servers refused';

// Why a snapshot is written, by index: the call sites pass a number, and only the Node build spells it out.
const PERSIST_REASONS: PersistReason[] = ['first-send', 'hold', 'rate', 'backoff', 'interval', 'sample'];
const FIRST_SEND = 0;
const HOLD = 1;
const RATE = 2;
const BACKOFF = 3;
const INTERVAL = 4;
const SAMPLE = 5;

function findSlot(slots: AddressSlot[], address: string, port: number): AddressSlot | undefined {
  // filter rather than find: Espruino builds that save on flash have no find.
  return slots.filter((s) => s.address === address && s.port === port)[0];
}

/** Whole seconds from then to now, -1 for never. */
function sinceS(nowMs: number, thenMs: number): number {
  return thenMs > NEVER ? max(0, roundOf((nowMs - thenMs) / 1000)) : -1;
}

export class Scheduler {
  /** Feeds one event; returns the decisions to carry out, always ending with a wake. */
  declare readonly handle: (event: SchedulerEvent) => Decision[];
  /** Where the scheduler stands, for adapters that show it (left out of the firmware bundle: KISSTIME_FIRMWARE). */
  declare readonly status: (nowMs: number) => SchedulerStatus;
  /** The filtered offset to add to the local clock, or null before any sample. */
  declare readonly offsetS: (nowMs: number) => number | null;
  declare readonly snapshot: (nowMs: number) => StateSnapshot;
  /** What became of the saved state: restored, migrated, or why it was not used (also in status()). */
  declare readonly restoreNote: string;

  /** saved: whatever the adapter read from storage (any value; corrupt state means a polite fresh start). */
  constructor(c: ClientConfig, random: () => number, saved: unknown) {
    const minS = c.minIntervalS;
    const maxS = c.maxIntervalS;
    const timeoutMessage = typeof KISSTIME_FIRMWARE === 'undefined' ? 'no answer within ' + c.timeoutS + ' s' : 'no answer';
    let phase = IDLE;
    let serverIndex = 0;
    let addressIndex = 0;
    let nextPollMs = 0;
    let startupUntilMs = 0;
    /** The request in flight, and the address slot it went to (the current target until it is settled). */
    let pending: PendingRequest | null = null;
    let sentSlot: AddressSlot;
    /** When the request in flight times out, or the resolver is given up on (one at a time). */
    let deadlineMs = 0;
    let lastSendMs = NEVER;
    /** The id of the next request; 1 until the first send of this boot. */
    let nextRequestId = 1;
    const filter = createFilter();
    let lastSample: Sample | null = null;
    let lastSampleMs: number | null = null;
    let lastKiss: { code: string; host: string; address: string } | null = null;
    let lastSamplePersistMs = NEVER;
    let stoppedReason = '';
    // The event being handled: its time, and the decisions it has led to so far.
    let now = 0;
    let out: Decision[] = [];
    const restored = restoreSnapshot(saved, c.servers);
    const restoredSnapshot = restored.snapshot;
    const holds: Hold[] = restoredSnapshot ? restoredSnapshot.holds : [];
    let failures = restoredSnapshot ? restoredSnapshot.f : 0;

    const emit = (d: Decision): void => {
      out.push(d);
    };

    const newSlot = (address: string, port: number): AddressSlot => {
      return { address: address, port: port, intervalS: minS, rateFloorS: 0, lastSendMs: NEVER };
    };

    const servers: ServerSlot[] = c.servers.map((spec) => ({
      host: spec.host,
      port: spec.port,
      isName: !isIpAddress(spec.host),
      addresses: isIpAddress(spec.host) ? [newSlot(spec.host, spec.port)] : [],
      ttlUntilMs: 0,
      dnsErrorAtMs: NEVER,
    }));

    const isHeld = (slot: AddressSlot): boolean => holds.some((h) => h.a === slot.address && h.p === slot.port);

    /** The address the cursor is on, unless it refused us (then false or undefined). */
    const currentTarget = (): AddressSlot | false | undefined => {
      const slot = servers[serverIndex].addresses[addressIndex];
      return slot && !isHeld(slot) && slot;
    };

    const wakeAtMs = (): number | null => {
      return phase > IN_FLIGHT ? null : (phase ? deadlineMs : nextPollMs);
    };

    const resolveAllowedAtMs = (server: ServerSlot): number => {
      const afterDnsError = server.dnsErrorAtMs + DNS_RETRY_AFTER_FAILURE_S * 1000;
      // On the board every answer comes with a TTL of DNS_RETRY_AFTER_FAILURE_S (its adapter assumes one), so the
      // TTL alone already waits as long as the rule below: the board is built without it.
      if (typeof KISSTIME_FIRMWARE !== 'undefined') return max(server.ttlUntilMs, afterDnsError);
      // A name whose every address refused us, or that failed since, is worth a fresh look only hourly (pools rotate addresses).
      const allHeld = server.addresses.length > 0 && server.addresses.every(isHeld);
      const resolvedAtMs = server.resolvedAtMs === undefined ? NEVER : server.resolvedAtMs;
      return max(server.ttlUntilMs, server.failedSinceResolve || allHeld ? resolvedAtMs + DNS_RETRY_AFTER_FAILURE_S * 1000 : NEVER, afterDnsError);
    };

    /** Stops for good when every server has refused us (no usable address, no name that may resolve to a new one). */
    const stopIfHopeless = (): boolean => {
      if (!servers.every((server) => !server.isName && server.addresses.every(isHeld))) return false;
      if (phase !== STOPPED) {
        phase = STOPPED;
        if (typeof KISSTIME_FIRMWARE === 'undefined') stoppedReason = ALL_REFUSED;
        emit({ type: DO_STOPPED, reason: ALL_REFUSED });
      }
      return true;
    };

    const snapshot = (nowMs: number): StateSnapshot => {
      const slots: SlotState[] = [];
      servers.forEach((server) => {
        server.addresses.forEach((a) => {
          slots.push({ h: server.host, a: a.address, p: a.port, i: roundOf(a.intervalS), r: roundOf(a.rateFloorS), z: sinceS(nowMs, a.lastSendMs) });
        });
      });
      const s = {
        v: SCHEMA_VERSION,
        f: failures,
        w: failures > 0 && nextPollMs > nowMs ? Math.ceil((nextPollMs - nowMs) / 1000) : 0,
        z: sinceS(nowMs, lastSendMs),
        // The board writes the snapshot at once; Node adapters may keep it while the holds change.
        holds: typeof KISSTIME_FIRMWARE === 'undefined' ? holds.concat([]) : holds,
        slots: slots,
      } as StateSnapshot;
      // For people and tools reading the file; nothing restores it, so the board neither builds nor writes it.
      if (typeof KISSTIME_FIRMWARE === 'undefined') {
        const l = lastSample;
        s.last = l ? { o: Math.round(l.offsetS * 1e6), d: Math.round(l.delayS * 1e6), s: l.stratum, h: l.host } : null;
      }
      return s;
    };

    /** The reason (an index into PERSIST_REASONS) is for the Node adapters' logs; the board only writes the snapshot. */
    const persist = (reason: number): void => {
      emit(typeof KISSTIME_FIRMWARE === 'undefined'
        ? { type: DO_PERSIST, reason: PERSIST_REASONS[reason], snapshot: snapshot(now) }
        : { type: DO_PERSIST, snapshot: snapshot(now) } as Extract<Decision, { type: 'persist' }>);
    };

    /** Waits the interval, with jitter, before the next poll; returns the wait. */
    const waitJittered = (intervalS: number): number => {
      const waitS = jittered(intervalS, random);
      nextPollMs = now + waitS * 1000;
      return waitS;
    };

    /** Moves the cursor to the next address that has not refused us, across servers; reports a failover. */
    const advance = (quiet?: boolean): void => {
      const fromServer = servers[serverIndex];
      const fromSlot = typeof KISSTIME_FIRMWARE === 'undefined' ? fromServer.addresses[addressIndex] : null;
      addressIndex++;
      for (var step = 0; step <= servers.length; step++) {
        const server = servers[serverIndex];
        // The first address of this server that has not refused us, from the cursor on.
        while (addressIndex < server.addresses.length && isHeld(server.addresses[addressIndex])) addressIndex++;
        if (addressIndex < server.addresses.length || (server.isName && server !== fromServer && now >= resolveAllowedAtMs(server))) break;
        serverIndex = (serverIndex + 1) % servers.length;
        addressIndex = 0;
      }
      const to = servers[serverIndex];
      if (addressIndex >= to.addresses.length) addressIndex = 0;
      const toSlot = to.addresses[addressIndex];
      if (typeof KISSTIME_FIRMWARE === 'undefined' && !quiet && (to !== fromServer || toSlot !== fromSlot)) {
        emit({ type: 'failover', fromHost: fromServer.host, fromAddress: fromSlot ? fromSlot.address : '', toHost: to.host, toAddress: toSlot ? toSlot.address : '' });
      }
    };

    /** The request in flight (if any) is settled: nothing it sent may be accepted any more. */
    const settle = (): void => {
      pending = null;
      phase = WAITING;
    };

    /** The request in flight failed: it went to the current target, which DNS cannot move while it is in flight. */
    const failPoll = (cause: FailCause, message: string): void => {
      settle();
      if (typeof KISSTIME_FIRMWARE === 'undefined') servers[serverIndex].failedSinceResolve = true;
      const retryInS = waitJittered(backoffS(++failures, minS, maxS));
      emit({ type: DO_BACKOFF, cause: cause, host: servers[serverIndex].host, address: sentSlot.address, failures: failures, retryInS: retryInS, message: message });
      advance();
      persist(BACKOFF);
    };

    const onDnsError = (message: string): void => {
      const server = servers[serverIndex];
      server.dnsErrorAtMs = now;
      phase = WAITING;
      if (!currentTarget()) advance();
      // Reported for the name that failed, whichever server the cursor moved on to.
      emit({ type: DO_BACKOFF, cause: 'dns-error', host: server.host, address: '', failures: failures, retryInS: (resolveAllowedAtMs(server) - now) / 1000, message: message });
    };

    const start = (): void => {
      phase = WAITING;
      const startupMs = (c.startupDelayMinS + random() * (c.startupDelayMaxS - c.startupDelayMinS)) * 1000;
      nextPollMs = now + startupMs;
      if (typeof KISSTIME_FIRMWARE === 'undefined') startupUntilMs = nextPollMs;
      // Runs once: nothing ever returns the phase to IDLE.
      const s = restoredSnapshot;
      if (s) {
        // Time while powered off is assumed to be zero: every wait resumes where it was saved.
        if (s.z >= 0) lastSendMs = now - s.z * 1000;
        for (var saved of s.slots) {
          for (var server of servers) {
            if (server.host === saved.h) {
              let slot = findSlot(server.addresses, saved.a, saved.p);
              if (!slot && server.isName && server.addresses.length < MAX_ADDRESSES_PER_SERVER) server.addresses.push(slot = newSlot(saved.a, saved.p));
              if (slot) {
                slot.rateFloorS = min(saved.r, maxS);
                slot.intervalS = min(max(saved.i, minS, slot.rateFloorS), maxS);
                if (saved.z >= 0) slot.lastSendMs = now - saved.z * 1000;
                break;
              }
            }
          }
        }
        // The random startup delay goes on top of the saved waits. A device saves its state moments after each
        // request, so after a mass power-on every saved wait ends minInterval after the same instant: without the
        // delay the whole fleet would come back in one second (found by the fleet simulator, bench/fleet).
        nextPollMs = max(nextPollMs, lastSendMs + minS * 1000 + startupMs, s.f > 0 ? now + s.w * 1000 + startupMs : NEVER);
      }
      // After a restore, the saved holds may rule out the first address.
      if (!currentTarget() && !(servers[0].isName && !servers[0].addresses.length)) advance(true);
      stopIfHopeless();
    };

    const onReply = (event: Extract<SchedulerEvent, { type: 'reply' }>): void => {
      // Typed as present: judgeReply rejects a reply when there is none, and nothing else happens then.
      const p = (pending && pending.id === event.requestId && pending) as PendingRequest;
      const verdict = judgeReply(p, event, c.timeoutS * 1000, c.maxRootDistanceS);
      // The board's judgeReply gives null for a reject.
      if (typeof KISSTIME_FIRMWARE !== 'undefined' ? !verdict : verdict.kind === 'reject') {
        if (typeof KISSTIME_FIRMWARE === 'undefined' && verdict.kind === 'reject') {
          emit({ type: 'reject', reason: verdict.reason, host: p ? p.host : '', address: event.from.address, port: event.from.port });
        }
        return;
      }
      const slot = sentSlot;
      // The board's verdicts have no kind: a kiss is the one with a code.
      if (typeof KISSTIME_FIRMWARE !== 'undefined' ? (verdict as { code?: string }).code : verdict.kind === 'kiss') {
        const kiss = verdict as Extract<Verdict, { kind: 'kiss' }>;
        const action = kiss.action;
        const code = kiss.code;
        const hold = action === 'hold';
        const rate = action === 'slow-down';
        if (hold || rate) settle();
        if (typeof KISSTIME_FIRMWARE === 'undefined' && action !== 'ignore') lastKiss = { code: code, host: p.host, address: p.address };
        if (hold) {
          if (holds.length >= MAX_HOLDS) holds.shift();
          holds.push({ h: p.host, a: p.address, p: p.port, c: code });
        } else if (rate) {
          // The new floor is at least double the interval, and the interval never exceeds the maximum, so it rises to the floor.
          slot.intervalS = slot.rateFloorS = intervalAfterRate(max(slot.intervalS, slot.rateFloorS), kiss.poll, maxS);
          waitJittered(slot.intervalS);
        }
        const intervalS = hold ? 0 : slot.intervalS;
        // The board's adapter reads no port here, and no host when sending, nor the wait after a sample.
        emit(typeof KISSTIME_FIRMWARE === 'undefined'
          ? { type: DO_KISS, code: code, action: action, host: p.host, address: p.address, port: p.port, intervalS: intervalS }
          : { type: DO_KISS, code: code, action: action, host: p.host, address: p.address, intervalS: intervalS } as Decision);
        if (hold) {
          advance();
          // Another server may be asked at once (the global floor still applies); the refusing one never again.
          nextPollMs = now;
          persist(HOLD);
          stopIfHopeless();
        } else if (rate) {
          persist(RATE);
        } else if (action !== 'ignore') {
          failPoll('kiss', 'kiss ' + code + (typeof KISSTIME_FIRMWARE === 'undefined' ? ' (no time from this server yet)' : ''));
        }
        return;
      }

      settle();
      failures = 0;
      if (typeof KISSTIME_FIRMWARE === 'undefined') servers[serverIndex].failedSinceResolve = false;
      const sample = (verdict as Extract<Verdict, { kind: 'sample' }>).sample;
      const previous = bestInFilter(filter, now);
      if (typeof KISSTIME_FIRMWARE === 'undefined') addToFilter(filter, { offsetS: sample.offsetS, delayS: sample.delayS, atMs: now });
      else {
        // The board files the sample itself: nothing else holds on to it once its adapter has read it.
        (sample as Sample & FilterEntry).atMs = now;
        addToFilter(filter, sample as Sample & FilterEntry);
      }
      const oldInterval = slot.intervalS;
      if (previous) {
        // "As performance permits": lengthen while samples agree, shorten when the clock runs away.
        slot.intervalS = Math.abs(sample.offsetS - previous.offsetS) > OFFSET_JUMP_S ? max(minS, slot.rateFloorS, slot.intervalS / 4) : min(maxS, slot.intervalS * 2);
      }
      const waitS = waitJittered(slot.intervalS);
      if (typeof KISSTIME_FIRMWARE === 'undefined') {
        lastSample = sample;
        lastSampleMs = now;
      }
      const best = bestInFilter(filter, now) as FilterEntry;
      emit(typeof KISSTIME_FIRMWARE === 'undefined'
        ? { type: DO_SAMPLE, sample: sample, offsetS: best.offsetS, delayS: best.delayS, intervalS: slot.intervalS, nextInS: waitS }
        : { type: DO_SAMPLE, sample: sample, offsetS: best.offsetS, delayS: best.delayS, intervalS: slot.intervalS } as Decision);
      const changed = slot.intervalS !== oldInterval;
      if (changed || now - lastSamplePersistMs >= slot.intervalS * 1000) {
        lastSamplePersistMs = now;
        persist(typeof KISSTIME_FIRMWARE === 'undefined' && changed ? INTERVAL : SAMPLE);
      }
    };

    const onDns = (addresses: string[], ttlS: number): void => {
      // The board's adapter reports a failed lookup as dns-error, never as an empty answer.
      if (typeof KISSTIME_FIRMWARE === 'undefined' && !(addresses && addresses.length > 0)) {
        onDnsError('no addresses');
        return;
      }
      const server = servers[serverIndex];
      const known = server.addresses;
      const reuse = (address: string): AddressSlot => findSlot(known, address, server.port) || newSlot(address, server.port);
      if (typeof KISSTIME_FIRMWARE !== 'undefined') {
        // The board's resolver answers with one address, so the cursor is on it; its adapter always passes the TTL
        // it assumes.
        server.addresses = [reuse(addresses[0])];
        addressIndex = 0;
        server.ttlUntilMs = now + ttlS * 1000;
      } else {
        const current = known[addressIndex];
        const next: AddressSlot[] = [];
        for (var i = 0; i < addresses.length && next.length < MAX_ADDRESSES_PER_SERVER; i++) next.push(reuse(addresses[i]));
        server.addresses = next;
        server.resolvedAtMs = now;
        server.ttlUntilMs = now + (ttlS > 0 ? ttlS : 0) * 1000;
        addressIndex = max(0, next.indexOf(current));
      }
      server.dnsErrorAtMs = NEVER;
      phase = WAITING;
    };

    const onSyncNow = (): void => {
      if (phase !== WAITING) {
        // Not started, stopped, or busy until the request or lookup under way ends.
        emit({ type: 'deferred', untilMs: wakeAtMs(), reason: phase === IDLE ? 'not-started' : PHASES[phase] as DeferReason });
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
      consider(startupUntilMs, 'startup-delay');
      consider(lastSendMs + FLOOR_S * 1000, 'floor');
      consider(lastSendMs + minS * 1000, 'min-interval');
      const target = currentTarget();
      if (target && target.rateFloorS > 0) consider(target.lastSendMs + target.rateFloorS * 1000, 'rate-limited');
      if (failures > 0) consider(nextPollMs, 'backoff');
      if (until <= now) {
        nextPollMs = now;
        return;
      }
      emit({ type: 'deferred', untilMs: until, reason: reason });
      if (nextPollMs > until) nextPollMs = until;
    };

    const pollIfDue = (): void => {
      // Any phase but WAITING (0) has nothing to poll.
      if (phase || now < nextPollMs) return;
      let slot = currentTarget();
      const server = servers[serverIndex];
      if (server.isName && (!server.addresses.length || now >= server.ttlUntilMs) && now >= resolveAllowedAtMs(server)) {
        phase = RESOLVING;
        deadlineMs = now + DNS_TIMEOUT_S * 1000;
        emit({ type: DO_RESOLVE, host: server.host });
        return;
      }
      if (!slot) {
        advance();
        slot = currentTarget();
        if (!slot) {
          if (!stopIfHopeless()) {
            // The soonest any name may be looked up again (there is one, or stopIfHopeless would have stopped).
            let at = Infinity;
            servers.forEach((s) => {
              if (s.isName) at = min(at, resolveAllowedAtMs(s));
            });
            nextPollMs = max(now + FLOOR_S * 1000, at);
          }
          return;
        }
        if (servers[serverIndex] !== server) {
          pollIfDue();
          return;
        }
      }
      const earliest = max(lastSendMs + FLOOR_S * 1000, slot.lastSendMs + max(FLOOR_S, slot.rateFloorS) * 1000);
      if (earliest > now) {
        nextPollMs = earliest;
        return;
      }
      const nonce = makeNonce(random);
      const id = nextRequestId++;
      sentSlot = slot;
      pending = { id: id, host: server.host, address: slot.address, port: slot.port, nonce: nonce, sentMs: now };
      deadlineMs = now + c.timeoutS * 1000;
      phase = IN_FLIGHT;
      lastSendMs = slot.lastSendMs = now;
      emit(typeof KISSTIME_FIRMWARE === 'undefined'
        ? { type: DO_SEND, requestId: id, host: server.host, address: slot.address, port: slot.port, bytes: encodeRequest(nonce) }
        : { type: DO_SEND, requestId: id, address: slot.address, port: slot.port, bytes: encodeRequest(nonce) } as Decision);
      // One write per boot is enough to keep a reboot loop to the floor even before any reply is saved.
      if (id === 1) persist(FIRST_SEND);
    };

    this.handle = (event: SchedulerEvent): Decision[] => {
      out = [];
      now = event.nowMs;
      const type = event.type;
      if (type === ON_START) {
        if (phase === IDLE) start();
      } else if (type === ON_REPLY) onReply(event);
      // The board's adapter never reports a timeout: the deadline below is its only timer.
      else if ((typeof KISSTIME_FIRMWARE === 'undefined' && type === 'timeout') || type === ON_SEND_ERROR) {
        if (pending && pending.id === event.requestId) {
          if (typeof KISSTIME_FIRMWARE === 'undefined') failPoll(type, type === 'send-error' ? event.message : timeoutMessage);
          else failPoll('send-error', (event as { message: string }).message);
        }
      } else if (type === ON_DNS || type === ON_DNS_ERROR) {
        // Only the answer for the name being looked up counts; a late one is ignored.
        if (phase === RESOLVING && event.host === servers[serverIndex].host) {
          if (type === ON_DNS) onDns(event.addresses, event.ttlS);
          else onDnsError(event.message);
        }
      } else if (type === ON_CLOCK_STEPPED) shiftFilter(filter, event.stepS);
      else if (typeof KISSTIME_FIRMWARE === 'undefined' && type === 'sync-now') onSyncNow();
      // Deadlines that pass without an event: an unanswered request, a resolver that never answers.
      if (now >= deadlineMs) {
        if (phase === IN_FLIGHT) failPoll('timeout', timeoutMessage);
        else if (phase === RESOLVING) onDnsError(typeof KISSTIME_FIRMWARE === 'undefined' ? 'resolver did not answer' : timeoutMessage);
      }
      pollIfDue();
      emit({ type: DO_WAKE, atMs: wakeAtMs() });
      return out;
    };

    this.restoreNote = restored.note;
    if (typeof KISSTIME_FIRMWARE === 'undefined') this.status = (nowMs: number): SchedulerStatus => {
      const best = bestInFilter(filter, nowMs);
      const target = currentTarget();
      return {
        phase: PHASES[phase],
        nextMs: wakeAtMs(),
        failures: failures,
        offsetS: best ? best.offsetS : null,
        lastSample: lastSample,
        lastSampleMs: lastSampleMs,
        lastKiss: lastKiss,
        holds: holds,
        target: target ? { host: servers[serverIndex].host, address: target.address, port: target.port } : null,
        stoppedReason: stoppedReason,
        restoreNote: this.restoreNote,
      };
    };

    this.offsetS = (nowMs: number): number | null => {
      const best = bestInFilter(filter, nowMs);
      return best ? best.offsetS : null;
    };

    this.snapshot = snapshot;
  }
}
