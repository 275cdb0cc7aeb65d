// kisstime-sync: shows the shared schedule of a kisstime-servers node as messages and a status line.
// Output 1: every accepted sample. Output 2: what the policy did instead (kiss, backoff, failover, hold,
// deferral, stop). An input message asks for a sync now; the core decides whether that is allowed.

'use strict';

const { deferredMessage } = require('./lib/event-messages');
const { problemReporter } = require('./lib/problem-report');

module.exports = function (RED) {
  function t(key, vars) {
    return RED._('kisstime-sync.' + key, vars);
  }

  function KisstimeSyncNode(n) {
    RED.nodes.createNode(this, n);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's node pattern: callbacks need the node.
    const node = this;
    node.serversNode = RED.nodes.getNode(n.servers);
    const problems = problemReporter(RED, node);

    if (!node.serversNode) {
      const text = t(n.servers ? 'errors.missingConfig' : 'errors.noConfig', { label: t('label.servers') });
      node.status({ fill: 'red', shape: 'ring', text: t('status.noServers') });
      problems.begin(text);
      node.on('input', function (msg, send, done) { problems.fail(text, msg, done); });
      return;
    }

    // Called by the config node with [sample or null, event or null].
    node.kisstimeSend = function (msgs) {
      node.send(msgs);
    };

    node.on('input', function (msg, send, done) {
      let result;
      try {
        result = node.serversNode.syncNow();
      } catch (err) {
        // A config problem was logged by the config node already.
        problems.fail(err.message, msg, done, node.serversNode.problem() !== null);
        return;
      }
      problems.clear();
      if (!result.accepted) {
        const answer = deferredMessage(result, t);
        // Keep the asker's other properties (e.g. _msgid chains, correlation ids) on the answer.
        msg.topic = answer.topic;
        msg.payload = answer.payload;
        send([null, msg]);
      }
      done();
    });

    node.serversNode.register(node);
    node.on('close', function (removed, done) {
      node.serversNode.deregister(node, done);
    });
  }

  RED.nodes.registerType('kisstime-sync', KisstimeSyncNode);
};
