// The event queue of the fleet simulator: an indexed binary min-heap over device numbers, in typed arrays.
// Each device is in the heap exactly once, keyed by the time of its next event (Infinity when it has none),
// so the queue never grows with traffic and a key change is one sift, O(log N).

export class DeviceHeap {
  readonly size: number;
  private readonly keys: Float64Array;
  /** heap[k] = the device at heap position k. */
  private readonly heap: Int32Array;
  /** pos[i] = the heap position of device i. */
  private readonly pos: Int32Array;

  constructor(size: number) {
    this.size = size;
    this.keys = new Float64Array(size).fill(Infinity);
    this.heap = new Int32Array(size);
    this.pos = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      this.heap[i] = i;
      this.pos[i] = i;
    }
  }

  /** The device with the earliest event (any device when all keys are Infinity). */
  top(): number {
    return this.heap[0];
  }

  topKey(): number {
    return this.size > 0 ? this.keys[this.heap[0]] : Infinity;
  }

  /** The earliest key among all devices but the top one (the top's children hold it). */
  secondKey(): number {
    const n = this.size;
    const a = n > 1 ? this.keys[this.heap[1]] : Infinity;
    const b = n > 2 ? this.keys[this.heap[2]] : Infinity;
    return a < b ? a : b;
  }

  key(device: number): number {
    return this.keys[device];
  }

  set(device: number, atMs: number): void {
    const old = this.keys[device];
    if (old === atMs) return;
    this.keys[device] = atMs;
    if (atMs < old) this.siftUp(this.pos[device]);
    else this.siftDown(this.pos[device]);
  }

  private siftUp(k: number): void {
    const heap = this.heap;
    const keys = this.keys;
    const device = heap[k];
    const key = keys[device];
    while (k > 0) {
      const parent = (k - 1) >> 1;
      const p = heap[parent];
      if (keys[p] <= key) break;
      heap[k] = p;
      this.pos[p] = k;
      k = parent;
    }
    heap[k] = device;
    this.pos[device] = k;
  }

  private siftDown(k: number): void {
    const heap = this.heap;
    const keys = this.keys;
    const n = this.size;
    const device = heap[k];
    const key = keys[device];
    for (;;) {
      let child = 2 * k + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[heap[child + 1]] < keys[heap[child]]) child++;
      const c = heap[child];
      if (keys[c] >= key) break;
      heap[k] = c;
      this.pos[c] = k;
      k = child;
    }
    heap[k] = device;
    this.pos[device] = k;
  }
}
