// The poll scheduler: one client's politeness as a state machine. It never reads a clock, sleeps or touches a
// socket. handle() takes an event with its time and returns decisions (decisions.ts) for the adapter or the fleet
// simulator to carry out. Every politeness rule of the client lives here once; waits, backoff, RATE floors and holds
// are kept per server address, so a failure at one server never delays another.

import { judgeReply, RejectReason, Sample } from './accept';
import { encodeRequest, makeNonce } from './codec';
import { ClientConfig } from './config';
import { advance, currentTarget, isHeld, resolveAllowedAtMs, stopIfHopeless } from './cursor';
import { Decision, DeferReason, FailCause, PersistReason, RunState, Scheduler, SchedulerEvent } from './decisions';
import { addSample, errorBoundAt, longestIntervalS, offsetAt, reportAt, shiftModel } from './clock-model';
import { intervalAfterRate } from './kiss';
import { backoffS, DNS_TIMEOUT_S, FLOOR_S, jittered, MAX_ADDRESSES_PER_SERVER, MAX_HOLDS, UPTIME_CREDIT_S } from './policy';
import { AddressState, ClientState, isName, newAddress, NEVER, restoreState } from './state';

/** Rejections of a genuine answer (its origin echoed our nonce) that carries no usable time. */
const UNUSABLE: RejectReason[] = ['unsynchronised', 'bad-stratum', 'zero-timestamp', 'root-distance'];

/** When the last saved request went out, to any server (NEVER if none). */
function lastSentMs(state: ClientState): number {
  let last = NEVER;
  state.srv.forEach((server) => {
    server.ips.forEach((ip) => {
      if (ip.sent > last) last = ip.sent;
    });
  });
  return last;
}

/**
 * A scheduler for this config. saved is whatever the adapter read from storage (any value: corrupt state means a
 * polite fresh start); elapsedMs how long the device is known to have been off since it was saved (0 if unknown).
 */
export function createScheduler(config: ClientConfig, random: () => number, saved: unknown, nowMs: number, elapsedMs?: number): Scheduler {
  const now = Math.round(nowMs);
  const restored = restoreState(saved, config, now, elapsedMs || 0);
  const last = lastSentMs(restored.state);
  const run: RunState = {
    phase: 'idle', si: 0, ai: 0, next: NEVER, due: NEVER, pending: null, gap: 0, last: last, sent: 0, startup: NEVER, credit: NEVER,
    now: 0, out: [],
  };
  return { config: config, random: random, state: restored.state, run: run, restored: restored.note };
}

/** The model's offset to add to the local clock at nowMs, s, or null before any sample. */
export function clockOffsetAt(s: Scheduler, nowMs: number): number | null {
  return offsetAt(s.state.m, nowMs);
}

/** How far the true offset may be from clockOffsetAt at nowMs, s, or null before any sample. */
export function maxErrorAt(s: Scheduler, nowMs: number): number | null {
  return errorBoundAt(s.state.m, nowMs);
}

function wakeAtMs(r: RunState): number | null {
  if (r.phase === 'in-flight' || r.phase === 'resolving') return r.due;
  return r.phase === 'waiting' ? Math.min(r.next, r.credit > NEVER ? r.credit : r.next) : null;
}

function persist(s: Scheduler, reason: PersistReason): void {
  s.state.t = s.run.now;
  s.run.out.push({ type: 'persist', reason: reason });
}

/** Waits the interval, with jitter, before the next poll; returns when that is. */
function waitJittered(s: Scheduler, intervalS: number): number {
  s.run.next = s.run.now + Math.round(jittered(intervalS, s.random) * 1000);
  return s.run.next;
}

/** The request in flight is over: nothing it brings may be accepted any more. */
function settle(s: Scheduler): void {
  const r = s.run;
  if (r.pending) r.out.push({ type: 'settle', requestId: r.pending.id });
  r.pending = null;
  r.phase = 'waiting';
}

/** The request in flight failed: its address backs off on its own, and the cursor moves on to the next server. */
function failPoll(s: Scheduler, cause: FailCause, detail: string): void {
  const c = s.config;
  const r = s.run;
  const now = r.now;
  const server = s.state.srv[r.si];
  const p = r.pending;
  if (!p) return;
  const ip = p.ip;
  settle(s);
  server.bad = 1;
  ip.fail++;
  ip.wait = now + Math.round(jittered(backoffS(ip.fail, c.minIntervalS, c.maxIntervalS, s.state.m.t.length > 0), s.random) * 1000);
  r.out.push({ type: 'backoff', cause: cause, host: server.h, address: ip.a, failures: ip.fail, retryAtMs: ip.wait, detail: detail });
  advance(s, false);
  r.next = now;
  persist(s, 'backoff');
}

