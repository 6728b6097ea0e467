/**
 * IPv4 header (RFC 791). Options are accepted and skipped on input (tcpts
 * acts on none of them) and never emitted.
 */
import type { Ipv4Address } from './address.js';
import { readIpv4Address, writeIpv4Address } from './address.js';
import { checksumAdd, checksumFinish } from './checksum.js';
import { WireDropReason } from './drop.js';

/** Offset of the version (high nibble) and IHL (low nibble, in 32-bit words). */
export const IPV4_VERSION_IHL = 0;
/** Offset of the DS field: DSCP (high 6 bits, RFC 2474) and ECN (low 2 bits, RFC 3168). */
export const IPV4_DSCP_ECN = 1;
/** Offset of the total length (header plus payload, in bytes). */
export const IPV4_TOTAL_LENGTH = 2;
/** Offset of the identification. */
export const IPV4_IDENTIFICATION = 4;
/** Offset of the flags (high 3 bits) and fragment offset (low 13 bits, 8-byte units). */
export const IPV4_FLAGS_FRAGMENT = 6;
/** Offset of the time to live. */
export const IPV4_TTL = 8;
/** Offset of the protocol number. */
export const IPV4_PROTOCOL = 9;
/** Offset of the header checksum. */
export const IPV4_CHECKSUM = 10;
/** Offset of the source address. */
export const IPV4_SRC = 12;
/** Offset of the destination address. */
export const IPV4_DST = 16;
/** Length of a header without options: the minimum, and what emit writes. */
export const IPV4_HEADER_LENGTH = 20;
/** RFC 791: the IHL is 4 bits of 32-bit words, so a header is at most 60 bytes. */
export const IPV4_MAX_HEADER_LENGTH = 60;
/** RFC 791: the total length is a 16-bit field. */
export const IPV4_MAX_LENGTH = 0xffff;

/** RFC 791 flag bits in the 16-bit flags/fragment word: Don't Fragment. */
const FLAG_DF = 0x4000;
/** RFC 791: More Fragments. */
const FLAG_MF = 0x2000;
/** The 13-bit fragment offset, counted in 8-byte units. */
const FRAGMENT_OFFSET_MASK = 0x1fff;

/**
 * IANA protocol numbers ("Assigned Internet Protocol Numbers"): the IPv4
 * protocol field and the IPv6 Next Header field share one registry.
 */
export const IpProtocol = {
  /** IPv6 Hop-by-Hop Options (RFC 8200 §4.3). */
  HopByHop: 0,
  Icmp: 1,
  Tcp: 6,
  Udp: 17,
  /** IPv6 Routing header (RFC 8200 §4.4). */
  Ipv6Route: 43,
  /** IPv6 Fragment header (RFC 8200 §4.5). */
  Ipv6Fragment: 44,
  /** Encapsulating Security Payload (RFC 4303). */
  Esp: 50,
  /** Authentication Header (RFC 4302). */
  Ah: 51,
  Icmpv6: 58,
  /** IPv6 No Next Header (RFC 8200 §4.7). */
  Ipv6NoNext: 59,
  /** IPv6 Destination Options (RFC 8200 §4.6). */
  Ipv6DestOptions: 60,
} as const;

/** ECN codepoints (RFC 3168 §5), the low two bits of the DS field / traffic class. */
export const Ecn = {
  NotEct: 0,
  Ect1: 1,
  Ect0: 2,
  Ce: 3,
} as const;

/**
 * An IPv4 datagram as plain data.
 *
 * After {@link parseIpv4}, `payload` is a `subarray` view of the input,
 * exactly `total length - header length` bytes: copy (`slice`) what you
 * keep. Header options, if any, are skipped and not represented.
 */
export interface Ipv4Repr {
  src: Ipv4Address;
  dst: Ipv4Address;
  /** An IANA protocol number; see {@link IpProtocol}. */
  protocol: number;
  ttl: number;
  /** Differentiated services codepoint, 0..63 (RFC 2474). */
  dscp: number;
  /** ECN codepoint, 0..3; see {@link Ecn}. */
  ecn: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Offset of this fragment in the original payload, in bytes (a multiple of 8). */
  fragmentOffset: number;
  payload: Uint8Array;
}

