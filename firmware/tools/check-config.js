// Checks a board config with the core's own validateClientConfig before anything is flashed, so a fleet operator
// hears "minInterval: ..." at the desk instead of from a board that refuses to start.

'use strict';

const esbuild = require('esbuild');
const path = require('node:path');

let validate = null;

function loadValidator() {
  if (validate) return validate;
  const out = esbuild.buildSync({
    entryPoints: [path.resolve(__dirname, '..', '..', 'src', 'core', 'config.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  const mod = { exports: {} };
  new Function('module', 'exports', out.outputFiles[0].text)(mod, mod.exports);
  validate = mod.exports.validateClientConfig;
  return validate;
}

/** null when the config is acceptable, else the message naming the field. */
function checkConfig(config) {
  const r = loadValidator()(config);
  if (!r.ok) return r.message;
  const s = config.setClock;
  if (s !== undefined && typeof s !== 'boolean' && !(Number(s) > 0) && !/^\d/.test(String(s))) return 'setClock: expected true, false or a threshold in seconds';
  return null;
}

module.exports = { checkConfig };
