// What a rude client did, in words, for `kisstime serve --stats` and logs (the Node-RED node words it through its
// own message catalogue).

import { ClientConduct } from '../core';

function times(n: number): string {
  return n === 1 ? 'once' : n + ' times';
}

/** "asked 12 times after DENY; polls every 1.0 s (floor 15 s); its clock is in 40 requests". */
export function describeConduct(c: ClientConduct): string {
  const parts: string[] = [];
  if (c.ignoredKisses > 0) {
    parts.push(c.lastKiss === 'RATE' ? 'came back ' + times(c.ignoredKisses) + ' sooner than a RATE asked' : 'asked ' + times(c.ignoredKisses) + ' after ' + (c.lastKiss ?? 'a kiss'));
  }
  if (c.underFloor && c.shortestIntervalS !== null) {
    parts.push('shortest interval ' + c.shortestIntervalS.toFixed(1) + ' s (floor 15 s), ' + c.perMinute.toFixed(1) + ' requests/min');
  }
  if (c.clockLeaks > 0) parts.push('its clock is in ' + c.clockLeaks + ' of its ' + c.requests + ' requests');
  return parts.join('; ');
}
