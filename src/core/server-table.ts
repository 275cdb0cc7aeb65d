// The per-client table: a fixed number of records, found by address through an open-addressing hash and kept in
// least-recently-used order by an intrusive doubly linked list. Everything is allocated once, in typed arrays, so
// memory stays flat however many distinct sources arrive: a new client past the cap takes the record of the one
// heard from longest ago. (No Map: the core runs on Espruino, which has none.)

const NONE = -1;
/** Timestamps in the table that mean "never". */
export const NEVER_MS = -1e15;

export interface ClientTable {
  capacity: number;
  size: number;
  evictions: number;
  /** Hash slot → record index + 1 (0 = empty slot). Twice the capacity or more, a power of two. */
  slots: Int32Array;
  mask: number;
  keys: string[];
  hashes: Int32Array;
  /** LRU list: head is the most recently used record. */
  prev: Int32Array;
  next: Int32Array;
  head: number;
  tail: number;
  /** Rate-limit state (server-rate.ts): tokens left, time of the last refill, time of the last kiss. */
  tokens: Float64Array;
  lastMs: Float64Array;
  kissMs: Float64Array;
  /** Politeness record (server-politeness.ts): requests, first and last seen, shortest gap between two requests. */
  requests: Uint32Array;
  firstMs: Float64Array;
  seenMs: Float64Array;
  shortestMs: Float64Array;
  /** The last kiss sent (KISS_NONE, KISS_SENT_RATE, ...), requests that came while it should have kept the client away, and requests carrying the client's clock. */
  kissCode: Uint8Array;
  ignoredKisses: Uint32Array;
  clockLeaks: Uint32Array;
}

export function createClientTable(capacity: number): ClientTable {
  const cap = capacity >= 1 ? Math.floor(capacity) : 1;
  let slotCount = 16;
  while (slotCount < cap * 2) slotCount *= 2;
  const keys: string[] = [];
  for (var i = 0; i < cap; i++) keys.push('');
  return {
    capacity: cap,
    size: 0,
    evictions: 0,
    slots: new Int32Array(slotCount),
    mask: slotCount - 1,
    keys: keys,
    hashes: new Int32Array(cap),
    prev: new Int32Array(cap),
    next: new Int32Array(cap),
    head: NONE,
    tail: NONE,
    tokens: new Float64Array(cap),
    lastMs: new Float64Array(cap),
    kissMs: new Float64Array(cap),
    requests: new Uint32Array(cap),
    firstMs: new Float64Array(cap),
    seenMs: new Float64Array(cap),
    shortestMs: new Float64Array(cap),
    kissCode: new Uint8Array(cap),
    ignoredKisses: new Uint32Array(cap),
    clockLeaks: new Uint32Array(cap),
  };
}

/** FNV-1a over the UTF-16 code units; the multiply by the FNV prime is done as shifts (no Math.imul on Espruino). */
function hashKey(key: string): number {
  let h = 0x811c9dc5 | 0;
  for (var i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) | 0;
  }
  return h;
}

function unlink(t: ClientTable, r: number): void {
  const p = t.prev[r];
  const n = t.next[r];
  if (p === NONE) t.head = n;
  else t.next[p] = n;
  if (n === NONE) t.tail = p;
  else t.prev[n] = p;
}

function pushFront(t: ClientTable, r: number): void {
  t.prev[r] = NONE;
  t.next[r] = t.head;
  if (t.head !== NONE) t.prev[t.head] = r;
  t.head = r;
  if (t.tail === NONE) t.tail = r;
}

/** Removes the record's hash slot, shifting later entries of its probe run back so no tombstones are needed. */
function removeSlot(t: ClientTable, r: number): void {
  const mask = t.mask;
  let i = t.hashes[r] & mask;
  while (t.slots[i] !== r + 1) i = (i + 1) & mask;
  let j = i;
  for (;;) {
    j = (j + 1) & mask;
    const occupant = t.slots[j];
    if (occupant === 0) break;
    const home = t.hashes[occupant - 1] & mask;
    // The occupant may move into the hole only if its home slot is not cyclically inside (i, j].
    const homeInside = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!homeInside) {
      t.slots[i] = occupant;
      i = j;
    }
  }
  t.slots[i] = 0;
}

/** The record index for key, or -1 if the table does not hold it. Does not touch the LRU order. */
export function findClient(t: ClientTable, key: string): number {
  const mask = t.mask;
  const h = hashKey(key);
  let i = h & mask;
  for (;;) {
    const occupant = t.slots[i];
    if (occupant === 0) return NONE;
    if (t.hashes[occupant - 1] === h && t.keys[occupant - 1] === key) return occupant - 1;
    i = (i + 1) & mask;
  }
}

/**
 * The record for key, marked most recently used. A new key gets a fresh record (evicting the least recently used
 * one when full); isNew tells the caller to initialise it.
 */
export function touchClient(t: ClientTable, key: string, result: { index: number; isNew: boolean }): void {
  const mask = t.mask;
  const h = hashKey(key);
  let i = h & mask;
  for (;;) {
    const occupant = t.slots[i];
    if (occupant === 0) break;
    const r = occupant - 1;
    if (t.hashes[r] === h && t.keys[r] === key) {
      if (t.head !== r) {
        unlink(t, r);
        pushFront(t, r);
      }
      result.index = r;
      result.isNew = false;
      return;
    }
    i = (i + 1) & mask;
  }
  let r: number;
  if (t.size < t.capacity) {
    r = t.size;
    t.size++;
  } else {
    r = t.tail;
    unlink(t, r);
    removeSlot(t, r);
    t.evictions++;
    // The removal may have shifted entries into our probe run: find the first empty slot again.
    i = h & mask;
    while (t.slots[i] !== 0) i = (i + 1) & mask;
  }
  t.keys[r] = key;
  t.hashes[r] = h;
  t.slots[i] = r + 1;
  pushFront(t, r);
  result.index = r;
  result.isNew = true;
}

/** Keys from most to least recently used (for tests and diagnostics; allocates). */
export function clientKeysByRecency(t: ClientTable): string[] {
  const out: string[] = [];
  for (var r = t.head; r !== NONE; r = t.next[r]) out.push(t.keys[r]);
  return out;
}
