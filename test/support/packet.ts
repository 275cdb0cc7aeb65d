// Raw NTP header bytes for the test fixtures. Deliberately independent of src/core: the fixtures are the oracle the
// core is checked against, so a bug in the core's codec must not be able to hide in them too.

import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';

export const NTP_HEADER_BYTES = 48;

// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch).
export const NTP_UNIX_OFFSET = 2208988800n;

const TWO_32 = 4294967296n;
const TWO_64 = 18446744073709551616n;

export interface ParsedPacket {
  leap: number;
  version: number;
  mode: number;
  stratum: number;
  poll: number;
  precision: number;
  /** Raw 16.16 unsigned fixed point. */
  rootDelay: number;
  /** Raw 16.16 unsigned fixed point. */
  rootDispersion: number;
  refid: Buffer;
  /** The reference ID as text when it is four printable ASCII characters (a kiss code), else null. */
  refidAscii: string | null;
  reference: bigint;
  origin: bigint;
  receive: bigint;
  transmit: bigint;
  length: number;
}

export function readTimestamp(bytes: Uint8Array, offset: number): bigint {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.readBigUInt64BE(offset);
}

export function writeTimestamp(bytes: Uint8Array, offset: number, value: bigint): void {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.writeBigUInt64BE(BigInt.asUintN(64, value), offset);
}

/** An NTP 64-bit timestamp for a Unix time in milliseconds (fractional milliseconds allowed), era 0 wrap applied. */
export function ntpTimestampFromUnixMs(unixMs: number): bigint {
  const wholeMs = Math.floor(unixMs);
  const subMs = unixMs - wholeMs;
  const seconds = BigInt(Math.floor(wholeMs / 1000));
  const ms = BigInt(wholeMs - Math.floor(wholeMs / 1000) * 1000);
  // The fraction is built from integers so that the value does not lose precision through a double.
  const fraction = (ms * TWO_32) / 1000n + BigInt(Math.round(subMs * 4294967.296));
  return BigInt.asUintN(64, ((seconds + NTP_UNIX_OFFSET) << 32n) + fraction);
}

/**
 * The current wall clock as an NTP timestamp, shifted by offsetSeconds. Date.now() has only millisecond resolution,
 * which makes loopback delays (tens of microseconds) come out negative; the performance clock anchored at
 * timeOrigin has microseconds, and over a test run it does not drift measurably from the wall clock.
 */
export function ntpNow(offsetSeconds = 0): bigint {
  return ntpTimestampFromUnixMs(performance.timeOrigin + performance.now() + offsetSeconds * 1000);
}

/**
 * Signed difference a - b in seconds, modulo 2^64 so that it stays right across the 2036 era rollover.
 * Only for assertions and reports: the double loses sub-nanosecond digits, which the fixtures never need.
 */
export function timestampDiffSeconds(a: bigint, b: bigint): number {
  let diff = BigInt.asUintN(64, a - b);
  if (diff >= TWO_64 / 2n) {
    diff -= TWO_64;
  }
  return Number(diff) / 4294967296;
}

