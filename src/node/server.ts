// The gateway time server's socket. Every decision (who gets an answer, a kiss or silence; what the answer says) is
// the core's NtpResponder; this file reads the clock, carries datagrams in and out, and turns the upstream client's
// samples into the reference the core serves from. The time served is the local high-resolution clock plus the
// offset the upstream client measured against the same clock.

import { createSocket, RemoteInfo, Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  addSeconds, ClientConduct, formatServerStats, HEADER_BYTES, NtpResponder, NtpTimestamp, TWO_POW_32, ResponseKind, Sample, ServedReference, ServerConfig, ServerConfigInput, ServerStats,
  upstreamReference, UpstreamSync, validateServerConfig,
} from '../core';
import { NodeClock } from './clock';
import { cryptoRandom } from './random';
import { ClockSource } from './types';

/** Room for a burst of thousands of requests; the kernel caps what a socket may ask for at net.core.rmem_max. */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

export interface ListenAddress {
  address: string;
  port: number;
}

export interface ServerOptions {
  listen: ListenAddress;
  config: ServerConfigInput;
  /** Share the upstream client's clock so the offset it measured applies to exactly this clock. */
  clock?: ClockSource;
  random?: () => number;
  /** Emit 'stats' every this many seconds; 0 or absent: only on request. */
  statsIntervalS?: number;
  /** Kernel receive buffer, bytes (default DEFAULT_RECEIVE_BUFFER_BYTES): a bigger one rides out bursts instead of dropping them. */
  receiveBufferBytes?: number;
}

/** What the server needs from an upstream client: its sample events (the Node client's 'sample'). */
export interface UpstreamClient {
  on(event: 'sample', listener: (report: UpstreamReport) => void): unknown;
  off(event: 'sample', listener: (report: UpstreamReport) => void): unknown;
}

/** The parts of the Node client's SampleReport the server uses. */
export interface UpstreamReport {
  /** The filtered offset, s. */
  offset: number;
  sample: Sample;
  /** Corrected time when the sample arrived; absent means "just now". */
  time?: Date;
}

/** The socket could not be bound: code is the system's (EADDRINUSE, EACCES, ...), the message says what to do. */
export class ListenError extends Error {
  readonly code: string;
  readonly address: string;
  readonly port: number;

  constructor(address: string, port: number, code: string) {
    super('cannot listen on ' + endpointText(address, port) + ': ' + code + listenHint(code, port));
    this.name = 'ListenError';
    this.code = code;
    this.address = address;
    this.port = port;
  }
}

function listenHint(code: string, port: number): string {
  if (code === 'EADDRINUSE') return ', the address is taken (usually by a time server already running there: chronyd or ntpd)';
  if (code === 'EACCES') return port < 1024 ? ', permission denied (port ' + port + ' needs root or CAP_NET_BIND_SERVICE; or use a high port and redirect)' : ', permission denied';
  if (code === 'EADDRNOTAVAIL') return ', no interface has that address';
  return '';
}

export class ServerConfigError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.name = 'ServerConfigError';
    this.field = field;
  }
}

/** How often the fast clock takes NodeClock's word again, so a step of the system clock reaches the answers. */
const REANCHOR_MS = 1000;

/**
 * The server's clock reads, made cheap. Reading NodeClock costs about 0.5 µs (BigInt arithmetic and a check for
 * steps of the system clock), and an answer needs three; performance.now() reads the same monotonic clock as the
 * process's hrtime for about a tenth of that. So NodeClock is read once a second, and each datagram's times are that
 * reading plus the monotonic time since: the same wall and monotonic time NodeClock would give, within the few
 * hundred nanoseconds between two adjacent reads.
 */
export class AnchoredClock {
  private readonly clock: NodeClock;
  private perfMs = 0;
  private monoMs = 0;
  private wall: NtpTimestamp = { s: 0, f: 0 };

  constructor(clock: NodeClock) {
    this.clock = clock;
    this.anchor();
  }

  anchor(): void {
    const before = performance.now();
    const wall = this.clock.wallNtp();
    const mono = this.clock.monoMs();
    this.perfMs = (before + performance.now()) / 2;
    this.wall = wall;
    this.monoMs = mono;
  }

  monoAt(perfMs: number): number {
    return this.monoMs + (perfMs - this.perfMs);
  }

