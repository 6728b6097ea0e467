/** runtime/: drivers that run a sans-IO stack on a real or a virtual clock. Host APIs allowed. */
export * from './clock.js';
export * from './driver.js';
export * from './timers.js';
export * from './real.js';
export * from './virtual.js';
export * from './wake.js';
export * from './host.js';
export * from './socket-errors.js';
