// The messages a kisstime-sync node sends: output 1 carries samples, output 2 carries everything the
// policy did instead (kisses, backoff, failover, holds, deferrals, stop). Each payload starts with a
// sentence a person can read in the debug sidebar, followed by the fields a flow can switch on.
// t(key, vars) is the catalogue of the node that builds the message (RED._ in the runtime).

'use strict';

const { core } = require('./kisstime-dist');
const { describeProblem } = require('./status-text');

/** The clock model's fields, passed on when the client's report has them. */
const MODEL_FIELDS = ['maxError', 'clockOffset', 'driftPpm'];

function sampleMessage(report) {
  const payload = {
    offset: report.offset,
    delay: report.delay,
    stratum: report.stratum,
    refid: report.refid,
    leap: report.leap,
    precision: report.precision,
    rootDistance: report.rootDistance,
    server: report.server,
    address: report.address,
    port: report.port,
    interval: report.interval,
    time: report.time,
  };
  MODEL_FIELDS.forEach(function (k) {
    if (typeof report[k] === 'number') payload[k] = report[k];
  });
  return { topic: 'sample', payload: payload };
}

/** "time.lan (192.0.2.1:123)", or the address alone when it is the name. */
function where(host, address, port) {
  const at = address + (port ? ':' + port : '');
  return host && host !== address ? host + ' (' + at + ')' : at;
}

const KISS_WORDS = { 'hold': 'kissHold', 'slow-down': 'kissSlowDown', 'ignore': 'kissIgnore' };

function kissMessage(e, t) {
  const consequence = t('events.' + (KISS_WORDS[e.action] || 'kissFail'), { interval: core.formatDurationS(e.intervalS) });
  return {
    topic: 'kiss',
    payload: {
      message: t('events.kiss', { code: e.code, where: where(e.host, e.address, e.port), consequence: consequence }),
      code: e.code, action: e.action, server: e.host, address: e.address, port: e.port, interval: e.intervalS,
    },
  };
}

/** problem: the config node's record of this backoff (see status-text describeProblem), with a refused reply if any. */
function backoffMessage(e, problem, t) {
  const payload = {
    message: t('events.backoff', { problem: describeProblem(problem, t), in: core.formatDurationS(e.retryInS) }),
    cause: e.cause, server: e.host, address: e.address, failures: e.failures, retryIn: e.retryInS,
  };
  // The server answered, but not with a time we may use: say so, not "no answer".
  if (problem && problem.rejected) payload.rejected = problem.rejected;
  return { topic: 'backoff', payload: payload };
}

function failoverMessage(e, t) {
  return {
    topic: 'failover',
    payload: {
      message: t('events.failover', { from: where(e.fromHost, e.fromAddress || e.fromHost), to: where(e.toHost, e.toAddress || e.toHost) }),
      from: e.fromHost, fromAddress: e.fromAddress, to: e.toHost, toAddress: e.toAddress,
    },
  };
}

function stoppedMessage(e, t) {
  return { topic: 'stopped', payload: { message: t('events.stopped', { reason: e.reason }), reason: e.reason } };
}

/** Refusals remembered from an earlier run: the config node reports them once, when it starts. */
function holdMessage(hold, t) {
  return {
    topic: 'hold',
    payload: {
      message: t('events.hold', { where: where(hold.h, hold.a, hold.p), code: hold.c }),
      server: hold.h, address: hold.a, port: hold.p, code: hold.c,
    },
  };
}

/** result: a SyncNowResult that was not accepted. t: the kisstime-sync catalogue. */
function deferredMessage(result, t) {
  const until = result.until ? new Date(result.until) : null;
  const pad = function (n) { return (n < 10 ? '0' : '') + n; };
  const when = until ? t('deferred.until', { time: pad(until.getHours()) + ':' + pad(until.getMinutes()) + ':' + pad(until.getSeconds()) }) : t('deferred.now');
  return {
    topic: 'deferred',
    payload: {
      message: t('deferred.message', { when: when, reason: result.reason, why: t('deferred.why.' + result.reason) }),
      reason: result.reason,
      until: until,
    },
  };
}

module.exports = { sampleMessage, kissMessage, backoffMessage, failoverMessage, stoppedMessage, holdMessage, deferredMessage };
