import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListenQueues } from '../../src/tcp/index.js';

interface Child {
  inSynQueue: boolean;
  name: string;
}

test('a child established on a closed listener, then closed, leaves the SYN queue once', () => {
  const queues = new ListenQueues<Child>(4);
  const early: Child = { inSynQueue: false, name: 'early' };
  const late: Child = { inSynQueue: false, name: 'late' };
  queues.addHalfOpen(early);
  queues.addHalfOpen(late);
  assert.equal(queues.synQueueLength, 2);
  queues.closed = true;
  assert.equal(queues.established(early), false, 'nobody will accept it: the caller resets it');
  queues.childClosed(early);
  assert.equal(queues.synQueueLength, 1, 'the other half-open child is still counted');
  queues.childClosed(late);
  assert.equal(queues.synQueueLength, 0);
  assert.deepEqual(queues.acceptQueue, []);
});

test('the accept queue holds established children until they close; the SYN queue bound is the backlog, 8 at least', () => {
  const queues = new ListenQueues<Child>(1);
  const a: Child = { inSynQueue: false, name: 'a' };
  queues.addHalfOpen(a);
  assert.equal(queues.established(a), true);
  assert.equal(queues.synQueueLength, 0);
  assert.equal(queues.acceptQueueFull, true);
  queues.childClosed(a);
  assert.equal(queues.synQueueLength, 0, 'an established child is not counted out twice');
  assert.equal(queues.acceptQueueFull, false);
  for (let i = 0; i < 7; i++) queues.addHalfOpen({ inSynQueue: false, name: `h${i}` });
  assert.equal(queues.synQueueFull(1024), false);
  queues.addHalfOpen({ inSynQueue: false, name: 'h7' });
  assert.equal(queues.synQueueFull(1024), true);
  assert.equal(queues.synQueueFull(8), true);
});
