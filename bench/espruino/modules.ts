// The two modules the espruino bench compares, each started against one server on loopback and polled every 16 s:
// Kisstime (its minified modules) and Espruino's own sntp module (the anchor in ../shared/anchors, minified).

import type { ModuleUnderTest } from './measure';

/** How often both modules sync in the measurement: the smallest interval Kisstime allows for a LAN server. */
export const SYNC_EVERY_S = 16;

/** modules: Kisstime's Storage modules, as firmware:build writes them (the adapter loads the other two itself). */
export function kisstimeModule(modules: { name: string; minified: string }[], address: string, port: number): ModuleUnderTest {
  const config = {
    servers: [address + ':' + port], lanServer: true, minInterval: SYNC_EVERY_S, maxInterval: SYNC_EVERY_S,
    startupDelayMin: 1, startupDelayMax: 1, timeout: 1,
  };
  const files = modules.map((m) => ({ name: m.name, data: m.minified }));
  return { name: 'kisstime', files, start: 'handle = M.start(' + JSON.stringify(config) + '); handle.on("sync", sync)', stop: 'handle.stop()' };
}

/** sntp.start(options, callback) syncs once, calls back, then refreshes every clockSyncRefresh ms. */
export function sntpModule(code: string, address: string, port: number): ModuleUnderTest {
  const options = { host: address, port, clockSyncRefresh: SYNC_EVERY_S * 1000, timeout: 1000 };
  return { name: 'sntp', files: [{ name: 'sntp', data: code }], start: 'M.start(' + JSON.stringify(options) + ', function () { sync(); })', stop: 'M.stop()' };
}
