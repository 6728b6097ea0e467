/** sim/: many stacks joined by links, in seeded virtual time. */
export * from './network.js';
// The scenario harness has its own entry (./scenario/index.ts), which the
// repository's scripts and tests import; it is re-exported here so that
// the names `tcpts/sim` has always exported keep working.
export * from './scenario/index.js';
export * from './fuzz/index.js';
