// Runs the EspruinoTools CLI (npm package "espruino") to put the firmware on one board, or to write what would be
// sent into a file. Always offline: no module downloads (MODULE_URL empty) and no board lookup (a local board
// JSON instead of asking espruino.com), and always under a timeout, since an upload can hang.

'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const FIRMWARE = path.resolve(__dirname, '..');
const CLI = require.resolve('espruino/bin/espruino-cli.js');
const BOARD_JSON = path.join(__dirname, 'board.json');

/** The files a board gets: the three modules, the .boot0 starter, and the fleet config when one is given. */
function storageFiles(config) {
  const files = [
    { name: 'kisstime', path: path.join(FIRMWARE, 'dist', 'kisstime.min.js') },
    { name: 'kisstime-protocol', path: path.join(FIRMWARE, 'dist', 'kisstime-protocol.min.js') },
    { name: 'kisstime-boot', path: path.join(FIRMWARE, 'dist', 'kisstime-boot.min.js') },
    { name: '.boot0', path: path.join(FIRMWARE, 'boot0.js') },
  ];
  if (config !== undefined && config !== null) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kisstime-cfg-'));
    const file = path.join(dir, 'kisstime.cfg');
    fs.writeFileSync(file, JSON.stringify(config));
    files.push({ name: 'kisstime.cfg', path: file, temporary: dir });
  }
  return files;
}

/**
 * Uploads (or, with outputFile, writes without connecting) and resolves {ok, code, timedOut, output}.
 * espruinoConfig: extra "KEY=VALUE" CLI config settings (e.g. faster Storage writes on a reliable link).
 */
function runEspruino(options) {
  const files = storageFiles(options.config);
  const args = [CLI, '--no-ble', '--board', BOARD_JSON, '--config', 'MODULE_URL='];
  (options.espruinoConfig || []).forEach((kv) => args.push('--config', kv));
  if (options.outputFile) args.push('-n', '-o', options.outputFile);
  else args.push('-p', options.port);
  files.forEach((f) => args.push('--storage', `${f.name}:${f.path}`));
  // load() restarts the interpreter so .boot0 runs and Kisstime starts with the new code.
  args.push('-e', 'load()');
  const timeoutMs = (options.timeoutS || 60) * 1000;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      files.filter((f) => f.temporary).forEach((f) => fs.rmSync(f.temporary, { recursive: true, force: true }));
      const completed = /Upload Complete|Writing output to/.test(output);
      resolve({ ok: !timedOut && code === 0 && completed && !/Unable to connect|RECEIVE ERROR|Error:/.test(output), code, timedOut, output });
    });
  });
}

/** The bundle's version and size, from the manifest the build writes. */
function bundleInfo() {
  const manifest = path.join(FIRMWARE, 'dist', 'kisstime.json');
  if (!fs.existsSync(manifest)) throw new Error('firmware/dist is missing: run npm run firmware:build first');
  return JSON.parse(fs.readFileSync(manifest, 'utf8'));
}

module.exports = { runEspruino, bundleInfo, storageFiles };
