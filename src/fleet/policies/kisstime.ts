// Kisstime in the fleet: every device runs the real core Scheduler, and this loop carries out its decisions the
// way an adapter does (send, resolve, persist, wake), with the virtual network in place of sockets. No hooks:
// the scheduler cannot tell it is simulated.

import { checkClientConfig, ClientConfig, ClientConfigInput, clockOffsetAt, copyState, createScheduler, Decision, handle, Scheduler, SchedulerEvent } from '../../core';
// The codec straight from its module: the core index's re-exports are getters, a cost on every reply.
import { asciiToRefId, encodePacket, MODE_SERVER } from '../../core/codec';
import { NTP_UNIX_OFFSET_S, ntpFromUnixSeconds, NtpTimestamp, TWO_POW_32 } from '../../core/timestamp';
import { FleetNetwork, REPLY_DENY, REPLY_NONE, REPLY_RATE, REPLY_TIME } from '../network';
import { FleetPolicy, PolicyContext, SERVER_ADDRESSES, SERVER_HOSTS } from '../policy';
import { hash32, seededRandom } from '../random';
import { DeviceClocks } from '../device-clocks';
import { FleetRecorder } from '../recorder';

/** Wall-clock seconds (Unix) at virtual time zero. */
export const EPOCH_UNIX_S = 1_767_225_600;

type ReplyEvent = Extract<SchedulerEvent, { type: 'reply' }>;

/** The devices' config: the fleet's servers by name on port 123, and the core's own defaults but for overrides (seconds). */
export function kisstimeConfig(servers: number, overrides: ClientConfigInput): ClientConfig {
  return checkClientConfig({ ...overrides, servers: SERVER_HOSTS.slice(0, servers).map((host) => ({ host: host, port: 123 })) });
}

export class KisstimeFleet implements FleetPolicy {
  readonly name = 'kisstime' as const;
  readonly label = 'Kisstime: the real core Scheduler (src/core/scheduler.ts), default configuration';
  private readonly config: ClientConfig;
  private readonly base: number;
  private readonly seed: number;
  private readonly network: FleetNetwork;
  private readonly clocks: DeviceClocks;
  private readonly recorder: FleetRecorder;
  private readonly schedulers: (Scheduler | null)[];
  /** What the device last persisted: survives power cuts, like flash. */
  private readonly saved: unknown[];
  /** The device's own clock (ms) when it saved: its clock keeps running while it is off, like an RTC. */
  private readonly savedAtLocalMs: Float64Array;
  private readonly boots: Uint32Array;
  private readonly wakeAtMs: Float64Array;
  private readonly replyAtMs: Float64Array;
  private readonly replies: (ReplyEvent | null)[];
  private readonly dnsAtMs: Float64Array;
  private readonly dnsOk: Uint8Array;
  private readonly dnsHost: string[];
  private readonly addressToServer: { [address: string]: number };
  /** Shared, never-mutated event parts: the scheduler only reads them, so one per server will do. */
  private readonly endpoints: { address: string; port: number }[];
  private readonly dnsAnswers: { [host: string]: string[] };
  private readonly templates: Uint8Array[];
  private stopped: number;
  private handled: number;
  private kissesHonoured: number;
  private persists: number;

  constructor(context: PolicyContext, config: ClientConfig) {
    const n = context.count;
    this.config = config;
    this.base = context.base;
    this.seed = context.seed;
    this.network = context.network;
    this.clocks = context.clocks;
    this.recorder = context.recorder;
    this.schedulers = new Array(n).fill(null);
    this.saved = new Array(n).fill(null);
    this.savedAtLocalMs = new Float64Array(n);
    this.boots = new Uint32Array(n);
    this.wakeAtMs = new Float64Array(n).fill(Infinity);
    this.replyAtMs = new Float64Array(n).fill(Infinity);
    this.replies = new Array(n).fill(null);
    this.dnsAtMs = new Float64Array(n).fill(Infinity);
    this.dnsOk = new Uint8Array(n);
    this.dnsHost = new Array(n).fill('');
    this.addressToServer = {};
    this.endpoints = [];
    this.dnsAnswers = {};
    this.templates = replyTemplates();
    for (let s = 0; s < SERVER_ADDRESSES.length; s++) {
      this.addressToServer[SERVER_ADDRESSES[s]] = s;
      this.endpoints.push({ address: SERVER_ADDRESSES[s], port: config.servers[0].port });
      this.dnsAnswers[SERVER_HOSTS[s]] = [SERVER_ADDRESSES[s]];
    }
    this.stopped = 0;
    this.handled = 0;
    this.kissesHonoured = 0;
    this.persists = 0;
  }

