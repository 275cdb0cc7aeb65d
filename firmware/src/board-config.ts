// What a board accepts as config: servers as "host" or "host:port" texts, durations in seconds, and the core's
// rules. Espruino's dgram is IPv4 only, and without the Wifi module nothing can resolve a name, which must then never
// reach dgram.send (a failed lookup in there becomes a broadcast on ESP8266). Used by the adapter and by the
// desk-side check of the upload tools, so the desk and the board agree.

import { checkClientConfig, ClientConfig, ClientConfigInput, fieldError, isIpAddress } from '../../src/core/config';
import { NTP_PORT } from '../../src/core/policy';
import { stepThresholdS } from './set-clock';

export interface FirmwareConfig extends ClientConfigInput {
  /** Step the clock with setTime when |offset| is over this many seconds; true means 1 s. */
  setClock?: unknown;
}

export interface BoardConfig {
  client: ClientConfig;
  stepAboveS: number;
}

/** The checked config; throws an Error naming the first bad field. canResolve: the board has Wifi.getHostByName. */
export function boardConfig(input: FirmwareConfig, canResolve: boolean): BoardConfig {
  const list = input.servers;
  const specs = Array.isArray(list) ? list.map((item: unknown, i) => {
    // One colon at most, written without the (?:) and ? that Espruino's RegExp lacks: "host" gets the default port.
    const m = typeof item === 'string' ? /^([A-Za-z0-9][A-Za-z0-9.-]*):(\d*)$/.exec(item.indexOf(':') < 0 ? item + ':' : item) : null;
    if (!m || (!canResolve && !isIpAddress(m[1]))) {
      throw fieldError('servers[' + i + ']', m ? 'no Wifi here to resolve names: use an IP address' : 'expected "host" or "host:port"');
    }
    return { host: m[1], port: m[2] ? +m[2] : NTP_PORT };
  }) : list;
  const checked: ClientConfigInput = {};
  for (var key in input) (checked as { [key: string]: unknown })[key] = (input as { [key: string]: unknown })[key];
  checked.servers = specs;
  return { client: checkClientConfig(checked), stepAboveS: stepThresholdS(input.setClock) };
}
