// kisstime-server: a policy-enforcing time server for the devices behind a Node-RED gateway. It serves the local
// clock corrected by the offset its upstream kisstime-servers config node measured, answers only well-formed client
// requests with exactly 48 bytes, and enforces the access list and per-client rate limits with DENY, RATE and RSTR
// kisses. Every decision is the core's (src/core/server-*.ts); this file wires the socket, the upstream and the
// counters to the flow.
// Output 1: { topic: "stats", payload: ServerStats } every statsInterval seconds, and on any input.
// Output 2: { topic: "clients", payload: { rude, worst } }, the clients that behave worst, when there are any.
// Every problem is said once (a log line, or a Catch node's msg.error), never once per message.

'use strict';

const net = require('net');
const { core } = require('./lib/kisstime-dist');

/** The compiled socket adapter (dist/src/node/server.js), with the same "run npm run build" hint as the core's loader. */
function loadServerAdapter() {
  try {
    return require('../dist/src/node/server');
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') throw new Error('Kisstime is not built: run "npm run build" in ' + require('path').resolve(__dirname, '..') + ' (' + err.message + ')');
    throw err;
  }
}

/** Until the user picks an interface, only this machine can ask: a new node never exposes a server to the network. */
const DEFAULT_ADDRESS = '127.0.0.1';
/** How many of the worst clients the second output lists. */
const WORST_SHOWN = 5;
/** The editor label of each config field the core may name. */
const LABEL_OF = {
  allow: 'allow', deny: 'deny', rateInterval: 'rateInterval', rateBurst: 'rateBurst', rateLeak: 'rateLeak', maxClients: 'maxClients',
  localStratum: 'localStratum',
};

function blank(v) {
  return v === undefined || v === null || String(v).trim() === '';
}

/** What the editor stored, as the core's ServerConfigInput (the core names whatever is wrong). */
function serverConfigInput(n) {
  return {
    allow: n.allow || '',
    deny: n.deny || '',
    rateInterval: blank(n.rateInterval) ? undefined : String(n.rateInterval).trim() + (/^\d+(\.\d+)?$/.test(String(n.rateInterval).trim()) ? 's' : ''),
    rateBurst: blank(n.rateBurst) ? undefined : n.rateBurst,
    rateLeak: blank(n.rateLeak) ? undefined : n.rateLeak,
    maxClients: blank(n.maxClients) ? undefined : n.maxClients,
    localStratum: n.serveLocal === true || n.serveLocal === 'true' ? (blank(n.localStratum) ? 10 : n.localStratum) : null,
  };
}

function endpoint(address, port) {
  return (address.indexOf(':') >= 0 ? '[' + address + ']' : address) + ':' + port;
}

function shortStatus(text) {
  return text.length > 60 ? text.substring(0, 57) + '...' : text;
}

