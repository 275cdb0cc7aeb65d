// What the node status line says. One function of the client's status, so every node that uses a
// kisstime-servers config node shows the same truth at the same moment.

'use strict';

const { core } = require('./kisstime-dist');

/** "+3.2 ms", "-41 µs", "+1.204 s": short enough for a status line, precise enough to be useful. */
function formatOffsetS(offsetS) {
  const sign = offsetS < 0 ? '-' : '+';
  const a = Math.abs(offsetS);
  if (a < 0.0001) return sign + Math.round(a * 1e6) + ' µs';
  if (a < 1) return sign + (a * 1000).toFixed(1) + ' ms';
  return sign + a.toFixed(3) + ' s';
}

function inS(date, nowMs) {
  return date ? Math.max(0, (date.getTime() - nowMs) / 1000) : null;
}

/** "DENY from 1.2.3.4", "no answer", "DNS failed": what went wrong last, from the client's own events. */
function describeProblem(event) {
  if (!event) return 'no answer';
  if (event.type === 'kiss') return event.code + ' from ' + event.address;
  if (event.cause === 'timeout') return 'no answer';
  if (event.cause === 'dns-error') return 'DNS failed for ' + event.host;
  if (event.cause === 'send-error') return 'send failed';
  if (event.cause === 'kiss') return 'kissed by ' + (event.address || event.host);
  return event.message || 'no answer';
}

/**
 * status: the client's ClientStatus; lastProblem: the last kiss or backoff event (or null);
 * nowMs: the same wall clock the client reports its dates on.
 */
function statusFor(status, lastProblem, nowMs) {
  if (!status) return { fill: 'grey', shape: 'ring', text: 'not started' };
  const next = inS(status.next, nowMs);
  if (status.phase === 'stopped') {
    // After a restart the refusal is known only from the saved holds.
    const holds = status.holds || [];
    const kiss = status.lastKiss || (holds.length > 0 ? { code: holds[holds.length - 1].c, address: holds[holds.length - 1].a } : null);
    return { fill: 'red', shape: 'ring', text: (kiss ? kiss.code + ' from ' + kiss.address : status.stoppedReason || 'stopped') + ' · stopped' };
  }
  if (status.failures > 0) {
    return { fill: 'yellow', shape: 'ring', text: describeProblem(lastProblem) + (next === null ? '' : ' · retry in ' + core.formatDurationS(next)) };
  }
  if (lastProblem && lastProblem.type === 'kiss' && lastProblem.action === 'hold' && status.target) {
    return { fill: 'yellow', shape: 'ring', text: describeProblem(lastProblem) + ' · trying ' + status.target.address };
  }
  const slowedDown = lastProblem && lastProblem.type === 'kiss' && lastProblem.action === 'slow-down';
  if (slowedDown && (status.offsetS === null || status.offsetS === undefined) && status.phase === 'waiting') {
    return { fill: 'yellow', shape: 'dot', text: describeProblem(lastProblem) + (next === null ? '' : ' · next ' + core.formatDurationS(next)) };
  }
  if (status.offsetS !== null && status.offsetS !== undefined) {
    let text = 'offset ' + formatOffsetS(status.offsetS);
    if (status.phase === 'in-flight') text += ' · asking';
    else if (next !== null) text += ' · next ' + core.formatDurationS(next);
    if (slowedDown) text += ' (' + lastProblem.code + ')';
    return { fill: 'green', shape: 'dot', text: text };
  }
  if (status.phase === 'in-flight' || status.phase === 'resolving') {
    return { fill: 'blue', shape: 'dot', text: status.phase === 'resolving' ? 'resolving' : 'asking ' + (status.target ? status.target.address : '') };
  }
  const sent = status.counters && status.counters.sent > 0;
  return { fill: 'blue', shape: 'ring', text: next === null ? 'waiting' : (sent ? 'next poll in ' : 'first poll in ') + core.formatDurationS(next) };
}

module.exports = { statusFor, formatOffsetS, describeProblem };
