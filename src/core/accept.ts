// Reply acceptance, in the order RFC 8633 §5.4 asks: a reply must prove it answers our request before it
// may act as a kiss, and only then is it checked as a time sample.

import { decodePacket, LEAP_UNSYNCHRONISED, MODE_SERVER, refIdToAscii, refIdToString } from './codec';
import { classifyKiss, KissAction } from './kiss';
import { shortFormatToSeconds } from './short-format';
import { isZeroTimestamp, NtpTimestamp, offsetAndDelay, timestampsEqual } from './timestamp';

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
  return { kind: 'reject', reason: reason };
}

export function judgeReply(pending: PendingRequest | null, reply: ReplyInput, windowMs: number, maxRootDistanceS: number): Verdict {
  if (!pending) return reject('no-request');
  if (reply.from.address !== pending.address || reply.from.port !== pending.port) return reject('wrong-source');
  const decoded = decodePacket(reply.bytes);
  if (!decoded.ok) return reject('malformed');
  const p = decoded.packet;
  if (p.mode !== MODE_SERVER) return reject('not-server-mode');
  if (!timestampsEqual(p.origin, pending.nonce)) return reject('bad-origin');
  if (pending.answered) return reject('duplicate');
  if (reply.nowMs - pending.sentMs > windowMs) return reject('late');

  // Only a reply that echoes our nonce may kiss us; its timestamps are never time.
  if (p.stratum === 0) {
    const code = refIdToAscii(p.refId);
    return { kind: 'kiss', code: code, action: classifyKiss(code), poll: p.poll };
  }

  if (p.leap === LEAP_UNSYNCHRONISED) return reject('unsynchronised');
  if (p.stratum > 15) return reject('bad-stratum');
  if (isZeroTimestamp(p.receive) || isZeroTimestamp(p.transmit)) return reject('zero-timestamp');

  const od = offsetAndDelay(reply.t1, p.receive, p.transmit, reply.t4);
  const rootDelayS = shortFormatToSeconds(p.rootDelay);
  const rootDispersionS = shortFormatToSeconds(p.rootDispersion);
  const rootDistanceS = (rootDelayS + (od.delayS > 0 ? od.delayS : 0)) / 2 + rootDispersionS;
  if (rootDistanceS > maxRootDistanceS) return reject('root-distance');

  return {
    kind: 'sample',
    sample: {
      offsetS: od.offsetS,
      delayS: od.delayS,
      stratum: p.stratum,
      refId: refIdToString(p.refId, p.stratum),
      leap: p.leap,
      precision: p.precision,
      poll: p.poll,
      rootDelayS: rootDelayS,
      rootDispersionS: rootDispersionS,
      rootDistanceS: rootDistanceS,
      host: pending.host,
      address: pending.address,
      port: pending.port,
      transmit: p.transmit,
    },
  };
}
