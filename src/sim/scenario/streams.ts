/**
 * The byte streams the workloads send: byte i of stream `key` is a keyed
 * hash of i, so a receiver checks every byte it reads against the offset
 * without a copy of what was sent.
 */
export function streamWord(key: number, index: number): number {
  // murmur3's finaliser over key and word index: cheap and well mixed.
  let h = (key ^ Math.imul(index, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Writes bytes [offset, offset + length) of stream `key` into `out`. */
export function fillStream(key: number, offset: number, out: Uint8Array, length: number): void {
  let pos = offset;
  let i = 0;
  while (i < length) {
    const word = streamWord(key, pos >>> 2);
    for (let b = pos & 3; b < 4 && i < length; b++, i++, pos++) out[i] = (word >>> (b * 8)) & 0xff;
  }
}

/**
 * The 16-bit ones' complement sum (RFC 1071) of `bytes` from `start`,
 * taking `bytes[start]` as the high byte of a word; 0xffff and 0 are the
 * same value and fold to 0xffff.
 */
export function onesSum(bytes: Uint8Array, start: number): number {
  let sum = 0;
  for (let i = start; i < bytes.length; i += 2)
    sum += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0 ? 0xffff : sum;
}

/** Scratch buffers: the harness is single-threaded and never holds them across calls. */
export const WRITE_SCRATCH = new Uint8Array(65_536);
export const READ_SCRATCH = new Uint8Array(65_536);
export const EXPECT_SCRATCH = new Uint8Array(65_536);
