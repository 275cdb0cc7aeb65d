// Reply acceptance, in the order RFC 8633 §5.4 asks: a reply must prove it answers our request before it
// may act as a kiss, and only then is it checked as a time sample.

import { HEADER_BYTES, LEAP_UNSYNCHRONISED, readU32, refIdAsciiAt, signedByte } from './codec';
import { classifyKiss, KissAction } from './kiss';
import { shortFormatToSeconds } from './short-format';
import { NtpTimestamp, offsetAndDelayOf } from './timestamp';

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
  /** Set once a reply has been taken; the scheduler, which forgets a settled request, never needs it. */
  answered?: boolean;
}

export interface Sample {
  offsetS: number;
  delayS: number;
  stratum: number;
  /** The raw 32-bit reference ID: the upstream's address (stratum 2+) or ASCII source (stratum 1). */
  refId: number;
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
  return { kind: 'reject', reason: reason };
}

/**
 * Reads the few header fields it needs straight from the bytes: a client has no use for decodePacket's full
 * packet, and on the board every object built and dropped costs memory and bundle bytes.
 */
export function judgeReply(pending: PendingRequest | null, reply: ReplyInput, windowMs: number, maxRootDistanceS: number): Verdict {
  if (!pending) return reject('no-request');
  if (reply.from.address !== pending.address || reply.from.port !== pending.port) return reject('wrong-source');
  const b = reply.bytes;
  // Size, version and mode in one test. As decodePacket, versions 1-4 share this header; 0 and 5-7 are not NTP
  // as we know it; and a server answers in mode 4. So version and mode (the low six bits) must read 12 + 8k for
  // k = 0-3: taking 12 away leaves bits 0-2 and 5 clear exactly then, whatever the leap bits above them hold.
  if (b.length < HEADER_BYTES || ((b[0] - 12) & 39)) {
    // Which of the two, in the order RFC 8633 checks them: a version outside 1-4 is not NTP as we know it.
    return reject(b.length < HEADER_BYTES || ((b[0] - 8) & 56) > 24 ? 'malformed' : 'not-server-mode');
  }
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
  // Receive and transmit timestamps read as their seconds and fraction fields, with no objects built for them.
  const s2 = readU32(b, 32);
  const f2 = readU32(b, 36);
  const s3 = readU32(b, 40);
  const f3 = readU32(b, 44);
  // The fields are never negative, so a sum is zero only when both of its fields are.
  if (!(s2 + f2 && s3 + f3)) return reject('zero-timestamp');

  const t1 = reply.t1;
  const t4 = reply.t4;
  const od = offsetAndDelayOf(t1.s, t1.f, s2, f2, s3, f3, t4.s, t4.f);
  const delayS = od.delayS;
  const rootDelayS = shortFormatToSeconds(readU32(b, 4));
  const rootDispersionS = shortFormatToSeconds(readU32(b, 8));
  const rootDistanceS = (rootDelayS + Math.max(delayS, 0)) / 2 + rootDispersionS;
  if (rootDistanceS > maxRootDistanceS) return reject('root-distance');
  return {
    kind: 'sample',
    sample: {
      offsetS: od.offsetS,
      delayS: delayS,
      stratum: stratum,
      refId: readU32(b, 12),
      leap: b[0] >> 6,
      precision: signedByte(b[3]),
      poll: signedByte(b[2]),
      rootDelayS: rootDelayS,
      rootDispersionS: rootDispersionS,
      rootDistanceS: rootDistanceS,
      host: pending.host,
      address: pending.address,
      port: pending.port,
      transmit: { s: s3, f: f3 },
    },
  };
}
