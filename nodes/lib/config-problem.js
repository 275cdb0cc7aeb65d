// A kisstime-servers config the core refuses, in the editor's words: which form field is wrong, named by the
// label the user sees ("Min interval", not minInterval), and what to do about it. The core decides whether a config
// is good; this file only finds the field and the words. The editor (GET /kisstime/check) and the runtime (the
// error a Catch node gets) use the same function, so both say the same thing.

'use strict';

const dist = require('./kisstime-dist');
const { core } = dist;

/** The form field behind each of the core's config fields. */
const FORM_FIELD = {
  servers: 'servers',
  minInterval: 'minInterval',
  maxInterval: 'maxInterval',
  timeout: 'timeout',
  startupDelayMax: 'startupDelay',
  startupDelayMin: 'startupDelay',
  lanServer: 'lanServer',
  adminMinInterval: 'adminMinInterval',
};

function formField(coreField) {
  if (/^servers\[\d+\]$/.test(coreField)) return 'servers';
  return Object.prototype.hasOwnProperty.call(FORM_FIELD, coreField) ? FORM_FIELD[coreField] : coreField;
}

/**
 * Documentation names (RFC 2606, RFC 6761) that can never be a real time server: the examples ship one, so an
 * example deployed as it is says what to change instead of asking DNS for a name that cannot exist.
 */
function isPlaceholder(server) {
  const host = String(server).replace(/:\d*$/, '').replace(/\.$/, '').toLowerCase();
  return /(^|\.)(example|invalid)$/.test(host) || /(^|\.)example\.(com|net|org)$/.test(host);
}

/** The host of "host", "host:port", "[v6]:port" or a bare IPv6 address. */
function hostOf(server) {
  const bracket = /^\[([^\]]+)\]/.exec(server);
  if (bracket) return bracket[1];
  return server.indexOf(':') === server.lastIndexOf(':') ? server.split(':')[0] : server;
}

/** The floor the minimum interval fell under and why, or null if it did not fall under one. */
function floorBroken(input) {
  const adapter = dist.adapter;
  const minS = adapter.parseDurationS(input.minInterval === undefined ? adapter.DEFAULT_MIN_INTERVAL_S : input.minInterval);
  if (!(minS >= 0)) return null;
  let found = null;
  (input.servers || []).forEach(function (server) {
    const host = hostOf(String(server));
    const floorS = core.minIntervalFloorS(host, input.lanServer === true);
    if (minS < floorS && (!found || floorS > found.floorS)) {
      found = { valueS: minS, floorS: floorS, why: adapter.isPoolName(host) ? 'whyPool' : (floorS >= core.PUBLIC_MIN_INTERVAL_FLOOR_S ? 'whyPublic' : 'whyAny') };
    }
  });
  const adminS = input.adminMinInterval === undefined ? 0 : adapter.parseDurationS(input.adminMinInterval);
  if (!found && minS < adminS) found = { valueS: minS, floorS: adminS, why: 'whyAdmin' };
  return found;
}

/**
 * t(key, vars): the kisstime-servers catalogue (RED._ in the runtime, the editor's own in the browser).
 * editorValues: what the form holds (n), for the raw text of a field that is not a number.
 * Returns { field, label, message }.
 */
function describeConfigProblem(checked, input, editorValues, t) {
  const field = formField(checked.field);
  const label = t('label.' + field);
  const say = function (key, vars) { return { field: field, label: label, message: t('errors.' + key, Object.assign({ label: label }, vars || {})) }; };
  const servers = input.servers || [];
  const index = /^servers\[(\d+)\]$/.exec(checked.field);
  if (checked.field === 'servers' && servers.length === 0) return say('noServers');
  if (index) return say('badServer', { server: servers[+index[1]] });
  const raw = editorValues && editorValues[field];
  if (raw !== undefined && raw !== null && String(raw).trim() !== '' && !/^\s*\d+(\.\d+)?\s*$/.test(String(raw)) && field !== 'servers') {
    return say('notNumber', { value: String(raw).trim() });
  }
  if (field === 'minInterval') {
    const floor = floorBroken(input);
    if (floor) return say('belowFloor', { value: dist.adapter.formatDurationS(floor.valueS), floor: dist.adapter.formatDurationS(floor.floorS), why: t('errors.' + floor.why) });
  }
  // Anything else: the core's own sentence, after the field name it starts with.
  const prefix = checked.field + ': ';
  const detail = checked.message.indexOf(prefix) === 0 ? checked.message.substring(prefix.length) : checked.message;
  return say('field', { detail: detail });
}

/** The first server that is a documentation placeholder, or null. */
function placeholderIn(servers) {
  for (let i = 0; i < servers.length; i++) if (isPlaceholder(servers[i])) return servers[i];
  return null;
}

/**
 * The whole check: placeholders first (the core would accept them and ask DNS), then the core's verdict.
 * Returns { ok: true } or { ok: false, field, label, message }.
 */
function checkConfig(input, editorValues, t) {
  const placeholder = placeholderIn(input.servers || []);
  if (placeholder !== null) {
    const label = t('label.servers');
    return { ok: false, field: 'servers', label: label, message: t('errors.placeholder', { label: label, server: placeholder }), placeholder: true };
  }
  // The Node adapter's check: it reads durations such as "34min" before the core checks the rules.
  const checked = dist.adapter.validateClientConfig(input);
  if (checked.ok) return { ok: true, config: checked.config };
  return Object.assign({ ok: false }, describeConfigProblem(checked, input, editorValues, t));
}

module.exports = { checkConfig, describeConfigProblem, formField, isPlaceholder };
