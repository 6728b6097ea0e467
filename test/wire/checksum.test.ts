// The Internet checksum's fast path (32-bit little-endian words, a cached
// view per buffer) against the plain definition of RFC 1071: big-endian
// 16-bit words, an odd last byte padded with zero, carries folded at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checksumAdd,
  checksumFinish,
  checksumFold,
  internetChecksum,
} from '../../src/wire/index.js';

function reference(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

test('checksumAdd folds to the RFC 1071 sum at every length, offset and buffer', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 3000 }),
      fc.nat(7),
      fc.nat(3000),
      fc.nat(0xffff),
      (data, shift, cut, start) => {
        // The region starts at an even offset of what is summed (the
        // function's contract); its address in memory may be anything.
        const buffer = new Uint8Array(data.length + 8);
        buffer.set(data, shift);
        const region = buffer.subarray(shift, shift + Math.min(cut, data.length));
        const want = reference(region);
        assert.equal(checksumFold(checksumAdd(0, region)), want);
        // A running sum carries over unchanged (mod 2^16 - 1).
        assert.equal(checksumFold(checksumAdd(start, region)), reference2(start, want));
      },
    ),
    { numRuns: 3000 },
  );
});

function reference2(start: number, sum: number): number {
  let s = start + sum;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

test('a region summed in two even-length pieces gives the sum of the whole', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 4000 }), fc.nat(), (data, at) => {
      const split = (at % data.length) & ~1;
      const whole = checksumFold(checksumAdd(0, data));
      const parts = checksumFold(
        checksumAdd(checksumAdd(0, data.subarray(0, split)), data.subarray(split)),
      );
      assert.equal(parts, whole);
    }),
    { numRuns: 2000 },
  );
});

test('the cached word view follows the buffer: alternating buffers, and one changed in place', () => {
  const a = new Uint8Array(2048).map((_, i) => (i * 7) & 0xff);
  const b = new Uint8Array(2050).map((_, i) => (i * 13 + 5) & 0xff);
  for (let round = 0; round < 4; round++) {
    assert.equal(checksumFold(checksumAdd(0, a.subarray(2, 1502))), reference(a.subarray(2, 1502)));
    assert.equal(
      checksumFold(checksumAdd(0, b.subarray(34, 1534))),
      reference(b.subarray(34, 1534)),
    );
  }
  // Same buffer, new contents: the view is over the memory, not a copy of it.
  a.fill(0xff, 0, 1024);
  assert.equal(checksumFold(checksumAdd(0, a.subarray(0, 2048))), reference(a));
  // A buffer whose length is not a multiple of four still sums its last bytes.
  const odd = new Uint8Array(1027).fill(1);
  assert.equal(checksumFold(checksumAdd(0, odd.subarray(2))), reference(odd.subarray(2)));
});

test('RFC 1071 §3 example and all-zero / all-ones data', () => {
  // The worked example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
  const example = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.equal(checksumFold(checksumAdd(0, example)), 0xddf2);
  assert.equal(internetChecksum(example), ~0xddf2 & 0xffff);
  assert.equal(checksumAdd(0, new Uint8Array(4096)), 0, 'zeros sum to zero on either path');
  assert.equal(checksumFold(checksumAdd(0, new Uint8Array(4096).fill(0xff))), 0xffff);
  assert.equal(checksumFinish(checksumAdd(0, new Uint8Array(4096).fill(0xff))), 0);
});
