// kisstime-server: a policy-enforcing time server for the devices behind a Node-RED gateway. It serves the local
// clock corrected by the offset its upstream kisstime-servers config node measured, answers only well-formed client
// requests with exactly 48 bytes, and enforces the access list and per-client rate limits with DENY, RSTR and RATE
// kisses. Every decision is the core's (src/core/server-*.ts); this file wires the socket, the upstream and the
// counters to the flow. Output: { topic: "stats", payload: ServerStats } every statsInterval seconds, and on any input.

'use strict';

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

module.exports = function (RED) {
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
    const port = parseInt(n.port, 10);
    const address = blank(n.address) ? '0.0.0.0' : String(n.address).trim();
    const statsEveryS = blank(n.statsInterval) ? 10 : parseFloat(n.statsInterval);

    function refuse(text) {
      node.status({ fill: 'red', shape: 'ring', text: text.length > 60 ? text.substring(0, 57) + '...' : text });
      node.error('kisstime-server: ' + text);
      node.on('input', function (msg, send, done) { done(new Error('kisstime-server: ' + text)); });
    }

    if (!checked.ok) return refuse(checked.message);
    if (!(port >= 0 && port <= 65535)) return refuse('port: must be 0-65535 (123 is NTP\'s)');
    if (!(statsEveryS >= 1)) return refuse('statsInterval: at least 1 s');
    if (n.upstream && !node.upstreamNode) return refuse('upstream: the kisstime-servers config node is missing');

    let adapter;
    try {
      adapter = loadServerAdapter();
    } catch (err) {
      return refuse(err.message);
    }

    const server = adapter.createServer({ listen: { address: address, port: port }, config: input, clock: hooks.clock, random: hooks.random });
    node.server = server;

    function upstreamText() {
      const ref = server.reference();
      if (!ref.synced) return node.upstreamNode ? 'waiting for upstream' : 'unsynchronised';
      return 'stratum ' + ref.stratum;
    }

    function statsMessage() {
      const stats = server.stats();
      const ref = server.reference();
      return { topic: 'stats', payload: Object.assign(stats, { synced: ref.synced, stratum: ref.stratum, leap: ref.leap }) };
    }

    // Counted in memory, shown on a timer: a status update per request would swamp the editor.
    function report() {
      const msg = statsMessage();
      const s = msg.payload;
      const kissed = s.kissed.RATE + s.kissed.DENY + s.kissed.RSTR;
      node.status({
        fill: node.problem ? 'red' : (msg.payload.synced ? 'green' : 'yellow'),
        shape: 'dot',
        text: node.problem || (upstreamText() + ' · ' + s.answered + ' ok' + (kissed ? ' · ' + kissed + ' kissed' : '') + ' · ' + s.clients + ' clients'),
      });
      return msg;
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

    server.on('error', function (err) {
      node.warn('kisstime-server: ' + err.message);
    });
    server.start().then(function (where) {
      node.log('serving on ' + where.address + ':' + where.port);
      report();
    }, function (err) {
      node.problem = err.message;
      report();
      node.error('kisstime-server: ' + err.message + (port < 1024 ? ' (port ' + port + ' needs root or CAP_NET_BIND_SERVICE; or use a high port and redirect)' : ''));
    });
    report();
    node.statsTimer = setInterval(function () { node.send(report()); }, statsEveryS * 1000);

    node.on('input', function (msg, send, done) {
      const out = report();
      msg.topic = out.topic;
      msg.payload = out.payload;
      send(msg);
      done();
    });

    node.on('close', function (removed, done) {
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
