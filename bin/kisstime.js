#!/usr/bin/env node
'use strict';
require('../dist/src/node/cli/main.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write('kisstime: ' + (err && err.message ? err.message : String(err)) + '\n'); process.exitCode = 1; },
);
