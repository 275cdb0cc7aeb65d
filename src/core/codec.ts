// The 48-byte NTP header (RFC 5905 §7.3). Decoding never throws: every byte sequence maps to a packet or a reason.

import { NtpTimestamp } from './timestamp';

export const HEADER_BYTES = 48;

export const MODE_SYMMETRIC_ACTIVE = 1;
export const MODE_SYMMETRIC_PASSIVE = 2;
export const MODE_CLIENT = 3;
export const MODE_SERVER = 4;
export const MODE_BROADCAST = 5;
export const MODE_CONTROL = 6;
export const MODE_PRIVATE = 7;

export const LEAP_UNSYNCHRONISED = 3;

export interface NtpPacket {
  leap: number;
  version: number;
  mode: number;
  stratum: number;
  /** log2 seconds, signed. */
  poll: number;
  /** log2 seconds, signed. */
  precision: number;
  /** Raw 16.16 fixed point. */
  rootDelay: number;
  /** Raw 16.16 fixed point. */
  rootDispersion: number;
  /** Raw 32-bit reference ID. */
  refId: number;
  reference: NtpTimestamp;
  origin: NtpTimestamp;
  receive: NtpTimestamp;
  transmit: NtpTimestamp;
}

export type DecodeRejectReason = 'too-short' | 'bad-version';

export type DecodeResult =
  | { ok: true; packet: NtpPacket; length: number }
  | { ok: false; reason: DecodeRejectReason; length: number };

// Multiplied rather than shifted: shifts are 32-bit signed (on Espruino too), so a top byte over 127 would read
// negative without a >>> 0.
export function readU32(b: Uint8Array, i: number): number {
  return ((b[i] * 256 + b[i + 1]) * 256 + b[i + 2]) * 256 + b[i + 3];
}

function writeU32(b: Uint8Array, i: number, v: number): void {
  // The fraction that division leaves is dropped by & 255, which keeps the low 8 bits of the integer part.
  for (var k = 4; k-- > 0; v /= 256) b[i + k] = v & 255;
}

export function readTimestamp(b: Uint8Array, i: number): NtpTimestamp {
  return { s: readU32(b, i), f: readU32(b, i + 4) };
}

function writeTimestamp(b: Uint8Array, i: number, ts: NtpTimestamp): void {
  writeU32(b, i, ts.s);
  writeU32(b, i + 4, ts.f);
}

/** A byte (0-255) read as two's complement: shifted to the top of a 32-bit int and back, which carries the sign. */
export function signedByte(v: number): number {
  return v << 24 >> 24;
}

export function decodePacket(bytes: Uint8Array): DecodeResult {
  const length = bytes ? bytes.length : 0;
  if (!bytes || length < HEADER_BYTES) return { ok: false, reason: 'too-short', length: length };
  const version = (bytes[0] >> 3) & 7;
  // Versions 1-4 share this header; 0 and 5-7 are not NTP as we know it.
  if (version < 1 || version > 4) return { ok: false, reason: 'bad-version', length: length };
  return {
    ok: true,
    length: length,
    packet: {
      leap: bytes[0] >> 6,
      version: version,
      mode: bytes[0] & 7,
      stratum: bytes[1],
      poll: signedByte(bytes[2]),
      precision: signedByte(bytes[3]),
      rootDelay: readU32(bytes, 4),
      rootDispersion: readU32(bytes, 8),
      refId: readU32(bytes, 12),
      reference: readTimestamp(bytes, 16),
      origin: readTimestamp(bytes, 24),
      receive: readTimestamp(bytes, 32),
      transmit: readTimestamp(bytes, 40),
    },
  };
}

export function encodePacket(p: NtpPacket): Uint8Array {
  const b = new Uint8Array(HEADER_BYTES);
  b[0] = ((p.leap & 3) << 6) | ((p.version & 7) << 3) | (p.mode & 7);
  b[1] = p.stratum & 255;
  b[2] = p.poll & 255;
  b[3] = p.precision & 255;
  writeU32(b, 4, p.rootDelay);
  writeU32(b, 8, p.rootDispersion);
  writeU32(b, 12, p.refId);
  writeTimestamp(b, 16, p.reference);
  writeTimestamp(b, 24, p.origin);
  writeTimestamp(b, 32, p.receive);
  writeTimestamp(b, 40, p.transmit);
  return b;
}

/**
 * The minimized client request (NTP data-minimization draft): every field zero but VN=4, mode 3 and a
 * random transmit timestamp. The real send time stays on the device, so the request reveals nothing
 * and an off-path attacker cannot guess the origin a genuine reply must echo.
 */
export function encodeRequest(nonce: NtpTimestamp): Uint8Array {
  // Written directly rather than through encodePacket: the same bytes, without the code the firmware never needs.
  const b = new Uint8Array(HEADER_BYTES);
  b[0] = (4 << 3) | MODE_CLIENT;
  writeU32(b, 40, nonce.s);
  writeU32(b, 44, nonce.f);
  return b;
}

/** 64 random bits from the caller's generator; never all zero, since a zero origin means "no request": a zero fraction becomes 1. */
export function makeNonce(random: () => number): NtpTimestamp {
  return { s: Math.floor(random() * 4294967296), f: Math.floor(random() * 4294967296) || 1 };
}

/**
 * The reference ID at b[i] as four ASCII characters (a kiss code or a stratum-1 source): it ends at the first NUL,
 * and unprintables read as '?'. Read from the bytes so that a client needs no 32-bit value to spell a kiss.
 */
export function refIdAsciiAt(b: Uint8Array, i: number): string {
  let out = '';
  for (var end = i + 4, c: number; i < end && (c = b[i]); i++) out += String.fromCharCode(c > 31 && c < 127 ? c : 63);
  return out;
}

/** As refIdAsciiAt, for a reference ID held as a 32-bit value. */
export function refIdToAscii(refId: number): string {
  const b = new Uint8Array(4);
  writeU32(b, 0, refId);
  return refIdAsciiAt(b, 0);
}

/** How a reference ID reads to a person: ASCII at stratum 0-1, a dotted IPv4 address (or IPv6 hash) above. */
export function refIdToString(refId: number, stratum: number): string {
  if (stratum <= 1) return refIdToAscii(refId);
  return ((refId >>> 24) & 255) + '.' + ((refId >>> 16) & 255) + '.' + ((refId >>> 8) & 255) + '.' + (refId & 255);
}

export function asciiToRefId(text: string): number {
  let v = 0;
  for (var i = 0; i < 4; i++) {
    v = v * 256 + (i < text.length ? text.charCodeAt(i) & 255 : 0);
  }
  return v;
}
