// The virtual servers, DNS and the wire between them and the devices, with all the server-side counting.
// Server state is per client address (token buckets, DENY lists), never shared beyond one address, so devices
// are independent and can be simulated in any grouping that keeps an address's devices together.

import { FLOOR_S } from '../core';
import { StreamBank } from './random';
import { Scenario } from './scenarios';

/** What came back for a request. */
export const REPLY_NONE = 0;
export const REPLY_TIME = 1;
export const REPLY_RATE = 2;
export const REPLY_DENY = 3;

export interface NetworkOptions {
  servers: number;
  /** One-way delay: base plus an exponential part with this mean, drawn per direction. */
  baseDelayMs: number;
  jitterMeanMs: number;
  /** Chance of losing a packet, per direction. */
  lossPerWay: number;
  /** Each server's time error against true time (seconds). */
  serverOffsetS: number[];
  dnsTtlS: number;
}

export const DEFAULT_NETWORK: NetworkOptions = {
  servers: 2,
  baseDelayMs: 10,
  jitterMeanMs: 5,
  lossPerWay: 0.005,
  serverOffsetS: [0, 0],
  dnsTtlS: 3600,
};

const DNS_DELAY_MS = 20;

function grown(log: Uint32Array): Uint32Array {
  const bigger = new Uint32Array(log.length * 2);
  bigger.set(log);
  return bigger;
}

export class FleetNetwork {
  readonly options: NetworkOptions;
  readonly scenario: Scenario;
  /** The first device (global number) this network serves; per-device arrays are indexed by device - base. */
  readonly base: number;
  readonly count: number;
  readonly seconds: number;
  /**
   * Requests arriving per server per second: loadPerSecond[server * seconds + second]. Offered load: counted even
   * when the server is down. Complete only after flushCounts().
   */
  readonly loadPerSecond: Uint32Array;
  readonly dnsPerSecond: Uint32Array;
  readonly requestsByDevice: Uint32Array;
  /** After request(): the one-way delays of this exchange (ms). */
  outMs: number;
  backMs: number;
  /** After resolve(): how long the answer takes (ms). */
  dnsMs: number;
  floorViolations: number;
  /** Requests a server received from a device after it had sent that device a DENY. */
  requestsAfterDeny: number;
  devicesDenied: number;
  devicesAskingAfterDeny: number;
  kissesRate: number;
  kissesDeny: number;
  answered: number;
  requests: number;
  private readonly lastSendMs: Float64Array;
  private readonly deniedAtMs: Float64Array;
  private readonly askedAfterDeny: Uint8Array;
  private readonly random: StreamBank;
  private readonly tokens: Float64Array;
  private readonly tokensAtMs: Float64Array;
  private readonly firstAddress: number;
  /**
   * Load counts wait here (as indexes into loadPerSecond / dnsPerSecond) until flushCounts(). A batch of devices
   * walks through the whole run, so counting straight into the month-long arrays would miss the cache on nearly
   * every request; replaying a batch's log, which is in time order, sweeps them once.
   */
  private loadLog: Uint32Array;
  private loadLogLength: number;
  private dnsLog: Uint32Array;
  private dnsLogLength: number;

  /** Serves devices base .. base + count - 1; a range must not split a NAT address's devices. */
  constructor(base: number, count: number, scenario: Scenario, options: NetworkOptions, seed: number) {
    this.options = options;
    this.scenario = scenario;
    this.base = base;
    this.count = count;
    this.seconds = Math.ceil(scenario.durationMs / 1000) + 1;
    this.loadPerSecond = new Uint32Array(options.servers * this.seconds);
    this.dnsPerSecond = new Uint32Array(this.seconds);
    this.requestsByDevice = new Uint32Array(count);
    this.outMs = 0;
    this.backMs = 0;
    this.dnsMs = DNS_DELAY_MS;
    this.floorViolations = 0;
    this.requestsAfterDeny = 0;
    this.devicesDenied = 0;
    this.devicesAskingAfterDeny = 0;
    this.kissesRate = 0;
    this.kissesDeny = 0;
    this.answered = 0;
    this.requests = 0;
    this.lastSendMs = new Float64Array(count * options.servers).fill(-Infinity);
    this.deniedAtMs = new Float64Array(scenario.denyFraction > 0 ? count * options.servers : 0).fill(Infinity);
    this.askedAfterDeny = new Uint8Array(scenario.denyFraction > 0 ? count : 0);
    this.random = new StreamBank(base, count, seed, 21);
    const rl = scenario.rateLimit;
    this.firstAddress = rl ? Math.floor(base / rl.devicesPerAddress) : 0;
    const addresses = rl ? Math.floor((base + count - 1) / rl.devicesPerAddress) - this.firstAddress + 1 : 0;
    this.tokens = new Float64Array(addresses).fill(rl ? rl.burst : 0);
    this.tokensAtMs = new Float64Array(addresses);
    this.loadLog = new Uint32Array(1 << 16);
    this.loadLogLength = 0;
    this.dnsLog = new Uint32Array(1 << 14);
    this.dnsLogLength = 0;
  }

