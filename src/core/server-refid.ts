// The reference ID a server at stratum 2+ sends (RFC 5905 §7.3): its upstream's IPv4 address, or for an IPv6
// upstream the first four octets of the MD5 hash of the address. The refid lets a client spot a loop (a server
// syncing from the client itself). MD5 is written out here because the core has no crypto library; it is used
// only for this identifier, never for security.

import { isMappedIpv4, parseIp } from './server-address';

/** chrony's refid for its own undisciplined local clock (127.127.1.1), kept for "serve local clock at stratum N". */
export const LOCAL_CLOCK_REFID = 0x7f7f0101;

// floor(abs(sin(i + 1)) * 2^32), written out: Math.sin is not bit-exact on every interpreter.
const K = [
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];
const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/** MD5 of bytes; returns the digest's 16 bytes. */
export function md5(bytes: Uint8Array): Uint8Array {
  const length = bytes.length;
  const blocks = Math.floor((length + 8) / 64) + 1;
  const padded = new Uint8Array(blocks * 64);
  for (var i = 0; i < length; i++) padded[i] = bytes[i];
  padded[length] = 0x80;
  const bitsLow = (length * 8) >>> 0;
  const bitsHigh = Math.floor(length / 536870912);
  for (var b = 0; b < 4; b++) {
    padded[blocks * 64 - 8 + b] = (bitsLow >>> (8 * b)) & 255;
    padded[blocks * 64 - 4 + b] = (bitsHigh >>> (8 * b)) & 255;
  }
  let a0 = 0x67452301 | 0;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476 | 0;
  const m: number[] = [];
  for (var blk = 0; blk < blocks; blk++) {
    for (var w = 0; w < 16; w++) {
      const o = blk * 64 + w * 4;
      m[w] = padded[o] | (padded[o + 1] << 8) | (padded[o + 2] << 16) | (padded[o + 3] << 24);
    }
    let a = a0;
    let bb = b0;
    let c = c0;
    let d = d0;
    for (var step = 0; step < 64; step++) {
      const round = step >> 4;
      let f: number;
      let g: number;
      if (round === 0) {
        f = (bb & c) | (~bb & d);
        g = step;
      } else if (round === 1) {
        f = (d & bb) | (~d & c);
        g = (5 * step + 1) & 15;
      } else if (round === 2) {
        f = bb ^ c ^ d;
        g = (3 * step + 5) & 15;
      } else {
        f = c ^ (bb | ~d);
        g = (7 * step) & 15;
      }
      const sum = (a + f + K[step] + m[g]) | 0;
      const s = S[round * 4 + (step & 3)];
      a = d;
      d = c;
      c = bb;
      bb = (bb + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + bb) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const out = new Uint8Array(16);
  const words = [a0, b0, c0, d0];
  for (var k = 0; k < 16; k++) out[k] = (words[k >> 2] >>> (8 * (k & 3))) & 255;
  return out;
}

/** The refid naming an upstream by address; 0 when the address cannot be read. */
export function refIdForAddress(address: string): number {
  const words = parseIp(address);
  if (!words) return 0;
  if (isMappedIpv4(words)) return words[3];
  const raw = new Uint8Array(16);
  for (var i = 0; i < 16; i++) raw[i] = (words[i >> 2] >>> (24 - 8 * (i & 3))) & 255;
  const digest = md5(raw);
  return ((digest[0] << 24) | (digest[1] << 16) | (digest[2] << 8) | digest[3]) >>> 0;
}
