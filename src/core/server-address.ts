// IP addresses and CIDR blocks for the server's access list. IPv4 is held as an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d), so one comparison covers both families and a dual-stack socket's "::ffff:10.0.0.1"
// matches the rule "10.0.0.0/8".

/** 128 bits as four unsigned 32-bit words, most significant first. */
export type IpWords = number[];

export interface Cidr {
  words: IpWords;
  /** Prefix length in the 128-bit space (an IPv4 /8 is 104 here). */
  bits: number;
  /** As the operator wrote it, normalised ("10.0.0.0/8"), for messages and stats. */
  text: string;
}

function parseIpv4Word(text: string): number {
  let word = 0;
  let octets = 0;
  let value = -1;
  for (var i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (value < 0 || octets === 4) return -1;
      word = word * 256 + value;
      octets++;
      value = -1;
    } else if (c >= 48 && c <= 57) {
      value = value < 0 ? c - 48 : value * 10 + (c - 48);
      if (value > 255) return -1;
    } else {
      return -1;
    }
  }
  return octets === 4 ? word : -1;
}

function parseGroups(text: string, out: number[]): boolean {
  if (text === '') return true;
  const parts = text.split(':');
  for (var i = 0; i < parts.length; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(parts[i])) return false;
    out.push(parseInt(parts[i], 16));
  }
  return true;
}

function parseIpv6(text: string): IpWords | null {
  let t = text;
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.substring(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  let tailWord = -1;
  const lastColon = t.lastIndexOf(':');
  if (lastColon >= 0 && t.indexOf('.', lastColon) > lastColon) {
    tailWord = parseIpv4Word(t.substring(lastColon + 1));
    if (tailWord < 0) return null;
    t = t.substring(0, lastColon + 1) + '0:0';
  }
  const gap = t.indexOf('::');
  if (gap >= 0 && t.indexOf('::', gap + 1) >= 0) return null;
  const head: number[] = [];
  const tail: number[] = [];
  if (gap >= 0) {
    if (!parseGroups(t.substring(0, gap), head) || !parseGroups(t.substring(gap + 2), tail)) return null;
    if (head.length + tail.length > 7) return null;
  } else {
    if (!parseGroups(t, head) || head.length !== 8) return null;
  }
  const groups = head.concat([]);
  while (groups.length + tail.length < 8) groups.push(0);
  for (var i = 0; i < tail.length; i++) groups.push(tail[i]);
  const words: IpWords = [];
  for (var w = 0; w < 4; w++) words.push((groups[w * 2] * 65536 + groups[w * 2 + 1]) >>> 0);
  if (tailWord >= 0) words[3] = tailWord;
  return words;
}

/** An IPv4 or IPv6 address (zone ids ignored), or null. */
export function parseIp(text: string): IpWords | null {
  if (typeof text !== 'string' || text === '') return null;
  if (text.indexOf(':') < 0) {
    const v4 = parseIpv4Word(text);
    return v4 < 0 ? null : [0, 0, 0xffff, v4];
  }
  return parseIpv6(text);
}

export function isMappedIpv4(words: IpWords): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

function maskWord(word: number, wordIndex: number, bits: number): number {
  const keep = bits - wordIndex * 32;
  if (keep >= 32) return word;
  if (keep <= 0) return 0;
  return (word & ((0xffffffff << (32 - keep)) >>> 0)) >>> 0;
}

function ipv4Text(word: number): string {
  return ((word >>> 24) & 255) + '.' + ((word >>> 16) & 255) + '.' + ((word >>> 8) & 255) + '.' + (word & 255);
}

/** "10.0.0.0/8", "fd00::/8", or a bare address (a single host). Host bits are cleared; null if malformed. */
export function parseCidr(text: string): Cidr | null {
  if (typeof text !== 'string') return null;
  const t = text.trim();
  const slash = t.indexOf('/');
  const addressText = slash >= 0 ? t.substring(0, slash) : t;
  const words = parseIp(addressText);
  if (!words) return null;
  const v4 = addressText.indexOf(':') < 0;
  const maxBits = v4 ? 32 : 128;
  let prefix = maxBits;
  if (slash >= 0) {
    const p = t.substring(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = parseInt(p, 10);
    if (prefix > maxBits) return null;
  }
  const bits = v4 ? 96 + prefix : prefix;
  const masked: IpWords = [];
  for (var i = 0; i < 4; i++) masked.push(maskWord(words[i], i, bits));
  const shown = v4 ? ipv4Text(masked[3]) + '/' + prefix : addressText.toLowerCase() + '/' + prefix;
  return { words: masked, bits: bits, text: shown };
}

export function cidrContains(block: Cidr, address: IpWords): boolean {
  for (var i = 0; i < 4; i++) {
    if (i * 32 >= block.bits) return true;
    if (maskWord(address[i], i, block.bits) !== block.words[i]) return false;
  }
  return true;
}
