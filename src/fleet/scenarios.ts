// The named worst days. A scenario says when each device is powered, and what the servers and DNS do when;
// the policies under test never see it, they only see the network's answers.

import { unitHash } from './random';

export type ScenarioName = 'steady' | 'blackout' | 'firmware-update' | 'outage' | 'deny' | 'rate-limit' | 'dns-failure' | 'reboot-loop';

export const SCENARIO_NAMES: ScenarioName[] = ['steady', 'blackout', 'firmware-update', 'outage', 'deny', 'rate-limit', 'dns-failure', 'reboot-loop'];

export interface RateLimitPlan {
  /** The server that limits (index). */
  server: number;
  /** chrony `ratelimit interval`: log2 of the mean seconds between responses to one client address. */
  intervalLog2: number;
  /** chrony `ratelimit burst`: responses a quiet client address may take back to back. */
  burst: number;
  /** chrony `ratelimit leak`: one limited request in 2^leak is answered anyway. */
  leakLog2: number;
  /** What a limited request gets: a RATE kiss (ntpd `limited kod` style) or silence (chrony). */
  limited: 'rate-kiss' | 'drop';
  /** Devices per client address (a site behind one NAT address shares one bucket, as chrony limits per IP). */
  devicesPerAddress: number;
}

export interface ScenarioOptions {
  /** Hours the servers are down (outage) or DNS fails (dns-failure). Default 6. */
  hours?: number;
  /** Share of devices a server denies (deny) or that reboot in a loop (reboot-loop). */
  fraction?: number;
  /** Minutes between reboots in a loop. Default 5. */
  rebootEveryMin?: number;
  /** Devices behind one NAT address in the rate-limit scenario. Default 1000. */
  devicesPerAddress?: number;
  /** What a limited request gets in the rate-limit scenario. Default a RATE kiss. */
  limited?: 'rate-kiss' | 'drop';
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  durationMs: number;
  /** The moment the scenario's event starts; "after" metrics count from here. */
  eventMs: number;
  /** When the event is over (power back, servers back): peaks "after" are measured from here. */
  recoveryMs: number;
  /** True where the event takes time away and gives it back (blackout, update, outage, DNS failure): recovery times are measured. */
  hasRecovery: boolean;
  /** Initial power-on times are spread uniformly over [0, staggerMs): installs, not a mass event. */
  staggerMs: number;
  /** All servers silent in [outageFromMs, outageToMs). */
  outageFromMs: number;
  outageToMs: number;
  /** Every DNS lookup fails in [dnsDownFromMs, dnsDownToMs). */
  dnsDownFromMs: number;
  dnsDownToMs: number;
  /** From denyFromMs, server denyServer answers DENY to devices where isDenied(i). */
  denyServer: number;
  denyFromMs: number;
  denyFraction: number;
  rateLimit: RateLimitPlan | null;
  /** The first power-off of device i strictly after afterMs (Infinity if none), and how long it stays off. */
  nextOffMs: (device: number, afterMs: number) => number;
  offForMs: (device: number) => number;
  firstOnMs: (device: number) => number;
  isDenied: (device: number) => boolean;
}

const HOUR_MS = 3600e3;
const DAY_MS = 86400e3;
const SALT_START = 11;
const SALT_DENY = 12;
const SALT_LOOP = 13;
const SALT_PHASE = 14;
const SALT_UPDATE = 15;

