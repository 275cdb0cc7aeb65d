// kisstime-servers: the config node that owns one polite schedule. Like Node-RED's mqtt-broker it starts
// its client when the first sync/now node registers and stops it when the last one leaves, so however
// many nodes share it there is one scheduler, one socket at a time and one state file. Every polling and
// kiss decision is the core's; this file only carries them to the nodes that use it.
//
// What user nodes (kisstime-sync, kisstime-now, kisstime-server) may use: register(user) and
// deregister(user, done); user.status(s) is called whenever the shared status changes, user.error(err, msg)
// on errors, user.kisstimeSend([sample, event]) if the user defines it; syncNow(), now(), problem() (the config
// problem or null), and the running client itself as .client (null while stopped).

'use strict';

const fs = require('fs');
const path = require('path');
const { core } = require('./lib/kisstime-dist');
const { statusFor } = require('./lib/status-text');
const { checkConfig } = require('./lib/config-problem');
const { isCaught } = require('./lib/problem-report');
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

/** Reject reasons that mean the server we asked did answer, just not with a time we may use. */
const ANSWERED = ['unsynchronised', 'bad-stratum', 'root-distance', 'zero-timestamp', 'late', 'bad-origin', 'not-server-mode', 'malformed'];

module.exports = function (RED) {
  function t(key, vars) {
    return RED._('kisstime-servers.' + key, vars);
  }

  function KisstimeServersNode(n) {
    RED.nodes.createNode(this, n);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's node pattern: callbacks need the node.
    const node = this;
    node.name = n.name;
    node.users = {};
    node.input = configInput(n, RED.settings.kisstimeMinInterval);
    node.client = null;
    node.stopping = null;
    node.lastProblem = null;
    node.lastReject = null;
    node.status0 = null;
    node.restoredHolds = null;
    node.lastLogged = null;
    // Tests (and only tests) put a virtual clock, random source or resolver into settings; a real runtime has none.
    const hooks = RED.settings.kisstimeTestHooks || {};
    const wallMs = hooks.clock ? function () { return hooks.clock.wallMs(); } : function () { return Date.now(); };

    const checked = checkConfig(node.input, n, t);
    /** { field, label, message, placeholder } while the config cannot run, else null. */
    node.configProblem = checked.ok ? null : checked;

    function userList() {
      return Object.keys(node.users).map(function (id) { return node.users[id]; });
    }

    function currentStatus() {
      const problem = node.configProblem;
      if (problem) {
        const noServers = problem.field === 'servers' && (problem.placeholder || node.input.servers.length === 0);
        return { fill: 'red', shape: 'ring', text: noServers ? t('status.noServers') : t('status.config', { label: problem.label }) };
      }
      if (!node.client) return { fill: 'grey', shape: 'ring', text: t('status.starting') };
      return statusFor(node.client.status(), node.lastProblem, wallMs(), t);
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

    // A config node lives outside any flow: its users carry an error to their flows' Catch nodes, with a message
    // saying what failed (Node-RED hands an error to Catch nodes only with a message). The log gets one line, from
    // here, however many users there are; a user passes the error on only where a Catch node will take it, so
    // Node-RED does not log it again.
    function report(text, problem, users) {
      if (node.lastLogged !== text) {
        node.lastLogged = text;
        node.error(text);
      }
      const payload = { message: text, field: problem ? problem.field : null, label: problem ? problem.label : null };
      users.forEach(function (u) {
        // The text, not an Error: Node-RED would make msg.error.message "Error: " + text.
        if (isCaught(RED, u)) u.error(text, { topic: problem ? 'config-error' : 'error', payload: Object.assign({}, payload) });
      });
    }

    function reportError(err) {
      report(String(err && err.message ? err.message : err), null, userList());
    }

    function reportConfigProblem(users) {
      report(node.configProblem.message, node.configProblem, users);
    }

    function statePath() {
      const dir = RED.settings.userDir;
      if (!dir) return undefined;
      const stateDir = path.join(dir, 'kisstime');
      try {
        fs.mkdirSync(stateDir, { recursive: true });
      } catch (err) {
        const label = t('label.stateFile');
        node.configProblem = { field: 'stateFile', label: label, message: t('errors.stateDir', { label: label, dir: stateDir, error: err.code || err.message }) };
        return null;
      }
      return path.join(stateDir, String(node.id).replace(/[^A-Za-z0-9._-]/g, '_') + '.json');
    }

    function listen(client) {
      client.on('send', function () {
        node.lastReject = null;
      });
      client.on('reject', function (d) {
        // Only a refused reply from the server we asked explains a silence; a stray packet from elsewhere does not.
        const target = client.status().target;
        if (target && d.address === target.address && d.port === target.port && ANSWERED.indexOf(d.reason) >= 0) node.lastReject = d;
      });
      client.on('sample', function (report) {
        node.lastProblem = null;
        node.lastReject = null;
        node.lastLogged = null;
        toSyncUsers([messages.sampleMessage(report), null]);
        pushStatus();
      });
      client.on('kiss', function (e) {
        if (e.action === 'ignore') return;
        node.lastProblem = Object.assign({ type: 'kiss' }, e);
        toSyncUsers([null, messages.kissMessage(e, t)]);
        pushStatus();
      });
      client.on('backoff', function (e) {
        const reject = node.lastReject && node.lastReject.address === e.address ? node.lastReject : null;
        // A kiss that failed the poll was already reported as a kiss; keep its words on the status line.
        if (!(e.cause === 'kiss' && node.lastProblem && node.lastProblem.type === 'kiss')) {
          node.lastProblem = Object.assign({ type: 'backoff' }, e, reject ? { rejected: reject.reason } : {});
        }
        node.lastReject = null;
        toSyncUsers([null, messages.backoffMessage(e, node.lastProblem, t)]);
        pushStatus();
      });
      client.on('failover', function (e) {
        toSyncUsers([null, messages.failoverMessage(e, t)]);
        pushStatus();
      });
      client.on('stopped', function (e) {
        toSyncUsers([null, messages.stoppedMessage(e, t)]);
        pushStatus();
      });
      client.on('status', pushStatus);
      client.on('error', reportError);
    }

    function startClient() {
      if (node.client || node.configProblem) return;
      const adapter = require('./lib/kisstime-dist').adapter;
      const file = statePath();
      if (file === null) {
        reportConfigProblem(userList());
        pushStatus();
        return;
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
        // checkConfig already passed this config, so this is the adapter's own refusal: keep its words.
        node.configProblem = { field: err.field || null, label: err.field ? t('label.' + err.field) : null, message: err.message };
        reportConfigProblem(userList());
        pushStatus();
        return;
      }
      node.client = client;
      listen(client);
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
      node.restoredHolds.forEach(function (h) { toSyncUsers([null, messages.holdMessage(h, t)]); });
      pushStatus();
    }

    // A node that joins after the start still hears which servers refused us in an earlier run.
    function replayHolds(user) {
      if (!node.restoredHolds || typeof user.kisstimeSend !== 'function') return;
      node.restoredHolds.forEach(function (h) { user.kisstimeSend([null, messages.holdMessage(h, t)]); });
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
    // node; so the schedule starts (and a config problem is reported) once the runtime says the flows started.
    node.flowsStarted = false;
    function onFlowsStarted() {
      node.flowsStarted = true;
      if (Object.keys(node.users).length === 0) {
        // Nobody uses this config, so nobody's Catch node can take its problem: the log still hears of it, once.
        if (node.configProblem) report(node.configProblem.message, node.configProblem, []);
        return;
      }
      if (node.configProblem) reportConfigProblem(userList());
      else startClient();
    }
    RED.events.on('flows:started', onFlowsStarted);

    node.register = function (user) {
      node.users[user.id] = user;
      user.status(currentStatus());
      if (!node.flowsStarted) return;
      if (node.configProblem) {
        reportConfigProblem([user]);
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

    /** The config problem ({ field, label, message }) or null. */
    node.problem = function () {
      return node.configProblem;
    };

    /** The SyncNowResult from the core, or throws what is wrong (a Catch node gets it). */
    node.syncNow = function () {
      if (node.configProblem) throw new Error(node.configProblem.message);
      if (!node.client) throw new Error(t('errors.notRunning', { name: node.name || node.id }));
      const result = node.client.syncNow();
      pushStatus();
      return result;
    };

    /**
     * { time: corrected Date, offset and maxError: s or null before the first sample }. Before the schedule runs (or
     * after it stopped) there is no sample, so the time is the local clock, as before the first sample.
     */
    node.now = function () {
      if (node.configProblem) throw new Error(node.configProblem.message);
      if (!node.client) return { time: new Date(wallMs()), offset: null, maxError: null };
      const status = node.client.status();
      return { time: node.client.now(), offset: status.offsetS, maxError: status.maxErrorS };
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
  // The exact words the runtime would use to refuse a config, and the form field they belong under.
  RED.httpAdmin.post('/kisstime/check', RED.auth.needsPermission('kisstime-servers.read'), function (req, res) {
    const body = req.body || {};
    const result = checkConfig(configInput(body, RED.settings.kisstimeMinInterval), body, t);
    res.json(result.ok ? { ok: true } : { ok: false, field: result.field, label: result.label, message: result.message });
  });
};

module.exports.configInput = configInput;
