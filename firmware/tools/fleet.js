#!/usr/bin/env node
// npm run fleet:upload -- fleet.json [--dry-run DIR] [--timeout 60] [--espruino-config KEY=VALUE]
// fleet.json: [{ "name": "hall-1", "port": "tcp://10.0.0.21:23", "config": { "servers": ["10.0.0.1"] } }, ...]
// (or { "config": {...defaults}, "devices": [...] }; a device's config is merged over the defaults).
// Uploads to each device in turn, keeps going past failures, and prints a summary table.

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { bundleInfo, runEspruino } = require('./espruino-cli');
const { checkConfig } = require('./check-config');

function readFleet(file) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const devices = Array.isArray(raw) ? raw : raw.devices;
  if (!Array.isArray(devices)) throw new Error(`${file}: expected a list of devices or { devices: [...] }`);
  const defaults = Array.isArray(raw) ? undefined : raw.config;
  return devices.map((d, i) => {
    if (!d || typeof d.port !== 'string') throw new Error(`${file}: devices[${i}] needs a port`);
    const name = typeof d.name === 'string' && d.name ? d.name : `device-${i + 1}`;
    let config = defaults || d.config ? {} : undefined;
    if (defaults) Object.assign(config, defaults);
    if (d.config) Object.assign(config, d.config);
    return { name, port: d.port, config };
  });
}

function table(rows) {
  const head = ['device', 'port', 'result', 'bundle'];
  const all = [head, ...rows.map((r) => [r.name, r.port, r.result, r.version])];
  const widths = head.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  return all.map((r) => r.map((v, c) => String(v).padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

async function main(argv) {
  let file;
  let dryRun;
  let timeoutS = 60;
  const espruinoConfig = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--dry-run') dryRun = argv[++i];
    else if (argv[i] === '--timeout') timeoutS = Number(argv[++i]);
    else if (argv[i] === '--espruino-config') espruinoConfig.push(argv[++i]);
    else if (!file) file = argv[i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!file) throw new Error('usage: npm run fleet:upload -- fleet.json [--dry-run DIR]');
  const info = bundleInfo();
  const devices = readFleet(file);
  if (dryRun) fs.mkdirSync(dryRun, { recursive: true });
  const rows = [];
  for (const device of devices) {
    const problem = device.config === undefined ? null : checkConfig(device.config);
    if (problem) {
      rows.push({ name: device.name, port: device.port, result: `refused: ${problem}`, version: '-' });
      continue;
    }
    const outputFile = dryRun ? path.join(dryRun, `${device.name.replace(/[^\w.-]/g, '_')}.js`) : undefined;
    const started = Date.now();
    const r = await runEspruino({ port: device.port, config: device.config, timeoutS, espruinoConfig, outputFile });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    let result;
    if (r.ok) result = dryRun ? `written ${path.basename(outputFile)}` : `ok (${seconds} s)`;
    else if (r.timedOut) result = `failed: timed out after ${timeoutS} s`;
    else {
      const why = r.output.match(/"code":"(E[A-Z]+)"|(Unable to connect[^\n]*)|(Error:[^\n]*)/);
      result = `failed: ${why ? (why[1] || why[2] || why[3]).trim() : `no "Upload Complete" (espruino exit ${r.code})`}`;
    }
    rows.push({ name: device.name, port: device.port, result, version: r.ok ? info.version : '-' });
  }
  console.log(table(rows));
  const failed = rows.filter((r) => !/^(ok|written)/.test(r.result)).length;
  console.log(`${rows.length - failed} of ${rows.length} devices ${dryRun ? 'written' : 'updated'} with kisstime ${info.version} (${info.minifiedBytes} bytes)`);
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (error) => {
    console.error(`fleet:upload: ${error.message}`);
    process.exitCode = 1;
  });
}

module.exports = { main, readFleet };