  wallAt(perfMs: number): NtpTimestamp {
    return addSeconds(this.wall, (perfMs - this.perfMs) / 1000);
  }

  /** wallAt written into into, for a hot path that would rather not allocate an object per datagram. */
  wallInto(perfMs: number, into: NtpTimestamp): NtpTimestamp {
    const seconds = (perfMs - this.perfMs) / 1000;
    const whole = Math.floor(seconds);
    let f = this.wall.f + Math.round((seconds - whole) * TWO_POW_32);
    let sec = this.wall.s + whole;
    if (f >= TWO_POW_32) {
      f -= TWO_POW_32;
      sec += 1;
    }
    into.s = sec >= TWO_POW_32 ? sec - TWO_POW_32 : sec;
    into.f = f;
    return into;
  }
}

/** The reference the core serves from, after an upstream sample arrived (now = when the event is handled). */
export function referenceFromReport(report: UpstreamReport, clock: ClockSource): ServedReference {
  const s = report.sample;
  // A report from earlier (a shared client that synced before this server started) is dated by its own time.
  const ageMs = report.time ? Math.max(0, clock.wallMs() + report.offset * 1000 - report.time.getTime()) : 0;
  const sync: UpstreamSync = {
    leap: s.leap,
    stratum: s.stratum,
    rootDelayS: s.rootDelayS,
    rootDispersionS: s.rootDispersionS,
    delayS: s.delayS,
    address: s.address,
    offsetS: report.offset,
    syncedAtLocal: ageMs > 0 ? addSeconds(clock.wallNtp(), -ageMs / 1000) : clock.wallNtp(),
    atMs: clock.monoMs() - ageMs,
  };
  return upstreamReference(sync);
}

/**
 * A UDP time server. Events: 'stats' (ServerStats, every statsIntervalS), 'error' (socket errors after start),
 * 'listening' ({address, port}).
 */
export class KisstimeServer extends EventEmitter {
  readonly config: ServerConfig;
  readonly clock: ClockSource;
  private readonly responder: NtpResponder;
  private readonly options: ServerOptions;
  private socket: Socket | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private followed: { client: UpstreamClient; listener: (r: UpstreamReport) => void }[] = [];
  private sendErrors = 0;
  /** The cheap clock reads, when the clock is the real one (tests drive a virtual clock through the slow path). */
  private readonly anchored: AnchoredClock | null;
  private anchorTimer: NodeJS.Timeout | null = null;
  /** Reused for every datagram's receive and transmit times: the core reads them during the call and keeps neither. */
  private readonly receiveAt: NtpTimestamp = { s: 0, f: 0 };
  private readonly transmitAt: NtpTimestamp = { s: 0, f: 0 };

  constructor(options: ServerOptions) {
    super();
    const checked = validateServerConfig(options.config);
    if (!checked.ok) throw new ServerConfigError(checked.field, checked.message);
    this.config = checked.config;
    this.options = options;
    this.clock = options.clock ?? new NodeClock();
    this.anchored = this.clock instanceof NodeClock ? new AnchoredClock(this.clock) : null;
    this.responder = new NtpResponder(checked.config, options.random ?? cryptoRandom);
  }

  /** Binds the socket; resolves with the address actually bound (port 0 picks one). */
  start(): Promise<ListenAddress> {
    if (this.socket) return Promise.reject(new Error('server already started'));
    const { address, port } = this.options.listen;
    const socket = createSocket({
      type: isIPv6(address) ? 'udp6' : 'udp4',
      recvBufferSize: this.options.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER_BYTES,
      // Replies only ever go to the literal address a request came from: skip the per-send DNS lookup round
      // through process.nextTick that dgram would otherwise make.
      lookup: literalLookup,
    });
    this.socket = socket;
    socket.on('message', (message: Buffer, rinfo: RemoteInfo) => this.onMessage(message, rinfo));
    return new Promise((resolve, reject) => {
      const onStartError = (error: Error): void => {
        this.socket = null;
        socket.close();
        reject(new ListenError(address, port, (error as NodeJS.ErrnoException).code || error.message));
      };
      socket.once('error', onStartError);
      socket.bind(port, address, () => {
        socket.off('error', onStartError);
        socket.on('error', (error) => {
          this.sendErrors++;
          if (this.listenerCount('error') > 0) this.emit('error', error);
        });
        const bound = socket.address();
        const anchored = this.anchored;
        if (anchored) {
          anchored.anchor();
          this.anchorTimer = setInterval(() => anchored.anchor(), REANCHOR_MS);
          this.anchorTimer.unref();
        }
        const every = this.options.statsIntervalS ?? 0;
        if (every > 0) {
          this.statsTimer = setInterval(() => this.emit('stats', this.stats()), every * 1000);
          this.statsTimer.unref();
        }
        const where = { address: bound.address, port: bound.port };
        this.emit('listening', where);
        resolve(where);
      });
    });
  }

