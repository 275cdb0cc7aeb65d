// Client configuration: defaults, the politeness floors, and refusal with the field named, before anything is
// sent. Durations are numbers of seconds here: reading "34m" is an adapter's job (src/node/config-input.ts).

import {
  DEFAULT_ACCURACY_S, DEFAULT_MAX_INTERVAL_S, DEFAULT_MAX_ROOT_DISTANCE_S, DEFAULT_MIN_INTERVAL_S, DEFAULT_STARTUP_DELAY_MAX_S,
  DEFAULT_STARTUP_DELAY_MIN_S, DEFAULT_TIMEOUT_S, isPoolName, minIntervalFloorS, PUBLIC_MIN_INTERVAL_FLOOR_S,
} from './policy';

/** 2^20 s (about 12 d): the longest poll interval anyone may configure. */
export const MAX_INTERVAL_S = 1048576;
const MAX_STARTUP_DELAY_S = 86400;

export interface ServerSpec {
  host: string;
  port: number;
}

/** What a user configures, durations in seconds; unset fields take the defaults. */
export interface ClientConfigInput {
  /** ServerSpecs: reading "host:port" texts is each adapter's own job. */
  servers?: unknown;
  minInterval?: unknown;
  maxInterval?: unknown;
  startupDelayMin?: unknown;
  startupDelayMax?: unknown;
  timeout?: unknown;
  maxRootDistance?: unknown;
  /** The error bound the user needs, s: polling is as rare as this allows. */
  accuracy?: unknown;
  /** "This is a LAN server I run": the only way to a minimum interval under 30 min. */
  lanServer?: unknown;
}

export interface ClientConfig {
  servers: ServerSpec[];
  minIntervalS: number;
  maxIntervalS: number;
  startupDelayMinS: number;
  startupDelayMaxS: number;
  timeoutS: number;
  maxRootDistanceS: number;
  accuracyS: number;
  lanServer: boolean;
}

/** An Error whose message starts with the field's name, which it also carries apart for programs. */
export interface FieldError extends Error {
  field: string;
}

export function fieldError(field: string, message: string): FieldError {
  return Object.assign(new Error(field + ': ' + message), { field: field });
}

/** An IPv4 or IPv6 address, as opposed to a name that must be resolved. */
export function isIpAddress(host: string): boolean {
  // Four dotted numbers, written without {n,m}; anything with a colon is IPv6.
  return host.indexOf(':') >= 0 || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}

/** The field in seconds, or the fallback when unset; throws naming the field when it is not in [low, high]. */
function seconds(input: ClientConfigInput, field: keyof ClientConfigInput, fallback: number, low: number, high: number): number {
  const value = input[field];
  const s = value == null ? fallback : value;
  if (typeof s !== 'number' || !(s >= low && s <= high)) {
    throw fieldError(field, typeof s === 'number' && s >= 0 ? 'must be from ' + low + ' to ' + high + ' s' : 'expected seconds');
  }
  return s;
}

/** The config with defaults filled in; throws a FieldError naming the first bad field. */
export function checkClientConfig(input: ClientConfigInput): ClientConfig {
  if (!input || typeof input !== 'object') throw fieldError('config', 'expected an object');
  const list = input.servers;
  if (!Array.isArray(list) || list.length === 0) throw fieldError('servers', 'at least one is needed (there is no default)');
  const servers: ServerSpec[] = [];
  for (var i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    const spec: { host?: unknown; port?: unknown } = item && typeof item === 'object' ? item : {};
    const host = spec.host;
    const port = spec.port;
    if (!(typeof host === 'string' && /^[A-Za-z0-9:][A-Za-z0-9.:-]*$/.test(host) && typeof port === 'number' && port >= 1 && port <= 65535 && port % 1 === 0)) {
      throw fieldError('servers[' + i + ']', 'not a host and port');
    }
    servers.push({ host: host, port: port });
  }
  const lanServer = input.lanServer === true;

  const minIntervalS = seconds(input, 'minInterval', DEFAULT_MIN_INTERVAL_S, 0, MAX_INTERVAL_S);
  for (var j = 0; j < servers.length; j++) {
    const host = servers[j].host;
    const floor = minIntervalFloorS(host, lanServer);
    if (minIntervalS < floor) {
      throw fieldError('minInterval', minIntervalS + ' s is below the floor of ' + floor + ' s' + (isPoolName(host)
        ? ' (NTP Pool rule)'
        : (floor === PUBLIC_MIN_INTERVAL_FLOOR_S ? ' for a server you do not run (lanServer)' : '')));
    }
  }
  const maxIntervalS = seconds(input, 'maxInterval', DEFAULT_MAX_INTERVAL_S < minIntervalS ? minIntervalS : DEFAULT_MAX_INTERVAL_S, minIntervalS, MAX_INTERVAL_S);
  const startupMinS = seconds(input, 'startupDelayMin', DEFAULT_STARTUP_DELAY_MIN_S, 0, MAX_STARTUP_DELAY_S);
  return {
    servers: servers,
    minIntervalS: minIntervalS,
    maxIntervalS: maxIntervalS,
    startupDelayMinS: startupMinS,
    startupDelayMaxS: seconds(input, 'startupDelayMax', startupMinS > DEFAULT_STARTUP_DELAY_MAX_S ? startupMinS : DEFAULT_STARTUP_DELAY_MAX_S, startupMinS, MAX_STARTUP_DELAY_S),
    timeoutS: seconds(input, 'timeout', DEFAULT_TIMEOUT_S, 0.1, 60),
    maxRootDistanceS: seconds(input, 'maxRootDistance', DEFAULT_MAX_ROOT_DISTANCE_S, 0.001, 16),
    accuracyS: seconds(input, 'accuracy', DEFAULT_ACCURACY_S, 0.0001, 3600),
    lanServer: lanServer,
  };
}
