// Client configuration as people write it in Node (flags, Node-RED fields, JSON): durations such as "34m" and
// servers as { host, port } objects, turned into what the core checks. The rules themselves are the core's.

import { checkClientConfig, ClientConfig, ClientConfigInput, FieldError, formatDurationS, MAX_INTERVAL_S, NTP_PORT, parseDurationS, ServerSpec } from '../core';

/** "host", "host:port", "1.2.3.4:123", "[::1]:123" or a bare IPv6 address; null for anything else. */
export function parseServer(text: unknown): ServerSpec | null {
  if (typeof text !== 'string') return null;
  let t = text.trim();
  let v6 = '';
  // An IPv6 address stands in as the name "v6" for the one pattern below: in brackets with an optional port, or
  // bare (two colons or more) without one.
  const close = t.indexOf(']');
  const rest = t.substring(close + 1);
  if (t.startsWith('[')) {
    if (close < 2 || (rest !== '' && !/^:\d+$/.test(rest))) return null;
    v6 = t.substring(1, close);
    t = 'v6' + rest;
  } else if (t.indexOf(':') !== t.lastIndexOf(':')) {
    v6 = t;
    t = 'v6';
  }
  const m = /^([A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d+))?$/.exec(t);
  const port = m && m[2] !== undefined ? Number(m[2]) : NTP_PORT;
  const host = v6 || (m ? m[1] : '');
  const ok = v6 ? /^[0-9a-fA-F:.]+$/.test(v6) : !host.endsWith('-');
  return m && ok && port >= 1 && port <= 65535 ? { host: host, port: port } : null;
}

function fieldError(field: string, message: string): FieldError {
  const e = new Error(field + ': ' + message) as FieldError;
  e.field = field;
  return e;
}

/** Durations may be texts ("34m", "36h") or numbers of seconds; servers strings or { host, port }. */
export interface NodeClientConfigInput {
  servers?: (string | { host: string; port?: number })[];
  minInterval?: string | number;
  maxInterval?: string | number;
  startupDelayMin?: string | number;
  startupDelayMax?: string | number;
  timeout?: string | number;
  maxRootDistance?: string | number;
  accuracy?: string | number;
  lanServer?: boolean;
  adminMinInterval?: string | number;
}

export type ConfigResult = { ok: true; config: ClientConfig } | { ok: false; field: string; message: string };

const DURATIONS: (keyof NodeClientConfigInput & keyof ClientConfigInput)[] = [
  'minInterval', 'maxInterval', 'startupDelayMin', 'startupDelayMax', 'timeout', 'maxRootDistance', 'accuracy',
];

function isFieldError(e: unknown): e is FieldError {
  return e instanceof Error && typeof (e as { field?: unknown }).field === 'string';
}

/** The core's input: durations in seconds (a text that is no duration is refused here, naming the field). */
export function coreConfigInput(input: NodeClientConfigInput): ClientConfigInput {
  const out: ClientConfigInput = { lanServer: input.lanServer };
  for (const field of DURATIONS) {
    const value: unknown = input[field];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string' && typeof value !== 'number') throw fieldError(field, 'expected a duration such as "34m" or a number of seconds');
    const s = parseDurationS(value);
    if (Number.isNaN(s)) throw fieldError(field, 'not a duration: ' + JSON.stringify(value) + ' (write e.g. "34m")');
    out[field] = s;
  }
  const servers: unknown = input.servers;
  if (!Array.isArray(servers) || servers.length === 0) {
    throw fieldError('servers', 'at least one is needed; there is no default (use your own, or your vendor zone of pool.ntp.org)');
  }
  out.servers = servers.map((item: unknown, i) => {
    const spec = item && typeof item === 'object' && typeof (item as { host?: unknown }).host === 'string'
      ? parseServer(hostPort((item as { host: string; port?: unknown }).host, (item as { port?: unknown }).port))
      : parseServer(item);
    if (!spec) throw fieldError('servers[' + i + ']', 'not a host, IP address or host:port: ' + JSON.stringify(item));
    return spec;
  });
  return out;
}

function hostPort(host: string, port: unknown): string {
  return (host.indexOf(':') >= 0 ? '[' + host + ']' : host) + ':' + (port === undefined ? NTP_PORT : String(port));
}

/** The config with defaults filled in, or the first bad field and a message that starts with its name. */
export function validateClientConfig(input: NodeClientConfigInput): ConfigResult {
  try {
    if (!input || typeof input !== 'object') return { ok: false, field: 'config', message: 'config: expected an object' };
    const config = checkClientConfig(coreConfigInput(input));
    // An operator's floor on top of the protocol's, from Node-RED's settings.js: no flow may go under it.
    const admin = input.adminMinInterval;
    const adminS = admin === undefined || admin === null || admin === '' ? 0 : parseDurationS(admin);
    if (!(adminS >= 0 && adminS <= MAX_INTERVAL_S)) throw fieldError('adminMinInterval', 'not a duration: ' + JSON.stringify(admin));
    if (config.minIntervalS < adminS) {
      throw fieldError('minInterval', formatDurationS(config.minIntervalS) + ' is below the administrator\'s floor of ' + formatDurationS(adminS) + ' (kisstimeMinInterval in settings.js)');
    }
    return { ok: true, config: config };
  } catch (e) {
    if (isFieldError(e)) return { ok: false, field: e.field, message: e.message };
    throw e;
  }
}
