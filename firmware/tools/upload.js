#!/usr/bin/env node
// npm run firmware:upload -- --port PORT [--config cfg.json] [--timeout 60] [--dry-run DIR] [--espruino-config KEY=VALUE]
// Puts kisstime (minified), .boot0 and, with --config, kisstime.cfg on one board through the espruino CLI.
// PORT is a serial device (/dev/ttyUSB0) or tcp://host:port (an ESP board's telnet REPL).

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { bundleInfo, runEspruino } = require('./espruino-cli');
const { checkConfig } = require('./check-config');

function parseArgs(argv) {
  const out = { espruinoConfig: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port' || a === '-p') out.port = next();
    else if (a === '--config') out.configFile = next();
    else if (a === '--timeout') out.timeoutS = Number(next());
    else if (a === '--dry-run') out.dryRun = next();
    else if (a === '--espruino-config') out.espruinoConfig.push(next());
    else if (a === '--name') out.name = next();
    else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

async function main(argv) {
  const args = parseArgs(argv);
  if (!args.port && !args.dryRun) throw new Error('usage: npm run firmware:upload -- --port /dev/ttyUSB0|tcp://host:23 [--config cfg.json] [--dry-run DIR]');
  const info = bundleInfo();
  const config = args.configFile ? JSON.parse(fs.readFileSync(args.configFile, 'utf8')) : undefined;
  if (config !== undefined) {
    const problem = checkConfig(config);
    if (problem) throw new Error(`config refused before upload: ${problem}`);
  }
  let outputFile;
  if (args.dryRun) {
    fs.mkdirSync(args.dryRun, { recursive: true });
    outputFile = path.join(args.dryRun, `${args.name || 'board'}.js`);
  }
  const result = await runEspruino({ port: args.port, config, timeoutS: args.timeoutS, espruinoConfig: args.espruinoConfig, outputFile });
  if (!result.ok) {
    process.stderr.write(result.output);
    throw new Error(result.timedOut ? `upload timed out after ${args.timeoutS || 60} s` : `upload failed (espruino exit ${result.code})`);
  }
  console.log(outputFile ? `kisstime ${info.version}: what would be sent is in ${outputFile}` : `kisstime ${info.version} (${info.minifiedBytes} bytes) uploaded to ${args.port}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`firmware:upload: ${error.message}`);
    process.exitCode = 1;
  });
}

module.exports = { main, parseArgs };
