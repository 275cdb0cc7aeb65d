// Client configuration: defaults, and refusal with the field named, before anything is sent.

import { parseDurationS, formatDurationS } from './duration';
import {
  DEFAULT_MAX_INTERVAL_S, DEFAULT_MAX_ROOT_DISTANCE_S, DEFAULT_MIN_INTERVAL_S, DEFAULT_STARTUP_DELAY_MAX_S,
  DEFAULT_STARTUP_DELAY_MIN_S, DEFAULT_TIMEOUT_S, isPoolName, minIntervalFloorS, NTP_PORT, PUBLIC_MIN_INTERVAL_FLOOR_S,
} from './policy';

/** 2^20 s (about 12 d): the longest poll interval anyone may configure. */
const MAX_INTERVAL_S = 1048576;
const MAX_STARTUP_DELAY_S = 86400;

export interface ServerSpec {
  host: string;
  port: number;
}

export interface ClientConfigInput {
  servers?: (string | ServerSpec)[];
  minInterval?: string | number;
  maxInterval?: string | number;
  startupDelayMin?: string | number;
  startupDelayMax?: string | number;
  timeout?: string | number;
  maxRootDistance?: string | number;
  /** "This is a LAN server I run": the only way to a minimum interval under 30 min. */
  lanServer?: boolean;
  /** An operator's floor that no flow or fleet config can go under (Node-RED settings.js). */
  adminMinInterval?: string | number;
}

export interface ClientConfig {
  servers: ServerSpec[];
  minIntervalS: number;
  maxIntervalS: number;
  startupDelayMinS: number;
  startupDelayMaxS: number;
  timeoutS: number;
  maxRootDistanceS: number;
  lanServer: boolean;
}

export type ConfigResult = { ok: true; config: ClientConfig } | { ok: false; field: string; message: string };

/**
 * Defined as true by the firmware build only (firmware/build.js), which leaves out what a board cannot use:
 * IPv6 literals (Espruino's dgram is IPv4) and the Node-RED administrator's floor.
 */
declare const KISSTIME_FIRMWARE: boolean;

/** "host", "host:port", "1.2.3.4:123", "[::1]:123" or a bare IPv6 address. */
export function parseServer(text: string): ServerSpec | null {
  if (typeof text !== 'string') return null;
  const t = text.trim();
  let host = t;
  let portText = '';
  // Taken apart by hand: Espruino's RegExp has no optional or (?:...) groups.
  const colon = t.indexOf(':');
  const close = t.indexOf(']');
  if (typeof KISSTIME_FIRMWARE === 'undefined' && t.charAt(0) === '[') {
    host = t.substring(1, close);
    portText = t.substring(close + 1);
    if (close < 2 || (portText !== '' && portText.charAt(0) !== ':')) return null;
    portText = portText.substring(1);
    if (portText === '') portText = 'none';
  } else if (colon > 0 && colon === t.lastIndexOf(':')) {
    host = t.substring(0, colon);
    portText = t.substring(colon + 1);
  }
  const port = portText === '' ? NTP_PORT : (/^\d+$/.test(portText) ? +portText : 0);
  const ok = host.indexOf(':') >= 0
    ? typeof KISSTIME_FIRMWARE === 'undefined' && /^[0-9a-fA-F:.]+$/.test(host)
    : /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host) && host.charAt(host.length - 1) !== '-';
  return ok && port >= 1 && port <= 65535 ? { host: host, port: port } : null;
}

function fail(field: string, message: string): ConfigResult {
  return { ok: false, field: field, message: field + ': ' + message };
}

/** "20 min is below the floor of 30 min": the one wording for every floor a value falls under. */
function below(valueS: number, what: string, floorS: number): string {
  return formatDurationS(valueS) + ' is below the ' + what + ' of ' + formatDurationS(floorS);
}

