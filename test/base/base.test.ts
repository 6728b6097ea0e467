import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BufferPool,
  ByteRing,
  RangeSet,
  SeededRng,
  inWindow,
  randomFloat,
  seq,
  seqAdd,
  seqBetween,
  seqDiff,
  seqGe,
  seqGt,
  seqLe,
  seqLt,
  seqMax,
} from '../../src/base/index.js';

test('sequence numbers compare across the 2^32 wrap', () => {
  const near = seq(0xffff_fff0);
  const past = seqAdd(near, 0x20);
  assert.equal(past, 0x10);
  assert.ok(seqLt(near, past));
  assert.ok(seqGt(past, near));
  assert.ok(seqLe(near, near) && seqGe(near, near));
  assert.equal(seqDiff(past, near), 0x20);
  assert.equal(seqDiff(near, past), -0x20);
  assert.equal(seqMax(near, past), past);
  assert.ok(inWindow(seq(5), near, 0x20));
  assert.ok(!inWindow(seq(0x10), near, 0x20));
  assert.ok(!inWindow(near, near, 0), 'an empty window holds nothing');
  assert.ok(seqBetween(near, seq(0), past));
  assert.ok(!seqBetween(near, seq(0x11), past));
});

test('seqAdd and seqDiff are inverse for distances below 2^31', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }),
      (a, n) => {
        const s = seq(a);
        const t = seqAdd(s, n);
        assert.equal(seqDiff(t, s), n);
        assert.equal(seqLt(s, t), n > 0);
      },
    ),
  );
});

test('ByteRing keeps bytes in order across wrap and growth, within its limit', () => {
  const ring = new ByteRing(10_000);
  assert.equal(ring.allocated, 0, 'storage is lazy');
  const model: number[] = [];
  const rng = new SeededRng(7);
  let next = 0;
  for (let round = 0; round < 2000; round++) {
    if (randomFloat(rng) < 0.55) {
      const chunk = new Uint8Array(1 + (rng.nextU32() % 3000));
      for (let i = 0; i < chunk.length; i++) chunk[i] = next++ & 0xff;
      const taken = ring.write(chunk);
      assert.equal(taken, Math.min(chunk.length, 10_000 - model.length));
      for (let i = 0; i < taken; i++) model.push(chunk[i]!);
      next -= chunk.length - taken;
    } else {
      const out = new Uint8Array(1 + (rng.nextU32() % 3000));
      const offset = rng.nextU32() % 50;
      const peeked = ring.peek(offset, out);
      assert.equal(peeked, Math.max(0, Math.min(out.length, model.length - offset)));
      assert.deepEqual([...out.subarray(0, peeked)], model.slice(offset, offset + peeked));
      const got = ring.read(out);
      assert.deepEqual([...out.subarray(0, got)], model.splice(0, got));
    }
    assert.equal(ring.length, model.length);
    assert.ok(ring.allocated <= 16_384);
  }
  ring.discard(ring.length);
  ring.release();
  assert.equal(ring.allocated, 0);
  assert.throws(() => new ByteRing(-1), RangeError);
});

test('ByteRing.view is a copy-free view of held bytes, or null where they wrap or are not held', () => {
  const ring = new ByteRing(4096);
  assert.equal(ring.view(0, 0)?.length, 0, 'an empty view of an empty ring');
  assert.equal(ring.view(0, 1), null, 'nothing held');
  const model: number[] = [];
  const rng = new SeededRng(11);
  let next = 0;
  let views = 0;
  let wraps = 0;
  for (let round = 0; round < 3000; round++) {
    if (randomFloat(rng) < 0.5) {
      const chunk = new Uint8Array(1 + (rng.nextU32() % 700));
      for (let i = 0; i < chunk.length; i++) chunk[i] = (next + i) & 0xff;
      const taken = ring.write(chunk);
      next += taken;
      for (let i = 0; i < taken; i++) model.push(chunk[i]!);
    } else {
      ring.discard(rng.nextU32() % 600);
      model.splice(0, model.length - ring.length);
    }
    const offset = rng.nextU32() % (model.length + 2);
    const length = rng.nextU32() % 1500;
    const view = ring.view(offset, length);
    if (offset + length > model.length) {
      assert.equal(view, null, 'bytes beyond what is held');
      continue;
    }
    const copy = new Uint8Array(length);
    assert.equal(ring.peek(offset, copy), offset < model.length ? length : 0);
    if (view === null) {
      // Only where the bytes wrap: peek then copies them.
      assert.deepEqual([...copy], model.slice(offset, offset + length));
      wraps++;
      continue;
    }
    views++;
    assert.deepEqual([...view], model.slice(offset, offset + length));
  }
  assert.ok(views > 100 && wraps > 10, `views ${views}, wraps ${wraps}: both cases ran`);
});

test('BufferPool recycles storage by size and keeps no more than its limit', () => {
  const pool = new BufferPool(10_000);
  const a = pool.take(4096);
  assert.equal(a.length, 4096);
  pool.give(a);
  assert.equal(pool.pooledBytes, 4096);
  assert.equal(pool.take(8192).length, 8192, 'another size is new storage');
  assert.equal(pool.take(4096), a, 'the same size comes back');
  assert.equal(pool.pooledBytes, 0);
  pool.give(a);
  pool.give(new Uint8Array(4096));
  pool.give(new Uint8Array(4096)); // over the limit: dropped
  assert.equal(pool.pooledBytes, 8192);
  pool.give(new Uint8Array(0));
  assert.equal(pool.pooledBytes, 8192);
  assert.throws(() => new BufferPool(-1), RangeError);
});