  powerOn(i: number, nowMs: number): void {
    const k = i - this.base;
    // A fresh random stream per boot, seeded from the device (as the Espruino adapter seeds from its serial).
    const random = seededRandom(hash32(this.seed, i, 1000 + this.boots[k]++));
    // As the Node adapter does with its state file: how long it was off, by its own clock.
    const elapsedMs = this.saved[k] === null ? 0 : Math.max(0, this.localMs(i, nowMs) - this.savedAtLocalMs[k]);
    const scheduler = createScheduler(this.config, random, this.saved[k], nowMs, elapsedMs);
    this.schedulers[k] = scheduler;
    this.apply(i, nowMs, handle(scheduler, { type: 'start', nowMs: nowMs }));
  }

  powerOff(i: number): void {
    const k = i - this.base;
    this.schedulers[k] = null;
    this.wakeAtMs[k] = Infinity;
    this.replyAtMs[k] = Infinity;
    this.replies[k] = null;
    this.dnsAtMs[k] = Infinity;
  }

  nextAtMs(i: number): number {
    const k = i - this.base;
    const a = this.wakeAtMs[k];
    const b = this.replyAtMs[k];
    const c = this.dnsAtMs[k];
    return a < b ? (a < c ? a : c) : (b < c ? b : c);
  }

  step(i: number, nowMs: number): void {
    const k = i - this.base;
    const scheduler = this.schedulers[k];
    if (!scheduler) return;
    // Replies and DNS answers first: a reply that lands at its deadline still counts, as it would in an adapter.
    if (this.replyAtMs[k] <= nowMs) {
      const e = this.replies[k] as ReplyEvent;
      this.replyAtMs[k] = Infinity;
      this.replies[k] = null;
      this.apply(i, nowMs, handle(scheduler, e));
    }
    if (this.dnsAtMs[k] <= nowMs) {
      this.dnsAtMs[k] = Infinity;
      const host = this.dnsHost[k];
      const e: SchedulerEvent = this.dnsOk[k] === 1
        ? { type: 'dns', nowMs: nowMs, host: host, addresses: this.dnsAnswers[host], ttlS: this.network.options.dnsTtlS }
        : { type: 'dns-error', nowMs: nowMs, host: host, detail: 'SERVFAIL' };
      this.apply(i, nowMs, handle(scheduler, e));
    }
    if (this.wakeAtMs[k] <= nowMs) {
      this.wakeAtMs[k] = Infinity;
      this.apply(i, nowMs, handle(scheduler, { type: 'tick', nowMs: nowMs }));
    }
  }

  clockErrorS(i: number, nowMs: number): number {
    const scheduler = this.schedulers[i - this.base];
    if (!scheduler) return NaN;
    const offset = clockOffsetAt(scheduler, nowMs);
    if (offset === null) return NaN;
    return this.clocks.errorS(i, nowMs) + offset;
  }

  counters(): { [name: string]: number } {
    return { schedulerEvents: this.handled, devicesStopped: this.stopped, kissesHonoured: this.kissesHonoured, persists: this.persists };
  }

  private apply(i: number, nowMs: number, decisions: Decision[]): void {
    const k = i - this.base;
    this.handled++;
    for (let n = 0; n < decisions.length; n++) {
      const d = decisions[n];
      switch (d.type) {
        case 'wake':
          this.wakeAtMs[k] = d.atMs === null ? Infinity : d.atMs;
          break;
        case 'send':
          this.send(i, d, nowMs);
          break;
        case 'resolve':
          this.dnsOk[k] = this.network.resolve(i, nowMs) ? 1 : 0;
          this.dnsHost[k] = d.host;
          this.dnsAtMs[k] = nowMs + this.network.dnsMs;
          break;
        case 'persist':
          // What a board writes to flash: the record as it is now, and what survives a power cut.
          this.saved[k] = copyState((this.schedulers[k] as Scheduler).state);
          this.savedAtLocalMs[k] = this.localMs(i, nowMs);
          this.persists++;
          break;
        case 'sample':
          this.recorder.synced(i, nowMs);
          this.recorder.reportedBound(i, nowMs, d.maxErrorS);
          break;
        case 'kiss':
          if (d.action !== 'ignore') this.kissesHonoured++;
          break;
        case 'stopped':
          this.stopped++;
          break;
        default:
          break;
      }
    }
  }

