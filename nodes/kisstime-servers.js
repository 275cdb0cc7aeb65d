// kisstime-servers: the config node that owns one polite schedule. Like Node-RED's mqtt-broker it starts
// its client when the first sync/now node registers and stops it when the last one leaves, so however
// many nodes share it there is one scheduler, one socket at a time and one state file. Every polling and
// kiss decision is the core's; this file only carries them to the nodes that use it.
//
// What user nodes (kisstime-sync, kisstime-now, kisstime-server) may use: register(user) and
// deregister(user, done); user.status(s) is called whenever the shared status changes, user.error(err, msg)
// on errors, user.kisstimeSend([sample, event]) if the user defines it; syncNow(), now(), and the running
// client itself as .client (null while stopped).

'use strict';

const fs = require('fs');
const path = require('path');
const { core } = require('./lib/kisstime-dist');
const { statusFor } = require('./lib/status-text');
const messages = require('./lib/event-messages');

const UNITS = { s: 's', min: 'min', h: 'h', d: 'd' };

/** "34" + "min" → "34min"; blank → undefined (the core's default); anything else goes to the core to be named. */
function durationText(value, unit) {
  if (value === undefined || value === null || String(value).trim() === '') return undefined;
  const v = String(value).trim();
  return /^\d+(\.\d+)?$/.test(v) ? v + (UNITS[unit] || 's') : v;
}

function splitServers(text) {
  return String(text || '').split(/[\s,;]+/).filter(function (s) { return s !== ''; });
}

/** What the editor stored, as the core's ClientConfigInput. */
function configInput(n, adminMinInterval) {
  const input = {
    servers: splitServers(n.servers),
    minInterval: durationText(n.minInterval, n.minIntervalUnit),
    maxInterval: durationText(n.maxInterval, n.maxIntervalUnit),
    timeout: durationText(n.timeout, 's'),
    startupDelayMax: durationText(n.startupDelay, n.startupDelayUnit),
    lanServer: n.lanServer === true || n.lanServer === 'true',
  };
  if (adminMinInterval !== undefined && adminMinInterval !== null && adminMinInterval !== '') input.adminMinInterval = adminMinInterval;
  return input;
}

