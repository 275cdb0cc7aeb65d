// A fleet result as a few lines a person reads (the CLI without --json).

import { FleetResult } from './summary';

function n(v: number, digits: number): string {
  if (v === Infinity) return 'inf';
  if (v !== v) return '-';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function seconds(v: number): string {
  if (v !== v) return '-';
  if (v < 120) return n(v, 1) + ' s';
  if (v < 7200) return n(v / 60, 1) + ' min';
  return n(v / 3600, 1) + ' h';
}

export function formatResult(r: FleetResult): string {
  const l = r.serverLoad;
  const lines = [
    r.policy + ' / ' + r.scenario + ': ' + n(r.devices, 0) + ' devices, ' + n(r.days, 2) + ' virtual days (seed ' + r.seed + ')',
    '  policy:    ' + r.policyLabel,
    '  scenario:  ' + r.scenarioDescription,
    '  server load (busiest server, requests/s): peak ' + n(l.whole.peakPerS, 0) + ', p99 ' + n(l.whole.p99PerS, 0) + ', mean ' + n(l.whole.meanPerS, 3) +
      (r.eventAtS > 0 ? '; from the event on: peak ' + n(l.afterEvent.peakPerS, 0) : ''),
    '  requests per device per day: mean ' + n(r.requestsPerDevicePerDay.mean, 2) + ', p99 ' + n(r.requestsPerDevicePerDay.p99, 1) + ', max ' + n(r.requestsPerDevicePerDay.max, 1),
    '  time to first sync: p50 ' + seconds(r.timeToFirstSyncS.p50) + ', p90 ' + seconds(r.timeToFirstSyncS.p90) + ', p99 ' + seconds(r.timeToFirstSyncS.p99) +
      ', max ' + seconds(r.timeToFirstSyncS.max) + (r.timeToFirstSyncS.missing ? ' (' + n(r.timeToFirstSyncS.missing, 0) + ' never)' : ''),
    '  within ' + n(r.accuracy.targetS * 1000, 0) + ' ms (clocks ±' + r.accuracy.driftPpm + ' ppm): mean share ' + n(r.accuracy.meanWithinShare * 100, 1) + ' %, lowest ' +
      n(r.accuracy.minWithinShare * 100, 1) + ' %',
    '  requests after a DENY: ' + n(r.deny.requestsAfterDeny, 0) + ' (' + n(r.deny.devicesDenied, 0) + ' devices denied)',
    '  requests under the 15 s floor (per device and server): ' + n(r.floorViolations, 0),
    '  DNS queries: ' + n(r.dns.queries, 0) + ' (peak ' + n(r.dns.peakPerS, 0) + '/s); kisses sent: RATE ' + n(r.kissesSent.rate, 0) + ', DENY ' + n(r.kissesSent.deny, 0),
    '  runtime: ' + n(r.runtime.wallMs / 1000, 1) + ' s wall, ' + n(r.runtime.cpuMs / 1000, 1) + ' s CPU, ' + r.runtime.workers + ' worker(s), ' + n(r.runtime.events, 0) + ' events, peak RSS ' + n(r.runtime.maxRssMB, 0) + ' MB',
  ];
  return lines.join('\n') + '\n';
}
