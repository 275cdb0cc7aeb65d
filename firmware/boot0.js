// Kisstime starter, saved to Storage as .boot0 so it runs at every power-on before .bootcde.
// The config comes from the Storage file kisstime.cfg (written by the fleet tool); the handle stays global
// so application code can call kisstime.on("sync", ...) and kisstime.now().
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- a global for application code
var kisstime = require('kisstime').start();
