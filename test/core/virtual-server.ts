// A virtual-clock driver for the scheduler: it carries out decisions the way an adapter would, against
// scripted servers, so scheduler behaviour over days runs in milliseconds.

import {
  ClientConfig, ClientState, copyState, createScheduler, Decision, decodePacket, encodePacket, handle, handleSyncNow, Scheduler, SchedulerEvent,
  asciiToRefId, addSeconds, ntpFromUnixSeconds, NtpTimestamp,
} from '../../src/core';
import { NodeClientConfigInput, validateClientConfig } from '../../src/node/config-input';

export type ServerBehaviour =
  | { kind: 'answer'; offsetS?: number; delayS?: number; stratum?: number; leap?: number }
  | { kind: 'silent' }
  | { kind: 'kiss'; code: string; poll?: number };

export interface SentRecord {
  atMs: number;
  host: string;
  address: string;
  port: number;
}

// The same seeded generator the fleet simulator gives every device, so every virtual run can be replayed.
export { seededRandom } from '../../src/fleet/random';

export function configOf(input: NodeClientConfigInput): ClientConfig {
  const r = validateClientConfig(input);
  if (!r.ok) throw new Error(r.message);
  return r.config;
}

/** A scheduler that boots at nowMs (0 unless given) from whatever was saved. */
export function newScheduler(config: ClientConfig, random: () => number, saved: unknown, nowMs = 0): Scheduler {
  return createScheduler(config, random, saved, nowMs);
}

export class VirtualWorld {
  nowMs = 0;
  readonly sent: SentRecord[] = [];
  readonly decisions: Decision[] = [];
  /** What the scheduler last asked to save, as a copy: what survives a reboot. */
  snapshot: ClientState | null = null;
  private wakeAtMs: number | null = null;
  private readonly wallAtZeroS = 1_700_000_000;

  constructor(
    readonly scheduler: Scheduler,
    readonly behaviour: (address: string, port: number, atMs: number) => ServerBehaviour,
    readonly dns: (host: string) => { addresses: string[]; ttlS: number } | null = () => null,
  ) {}

  start(): void {
    this.apply(handle(this.scheduler, { type: 'start', nowMs: this.nowMs }));
  }

  event(e: SchedulerEvent): Decision[] {
    const out = handle(this.scheduler, e);
    this.apply(out);
    return out;
  }

  /** A person asking for a sync now. */
  syncNow(): Decision[] {
    const out = handleSyncNow(this.scheduler, this.nowMs);
    this.apply(out);
    return out;
  }

  /** Runs until the virtual clock reaches endMs, waking the scheduler whenever it asked. */
  runUntil(endMs: number): void {
    let guard = 0;
    while (this.wakeAtMs !== null && this.wakeAtMs <= endMs) {
      if (++guard > 1_000_000) throw new Error('scheduler asked to wake too often');
      this.nowMs = Math.max(this.nowMs, this.wakeAtMs);
      this.apply(handle(this.scheduler, { type: 'tick', nowMs: this.nowMs }));
    }
    this.nowMs = endMs;
  }

  wallTs(ms: number, shiftS = 0): NtpTimestamp {
    return ntpFromUnixSeconds(this.wallAtZeroS + ms / 1000 + shiftS);
  }

  private apply(out: Decision[]): void {
    for (const d of out) {
      this.decisions.push(d);
      if (d.type === 'wake') this.wakeAtMs = d.atMs;
      else if (d.type === 'persist') this.snapshot = copyState(this.scheduler.state);
      else if (d.type === 'resolve') {
        const r = this.dns(d.host);
        const e: SchedulerEvent = r
          ? { type: 'dns', nowMs: this.nowMs, host: d.host, addresses: r.addresses, ttlS: r.ttlS }
          : { type: 'dns-error', nowMs: this.nowMs, host: d.host, detail: 'NXDOMAIN' };
        // Answer after the current batch, as a real resolver would.
        queueMicrotaskLike(() => this.apply(handle(this.scheduler, e)));
      } else if (d.type === 'send') {
        this.sent.push({ atMs: this.nowMs, host: d.host, address: d.address, port: d.port });
        this.reply(d);
      }
    }
    flushQueue();
  }

  private reply(d: Extract<Decision, { type: 'send' }>): void {
    const b = this.behaviour(d.address, d.port, this.nowMs);
    if (b.kind === 'silent') return;
    const req = decodePacket(d.bytes);
    if (!req.ok) throw new Error('scheduler sent a malformed request');
    const delayS = b.kind === 'answer' ? (b.delayS ?? 0.02) : 0.02;
    const t1 = this.wallTs(this.nowMs);
    const t4 = this.wallTs(this.nowMs + delayS * 1000);
    const offsetS = b.kind === 'answer' ? (b.offsetS ?? 0) : 0;
    const t2 = addSeconds(t1, delayS / 2 + offsetS);
    const bytes = encodePacket({
      leap: b.kind === 'answer' ? (b.leap ?? 0) : 3,
      version: 4,
      mode: 4,
      stratum: b.kind === 'answer' ? (b.stratum ?? 2) : 0,
      poll: b.kind === 'kiss' ? (b.poll ?? 0) : 0,
      precision: -20,
      rootDelay: 0,
      rootDispersion: 0,
      refId: b.kind === 'kiss' ? asciiToRefId(b.code) : asciiToRefId('LOCL'),
      reference: t2,
      origin: req.packet.transmit,
      receive: t2,
      transmit: t2,
    });
    const replyAt = this.nowMs + delayS * 1000;
    const e: SchedulerEvent = { type: 'reply', nowMs: replyAt, requestId: d.requestId, from: { address: d.address, port: d.port }, bytes, t1, t4 };
    queueMicrotaskLike(() => {
      this.nowMs = Math.max(this.nowMs, replyAt);
      this.apply(handle(this.scheduler, e));
    });
  }
}

const queue: (() => void)[] = [];
let flushing = false;
function queueMicrotaskLike(fn: () => void): void {
  queue.push(fn);
}
function flushQueue(): void {
  if (flushing) return;
  flushing = true;
  try {
    while (queue.length) (queue.shift() as () => void)();
  } finally {
    flushing = false;
  }
}
