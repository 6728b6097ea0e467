/**
 * IPv6 header (RFC 8200) and its extension header chain. On input the chain
 * is walked to the upper-layer header; on output only the fixed header and,
 * optionally, a Fragment header are written (tcpts originates no other
 * extension headers).
 */
import type { Ipv6Address } from './address.js';
import { WireDropReason } from './drop.js';
import { IpProtocol } from './ipv4.js';

/** Offset of the version (4 bits), traffic class (8 bits) and flow label (20 bits). */
export const IPV6_VERSION_TC_FLOW = 0;
/** Offset of the payload length: everything after the 40-byte fixed header. */
export const IPV6_PAYLOAD_LENGTH = 4;
/** Offset of the Next Header field. */
export const IPV6_NEXT_HEADER = 6;
/** Offset of the hop limit. */
export const IPV6_HOP_LIMIT = 7;
/** Offset of the source address. */
export const IPV6_SRC = 8;
/** Offset of the destination address. */
export const IPV6_DST = 24;
/** Length of the fixed header. */
export const IPV6_HEADER_LENGTH = 40;
/** RFC 8200 §5: every link carries at least 1280-byte packets. */
export const IPV6_MIN_MTU = 1280;

/** Within a Fragment header: offset of Next Header. */
export const IPV6_FRAGMENT_NEXT_HEADER = 0;
/** Within a Fragment header: offset of the fragment offset (13 bits, 8-byte units) and M flag (bit 0). */
export const IPV6_FRAGMENT_OFFSET_FLAGS = 2;
/** Within a Fragment header: offset of the 32-bit identification. */
export const IPV6_FRAGMENT_IDENTIFICATION = 4;
/** RFC 8200 §4.5: the Fragment header is 8 bytes. */
export const IPV6_FRAGMENT_HEADER_LENGTH = 8;

/** RFC 8200 §4.2: the Pad1 option, a single zero byte with no length. */
const OPTION_PAD1 = 0;
/** RFC 8200 §4.2: the PadN option. */
const OPTION_PADN = 1;

/** The fields of an IPv6 Fragment header (RFC 8200 §4.5). */
export interface Ipv6Fragment {
  /** Offset of this fragment's data in the fragmentable part, in bytes (a multiple of 8). */
  offset: number;
  /** The M flag: more fragments follow. */
  moreFragments: boolean;
  identification: number;
}

/**
 * Where the extension header chain of a packet leads. {@link Ipv6Repr}
 * has these fields, and {@link walkIpv6Extensions} fills them in.
 */
export interface Ipv6Chain {
  /**
   * The upper-layer protocol (see {@link IpProtocol}). When a Fragment
   * header is present the walk stops there, and this is the Fragment
   * header's Next Header: the first header of the fragmentable part.
   */
  protocol: number;
  /** Offset of the upper-layer header (or of the fragment data) from the start of the packet. */
  headerLength: number;
  /** The Fragment header, or null when the packet has none. */
  fragment: Ipv6Fragment | null;
}

/**
 * An IPv6 packet as plain data.
 *
 * After {@link parseIpv6}, `src`, `dst` and `payload` are `subarray` views
 * of the input: copy (`slice`) what you keep. `payload` starts after the
 * extension headers and ends at the payload length (trailing Ethernet
 * padding is excluded).
 *
 * On emit, `headerLength` is ignored (it follows from `fragment`: 40 or 48),
 * and `protocol` is written as the Next Header of the last header emitted.
 */
export interface Ipv6Repr extends Ipv6Chain {
  src: Ipv6Address;
  dst: Ipv6Address;
  hopLimit: number;
  /** The DSCP, the high 6 bits of the traffic class (RFC 2474). */
  dscp: number;
  /** The ECN codepoint, the low 2 bits of the traffic class (RFC 3168). */
  ecn: number;
  /** The 20-bit flow label (RFC 6437). */
  flowLabel: number;
  payload: Uint8Array;
}

/** The payload length field. Valid for `bytes.length >= 40`. */
export function ipv6PayloadLength(bytes: Uint8Array): number {
  return (bytes[IPV6_PAYLOAD_LENGTH]! << 8) | bytes[IPV6_PAYLOAD_LENGTH + 1]!;
}

