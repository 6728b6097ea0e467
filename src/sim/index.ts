/** sim/: many stacks joined by links, in seeded virtual time. */
export * from './network.js';
export * from './scenario.js';
