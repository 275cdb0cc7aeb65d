// The messages a kisstime-sync node sends: output 1 carries samples, output 2 carries everything the
// policy did instead (kisses, backoff, failover, holds, deferrals, stop). Each payload starts with a
// sentence a person can read in the debug sidebar, followed by the fields a flow can switch on.

'use strict';

const { core } = require('./kisstime-dist');

function sampleMessage(report) {
  return {
    topic: 'sample',
    payload: {
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
    },
  };
}

function kissMessage(e) {
  const words = require('./kisstime-dist').adapter;
  return {
    topic: 'kiss',
    payload: {
      message: e.code + ' from ' + e.address + ':' + e.port + ': ' + words.kissConsequence(e.action, e.intervalS),
      code: e.code, action: e.action, server: e.host, address: e.address, port: e.port, interval: e.intervalS,
    },
  };
}

function backoffMessage(e) {
  return {
    topic: 'backoff',
    payload: {
      message: e.message + ' (' + e.host + (e.address && e.address !== e.host ? ' ' + e.address : '') + '); retry in ' + core.formatDurationS(e.retryInS),
      cause: e.cause, server: e.host, address: e.address, failures: e.failures, retryIn: e.retryInS,
    },
  };
}

function failoverMessage(e) {
  return {
    topic: 'failover',
    payload: {
      message: 'switching from ' + (e.fromAddress || e.fromHost) + ' to ' + (e.toAddress || e.toHost),
      from: e.fromHost, fromAddress: e.fromAddress, to: e.toHost, toAddress: e.toAddress,
    },
  };
}

function stoppedMessage(e) {
  return { topic: 'stopped', payload: { message: 'stopped: ' + e.reason, reason: e.reason } };
}

/** Refusals remembered from an earlier run: the config node reports them once, when it starts. */
function holdMessage(hold) {
  return {
    topic: 'hold',
    payload: {
      message: hold.a + ':' + hold.p + ' refused us earlier (' + hold.c + '); not asking it again',
      server: hold.h, address: hold.a, port: hold.p, code: hold.c,
    },
  };
}

/** result: a SyncNowResult that was not accepted; its message already reads "deferred until 12:34:56 (min-interval)". */
function deferredMessage(result) {
  const words = require('./kisstime-dist').adapter;
  const until = result.until ? new Date(result.until) : null;
  return {
    topic: 'deferred',
    payload: {
      message: result.message + ': ' + words.deferralExplanation(result.reason) + '; nothing was sent',
      reason: result.reason,
      until: until,
    },
  };
}

module.exports = { sampleMessage, kissMessage, backoffMessage, failoverMessage, stoppedMessage, holdMessage, deferredMessage };
