// The accuracy half of `npm run bench`: the markdown section from a measureAccuracy run.

import { AccuracyResult } from './measure';

function us(v: number): string {
  return v === v && v !== null ? v.toFixed(1) + ' µs' : '-';
}

export function accuracyMarkdown(r: AccuracyResult): string {
  const md: string[] = [];
  md.push('## Accuracy on loopback', '');
  md.push('A small server (bench/accuracy/offset-server.ts, core codec, its own process) on ' + r.address + ':' + r.port + ' serves the local clock shifted by ' +
    r.shiftS + ' s. In ' + r.rounds + ' interleaved rounds, each client measures it once per round; the error is |measured offset − ' + r.shiftS + ' s|. Goal for Kisstime: under 100 µs.', '');
  md.push('| client | samples | failures | median error | p95 error | max error | signed median (bias) |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const c of r.clients) {
    md.push('| ' + c.label + ' | ' + c.samples + ' | ' + c.failures + ' | **' + us(c.medianAbsErrorUs) + '** | **' + us(c.p95AbsErrorUs) + '** | ' + us(c.maxAbsErrorUs) + ' | ' + us(c.medianErrorUs) + ' |');
  }
  md.push('');
  const failures = r.clients.filter((c) => c.failures > 0);
  for (const c of failures) md.push('- ' + c.client + ': last failure: ' + c.lastFailure);
  md.push('npm sntp reads T1 and T4 with Date.now() (whole milliseconds) and converts timestamps to milliseconds, so its error is of the order of half a millisecond; ' +
    'ntpdig and Kisstime read a sub-microsecond clock. The Kisstime clients share one warmed-up NodeClock, as the clients of a long-running process would (a clock anchored in ' +
    'cold code can be tens of µs off); one unrecorded round runs first. The server\'s own reading of the system clock is also anchored, so a bias common to Kisstime and ntpdig ' +
    '(their signed medians) is most likely the server\'s. The machine was running other work at the same time, which shows in the max.', '');
  return md.join('\n');
}
