// Every link pair we have passes the one compliance suite (compliance.ts):
// the memory pair and impairment wrappers that impair nothing or only delay
// and pace.
import { impair, memoryPair } from '../../src/link/index.js';
import { millis } from '../../src/base/index.js';
import { linkCompliance } from './compliance.js';

linkCompliance('memoryPair', (config) => memoryPair(config), { instantaneous: true });

linkCompliance(
  'impair(memoryPair) with no impairment',
  (config) => {
    const [a, b] = memoryPair(config);
    return [impair(a, { seed: 1 }), impair(b, { seed: 2 })];
  },
  { instantaneous: true },
);

linkCompliance(
  'impair(memoryPair) with delay and jitter (order kept), at one end only',
  (config) => {
    const [a, b] = memoryPair(config);
    return [impair(a, { seed: 3, delay: millis(5), jitter: millis(2) }), b];
  },
  { instantaneous: false },
);

linkCompliance(
  'impair(memoryPair) with a rate limit, an unbounded queue and delay, both ends',
  (config) => {
    const [a, b] = memoryPair({ ...config, queueFrames: Infinity });
    const conditions = { rate: 100e6, queueBytes: Infinity, delay: millis(1), jitter: millis(0.5) };
    return [impair(a, { seed: 4, ...conditions }), impair(b, { seed: 5, ...conditions })];
  },
  { instantaneous: false },
);