/** The fixed header's Next Header field. Valid for `bytes.length >= 40`. */
export function ipv6NextHeader(bytes: Uint8Array): number {
  return bytes[IPV6_NEXT_HEADER]!;
}

/** The hop limit field. Valid for `bytes.length >= 40`. */
export function ipv6HopLimit(bytes: Uint8Array): number {
  return bytes[IPV6_HOP_LIMIT]!;
}

/** The source address as a view. Valid for `bytes.length >= 40`. */
export function ipv6Src(bytes: Uint8Array): Ipv6Address {
  return bytes.subarray(IPV6_SRC, IPV6_SRC + 16);
}

/** The destination address as a view. Valid for `bytes.length >= 40`. */
export function ipv6Dst(bytes: Uint8Array): Ipv6Address {
  return bytes.subarray(IPV6_DST, IPV6_DST + 16);
}

/** True for ff00::/8 (RFC 4291 §2.7). */
export function ipv6IsMulticast(address: Ipv6Address): boolean {
  return address[0] === 0xff;
}

/** True for :: (RFC 4291 §2.5.2). */
export function ipv6IsUnspecified(address: Ipv6Address): boolean {
  for (let i = 0; i < 16; i++) if (address[i] !== 0) return false;
  return true;
}

/**
 * RFC 4291 §2.7.1: the solicited-node multicast address ff02::1:ffXX:XXXX
 * for `address`, written into `out` (16 bytes), which is returned.
 */
export function ipv6SolicitedNode(address: Ipv6Address, out: Ipv6Address): Ipv6Address {
  out.fill(0);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  out[13] = address[13]!;
  out[14] = address[14]!;
  out[15] = address[15]!;
  return out;
}

/**
 * Checks the TLV options of a Hop-by-Hop or Destination Options header
 * (RFC 8200 §4.2) in `bytes[start..end)`.
 */
function checkOptions(bytes: Uint8Array, start: number, end: number): WireDropReason | null {
  let i = start;
  while (i < end) {
    const type = bytes[i]!;
    if (type === OPTION_PAD1) {
      i++;
      continue;
    }
    if (i + 2 > end) return WireDropReason.BadExtensionHeader;
    const next = i + 2 + bytes[i + 1]!;
    if (next > end) return WireDropReason.BadExtensionHeader;
    // RFC 8200 §4.2: the two high bits of an unrecognised option's type say
    // what to do; only 00 means "skip it and carry on". We recognise only
    // padding, so everything else that demands action (e.g. Jumbo Payload,
    // 0xc2) drops the packet.
    if (type !== OPTION_PADN && type >>> 6 !== 0) return WireDropReason.Unsupported;
    i = next;
  }
  return null;
}

/**
 * Walks an extension header chain starting with header `nextHeader` at
 * `bytes[offset]`, within `bytes[..end)`, and writes where it leads into
 * `into` (no allocation besides a Fragment record). `bytes` is either a whole
 * packet (walk from offset 40 with the fixed header's Next Header) or a
 * reassembled fragmentable part (walk from offset 0 with the Fragment
 * header's Next Header). Returns null on success,
 * or:
 * - `bad-extension-header` when a header runs past `end`, an option runs past
 *   its header, or Hop-by-Hop appears anywhere but as the first header
 *   walked from offset 40, right after a fixed header (RFC 8200 §4.3);
 * - `unsupported` for a Routing header with Segments Left > 0 (we are a host
 *   and forward nothing; RFC 8200 §4.4) or an option whose type demands
 *   action we cannot take (RFC 8200 §4.2).
 *
 * Headers it does not know (AH, ESP, Mobility, ...) end the walk as the
 * upper-layer protocol, for the stack to refuse.
 */
