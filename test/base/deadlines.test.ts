import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DeadlineHeap, NEVER, type Instant } from '../../src/base/index.js';

test('DeadlineHeap pops due keys earliest first and skips changed or cancelled deadlines', () => {
  const heap = new DeadlineHeap<string>();
  heap.set('a', 30 as Instant);
  heap.set('b', 10 as Instant);
  heap.set('c', 20 as Instant);
  heap.set('b', 40 as Instant); // moved later: its old entry at 10 is stale
  heap.set('c', NEVER); // cancelled
  assert.equal(heap.peek(), 30);
  assert.equal(heap.popDue(29 as Instant), null);
  assert.equal(heap.popDue(35 as Instant), 'a');
  assert.equal(heap.popDue(35 as Instant), null);
  assert.equal(heap.popDue(40 as Instant), 'b');
  assert.equal(heap.peek(), NEVER);
});

test('DeadlineHeap agrees with a plain map of last deadlines', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 100 }))),
      (ops) => {
        const heap = new DeadlineHeap<number>();
        const model = new Map<number, number>();
        for (const [key, at] of ops) {
          const deadline = at === 100 ? NEVER : (at as Instant);
          heap.set(key, deadline);
          if (deadline === NEVER) model.delete(key);
          else model.set(key, at);
        }
        const expected = [...model.entries()].sort((x, y) => x[1] - y[1]).map((e) => e[1]);
        const popped: number[] = [];
        for (let k = heap.popDue(1000 as Instant); k !== null; k = heap.popDue(1000 as Instant))
          popped.push(model.get(k)!);
        assert.deepEqual(popped, expected);
      },
    ),
  );
});
