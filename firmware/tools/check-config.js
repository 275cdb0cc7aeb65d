// Checks a board config with the board's own rules (firmware/src/board-config.ts: what a board accepts is less than
// Node accepts: numbers of seconds only, "host" or "host:port" texts, no IPv6), before anything is flashed, so a fleet
// operator hears "minInterval: ..." at the desk instead of from a board that ignores its kisstime.cfg.

'use strict';

const esbuild = require('esbuild');
const path = require('node:path');

let core = null;

function loadCore() {
  if (core) return core;
  const out = esbuild.buildSync({
    stdin: {
      contents: "export { boardConfig } from './board-config';",
      resolveDir: path.resolve(__dirname, '..', 'src'),
      loader: 'ts',
    },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  const mod = { exports: {} };
  new Function('module', 'exports', out.outputFiles[0].text)(mod, mod.exports);
  core = mod.exports;
  return core;
}

/** null when the config is acceptable, else the message naming the field: the board's own words. */
function checkConfig(config) {
  const c = loadCore();
  // On a board the config is always the object start() merged it into.
  if (!config || typeof config !== 'object') return 'config: expected an object';
  try {
    // A board with Wifi resolves names; one without is told at start that it needs IP addresses.
    c.boardConfig(config, true);
  } catch (e) {
    return e.message;
  }
  return null;
}

module.exports = { checkConfig };
