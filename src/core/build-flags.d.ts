// Build-time flags of the core, declared once for every file that tests them.

/**
 * Defined as true by the firmware build only (firmware/build.js); undefined everywhere else. Code behind
 * `typeof KISSTIME_FIRMWARE === 'undefined'` is what a board never uses (status, sync-now, reject and failover
 * decisions, IPv6, duration texts, the Node-RED administrator's floor, long messages, decision fields its adapter
 * never reads), and esbuild drops it from the bundle. Always test it with typeof at the point of use: that is the
 * form esbuild folds to a constant.
 */
declare const KISSTIME_FIRMWARE: boolean;
