// kisstime-now: stamps a passing message with the corrected time, so a gateway without root (or with a
// wrong system clock) can still timestamp its data right. It asks the shared schedule for nothing: it
// only reads the offset the kisstime-servers node already has.

'use strict';

module.exports = function (RED) {
  function KisstimeNowNode(n) {
    RED.nodes.createNode(this, n);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's node pattern: callbacks need the node.
    const node = this;
    node.serversNode = RED.nodes.getNode(n.servers);
    node.property = n.property || 'payload';
    node.format = n.format === 'ms' ? 'ms' : (n.format === 'iso' ? 'iso' : 'date');
    node.requireSync = n.requireSync === true || n.requireSync === 'true';

    node.on('input', function (msg, send, done) {
      if (!node.serversNode) {
        done(new Error('kisstime-now: no kisstime-servers config node (servers)'));
        return;
      }
      let now;
      try {
        now = node.serversNode.now();
      } catch (err) {
        done(err);
        return;
      }
      if (now.offset === null && node.requireSync) {
        done(new Error('kisstime-now: no time sample yet, so the time would be the uncorrected system clock'));
        return;
      }
      const t = now.time;
      const value = node.format === 'ms' ? t.getTime() : (node.format === 'iso' ? t.toISOString() : t);
      try {
        RED.util.setMessageProperty(msg, node.property, value, true);
      } catch (err) {
        done(err);
        return;
      }
      msg.kisstime = { synced: now.offset !== null, offset: now.offset };
      send(msg);
      done();
    });

    if (!node.serversNode) {
      node.status({ fill: 'red', shape: 'ring', text: 'no servers configured' });
      return;
    }
    node.serversNode.register(node);
    node.on('close', function (removed, done) {
      node.serversNode.deregister(node, done);
    });
  }

  RED.nodes.registerType('kisstime-now', KisstimeNowNode);
};