export function walkIpv6Extensions(
  bytes: Uint8Array,
  nextHeader: number,
  offset: number,
  end: number,
  into: Ipv6Chain,
): WireDropReason | null {
  // Never read past the buffer, whatever `end` the caller passes.
  const limit = end < bytes.length ? end : bytes.length;
  let next = nextHeader;
  let at = offset;
  for (;;) {
    if (
      next === IpProtocol.HopByHop ||
      next === IpProtocol.Ipv6DestOptions ||
      next === IpProtocol.Ipv6Route
    ) {
      // RFC 8200 §4.3: Hop-by-Hop Options must immediately follow the IPv6 header.
      if (next === IpProtocol.HopByHop && (at !== offset || offset !== IPV6_HEADER_LENGTH)) {
        return WireDropReason.BadExtensionHeader;
      }
      // RFC 8200 §4.3-4.6: Hdr Ext Len counts 8-byte units beyond the first 8.
      if (at + 8 > limit) return WireDropReason.BadExtensionHeader;
      const length = (bytes[at + 1]! + 1) * 8;
      if (at + length > limit) return WireDropReason.BadExtensionHeader;
      if (next === IpProtocol.Ipv6Route) {
        // Segments Left, the fourth byte: zero means the header is spent and ignored.
        if (bytes[at + 3] !== 0) return WireDropReason.Unsupported;
      } else {
        const problem = checkOptions(bytes, at + 2, at + length);
        if (problem !== null) return problem;
      }
      next = bytes[at]!;
      at += length;
      continue;
    }
    if (next === IpProtocol.Ipv6Fragment) {
      if (at + IPV6_FRAGMENT_HEADER_LENGTH > limit) return WireDropReason.BadExtensionHeader;
      const word = (bytes[at + IPV6_FRAGMENT_OFFSET_FLAGS]! << 8) | bytes[at + 3]!;
      into.protocol = bytes[at + IPV6_FRAGMENT_NEXT_HEADER]!;
      into.headerLength = at + IPV6_FRAGMENT_HEADER_LENGTH;
      // The offset is the high 13 bits of the word in 8-byte units, so masking
      // off the low 3 bits (2 reserved, M) leaves it already in bytes.
      into.fragment = {
        offset: word & 0xfff8,
        moreFragments: (word & 1) === 1,
        identification:
          ((bytes[at + IPV6_FRAGMENT_IDENTIFICATION]! << 24) |
            (bytes[at + 5]! << 16) |
            (bytes[at + 6]! << 8) |
            bytes[at + 7]!) >>>
          0,
      };
      return null;
    }
    into.protocol = next;
    into.headerLength = at;
    into.fragment = null;
    return null;
  }
}

/**
 * Parses an IPv6 packet and walks its extension headers (see
 * {@link walkIpv6Extensions}). Checks: at least 40 bytes (`truncated`),
 * version 6 (`bad-version`), payload length within the bytes available
 * (`bad-length`; the Jumbo Payload option is not supported), then the chain.
 * Bytes beyond the payload length are link padding and are ignored.
 *
 * A packet with a Fragment header stops at it: reassemble the fragments, then
 * parse the reassembled packet. An atomic fragment (offset 0, M clear;
 * RFC 6946) is reported as such, for the stack to process on its own.
 */
export function parseIpv6(bytes: Uint8Array): Ipv6Repr | WireDropReason {
  if (bytes.length < IPV6_HEADER_LENGTH) return WireDropReason.Truncated;
  const first = bytes[IPV6_VERSION_TC_FLOW]!;
  if (first >>> 4 !== 6) return WireDropReason.BadVersion;
  const end = IPV6_HEADER_LENGTH + ipv6PayloadLength(bytes);
  if (end > bytes.length) return WireDropReason.BadLength;
  const second = bytes[1]!;
  const trafficClass = ((first & 0x0f) << 4) | (second >>> 4);
  const repr: Ipv6Repr = {
    src: ipv6Src(bytes),
    dst: ipv6Dst(bytes),
    protocol: 0,
    headerLength: IPV6_HEADER_LENGTH,
    fragment: null,
    hopLimit: bytes[IPV6_HOP_LIMIT]!,
    dscp: trafficClass >>> 2,
    ecn: trafficClass & 3,
    flowLabel: ((second & 0x0f) << 16) | (bytes[2]! << 8) | bytes[3]!,
    payload: bytes,
  };
  const problem = walkIpv6Extensions(
    bytes,
    bytes[IPV6_NEXT_HEADER]!,
    IPV6_HEADER_LENGTH,
    end,
    repr,
  );
  if (problem !== null) return problem;
  repr.payload = bytes.subarray(repr.headerLength, end);
  return repr;
}

