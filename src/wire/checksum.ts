/**
 * The Internet checksum (RFC 1071): one's-complement sum of big-endian
 * 16-bit words. It runs on every packet, so the loop reads bytes directly
 * (no DataView allocation), handles eight bytes per iteration, and defers
 * the carry fold to the end: a JS number holds an exact sum of 2^37 words,
 * far beyond any packet.
 */

/** Adds `bytes` to a running (unfolded) sum. `bytes` must start at an even offset of the checksummed region. */
export function checksumAdd(sum: number, bytes: Uint8Array): number {
  const n = bytes.length;
  const end8 = n - (n % 8);
  let i = 0;
  let acc = 0;
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
  return sum + acc;
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
