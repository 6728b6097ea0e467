// holdFirst: the first matching frame leaves late and is overtaken; later
// matching frames pass at once; the endpoint's deadline says when to wake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, instant, micros } from '../../src/base/index.js';
import { LinkKind, holdFirst, memoryPair } from '../../src/link/index.js';
import { tagOf, taggedFrame } from './frames.js';

test('the first matching frame is held for holdFor and the frames after it overtake it', () => {
  const [a, b] = memoryPair({ kind: LinkKind.Ip });
  const odd = (frame: Uint8Array): boolean => tagOf(LinkKind.Ip, frame) % 2 === 1;
  const held = holdFirst(a, { matches: odd, holdFor: micros(500) });
  const first = taggedFrame(LinkKind.Ip, 60, 1);
  assert.equal(held.send(instant(100), first), true);
  // The held frame is a copy: the sender may reuse its buffer.
  first.fill(0);
  assert.equal(held.send(instant(100), taggedFrame(LinkKind.Ip, 60, 2)), true);
  assert.equal(held.send(instant(200), taggedFrame(LinkKind.Ip, 60, 3)), true);
  assert.equal(held.pollTimeout(), instant(600));
  const early: number[] = [];
  for (let f = b.receive(instant(599)); f !== null; f = b.receive(instant(599)))
    early.push(tagOf(LinkKind.Ip, f));
  assert.deepEqual(early, [2, 3]);
  // The driver wakes at the deadline and calls receive: the frame goes on then.
  assert.equal(held.receive(instant(600)), null);
  assert.equal(tagOf(LinkKind.Ip, b.receive(instant(600))!), 1);
  assert.equal(held.pollTimeout(), NEVER);
});