/** Bytes {@link emitIpv6} writes: 40, plus 8 with a fragment header, plus the payload. */
export function ipv6Length(repr: Ipv6Repr): number {
  return (
    IPV6_HEADER_LENGTH +
    (repr.fragment === null ? 0 : IPV6_FRAGMENT_HEADER_LENGTH) +
    repr.payload.length
  );
}

/**
 * Writes the fixed header, then a Fragment header when `repr.fragment` is
 * set, then the payload unless it is already in place, at the start of
 * `out`. Returns the packet length. Throws on a repr that cannot be encoded
 * (payload over 65535 bytes, fragment offset not a multiple of 8).
 */
export function emitIpv6(repr: Ipv6Repr, out: Uint8Array): number {
  const length = ipv6Length(repr);
  const payloadLength = length - IPV6_HEADER_LENGTH;
  if (payloadLength > 0xffff) {
    throw new RangeError(
      `emitIpv6: a ${payloadLength}-byte payload exceeds 65535 (jumbograms are not supported); fragment or send less`,
    );
  }
  if (out.length < length) {
    throw new RangeError(
      `emitIpv6: the output holds ${out.length} bytes but the packet needs ${length}; size it with ipv6Length()`,
    );
  }
  if (repr.src.length !== 16 || repr.dst.length !== 16) {
    throw new RangeError('emitIpv6: src and dst must be 16-byte addresses');
  }
  const trafficClass = ((repr.dscp & 0x3f) << 2) | (repr.ecn & 3);
  const flow = repr.flowLabel & 0xfffff;
  out[0] = 0x60 | (trafficClass >>> 4);
  out[1] = ((trafficClass & 0x0f) << 4) | (flow >>> 16);
  out[2] = (flow >>> 8) & 0xff;
  out[3] = flow & 0xff;
  out[IPV6_PAYLOAD_LENGTH] = payloadLength >>> 8;
  out[IPV6_PAYLOAD_LENGTH + 1] = payloadLength & 0xff;
  out[IPV6_HOP_LIMIT] = repr.hopLimit & 0xff;
  out.set(repr.src, IPV6_SRC);
  out.set(repr.dst, IPV6_DST);
  let at = IPV6_HEADER_LENGTH;
  const fragment = repr.fragment;
  if (fragment === null) {
    out[IPV6_NEXT_HEADER] = repr.protocol & 0xff;
  } else {
    if (fragment.offset % 8 !== 0 || fragment.offset > 0xfff8) {
      throw new RangeError(
        `emitIpv6: fragment offset ${fragment.offset} must be a multiple of 8 no larger than 65528`,
      );
    }
    out[IPV6_NEXT_HEADER] = IpProtocol.Ipv6Fragment;
    out[at + IPV6_FRAGMENT_NEXT_HEADER] = repr.protocol & 0xff;
    out[at + 1] = 0;
    const word = fragment.offset | (fragment.moreFragments ? 1 : 0);
    out[at + IPV6_FRAGMENT_OFFSET_FLAGS] = word >>> 8;
    out[at + IPV6_FRAGMENT_OFFSET_FLAGS + 1] = word & 0xff;
    const id = fragment.identification;
    out[at + IPV6_FRAGMENT_IDENTIFICATION] = id >>> 24;
    out[at + IPV6_FRAGMENT_IDENTIFICATION + 1] = (id >>> 16) & 0xff;
    out[at + IPV6_FRAGMENT_IDENTIFICATION + 2] = (id >>> 8) & 0xff;
    out[at + IPV6_FRAGMENT_IDENTIFICATION + 3] = id & 0xff;
    at += IPV6_FRAGMENT_HEADER_LENGTH;
  }
  placePayload(out, at, repr.payload);
  return length;
}

/** Copies `payload` to `out[offset..]` unless it is already there (set() would clone an overlapping source first). */
function placePayload(out: Uint8Array, offset: number, payload: Uint8Array): void {
  if (payload.buffer === out.buffer && payload.byteOffset === out.byteOffset + offset) return;
  out.set(payload, offset);
}
