// Server configuration: chrony's rate-limit defaults, and refusal with the field named before any socket opens.

import { parseDurationS } from './duration';
import { AccessList, createAccessList } from './server-acl';
import { RateLimit } from './server-rate';

/** chrony's ratelimit defaults: one answer per 2^3 s on average, a burst of 8, a leak of 1 in 2^2. */
export const DEFAULT_RATE_INTERVAL_S = 8;
export const DEFAULT_RATE_BURST = 8;
export const DEFAULT_RATE_LEAK = 4;
/** Clients remembered at once; about 90 bytes each plus the address string. */
export const DEFAULT_MAX_CLIENTS = 8192;
/** log2 s of the clock we serve: a high-resolution timer read by Node, about a microsecond. */
export const DEFAULT_PRECISION = -20;

export interface ServerConfigInput {
  /** CIDR blocks (or single addresses) allowed; empty or absent means everyone not denied. */
  allow?: string[] | string;
  deny?: string[] | string;
  /** Average time between answers per client ("8s", 8); 0 turns rate limiting off. */
  rateInterval?: string | number;
  rateBurst?: string | number;
  /** Answer 1 in N over-limit requests anyway; 0 never does. */
  rateLeak?: string | number;
  maxClients?: string | number;
  /** "Serve local clock at stratum N" before (or without) any upstream sync; null/absent: answer unsynchronised. */
  localStratum?: string | number | null;
  precision?: string | number;
}

export interface ServerConfig {
  allow: string[];
  deny: string[];
  acl: AccessList;
  rate: RateLimit;
  /** How often one client may be kissed (any code): the rate interval, or chrony's default when that is off. */
  kissIntervalMs: number;
  maxClients: number;
  localStratum: number | null;
  precision: number;
}

export type ServerConfigResult = { ok: true; config: ServerConfig } | { ok: false; field: string; message: string };

function fail(field: string, message: string): ServerConfigResult {
  return { ok: false, field: field, message: field + ': ' + message };
}

/** A list from an array or from text separated by commas, semicolons or white space (editor fields). */
export function splitList(value: string[] | string | undefined): string[] {
  if (value === undefined || value === null) return [];
  const items = typeof value === 'string' ? value.split(/[\s,;]+/) : value;
  const out: string[] = [];
  for (var i = 0; i < items.length; i++) {
    const item = typeof items[i] === 'string' ? items[i].trim() : items[i];
    if (item !== '') out.push(item);
  }
  return out;
}

function blank(value: unknown): value is undefined | null | '' {
  return value === undefined || value === null || value === '';
}

function integerIn(value: string | number | undefined | null, fallback: number, lo: number, hi: number): number {
  if (blank(value)) return fallback;
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) return NaN;
  const n = parseInt(text, 10);
  return n >= lo && n <= hi ? n : NaN;
}

export function validateServerConfig(input: ServerConfigInput): ServerConfigResult {
  if (!input || typeof input !== 'object') return fail('config', 'expected an object');
  const allow = splitList(input.allow);
  const deny = splitList(input.deny);
  const acl = createAccessList(allow, deny);
  if (!acl.ok) return { ok: false, field: acl.field, message: acl.message };

  const intervalS = blank(input.rateInterval) ? DEFAULT_RATE_INTERVAL_S : parseDurationS(input.rateInterval);
  if (!(intervalS >= 0 && intervalS <= 86400)) return fail('rateInterval', 'not a duration between 0 (off) and 1 d: ' + JSON.stringify(input.rateInterval));
  const burst = integerIn(input.rateBurst, DEFAULT_RATE_BURST, 1, 255);
  if (!(burst >= 1)) return fail('rateBurst', 'must be a whole number from 1 to 255: ' + JSON.stringify(input.rateBurst));
  const leak = integerIn(input.rateLeak, DEFAULT_RATE_LEAK, 0, 65536);
  if (!(leak >= 0)) return fail('rateLeak', 'must be 0 (never) or N for "answer 1 in N over-limit requests": ' + JSON.stringify(input.rateLeak));
  const maxClients = integerIn(input.maxClients, DEFAULT_MAX_CLIENTS, 1, 16777216);
  if (!(maxClients >= 1)) return fail('maxClients', 'must be a whole number from 1 to 16777216: ' + JSON.stringify(input.maxClients));
  const localStratum = blank(input.localStratum) ? null : integerIn(input.localStratum, 0, 1, 15);
  if (localStratum !== null && !(localStratum >= 1)) return fail('localStratum', 'must be a stratum from 1 to 15, or empty to answer unsynchronised until the upstream syncs: ' + JSON.stringify(input.localStratum));
  const precision = integerIn(input.precision, DEFAULT_PRECISION, -32, 0);
  if (!(precision <= 0)) return fail('precision', 'must be a log2 of seconds from -32 to 0');

  return {
    ok: true,
    config: {
      allow: allow,
      deny: deny,
      acl: acl.acl,
      rate: { intervalMs: intervalS * 1000, burst: burst, leak: leak },
      kissIntervalMs: (intervalS > 0 ? intervalS : DEFAULT_RATE_INTERVAL_S) * 1000,
      maxClients: maxClients,
      localStratum: localStratum,
      precision: precision,
    },
  };
}
