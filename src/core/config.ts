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

/** "host", "host:port", "1.2.3.4:123", "[::1]:123" or a bare IPv6 address; the firmware build takes no IPv6. */
export function parseServer(text: string): ServerSpec | null {
  // The firmware's only caller passes a string.
  if (typeof KISSTIME_FIRMWARE === 'undefined' && typeof text !== 'string') return null;
  let t = text.trim();
  let v6 = '';
  if (typeof KISSTIME_FIRMWARE === 'undefined') {
    // An IPv6 address stands in as the name "v6" for the one pattern below: in brackets with an optional port,
    // or bare (two colons or more) without one.
    const close = t.indexOf(']');
    const rest = t.substring(close + 1);
    if (t.charAt(0) === '[') {
      if (close < 2 || (rest !== '' && !/^:\d+$/.test(rest))) return null;
      v6 = t.substring(1, close);
      t = 'v6' + rest;
    } else if (t.indexOf(':') !== t.lastIndexOf(':')) {
      v6 = t;
      t = 'v6';
    }
  }
  // One colon at most from here: "host" gets the default port.
  const m = /^([A-Za-z0-9][A-Za-z0-9.-]*):(\d*)$/.exec(t.indexOf(':') < 0 ? t + ':' : t);
  const port = m && m[2] !== '' ? +m[2] : NTP_PORT;
  const host = v6 || (m ? m[1] : '');
  const ok = v6 ? /^[0-9a-fA-F:.]+$/.test(v6) : !/-$/.test(host);
  return m && ok && port >= 1 && port <= 65535 ? { host: host, port: port } : null;
}

/** What checkClientConfig throws in Node builds; validateClientConfig turns it into a ConfigResult. */
class ConfigProblem {
  constructor(readonly field: string, readonly message: string) {}
}

/**
 * Throws for the first bad field, with a message that starts with the field's name: an Error in the firmware
 * build (the board throws it at start), a ConfigProblem elsewhere. The firmware's messages are shorter.
 */
export function fail(field: string, message: string): never {
  throw typeof KISSTIME_FIRMWARE === 'undefined' ? new ConfigProblem(field, field + ': ' + message) : new Error(field + ': ' + message);
}

/** "20 min is below the floor of 30 min": the one wording for every floor a value falls under. */
function below(valueS: number, what: string, floorS: number): string {
  // A board prints plain seconds, so its bundle needs no formatDurationS.
  if (typeof KISSTIME_FIRMWARE !== 'undefined') return valueS + ' s is below the ' + what + ' of ' + floorS + ' s';
  return formatDurationS(valueS) + ' is below the ' + what + ' of ' + formatDurationS(floorS);
}

