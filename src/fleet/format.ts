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

/** The crystals and the network, in one line. */
export function worldOf(r: FleetResult): string {
  const c = r.clocks;
  return 'crystals ±' + n(c.driftPpm, 1) + ' ppm static, 0-' + n(c.diurnalPpm, 1) + ' ppm daily temperature swing, ' + n(c.wanderPpm, 2) + ' ppm/day wander; ' +
    n(r.lossShare * 100, 1) + ' % of exchanges lost';
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
    '  world:     ' + worldOf(r),
    '  within ' + n(r.accuracy.targetS * 1000, 0) + ' ms: ' + n(r.accuracy.meanWithinShare * 100, 1) + ' % of powered device-time, lowest census ' +
      n(r.accuracy.minWithinShare * 100, 1) + ' %',
  ];
  const rec = r.recovery;
  if (rec) {
    lines.push('  recovery (from ' + seconds(rec.atS) + '): back within target p50 ' + seconds(rec.timeToWithinS.p50) + ', p99 ' + seconds(rec.timeToWithinS.p99) +
      ', max ' + seconds(rec.timeToWithinS.max) + (rec.timeToWithinS.missing ? ' (' + n(rec.timeToWithinS.missing, 0) + ' never)' : '') +
      '; within target after 10 min ' + n(rec.shareAt10Min * 100, 1) + ' %, after 30 min ' + n(rec.shareAt30Min * 100, 1) + ' %; 99 % from ' +
      (rec.minutesTo99 === rec.minutesTo99 ? n(rec.minutesTo99, 0) + ' min' : 'never within 2 h'));
  }
  lines.push(
    '  requests after a DENY: ' + n(r.deny.requestsAfterDeny, 0) + ' (' + n(r.deny.devicesDenied, 0) + ' devices denied)',
    '  requests under the 15 s floor (per device and server): ' + n(r.floorViolations, 0),
    '  DNS queries: ' + n(r.dns.queries, 0) + ' (peak ' + n(r.dns.peakPerS, 0) + '/s); kisses sent: RATE ' + n(r.kissesSent.rate, 0) + ', DENY ' + n(r.kissesSent.deny, 0),
    '  runtime: ' + n(r.runtime.wallMs / 1000, 1) + ' s wall, ' + n(r.runtime.cpuMs / 1000, 1) + ' s CPU, ' + r.runtime.workers + ' worker(s), ' + n(r.runtime.events, 0) + ' events, peak RSS ' + n(r.runtime.maxRssMB, 0) + ' MB',
  );
  return lines.join('\n') + '\n';
}
