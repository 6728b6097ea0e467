/**
 * The reassembly buffer on its own (RFC 9293 §3.10.7.4 step 7): in-order
 * bytes, out-of-order segments with overlaps, duplicates counted for D-SACK,
 * holes filled, SACK ranges most recent first, limits and memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReceiveBuffer } from '../../src/tcp/index.js';
import { pattern } from './harness.js';

/** Bytes [start, end) of the stream (value i & 0xff at offset i). */
const bytes = (start: number, end: number) => pattern(end - start, start);

function readAll(buf: ReceiveBuffer): Uint8Array {
  const out = new Uint8Array(buf.readable);
  assert.equal(buf.read(out), out.length);
  return out;
}

test('in order, out of order, overlap with what is held, then the hole fills', () => {
  const buf = new ReceiveBuffer(1000);
  assert.deepEqual(buf.insert(0, bytes(0, 10)), {
    inOrder: 10,
    heldOutOfOrder: 0,
    duplicate: 0,
    filledHole: false,
  });
  assert.equal(buf.nextOffset, 10);
  assert.equal(buf.highestHeld, 10, 'nothing held: the next offset');
  assert.deepEqual(buf.insert(20, bytes(20, 30)), {
    inOrder: 0,
    heldOutOfOrder: 10,
    duplicate: 0,
    filledHole: false,
  });
  // Overlaps the held [20, 30) on both sides: only the gaps are new.
  assert.deepEqual(buf.insert(15, bytes(15, 35)), {
    inOrder: 0,
    heldOutOfOrder: 10,
    duplicate: 10,
    filledHole: false,
  });
  assert.equal(buf.outOfOrderBytes, 20);
  assert.equal(buf.outOfOrderSegments, 3);
  assert.equal(buf.highestHeld, 35);
  // The hole [10, 15) fills: everything up to 35 becomes readable.
  assert.deepEqual(buf.insert(10, bytes(10, 15)), {
    inOrder: 25,
    heldOutOfOrder: 0,
    duplicate: 0,
    filledHole: true,
  });
  assert.equal(buf.outOfOrderBytes, 0);
  assert.deepEqual(readAll(buf), bytes(0, 35));
});

test('an in-order segment that runs into a held one takes only the held tail', () => {
  const buf = new ReceiveBuffer(1000);
  buf.insert(30, bytes(30, 40));
  const r = buf.insert(0, bytes(0, 35));
  assert.equal(r.inOrder, 40);
  assert.equal(r.filledHole, true);
  assert.deepEqual(readAll(buf), bytes(0, 40));
});

test('bytes before the next offset are duplicates', () => {
  const buf = new ReceiveBuffer(1000);
  buf.insert(0, bytes(0, 25));
  assert.deepEqual(buf.insert(20, bytes(20, 30)), {
    inOrder: 5,
    heldOutOfOrder: 0,
    duplicate: 5,
    filledHole: false,
  });
  assert.deepEqual(buf.insert(0, bytes(0, 10)), {
    inOrder: 0,
    heldOutOfOrder: 0,
    duplicate: 10,
    filledHole: false,
  });
  // A repeat of a held out-of-order segment is all duplicate.
  buf.insert(50, bytes(50, 60));
  assert.equal(buf.insert(50, bytes(50, 60)).duplicate, 10);
  assert.equal(buf.outOfOrderBytes, 10);
});

test('held copies are our own: the caller may reuse its buffer', () => {
  const buf = new ReceiveBuffer(1000);
  const scratch = bytes(10, 20);
  buf.insert(10, scratch);
  scratch.fill(0xee);
  buf.insert(0, bytes(0, 10));
  assert.deepEqual(readAll(buf), bytes(0, 20));
});

test('SACK ranges: the most recently changed block first, at most max', () => {
  const buf = new ReceiveBuffer(1000);
  buf.insert(100, bytes(100, 110));
  buf.insert(200, bytes(200, 210));
  buf.insert(300, bytes(300, 310));
  assert.deepEqual(buf.sackRanges(4), [
    [300, 310],
    [200, 210],
    [100, 110],
  ]);
  // Extending the oldest block moves it to the front.
  buf.insert(110, bytes(110, 120));
  assert.deepEqual(buf.sackRanges(2), [
    [100, 120],
    [300, 310],
  ]);
  // Blocks that become in-order disappear.
  buf.insert(0, bytes(0, 100));
  assert.deepEqual(buf.sackRanges(4), [
    [300, 310],
    [200, 210],
  ]);
});

test('limits: the ring takes what fits; setLimit, free, peek and release', () => {
  const buf = new ReceiveBuffer(16);
  assert.equal(buf.limit, 16);
  assert.equal(buf.allocated, 0, 'allocated lazily');
  assert.equal(buf.insert(0, bytes(0, 20)).inOrder, 16);
  assert.equal(buf.free, 0);
  const head = new Uint8Array(4);
  assert.equal(buf.peek(head), 4);
  assert.deepEqual(head, bytes(0, 4));
  assert.equal(buf.readable, 16);
  buf.setLimit(32);
  assert.equal(buf.free, 16);
  buf.setLimit(4);
  assert.equal(buf.limit, 16, 'never below what is held');
  readAll(buf);
  buf.release();
  assert.equal(buf.allocated, 0);
});
