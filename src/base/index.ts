/** base/: the vocabulary every layer shares. No dependencies, no host APIs. */
export * from './seq.js';
export * from './time.js';
export * from './ring.js';
export * from './rangeset.js';
export * from './rng.js';
export * from './assert.js';
export * from './siphash.js';
export * from './deadlines.js';
