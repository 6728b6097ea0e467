// observeFrames: each frame is reported once as it passes, with the index a
// tap underneath gives its record, and a received frame again once the
// stack has moved on (its next receive or pollTimeout), at its arrival time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instant, type Instant } from '../../src/base/index.js';
import {
  LinkKind,
  memoryPair,
  observeFrames,
  pcapTap,
  readPcap,
  type FrameObserver,
} from '../../src/link/index.js';
import { tagOf, taggedFrame } from './frames.js';

/** Records every report as `kind index tag @time`. */
function logObserver(log: string[]): FrameObserver {
  const entry = (what: string, index: number, at: Instant, frame: Uint8Array): void =>
    void log.push(`${what} ${index} tag${tagOf(LinkKind.Ip, frame)} @${at}`);
  return {
    sent: (index, now, frame) => entry('sent', index, now, frame),
    arriving: (index, now, frame) => entry('arriving', index, now, frame),
    processed: (index, arrivedAt, frame) => entry('processed', index, arrivedAt, frame),
  };
}

test('reports sends, arrivals, and each arrival processed at the next call into the link', () => {
  const [a, b] = memoryPair({ kind: LinkKind.Ip });
  const log: string[] = [];
  const tap = pcapTap(b);
  const observed = observeFrames(tap, logObserver(log));
  a.send(instant(10), taggedFrame(LinkKind.Ip, 60, 1));
  a.send(instant(10), taggedFrame(LinkKind.Ip, 60, 2));
  assert.notEqual(observed.receive(instant(20)), null);
  assert.deepEqual(log, ['arriving 0 tag1 @20']);
  observed.send(instant(25), taggedFrame(LinkKind.Ip, 60, 3));
  // Sending is not a sign the stack is done with the arrival (it may answer as it processes).
  assert.deepEqual(log, ['arriving 0 tag1 @20', 'sent 1 tag3 @25']);
  assert.notEqual(observed.receive(instant(30)), null);
  assert.equal(observed.receive(instant(30)), null);
  observed.pollTimeout();
  assert.deepEqual(log, [
    'arriving 0 tag1 @20',
    'sent 1 tag3 @25',
    'processed 0 tag1 @20',
    'arriving 2 tag2 @30',
    'processed 2 tag2 @30',
  ]);
  // The indexes are the tap's record numbers.
  const file = readPcap(tap.bytes());
  assert.ok(typeof file !== 'string', String(file));
  assert.deepEqual(
    file.records.map((r) => tagOf(LinkKind.Ip, r.data)),
    [1, 3, 2],
  );
});

test('a frame the link refuses is not reported and takes no index', () => {
  const [a] = memoryPair({ kind: LinkKind.Ip, mtu: 100 });
  const log: string[] = [];
  const observed = observeFrames(a, logObserver(log));
  assert.equal(observed.send(instant(0), taggedFrame(LinkKind.Ip, 200, 1)), false);
  assert.equal(observed.send(instant(0), taggedFrame(LinkKind.Ip, 60, 2)), true);
  assert.deepEqual(log, ['sent 0 tag2 @0']);
});
