// Checks for what is read back from a saved file: any JSON value, or none, may come back, and a board must not throw
// on any of it (Espruino throws where V8 returns undefined, e.g. on a field of a number).

export type Fields = { [field: string]: unknown };

export function isInt(x: unknown, low: number, high: number): x is number {
  return typeof x === 'number' && x % 1 === 0 && x >= low && x <= high;
}

export function isText(x: unknown, longest: number): x is string {
  return typeof x === 'string' && x.length <= longest;
}

/** Any value as an object whose fields may be read: null, numbers and strings have none. */
export function fieldsOf(x: unknown): Fields {
  return x && typeof x === 'object' ? (x as Fields) : {};
}

/** Every element read, or null when the list is not a list, is too long, or one element is bad. */
export function readList<T>(x: unknown, read: (e: unknown) => T | null, longest: number): T[] | null {
  if (!Array.isArray(x) || x.length > longest) return null;
  const out: T[] = [];
  for (var i = 0; i < x.length; i++) {
    const e = read(x[i]);
    if (e === null) return null;
    out.push(e);
  }
  return out;
}
