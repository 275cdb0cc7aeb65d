// Reading a request and writing the 48-byte answer or kiss, straight on the bytes: the server's hot path allocates
// nothing. A reply is always exactly 48 bytes and only ever goes to a request of at least 48, so the server never
// amplifies.

import { HEADER_BYTES, LEAP_UNSYNCHRONISED, MODE_CLIENT, MODE_SERVER } from './codec';
import { secondsToShortFormat } from './short-format';
import { NtpTimestamp } from './timestamp';

export type RequestProblem =
  | 'too-short'
  | 'bad-version'
  | 'reserved-mode'
  | 'symmetric-mode'
  | 'server-mode'
  | 'broadcast-mode'
  | 'control-mode'
  | 'private-mode';

const MODE_PROBLEMS: RequestProblem[] = [
  'reserved-mode', 'symmetric-mode', 'symmetric-mode', 'reserved-mode', 'server-mode', 'broadcast-mode', 'control-mode', 'private-mode',
];

/** Why this datagram gets no answer, or null for a well-formed client request (mode 3, NTPv1-4, 48+ bytes). */
export function checkRequest(bytes: Uint8Array): RequestProblem | null {
  if (!bytes || bytes.length < HEADER_BYTES) return 'too-short';
  const version = (bytes[0] >> 3) & 7;
  if (version < 1 || version > 4) return 'bad-version';
  const mode = bytes[0] & 7;
  return mode === MODE_CLIENT ? null : MODE_PROBLEMS[mode];
}

function writeU32(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 24) & 255;
  b[i + 1] = (v >>> 16) & 255;
  b[i + 2] = (v >>> 8) & 255;
  b[i + 3] = v & 255;
}

export function writeTimestampAt(b: Uint8Array, i: number, ts: NtpTimestamp): void {
  writeU32(b, i, ts.s);
  writeU32(b, i + 4, ts.f);
}

export const RECEIVE_OFFSET = 32;
export const TRANSMIT_OFFSET = 40;

function clampPoll(poll: number): number {
  const signed = poll > 127 ? poll - 256 : poll;
  return signed < 0 ? 0 : (signed > 17 ? 17 : signed);
}

export interface AnswerFields {
  leap: number;
  stratum: number;
  precision: number;
  refId: number;
  rootDelayS: number;
  rootDispersionS: number;
  reference: NtpTimestamp;
  /** Served time at receipt; also the provisional transmit time until the adapter stamps the real one. */
  receive: NtpTimestamp;
}

/** Header of an answer to request (version echoed, origin = the client's transmit timestamp). */
export function writeAnswer(out: Uint8Array, request: Uint8Array, f: AnswerFields): void {
  const version = (request[0] >> 3) & 7;
  out[0] = ((f.leap & 3) << 6) | (version << 3) | MODE_SERVER;
  out[1] = f.stratum & 255;
  out[2] = clampPoll(request[2]);
  out[3] = f.precision & 255;
  writeU32(out, 4, secondsToShortFormat(f.rootDelayS));
  writeU32(out, 8, secondsToShortFormat(f.rootDispersionS));
  writeU32(out, 12, f.refId);
  writeTimestampAt(out, 16, f.reference);
  for (var i = 0; i < 8; i++) out[24 + i] = request[TRANSMIT_OFFSET + i];
  writeTimestampAt(out, RECEIVE_OFFSET, f.receive);
  writeTimestampAt(out, TRANSMIT_OFFSET, f.receive);
}

/**
 * A Kiss-o'-Death: stratum 0, the code as refid, LI=3. Origin, receive and transmit all carry the client's own
 * transmit timestamp (as ntpd does), so a naive client that takes a kiss for time computes an offset of zero instead
 * of jumping its clock; a careful one checks the origin and reads the code. poll tells a RATE-kissed client the
 * interval the server wants (log2 s), never less than the client's own.
 */
export function writeKiss(out: Uint8Array, request: Uint8Array, code: number, precision: number, pollHint: number): void {
  const version = (request[0] >> 3) & 7;
  out[0] = (LEAP_UNSYNCHRONISED << 6) | (version << 3) | MODE_SERVER;
  out[1] = 0;
  const asked = clampPoll(request[2]);
  out[2] = pollHint > asked ? pollHint : asked;
  out[3] = precision & 255;
  writeU32(out, 4, 0);
  writeU32(out, 8, 0);
  writeU32(out, 12, code);
  for (var i = 16; i < 24; i++) out[i] = 0;
  for (var j = 0; j < 8; j++) {
    const v = request[TRANSMIT_OFFSET + j];
    out[24 + j] = v;
    out[RECEIVE_OFFSET + j] = v;
    out[TRANSMIT_OFFSET + j] = v;
  }
}