export function parsePacket(bytes: Uint8Array): ParsedPacket | null {
  if (bytes.length < NTP_HEADER_BYTES) {
    return null;
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const refid = Buffer.from(buf.subarray(12, 16));
  const ascii = refid.toString('latin1');
  return {
    leap: buf[0] >> 6,
    version: (buf[0] >> 3) & 7,
    mode: buf[0] & 7,
    stratum: buf[1],
    poll: buf.readInt8(2),
    precision: buf.readInt8(3),
    rootDelay: buf.readUInt32BE(4),
    rootDispersion: buf.readUInt32BE(8),
    refid,
    refidAscii: /^[\x20-\x7e]{4}$/.test(ascii) ? ascii : null,
    reference: buf.readBigUInt64BE(16),
    origin: buf.readBigUInt64BE(24),
    receive: buf.readBigUInt64BE(32),
    transmit: buf.readBigUInt64BE(40),
    length: buf.length,
  };
}

/**
 * A client request the way data-minimising clients send it: everything zero except VN=4, mode 3 and a random
 * transmit timestamp that serves as the nonce.
 */
export function makeRequest(nonce?: bigint): { bytes: Buffer; nonce: bigint } {
  const bytes = Buffer.alloc(NTP_HEADER_BYTES);
  bytes[0] = 0x23;
  const value = nonce ?? randomBytes(8).readBigUInt64BE(0);
  bytes.writeBigUInt64BE(value, 40);
  return { bytes, nonce: value };
}

export interface QueryResult {
  packet: ParsedPacket;
  bytes: Buffer;
  from: { address: string; port: number };
  /** Whether the reply's origin timestamp equals the nonce that was sent. */
  originMatches: boolean;
  /** Client send and receive times (T1, T4) as NTP timestamps, for offset and delay computations. */
  t1: bigint;
  t4: bigint;
}

export interface QueryOptions {
  port?: number;
  timeoutMs?: number;
  /** Local address to send from. Servers account rate limits and restrictions per source address. */
  sourceAddress?: string;
  nonce?: bigint;
}

/**
 * Sends one mode-3 request from a fresh socket and resolves with the first mode-4 reply whose origin echoes the nonce,
 * or null after the timeout. Replies that fail that check are ignored, as a careful client would.
 */
export function queryOnce(address: string, options: QueryOptions = {}): Promise<QueryResult | null> {
  const port = options.port ?? 123;
  const timeoutMs = options.timeoutMs ?? 1000;
  const { bytes, nonce } = makeRequest(options.nonce);
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    let t1 = 0n;
    let settled = false;
    const finish = (value: QueryResult | null, error?: Error): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (error) {
        reject(error);
      } else {
        resolve(value);
      }
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('error', (error) => finish(null, error));
    socket.on('message', (message, rinfo) => {
      const t4 = ntpNow();
      const packet = parsePacket(message);
      if (packet === null || packet.mode !== 4 || rinfo.address !== address || rinfo.port !== port) {
        return;
      }
      if (packet.origin !== nonce) {
        return;
      }
      finish({ packet, bytes: Buffer.from(message), from: { address: rinfo.address, port: rinfo.port }, originMatches: true, t1, t4 });
    });
    socket.bind(0, options.sourceAddress ?? '0.0.0.0', () => {
      t1 = ntpNow();
      socket.send(bytes, port, address, (error) => {
        if (error) {
          finish(null, error);
        }
      });
    });
  });
}

/** Offset and delay of one exchange (RFC 5905 §8), computed on integers before the final conversion. */
export function offsetAndDelay(result: QueryResult): { offset: number; delay: number } {
  const { t1, t4 } = result;
  const t2 = result.packet.receive;
  const t3 = result.packet.transmit;
  return {
    offset: (timestampDiffSeconds(t2, t1) + timestampDiffSeconds(t3, t4)) / 2,
    delay: timestampDiffSeconds(t4, t1) - timestampDiffSeconds(t3, t2),
  };
}

/**
 * Sends count requests from one socket, gapMs apart, and collects the replies matched to their requests by origin.
 * For provoking and observing rate limits; replies[i] is undefined when request i got no answer. clockInRequest
 * puts the local clock in each transmit timestamp, as a rude client does, instead of a random nonce.
 */
export async function burst(
  address: string,
  count: number,
  options: { port?: number; gapMs?: number; settleMs?: number; sourceAddress?: string; clockInRequest?: boolean } = {},
): Promise<(ParsedPacket | undefined)[]> {
  const port = options.port ?? 123;
  const gapMs = options.gapMs ?? 50;
  const socket = createSocket('udp4');
  const nonces = new Map<bigint, number>();
  const replies: (ParsedPacket | undefined)[] = new Array<ParsedPacket | undefined>(count).fill(undefined);
  socket.on('message', (message, rinfo) => {
    const packet = parsePacket(message);
    if (packet === null || rinfo.address !== address || rinfo.port !== port) {
      return;
    }
    const index = nonces.get(packet.origin);
    if (index !== undefined && replies[index] === undefined) {
      replies[index] = packet;
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, options.sourceAddress ?? '0.0.0.0', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  try {
    for (let i = 0; i < count; i++) {
      const { bytes, nonce } = makeRequest(options.clockInRequest ? ntpNow() : undefined);
      nonces.set(nonce, i);
      await new Promise<void>((resolve, reject) => socket.send(bytes, port, address, (error) => (error ? reject(error) : resolve())));
      if (i < count - 1 && gapMs > 0) {
        await sleep(gapMs);
      }
    }
    await sleep(options.settleMs ?? 300);
  } finally {
    socket.close();
  }
  return replies;
}

/** Compact text for a burst result, e.g. "s3 s3 RATE - -", for logs and failure messages. */
export function describeReplies(replies: (ParsedPacket | undefined)[]): string {
  return replies
    .map((p) => {
      if (p === undefined) {
        return '-';
      }
      if (p.stratum === 0) {
        return p.refidAscii ?? `0x${p.refid.toString('hex')}`;
      }
      return `s${p.stratum}`;
    })
    .join(' ');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
