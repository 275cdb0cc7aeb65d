// Espruino's require("Storage"), imitated with its flash behaviour: a file system that survives reboots (it lives
// outside the board's vm context), 28-character names, and append-only writes, so that the number of flash writes
// a firmware makes can be counted and a full flash compacts.

/** Espruino's limit on Storage file names. */
export const MAX_NAME_LENGTH = 28;
/** Each stored copy carries a header (name, length, flags); 32 bytes is the order of Espruino's. */
const HEADER_BYTES = 32;

export interface WriteRecord {
  name: string;
  bytes: number;
}

/** writeJSON's output: keys are written without quotes where they are identifiers, like Espruino's E.toJS. */
export function toEspruinoJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => toEspruinoJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const parts = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined && typeof (value as Record<string, unknown>)[k] !== 'function')
      .map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}:${toEspruinoJson((value as Record<string, unknown>)[k])}`);
    return `{${parts.join(',')}}`;
  }
  return 'null';
}

/** readJSON's parser accepts unquoted keys, as Espruino's JSON.parse does. */
export function parseEspruinoJson(text: string): unknown {
  const quoted = text.replace(/([{,]\s*)([A-Za-z_$][\w$]*)(\s*:)/g, '$1"$2"$3');
  return JSON.parse(quoted);
}

export class FlashStorage {
  readonly files = new Map<string, string>();
  /** Every write that changed a file, in order: what wears the flash. */
  readonly writes: WriteRecord[] = [];
  compactions = 0;
  private usedBytes = 0;

  constructor(readonly capacityBytes = 64 * 1024) {}

  private checkName(name: string): void {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
      throw new Error(`Storage: name ${JSON.stringify(name)} must be 1-${MAX_NAME_LENGTH} characters`);
    }
  }

  private live(): number {
    let sum = 0;
    for (const [, data] of this.files) sum += HEADER_BYTES + data.length;
    return sum;
  }

  write(name: string, data: unknown): boolean {
    this.checkName(name);
    const text = typeof data === 'string' ? data : String(data);
    // Espruino leaves an identical file alone; any change appends a whole new copy.
    if (this.files.get(name) === text) return true;
    const size = HEADER_BYTES + text.length;
    if (this.usedBytes + size > this.capacityBytes) {
      this.compactions++;
      this.usedBytes = this.live() - (this.files.has(name) ? HEADER_BYTES + (this.files.get(name) as string).length : 0);
      if (this.usedBytes + size > this.capacityBytes) throw new Error('Storage: not enough free space');
    }
    this.usedBytes += size;
    this.files.set(name, text);
    this.writes.push({ name, bytes: text.length });
    return true;
  }

  read(name: string): string | undefined {
    this.checkName(name);
    return this.files.get(name);
  }

  readJSON(name: string, noExceptions?: boolean): unknown {
    const text = this.read(name);
    if (text === undefined) return undefined;
    try {
      return parseEspruinoJson(text);
    } catch (error) {
      if (noExceptions) return undefined;
      throw error;
    }
  }

  writeJSON(name: string, value: unknown): boolean {
    return this.write(name, toEspruinoJson(value));
  }

  erase(name: string): void {
    this.checkName(name);
    this.files.delete(name);
  }

  list(): string[] {
    return [...this.files.keys()];
  }

  getFree(): number {
    return this.capacityBytes - this.usedBytes;
  }

  writesTo(name: string): number {
    return this.writes.filter((w) => w.name === name).length;
  }
}
