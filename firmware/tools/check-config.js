// Checks a board config with the core's own validation, built as the firmware build builds it (what a board
// accepts is less than Node accepts: numbers of seconds only, no IPv6), before anything is flashed, so a fleet
// operator hears "minInterval: ..." at the desk instead of from a board that refuses to start.

'use strict';

const esbuild = require('esbuild');
const path = require('node:path');

let core = null;

function loadCore() {
  if (core) return core;
  const out = esbuild.buildSync({
    stdin: {
      contents: "export { checkClientConfig } from '../../src/core/config'; export { stepThresholdS } from './set-clock';",
      resolveDir: path.resolve(__dirname, '..', 'src'),
      loader: 'ts',
    },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    define: { KISSTIME_FIRMWARE: 'true' },
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
    c.checkClientConfig(config);
    c.stepThresholdS(config.setClock);
  } catch (e) {
    return e.message;
  }
  return null;
}

module.exports = { checkConfig };