function onDnsError(s: Scheduler, detail: string): void {
  const r = s.run;
  const server = s.state.srv[r.si];
  server.dnse = r.now;
  r.phase = 'waiting';
  if (!currentTarget(s)) advance(s, false);
  // Reported for the name that failed, whichever server the cursor moved on to.
  r.out.push({ type: 'backoff', cause: 'dns-error', host: server.h, address: '', failures: 0, retryAtMs: resolveAllowedAtMs(s, server), detail: detail });
}

function onDns(s: Scheduler, addresses: string[], ttlS: number): void {
  const r = s.run;
  const now = r.now;
  const server = s.state.srv[r.si];
  const current = server.ips[r.ai];
  const next: AddressState[] = [];
  for (var i = 0; i < addresses.length && next.length < MAX_ADDRESSES_PER_SERVER; i++) {
    const address = addresses[i];
    // An address already known keeps its waits and floors.
    const known = server.ips.filter((ip) => ip.a === address)[0];
    if (next.indexOf(known) < 0) next.push(known || newAddress(address, s.config.minIntervalS));
  }
  server.ips = next;
  server.dnsa = now;
  server.dnse = NEVER;
  server.bad = 0;
  server.ttl = now + Math.round(Math.max(ttlS, 0) * 1000);
  const kept = next.indexOf(current);
  r.ai = kept < 0 ? 0 : kept;
  r.phase = 'waiting';
}

/**
 * How often uptime is credited while a restored wait runs: every few minutes, or twice per minimum interval when
 * that is shorter, so that a board rebooting faster than its minimum interval is still credited on each boot.
 */
function creditEveryMs(c: ClientConfig): number {
  return Math.round(Math.min(UPTIME_CREDIT_S, c.minIntervalS / 2) * 1000);
}

function onStart(s: Scheduler): void {
  const c = s.config;
  const r = s.run;
  const now = r.now;
  r.phase = 'waiting';
  const startupMs = Math.round((c.startupDelayMinS + s.random() * (c.startupDelayMaxS - c.startupDelayMinS)) * 1000);
  r.startup = now + startupMs;
  // The address that may be asked soonest: after its backoff, and the minimum interval since this device's last
  // request to any server (the 15 s floor alone would line up every device that restarts within 15 s of its last
  // request; found by the fleet simulator). A name not yet resolved may be looked up at once. Of those due now, the
  // first configured.
  const restartMs = lastSentMs(s.state) + c.minIntervalS * 1000;
  let bestEnd = Infinity;
  const consider = (end: number, si: number, ai: number): void => {
    if (Math.max(end, now, restartMs) < bestEnd) {
      bestEnd = Math.max(end, now, restartMs);
      r.si = si;
      r.ai = ai;
    }
  };
  s.state.srv.forEach((server, si) => {
    if (server.ips.length === 0) consider(now, si, 0);
    server.ips.forEach((ip, ai) => {
      if (!isHeld(s, server, ip)) consider(Math.max(ip.wait, ip.sent + ip.rf * 1000), si, ai);
    });
  });
  const first = s.state.srv[r.si];
  if (!currentTarget(s) && !(isName(first) && first.ips.length === 0)) advance(s, true);
  // The random startup delay goes on top of the saved waits. A device saves its state moments after each request,
  // so after a mass power-on every saved wait ends minInterval after the same instant: without the delay the whole
  // fleet would come back in one second (found by the fleet simulator).
  const waitEnd = bestEnd < Infinity ? Math.round(bestEnd) : now;
  r.next = waitEnd + startupMs;
  if (waitEnd > now) r.credit = now + creditEveryMs(c);
  stopIfHopeless(s);
}

/**
 * A sample goes to the clock model, and the next poll waits as long as the model keeps its error bound within the
 * accuracy asked for: never less than the politeness floors (minimum interval, RATE floor), never more than the
 * maximum. A sample the model sets aside as an outlier is checked at the floor, since a second one that agrees
 * with it is a step.
 */