export function makeScenario(name: ScenarioName, days: number, seed: number, options: ScenarioOptions): Scenario {
  const durationMs = days * DAY_MS;
  // A day of ordinary life first when the run is long enough, so the event hits a fleet in its steady state.
  const eventMs = days >= 2 ? DAY_MS : durationMs / 2;
  const hours = options.hours ?? 6;
  const fraction = options.fraction ?? (name === 'deny' ? 0.2 : 0.1);
  const s: Scenario = {
    name: name,
    description: '',
    durationMs: durationMs,
    eventMs: eventMs,
    recoveryMs: eventMs,
    hasRecovery: false,
    staggerMs: Math.min(eventMs, DAY_MS) * 0.9,
    outageFromMs: Infinity,
    outageToMs: Infinity,
    dnsDownFromMs: Infinity,
    dnsDownToMs: Infinity,
    denyServer: 0,
    denyFromMs: Infinity,
    denyFraction: 0,
    rateLimit: null,
    nextOffMs: () => Infinity,
    offForMs: () => 0,
    firstOnMs: (i) => unitHash(seed, i, SALT_START) * s.staggerMs,
    isDenied: () => false,
  };
  switch (name) {
    case 'steady':
      s.description = 'devices installed over the first day, then ordinary operation';
      s.eventMs = 0;
      s.recoveryMs = 0;
      break;
    case 'blackout': {
      const offMs = HOUR_MS;
      s.description = 'every device loses power at the event and all come back in the same instant 1 h later';
      s.recoveryMs = eventMs + offMs;
      s.hasRecovery = true;
      s.nextOffMs = (_i, after) => (after < eventMs ? eventMs : Infinity);
      s.offForMs = () => offMs;
      break;
    }
    case 'firmware-update':
      s.description = 'a fleet-wide update reboots every device within one minute (20 s down each), persisted state kept';
      s.recoveryMs = eventMs + 80e3;
      s.hasRecovery = true;
      s.nextOffMs = (i, after) => {
        const at = eventMs + unitHash(seed, i, SALT_UPDATE) * 60e3;
        return after < at ? at : Infinity;
      };
      s.offForMs = () => 20e3;
      break;
    case 'outage':
      s.description = 'every server is silent for ' + hours + ' h, then recovers';
      s.outageFromMs = eventMs;
      s.outageToMs = eventMs + hours * HOUR_MS;
      s.recoveryMs = s.outageToMs;
      s.hasRecovery = true;
      break;
    case 'deny':
      s.description = 'from the event, server 0 answers DENY to ' + Math.round(fraction * 100) + ' % of devices';
      s.denyFromMs = eventMs;
      s.denyFraction = fraction;
      s.isDenied = (i) => unitHash(seed, i, SALT_DENY) < fraction;
      break;
    case 'rate-limit': {
      const perAddress = options.devicesPerAddress ?? 1000;
      const limited = options.limited ?? 'rate-kiss';
      s.description = 'server 0 rate-limits like chrony (interval 2^3 s, burst 8, leak 1 in 4) per client address, ' + perAddress +
        ' devices behind each NAT address; limited requests get ' + (limited === 'rate-kiss' ? 'a RATE kiss' : 'no answer');
      s.eventMs = 0;
      s.recoveryMs = 0;
      s.rateLimit = { server: 0, intervalLog2: 3, burst: 8, leakLog2: 2, limited: limited, devicesPerAddress: perAddress };
      break;
    }
    case 'dns-failure':
      s.description = 'every DNS lookup fails for ' + hours + ' h';
      s.dnsDownFromMs = eventMs;
      s.dnsDownToMs = eventMs + hours * HOUR_MS;
      s.recoveryMs = s.dnsDownToMs;
      s.hasRecovery = true;
      break;
    case 'reboot-loop': {
      const periodMs = (options.rebootEveryMin ?? 5) * 60e3;
      s.description = Math.round(fraction * 100) + ' % of devices reboot every ' + periodMs / 60e3 + ' min from the event on (20 s down each)';
      s.nextOffMs = (i, after) => {
        if (unitHash(seed, i, SALT_LOOP) >= fraction) return Infinity;
        const first = eventMs + unitHash(seed, i, SALT_PHASE) * periodMs;
        if (after < first) return first;
        return first + (Math.floor((after - first) / periodMs) + 1) * periodMs;
      };
      s.offForMs = () => 20e3;
      break;
    }
  }
  return s;
}
