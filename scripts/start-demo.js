#!/usr/bin/env node
// npm start: Node-RED 4 on http://127.0.0.1:1880 with the Kisstime nodes, the example flows and their live
// dashboard, all working without internet. A demo time server answers on 127.0.0.1 only; Node-RED listens on
// 127.0.0.1 only; the examples' kisstime server node serves on 127.0.0.1 too, where an impatient demo client keeps
// it busy. Every sync is printed as one line in this terminal. Everything the demo writes lives in .node-red-demo/
// (git-ignored): delete it, or run with --reset, to start over.

'use strict';

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { localSettings } = require('./node-red-settings');

const ROOT = path.resolve(__dirname, '..');
// KISSTIME_DEMO_USER_DIR: the tests run the demo in a directory of their own.
const USER_DIR = process.env.KISSTIME_DEMO_USER_DIR || path.join(ROOT, '.node-red-demo');
const UI_PORT = Number(process.env.PORT || 1880);
const NTP_PORT = Number(process.env.KISSTIME_DEMO_NTP_PORT || 11123);
// Where the examples' kisstime server node serves, on loopback.
const SERVE_PORT = Number(process.env.KISSTIME_DEMO_SERVE_PORT || NTP_PORT + 1);
// The demo server runs half a second ahead of this machine, so there is an offset to see, correct and alarm on.
const DEMO_OFFSET_S = Number(process.env.KISSTIME_DEMO_OFFSET_S || 0.5);
const DEMO_CONFIG_ID = '5e7f0c10c0ffee01';
const DASHBOARD_PATH = '/dashboard/kisstime';
// Written into the demo tab's info, so a flows.json from an older demo is replaced by this one.
const DEMO_EDITION = 'kisstime demo with dashboard';

function fail(message) {
  process.stderr.write('kisstime demo: ' + message + '\n');
  process.exit(1);
}

function settingsFile() {
  return '// Written by scripts/start-demo.js on every start; edit that script, not this file.\n' +
    'module.exports = ' + JSON.stringify(localSettings(UI_PORT, USER_DIR), null, 2) + ';\n';
}

/** The demo's own server in place of the examples' placeholder, as a LAN server of ours, polled every 16 s or so. */
function demoConfig(config) {
  return Object.assign({}, config, {
    name: 'demo time server', servers: '127.0.0.1:' + NTP_PORT, lanServer: true, minInterval: '16', minIntervalUnit: 's',
    maxInterval: '5', maxIntervalUnit: 'min', timeout: '2', startupDelay: '3', startupDelayUnit: 's',
  });
}

/** Each sample as one line in the terminal: a function node that words it and a debug node that logs it. */
function terminalLine(tabId) {
  const fnId = '5e7f0c10f0000001';
  const func = [
    '// One line per sync for the terminal that runs npm start.',
    'const p = msg.payload;',
    'const ms = (s) => (s * 1000).toFixed(1) + \' ms\';',
    'msg.payload = \'sync from \' + p.server + \': offset \' + (p.offset >= 0 ? \'+\' : \'\') + ms(p.offset) + \', delay \' + ms(p.delay) +',
    '    (typeof p.maxError === \'number\' ? \', error bound ±\' + ms(p.maxError) : \'\') + \', next in \' + Math.round(p.interval) + \' s\';',
    'return msg;',
  ].join('\n');
  return {
    wire: fnId,
    nodes: [
      { id: fnId, z: tabId, type: 'function', name: 'one line per sync', func: func, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 620, y: 40, wires: [['5e7f0c10f0000002']] },
      {
        id: '5e7f0c10f0000002', z: tabId, type: 'debug', name: 'terminal', active: true, tosidebar: false, console: true, tostatus: false,
        complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'auto', x: 820, y: 40, wires: [],
      },
    ],
  };
}

