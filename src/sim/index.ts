/**
 * sim/: many stacks joined by links, in seeded virtual time. This is the
 * public simulator. The repository's own seeded test harness (plans,
 * workloads, invariants) has an entry of its own, ./scenario/index.ts, used
 * by `tcpts sim`, `tcpts soak` and the tests, and is not part of the package's API.
 */
export * from './network.js';
// The wire fuzzer (`tcpts fuzz`): seeded mutated frames against a stack, with
// its invariants; public, as a tool for anyone's stack setup.
export * from './fuzz/index.js';
