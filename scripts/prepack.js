#!/usr/bin/env node
// npm pack and npm publish run this first: it builds, from nothing, everything the package runs, so a tarball
// packed from a fresh clone works. dist/ is emptied first, so no file of an older build (or of a source since
// deleted) can slip in; the package's "files" list then picks the JavaScript out of dist/src. No source maps
// or declarations are built here: the package ships neither (the TypeScript sources are not in it, and it is not
// a typed library).

'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function run(script, args) {
  // Progress goes to stderr: npm pack --json writes its answer on stdout.
  execFileSync(process.execPath, [script, ...args], { cwd: root, stdio: ['ignore', 2, 2] });
}

fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
run(require.resolve('typescript/bin/tsc'), ['-p', 'tsconfig.build.json', '--sourceMap', 'false', '--declaration', 'false']);
run(path.join(root, 'firmware', 'build.js'), []);
