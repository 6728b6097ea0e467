// Every link pair we have passes the one compliance suite (compliance.ts):
// the memory pair, impairment wrappers that impair nothing or only delay and
// pace, pcap taps, and compositions of them.
import {
  PcapWriter,
  holdFirst,
  impair,
  memoryPair,
  observeFrames,
  pcapLinkType,
  pcapTap,
  type FrameObserver,
} from '../../src/link/index.js';
import { millis } from '../../src/base/index.js';
import { linkCompliance } from './compliance.js';

linkCompliance('memoryPair', (config) => memoryPair(config), { instantaneous: true });

// Offload changes what stacks do with checksums, not how the link carries frames.
linkCompliance(
  'memoryPair with checksum offload',
  (config) => memoryPair({ ...config, checksumOffload: true }),
  { instantaneous: true },
);

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

linkCompliance(
  'pcapTap(memoryPair)',
  (config) => {
    const [a, b] = memoryPair(config);
    return [pcapTap(a), pcapTap(b, new PcapWriter({ linkType: pcapLinkType(config.kind) }))];
  },
  { instantaneous: true },
);

linkCompliance(
  'pcapTap(impair(memoryPair)) and impair(pcapTap(memoryPair))',
  (config) => {
    const [a, b] = memoryPair(config);
    return [
      pcapTap(impair(a, { seed: 6, delay: millis(3) })),
      impair(pcapTap(b), { seed: 7, incoming: { delay: millis(1) } }),
    ];
  },
  { instantaneous: false },
);

/** An observer that only counts, so the wrapper's own bookkeeping runs. */
function countingObserver(): FrameObserver {
  let reports = 0;
  return {
    sent: () => void reports++,
    arriving: () => void reports++,
    processed: () => void reports++,
  };
}

linkCompliance(
  'observeFrames(pcapTap(memoryPair)) and observeFrames(memoryPair)',
  (config) => {
    const [a, b] = memoryPair(config);
    return [observeFrames(pcapTap(a), countingObserver()), observeFrames(b, countingObserver())];
  },
  { instantaneous: true },
);

// Holding a frame reorders on purpose; with nothing matching, it must be transparent.
linkCompliance(
  'holdFirst(memoryPair) matching nothing',
  (config) => {
    const [a, b] = memoryPair(config);
    const never = { matches: () => false, holdFor: millis(5) };
    return [holdFirst(a, never), holdFirst(b, never)];
  },
  { instantaneous: true },
);
