// Reply acceptance, in the order RFC 8633 §5.4 asks: a reply must prove it answers our request before it
// may act as a kiss, and only then is it checked as a time sample.

import { HEADER_BYTES, LEAP_UNSYNCHRONISED, readU32, refIdAsciiAt, refIdToString, signedByte } from './codec';
import { classifyKiss, KissAction } from './kiss';
import { maxOf } from './math';
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

/**
 * On the board, where only the scheduler reads a verdict, a verdict has no kind: a reject is null (the board never
 * reads the reason; the scheduler reports rejects only outside the firmware), a kiss is told by its code, and
 * anything else is a sample.
 */
const REJECTED = null as unknown as Verdict;

function reject(reason: RejectReason): Verdict {
  return typeof KISSTIME_FIRMWARE === 'undefined' ? { kind: 'reject', reason: reason } : REJECTED;
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
    // Which of the two, in the order RFC 8633 checks them, matters only to the reject reports of the Node adapters:
    // the firmware build drops reasons, and with them this expression.
    return reject(b.length < HEADER_BYTES || ((b[0] - 8) & 56) > 24 ? 'malformed' : 'not-server-mode');
  }
  if (readU32(b, 24) !== pending.nonce.s || readU32(b, 28) !== pending.nonce.f) return reject('bad-origin');
  if (typeof KISSTIME_FIRMWARE === 'undefined' && pending.answered) return reject('duplicate');
  if (reply.nowMs - pending.sentMs > windowMs) return reject('late');

  // Only a reply that echoes our nonce may kiss us; its timestamps are never time.
  const stratum = b[1];
  if (stratum === 0) {
    // The board takes the four bytes as they are (what it reads of a code is DENY, RSTR, RATE and a leading X, all
    // printable); Node builds end it at a NUL and show unprintables as '?' for their logs and status.
    const code = typeof KISSTIME_FIRMWARE === 'undefined' ? refIdAsciiAt(b, 12) : String.fromCharCode(b[12], b[13], b[14], b[15]);
    return typeof KISSTIME_FIRMWARE === 'undefined'
      ? { kind: 'kiss', code: code, action: classifyKiss(code), poll: signedByte(b[2]) }
      : { code: code, action: classifyKiss(code), poll: signedByte(b[2]) } as Verdict;
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
  // A Sample from the start: on the board, this object with offset and delay becomes the sample itself.
  const od = offsetAndDelayOf(t1.s, t1.f, s2, f2, s3, f3, t4.s, t4.f) as Sample;
  const delayS = od.delayS;
  // Root delay / 2 + root dispersion, both raw 16.16, converted once.
  const rootDistanceS = shortFormatToSeconds(readU32(b, 4) / 2 + readU32(b, 8)) + maxOf(delayS, 0) / 2;
  if (rootDistanceS > maxRootDistanceS) return reject('root-distance');

  // The Node adapters' status and the server's upstream reference read all of it.
  if (typeof KISSTIME_FIRMWARE === 'undefined') {
    return {
      kind: 'sample',
      sample: {
        offsetS: od.offsetS,
        delayS: delayS,
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
        transmit: { s: s3, f: f3 },
      },
    };
  }
  // The board reads only offset, delay and these three (firmware/src/kisstime.ts and the scheduler).
  od.stratum = stratum;
  od.host = pending.host;
  od.address = pending.address;
  return { sample: od } as Verdict;
}
