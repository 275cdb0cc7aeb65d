// Reading a client's request into the record the grading works on, and comparing NTP timestamps kept as hex text
// (JSON-safe, exact: 64 bits do not fit a double).

import { HEADER_BYTES, NTP_UNIX_OFFSET_S, readU32, signedByte } from '../../core';
import { ReplyKind, SeenRequest } from './types';

export const ZERO_HEX = '0000000000000000';

function hexAt(b: Uint8Array, i: number): string {
  let out = '';
  for (let k = i; k < i + 8; k++) out += (b[k] < 16 ? '0' : '') + b[k].toString(16);
  return out;
}

export interface Arrival {
  atS: number;
  wallMs: number;
  from: { address: string; port: number };
}

export function readRequest(bytes: Uint8Array, arrival: Arrival, reply: ReplyKind, ourTransmit: string): SeenRequest {
  const full = bytes.length >= HEADER_BYTES;
  return {
    atS: arrival.atS,
    wallMs: arrival.wallMs,
    from: arrival.from,
    length: bytes.length,
    leap: bytes.length > 0 ? bytes[0] >> 6 : 0,
    version: bytes.length > 0 ? (bytes[0] >> 3) & 7 : 0,
    mode: bytes.length > 0 ? bytes[0] & 7 : 0,
    stratum: full ? bytes[1] : 0,
    poll: full ? signedByte(bytes[2]) : 0,
    precision: full ? signedByte(bytes[3]) : 0,
    rootDelay: full ? readU32(bytes, 4) : 0,
    rootDispersion: full ? readU32(bytes, 8) : 0,
    refId: full ? readU32(bytes, 12) : 0,
    reference: full ? hexAt(bytes, 16) : ZERO_HEX,
    origin: full ? hexAt(bytes, 24) : ZERO_HEX,
    receive: full ? hexAt(bytes, 32) : ZERO_HEX,
    transmit: full ? hexAt(bytes, 40) : ZERO_HEX,
    reply,
    ourTransmit,
  };
}

export function hexOf(bytes: Uint8Array, offset: number): string {
  return bytes.length >= offset + 8 ? hexAt(bytes, offset) : ZERO_HEX;
}

const TWO_64 = 1n << 64n;

/** a − b in seconds, modulo 2^64 and signed, so it stays right across the 2036 era change. */
export function hexDiffS(a: string, b: string): number {
  let d = (BigInt('0x' + a) - BigInt('0x' + b)) % TWO_64;
  if (d < 0n) d += TWO_64;
  if (d >= TWO_64 / 2n) d -= TWO_64;
  return Number(d) / 4294967296;
}

/** Unix ms as an NTP timestamp in hex (era 0/1 wrap applied), for comparing with what a client sent. */
export function hexFromUnixMs(unixMs: number): string {
  const ntpS = Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET_S;
  const frac = Math.floor(((unixMs / 1000) % 1) * 4294967296);
  const value = ((BigInt(ntpS) << 32n) + BigInt(frac)) % TWO_64;
  return value.toString(16).padStart(16, '0');
}