module.exports = function (RED) {
  function KisstimeServersNode(n) {
    RED.nodes.createNode(this, n);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's node pattern: callbacks need the node.
    const node = this;
    node.name = n.name;
    node.users = {};
    node.input = configInput(n, RED.settings.kisstimeMinInterval);
    node.checked = require('./lib/kisstime-dist').adapter.validateClientConfig(node.input);
    node.client = null;
    node.stopping = null;
    node.lastProblem = null;
    node.status0 = null;
    node.restoredHolds = null;
    // Tests (and only tests) put a virtual clock, random source or resolver into settings; a real runtime has none.
    const hooks = RED.settings.kisstimeTestHooks || {};
    const wallMs = hooks.clock ? function () { return hooks.clock.wallMs(); } : function () { return Date.now(); };

    node.configError = node.checked.ok ? null : node.checked.message;
    node.configField = node.checked.ok ? null : node.checked.field;
    if (node.configError) node.error('kisstime-servers "' + (node.name || node.id) + '": ' + node.configError);

    function userList() {
      return Object.keys(node.users).map(function (id) { return node.users[id]; });
    }

    function currentStatus() {
      if (node.configError) return { fill: 'red', shape: 'ring', text: 'config: ' + node.configField };
      if (!node.client) return { fill: 'grey', shape: 'ring', text: 'starting' };
      return statusFor(node.client.status(), node.lastProblem, wallMs());
    }

    // Status goes to every user at once, so two nodes on one config never disagree.
    function pushStatus() {
      const s = currentStatus();
      // The client reports its status after every event; only a change is worth a message to the editor.
      if (node.status0 && node.status0.text === s.text && node.status0.fill === s.fill && node.status0.shape === s.shape) return;
      node.status0 = s;
      userList().forEach(function (u) { u.status(s); });
    }

    // Each node gets its own copy: a flow that changes the message after one sync node must not change what
    // the others send.
    function toSyncUsers(msgs) {
      userList().forEach(function (u) {
        if (typeof u.kisstimeSend === 'function') u.kisstimeSend(msgs.map(function (m) { return m && RED.util.cloneMessage(m); }));
      });
    }

    // A config node lives outside any flow: its users carry the error to their flows' Catch nodes. Node-RED
    // hands an error to Catch nodes only with a message, so each gets one saying what failed.
    function errorMessage(err, field) {
      return { topic: field ? 'config-error' : 'error', payload: { message: String(err && err.message ? err.message : err), field: field || null } };
    }

    function reportError(err, field) {
      const users = userList();
      if (users.length === 0) node.error(err);
      users.forEach(function (u) { u.error(err, errorMessage(err, field)); });
    }

    function reportConfigError(users) {
      users.forEach(function (u) { u.error(node.configError, errorMessage(node.configError, node.configField)); });
    }

    function statePath() {
      const dir = RED.settings.userDir;
      if (!dir) return undefined;
      const stateDir = path.join(dir, 'kisstime');
      fs.mkdirSync(stateDir, { recursive: true });
      return path.join(stateDir, String(node.id).replace(/[^A-Za-z0-9._-]/g, '_') + '.json');
    }

    function startClient() {
      if (node.client || node.configError) return;
      const adapter = require('./lib/kisstime-dist').adapter;
      let file;
      try {
        file = statePath();
      } catch (err) {
        reportError(new Error('cannot create the state directory: ' + err.message));
      }
      let client;
      try {
        client = adapter.createClient({
          config: node.input,
          statePath: file,
          clock: hooks.clock,
          random: hooks.random,
          resolver: hooks.resolver,
        });
      } catch (err) {
        node.configError = err.message;
        node.configField = err.field || 'state file';
        reportError(err, node.configField);
        pushStatus();
        return;
      }
      node.client = client;
      client.on('sample', function (report) {
        node.lastProblem = null;
        toSyncUsers([messages.sampleMessage(report), null]);
        pushStatus();
      });
      client.on('kiss', function (e) {
        if (e.action === 'ignore') return;
        node.lastProblem = Object.assign({ type: 'kiss' }, e);
        toSyncUsers([null, messages.kissMessage(e)]);
        pushStatus();
      });
      client.on('backoff', function (e) {
        // A kiss that failed the poll was already reported as a kiss; keep its words on the status line.
        if (!(e.cause === 'kiss' && node.lastProblem && node.lastProblem.type === 'kiss')) node.lastProblem = Object.assign({ type: 'backoff' }, e);
        toSyncUsers([null, messages.backoffMessage(e)]);
        pushStatus();
      });
      client.on('failover', function (e) {
        toSyncUsers([null, messages.failoverMessage(e)]);
        pushStatus();
      });
      client.on('stopped', function (e) {
        toSyncUsers([null, messages.stoppedMessage(e)]);
        pushStatus();
      });
      client.on('status', pushStatus);
      client.on('error', reportError);
      try {
        const started = client.start();
        if (started && typeof started.then === 'function') {
          started.then(afterStart, function (err) { reportError(err); pushStatus(); });
        } else {
          afterStart();
        }
      } catch (err) {
        reportError(err);
      }
      pushStatus();
    }

    function afterStart() {
      if (!node.client) return;
      const status = node.client.status();
      if (status.restoreNote) node.log(status.restoreNote);
      node.restoredHolds = (status.holds || []).slice();
      node.restoredHolds.forEach(function (h) { toSyncUsers([null, messages.holdMessage(h)]); });
      pushStatus();
    }

    // A node that joins after the start still hears which servers refused us in an earlier run.
    function replayHolds(user) {
      if (!node.restoredHolds || typeof user.kisstimeSend !== 'function') return;
      node.restoredHolds.forEach(function (h) { user.kisstimeSend([null, messages.holdMessage(h)]); });
    }

    function stopClient() {
      const client = node.client;
      if (!client) return node.stopping || Promise.resolve();
      node.client = null;
      node.restoredHolds = null;
      client.removeAllListeners();
      // Keep one listener so a late socket error cannot crash Node-RED while the client winds down.
      client.on('error', function () {});
      node.stopping = Promise.resolve().then(function () { return client.stop(); }).catch(function (err) { node.warn(err); });
      return node.stopping;
    }

    // Until every node of the deploy exists, a message or an error sent now would reach no wire and no Catch
    // node; so the schedule starts (and a config error is reported) once the runtime says the flows started.
    node.flowsStarted = false;
    function onFlowsStarted() {
      node.flowsStarted = true;
      if (Object.keys(node.users).length === 0) return;
      if (node.configError) reportConfigError(userList());
      else startClient();
    }
    RED.events.on('flows:started', onFlowsStarted);

    node.register = function (user) {
      node.users[user.id] = user;
      user.status(currentStatus());
      if (!node.flowsStarted) return;
      if (node.configError) {
        reportConfigError([user]);
      } else if (!node.client) {
        startClient();
      } else {
        replayHolds(user);
      }
    };

    node.deregister = function (user, done) {
      delete node.users[user.id];
      if (Object.keys(node.users).length > 0) return done();
      stopClient().then(function () { done(); }, done);
    };

    /** The SyncNowResult from the core, or throws what is wrong (a Catch node gets it). */
    node.syncNow = function () {
      if (node.configError) throw new Error(node.configError);
      if (!node.client) throw new Error('kisstime-servers "' + (node.name || node.id) + '" is not running');
      const result = node.client.syncNow();
      pushStatus();
      return result;
    };

    /** { time: corrected Date, offset: s or null before the first sample }. */
    node.now = function () {
      if (node.configError) throw new Error(node.configError);
      if (!node.client) throw new Error('kisstime-servers "' + (node.name || node.id) + '" is not running');
      const offset = node.client.offsetS();
      return { time: node.client.now(), offset: offset === undefined ? null : offset };
    };

    node.on('close', function (removed, done) {
      RED.events.removeListener('flows:started', onFlowsStarted);
      stopClient().then(function () { done(); }, done);
    });
  }

  RED.nodes.registerType('kisstime-servers', KisstimeServersNode);

  // The editor asks for the floors so its validation matches the runtime's; the runtime still decides.
  RED.httpAdmin.get('/kisstime/policy', RED.auth.needsPermission('kisstime-servers.read'), function (req, res) {
    const admin = RED.settings.kisstimeMinInterval;
    res.json({
      floorS: core.MIN_INTERVAL_FLOOR_S,
      publicFloorS: core.PUBLIC_MIN_INTERVAL_FLOOR_S,
      adminMinS: admin === undefined || admin === null || admin === '' ? 0 : core.parseDurationS(admin),
    });
  });
  // The exact words the runtime would use to refuse a config, shown live in the edit dialog.
  RED.httpAdmin.post('/kisstime/check', RED.auth.needsPermission('kisstime-servers.read'), function (req, res) {
    const result = require('./lib/kisstime-dist').adapter.validateClientConfig(configInput(req.body || {}, RED.settings.kisstimeMinInterval));
    res.json(result.ok ? { ok: true } : { ok: false, field: result.field, message: result.message });
  });
};

module.exports.configInput = configInput;
