// Seeded randomness for the fleet: every device gets its own streams, derived from the run seed and its index,
// so a device behaves the same whichever batch or worker simulates it, and every run can be replayed.

/** A 32-bit integer hash (a murmur3 finaliser) of a seed, an index and a salt. */
export function hash32(seed: number, index: number, salt: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) fixed by (seed, index, salt): for one-off draws such as "is this device denied". */
export function unitHash(seed: number, index: number, salt: number): number {
  return hash32(seed, index, salt) / 4294967296;
}

/** mulberry32 as a closure: what the core Scheduler takes as its random source. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Many mulberry32 streams in one typed array: one 32-bit state per device, no closure or object each,
 * so a million devices cost 4 MB.
 */
export class StreamBank {
  private readonly base: number;
  private readonly state: Uint32Array;

  /** Streams for devices base .. base + count - 1 (global numbers). */
  constructor(base: number, count: number, seed: number, salt: number) {
    this.base = base;
    this.state = new Uint32Array(count);
    for (let k = 0; k < count; k++) this.state[k] = hash32(seed, base + k, salt);
  }

  next(device: number): number {
    const k = device - this.base;
    const a = (this.state[k] + 0x6d2b79f5) >>> 0;
    this.state[k] = a;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
