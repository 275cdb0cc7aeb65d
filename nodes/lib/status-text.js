// What the node status line says: a short sentence from the client's status and the last problem the config node
// saw ("synced ±2 ms · next 34 min", "asking time.lan…", "held: DENY from time.lan"). One function, so every
// node that uses a kisstime-servers config node shows the same truth at the same moment. t(key, vars) is the
// kisstime-servers catalogue (RED._ in the runtime).

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

/** An error bound to two significant digits: "2 ms", "180 µs", "1.2 s". */
function formatBoundS(boundS) {
  const a = Math.abs(boundS);
  const two = function (v) { return String(Number(v.toPrecision(2))); };
  if (a < 0.001) return two(a * 1e6) + ' µs';
  if (a < 1) return two(a * 1000) + ' ms';
  return two(a) + ' s';
}

function inS(date, nowMs) {
  return date ? Math.max(0, (date.getTime() - nowMs) / 1000) : null;
}

/** The name a person configured, else the address. */
function who(e) {
  return (e && (e.host || e.address)) || '?';
}

/** Reject reasons that mean the server did answer, in the words a person can act on. */
const REJECT_WORDS = {
  'unsynchronised': 'unsynchronised',
  'bad-stratum': 'unsynchronised',
  'root-distance': 'tooFar',
  'zero-timestamp': 'noTime',
  'late': 'late',
};

/**
 * What went wrong last, from the config node's record of the client's events:
 * { type: 'kiss', code, host, address } or { type: 'backoff', cause, host, address, message, rejected }.
 */
function describeProblem(problem, t) {
  if (!problem) return t('problem.noAnswer', { host: '?' });
  if (problem.type === 'kiss') return t('problem.kiss', { code: problem.code, host: who(problem) });
  if (problem.rejected) {
    const key = REJECT_WORDS[problem.rejected];
    return key ? t('problem.' + key, { host: who(problem) }) : t('problem.unusable', { host: who(problem), reason: problem.rejected });
  }
  if (problem.cause === 'timeout') return t('problem.noAnswer', { host: who(problem) });
  if (problem.cause === 'dns-error') return t('problem.dns', { host: who(problem) });
  if (problem.cause === 'send-error') return t('problem.send', { host: who(problem) });
  if (problem.cause === 'kiss') return t('problem.kiss', { code: problem.code || 'kiss', host: who(problem) });
  return t('problem.other', { message: problem.message || problem.cause });
}

/**
 * "synced ±2 ms, 12 ppm": the clock model's error bound now and its drift, and a word when the politeness floors keep
 * the polls further apart than the accuracy asked for needs; "synced, offset +3.2 ms" without a model.
 */
function syncedText(status, t) {
  if (typeof status.maxErrorS === 'number' && status.maxErrorS >= 0 && typeof status.driftPpm === 'number') {
    const floored = status.lastSample && status.lastSample.accuracyMet === false;
    return t(floored ? 'status.syncedBoundFloor' : 'status.syncedBound', { bound: formatBoundS(status.maxErrorS), drift: formatDriftPpm(status.driftPpm) });
  }
  return t('status.syncedOffset', { offset: formatOffsetS(status.offsetS) });
}

/** "12", "-3.4", "0.05": ppm to two significant digits, no more. */
function formatDriftPpm(ppm) {
  const a = Math.abs(ppm);
  return String(a >= 10 ? Math.round(ppm) : Number(ppm.toPrecision(2)));
}

/**
 * status: the client's ClientStatus (null before it exists); problem: see describeProblem (or null);
 * nowMs: the wall clock the client reports its dates on. Returns a Node-RED status object.
 */
function statusFor(status, problem, nowMs, t) {
  if (!status) return { fill: 'grey', shape: 'ring', text: t('status.starting') };
  const next = inS(status.next, nowMs);
  const nextIn = next === null ? null : core.formatDurationS(next);
  const synced = status.offsetS !== null && status.offsetS !== undefined;
  if (status.phase === 'stopped') {
    // After a restart the refusal is known only from the saved holds.
    const holds = status.holds || [];
    const lastHold = holds.length > 0 ? holds[holds.length - 1] : null;
    const kiss = status.lastKiss || (lastHold ? { code: lastHold.c, host: lastHold.h, address: lastHold.a } : null);
    const why = kiss ? t('status.held', { code: kiss.code, host: who(kiss) }) : (status.stoppedReason || '');
    return { fill: 'red', shape: 'ring', text: t('status.stopped', { problem: why }) };
  }
  const target = status.target;
  if (status.phase === 'in-flight' || status.phase === 'resolving') {
    const doing = t(status.phase === 'resolving' ? 'status.resolving' : 'status.asking', { host: who(target) });
    if (synced) return { fill: 'green', shape: 'dot', text: t('status.also', { now: syncedText(status, t), then: doing }) };
    return { fill: 'blue', shape: 'dot', text: doing };
  }
  if (status.failures > 0) {
    const text = describeProblem(problem, t);
    return { fill: 'yellow', shape: 'ring', text: nextIn === null ? text : t('status.retry', { problem: text, in: nextIn }) };
  }
  const kissed = problem && problem.type === 'kiss';
  if (kissed && problem.action === 'hold' && target) {
    return { fill: 'yellow', shape: 'ring', text: t('status.trying', { problem: t('status.held', { code: problem.code, host: who(problem) }), host: who(target) }) };
  }
  const slowedDown = kissed && problem.action === 'slow-down';
  if (synced) {
    let text = syncedText(status, t);
    if (nextIn !== null) text = t('status.next', { now: text, in: nextIn });
    if (slowedDown) text = t('status.slowedNote', { now: text, code: problem.code });
    return { fill: 'green', shape: 'dot', text: text };
  }
  if (slowedDown) {
    const text = t('status.slowedDown', { code: problem.code, host: who(problem) });
    return { fill: 'yellow', shape: 'dot', text: nextIn === null ? text : t('status.next', { now: text, in: nextIn }) };
  }
  if (nextIn === null) return { fill: 'blue', shape: 'ring', text: t('status.waiting') };
  const sent = status.counters && status.counters.sent > 0;
  return { fill: 'blue', shape: 'ring', text: t(sent ? 'status.nextPoll' : 'status.firstPoll', { in: nextIn }) };
}

module.exports = { statusFor, formatOffsetS, formatBoundS, describeProblem };