function onSample(s: Scheduler, ip: AddressState, sample: Sample): void {
  const c = s.config;
  const r = s.run;
  const now = r.now;
  const m = s.state.m;
  s.state.srv[r.si].bad = 0;
  ip.fail = 0;
  ip.wait = NEVER;
  const first = m.t.length === 0;
  const outcome = addSample(m, now, sample.offsetS, sample.delayS, sample.rootDistanceS);
  const floorS = Math.max(c.minIntervalS, ip.rf);
  const needS = outcome === 'outlier' ? 0 : longestIntervalS(m, c.accuracyS, now);
  ip.iv = Math.round(Math.min(c.maxIntervalS, Math.max(floorS, Math.floor(needS))));
  const nextAtMs = waitJittered(s, ip.iv);
  const model = reportAt(m, now);
  r.out.push({
    type: 'sample', sample: sample, outcome: outcome, clockOffsetS: model.offsetS, driftPpm: model.driftPpm, maxErrorS: model.maxErrorS,
    intervalS: ip.iv, nextAtMs: nextAtMs, accuracyMet: needS >= floorS,
  });
  // The model and the interval are saved with the next request; now only when the model begins or starts again,
  // so that a restart in between still finds corrected time, at one extra write.
  if (first || outcome === 'step') persist(s, 'model');
}

function onReply(s: Scheduler, event: Extract<SchedulerEvent, { type: 'reply' }>): void {
  const r = s.run;
  const c = s.config;
  const out = r.out;
  const p = r.pending && r.pending.id === event.requestId ? r.pending : null;
  const verdict = judgeReply(p, event, c.timeoutS * 1000, c.maxRootDistanceS);
  if (verdict.kind === 'reject' || !p) {
    const reason = verdict.kind === 'reject' ? verdict.reason : 'no-request';
    out.push({ type: 'reject', reason: reason, host: p ? p.host : '', address: event.from.address, port: event.from.port });
    // A reply that proved it answers our request, but has no usable time (unsynchronised, stratum 16, zero
    // timestamps, too distant a root): the server has spoken, so the poll fails now rather than at its timeout.
    if (p && UNUSABLE.indexOf(reason) >= 0) failPoll(s, 'unusable', reason);
    return;
  }
  const ip = p.ip;
  if (verdict.kind === 'sample') {
    settle(s);
    onSample(s, ip, verdict.sample);
    return;
  }
  const action = verdict.action;
  const hold = action === 'hold';
  if (hold) {
    const holds = s.state.hold;
    if (holds.length >= MAX_HOLDS) holds.shift();
    holds.push({ h: p.host, a: p.address, p: p.port, c: verdict.code });
  } else if (action === 'slow-down') {
    // RATE: the new floor is at least double the interval, and the interval never exceeds the maximum, so it rises to
    // the floor. The interval is what the server saw: after a backoff, the requests were further apart than ip.iv
    // (found by the audit: a RATE after a long backoff must not bring the next request sooner).
    ip.iv = ip.rf = intervalAfterRate(Math.max(ip.iv, ip.rf, r.gap), verdict.poll, c.maxIntervalS);
  }
  out.push({ type: 'kiss', code: verdict.code, action: action, host: p.host, address: p.address, port: p.port, intervalS: hold ? 0 : ip.iv });
  // An experimental code carries no instruction: the request stays open and may still time out.
  if (action === 'ignore') return;
  if (action === 'failed-poll') {
    failPoll(s, 'kiss', verdict.code);
    return;
  }
  settle(s);
  if (hold) {
    // Another server may be asked at once (the floor still applies); the refusing one never again.
    advance(s, false);
    r.next = r.now;
    persist(s, 'hold');
    stopIfHopeless(s);
  } else {
    waitJittered(s, ip.iv);
    persist(s, 'rate');
  }
}