/** The version nibble of an IP packet (4 or 6), for demuxing a TUN read. Valid for `bytes.length >= 1`. */
export function ipVersion(bytes: Uint8Array): number {
  return bytes[0]! >>> 4;
}

/** The header length in bytes (IHL x 4). Valid for `bytes.length >= 1`. */
export function ipv4HeaderLength(bytes: Uint8Array): number {
  return (bytes[IPV4_VERSION_IHL]! & 0x0f) * 4;
}

/** The total length field. Valid for `bytes.length >= 20`. */
export function ipv4TotalLength(bytes: Uint8Array): number {
  return (bytes[IPV4_TOTAL_LENGTH]! << 8) | bytes[IPV4_TOTAL_LENGTH + 1]!;
}

/** The protocol field. Valid for `bytes.length >= 20`. */
export function ipv4Protocol(bytes: Uint8Array): number {
  return bytes[IPV4_PROTOCOL]!;
}

/** The TTL field. Valid for `bytes.length >= 20`. */
export function ipv4Ttl(bytes: Uint8Array): number {
  return bytes[IPV4_TTL]!;
}

/** The source address. Valid for `bytes.length >= 20`. */
export function ipv4Src(bytes: Uint8Array): Ipv4Address {
  return readIpv4Address(bytes, IPV4_SRC);
}

/** The destination address. Valid for `bytes.length >= 20`. */
export function ipv4Dst(bytes: Uint8Array): Ipv4Address {
  return readIpv4Address(bytes, IPV4_DST);
}

/** True when the header is a fragment (MF set or a non-zero offset). Valid for `bytes.length >= 20`. */
export function ipv4IsFragment(bytes: Uint8Array): boolean {
  const word = (bytes[IPV4_FLAGS_FRAGMENT]! << 8) | bytes[IPV4_FLAGS_FRAGMENT + 1]!;
  return (word & (FLAG_MF | FRAGMENT_OFFSET_MASK)) !== 0;
}

/** True for 224.0.0.0/4 (RFC 5771). */
export function ipv4IsMulticast(address: Ipv4Address): boolean {
  return address >>> 28 === 0xe;
}

/**
 * Parses an IPv4 datagram. Checks, in order: at least 20 bytes (`truncated`),
 * version 4 (`bad-version`), IHL >= 5 (`bad-header-length`), the header fits
 * (`truncated`), header <= total length <= bytes available (`bad-length`),
 * and the header checksum (`bad-checksum`). Bytes beyond the total length are
 * Ethernet padding and are ignored, as Linux's ip_rcv trims them.
 */
export function parseIpv4(bytes: Uint8Array): Ipv4Repr | WireDropReason {
  if (bytes.length < IPV4_HEADER_LENGTH) return WireDropReason.Truncated;
  if (ipVersion(bytes) !== 4) return WireDropReason.BadVersion;
  const headerLength = ipv4HeaderLength(bytes);
  // RFC 791: the minimum value for a correct header is 5 words.
  if (headerLength < IPV4_HEADER_LENGTH) return WireDropReason.BadHeaderLength;
  if (headerLength > bytes.length) return WireDropReason.Truncated;
  const totalLength = ipv4TotalLength(bytes);
  if (totalLength < headerLength || totalLength > bytes.length) return WireDropReason.BadLength;
  // RFC 1071: a correct header, checksum field included, sums to 0xffff.
  if (checksumFinish(checksumAdd(0, bytes.subarray(0, headerLength))) !== 0) {
    return WireDropReason.BadChecksum;
  }
  const flagsFragment = (bytes[IPV4_FLAGS_FRAGMENT]! << 8) | bytes[IPV4_FLAGS_FRAGMENT + 1]!;
  const ds = bytes[IPV4_DSCP_ECN]!;
  return {
    src: ipv4Src(bytes),
    dst: ipv4Dst(bytes),
    protocol: bytes[IPV4_PROTOCOL]!,
    ttl: bytes[IPV4_TTL]!,
    dscp: ds >>> 2,
    ecn: ds & 3,
    identification: (bytes[IPV4_IDENTIFICATION]! << 8) | bytes[IPV4_IDENTIFICATION + 1]!,
    dontFragment: (flagsFragment & FLAG_DF) !== 0,
    moreFragments: (flagsFragment & FLAG_MF) !== 0,
    fragmentOffset: (flagsFragment & FRAGMENT_OFFSET_MASK) * 8,
    payload: bytes.subarray(headerLength, totalLength),
  };
}

