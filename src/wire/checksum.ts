/**
 * The Internet checksum (RFC 1071): one's-complement sum of big-endian
 * 16-bit words. It runs over every byte of every packet twice (once when
 * built, once when received), so it is one of the stack's hottest loops.
 *
 * Long buffers are summed as 32-bit words through a `Uint32Array` view: one
 * load per four bytes instead of four byte loads and shifts. A 32-bit word
 * is two 16-bit words (2^16 ≡ 1 mod 2^16 - 1), and the sum may be taken in
 * the host's byte order and swapped at the end (RFC 1071 §2(B), "byte order
 * independence"), so the word sum folded to 16 bits and byte-swapped is the
 * big-endian sum. Carries are folded only at the end: a JS number holds the
 * exact sum of 2^21 32-bit words (8 MB), far beyond any packet.
 */

/** Whether a Uint32Array reads bytes least significant first (every platform Node runs on). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
/**
 * Below this many bytes the byte loop is as fast as the word loop with its
 * set-up (reading the buffer, perhaps making a view): headers, ACKs and
 * pseudo-headers stay on it. Measured: at 1480 bytes the word loop is 2.5x
 * faster, at 64 KB 3.5x and more.
 */
const WORD_PATH_MIN = 256;

/** Adds `bytes` to a running (unfolded) sum. `bytes` must start at an even offset of the checksummed region. */
export function checksumAdd(sum: number, bytes: Uint8Array): number {
  const n = bytes.length;
  // The word view needs an even start in memory as well (a 16-bit word may
  // then lead up to 4-byte alignment); an odd one takes the byte loop.
  if (n >= WORD_PATH_MIN && LITTLE_ENDIAN && (bytes.byteOffset & 1) === 0) {
    return sum + sumWords(bytes, n);
  }
  return sum + sumBytes(bytes, 0, n);
}

/** Sum of the big-endian 16-bit words of bytes[from, n), an odd last byte padded with zero (RFC 1071). */
function sumBytes(bytes: Uint8Array, from: number, n: number): number {
  let i = from;
  let acc = 0;
  const end8 = n - ((n - from) % 8);
  for (; i < end8; i += 8) {
    acc +=
      ((bytes[i]! << 8) | bytes[i + 1]!) +
      ((bytes[i + 2]! << 8) | bytes[i + 3]!) +
      ((bytes[i + 4]! << 8) | bytes[i + 5]!) +
      ((bytes[i + 6]! << 8) | bytes[i + 7]!);
  }
  for (; i + 1 < n; i += 2) acc += (bytes[i]! << 8) | bytes[i + 1]!;
  // RFC 1071: an odd final byte is padded with a zero byte on the right.
  if (i < n) acc += bytes[i]! << 8;
  return acc;
}

/**
 * A word view of the last buffer summed, kept because building a view costs
 * as much as summing a hundred bytes, and consecutive packets often share one
 * buffer (frames built in one arena, a batch read from a device). It pins at
 * most that one buffer.
 */
let cachedBuffer: ArrayBufferLike | null = null;
let cachedWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/** The same sum through 32-bit little-endian loads; `bytes` starts at an even address. */
function sumWords(bytes: Uint8Array, n: number): number {
  const offset = bytes.byteOffset;
  // 0 or 2 bytes up to the next 4-byte boundary: one big-endian word.
  const lead = (4 - (offset & 3)) & 3;
  let acc = lead === 0 ? 0 : (bytes[0]! << 8) | bytes[1]!;
  const words = (n - lead) >>> 2;
  const buffer = bytes.buffer;
  // The length check also catches a resizable buffer that grew since.
  if (buffer !== cachedBuffer || offset + n > cachedWords.length * 4 + 3) {
    cachedBuffer = buffer;
    cachedWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  const view = cachedWords;
  let i = (offset + lead) >>> 2;
  const end = i + words;
  const end4 = end - (words & 3);
  let le = 0;
  for (; i < end4; i += 4) le += view[i]! + view[i + 1]! + view[i + 2]! + view[i + 3]!;
  for (; i < end; i++) le += view[i]!;
  // Fold the little-endian sum to 16 bits, then swap it into network order.
  while (le > 0xffff) le = (le % 0x10000) + Math.floor(le / 0x10000);
  acc += ((le & 0xff) << 8) | (le >>> 8);
  // The 0-3 bytes after the last whole word start at an even offset of the region.
  return acc + sumBytes(bytes, lead + words * 4, n);
}

/** Adds one 16-bit word to a running sum. */
export function checksumAddWord(sum: number, word: number): number {
  return sum + (word & 0xffff);
}

/** Adds a 32-bit value as two 16-bit words. */
export function checksumAddU32(sum: number, value: number): number {
  return sum + (value >>> 16) + (value & 0xffff);
}

/** Folds the carries of a running sum into 16 bits (not complemented). */
export function checksumFold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for a running sum: folded and complemented. */
export function checksumFinish(sum: number): number {
  return ~checksumFold(sum) & 0xffff;
}

/** Checksum of a standalone buffer (e.g. an IPv4 header or ICMPv4 message). */
export function internetChecksum(bytes: Uint8Array): number {
  return checksumFinish(checksumAdd(0, bytes));
}

/**
 * Running sum of the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768) for an
 * upper-layer protocol over `length` bytes.
 */
export function pseudoHeaderSumV4(
  src: number,
  dst: number,
  protocol: number,
  length: number,
): number {
  return checksumAddU32(checksumAddU32(0, src), dst) + protocol + length;
}

/** Running sum of the IPv6 pseudo-header (RFC 8200 §8.1). */
export function pseudoHeaderSumV6(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  length: number,
): number {
  let sum = checksumAdd(0, src);
  sum = checksumAdd(sum, dst);
  return checksumAddU32(sum, length) + nextHeader;
}
