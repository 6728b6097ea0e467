import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, instant, seqDiff } from '../../src/base/index.js';
import { IsnGenerator } from '../../src/tcp/isn.js';

const A = Uint8Array.of(10, 0, 0, 1);
const B = Uint8Array.of(10, 0, 0, 2);
const A6 = Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const B6 = Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
const T = instant(123_456_789);

test('same seed, tuple and time give the same ISN', () => {
  const g1 = new IsnGenerator(new SeededRng(42));
  const g2 = new IsnGenerator(new SeededRng(42));
  const isn = g1.next(T, A, 40000, B, 80);
  assert.equal(g1.next(T, A, 40000, B, 80), isn, 'repeatable on one instance');
  assert.equal(g2.next(T, A, 40000, B, 80), isn, 'and across instances with the same seed');
  assert.equal(g2.next(T, A6, 40000, B6, 80), g1.next(T, A6, 40000, B6, 80));
  assert.ok(Number.isInteger(isn) && isn >= 0 && isn <= 0xffffffff);
});

test('different tuples give unrelated ISNs', () => {
  const g = new IsnGenerator(new SeededRng(1));
  const base = g.next(T, A, 40000, B, 80);
  const variants = [
    g.next(T, A, 40001, B, 80),
    g.next(T, A, 40000, B, 81),
    g.next(T, B, 40000, A, 80),
    g.next(T, B, 80, A, 40000), // the reverse direction
    g.next(T, A6, 40000, B6, 80),
    g.next(T, A, 40000, B6, 80),
  ];
  const seen = new Set([base, ...variants]);
  assert.equal(seen.size, variants.length + 1);
  // Not a small offset from each other either: the hash, not the clock, separates them.
  for (const v of variants) assert.ok(Math.abs(seqDiff(v, base)) > 1000);
  // A v4/v6 split of the same bytes is a different input.
  assert.notEqual(g.next(T, A6, 1, A, 2), g.next(T, A, 1, A6, 2));
});

test('advances with time at one per 4 µs, wrapping modulo 2^32', () => {
  const g = new IsnGenerator(new SeededRng(7));
  const t0 = g.next(instant(1_000_000), A, 40000, B, 80);
  assert.equal(seqDiff(g.next(instant(1_000_003), A, 40000, B, 80), t0), 0, 'same 4 µs tick');
  assert.equal(seqDiff(g.next(instant(1_000_004), A, 40000, B, 80), t0), 1);
  assert.equal(seqDiff(g.next(instant(1_004_000), A, 40000, B, 80), t0), 1000);
  assert.equal(seqDiff(g.next(instant(2_000_000), A, 40000, B, 80), t0), 250_000, '250k per s');
  // 2^32 ticks (4.77 hours) later the ISN has come full circle.
  const wrapped = g.next(instant(1_000_000 + 4 * 2 ** 32), A, 40000, B, 80);
  assert.equal(wrapped, t0);
  // Far in the future the arithmetic stays exact (2^50 µs is 35 years).
  const far = instant(2 ** 50);
  assert.equal(
    seqDiff(g.next(instant(2 ** 50 + 400), A, 40000, B, 80), g.next(far, A, 40000, B, 80)),
    100,
  );
});

test('different rng seeds give different ISNs for the same tuple', () => {
  const isns = new Set<number>();
  for (let seed = 0; seed < 50; seed++) {
    isns.add(new IsnGenerator(new SeededRng(seed)).next(T, A, 40000, B, 80));
  }
  assert.equal(isns.size, 50);
});

test('hash(): keyed, depends on extra, distinct from the ISN function', () => {
  const g = new IsnGenerator(new SeededRng(3));
  const h0 = g.hash(A, 40000, B, 80, 0);
  assert.equal(g.hash(A, 40000, B, 80, 0), h0);
  assert.ok(Number.isInteger(h0) && h0 >= 0 && h0 <= 0xffffffff);
  assert.notEqual(g.hash(A, 40000, B, 80, 1), h0);
  assert.notEqual(g.hash(A, 40000, B, 80, 0x80000000), h0);
  assert.notEqual(new IsnGenerator(new SeededRng(4)).hash(A, 40000, B, 80, 0), h0);
  // At time 0, M = 0 and the ISN is F alone: it must not be hash(..., 0).
  assert.notEqual(g.next(instant(0), A, 40000, B, 80), h0);
});

test('the output is spread over all 32 bits', () => {
  const g = new IsnGenerator(new SeededRng(9));
  let orBits = 0;
  let andBits = 0xffffffff;
  for (let port = 1024; port < 1088; port++) {
    const isn = g.next(instant(0), A, port, B, 80);
    orBits |= isn;
    andBits &= isn;
  }
  assert.equal(orBits >>> 0, 0xffffffff, 'every bit is set in some ISN');
  assert.equal(andBits, 0, 'every bit is clear in some ISN');
});

test('API misuse throws: bad address length or port', () => {
  const g = new IsnGenerator(new SeededRng(1));
  assert.throws(() => g.next(T, new Uint8Array(5), 1, B, 2), /localAddr must be 4/);
  assert.throws(() => g.next(T, A, 1, new Uint8Array(0), 2), /remoteAddr must be 4/);
  assert.throws(() => g.next(T, A, 65536, B, 2), /localPort/);
  assert.throws(() => g.hash(A, 1, B, -1, 0), /remotePort/);
});