/** The config with defaults filled in; throws (see fail) naming the first bad field. */
export function checkClientConfig(input: ClientConfigInput): ClientConfig {
  // The firmware's only caller passes the object it merged the config into.
  if (typeof KISSTIME_FIRMWARE === 'undefined' && (!input || typeof input !== 'object')) fail('config', 'expected an object');
  /** The field in seconds (the fallback when unset); a field out of [low, high] fails. */
  const seconds = (field: keyof ClientConfigInput, fallback: number, low: number, high: number): number => {
    const value = input[field] as string | number | undefined;
    const s = value == null || value === '' ? fallback : parseDurationS(value);
    if (!(s >= low && s <= high)) {
      fail(field, typeof KISSTIME_FIRMWARE !== 'undefined'
        ? (s >= 0 ? 'expected ' + low + ' to ' + high + ' s' : 'expected seconds')
        : (s >= 0 ? 'must be from ' + formatDurationS(low) + ' to ' + formatDurationS(high) : 'not a duration: ' + JSON.stringify(value) + ' (write e.g. "34m")'));
    }
    return s;
  };
  const list = input.servers;
  if (!(list && list.length > 0) || (typeof KISSTIME_FIRMWARE === 'undefined' && typeof list.length !== 'number')) {
    fail('servers', typeof KISSTIME_FIRMWARE !== 'undefined' ? 'at least one is needed'
      : 'at least one is needed; there is no default (use your own, or your vendor zone of pool.ntp.org)');
  }
  const servers: ServerSpec[] = [];
  for (var i = 0; i < (list as unknown[]).length; i++) {
    const item = (list as (string | ServerSpec)[])[i];
    let spec: ServerSpec | null = null;
    if (typeof item === 'string') spec = parseServer(item);
    // { host, port } objects too, but not in the firmware build, which takes only "host" and "host:port" strings.
    // Quoted: the firmware build shortens unquoted property names, and these come from the user's config.
    else if (typeof KISSTIME_FIRMWARE === 'undefined' && item && typeof item === 'object' && typeof item['host'] === 'string') {
      const host = item['host'];
      spec = parseServer((host.indexOf(':') >= 0 ? '[' + host + ']' : host) + ':' + (item['port'] || NTP_PORT));
    }
    if (!spec) {
      fail('servers[' + i + ']', typeof KISSTIME_FIRMWARE !== 'undefined' ? 'not a host or host:port'
        : 'not a host, IP address or host:port: ' + JSON.stringify(item));
    }
    servers.push(spec);
  }
  const lanServer = input.lanServer === true;

  const minIntervalS = seconds('minInterval', DEFAULT_MIN_INTERVAL_S, 0, Infinity);
  for (var j = 0; j < servers.length; j++) {
    const floor = minIntervalFloorS(servers[j].host, lanServer);
    if (minIntervalS < floor) {
      const why = typeof KISSTIME_FIRMWARE !== 'undefined' ? '' : ' for ' + (isPoolName(servers[j].host)
        ? 'pool.ntp.org (NTP Pool rule)'
        : (floor === PUBLIC_MIN_INTERVAL_FLOOR_S ? 'servers you do not run (set lanServer for your LAN server to go lower)' : 'any server'));
      fail('minInterval', below(minIntervalS, 'floor', floor) + why);
    }
  }
  if (typeof KISSTIME_FIRMWARE === 'undefined') {
    const adminMinS = seconds('adminMinInterval', 0, 0, Infinity);
    if (minIntervalS < adminMinS) fail('minInterval', below(minIntervalS, 'administrator\'s floor', adminMinS) + ' (kisstimeMinInterval in settings.js)');
  }
  const maxIntervalS = seconds('maxInterval', DEFAULT_MAX_INTERVAL_S < minIntervalS ? minIntervalS : DEFAULT_MAX_INTERVAL_S, minIntervalS, MAX_INTERVAL_S);
  const startupMinS = seconds('startupDelayMin', DEFAULT_STARTUP_DELAY_MIN_S, 0, MAX_STARTUP_DELAY_S);
  return {
    servers: servers,
    minIntervalS: minIntervalS,
    maxIntervalS: maxIntervalS,
    startupDelayMinS: startupMinS,
    startupDelayMaxS: seconds('startupDelayMax', startupMinS > DEFAULT_STARTUP_DELAY_MAX_S ? startupMinS : DEFAULT_STARTUP_DELAY_MAX_S, startupMinS, MAX_STARTUP_DELAY_S),
    timeoutS: seconds('timeout', DEFAULT_TIMEOUT_S, 0.1, 60),
    maxRootDistanceS: seconds('maxRootDistance', DEFAULT_MAX_ROOT_DISTANCE_S, 0.001, 16),
    lanServer: lanServer,
  };
}

/** The config with defaults filled in, or the first bad field and a message that starts with its name. */
export function validateClientConfig(input: ClientConfigInput): ConfigResult {
  try {
    return { ok: true, config: checkClientConfig(input) };
  } catch (e) {
    if (e instanceof ConfigProblem) return { ok: false, field: e.field, message: e.message };
    throw e;
  }
}

export function isIpAddress(host: string): boolean {
  // Four dotted numbers, written without {n,m}, which Espruino's RegExp lacks; anything with a colon is IPv6,
  // which the firmware build never accepts (Espruino's dgram is IPv4): there it is no address.
  return (typeof KISSTIME_FIRMWARE === 'undefined' && host.indexOf(':') >= 0) || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}
