// Per-second counts over a whole run (millions of seconds), added to one at a time from all over the run.
//
// Counting straight into the month-long array misses the cache on nearly every add: a batch of devices walks the
// whole run, so its adds are spread thin. The adds wait in a log instead; when it is full, a counting sort puts
// them in order of their slot's region (BIN_SLOTS slots each), and they are applied region by region, each region
// small enough to stay in cache.

/** Adds held before a flush: 4 MB of log, or less for a short run. */
const MAX_LOG = 1 << 20;
const BIN_BITS = 12;

export class CountLog {
  /** Complete only after flush(). */
  readonly counts: Uint32Array;
  private readonly log: Uint32Array;
  private readonly logSize: number;
  private length: number;
  private readonly sorted: Uint32Array;
  private readonly binStarts: Uint32Array;

  constructor(slots: number) {
    this.counts = new Uint32Array(slots);
    this.logSize = Math.min(MAX_LOG, Math.max(1024, slots));
    this.log = new Uint32Array(this.logSize);
    this.length = 0;
    this.sorted = new Uint32Array(this.logSize);
    this.binStarts = new Uint32Array((slots >> BIN_BITS) + 2);
  }

  add(slot: number): void {
    if (this.length === this.logSize) this.flush();
    this.log[this.length++] = slot;
  }

  flush(): void {
    const log = this.log;
    const n = this.length;
    const starts = this.binStarts;
    const sorted = this.sorted;
    const counts = this.counts;
    starts.fill(0);
    for (let k = 0; k < n; k++) starts[(log[k] >> BIN_BITS) + 1]++;
    for (let b = 1; b < starts.length; b++) starts[b] += starts[b - 1];
    // starts[b] now counts the adds before bin b; it becomes the next free place of bin b as the adds are placed.
    for (let k = 0; k < n; k++) sorted[starts[log[k] >> BIN_BITS]++] = log[k];
    for (let k = 0; k < n; k++) counts[sorted[k]]++;
    this.length = 0;
  }
}