module.exports = function (RED) {
  function t(key, params) {
    return RED._('kisstime-server.' + key, params);
  }

  /** A rude client as the second output shows it: the core's record plus the reasons in words. */
  function conductReport(c) {
    const reasons = [];
    if (c.ignoredKisses > 0) {
      reasons.push(c.lastKiss === 'RATE' ? t('reason.ignoredRate', { count: c.ignoredKisses }) : t('reason.ignoredKiss', { count: c.ignoredKisses, code: c.lastKiss }));
    }
    if (c.underFloor && c.shortestIntervalS !== null) {
      reasons.push(t('reason.underFloor', { shortest: c.shortestIntervalS.toFixed(1), perMinute: c.perMinute.toFixed(1) }));
    }
    if (c.clockLeaks > 0) reasons.push(t('reason.clock', { count: c.clockLeaks, requests: c.requests }));
    return Object.assign({}, c, { reasons: reasons });
  }

  function KisstimeServerNode(n) {
    RED.nodes.createNode(this, n);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's node pattern: callbacks need the node.
    const node = this;
    const hooks = RED.settings.kisstimeTestHooks || {};
    node.upstreamNode = n.upstream ? RED.nodes.getNode(n.upstream) : null;
    node.server = null;
    node.statsTimer = null;
    node.problem = null;

    const input = serverConfigInput(n);
    const checked = core.validateServerConfig(input);
    const portText = blank(n.port) ? '123' : String(n.port).trim();
    const port = /^\d{1,5}$/.test(portText) ? parseInt(portText, 10) : NaN;
    const address = blank(n.address) ? DEFAULT_ADDRESS : String(n.address).trim();
    const statsEveryS = blank(n.statsInterval) ? 10 : Number(n.statsInterval);

    // Node-RED knows a flow's Catch nodes only once every node of it has started, so a problem found now is said
    // when the flows have started: to a Catch node (msg.error names the cause) or, without one, as one log line.
    let flowsStarted = false;
    const waiting = [];
    const onFlowsStarted = function () {
      flowsStarted = true;
      RED.events.removeListener('flows:started', onFlowsStarted);
      while (waiting.length) waiting.shift()();
    };
    RED.events.on('flows:started', onFlowsStarted);
    function sayOnce(text, payload) {
      const say = function () { node.error(text, { topic: 'error', payload: payload }); };
      if (flowsStarted) say();
      else waiting.push(say);
    }

    // Inputs that arrive while the node is refused are dropped quietly; the red status keeps saying why.
    function refuse(text, statusText, payload) {
      node.problem = statusText;
      node.status({ fill: 'red', shape: 'ring', text: shortStatus(statusText) });
      sayOnce(text, payload);
      node.on('input', function (msg, send, done) { done(); });
      node.on('close', function (removed, done) {
        RED.events.removeListener('flows:started', onFlowsStarted);
        done();
      });
    }

    if (!checked.ok) {
      const field = checked.field.replace(/\[\d+\]$/, '');
      const label = LABEL_OF[field] ? t('label.' + LABEL_OF[field]) : field;
      const message = checked.message.substring(checked.message.indexOf(': ') + 2);
      return refuse(t('errors.field', { label: label, message: message }), t('status.refused', { field: label }), { field: checked.field });
    }
    if (net.isIP(address) === 0) return refuse(t('errors.address', { value: address }), t('status.refused', { field: t('label.address') }), { field: 'address' });
    if (!(port >= 0 && port <= 65535)) return refuse(t('errors.port'), t('status.refused', { field: t('label.port') }), { field: 'port' });
    if (!(statsEveryS >= 1)) return refuse(t('errors.statsInterval'), t('status.refused', { field: t('label.statsInterval') }), { field: 'statsInterval' });
    if (n.upstream && !node.upstreamNode) return refuse(t('errors.upstreamMissing'), t('status.refused', { field: t('label.upstream') }), { field: 'upstream' });

    let adapter;
    try {
      adapter = loadServerAdapter();
    } catch (err) {
      return refuse(err.message, err.message, { field: null });
    }

    const server = adapter.createServer({ listen: { address: address, port: port }, config: input, clock: hooks.clock, random: hooks.random });
    node.server = server;
    const where = endpoint(address, port);
    if (!node.upstreamNode && input.localStratum === null) node.warn(t('warn.noUpstream'));

    function upstreamText() {
      const ref = server.reference();
      if (ref.synced) return t('status.stratum', { stratum: ref.stratum });
      return node.upstreamNode ? t('status.waiting') : (input.localStratum === null ? t('status.noUpstream') : t('status.unsynchronised'));
    }

    function statsMessage() {
      const stats = server.stats();
      const ref = server.reference();
      return { topic: 'stats', payload: Object.assign(stats, { synced: ref.synced, stratum: ref.stratum, leap: ref.leap }) };
    }

    function clientsMessage(rude, clients) {
      return { topic: 'clients', payload: { rude: rude.count, clients: clients, worst: rude.worst.map(conductReport) } };
    }

    // Counted in memory, shown on a timer: a status update per request would swamp the editor.
    let lastRudeCount = 0;
    function report() {
      const stats = statsMessage();
      const s = stats.payload;
      const rude = server.rudeClients(WORST_SHOWN);
      const kissed = s.kissed.RATE + s.kissed.DENY + s.kissed.RSTR;
      const parts = [upstreamText(), t('status.answered', { count: s.answered })];
      if (kissed) parts.push(t('status.kissed', { count: kissed }));
      parts.push(t('status.clients', { count: s.clients }));
      if (rude.worst.length) parts.push(t('status.rude', { address: rude.worst[0].address }));
      node.status({
        fill: node.problem ? 'red' : (!s.synced || rude.count ? 'yellow' : 'green'),
        shape: 'dot',
        text: node.problem || parts.join(' · '),
      });
      return { stats: stats, clients: clientsMessage(rude, s.clients), rudeCount: rude.count };
    }

    // The upstream config node owns the client and starts it only once the flows have started, so this node
    // registers like a sync node and picks the client up when the config node first reports a status.
    let followed = null;
    function attachUpstream() {
      const client = node.upstreamNode && node.upstreamNode.client;
      if (!client || client === followed) return;
      followed = client;
      // A sample may already be in (another node shares the config node, or this very event is the first sample).
      const last = client.status().lastSample;
      if (last) server.setReference(adapter.referenceFromReport(last, server.clock));
      server.follow(client);
    }
    const upstreamUser = {
      id: node.id,
      status: function () { attachUpstream(); },
      error: function (err) { node.error(err); },
    };
    if (node.upstreamNode) {
      node.upstreamNode.register(upstreamUser);
      attachUpstream();
    }

    // A socket error can repeat for every datagram (an unreachable client, say): one log line per kind, then counted.
    const socketErrorsSeen = {};
    server.on('error', function (err) {
      const code = err.code || err.message;
      if (socketErrorsSeen[code]) return;
      socketErrorsSeen[code] = true;
      node.warn(t('warn.socket', { code: code, error: err.message }));
    });
    server.start().then(function (bound) {
      node.log(t('log.serving', { where: endpoint(bound.address, bound.port) }));
      report();
    }, function (err) {
      const code = err.code || '';
      const text = code === 'EADDRINUSE' ? t('errors.addressInUse', { where: where })
        : code === 'EACCES' ? t('errors.portPermission', { where: where, port: port })
          : code === 'EADDRNOTAVAIL' ? t('errors.addressNotAvailable', { where: where })
            : t('errors.listen', { where: where, error: err.message });
      node.problem = code === 'EADDRINUSE' ? t('status.addressInUse', { where: where }) : t('status.cannotListen', { where: where });
      report();
      sayOnce(text, { code: code, address: address, port: port });
    });
    report();
    node.statsTimer = setInterval(function () {
      const r = report();
      // The client report goes out while there is someone to report, and once more when there no longer is.
      const clients = r.rudeCount > 0 || lastRudeCount > 0 ? r.clients : null;
      lastRudeCount = r.rudeCount;
      node.send([r.stats, clients]);
    }, statsEveryS * 1000);

    node.on('input', function (msg, send, done) {
      const r = report();
      msg.topic = r.stats.topic;
      msg.payload = r.stats.payload;
      send([msg, r.clients]);
      done();
    });

    node.on('close', function (removed, done) {
      RED.events.removeListener('flows:started', onFlowsStarted);
      clearInterval(node.statsTimer);
      const stopping = server.stop();
      const finish = function () {
        if (node.upstreamNode) node.upstreamNode.deregister(upstreamUser, function () { done(); });
        else done();
      };
      stopping.then(finish, finish);
    });
  }

  RED.nodes.registerType('kisstime-server', KisstimeServerNode);
};

module.exports.serverConfigInput = serverConfigInput;
