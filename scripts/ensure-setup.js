#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs the npm packages if they are missing and,
// for the tests, the Debian packages the real-daemon and browser tests need (as root, with apt-get).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const forTests = process.argv.includes('--test');

function run(cmd, args) {
  process.stderr.write('kisstime setup: ' + cmd + ' ' + args.join(' ') + '\n');
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function onPath(name) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, name)));
}

if (!fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'))) run('npm', ['ci']);

if (forTests) {
  const needed = [['chronyd', 'chrony'], ['ntpdig', 'ntpsec-ntpdate'], ['chromium', 'chromium']].filter(([bin]) => !onPath(bin) && !fs.existsSync('/usr/sbin/' + bin));
  if (needed.length > 0) {
    const packages = needed.map(([, pkg]) => pkg);
    if (process.getuid && process.getuid() === 0 && onPath('apt-get')) {
      run('apt-get', ['update', '-qq']);
      run('apt-get', ['install', '-y', '-qq', ...packages]);
    } else {
      process.stderr.write('kisstime setup: the tests need the Debian packages ' + packages.join(', ') + ': run `sudo apt-get install -y ' + packages.join(' ') + '` (or `bash .ci/run` as root).\n');
      process.exit(1);
    }
  }
}
