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
  if (t === '') return null;
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

function durationOr(value: string | number | undefined, fallback: number): number {
  return value === undefined || value === null || value === '' ? fallback : parseDurationS(value);
}

export function validateClientConfig(input: ClientConfigInput): ConfigResult {
  if (!input || typeof input !== 'object') return fail('config', 'expected an object');
  const list = input.servers;
  if (!list || typeof list.length !== 'number' || list.length === 0) {
    return fail('servers', 'at least one server is needed; Kisstime ships no default (use your own or your vendor zone, e.g. "0.vendor.pool.ntp.org")');
  }
  const servers: ServerSpec[] = [];
  for (var i = 0; i < list.length; i++) {
    const item = list[i];
    const spec = typeof item === 'string' ? parseServer(item) : (item && typeof item.host === 'string' ? parseServer(item.host.indexOf(':') >= 0 ? '[' + item.host + ']:' + (item.port || NTP_PORT) : item.host + ':' + (item.port || NTP_PORT)) : null);
    if (!spec) return fail('servers[' + i + ']', 'not a host name, IP address or host:port: ' + JSON.stringify(item));
    servers.push(spec);
  }
  const lanServer = input.lanServer === true;

  const minIntervalS = durationOr(input.minInterval, DEFAULT_MIN_INTERVAL_S);
  if (!(minIntervalS >= 0)) return fail('minInterval', 'not a duration: ' + JSON.stringify(input.minInterval) + ' (write e.g. "34m")');
  for (var j = 0; j < servers.length; j++) {
    const floor = minIntervalFloorS(servers[j].host, lanServer);
    if (minIntervalS < floor) {
      const why = isPoolName(servers[j].host)
        ? 'pool.ntp.org servers (NTP Pool rule for SNTP clients)'
        : (floor === PUBLIC_MIN_INTERVAL_FLOOR_S ? 'servers you do not run (mark it as your LAN server to go lower)' : 'any server');
      return fail('minInterval', formatDurationS(minIntervalS) + ' is below the floor of ' + formatDurationS(floor) + ' for ' + why);
    }
  }
  const adminMinS = durationOr(input.adminMinInterval, 0);
  if (!(adminMinS >= 0)) return fail('adminMinInterval', 'not a duration: ' + JSON.stringify(input.adminMinInterval));
  if (minIntervalS < adminMinS) {
    return fail('minInterval', formatDurationS(minIntervalS) + ' is below the administrator\'s floor of ' + formatDurationS(adminMinS) + ' (kisstimeMinInterval in settings.js)');
  }

  const maxIntervalS = durationOr(input.maxInterval, DEFAULT_MAX_INTERVAL_S < minIntervalS ? minIntervalS : DEFAULT_MAX_INTERVAL_S);
  if (!(maxIntervalS >= 0)) return fail('maxInterval', 'not a duration: ' + JSON.stringify(input.maxInterval));
  if (maxIntervalS < minIntervalS) return fail('maxInterval', formatDurationS(maxIntervalS) + ' is below the minimum interval of ' + formatDurationS(minIntervalS));
  if (maxIntervalS > 1048576) return fail('maxInterval', 'at most 2^20 s (about 12 days)');

  const startupMinS = durationOr(input.startupDelayMin, DEFAULT_STARTUP_DELAY_MIN_S);
  if (!(startupMinS >= 0)) return fail('startupDelayMin', 'not a duration: ' + JSON.stringify(input.startupDelayMin));
  const startupMaxS = durationOr(input.startupDelayMax, startupMinS > DEFAULT_STARTUP_DELAY_MAX_S ? startupMinS : DEFAULT_STARTUP_DELAY_MAX_S);
  if (!(startupMaxS >= startupMinS)) return fail('startupDelayMax', 'must be a duration no smaller than startupDelayMin');
  if (startupMaxS > 86400) return fail('startupDelayMax', 'at most 1 day');

  const timeoutS = durationOr(input.timeout, DEFAULT_TIMEOUT_S);
  if (!(timeoutS >= 0.1 && timeoutS <= 60)) return fail('timeout', 'must be between 0.1 s and 60 s');
  const maxRootDistanceS = durationOr(input.maxRootDistance, DEFAULT_MAX_ROOT_DISTANCE_S);
  if (!(maxRootDistanceS > 0 && maxRootDistanceS <= 16)) return fail('maxRootDistance', 'must be above 0 and at most 16 s');

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
