/**
 * The wire fuzzer: mutated frames of every protocol against a stack whose
 * established connections carry checked streams (see engine.ts for the
 * invariants). Sans-IO and seeded: `tcpts fuzz --frames N --seed S` runs it.
 */
export { runFuzz, type FuzzFailure, type FuzzOptions, type FuzzResult } from './engine.js';
export { KNOWN_FUZZ_ISSUES } from './judge.js';
