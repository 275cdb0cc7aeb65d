// The sans-IO core: everything every adapter shares. No I/O, no timers, no Node APIs, Espruino's subset only.

export * from './timestamp';
export * from './short-format';
export * from './codec';
export * from './kiss';
export * from './accept';
export * from './filter';
export * from './clock-model';
export * from './corrected-clock';
export * from './duration';
export * from './policy';
export * from './config';
export * from './state';
export * from './scheduler';
export * from './server-address';
export * from './server-acl';
export * from './server-table';
export * from './server-rate';
export * from './server-refid';
export * from './server-config';
export * from './server-reference';
export * from './server-reply';
export * from './server-stats';
export * from './server-responder';
