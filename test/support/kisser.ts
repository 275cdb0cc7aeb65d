// A scriptable fake NTP server on loopback for tests that need exact packets: any kiss code, forged origins,
// duplicate or late replies, replies from another port or address. Built on raw bytes, not on src/core, so that it
// stays an independent oracle for the core's codec and checks.

import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { assertLoopback } from './loopback';
import { NTP_HEADER_BYTES, ntpNow, parsePacket, type ParsedPacket } from './packet';

export interface KisserRequest {
  /** 1-based arrival number. */
  seq: number;
  bytes: Buffer;
  /** null when the datagram is shorter than an NTP header. */
  packet: ParsedPacket | null;
  /** The request's transmit timestamp (the client's nonce), or 0n for a runt. */
  transmit: bigint;
  from: { address: string; port: number };
  /** Wall-clock arrival time (Date.now()). */
  receivedAt: number;
  /** Monotonic arrival time (performance.now()), for measuring intervals between requests. */
  receivedAtMono: number;
  /** Arrival time as an NTP timestamp, the natural receive timestamp (T2) for a reply. */
  receivedNtp: bigint;
}

export interface KisserReply {
  bytes: Uint8Array;
  /** Send from this port instead of the server port; 0 means "some other ephemeral port". */
  fromPort?: number;
  /** Send from this loopback address instead of the server address (with fromPort, or an ephemeral port). */
  fromAddress?: string;
  /** Send to this destination instead of the request's source. */
  to?: { address: string; port: number };
  /** Wait this long before sending. */
  delayMs?: number;
}

export type KisserHandler = (
  request: KisserRequest,
) => KisserReply | KisserReply[] | Uint8Array | null | undefined | void | Promise<KisserReply | KisserReply[] | Uint8Array | null | undefined | void>;

export interface Kisser {
  address: string;
  port: number;
  /** Every datagram received so far, in arrival order. */
  readonly requests: KisserRequest[];
  /** Number of datagrams received so far. */
  count(): number;
  /** Requests that arrived after the given Date.now() value. */
  requestsSince(unixMs: number): KisserRequest[];
  /** Replaces the handler for requests that arrive from now on. */
  setHandler(handler: KisserHandler): void;
  /** Resolves once at least n requests have arrived in total, rejects after timeoutMs. */
  waitForRequests(n: number, timeoutMs?: number): Promise<KisserRequest[]>;
  /** Errors thrown by the handler or by sending, kept so that tests can assert there were none. */
  readonly errors: Error[];
  close(): Promise<void>;
}

/** Answers every request with a plausible time reply (stratum 2, LI=0). */
export const answerWithTime: KisserHandler = (request) => (request.packet ? { bytes: makeReply(request) } : null);

export const silent: KisserHandler = () => null;

