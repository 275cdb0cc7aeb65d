// Client configuration: defaults, and refusal with the field named, before anything is sent.

import { parseDurationS, formatDurationS } from './duration';
import {
  DEFAULT_MAX_INTERVAL_S, DEFAULT_MAX_ROOT_DISTANCE_S, DEFAULT_MIN_INTERVAL_S, DEFAULT_STARTUP_DELAY_MAX_S,
  DEFAULT_STARTUP_DELAY_MIN_S, DEFAULT_TIMEOUT_S, isPoolName, minIntervalFloorS, NTP_PORT, PUBLIC_MIN_INTERVAL_FLOOR_S,
} from './policy';

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

/** "host", "host:port", "1.2.3.4:123", "[::1]:123" or a bare IPv6 address. */
export function parseServer(text: string): ServerSpec | null {
  if (typeof text !== 'string') return null;
  const t = text.trim();
  let host = t;
  let portText = '';
  // Taken apart by hand: Espruino's RegExp has no optional or (?:...) groups.
  const close = t.indexOf(']');
  if (t.charAt(0) === '[' && close > 1) {
    host = t.substring(1, close);
    const rest = t.substring(close + 1);
    if (!/^[0-9a-fA-F:.]+$/.test(host) || (rest !== '' && !/^:\d+$/.test(rest))) return null;
    portText = rest.substring(1);
  } else if (t.indexOf(':') === t.lastIndexOf(':') && t.indexOf(':') > 0) {
    host = t.substring(0, t.indexOf(':'));
    portText = t.substring(t.indexOf(':') + 1);
  }
  const port = portText === '' ? NTP_PORT : parseInt(portText, 10);
  if (!(port >= 1 && port <= 65535) || (portText !== '' && !/^\d+$/.test(portText))) return null;
  if (host.indexOf(':') >= 0) {
    if (!/^[0-9a-fA-F:.]+$/.test(host)) return null;
  } else if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host) || host.charAt(host.length - 1) === '-') {
    return null;
  }
  return { host: host, port: port };
}

function fail(field: string, message: string): ConfigResult {
  return { ok: false, field: field, message: field + ': ' + message };
}

/** "20 min is below the floor of 30 min": the one wording for every floor a value falls under. */
function below(valueS: number, what: string, floorS: number): string {
  return formatDurationS(valueS) + ' is below the ' + what + ' of ' + formatDurationS(floorS);
}

/** The field in seconds: the fallback when it is unset, NaN when it is not a duration. */
function seconds(input: ClientConfigInput, field: keyof ClientConfigInput, fallback: number): number {
  const value = input[field] as string | number | undefined;
  return value === undefined || value === null || value === '' ? fallback : parseDurationS(value);
}

function notDuration(input: ClientConfigInput, field: keyof ClientConfigInput): ConfigResult {
  return fail(field, 'not a duration: ' + JSON.stringify(input[field]) + ' (write e.g. "34m")');
}

export function validateClientConfig(input: ClientConfigInput): ConfigResult {
  if (!input || typeof input !== 'object') return fail('config', 'expected an object');
  const list = input.servers;
  if (!list || typeof list.length !== 'number' || list.length === 0) {
    return fail('servers', 'at least one is needed; there is no default (use your own, or your vendor zone of pool.ntp.org)');
  }
  const servers: ServerSpec[] = [];
  for (var i = 0; i < list.length; i++) {
    const item = list[i];
    const spec = typeof item === 'string' ? parseServer(item) : (item && typeof item.host === 'string' ? parseServer(item.host.indexOf(':') >= 0 ? '[' + item.host + ']:' + (item.port || NTP_PORT) : item.host + ':' + (item.port || NTP_PORT)) : null);
    if (!spec) return fail('servers[' + i + ']', 'not a host, IP address or host:port: ' + JSON.stringify(item));
    servers.push(spec);
  }
  const lanServer = input.lanServer === true;

  const minIntervalS = seconds(input, 'minInterval', DEFAULT_MIN_INTERVAL_S);
  if (!(minIntervalS >= 0)) return notDuration(input, 'minInterval');
  for (var j = 0; j < servers.length; j++) {
    const floor = minIntervalFloorS(servers[j].host, lanServer);
    if (minIntervalS < floor) {
      const why = isPoolName(servers[j].host)
        ? 'pool.ntp.org (NTP Pool rule)'
        : (floor === PUBLIC_MIN_INTERVAL_FLOOR_S ? 'servers you do not run (set lanServer for your LAN server to go lower)' : 'any server');
      return fail('minInterval', below(minIntervalS, 'floor', floor) + ' for ' + why);
    }
  }
  const adminMinS = seconds(input, 'adminMinInterval', 0);
  if (!(adminMinS >= 0)) return notDuration(input, 'adminMinInterval');
  if (minIntervalS < adminMinS) return fail('minInterval', below(minIntervalS, 'administrator\'s floor', adminMinS) + ' (kisstimeMinInterval in settings.js)');

  const maxIntervalS = seconds(input, 'maxInterval', DEFAULT_MAX_INTERVAL_S < minIntervalS ? minIntervalS : DEFAULT_MAX_INTERVAL_S);
  if (!(maxIntervalS >= 0)) return notDuration(input, 'maxInterval');
  if (maxIntervalS < minIntervalS) return fail('maxInterval', below(maxIntervalS, 'minimum interval', minIntervalS));
  if (maxIntervalS > 1048576) return fail('maxInterval', 'at most 2^20 s (12 d)');

  const startupMinS = seconds(input, 'startupDelayMin', DEFAULT_STARTUP_DELAY_MIN_S);
  if (!(startupMinS >= 0)) return notDuration(input, 'startupDelayMin');
  const startupMaxS = seconds(input, 'startupDelayMax', startupMinS > DEFAULT_STARTUP_DELAY_MAX_S ? startupMinS : DEFAULT_STARTUP_DELAY_MAX_S);
  if (!(startupMaxS >= startupMinS)) return fail('startupDelayMax', 'must be a duration, at least startupDelayMin');
  if (startupMaxS > 86400) return fail('startupDelayMax', 'at most 1 d');

  const timeoutS = seconds(input, 'timeout', DEFAULT_TIMEOUT_S);
  if (!(timeoutS >= 0.1 && timeoutS <= 60)) return fail('timeout', 'must be from 0.1 s to 60 s');
  const maxRootDistanceS = seconds(input, 'maxRootDistance', DEFAULT_MAX_ROOT_DISTANCE_S);
  if (!(maxRootDistanceS > 0 && maxRootDistanceS <= 16)) return fail('maxRootDistance', 'must be above 0 s, at most 16 s');

  return {
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
  if (host.indexOf(':') >= 0) return true;
  // Four groups of 1-3 digits, checked by hand: Espruino's RegExp has no {n,m} quantifiers.
  const parts = host.split('.');
  if (parts.length !== 4) return false;
  for (var i = 0; i < 4; i++) {
    if (!/^\d+$/.test(parts[i]) || parts[i].length > 3) return false;
  }
  return true;
}