/** The examples on one tab, sharing one config node (so one schedule), stacked top to bottom. */
function demoFlow() {
  const tabId = '5e7f0c10d0000001';
  const flow = [{ id: tabId, type: 'tab', label: 'Kisstime demo', info: 'Made by npm start (' + DEMO_EDITION + ') from examples/. Dashboard: ' + DASHBOARD_PATH }];
  const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).sort();
  const configs = new Map();
  let top = 0;
  for (const file of files) {
    const nodes = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
    let bottom = 0;
    for (const node of nodes) {
      // Config nodes (no position) are shared by id: the examples all use the same kisstime-servers node.
      if (typeof node.x !== 'number') {
        if (!configs.has(node.id)) configs.set(node.id, node.type === 'kisstime-servers' ? demoConfig(node) : node);
        continue;
      }
      const copy = Object.assign({}, node, { z: tabId, y: node.y + top });
      // The examples' server node serves this demo on loopback, on a port of its own.
      if (copy.type === 'kisstime-server') Object.assign(copy, { address: '127.0.0.1', port: SERVE_PORT });
      bottom = Math.max(bottom, copy.y);
      flow.push(copy);
    }
    top = bottom + 60;
  }
  if (!configs.has(DEMO_CONFIG_ID)) fail('examples/ lost the shared demo config node ' + DEMO_CONFIG_ID);
  const sync = flow.find((n) => n.type === 'kisstime-sync');
  if (sync) {
    const line = terminalLine(tabId);
    sync.wires = [sync.wires[0].concat(line.wire), sync.wires[1]];
    flow.push(...line.nodes);
  }
  return flow.concat(Array.from(configs.values()));
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'node', 'index.js'))) fail('dist/ is missing: run "npm run build" (npm start does it for you)');
  const reset = process.argv.includes('--reset');
  fs.mkdirSync(USER_DIR, { recursive: true });
  const settingsPath = path.join(USER_DIR, 'settings.js');
  fs.writeFileSync(settingsPath, settingsFile());
  const flowsPath = path.join(USER_DIR, 'flows.json');
  if (reset) fs.rmSync(path.join(USER_DIR, 'kisstime'), { recursive: true, force: true });
  const current = fs.existsSync(flowsPath) && fs.readFileSync(flowsPath, 'utf8').includes(DEMO_EDITION);
  if (!reset && fs.existsSync(flowsPath) && !current) process.stdout.write('kisstime demo: ' + flowsPath + ' is from an older demo; replacing it with this one\n');
  if (reset || !current) fs.writeFileSync(flowsPath, JSON.stringify(demoFlow(), null, 2) + '\n');

  const { startDemoTimeServer } = require('./demo-time-server');
  let server;
  try {
    server = await startDemoTimeServer({ address: '127.0.0.1', port: NTP_PORT, offsetS: DEMO_OFFSET_S });
  } catch (err) {
    fail('cannot start the demo time server on 127.0.0.1:' + NTP_PORT + ' (' + err.message + '); set KISSTIME_DEMO_NTP_PORT to another port and run with --reset');
  }
  const busy = require('./demo-busy-client').startBusyClient({ address: '127.0.0.1', port: SERVE_PORT, everyMs: 1000 });

  const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--settings', settingsPath, '--userDir', USER_DIR, '--port', String(UI_PORT)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let announced = false;
  red.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (!announced && /Started flows/.test(String(chunk))) {
      announced = true;
      process.stdout.write([
        '',
        '  Kisstime demo is running (no internet needed).',
        '  Dashboard     http://127.0.0.1:' + UI_PORT + DASHBOARD_PATH + '  (offset, error bound, poll interval, kisses; the server node\'s load)',
        '  Editor        http://127.0.0.1:' + UI_PORT + '/  (listening on 127.0.0.1 only)',
        '  Time server   127.0.0.1:' + server.port + ' (' + server.kind + ', its clock ' + (DEMO_OFFSET_S >= 0 ? '+' : '') + DEMO_OFFSET_S + ' s off this machine on purpose)',
        '  Kisstime srv  127.0.0.1:' + SERVE_PORT + ' (the examples\' kisstime server node; a demo client asks it every second, too often, to earn RATE kisses)',
        '  Look at       the status lines under the "kisstime sync" nodes, the Debug sidebar, and this terminal: one line per sync',
        '  User dir      ' + USER_DIR + '  (flows.json; schedule state in kisstime/' + DEMO_CONFIG_ID + '.json)',
        '  Start over    npm start -- --reset      Stop: Ctrl-C',
        '',
      ].join('\n') + '\n');
    }
  });

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    red.kill(signal || 'SIGINT');
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  red.on('exit', (code) => {
    Promise.all([server.close(), busy.stop()]).then(() => process.exit(stopping ? 0 : (code === null ? 1 : code)));
  });
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
