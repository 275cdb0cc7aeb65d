#!/usr/bin/env node
// One Kisstime board on the real Espruino interpreter, as a command `kisstime audit --cmd` can run:
//   node espruino-board-client.js ESPRUINO MODULES_DIR HOST PORT STATE_DIR
// STATE_DIR becomes the board's flash (a fresh board): the setup run writes the three Storage modules from
// MODULES_DIR there, then the board boots with Kisstime asking HOST:PORT, and runs until the audit ends the process
// group. The interpreter needs its stdin open, and ignores SIGTERM at its prompt: it is killed with SIGKILL here.

'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const [espruino, modulesDir, host, port, stateDir] = process.argv.slice(2);
fs.mkdirSync(stateDir, { recursive: true });
const modules = ['kisstime', 'kisstime-protocol', 'kisstime-boot'];
const write = modules.map((m) => 'require("Storage").write(' + JSON.stringify(m) + ', ' + JSON.stringify(fs.readFileSync(path.join(modulesDir, m + '.min.js'), 'latin1')) + ');').join('\n');
fs.writeFileSync(path.join(stateDir, 'setup.js'), write + '\n');
const setup = spawnSync(espruino, ['setup.js'], { cwd: stateDir, input: '', timeout: 20000, killSignal: 'SIGKILL' });
if (setup.status !== 0 && setup.status !== null) process.exit(1);
// What a board with this one server configured runs at power-on; 0.1 ms asks it to poll near its floor.
const config = { servers: [host + ':' + port], lanServer: true, minInterval: 16, accuracy: 0.0001, startupDelayMin: 0, startupDelayMax: 1, timeout: 2 };
fs.writeFileSync(path.join(stateDir, 'boot.js'), 'var kisstime = require("kisstime").start(' + JSON.stringify(config) + ');\n');
const board = spawn(espruino, ['boot.js'], { cwd: stateDir, stdio: ['pipe', 'inherit', 'inherit'] });
const stop = () => {
  board.kill('SIGKILL');
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
board.on('exit', (code) => process.exit(code === null ? 0 : code));
