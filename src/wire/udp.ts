/**
 * UDP (RFC 768) for both IP families. The pseudo-header differs by family
 * but enters the checksum only as a running sum, so callers pass that sum in
 * and one parser serves both.
 *
 * The sum must be computed with length 0, e.g.
 * `pseudoHeaderSumV4(src, dst, IpProtocol.Udp, 0)`: the UDP length field,
 * not the IP payload length, is the length that belongs in the pseudo-header
 * (RFC 768; RFC 8200 §8.1 "Upper-Layer Packet Length"), and only the parser
 * knows it once it has validated it. Length enters the one's-complement sum
 * additively, so adding it here gives the same result.
 */
import { checksumAdd, checksumFinish } from './checksum.js';
import { WireDropReason } from './drop.js';

/** Offset of the source port. */
export const UDP_SRC_PORT = 0;
/** Offset of the destination port. */
export const UDP_DST_PORT = 2;
/** Offset of the length (header plus data). */
export const UDP_LENGTH = 4;
/** Offset of the checksum. */
export const UDP_CHECKSUM = 6;
/** Length of the header. */
export const UDP_HEADER_LENGTH = 8;
/** The largest UDP length the 16-bit field can express. */
export const UDP_MAX_LENGTH = 0xffff;

/**
 * A UDP datagram as plain data.
 *
 * After {@link parseUdp}, `payload` is a `subarray` view of the input,
 * exactly `length - 8` bytes: copy (`slice`) what you keep.
 */
export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

/** The source port. Valid for `bytes.length >= 8`. */
export function udpSrcPort(bytes: Uint8Array): number {
  return (bytes[UDP_SRC_PORT]! << 8) | bytes[UDP_SRC_PORT + 1]!;
}

/** The destination port. Valid for `bytes.length >= 8`. */
export function udpDstPort(bytes: Uint8Array): number {
  return (bytes[UDP_DST_PORT]! << 8) | bytes[UDP_DST_PORT + 1]!;
}

/**
 * Parses a UDP datagram (an IP payload).
 *
 * @param pseudoSum running sum of the pseudo-header with length 0 (see the
 *   module comment).
 * @param zeroChecksumMeansNone true for IPv4, where a zero checksum field
 *   means the sender computed none (RFC 768); false for IPv6, where it is
 *   invalid (RFC 8200 §8.1) and reported as `bad-checksum`.
 *
 * Returns `truncated` below 8 bytes, `bad-length` when the length field is
 * below 8 or beyond the bytes given, and `bad-checksum`. Bytes beyond the
 * length field are ignored, as Linux trims them.
 */
export function parseUdp(
  bytes: Uint8Array,
  pseudoSum: number,
  zeroChecksumMeansNone: boolean,
): UdpRepr | WireDropReason {
  if (bytes.length < UDP_HEADER_LENGTH) return WireDropReason.Truncated;
  const length = (bytes[UDP_LENGTH]! << 8) | bytes[UDP_LENGTH + 1]!;
  if (length < UDP_HEADER_LENGTH || length > bytes.length) return WireDropReason.BadLength;
  const datagram = bytes.subarray(0, length);
  const checksumField = (bytes[UDP_CHECKSUM]! << 8) | bytes[UDP_CHECKSUM + 1]!;
  if (checksumField === 0) {
    if (!zeroChecksumMeansNone) return WireDropReason.BadChecksum;
  } else if (checksumFinish(checksumAdd(pseudoSum + length, datagram)) !== 0) {
    return WireDropReason.BadChecksum;
  }
  return {
    srcPort: udpSrcPort(bytes),
    dstPort: udpDstPort(bytes),
    payload: bytes.subarray(UDP_HEADER_LENGTH, length),
  };
}

/** Bytes {@link emitUdp} writes: the 8-byte header plus the payload. */
export function udpLength(repr: UdpRepr): number {
  return UDP_HEADER_LENGTH + repr.payload.length;
}

/**
 * Writes the datagram at the start of `out`, payload included unless it is
 * already in place at offset 8, and returns its length. The checksum is
 * always computed (RFC 1122 §4.1.3.4 says a host SHOULD; IPv6 requires it).
 *
 * @param pseudoSum running sum of the pseudo-header with length 0 (see the
 *   module comment).
 */
export function emitUdp(repr: UdpRepr, out: Uint8Array, pseudoSum: number): number {
  const length = udpLength(repr);
  if (length > UDP_MAX_LENGTH) {
    throw new RangeError(
      `emitUdp: a ${length}-byte datagram exceeds the 65535-byte UDP limit; send less`,
    );
  }
  if (out.length < length) {
    throw new RangeError(
      `emitUdp: the output holds ${out.length} bytes but the datagram needs ${length}; size it with udpLength()`,
    );
  }
  out[UDP_SRC_PORT] = (repr.srcPort >>> 8) & 0xff;
  out[UDP_SRC_PORT + 1] = repr.srcPort & 0xff;
  out[UDP_DST_PORT] = (repr.dstPort >>> 8) & 0xff;
  out[UDP_DST_PORT + 1] = repr.dstPort & 0xff;
  out[UDP_LENGTH] = length >>> 8;
  out[UDP_LENGTH + 1] = length & 0xff;
  out[UDP_CHECKSUM] = 0;
  out[UDP_CHECKSUM + 1] = 0;
  placePayload(out, UDP_HEADER_LENGTH, repr.payload);
  let checksum = checksumFinish(checksumAdd(pseudoSum + length, out.subarray(0, length)));
  // RFC 768: a computed checksum of zero is sent as all ones, since zero means "none".
  if (checksum === 0) checksum = 0xffff;
  out[UDP_CHECKSUM] = checksum >>> 8;
  out[UDP_CHECKSUM + 1] = checksum & 0xff;
  return length;
}

/** Copies `payload` to `out[offset..]` unless it is already there (set() would clone an overlapping source first). */
function placePayload(out: Uint8Array, offset: number, payload: Uint8Array): void {
  if (payload.buffer === out.buffer && payload.byteOffset === out.byteOffset + offset) return;
  out.set(payload, offset);
}
