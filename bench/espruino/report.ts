// The espruino part of bench/RESULTS.md: RAM and flash of Kisstime beside Espruino's sntp module.

import type { EspruinoBenchResult, ModuleResult } from './run';

function at(m: ModuleResult, s: number): number | undefined {
  const point = m.readings.series.find(([t]) => t === s);
  return point ? point[1] : undefined;
}

/** From the running reading on: the change to the last reading, the range, and from when the readings stay at the last. */
function flatness(m: ModuleResult, fromS: number): string {
  const after = m.readings.series.filter(([t]) => t >= fromS).map(([t, v]) => [t, v]);
  if (after.length < 2) return '-';
  const values = after.map(([, v]) => v);
  const last = values[values.length - 1];
  let since = after[after.length - 1][0];
  for (let i = after.length - 1; i >= 0 && after[i][1] === last; i--) since = after[i][0];
  const change = last - values[0];
  return (change > 0 ? '+' : '') + change + ' (' + Math.min(...values) + '-' + Math.max(...values) + '), at ' + last + ' from ' + since + ' s on';
}

function duration(s: number): string {
  return s % 60 === 0 ? s / 60 + ' min' : s + ' s';
}

export function espruinoMarkdown(r: EspruinoBenchResult): string {
  const md: string[] = [];
  const lastS = r.plan.seriesForS;
  md.push('## RAM and flash on the Espruino interpreter', '');
  md.push('Espruino ' + r.interpreter + ' (the Linux build of the board firmware, `../shared/espruino/espruino`), both modules in the same run, each against its own chronyd on ' +
    'loopback, each polling every 16 s (Kisstime: a LAN server, minInterval = maxInterval = 16 s; sntp: clockSyncRefresh 16 s). Each module is written to Storage by one run of the ' +
    'interpreter and `require`d from there by the next run in the same directory, as a board loads it (function bodies stay in flash). Figures are variables in use ' +
    '(`process.memory().usage`, after a garbage collection) **over the level before `require`**; a variable is 27 bytes on this 64-bit build and 12-14 bytes on boards ' +
    '(an ESP8266 has about 1,600-1,700 in all).', '');
  md.push('| module | minified bytes | after require | after start | running (60 s after first sync) | peak during a sync | after ' + duration(lastS) + ' | change after 60 s (range), level | requests |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const m of r.modules) {
    md.push('| ' + m.label + ' | ' + m.minifiedBytes + ' | ' + m.readings.afterRequire + ' | ' + m.readings.afterStart + ' | **' + at(m, 60) + '** | ' +
      (m.readings.peak === null ? '-' : m.readings.peak) + ' | ' + at(m, lastS) + ' | ' + flatness(m, 60) + ' | ' + m.requests + ' |');
  }
  md.push('');
  md.push('Readings every ' + r.plan.seriesEveryS + ' s from the first sync (each half a second later, so that none falls on the 16-s grid on which sntp syncs):', '');
  for (const m of r.modules) md.push('- ' + m.label + ': ' + m.readings.series.map(([, v]) => v).join(', '));
  md.push('');
  md.push('- Both run the same measuring script (bench/espruino/measure.ts); its own variables are in the baseline (' + r.modules.map((m) => m.readings.base).join(' and ') +
    ' before `require`). "After start" is read right after `start()` returns (sntp has its first request in flight then). Kisstime\'s `start()` gets its config as an ' +
    'argument, and one `sync` handler is attached; sntp gets a callback.');
  md.push('- Peak: after the ' + duration(lastS) + ' series, a sampler reads the usage every 5 ms for ' + r.plan.peakForS + ' s (at least one sync of each); its own ' +
    'variables (its interval timer) are taken out. It samples between callbacks, so a higher peak inside a callback would not show.');
  md.push('- Minified bytes: Kisstime\'s `kisstime.min.js` from `npm run firmware:build`; the sntp anchor (`../shared/anchors/espruino-sntp.js`, loaded from there) minified the ' +
    'same way (`minifyModule` in firmware/build.js: esbuild\'s minifier with the bundle\'s target, then the same UglifyJS pass; property names kept). Its README quotes 4,084 B with terser.');
  md.push('- Requests: what each chronyd received (`chronyc clients`) over the run of ' + ((r.wallMs / 1000) | 0) + ' s. Espruino\'s sntp does none of what Kisstime does ' +
    '(no kiss handling, no backoff, the real clock in every request), so its figures are a floor, not a target.', '');
  return md.join('\n');
}
