// The accuracy half of `npm run bench`: the markdown section from a measureAccuracy run.

import { AccuracyResult, ClientStats } from './measure';

function us(v: number): string {
  return v === v && v !== null ? v.toFixed(1) + ' µs' : '-';
}

function table(md: string[], clients: ClientStats[]): void {
  md.push('| client | samples | failures | median error | p95 error | max error | signed median (bias) |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const c of clients) {
    md.push('| ' + c.label + ' | ' + c.samples + ' | ' + c.failures + ' | **' + us(c.medianAbsErrorUs) + '** | **' + us(c.p95AbsErrorUs) + '** | ' + us(c.maxAbsErrorUs) + ' | ' + us(c.medianErrorUs) + ' |');
  }
  md.push('');
  for (const c of clients.filter((x) => x.failures > 0)) md.push('- ' + c.client + ': last failure: ' + c.lastFailure);
}

export function accuracyMarkdown(r: AccuracyResult): string {
  const md: string[] = [];
  md.push('## Accuracy on loopback', '');
  md.push('A small server (bench/accuracy/offset-server.ts, core codec, its own process) on ' + r.address + ':' + r.port + ' serves the local clock shifted by ' +
    r.shiftS + ' s. In ' + r.rounds + ' interleaved rounds, each client measures it once per round; the error is |measured offset − ' + r.shiftS + ' s|. ' +
    'Goals for Kisstime: under 100 µs, and a median error no worse than ntpdig\'s in the same run.', '');
  table(md, r.clients);
  md.push('### The same rounds against chronyd', '');
  if (r.chronyd) {
    md.push('chronyd 4.3 on ' + r.chronyd.address + ':123 (`local stratum 1`, `-x`) serves the local clock itself, so the error is |measured offset|. It stamps a ' +
      'request\'s arrival in the kernel, as real servers do; the Node server above stamps it only when its event loop hands it the datagram, which is late by ' +
      'about as much as a Node client\'s own reading of the reply, so against it part of that lateness cancels.', '');
    table(md, r.chronyd.clients);
  } else {
    md.push('chronyd could not be started: ' + r.chronydNote, '');
  }
  md.push('npm sntp reads T1 and T4 with Date.now() (whole milliseconds) and converts timestamps to milliseconds, so its error is of the order of half a millisecond; ' +
    'ntpdig and Kisstime read a sub-microsecond clock. The Kisstime clients share one warmed-up NodeClock, as the clients of a long-running process would (a clock anchored in ' +
    'cold code can be tens of µs off); one unrecorded round runs first. Against chronyd, Kisstime\'s bias is negative: its reply path (T3 to T4) comes out about 20 µs ' +
    'longer than its request path (T1 to the kernel\'s arrival stamp). Node\'s own receive code accounts for about 3 µs of that (a datagram to itself, read in the same ' +
    'libuv read loop), and keeping the event loop spinning while a reply is due did not change it, so it is not the wait for the process to be woken either; ' +
    'where the rest goes was not found. The machine was running other work at the same time, which shows in the max.', '');
  return md.join('\n');
}
