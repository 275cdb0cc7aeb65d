// One log line per problem, not one per message. Node-RED logs an error only when no Catch node takes it, so a
// problem that repeats on every message (no sample yet, a bad config) goes to Catch with each message when a Catch
// node is there for the node, and is logged once per spell when none is (the status line says why meanwhile).
// Which Catch nodes exist is read from the deployed flows (RED.nodes.eachNode) once per deploy.

'use strict';

/** Per runtime (its event bus): node id -> whether a Catch node on its tab covers it; rebuilt after every deploy. */
const coverageOf = new WeakMap();

function buildCoverage(RED) {
  const tabs = {};
  const catches = [];
  const placed = [];
  RED.nodes.eachNode(function (n) {
    if (n.type === 'tab') tabs[n.id] = !n.disabled;
    else if (n.type === 'catch' && !n.d) catches.push(n);
    else placed.push(n);
  });
  const covered = {};
  placed.forEach(function (n) {
    // A node in a subflow has no tab of its own here: whether a Catch takes its error is the runtime's call.
    if (!Object.prototype.hasOwnProperty.call(tabs, n.z)) {
      covered[n.id] = true;
      return;
    }
    covered[n.id] = catches.some(function (c) {
      if (c.z !== n.z) return false;
      if (c.scope === 'group') return !!n.g && c.g === n.g;
      return !Array.isArray(c.scope) || c.scope.indexOf(n.id) >= 0;
    });
  });
  return covered;
}

function isCaught(RED, node) {
  let state = coverageOf.get(RED.events);
  if (!state) {
    const fresh = { covered: null };
    RED.events.on('flows:started', function () { fresh.covered = null; });
    coverageOf.set(RED.events, fresh);
    state = fresh;
  }
  if (!state.covered) state.covered = buildCoverage(RED);
  const coverage = state.covered;
  // Unknown to the deployed config (a node created by a test harness, or in a subflow instance): let Node-RED decide.
  return Object.prototype.hasOwnProperty.call(coverage, node.id) ? coverage[node.id] : true;
}

/**
 * For one node: fail(text, msg, done, loggedElsewhere) ends a message with an error. With a Catch node for this
 * node, every message reaches it (msg.error.message = text) and nothing is logged; without one, the first message
 * of a spell logs text and the rest of the spell end quietly (all of them, when loggedElsewhere says another node,
 * such as the config node, has logged this problem already). begin(text) logs a problem found before any message
 * and starts its spell; clear() ends the spell.
 */
function problemReporter(RED, node) {
  let spell = null;
  return {
    fail: function (text, msg, done, loggedElsewhere) {
      if (isCaught(RED, node) || (spell !== text && !loggedElsewhere)) {
        spell = text;
        // The text itself, not an Error: Node-RED would make msg.error.message "Error: " + text.
        done(text);
        return;
      }
      spell = text;
      done();
    },
    begin: function (text) {
      spell = text;
      node.error(text);
    },
    clear: function () {
      spell = null;
    },
  };
}

module.exports = { problemReporter, isCaught };
