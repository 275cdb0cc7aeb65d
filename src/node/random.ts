// Randomness for nonces and jitter from the operating system's CSPRNG: an off-path attacker must not be able to
// predict the 64-bit nonce a genuine reply has to echo, and devices must not share one jitter sequence.

import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/** A uniform number in [0, 1) with 48 random bits, like Math.random but unpredictable. */
export function cryptoRandom(): number {
  if (offset + 6 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const v = pool.readUIntBE(offset, 6);
  offset += 6;
  return v / 281474976710656;
}
