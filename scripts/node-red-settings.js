// The Node-RED settings that the demo (scripts/start-demo.js) and the tests' runtime (test/nodered/runtime-process.ts)
// share, so the tests run Node-RED as `npm start` does.

'use strict';

const path = require('path');

const ROOT = path.resolve(__dirname, '..');

/**
 * A Node-RED on 127.0.0.1 that reaches nothing on the internet: no telemetry, update checks, tours or palette
 * catalogue (the editor would fetch catalogue.nodered.org). It loads what is installed in userDir/node_modules.
 */
function offlineSettings(uiPort, userDir) {
  return {
    uiHost: '127.0.0.1',
    uiPort,
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
}

/** The same, loading the Kisstime nodes from this checkout (the demo and the tests of the work tree). */
function localSettings(uiPort, userDir) {
  return Object.assign(offlineSettings(uiPort, userDir), { nodesDir: [ROOT] });
}

module.exports = { localSettings, offlineSettings };