  /** Adds the logged requests and lookups into the per-second counts. */
  flushCounts(): void {
    const load = this.loadPerSecond;
    const loadLog = this.loadLog;
    for (let n = 0; n < this.loadLogLength; n++) load[loadLog[n]]++;
    this.loadLogLength = 0;
    const dns = this.dnsPerSecond;
    const dnsLog = this.dnsLog;
    for (let n = 0; n < this.dnsLogLength; n++) dns[dnsLog[n]]++;
    this.dnsLogLength = 0;
  }

  /** A device sends one request to a server at nowMs: count it, and decide what (if anything) comes back. */
  request(device: number, server: number, nowMs: number): number {
    const k = device - this.base;
    const slot = k * this.options.servers + server;
    this.requests++;
    this.requestsByDevice[k]++;
    const second = Math.floor(nowMs / 1000);
    if (second >= 0 && second < this.seconds) {
      if (this.loadLogLength === this.loadLog.length) this.loadLog = grown(this.loadLog);
      this.loadLog[this.loadLogLength++] = server * this.seconds + second;
    }
    if (nowMs - this.lastSendMs[slot] < FLOOR_S * 1000) this.floorViolations++;
    this.lastSendMs[slot] = nowMs;
    if (this.deniedAtMs.length > 0 && this.deniedAtMs[slot] <= nowMs) {
      this.requestsAfterDeny++;
      if (this.askedAfterDeny[k] === 0) {
        this.askedAfterDeny[k] = 1;
        this.devicesAskingAfterDeny++;
      }
    }

    const r = this.random;
    const o = this.options;
    this.outMs = o.baseDelayMs - o.jitterMeanMs * Math.log(1 - r.next(device));
    this.backMs = o.baseDelayMs - o.jitterMeanMs * Math.log(1 - r.next(device));
    if (r.next(device) < o.lossPerWay) return REPLY_NONE;
    const s = this.scenario;
    const atServerMs = nowMs + this.outMs;
    if (atServerMs >= s.outageFromMs && atServerMs < s.outageToMs) return REPLY_NONE;

    let kind = REPLY_TIME;
    if (server === s.denyServer && atServerMs >= s.denyFromMs && s.isDenied(device)) {
      kind = REPLY_DENY;
    } else if (s.rateLimit && server === s.rateLimit.server && !this.withinRate(device, atServerMs, r)) {
      if (s.rateLimit.limited === 'drop') return REPLY_NONE;
      kind = REPLY_RATE;
    }
    if (r.next(device) < o.lossPerWay) return REPLY_NONE;
    if (kind === REPLY_TIME) this.answered++;
    else if (kind === REPLY_RATE) this.kissesRate++;
    else {
      this.kissesDeny++;
      // Counted from the first DENY that reaches the device: a lost one cannot be honoured.
      if (this.deniedAtMs[slot] === Infinity) {
        this.deniedAtMs[slot] = atServerMs + this.backMs;
        this.devicesDenied++;
      }
    }
    return kind;
  }

  /** A device asks DNS for a server's name: true if the lookup will succeed. */
  resolve(_device: number, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second >= 0 && second < this.seconds) {
      if (this.dnsLogLength === this.dnsLog.length) this.dnsLog = grown(this.dnsLog);
      this.dnsLog[this.dnsLogLength++] = second;
    }
    return !(nowMs >= this.scenario.dnsDownFromMs && nowMs < this.scenario.dnsDownToMs);
  }

  /** The server's clock at true time atMs (seconds of error added). */
  serverOffsetS(server: number): number {
    return this.options.serverOffsetS[server] || 0;
  }

  /** chrony-like per-address token bucket: a token per 2^interval s up to burst; over it, 1 in 2^leak leaks through. */
  private withinRate(device: number, atMs: number, r: StreamBank): boolean {
    const rl = this.scenario.rateLimit;
    if (!rl) return true;
    const a = Math.floor(device / rl.devicesPerAddress) - this.firstAddress;
    const intervalMs = 1000 * (1 << rl.intervalLog2);
    // Requests are judged when sent, so arrivals from different devices can be a few ms out of order: never refill backwards.
    const elapsedMs = atMs > this.tokensAtMs[a] ? atMs - this.tokensAtMs[a] : 0;
    const tokens = Math.min(rl.burst, this.tokens[a] + elapsedMs / intervalMs);
    if (atMs > this.tokensAtMs[a]) this.tokensAtMs[a] = atMs;
    if (tokens >= 1) {
      this.tokens[a] = tokens - 1;
      return true;
    }
    this.tokens[a] = tokens;
    return r.next(device) < 1 / (1 << rl.leakLog2);
  }
}
