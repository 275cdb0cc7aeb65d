// The virtual servers, DNS and the wire between them and the devices, with all the server-side counting.
// Server state is per client address (token buckets, DENY lists), never shared beyond one address, so devices
// are independent and can be simulated in any grouping that keeps an address's devices together.

import { FLOOR_S } from '../core';
import { CountLog } from './count-log';
import { StreamBank, unitHash } from './random';
import { Scenario } from './scenarios';

/** What came back for a request. */
export const REPLY_NONE = 0;
export const REPLY_TIME = 1;
export const REPLY_RATE = 2;
export const REPLY_DENY = 3;

export interface NetworkOptions {
  servers: number;
  /**
   * Each device's path has a fixed one-way base delay, log-uniform in [minDelayMs, maxDelayMs] (a LAN next to the
   * server to a mobile link), split unevenly between the directions: out = base·(1 + a), back = base·(1 − a), with a
   * uniform in ±asymmetry per device. Half the difference is an offset error no client can see.
   */
  minDelayMs: number;
  maxDelayMs: number;
  asymmetry: number;
  /** Queueing on top, drawn per packet: exponential with this mean. */
  jitterMeanMs: number;
  /** Now and then a packet waits in a full buffer: this chance per packet, exponential with spikeMeanMs. */
  spikeChance: number;
  spikeMeanMs: number;
  /** Chance that an exchange gets no reply (either packet lost). */
  loss: number;
  /** Each server's time error against true time (seconds). */
  serverOffsetS: number[];
  dnsTtlS: number;
}

export const DEFAULT_NETWORK: NetworkOptions = {
  servers: 2,
  minDelayMs: 3,
  maxDelayMs: 60,
  asymmetry: 0.2,
  jitterMeanMs: 3,
  spikeChance: 0.02,
  spikeMeanMs: 100,
  loss: 0.01,
  serverOffsetS: [0, 0],
  dnsTtlS: 3600,
};

export function checkNetworkOptions(o: NetworkOptions): void {
  if (!(o.servers >= 1 && o.servers <= 4 && Math.floor(o.servers) === o.servers)) throw new Error('network.servers: 1 to 4');
  if (!(o.minDelayMs > 0 && o.maxDelayMs >= o.minDelayMs)) throw new Error('network.minDelayMs, maxDelayMs: 0 < min <= max');
  if (!(o.asymmetry >= 0 && o.asymmetry < 1)) throw new Error('network.asymmetry: 0 to below 1');
  if (!(o.jitterMeanMs >= 0 && o.spikeMeanMs >= 0)) throw new Error('network.jitterMeanMs, spikeMeanMs: 0 or more');
  if (!(o.spikeChance >= 0 && o.spikeChance <= 1)) throw new Error('network.spikeChance: 0 to 1');
  if (!(o.loss >= 0 && o.loss < 1)) throw new Error('network.loss: a share from 0 to below 1');
}

const DNS_DELAY_MS = 20;
/** Read once: the core index's re-exports are getters, a cost on every request. */
const FLOOR_MS = FLOOR_S * 1000;
const SALT_PATH = 22;
const SALT_ASYMMETRY = 23;

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
  /** Each device's fixed one-way delays (ms), before queueing. */
  private readonly outBaseMs: Float64Array;
  private readonly backBaseMs: Float64Array;
  private readonly lossPerWay: number;
  private readonly tokens: Float64Array;
  private readonly tokensAtMs: Float64Array;
  private readonly firstAddress: number;
  private readonly load: CountLog;
  private readonly dns: CountLog;

  /** Serves devices base .. base + count - 1; a range must not split a NAT address's devices. */
  constructor(base: number, count: number, scenario: Scenario, options: NetworkOptions, seed: number) {
    this.options = options;
    this.scenario = scenario;
    this.base = base;
    this.count = count;
    this.seconds = Math.ceil(scenario.durationMs / 1000) + 1;
    this.load = new CountLog(options.servers * this.seconds);
    this.dns = new CountLog(this.seconds);
    this.loadPerSecond = this.load.counts;
    this.dnsPerSecond = this.dns.counts;
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
    checkNetworkOptions(options);
    // An exchange is lost when either packet is: each way loses 1 - sqrt(1 - loss).
    this.lossPerWay = 1 - Math.sqrt(1 - options.loss);
    this.outBaseMs = new Float64Array(count);
    this.backBaseMs = new Float64Array(count);
    const spread = Math.log(options.maxDelayMs / options.minDelayMs);
    for (let k = 0; k < count; k++) {
      const baseMs = options.minDelayMs * Math.exp(unitHash(seed, base + k, SALT_PATH) * spread);
      const a = (unitHash(seed, base + k, SALT_ASYMMETRY) * 2 - 1) * options.asymmetry;
      this.outBaseMs[k] = baseMs * (1 + a);
      this.backBaseMs[k] = baseMs * (1 - a);
    }
    const rl = scenario.rateLimit;
    this.firstAddress = rl ? Math.floor(base / rl.devicesPerAddress) : 0;
    const addresses = rl ? Math.floor((base + count - 1) / rl.devicesPerAddress) - this.firstAddress + 1 : 0;
    this.tokens = new Float64Array(addresses).fill(rl ? rl.burst : 0);
    this.tokensAtMs = new Float64Array(addresses);
  }

  /** Adds the logged requests and lookups into the per-second counts. */
  flushCounts(): void {
    this.load.flush();
    this.dns.flush();
  }

  /** A device sends one request to a server at nowMs: count it, and decide what (if anything) comes back. */
  request(device: number, server: number, nowMs: number): number {
    const k = device - this.base;
    const slot = k * this.options.servers + server;
    this.requests++;
    this.requestsByDevice[k]++;
    const second = Math.floor(nowMs / 1000);
    if (second >= 0 && second < this.seconds) {
      this.load.add(server * this.seconds + second);
    }
    if (nowMs - this.lastSendMs[slot] < FLOOR_MS) this.floorViolations++;
    this.lastSendMs[slot] = nowMs;
    if (this.deniedAtMs.length > 0 && this.deniedAtMs[slot] <= nowMs) {
      this.requestsAfterDeny++;
      if (this.askedAfterDeny[k] === 0) {
        this.askedAfterDeny[k] = 1;
        this.devicesAskingAfterDeny++;
      }
    }

    const r = this.random;
    this.outMs = this.outBaseMs[k] + this.queueMs(device, r);
    this.backMs = this.backBaseMs[k] + this.queueMs(device, r);
    if (r.next(device) < this.lossPerWay) return REPLY_NONE;
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
    if (r.next(device) < this.lossPerWay) return REPLY_NONE;
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

  /** One packet's wait in queues (ms): the usual jitter, and now and then a full buffer. */
  private queueMs(device: number, r: StreamBank): number {
    const o = this.options;
    const waitMs = -o.jitterMeanMs * Math.log(1 - r.next(device));
    return r.next(device) < o.spikeChance ? waitMs - o.spikeMeanMs * Math.log(1 - r.next(device)) : waitMs;
  }

  /** A device asks DNS for a server's name: true if the lookup will succeed. */
  resolve(_device: number, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second >= 0 && second < this.seconds) {
      this.dns.add(second);
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