  stop(): Promise<void> {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    if (this.anchorTimer) clearInterval(this.anchorTimer);
    this.anchorTimer = null;
    for (const f of this.followed) f.client.off('sample', f.listener);
    this.followed = [];
    const socket = this.socket;
    this.socket = null;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  /** Serve from an upstream client's samples from now on (several clients: the latest sample wins). */
  follow(client: UpstreamClient): void {
    const listener = (report: UpstreamReport): void => this.setReference(referenceFromReport(report, this.clock));
    client.on('sample', listener);
    this.followed.push({ client, listener });
  }

  /** The reference to serve from; null (or unsynchronised) falls back to the local clock or to LI=3. */
  setReference(reference: ServedReference | null): void {
    this.responder.setReference(reference);
  }

  reference(): ServedReference {
    return this.responder.currentReference();
  }

  stats(): ServerStats & { sendErrors: number } {
    return Object.assign(this.responder.stats(), { sendErrors: this.sendErrors });
  }

  /** The clients that behave worst (ignoring kisses, asking under the 15 s floor, leaking their clock), and how many misbehave. */
  rudeClients(limit = 10): { count: number; worst: ClientConduct[] } {
    return this.responder.rudeClients(limit, this.clock.monoMs());
  }

  statsLine(): string {
    return formatServerStats(this.responder.stats());
  }

  /** The local clock, corrected the way answers are. */
  servedNow(): Date {
    return new Date(this.clock.wallMs() + this.responder.currentReference().offsetS * 1000);
  }

  private onMessage(message: Buffer, rinfo: RemoteInfo): void {
    // Receive timestamp first: nothing may run between the datagram's arrival and reading the clock.
    const anchored = this.anchored;
    const perfMs = anchored ? performance.now() : 0;
    const receive = anchored ? anchored.wallInto(perfMs, this.receiveAt) : this.clock.wallNtp();
    const socket = this.socket;
    if (!socket) return;
    // The reply is written over the request, whose buffer is this datagram's own: one allocation fewer per answer.
    const out = message.length === HEADER_BYTES ? message : Buffer.allocUnsafe(HEADER_BYTES);
    let kind: ResponseKind;
    try {
      kind = this.responder.respond(message, rinfo.address, anchored ? anchored.monoAt(perfMs) : this.clock.monoMs(), receive, out);
    } catch (error) {
      // The core does not throw on any input; if it ever does, one bad datagram must not stop the server.
      this.emit('error', error);
      return;
    }
    if (kind === 'silent') return;
    // Transmit timestamp last, as close to the send as JavaScript gets.
    if (kind === 'answer') this.responder.stampTransmit(out, anchored ? anchored.wallInto(performance.now(), this.transmitAt) : this.clock.wallNtp());
    // out is exactly the 48 bytes to send, so no offset and length (which would make dgram slice it again); no send
    // callback either: a completed send then costs no further JavaScript, and failures surface as socket 'error'.
    socket.send(out, rinfo.port, rinfo.address);
  }
}

export function createServer(options: ServerOptions): KisstimeServer {
  return new KisstimeServer(options);
}

/**
 * dgram's lookup hook for addresses that are already IP literals (rinfo.address): answers at once. A colon is
 * enough to tell the families apart here; isIPv6's regular expression showed up in profiles at a percent of the time.
 */
export function literalLookup(address: string, family: unknown, callback: (error: Error | null, address: string, family: number) => void): void {
  callback(null, address, address.indexOf(':') >= 0 ? 6 : 4);
}

function endpointText(address: string, port: number): string {
  return (isIPv6(address) ? '[' + address + ']' : address) + ':' + port;
}