export function validateClientConfig(input: ClientConfigInput): ConfigResult {
  if (!input || typeof input !== 'object') return fail('config', 'expected an object');
  let problem: ConfigResult | null = null;
  /** The field in seconds (the fallback when unset); the first field out of [low, high] becomes the problem. */
  const seconds = (field: keyof ClientConfigInput, fallback: number, low: number, high: number): number => {
    const value = input[field] as string | number | undefined;
    const s = value === undefined || value === null || value === '' ? fallback : parseDurationS(value);
    if (!problem && !(s >= low && s <= high)) {
      problem = fail(field, s >= 0 ? 'must be from ' + formatDurationS(low) + ' to ' + formatDurationS(high) : 'not a duration: ' + JSON.stringify(value) + ' (write e.g. "34m")');
    }
    return s;
  };
  const list = input.servers;
  if (!list || typeof list.length !== 'number' || list.length === 0) {
    return fail('servers', 'at least one is needed; there is no default (use your own, or your vendor zone of pool.ntp.org)');
  }
  const servers: ServerSpec[] = [];
  for (var i = 0; i < list.length; i++) {
    const item = list[i];
    // Quoted: the firmware build shortens unquoted property names, and these come from the user's config.
    const given = item && typeof item === 'object' ? item : null;
    const host = given ? given['host'] : null;
    const port = given ? given['port'] || NTP_PORT : 0;
    const spec = parseServer(typeof item === 'string' ? item : (typeof host === 'string' ? (host.indexOf(':') >= 0 ? '[' + host + ']:' : host + ':') + port : ''));
    if (!spec) return fail('servers[' + i + ']', 'not a host, IP address or host:port: ' + JSON.stringify(item));
    servers.push(spec);
  }
  const lanServer = input.lanServer === true;

  const minIntervalS = seconds('minInterval', DEFAULT_MIN_INTERVAL_S, 0, Infinity);
  if (problem) return problem;
  for (var j = 0; j < servers.length; j++) {
    const floor = minIntervalFloorS(servers[j].host, lanServer);
    if (minIntervalS < floor) {
      const why = isPoolName(servers[j].host)
        ? 'pool.ntp.org (NTP Pool rule)'
        : (floor === PUBLIC_MIN_INTERVAL_FLOOR_S ? 'servers you do not run (set lanServer for your LAN server to go lower)' : 'any server');
      return fail('minInterval', below(minIntervalS, 'floor', floor) + ' for ' + why);
    }
  }
  if (typeof KISSTIME_FIRMWARE === 'undefined') {
    const adminMinS = seconds('adminMinInterval', 0, 0, Infinity);
    if (minIntervalS < adminMinS) return fail('minInterval', below(minIntervalS, 'administrator\'s floor', adminMinS) + ' (kisstimeMinInterval in settings.js)');
  }
  const maxIntervalS = seconds('maxInterval', DEFAULT_MAX_INTERVAL_S < minIntervalS ? minIntervalS : DEFAULT_MAX_INTERVAL_S, minIntervalS, MAX_INTERVAL_S);
  const startupMinS = seconds('startupDelayMin', DEFAULT_STARTUP_DELAY_MIN_S, 0, MAX_STARTUP_DELAY_S);
  const startupMaxS = seconds('startupDelayMax', startupMinS > DEFAULT_STARTUP_DELAY_MAX_S ? startupMinS : DEFAULT_STARTUP_DELAY_MAX_S, startupMinS, MAX_STARTUP_DELAY_S);
  const timeoutS = seconds('timeout', DEFAULT_TIMEOUT_S, 0.1, 60);
  const maxRootDistanceS = seconds('maxRootDistance', DEFAULT_MAX_ROOT_DISTANCE_S, 0.001, 16);
  return problem || {
    ok: true,
    config: {
      servers: servers,
      minIntervalS: minIntervalS,
      maxIntervalS: maxIntervalS,
      startupDelayMinS: startupMinS,
      startupDelayMaxS: startupMaxS,
      timeoutS: timeoutS,
      maxRootDistanceS: maxRootDistanceS,
      lanServer: lanServer,
    },
  };
}

export function isIpAddress(host: string): boolean {
  // Four dotted numbers, written without {n,m}, which Espruino's RegExp lacks; anything with a colon is IPv6.
  return host.indexOf(':') >= 0 || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}
