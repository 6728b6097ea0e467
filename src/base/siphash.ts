/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): the keyed hash behind our initial sequence numbers (RFC 6528 F()),
 * and later SYN cookies and RFC 6056 port selection. Linux uses the same
 * function for the same jobs (secure_tcp_seq, secure_tcpv6_seq).
 *
 * The 64-bit lanes live in pairs of unsigned 32-bit halves so that no
 * `bigint` is needed: a hash is a few dozen integer operations and allocates
 * nothing (the lanes are module-level scratch; the core is single-threaded).
 */

// The state v0..v3 as (high, low) unsigned 32-bit halves.
let v0h = 0;
let v0l = 0;
let v1h = 0;
let v1l = 0;
let v2h = 0;
let v2l = 0;
let v3h = 0;
let v3l = 0;

// The initialisation constants of the paper, "somepseudorandomlygeneratedbytes".
const C0H = 0x736f6d65;
const C0L = 0x70736575;
const C1H = 0x646f7261;
const C1L = 0x6e646f6d;
const C2H = 0x6c796765;
const C2L = 0x6e657261;
const C3H = 0x74656462;
const C3L = 0x79746573;

/** One SipRound on the module-level lanes (the ARX network of the paper, §2). */
function sipRound(): void {
  let lo = 0;
  let t = 0;
  // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
  lo = v0l + v1l;
  v0h = (v0h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = lo >>> 0;
  t = v1h;
  v1h = ((t << 13) | (v1l >>> 19)) >>> 0;
  v1l = ((v1l << 13) | (t >>> 19)) >>> 0;
  v1h = (v1h ^ v0h) >>> 0;
  v1l = (v1l ^ v0l) >>> 0;
  t = v0h;
  v0h = v0l;
  v0l = t;
  // v2 += v3; v3 <<<= 16; v3 ^= v2
  lo = v2l + v3l;
  v2h = (v2h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = lo >>> 0;
  t = v3h;
  v3h = ((t << 16) | (v3l >>> 16)) >>> 0;
  v3l = ((v3l << 16) | (t >>> 16)) >>> 0;
  v3h = (v3h ^ v2h) >>> 0;
  v3l = (v3l ^ v2l) >>> 0;
  // v0 += v3; v3 <<<= 21; v3 ^= v0
  lo = v0l + v3l;
  v0h = (v0h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = lo >>> 0;
  t = v3h;
  v3h = ((t << 21) | (v3l >>> 11)) >>> 0;
  v3l = ((v3l << 21) | (t >>> 11)) >>> 0;
  v3h = (v3h ^ v0h) >>> 0;
  v3l = (v3l ^ v0l) >>> 0;
  // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
  lo = v2l + v1l;
  v2h = (v2h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = lo >>> 0;
  t = v1h;
  v1h = ((t << 17) | (v1l >>> 15)) >>> 0;
  v1l = ((v1l << 17) | (t >>> 15)) >>> 0;
  v1h = (v1h ^ v2h) >>> 0;
  v1l = (v1l ^ v2l) >>> 0;
  t = v2h;
  v2h = v2l;
  v2l = t;
}

/** Absorbs one 64-bit message word m = (mh, ml): two compression rounds (the "2" of 2-4). */
function compress(mh: number, ml: number): void {
  v3h = (v3h ^ mh) >>> 0;
  v3l = (v3l ^ ml) >>> 0;
  sipRound();
  sipRound();
  v0h = (v0h ^ mh) >>> 0;
  v0l = (v0l ^ ml) >>> 0;
}

/** Little-endian 32-bit word of `data` at `i` (all four bytes present). */
function le32(data: Uint8Array, i: number): number {
  return (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) >>> 0;
}

/** Runs the whole function; leaves the 64-bit result in (v0h, v0l). */
function run(key: Uint32Array, data: Uint8Array, length: number): void {
  if (key.length !== 4) {
    throw new RangeError(
      `siphash24: the key must be a Uint32Array of 4 words (128 bits), got ${key.length}`,
    );
  }
  if (!(length >= 0 && length <= data.length) || !Number.isInteger(length)) {
    throw new RangeError(
      `siphash24: length ${length} must be an integer in [0, data.length = ${data.length}]`,
    );
  }
  // k0 = key bytes 0..7 and k1 = bytes 8..15, both little-endian (paper §2).
  const k0l = key[0] >>> 0;
  const k0h = key[1] >>> 0;
  const k1l = key[2] >>> 0;
  const k1h = key[3] >>> 0;
  v0h = (k0h ^ C0H) >>> 0;
  v0l = (k0l ^ C0L) >>> 0;
  v1h = (k1h ^ C1H) >>> 0;
  v1l = (k1l ^ C1L) >>> 0;
  v2h = (k0h ^ C2H) >>> 0;
  v2l = (k0l ^ C2L) >>> 0;
  v3h = (k1h ^ C3H) >>> 0;
  v3l = (k1l ^ C3L) >>> 0;

  const whole = length - (length & 7);
  for (let i = 0; i < whole; i += 8) compress(le32(data, i + 4), le32(data, i));

  // The last word holds the 0..7 remaining bytes, and the length mod 256 in its top byte.
  let ml = 0;
  let mh = (length & 0xff) << 24;
  const rest = length & 7;
  for (let j = 0; j < rest; j++) {
    const b = data[whole + j];
    if (j < 4) ml |= b << (8 * j);
    else mh |= b << (8 * (j - 4));
  }
  compress(mh >>> 0, ml >>> 0);

  // Finalisation: v2 ^= 0xff, then four rounds (the "4" of 2-4).
  v2l = (v2l ^ 0xff) >>> 0;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  v0h = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  v0l = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}

/**
 * SipHash-2-4 of the first `length` bytes of `data` (all of it by default)
 * under a 128-bit key, returning the low 32 bits of the 64-bit result as an
 * unsigned number.
 *
 * `key` holds the 16 key bytes as four little-endian words: `key[0]` is bytes
 * 0..3, so the paper's key 00 01 .. 0f is `[0x03020100, 0x07060504,
 * 0x0b0a0908, 0x0f0e0d0c]` (see {@link sipKeyFromBytes}). `length` lets a
 * caller hash a prefix of a reused scratch buffer without making a view.
 * Allocates nothing. Throws only on a malformed key or length (API misuse).
 */
export function siphash24(key: Uint32Array, data: Uint8Array, length = data.length): number {
  run(key, data, length);
  return v0l;
}

/**
 * SipHash-2-4 like {@link siphash24}, returning the whole 64-bit result as
 * `[high, low]` unsigned 32-bit halves. Allocates the result pair.
 */
export function siphash24Pair(
  key: Uint32Array,
  data: Uint8Array,
  length = data.length,
): [hi: number, lo: number] {
  run(key, data, length);
  return [v0h, v0l];
}

/** Packs 16 key bytes into the 4 little-endian words {@link siphash24} takes. */
export function sipKeyFromBytes(bytes: Uint8Array): Uint32Array {
  if (bytes.length !== 16) {
    throw new RangeError(`sipKeyFromBytes: a SipHash key is 16 bytes, got ${bytes.length}`);
  }
  const key = new Uint32Array(4);
  for (let w = 0; w < 4; w++) key[w] = le32(bytes, 4 * w);
  return key;
}