  /**
   * The virtual server's answer to the request the scheduler really sent. The header of each kind of answer is
   * built once with the core codec; each reply copies it and adds the echoed nonce and the server's timestamps.
   */
  private send(i: number, d: Extract<Decision, { type: 'send' }>, nowMs: number): void {
    const server = this.addressToServer[d.address];
    const kind = this.network.request(i, server, nowMs);
    if (kind === REPLY_NONE) return;
    const net = this.network;
    const atServerMs = nowMs + net.outMs;
    const arriveMs = atServerMs + net.backMs;
    const bytes = new Uint8Array(this.templates[kind]);
    // The origin echoes the request's transmit field (its nonce), byte for byte.
    for (let n = 0; n < 8; n++) bytes[24 + n] = d.bytes[40 + n];
    const serverUnixS = EPOCH_UNIX_S + atServerMs / 1000 + net.serverOffsetS(server);
    writeTimestampAt(bytes, 32, serverUnixS);
    writeTimestampAt(bytes, 40, serverUnixS);
    const k = i - this.base;
    this.replies[k] = { type: 'reply', nowMs: arriveMs, requestId: d.requestId, from: this.endpoints[server], bytes: bytes, t1: this.localTimestamp(i, nowMs), t4: this.localTimestamp(i, arriveMs) };
    this.replyAtMs[k] = arriveMs;
  }

  private localMs(i: number, atMs: number): number {
    return atMs + this.clocks.errorS(i, atMs) * 1000;
  }

  /** What the device's own (drifting) clock reads at true time atMs. */
  private localTimestamp(i: number, atMs: number): NtpTimestamp {
    return ntpFromUnixSeconds(EPOCH_UNIX_S + atMs / 1000 + this.clocks.errorS(i, atMs));
  }
}

/** The answer's fixed part, by kind (REPLY_TIME, REPLY_RATE, REPLY_DENY): everything but origin, receive and transmit. */
function replyTemplates(): Uint8Array[] {
  const start = ntpFromUnixSeconds(EPOCH_UNIX_S);
  const zero: NtpTimestamp = { s: 0, f: 0 };
  const header = (kiss: string): Uint8Array => encodePacket({
    leap: 0, version: 4, mode: MODE_SERVER, stratum: kiss ? 0 : 2, poll: 0, precision: -20, rootDelay: 0x00000100, rootDispersion: 0x00000100,
    refId: asciiToRefId(kiss || 'GPS'), reference: start, origin: zero, receive: zero, transmit: zero,
  });
  const templates: Uint8Array[] = [];
  templates[REPLY_TIME] = header('');
  templates[REPLY_RATE] = header('RATE');
  templates[REPLY_DENY] = header('DENY');
  return templates;
}

/**
 * Unix seconds as an NTP timestamp, big-endian, at b[i]: ntpFromUnixSeconds's arithmetic (era 0, fraction truncated)
 * without the object it returns, since every reply writes two.
 */
function writeTimestampAt(b: Uint8Array, i: number, unixS: number): void {
  const whole = Math.floor(unixS);
  const s = whole + NTP_UNIX_OFFSET_S;
  const f = Math.floor((unixS - whole) * TWO_POW_32);
  b[i] = s >>> 24;
  b[i + 1] = (s >>> 16) & 255;
  b[i + 2] = (s >>> 8) & 255;
  b[i + 3] = s & 255;
  b[i + 4] = f >>> 24;
  b[i + 5] = (f >>> 16) & 255;
  b[i + 6] = (f >>> 8) & 255;
  b[i + 7] = f & 255;
}
