// Models of how existing SNTP clients poll, for comparison. Each is a model, not the client's code: its rules
// are read from the client's source as summarised in ../shared/REFERENCE.md, "How existing clients behave";
// where the reference is silent, the assumption is written next to the number.

import { DeviceClocks } from '../device-clocks';
import { FleetNetwork, REPLY_NONE, REPLY_TIME } from '../network';
import { FleetPolicy, PolicyContext, PolicyName } from '../policy';
import { FleetRecorder } from '../recorder';
import { StreamBank } from '../random';

export interface BaselineModel {
  name: Exclude<PolicyName, 'kisstime'>;
  label: string;
  /** How many of the network's servers it knows (1 = server 0 only). */
  servers: number;
  startupMinMs: number;
  startupMaxMs: number;
  /** Wait after an answer. */
  intervalMs: number;
  /** Wait after a request that got no answer in time, or a failed DNS lookup. */
  retryMs: number;
  /** "as-time": any reply sets the clock, kisses included. "next-server-now": a kiss moves to the next server at once. */
  onKiss: 'as-time' | 'next-server-now';
  /** Looks the server name up before every request (false: a hard-coded address). */
  usesDns: boolean;
  /** Moves to the next server after every poll (round robin). */
  roundRobin: boolean;
}

const SOURCE = 'model; source: shared/REFERENCE.md, "How existing clients behave"';

export const BASELINES: { [name: string]: BaselineModel } = {
  'arduino': {
    name: 'arduino',
    label: 'Arduino NTPClient (' + SOURCE + '): polls every 60 s, retries about once a second while unanswered, any reply is time',
    servers: 1,
    startupMinMs: 0,
    startupMaxMs: 0,
    intervalMs: 60e3,
    retryMs: 1e3,
    onKiss: 'as-time',
    usesDns: true,
    roundRobin: false,
  },
  'router-2003': {
    name: 'router-2003',
    label: 'the 2003 routers (' + SOURCE + '): a hard-coded address, one request a second until answered, forever;' +
      ' the wait after an answer (1 h) is an assumption, the reference gives only the retry',
    servers: 1,
    startupMinMs: 0,
    startupMaxMs: 0,
    intervalMs: 3600e3,
    retryMs: 1e3,
    onKiss: 'as-time',
    usesDns: false,
    roundRobin: false,
  },
  'daily': {
    name: 'daily',
    label: 'npm sntp / Espruino sntp used once a day (' + SOURCE + '): a query at boot and every 24 h, no retry, no kiss handling',
    servers: 1,
    startupMinMs: 0,
    startupMaxMs: 0,
    intervalMs: 86400e3,
    retryMs: 86400e3,
    onKiss: 'as-time',
    usesDns: true,
    roundRobin: false,
  },
  'lwip-rr': {
    name: 'lwip-rr',
    label: 'lwIP / ESP-IDF SNTP with several servers (' + SOURCE + '): round robin every 15 s, no backoff, a kiss = next server now, startup delay 0-5 s',
    servers: 4,
    startupMinMs: 0,
    startupMaxMs: 5e3,
    intervalMs: 15e3,
    retryMs: 15e3,
    onKiss: 'next-server-now',
    usesDns: true,
    roundRobin: true,
  },
};

export class BaselineFleet implements FleetPolicy {
  readonly name: PolicyName;
  readonly label: string;
  private readonly model: BaselineModel;
  private readonly base: number;
  private readonly servers: number;
  private readonly network: FleetNetwork;
  private readonly clocks: DeviceClocks;
  private readonly recorder: FleetRecorder;
  private readonly random: StreamBank;
  private readonly sendAtMs: Float64Array;
  private readonly replyAtMs: Float64Array;
  private readonly replyKind: Uint8Array;
  private readonly replyErrorS: Float64Array;
  private readonly server: Uint8Array;
  private readonly syncAtMs: Float64Array;
  /** The corrected clock's error minus the crystal's own: add clocks.errorS(now) for the error now. */
  private readonly syncErrorS: Float64Array;
  /** 1 when the clock was set from a kiss (its timestamps are not time). */
  private readonly wrongTime: Uint8Array;
  private kissesTakenAsTime: number;

