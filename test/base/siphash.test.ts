import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sipKeyFromBytes, siphash24, siphash24Pair } from '../../src/base/index.js';

// The reference vectors of SipHash-2-4 (vectors.h of the reference C code, and
// appendix A of the paper for the 15-byte message): key 00 01 .. 0f, message
// i = the bytes 00 01 .. (i-1), output as a 64-bit little-endian integer.
// Cross-checked while writing this test with an independent python3 model
// (not shipped), which printed exactly these 64 values:
//
//   M = (1 << 64) - 1
//   def rotl(x, b): return ((x << b) | (x >> (64 - b))) & M
//   def sip(k, m):
//       k0 = int.from_bytes(k[:8], 'little'); k1 = int.from_bytes(k[8:], 'little')
//       v0 = k0 ^ 0x736f6d6570736575; v1 = k1 ^ 0x646f72616e646f6d
//       v2 = k0 ^ 0x6c7967656e657261; v3 = k1 ^ 0x7465646279746573
//       def rnd():
//           nonlocal v0, v1, v2, v3
//           v0 = (v0 + v1) & M; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
//           v2 = (v2 + v3) & M; v3 = rotl(v3, 16); v3 ^= v2
//           v0 = (v0 + v3) & M; v3 = rotl(v3, 21); v3 ^= v0
//           v2 = (v2 + v1) & M; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
//       n = len(m); full = n // 8 * 8
//       words = [int.from_bytes(m[i:i + 8], 'little') for i in range(0, full, 8)]
//       words.append(int.from_bytes(m[full:] + bytes(8 - (n - full)), 'little') | ((n & 0xff) << 56))
//       for w in words: v3 ^= w; rnd(); rnd(); v0 ^= w
//       v2 ^= 0xff
//       for _ in range(4): rnd()
//       return v0 ^ v1 ^ v2 ^ v3
//   k = bytes(range(16))
//   for i in range(64): print('%016x' % sip(k, bytes(range(i))))
const VECTORS = [
  '726fdb47dd0e0e31',
  '74f839c593dc67fd',
  '0d6c8009d9a94f5a',
  '85676696d7fb7e2d',
  'cf2794e0277187b7',
  '18765564cd99a68d',
  'cbc9466e58fee3ce',
  'ab0200f58b01d137',
  '93f5f5799a932462',
  '9e0082df0ba9e4b0',
  '7a5dbbc594ddb9f3',
  'f4b32f46226bada7',
  '751e8fbc860ee5fb',
  '14ea5627c0843d90',
  'f723ca908e7af2ee',
  'a129ca6149be45e5',
  '3f2acc7f57c29bdb',
  '699ae9f52cbe4794',
  '4bc1b3f0968dd39c',
  'bb6dc91da77961bd',
  'bed65cf21aa2ee98',
  'd0f2cbb02e3b67c7',
  '93536795e3a33e88',
  'a80c038ccd5ccec8',
  'b8ad50c6f649af94',
  'bce192de8a85b8ea',
  '17d835b85bbb15f3',
  '2f2e6163076bcfad',
  'de4daaaca71dc9a5',
  'a6a2506687956571',
  'ad87a3535c49ef28',
  '32d892fad841c342',
  '7127512f72f27cce',
  'a7f32346f95978e3',
  '12e0b01abb051238',
  '15e034d40fa197ae',
  '314dffbe0815a3b4',
  '027990f029623981',
  'cadcd4e59ef40c4d',
  '9abfd8766a33735c',
  '0e3ea96b5304a7d0',
  'ad0c42d6fc585992',
  '187306c89bc215a9',
  'd4a60abcf3792b95',
  'f935451de4f21df2',
  'a9538f0419755787',
  'db9acddff56ca510',
  'd06c98cd5c0975eb',
  'e612a3cb9ecba951',
  'c766e62cfcadaf96',
  'ee64435a9752fe72',
  'a192d576b245165a',
  '0a8787bf8ecb74b2',
  '81b3e73d20b49b6f',
  '7fa8220ba3b2ecea',
  '245731c13ca42499',
  'b78dbfaf3a8d83bd',
  'ea1ad565322a1a0b',
  '60e61c23a3795013',
  '6606d7e446282b93',
  '6ca4ecb15c5f91e1',
  '9f626da15c9625f3',
  'e51b38608ef25f57',
  '958a324ceb064572',
];

const KEY_BYTES = Uint8Array.from({ length: 16 }, (_, i) => i);
const MESSAGE = Uint8Array.from({ length: 64 }, (_, i) => i);

test('sipKeyFromBytes packs the key bytes as little-endian words', () => {
  assert.deepEqual(
    Array.from(sipKeyFromBytes(KEY_BYTES)),
    [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c],
  );
  assert.throws(() => sipKeyFromBytes(new Uint8Array(15)), /16 bytes/);
});

test('siphash24 matches the 64 reference vectors (message lengths 0..63)', () => {
  const key = sipKeyFromBytes(KEY_BYTES);
  for (let i = 0; i < 64; i++) {
    const expected = VECTORS[i]!;
    const [hi, lo] = siphash24Pair(key, MESSAGE.slice(0, i)); // slice: a copy of exactly i bytes
    const got = hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
    assert.equal(got, expected, `vector ${i}`);
    assert.equal(siphash24(key, MESSAGE.slice(0, i)), parseInt(expected.slice(8), 16));
  }
});

test("the paper's appendix A example: 15-byte message gives a129ca6149be45e5", () => {
  const key = sipKeyFromBytes(KEY_BYTES);
  assert.deepEqual(siphash24Pair(key, MESSAGE.slice(0, 15)), [0xa129ca61, 0x49be45e5]);
});

test('the length argument hashes a prefix of a larger buffer', () => {
  const key = sipKeyFromBytes(KEY_BYTES);
  for (let i = 0; i <= 64; i++) {
    assert.equal(siphash24(key, MESSAGE, i), siphash24(key, MESSAGE.slice(0, i)));
  }
  assert.equal(siphash24(key, MESSAGE), siphash24(key, MESSAGE, 64));
  assert.throws(() => siphash24(key, MESSAGE, 65), /length/);
  assert.throws(() => siphash24(key, MESSAGE, -1), /length/);
  assert.throws(() => siphash24(new Uint32Array(2), MESSAGE), /4 words/);
});

// A straightforward 64-bit model in bigint (fine in a test, not in the core)
// to compare the 32-bit-halves implementation with on random keys and inputs.
function sipBig(keyBytes: Uint8Array, m: Uint8Array): bigint {
  const M = (1n << 64n) - 1n;
  const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M;
  const le = (b: Uint8Array, at: number, n: number): bigint => {
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[at + i]!);
    return x;
  };
  const k0 = le(keyBytes, 0, 8);
  const k1 = le(keyBytes, 8, 8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & M;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & M;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & M;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const whole = m.length - (m.length % 8);
  const absorb = (w: bigint): void => {
    v3 ^= w;
    round();
    round();
    v0 ^= w;
  };
  for (let i = 0; i < whole; i += 8) absorb(le(m, i, 8));
  absorb(le(m, whole, m.length - whole) | (BigInt(m.length & 0xff) << 56n));
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

test('siphash24Pair agrees with a bigint model on random keys and messages', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ maxLength: 300 }),
      (keyBytes, m) => {
        const [hi, lo] = siphash24Pair(sipKeyFromBytes(keyBytes), m);
        assert.equal((BigInt(hi) << 32n) | BigInt(lo), sipBig(keyBytes, m));
      },
    ),
    { numRuns: 300 },
  );
});
