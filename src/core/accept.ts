// Reply acceptance, in the order RFC 8633 §5.4 asks: a reply must prove it answers our request before it
// may act as a kiss, and only then is it checked as a time sample.

import { HEADER_BYTES, LEAP_UNSYNCHRONISED, MODE_SERVER, readTimestamp, readU32, refIdAsciiAt, refIdToString, signedByte } from './codec';
import { classifyKiss, KissAction } from './kiss';
import { shortFormatToSeconds } from './short-format';
import { NtpTimestamp, offsetAndDelay } from './timestamp';

/** Defined as true by the firmware build only (see scheduler.ts); undefined everywhere else. */
declare const KISSTIME_FIRMWARE: boolean;

export type RejectReason =
  | 'no-request'
  | 'wrong-source'
  | 'malformed'
  | 'not-server-mode'
  | 'bad-origin'
  | 'late'
  | 'duplicate'
  | 'unsynchronised'
  | 'bad-stratum'
  | 'zero-timestamp'
  | 'root-distance';

export const REJECT_REASONS: RejectReason[] = [
  'no-request', 'wrong-source', 'malformed', 'not-server-mode', 'bad-origin', 'late', 'duplicate',
  'unsynchronised', 'bad-stratum', 'zero-timestamp', 'root-distance',
];

export interface Endpoint {
  address: string;
  port: number;
}

export interface PendingRequest {
  id: number;
  host: string;
  address: string;
  port: number;
  nonce: NtpTimestamp;
  sentMs: number;
  answered: boolean;
}

export interface Sample {
  offsetS: number;
  delayS: number;
  stratum: number;
  refId: string;
  leap: number;
  precision: number;
  poll: number;
  rootDelayS: number;
  rootDispersionS: number;
  /** (root delay + delay) / 2 + root dispersion: the worst error the server admits to. */
  rootDistanceS: number;
  host: string;
  address: string;
  port: number;
  /** Server transmit time, for the reference timestamp of anything we serve onwards. */
  transmit: NtpTimestamp;
}

export type Verdict =
  | { kind: 'reject'; reason: RejectReason }
  | { kind: 'kiss'; code: string; action: KissAction; poll: number }
  | { kind: 'sample'; sample: Sample };

export interface ReplyInput {
  from: Endpoint;
  bytes: Uint8Array;
  nowMs: number;
  /** Local clock at send and at receipt, kept on the device and never sent. */
  t1: NtpTimestamp;
  t4: NtpTimestamp;
}

function reject(reason: RejectReason): Verdict {
  // The board never reads the reason (the scheduler reports rejects only outside the firmware).
  return typeof KISSTIME_FIRMWARE === 'undefined' ? { kind: 'reject', reason: reason } : { kind: 'reject' } as Verdict;
}

/**
 * Reads the few header fields it needs straight from the bytes: a client has no use for decodePacket's full
 * packet, and on the board every object built and dropped costs memory and bundle bytes.
 */
export function judgeReply(pending: PendingRequest | null, reply: ReplyInput, windowMs: number, maxRootDistanceS: number): Verdict {
  if (!pending) return reject('no-request');
  if (reply.from.address !== pending.address || reply.from.port !== pending.port) return reject('wrong-source');
  const b = reply.bytes;
  // As decodePacket: versions 1-4 share this header; 0 and 5-7 are not NTP as we know it. The version field less
  // one is 0-3 for those: a version 0 borrows from the leap bits above it and reads as 7.
  if (b.length < HEADER_BYTES || ((b[0] - 8) & 56) > 24) return reject('malformed');
  if ((b[0] & 7) !== MODE_SERVER) return reject('not-server-mode');
  if (readU32(b, 24) !== pending.nonce.s || readU32(b, 28) !== pending.nonce.f) return reject('bad-origin');
  if (pending.answered) return reject('duplicate');
  if (reply.nowMs - pending.sentMs > windowMs) return reject('late');

  // Only a reply that echoes our nonce may kiss us; its timestamps are never time.
  const stratum = b[1];
  if (stratum === 0) {
    const code = refIdAsciiAt(b, 12);
    return { kind: 'kiss', code: code, action: classifyKiss(code), poll: signedByte(b[2]) };
  }

  if (b[0] >> 6 === LEAP_UNSYNCHRONISED) return reject('unsynchronised');
  if (stratum > 15) return reject('bad-stratum');
  const receive = readTimestamp(b, 32);
  const transmit = readTimestamp(b, 40);
  if (!(receive.s || receive.f) || !(transmit.s || transmit.f)) return reject('zero-timestamp');

  const od = offsetAndDelay(reply.t1, receive, transmit, reply.t4);
  // Root delay / 2 + root dispersion, both raw 16.16, converted once.
  const rootDistanceS = shortFormatToSeconds(readU32(b, 4) / 2 + readU32(b, 8)) + (od.delayS > 0 ? od.delayS / 2 : 0);
  if (rootDistanceS > maxRootDistanceS) return reject('root-distance');

  // The board reads only these five (firmware/src/kisstime.ts and the scheduler's snapshot); the rest serves the
  // Node adapters' status and the server's upstream reference.
  const sample: Sample = typeof KISSTIME_FIRMWARE === 'undefined' ? {
    offsetS: od.offsetS,
    delayS: od.delayS,
    stratum: stratum,
    refId: refIdToString(readU32(b, 12), stratum),
    leap: b[0] >> 6,
    precision: signedByte(b[3]),
    poll: signedByte(b[2]),
    rootDelayS: shortFormatToSeconds(readU32(b, 4)),
    rootDispersionS: shortFormatToSeconds(readU32(b, 8)),
    rootDistanceS: rootDistanceS,
    host: pending.host,
    address: pending.address,
    port: pending.port,
    transmit: transmit,
  } : { offsetS: od.offsetS, delayS: od.delayS, stratum: stratum, host: pending.host, address: pending.address } as Sample;
  return { kind: 'sample', sample: sample };
}