/** Bytes {@link emitIpv4} writes: a 20-byte header plus the payload. */
export function ipv4Length(repr: Ipv4Repr): number {
  return IPV4_HEADER_LENGTH + repr.payload.length;
}

/**
 * Writes a 20-byte header (no options) with its checksum, then the payload
 * unless it is already in place (a view of `out` at offset 20), at the start
 * of `out`. Returns the datagram length. Throws on a repr that cannot be
 * encoded (too long, fragment offset not a multiple of 8).
 */
export function emitIpv4(repr: Ipv4Repr, out: Uint8Array): number {
  const length = ipv4Length(repr);
  if (length > IPV4_MAX_LENGTH) {
    throw new RangeError(
      `emitIpv4: a ${length}-byte datagram exceeds the 65535-byte IPv4 limit; fragment or send less`,
    );
  }
  if (out.length < length) {
    throw new RangeError(
      `emitIpv4: the output holds ${out.length} bytes but the datagram needs ${length}; size it with ipv4Length()`,
    );
  }
  if (repr.fragmentOffset % 8 !== 0 || repr.fragmentOffset > FRAGMENT_OFFSET_MASK * 8) {
    throw new RangeError(
      `emitIpv4: fragmentOffset ${repr.fragmentOffset} must be a multiple of 8 no larger than 65528`,
    );
  }
  out[IPV4_VERSION_IHL] = 0x45;
  out[IPV4_DSCP_ECN] = ((repr.dscp & 0x3f) << 2) | (repr.ecn & 3);
  out[IPV4_TOTAL_LENGTH] = length >>> 8;
  out[IPV4_TOTAL_LENGTH + 1] = length & 0xff;
  out[IPV4_IDENTIFICATION] = (repr.identification >>> 8) & 0xff;
  out[IPV4_IDENTIFICATION + 1] = repr.identification & 0xff;
  const flagsFragment =
    (repr.dontFragment ? FLAG_DF : 0) |
    (repr.moreFragments ? FLAG_MF : 0) |
    (repr.fragmentOffset / 8);
  out[IPV4_FLAGS_FRAGMENT] = flagsFragment >>> 8;
  out[IPV4_FLAGS_FRAGMENT + 1] = flagsFragment & 0xff;
  out[IPV4_TTL] = repr.ttl & 0xff;
  out[IPV4_PROTOCOL] = repr.protocol & 0xff;
  out[IPV4_CHECKSUM] = 0;
  out[IPV4_CHECKSUM + 1] = 0;
  writeIpv4Address(out, IPV4_SRC, repr.src);
  writeIpv4Address(out, IPV4_DST, repr.dst);
  const checksum = checksumFinish(checksumAdd(0, out.subarray(0, IPV4_HEADER_LENGTH)));
  out[IPV4_CHECKSUM] = checksum >>> 8;
  out[IPV4_CHECKSUM + 1] = checksum & 0xff;
  placePayload(out, IPV4_HEADER_LENGTH, repr.payload);
  return length;
}

/** Copies `payload` to `out[offset..]` unless it is already there (set() would clone an overlapping source first). */
function placePayload(out: Uint8Array, offset: number, payload: Uint8Array): void {
  if (payload.buffer === out.buffer && payload.byteOffset === out.byteOffset + offset) return;
  out.set(payload, offset);
}