function bindSocket(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/**
 * Starts a fake server on address:port (port 0 picks a free one). The handler sees every datagram, including
 * runts and non-client modes, and returns the replies to send, if any.
 */
export async function startKisser(address: string, port: number, handler: KisserHandler = answerWithTime): Promise<Kisser> {
  assertLoopback(address);
  const main = await bindSocket(address, port);
  const boundPort = main.address().port;
  const extra = new Map<string, Socket>();
  const requests: KisserRequest[] = [];
  const errors: Error[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let current = handler;
  let closed = false;

  const socketFor = async (reply: KisserReply): Promise<Socket> => {
    if (reply.fromPort === undefined && reply.fromAddress === undefined) {
      return main;
    }
    const fromAddress = reply.fromAddress ?? address;
    assertLoopback(fromAddress);
    const fromPort = reply.fromPort ?? 0;
    // Port 0 asks for a fresh ephemeral socket every time, so "another port" never accidentally equals the server's.
    const key = `${fromAddress}:${fromPort}`;
    const existing = fromPort === 0 ? undefined : extra.get(key);
    if (existing) {
      return existing;
    }
    const socket = await bindSocket(fromAddress, fromPort);
    extra.set(fromPort === 0 ? `${key}#${extra.size}` : key, socket);
    return socket;
  };

  const send = async (reply: KisserReply, request: KisserRequest): Promise<void> => {
    const to = reply.to ?? request.from;
    assertLoopback(to.address);
    const socket = await socketFor(reply);
    if (closed) {
      return;
    }
    await new Promise<void>((resolve, reject) => {
      socket.send(reply.bytes, to.port, to.address, (error) => (error ? reject(error) : resolve()));
    });
  };

  const dispatch = async (request: KisserRequest): Promise<void> => {
    const result = await current(request);
    if (!result) {
      return;
    }
    const replies: KisserReply[] = result instanceof Uint8Array ? [{ bytes: result }] : Array.isArray(result) ? result : [result];
    for (const reply of replies) {
      if (reply.delayMs && reply.delayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(reply, request).catch((error: Error) => errors.push(error));
        }, reply.delayMs);
        timers.add(timer);
      } else {
        await send(reply, request);
      }
    }
  };

  main.on('message', (message, rinfo) => {
    const packet = parsePacket(message);
    const request: KisserRequest = {
      seq: requests.length + 1,
      bytes: Buffer.from(message),
      packet,
      transmit: packet ? packet.transmit : 0n,
      from: { address: rinfo.address, port: rinfo.port },
      receivedAt: Date.now(),
      receivedAtMono: performance.now(),
      receivedNtp: ntpNow(),
    };
    requests.push(request);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (requests.length >= waiters[i].n) {
        waiters[i].resolve();
        waiters.splice(i, 1);
      }
    }
    dispatch(request).catch((error: unknown) => errors.push(error instanceof Error ? error : new Error(String(error))));
  });
  main.on('error', (error) => errors.push(error));

  return {
    address,
    port: boundPort,
    requests,
    errors,
    count: () => requests.length,
    requestsSince: (unixMs) => requests.filter((r) => r.receivedAt > unixMs),
    setHandler: (next) => {
      current = next;
    },
    waitForRequests: (n, timeoutMs = 5000) => {
      if (requests.length >= n) {
        return Promise.resolve(requests.slice());
      }
      return new Promise((resolve, reject) => {
        const waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(requests.slice());
          },
        };
        const timer = setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) {
            waiters.splice(index, 1);
          }
          reject(new Error(`kisser ${address}:${boundPort}: ${requests.length} of ${n} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close: async () => {
      if (closed) {
        return;
      }
      closed = true;
      for (const timer of timers) {
        clearTimeout(timer);
      }
      timers.clear();
      const sockets = [main, ...extra.values()];
      await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    },
  };
}

export interface ReplyFields {
  /** LI, 0-3. Default 0, or 3 when stratum is 0. */
  leap?: number;
  /** VN. Default: the request's version (as real servers do), or 4. */
  version?: number;
  /** Default 4 (server). */
  mode?: number;
  /** Default 2. */
  stratum?: number;
  /** Default: the request's poll, or 6. */
  poll?: number;
  /** Default -20 (about a microsecond). */
  precision?: number;
  /** Seconds, encoded as 16.16; default 0.001. */
  rootDelay?: number;
  /** Seconds, encoded as 16.16; default 0.001. */
  rootDispersion?: number;
  /** A 4-character ASCII code ("RATE"), 4 raw bytes, or a 32-bit number. Default "GPS\0". */
  refid?: string | Uint8Array | number;
  /** Default: receive timestamp minus 16 s. */
  reference?: bigint;
  /** Default: the request's transmit timestamp (a correct echo). */
  origin?: bigint;
  /** Default: the request's arrival time plus offsetSeconds. */
  receive?: bigint;
  /** Default: now plus offsetSeconds. */
  transmit?: bigint;
  /** Server clock error to simulate, in seconds, applied to the default receive and transmit timestamps. */
  offsetSeconds?: number;
}

function encodeShort(seconds: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.round(seconds * 65536)));
}

function encodeRefid(refid: string | Uint8Array | number): Buffer {
  const out = Buffer.alloc(4);
  if (typeof refid === 'number') {
    out.writeUInt32BE(refid >>> 0, 0);
  } else if (typeof refid === 'string') {
    Buffer.from(refid, 'latin1').copy(out, 0, 0, 4);
  } else {
    Buffer.from(refid).copy(out, 0, 0, 4);
  }
  return out;
}

/**
 * A 48-byte reply to request (a KisserRequest, raw request bytes, or null for an unsolicited packet), with every
 * field overridable. Defaults describe a healthy stratum-2 server that echoes the nonce correctly.
 */
export function makeReply(request: KisserRequest | Uint8Array | null, fields: ReplyFields = {}): Buffer {
  let parsed: ParsedPacket | null = null;
  let arrival: bigint | undefined;
  if (request instanceof Uint8Array) {
    parsed = parsePacket(request);
  } else if (request) {
    parsed = request.packet;
    arrival = request.receivedNtp;
  }
  const offset = fields.offsetSeconds ?? 0;
  const shift = BigInt(Math.round(offset * 4294967296));
  const stratum = fields.stratum ?? 2;
  const receive = fields.receive ?? BigInt.asUintN(64, (arrival ?? ntpNow()) + shift);
  const bytes = Buffer.alloc(NTP_HEADER_BYTES);
  const leap = fields.leap ?? (stratum === 0 ? 3 : 0);
  const version = fields.version ?? (parsed && parsed.version >= 1 ? parsed.version : 4);
  const mode = fields.mode ?? 4;
  bytes[0] = ((leap & 3) << 6) | ((version & 7) << 3) | (mode & 7);
  bytes[1] = stratum & 0xff;
  bytes.writeInt8(Math.max(-128, Math.min(127, fields.poll ?? (parsed ? parsed.poll : 6))), 2);
  bytes.writeInt8(Math.max(-128, Math.min(127, fields.precision ?? -20)), 3);
  bytes.writeUInt32BE(encodeShort(fields.rootDelay ?? 0.001), 4);
  bytes.writeUInt32BE(encodeShort(fields.rootDispersion ?? 0.001), 8);
  encodeRefid(fields.refid ?? 'GPS\0').copy(bytes, 12);
  bytes.writeBigUInt64BE(BigInt.asUintN(64, fields.reference ?? receive - (16n << 32n)), 16);
  bytes.writeBigUInt64BE(BigInt.asUintN(64, fields.origin ?? (parsed ? parsed.transmit : 0n)), 24);
  bytes.writeBigUInt64BE(receive, 32);
  bytes.writeBigUInt64BE(BigInt.asUintN(64, fields.transmit ?? ntpNow() + shift), 40);
  return bytes;
}

/**
 * A Kiss-o'-Death reply: LI=3, stratum 0, the code as refid, origin echoing the nonce, poll/precision/root fields and
 * reference zero (like ntpsec's kisses); receive and transmit carry times unless fields says otherwise. Fields win
 * over these defaults except stratum and refid, e.g. { origin: 0n } for an off-path forgery or
 * { receive: nonce, transmit: nonce } to copy ntpsec's RATE kiss exactly.
 */
export function makeKiss(request: KisserRequest | Uint8Array | null, code: string, fields: ReplyFields = {}): Buffer {
  return makeReply(request, { leap: 3, poll: 0, precision: 0, rootDelay: 0, rootDispersion: 0, reference: 0n, ...fields, stratum: 0, refid: code });
}