  constructor(context: PolicyContext, model: BaselineModel) {
    const n = context.count;
    this.base = context.base;
    this.name = model.name;
    this.label = model.label;
    this.model = model;
    this.servers = Math.min(model.servers, context.network.options.servers);
    this.network = context.network;
    this.clocks = context.clocks;
    this.recorder = context.recorder;
    this.random = new StreamBank(context.base, n, context.seed, 41);
    this.sendAtMs = new Float64Array(n).fill(Infinity);
    this.replyAtMs = new Float64Array(n).fill(Infinity);
    this.replyKind = new Uint8Array(n);
    this.replyErrorS = new Float64Array(n);
    this.server = new Uint8Array(n);
    this.syncAtMs = new Float64Array(n).fill(NaN);
    this.syncErrorS = new Float64Array(n);
    this.wrongTime = new Uint8Array(n);
    this.kissesTakenAsTime = 0;
  }

  powerOn(i: number, nowMs: number): void {
    const k = i - this.base;
    const m = this.model;
    this.sendAtMs[k] = nowMs + m.startupMinMs + this.random.next(i) * (m.startupMaxMs - m.startupMinMs);
    this.server[k] = 0;
  }

  powerOff(i: number): void {
    const k = i - this.base;
    this.sendAtMs[k] = Infinity;
    this.replyAtMs[k] = Infinity;
    this.syncAtMs[k] = NaN;
    this.wrongTime[k] = 0;
  }

  nextAtMs(i: number): number {
    const k = i - this.base;
    const a = this.sendAtMs[k];
    const b = this.replyAtMs[k];
    return a < b ? a : b;
  }

  step(i: number, nowMs: number): void {
    const k = i - this.base;
    const m = this.model;
    if (this.replyAtMs[k] <= nowMs) {
      this.replyAtMs[k] = Infinity;
      const kind = this.replyKind[k];
      if (kind === REPLY_TIME || m.onKiss === 'as-time') {
        this.recorder.synced(i, nowMs);
        this.syncAtMs[k] = nowMs;
        // The clock is set to the reply's time: from here its error is the reply's plus what the crystal adds.
        this.syncErrorS[k] = this.replyErrorS[k] - this.clocks.errorS(i, nowMs);
        this.wrongTime[k] = kind === REPLY_TIME ? 0 : 1;
        if (kind !== REPLY_TIME) this.kissesTakenAsTime++;
        this.sendAtMs[k] = nowMs + m.intervalMs;
        if (m.roundRobin) this.server[k] = (this.server[k] + 1) % this.servers;
      } else {
        this.server[k] = (this.server[k] + 1) % this.servers;
        this.sendAtMs[k] = nowMs;
      }
    }
    if (this.sendAtMs[k] <= nowMs) this.send(i, nowMs);
  }

  clockErrorS(i: number, nowMs: number): number {
    const k = i - this.base;
    const at = this.syncAtMs[k];
    if (at !== at) return NaN;
    if (this.wrongTime[k] === 1) return Infinity;
    return this.syncErrorS[k] + this.clocks.errorS(i, nowMs);
  }

  counters(): { [name: string]: number } {
    return { kissesTakenAsTime: this.kissesTakenAsTime };
  }

  private send(i: number, nowMs: number): void {
    const k = i - this.base;
    const m = this.model;
    // Until an answer arrives, the retry clock runs.
    this.sendAtMs[k] = nowMs + m.retryMs;
    if (m.usesDns && !this.network.resolve(i, nowMs)) {
      if (m.roundRobin) this.server[k] = (this.server[k] + 1) % this.servers;
      return;
    }
    const server = this.server[k];
    const kind = this.network.request(i, server, nowMs);
    if (kind === REPLY_NONE) {
      if (m.roundRobin) this.server[k] = (this.server[k] + 1) % this.servers;
      return;
    }
    const net = this.network;
    this.replyAtMs[k] = nowMs + net.outMs + net.backMs;
    this.replyKind[k] = kind;
    // The classic SNTP estimate is off by half the path asymmetry, plus the server's own error.
    this.replyErrorS[k] = (net.outMs - net.backMs) / 2000 + net.serverOffsetS(server);
  }
}