test('ByteRing with a pool: release gives storage back, the next write takes the size it had', () => {
  const pool = new BufferPool(1 << 20);
  const ring = new ByteRing(1 << 20, pool);
  ring.write(new Uint8Array(100_000).fill(1));
  const size = ring.allocated;
  assert.ok(size >= 100_000);
  ring.release(); // held: nothing happens
  assert.equal(ring.allocated, size);
  ring.discard(100_000);
  ring.release();
  assert.equal(ring.allocated, 0, 'an empty ring holds no storage');
  assert.equal(pool.pooledBytes, size);
  ring.write(Uint8Array.of(7));
  assert.equal(ring.allocated, size, 'back at the size it had, in one step');
  assert.equal(pool.pooledBytes, 0, 'taken from the pool');
  const out = new Uint8Array(4);
  assert.equal(ring.read(out), 1);
  assert.equal(out[0], 7, 'recycled storage shows only what was written since');
});

test('ByteRings sharing a pool keep their bytes apart across releases and growth', () => {
  const pool = new BufferPool(1 << 20);
  const rings = [new ByteRing(50_000, pool), new ByteRing(50_000, pool), new ByteRing(9_000, pool)];
  const models: number[][] = [[], [], []];
  const rng = new SeededRng(5);
  let next = 0;
  for (let round = 0; round < 6000; round++) {
    const k = rng.nextU32() % rings.length;
    const ring = rings[k]!;
    const model = models[k]!;
    if (randomFloat(rng) < 0.55) {
      const chunk = new Uint8Array(1 + (rng.nextU32() % 5000));
      for (let i = 0; i < chunk.length; i++) chunk[i] = next++ & 0xff;
      const taken = ring.write(chunk);
      for (let i = 0; i < taken; i++) model.push(chunk[i]!);
    } else {
      const out = new Uint8Array(1 + (rng.nextU32() % 8000));
      const got = ring.read(out);
      assert.deepEqual([...out.subarray(0, got)], model.splice(0, got));
      ring.release();
    }
    assert.equal(ring.length, model.length);
  }
  assert.ok(pool.pooledBytes <= pool.maxBytes);
});

test('RangeSet merges, counts new values and trims', () => {
  const set = new RangeSet();
  assert.equal(set.add(10, 20), 10);
  assert.equal(set.add(30, 40), 10);
  assert.equal(set.add(15, 35), 10, 'only the gap is new');
  assert.deepEqual(set.toArray(), [[10, 40]]);
  assert.equal(set.add(40, 45), 5, 'touching ranges merge');
  assert.deepEqual(set.toArray(), [[10, 45]]);
  set.add(50, 60);
  assert.ok(set.covers(12, 45) && !set.covers(44, 51));
  assert.ok(set.has(50) && !set.has(60) && !set.has(47));
  set.removeBelow(20);
  assert.deepEqual(set.toArray(), [
    [20, 45],
    [50, 60],
  ]);
  set.remove(25, 55);
  assert.deepEqual(set.toArray(), [
    [20, 25],
    [55, 60],
  ]);
  assert.equal(set.size, 10);
  set.clear();
  assert.ok(set.isEmpty);
});

test('RangeSet agrees with a bitmap model on random operations', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom('add', 'remove', 'trim'), fc.nat(200), fc.nat(40))),
      (ops) => {
        const set = new RangeSet();
        const bits = new Array<boolean>(260).fill(false);
        for (const [op, start, len] of ops) {
          if (op === 'add') {
            let fresh = 0;
            for (let i = start; i < start + len; i++) {
              if (!bits[i]) fresh++;
              bits[i] = true;
            }
            assert.equal(set.add(start, start + len), fresh);
          } else if (op === 'remove') {
            for (let i = start; i < start + len; i++) bits[i] = false;
            set.remove(start, start + len);
          } else {
            for (let i = 0; i < start; i++) bits[i] = false;
            set.removeBelow(start);
          }
        }
        for (let i = 0; i < 260; i++) assert.equal(set.has(i), bits[i], `value ${i}`);
        const ranges = set.toArray();
        for (let k = 1; k < ranges.length; k++)
          assert.ok(ranges[k]![0] > ranges[k - 1]![1], 'disjoint, not touching');
      },
    ),
  );
});

test('SeededRng repeats for a seed and differs across seeds', () => {
  const a = new SeededRng(42);
  const b = new SeededRng(42);
  const c = new SeededRng(43);
  const sa = Array.from({ length: 8 }, () => a.nextU32());
  const sb = Array.from({ length: 8 }, () => b.nextU32());
  const sc = Array.from({ length: 8 }, () => c.nextU32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  const rng = new SeededRng(1);
  let sum = 0;
  for (let i = 0; i < 10_000; i++) sum += randomFloat(rng);
  assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02, 'roughly uniform');
});
