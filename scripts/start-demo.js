#!/usr/bin/env node
// npm start: Node-RED 4 on http://127.0.0.1:1880 with the Kisstime nodes and a demo flow that needs no
// internet. A demo time server answers on 127.0.0.1 only; Node-RED listens on 127.0.0.1 only. Everything the
// demo writes lives in .node-red-demo/ (git-ignored): delete it, or run with --reset, to start over.

'use strict';

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { localSettings } = require('./node-red-settings');

const ROOT = path.resolve(__dirname, '..');
const USER_DIR = path.join(ROOT, '.node-red-demo');
const UI_PORT = Number(process.env.PORT || 1880);
const NTP_PORT = Number(process.env.KISSTIME_DEMO_NTP_PORT || 11123);
// The demo server runs half a second ahead of this machine, so there is an offset to see, correct and alarm on.
const DEMO_OFFSET_S = Number(process.env.KISSTIME_DEMO_OFFSET_S || 0.5);
const DEMO_CONFIG_ID = '5e7f0c10c0ffee01';

function fail(message) {
  process.stderr.write('kisstime demo: ' + message + '\n');
  process.exit(1);
}

function settingsFile() {
  return '// Written by scripts/start-demo.js on every start; edit that script, not this file.\n' +
    'module.exports = ' + JSON.stringify(localSettings(UI_PORT, USER_DIR), null, 2) + ';\n';
}

/** The three examples on one tab, sharing one config node (so one schedule), stacked top to bottom. */
function demoFlow() {
  const tabId = '5e7f0c10d0000001';
  const flow = [{ id: tabId, type: 'tab', label: 'Kisstime demo', info: 'Made by npm start from examples/.' }];
  const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).sort();
  let top = 0;
  let config = null;
  for (const file of files) {
    const nodes = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
    let bottom = 0;
    for (const node of nodes) {
      if (node.type === 'kisstime-servers') {
        config = config || Object.assign({}, node, { servers: '127.0.0.1:' + NTP_PORT });
        continue;
      }
      const copy = Object.assign({}, node, { z: tabId });
      if (typeof copy.y === 'number') {
        copy.y += top;
        bottom = Math.max(bottom, copy.y);
      }
      flow.push(copy);
    }
    top = bottom + 60;
  }
  if (!config || config.id !== DEMO_CONFIG_ID) fail('examples/ lost the shared demo config node ' + DEMO_CONFIG_ID);
  flow.push(config);
  return flow;
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'node', 'index.js'))) fail('dist/ is missing: run "npm run build" (npm start does it for you)');
  const reset = process.argv.includes('--reset');
  fs.mkdirSync(USER_DIR, { recursive: true });
  const settingsPath = path.join(USER_DIR, 'settings.js');
  fs.writeFileSync(settingsPath, settingsFile());
  const flowsPath = path.join(USER_DIR, 'flows.json');
  if (reset) fs.rmSync(path.join(USER_DIR, 'kisstime'), { recursive: true, force: true });
  if (reset || !fs.existsSync(flowsPath)) fs.writeFileSync(flowsPath, JSON.stringify(demoFlow(), null, 2) + '\n');

  const { startDemoTimeServer } = require('./demo-time-server');
  let server;
  try {
    server = await startDemoTimeServer({ address: '127.0.0.1', port: NTP_PORT, offsetS: DEMO_OFFSET_S });
  } catch (err) {
    fail('cannot start the demo time server on 127.0.0.1:' + NTP_PORT + ' (' + err.message + '); set KISSTIME_DEMO_NTP_PORT to another port and run with --reset');
  }

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
        '  Open          http://127.0.0.1:' + UI_PORT + '/  (listening on 127.0.0.1 only)',
        '  Time server   127.0.0.1:' + server.port + ' (' + server.kind + ', its clock ' + (DEMO_OFFSET_S >= 0 ? '+' : '') + DEMO_OFFSET_S + ' s off this machine on purpose)',
        '  Look at       the status lines under the "kisstime sync" nodes, and the Debug sidebar (bug icon, top right)',
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
    server.close().then(() => process.exit(stopping ? 0 : (code === null ? 1 : code)));
  });
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