function onSyncNow(s: Scheduler): void {
  const r = s.run;
  const now = r.now;
  if (r.phase !== 'waiting') {
    // Not started, stopped, or busy until the request or lookup under way ends.
    r.out.push({ type: 'deferred', untilMs: wakeAtMs(r), reason: r.phase === 'idle' ? 'not-started' : r.phase });
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
  const ip = currentTarget(s);
  consider(r.startup, 'startup-delay');
  consider(r.last + FLOOR_S * 1000, 'floor');
  if (ip) {
    consider(ip.sent + s.config.minIntervalS * 1000, 'min-interval');
    if (ip.rf > 0) consider(ip.sent + ip.rf * 1000, 'rate-limited');
    consider(ip.wait, 'backoff');
  }
  if (until <= now) {
    r.next = now;
    return;
  }
  r.out.push({ type: 'deferred', untilMs: until, reason: reason });
  if (r.next > until) r.next = until;
}

/** The earliest a request may go to this address: the floor after any request, its own floors and backoff. */
function earliestMs(s: Scheduler, ip: AddressState): number {
  return Math.max(s.run.last + FLOOR_S * 1000, ip.sent + Math.max(FLOOR_S, ip.rf) * 1000, ip.wait);
}

function send(s: Scheduler, ip: AddressState): void {
  const r = s.run;
  const now = r.now;
  const server = s.state.srv[r.si];
  const nonce = makeNonce(s.random);
  const id = ++r.sent;
  r.pending = { id: id, host: server.h, address: ip.a, port: server.p, nonce: nonce, sentMs: now, ip: ip };
  r.due = now + Math.round(s.config.timeoutS * 1000);
  r.phase = 'in-flight';
  r.gap = ip.sent > NEVER ? Math.round((now - ip.sent) / 1000) : 0;
  r.last = ip.sent = now;
  r.credit = NEVER;
  r.out.push({ type: 'send', requestId: id, host: server.h, address: ip.a, port: server.p, bytes: encodeRequest(nonce), timeoutAtMs: r.due });
  // Every request is saved as it goes out: a device that restarts before it saves again must still know it sent,
  // or its next request could follow within 15 s (found by the property test of politeness under reboots).
  persist(s, 'send');
}

function pollIfDue(s: Scheduler): void {
  const r = s.run;
  const now = r.now;
  if (r.phase !== 'waiting' || now < r.next) return;
  const server = s.state.srv[r.si];
  if (isName(server) && (server.ips.length === 0 || now >= server.ttl) && now >= resolveAllowedAtMs(s, server)) {
    r.phase = 'resolving';
    r.due = now + DNS_TIMEOUT_S * 1000;
    r.out.push({ type: 'resolve', host: server.h });
    return;
  }
  let ip = currentTarget(s);
  if (!ip) {
    advance(s, false);
    ip = currentTarget(s);
    if (!ip) {
      if (!stopIfHopeless(s)) {
        // The soonest any name may be looked up again (there is one, or stopIfHopeless would have stopped).
        let at = Infinity;
        s.state.srv.forEach((other) => {
          if (isName(other)) at = Math.min(at, resolveAllowedAtMs(s, other));
        });
        r.next = Math.round(Math.max(now + FLOOR_S * 1000, at));
      }
      return;
    }
    if (s.state.srv[r.si] !== server) {
      pollIfDue(s);
      return;
    }
  }
  const earliest = earliestMs(s, ip);
  if (earliest > now) {
    r.next = Math.round(earliest);
    return;
  }
  send(s, ip);
}

/** After every event: deadlines that passed, a poll that is due, an uptime credit, and the next wake. */
function finish(s: Scheduler): Decision[] {
  const r = s.run;
  const now = r.now;
  // Deadlines that pass without an event: an unanswered request, a resolver that never answers.
  if (now >= r.due) {
    if (r.phase === 'in-flight') failPoll(s, 'timeout', '');
    else if (r.phase === 'resolving') onDnsError(s, 'resolver did not answer');
  }
  pollIfDue(s);
  if (r.credit > NEVER && now >= r.credit && r.phase === 'waiting') {
    // Still inside a restored wait: save, so that a reboot now does not start this wait afresh.
    r.credit = now < r.next ? now + creditEveryMs(s.config) : NEVER;
    persist(s, 'uptime');
  }
  const out = r.out;
  out.push({ type: 'wake', atMs: wakeAtMs(r), phase: r.phase });
  // Not kept between events: on a board, every decision held costs RAM until the next one.
  r.out = [];
  return out;
}

/** Feeds one event; returns the decisions to carry out, always ending with a wake. */
export function handle(s: Scheduler, event: SchedulerEvent): Decision[] {
  const r = s.run;
  const type = event.type;
  r.now = Math.round(event.nowMs);
  r.out = [];
  if (type === 'start') {
    if (r.phase === 'idle') onStart(s);
  } else if (type === 'reply') onReply(s, event);
  else if (type === 'timeout' || type === 'send-error') {
    if (r.pending && r.pending.id === event.requestId) failPoll(s, type, type === 'send-error' ? event.detail : '');
  } else if (type === 'dns' || type === 'dns-error') {
    // Only the answer for the name being looked up counts; a late one is ignored.
    if (r.phase === 'resolving' && event.host === s.state.srv[r.si].h) {
      if (type === 'dns' && event.addresses.length > 0) onDns(s, event.addresses, event.ttlS);
      else onDnsError(s, type === 'dns' ? 'no addresses' : event.detail);
    }
  }
  // The adapter stepped the local clock: samples taken before must move the other way to stay true.
  else if (type === 'clock-stepped') shiftModel(s.state.m, event.stepS);
  return finish(s);
}

/**
 * A person or a flow asks for a sync now: honoured at once when politeness allows, else a deferred decision says
 * until when and why. A handler of its own, outside handle(), since a board has no one to ask it.
 */
export function handleSyncNow(s: Scheduler, nowMs: number): Decision[] {
  s.run.now = Math.round(nowMs);
  s.run.out = [];
  onSyncNow(s);
  return finish(s);
}
