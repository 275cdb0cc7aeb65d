// kisstime-now: stamps a passing message with the corrected time, so a gateway without root (or with a
// wrong system clock) can still timestamp its data right. It asks the shared schedule for nothing: it
// only reads the offset the kisstime-servers node already has.

'use strict';

const { problemReporter } = require('./lib/problem-report');

module.exports = function (RED) {
  function t(key, vars) {
    return RED._('kisstime-now.' + key, vars);
  }

  function KisstimeNowNode(n) {
    RED.nodes.createNode(this, n);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's node pattern: callbacks need the node.
    const node = this;
    node.serversNode = RED.nodes.getNode(n.servers);
    node.property = n.property || 'payload';
    node.format = n.format === 'ms' ? 'ms' : (n.format === 'iso' ? 'iso' : 'date');
    node.requireSync = n.requireSync === true || n.requireSync === 'true';
    const problems = problemReporter(RED, node);

    node.on('input', function (msg, send, done) {
      if (!node.serversNode) {
        problems.fail(t(n.servers ? 'errors.missingConfig' : 'errors.noConfig', { label: t('label.servers') }), msg, done);
        return;
      }
      let now;
      try {
        now = node.serversNode.now();
      } catch (err) {
        // The config node logged its problem already.
        problems.fail(t('errors.configProblem', { problem: err.message }), msg, done, true);
        return;
      }
      if (now.offset === null && node.requireSync) {
        problems.fail(t('errors.notSynced'), msg, done);
        return;
      }
      const ti = now.time;
      const value = node.format === 'ms' ? ti.getTime() : (node.format === 'iso' ? ti.toISOString() : ti);
      try {
        RED.util.setMessageProperty(msg, node.property, value, true);
      } catch (err) {
        problems.fail(t('errors.cannotSet', { property: node.property, error: err.message }), msg, done);
        return;
      }
      problems.clear();
      msg.kisstime = { synced: now.offset !== null, offset: now.offset, maxError: now.maxError };
      send(msg);
      done();
    });

    if (!node.serversNode) {
      node.status({ fill: 'red', shape: 'ring', text: t('status.noServers') });
      problems.begin(t(n.servers ? 'errors.missingConfig' : 'errors.noConfig', { label: t('label.servers') }));
      return;
    }
    node.serversNode.register(node);
    node.on('close', function (removed, done) {
      node.serversNode.deregister(node, done);
    });
  }

  RED.nodes.registerType('kisstime-now', KisstimeNowNode);
};
