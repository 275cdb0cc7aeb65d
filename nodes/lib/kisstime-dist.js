// The compiled core and Node adapter. The nodes are thin wrappers over them, so a missing build is the
// most likely reason for a load failure: say so in words a Node-RED user can act on.

'use strict';

function load(modulePath) {
  try {
    return require(modulePath);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).indexOf('dist') >= 0) {
      throw new Error('Kisstime is not built: run "npm run build" in ' + require('path').resolve(__dirname, '..', '..') + ' (' + err.message + ')');
    }
    throw err;
  }
}

module.exports = {
  core: load('../../dist/src/core'),
  get adapter() {
    return load('../../dist/src/node');
  },
};
