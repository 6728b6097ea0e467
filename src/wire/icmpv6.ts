/**
 * ICMPv6 (RFC 4443) and the Neighbor Discovery messages a host needs
 * (RFC 4861): echo, the four error messages, router solicitation and
 * advertisement, neighbor solicitation and advertisement. Redirect, MLD and
 * other types are reported as `unsupported`.
 *
 * The checksum covers the IPv6 pseudo-header (RFC 4443 §2.3), so parse and
 * emit take the packet's source and destination addresses.
 *
 * NDP link-layer address options are read for Ethernet only (RFC 2464 §6:
 * one 8-byte unit holding a 6-byte MAC address).
 */
import type { Ipv6Address, MacAddress } from './address.js';
import { assertNever } from '../base/index.js';
import { checksumAdd, checksumFinish, pseudoHeaderSumV6 } from './checksum.js';
import { WireDropReason } from './drop.js';
import { IpProtocol } from './ipv4.js';
import { ipv6IsMulticast, ipv6IsUnspecified } from './ipv6.js';

/** Offset of the type. */
export const ICMPV6_TYPE = 0;
/** Offset of the code. */
export const ICMPV6_CODE = 1;
/** Offset of the checksum. */
export const ICMPV6_CHECKSUM = 2;
/** Echo: offset of the identifier. */
export const ICMPV6_IDENTIFIER = 4;
/** Echo: offset of the sequence number. */
export const ICMPV6_SEQUENCE = 6;
/** Packet too big: offset of the 32-bit MTU. Parameter problem: offset of the 32-bit pointer. */
export const ICMPV6_MTU_POINTER = 4;
/** Offset of the echo data or the quoted packet in an error. */
export const ICMPV6_DATA = 8;
/** The 8-byte header every message tcpts handles has at least. */
export const ICMPV6_HEADER_LENGTH = 8;
/**
 * RFC 4443 §2.4 (c): an error carries as much of the invoking packet as fits
 * without exceeding the minimum IPv6 MTU: 1280 - 40 (IPv6) - 8 (ICMPv6).
 */
export const ICMPV6_MAX_ERROR_QUOTE = 1232;

/** Router advertisement (RFC 4861 §4.2): offset of the current hop limit. */
export const NDP_RA_HOP_LIMIT = 4;
/** Router advertisement: offset of the flags byte. */
export const NDP_RA_FLAGS = 5;
/** Router advertisement: offset of the 16-bit router lifetime (seconds). */
export const NDP_RA_ROUTER_LIFETIME = 6;
/** Router advertisement: offset of the 32-bit reachable time (milliseconds). */
export const NDP_RA_REACHABLE_TIME = 8;
/** Router advertisement: offset of the 32-bit retransmission timer (milliseconds). */
export const NDP_RA_RETRANS_TIMER = 12;
/** Router advertisement: length before the options. */
export const NDP_RA_LENGTH = 16;
/** Router solicitation (RFC 4861 §4.1): length before the options. */
export const NDP_RS_LENGTH = 8;
/** Neighbor advertisement (RFC 4861 §4.4): offset of the flags byte (R, S, O). */
export const NDP_NA_FLAGS = 4;
/** Neighbor solicitation and advertisement: offset of the target address. */
export const NDP_TARGET = 8;
/** Neighbor solicitation and advertisement: length before the options. */
export const NDP_NS_NA_LENGTH = 24;

/** ICMPv6 message types (RFC 4443 §2.1, RFC 4861 §4). */
export const Icmpv6Type = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  Redirect: 137,
} as const;

/** Destination unreachable codes (RFC 4443 §3.1). */
export const Icmpv6UnreachableCode = {
  NoRoute: 0,
  AdministrativelyProhibited: 1,
  BeyondScope: 2,
  AddressUnreachable: 3,
  PortUnreachable: 4,
  SourcePolicyFailed: 5,
  RejectRoute: 6,
} as const;

/** Time exceeded codes (RFC 4443 §3.3). */
export const Icmpv6TimeExceededCode = {
  HopLimitExceeded: 0,
  FragmentReassembly: 1,
} as const;

/** Parameter problem codes (RFC 4443 §3.4). */
export const Icmpv6ParameterProblemCode = {
  ErroneousHeaderField: 0,
  UnrecognizedNextHeader: 1,
  UnrecognizedOption: 2,
} as const;

/** NDP option types (RFC 4861 §4.6). */
export const NdpOptionType = {
  SourceLinkLayerAddress: 1,
  TargetLinkLayerAddress: 2,
  PrefixInformation: 3,
  RedirectedHeader: 4,
  Mtu: 5,
} as const;

/** Router advertisement flag bits (RFC 4861 §4.2). Other bits (RFC 4191 preference, ...) pass through. */
export const RouterAdvertFlags = {
  /** M: addresses are available via DHCPv6. */
  Managed: 0x80,
  /** O: other configuration is available via DHCPv6. */
  Other: 0x40,
} as const;

/** Neighbor advertisement flag bits (RFC 4861 §4.4), in the byte at {@link NDP_NA_FLAGS}. */
export const NeighborAdvertFlags = {
  Router: 0x80,
  Solicited: 0x40,
  Override: 0x20,
} as const;

/** Prefix information flag bits (RFC 4861 §4.6.2). */
export const PrefixInfoFlags = {
  /** L: the prefix is on-link. */
  OnLink: 0x80,
  /** A: the prefix may be used for stateless address autoconfiguration (RFC 4862). */
  Autonomous: 0x40,
} as const;

/** RFC 4861 §4.6.2: the Prefix Information option is 4 units (32 bytes). */
const PREFIX_OPTION_LENGTH = 32;
/** RFC 4861 §4.6.4: the MTU option is 1 unit. */
const MTU_OPTION_LENGTH = 8;
/** RFC 2464 §6: an Ethernet link-layer address option is 1 unit. */
const LINK_LAYER_OPTION_LENGTH = 8;
/** RFC 4861 §6.1.1, 7.1.1: NDP messages must arrive with hop limit 255 (checked by the caller, which has the IP header). */
export const NDP_HOP_LIMIT = 255;

/** Echo request or reply (RFC 4443 §4). The code is written as 0 and not checked on parse. */
export interface Icmpv6EchoRepr {
  type: typeof Icmpv6Type.EchoRequest | typeof Icmpv6Type.EchoReply;
  identifier: number;
  sequence: number;
  data: Uint8Array;
}

/** Destination unreachable (RFC 4443 §3.1). */
export interface Icmpv6DestinationUnreachableRepr {
  type: typeof Icmpv6Type.DestinationUnreachable;
  /** See {@link Icmpv6UnreachableCode}. */
  code: number;
  /** As much of the invoking packet as fitted, from its IPv6 header on. */
  original: Uint8Array;
}

/** Packet too big (RFC 4443 §3.2), the signal for path MTU discovery (RFC 8201). */
export interface Icmpv6PacketTooBigRepr {
  type: typeof Icmpv6Type.PacketTooBig;
  /** The MTU of the next-hop link. */
  mtu: number;
  /** As much of the invoking packet as fitted, from its IPv6 header on. */
  original: Uint8Array;
}

/** Time exceeded (RFC 4443 §3.3). */
export interface Icmpv6TimeExceededRepr {
  type: typeof Icmpv6Type.TimeExceeded;
  /** See {@link Icmpv6TimeExceededCode}. */
  code: number;
  /** As much of the invoking packet as fitted, from its IPv6 header on. */
  original: Uint8Array;
}

/** Parameter problem (RFC 4443 §3.4). */
export interface Icmpv6ParameterProblemRepr {
  type: typeof Icmpv6Type.ParameterProblem;
  /** See {@link Icmpv6ParameterProblemCode}. */
  code: number;
  /** Offset within the invoking packet of the byte at fault. */
  pointer: number;
  /** As much of the invoking packet as fitted, from its IPv6 header on. */
  original: Uint8Array;
}

/** Router solicitation (RFC 4861 §4.1). */
export interface NdpRouterSolicitationRepr {
  type: typeof Icmpv6Type.RouterSolicitation;
  /** Source link-layer address option, or null (it must be absent when the IP source is ::). */
  sourceLinkLayer: MacAddress | null;
}

/** One Prefix Information option (RFC 4861 §4.6.2). */
export interface NdpPrefixInformation {
  /** Number of leading bits of `prefix` that are valid, 0..128. */
  prefixLength: number;
  /** See {@link PrefixInfoFlags}. */
  flags: number;
  /** Seconds the prefix is valid for on-link determination; 0xffffffff is infinity. */
  validLifetime: number;
  /** Seconds addresses from the prefix remain preferred; 0xffffffff is infinity. */
  preferredLifetime: number;
  prefix: Ipv6Address;
}

/** Router advertisement (RFC 4861 §4.2) with the options a host uses. */
export interface NdpRouterAdvertisementRepr {
  type: typeof Icmpv6Type.RouterAdvertisement;
  /** Hop limit hosts should use; 0 means unspecified. */
  hopLimit: number;
  /** See {@link RouterAdvertFlags}. */
  flags: number;
  /** Seconds this router is a default router; 0 means it is not one. */
  routerLifetime: number;
  /** Milliseconds a neighbour stays reachable after confirmation; 0 means unspecified. */
  reachableTime: number;
  /** Milliseconds between neighbour solicitations; 0 means unspecified. */
  retransTimer: number;
  sourceLinkLayer: MacAddress | null;
  /** The MTU option (RFC 4861 §4.6.4), or 0 when absent. */
  mtu: number;
  prefixes: NdpPrefixInformation[];
}

/** Neighbor solicitation (RFC 4861 §4.3). */
export interface NdpNeighborSolicitationRepr {
  type: typeof Icmpv6Type.NeighborSolicitation;
  /** The address whose link-layer address is sought (never multicast). */
  target: Ipv6Address;
  /** Source link-layer address option, or null (it must be absent when the IP source is ::, as in DAD). */
  sourceLinkLayer: MacAddress | null;
}

/** Neighbor advertisement (RFC 4861 §4.4). */
export interface NdpNeighborAdvertisementRepr {
  type: typeof Icmpv6Type.NeighborAdvertisement;
  /** See {@link NeighborAdvertFlags}: R, S, O. */
  flags: number;
  target: Ipv6Address;
  /** Target link-layer address option, or null. */
  targetLinkLayer: MacAddress | null;
}

/**
 * An ICMPv6 message as plain data, discriminated by `type`.
 *
 * After {@link parseIcmpv6}, every Uint8Array field (data, original, target,
 * prefixes, link-layer addresses) is a `subarray` view of the input: copy
 * (`slice`) what you keep, above all what goes into a neighbour cache.
 */
export type Icmpv6Repr =
  | Icmpv6EchoRepr
  | Icmpv6DestinationUnreachableRepr
  | Icmpv6PacketTooBigRepr
  | Icmpv6TimeExceededRepr
  | Icmpv6ParameterProblemRepr
  | NdpRouterSolicitationRepr
  | NdpRouterAdvertisementRepr
  | NdpNeighborSolicitationRepr
  | NdpNeighborAdvertisementRepr;

/** The type byte. Valid for `bytes.length >= 1`. */
export function icmpv6Type(bytes: Uint8Array): number {
  return bytes[ICMPV6_TYPE]!;
}

/** The code byte. Valid for `bytes.length >= 2`. */
export function icmpv6Code(bytes: Uint8Array): number {
  return bytes[ICMPV6_CODE]!;
}

/** The options found in an NDP message (scratch for parsing). */
interface NdpOptionsFound {
  sourceLinkLayer: MacAddress | null;
  targetLinkLayer: MacAddress | null;
  mtu: number;
  prefixes: NdpPrefixInformation[];
}

/**
 * Walks NDP options in `bytes[start..)` (RFC 4861 §4.6). Every option must
 * have a non-zero length and fit (`bad-option`; §6.1.1, 6.1.2, 7.1.1, 7.1.2
 * say such a message is invalid); known options must have their defined
 * length (`bad-option`); unknown ones are skipped (§4.6: receivers silently
 * ignore options they do not recognise). The first of a repeated link-layer
 * address option wins.
 */
function parseNdpOptions(
  bytes: Uint8Array,
  start: number,
  found: NdpOptionsFound,
): WireDropReason | null {
  const end = bytes.length;
  let at = start;
  while (at < end) {
    if (at + 2 > end) return WireDropReason.BadOption;
    const type = bytes[at]!;
    const length = bytes[at + 1]! * 8;
    if (length === 0 || at + length > end) return WireDropReason.BadOption;
    switch (type) {
      case NdpOptionType.SourceLinkLayerAddress:
      case NdpOptionType.TargetLinkLayerAddress: {
        if (length !== LINK_LAYER_OPTION_LENGTH) return WireDropReason.BadOption;
        const mac = bytes.subarray(at + 2, at + 8);
        if (type === NdpOptionType.SourceLinkLayerAddress) {
          if (found.sourceLinkLayer === null) found.sourceLinkLayer = mac;
        } else if (found.targetLinkLayer === null) {
          found.targetLinkLayer = mac;
        }
        break;
      }
      case NdpOptionType.Mtu:
        if (length !== MTU_OPTION_LENGTH) return WireDropReason.BadOption;
        found.mtu = readU32(bytes, at + 4);
        break;
      case NdpOptionType.PrefixInformation: {
        if (length !== PREFIX_OPTION_LENGTH) return WireDropReason.BadOption;
        const prefixLength = bytes[at + 2]!;
        // RFC 4861 §4.6.2: the prefix length ranges over 0..128.
        if (prefixLength > 128) return WireDropReason.BadOption;
        found.prefixes.push({
          prefixLength,
          flags: bytes[at + 3]!,
          validLifetime: readU32(bytes, at + 4),
          preferredLifetime: readU32(bytes, at + 8),
          prefix: bytes.subarray(at + 16, at + 32),
        });
        break;
      }
      default:
        break;
    }
    at += length;
  }
  return null;
}

/** RFC 4443 §2.4: an error quotes the invoking packet; we need at least its IPv6 header. */
function checkQuoted(original: Uint8Array): WireDropReason | null {
  if (original.length < 40) return WireDropReason.Truncated;
  if (original[0]! >>> 4 !== 6) return WireDropReason.BadVersion;
  return null;
}

/** True for fe80::/10 (RFC 4291 §2.5.6). */
function isLinkLocal(address: Ipv6Address): boolean {
  return address[0] === 0xfe && (address[1]! & 0xc0) === 0x80;
}

/**
 * Parses an ICMPv6 message (the upper-layer payload of an IPv6 packet sent
 * from `src` to `dst`).
 *
 * Returns `truncated` when shorter than the message type needs,
 * `bad-checksum`, `unsupported` for other types, and for errors whose quote
 * is not an IPv6 header, `truncated` or `bad-version`. A transport that reads
 * the quote walks its extension headers itself (`walkIpv6Extensions`) and
 * checks that 8 upper-layer bytes are there, as Linux's icmpv6_notify does.
 *
 * NDP messages are validated as RFC 4861 §6.1 and §7.1 ask, except for the
 * hop limit of 255, which the caller checks: code 0 (`bad-field`), options
 * with a non-zero length that fit (`bad-option`), a target that is not
 * multicast, no source link-layer option from ::, an NS from :: sent to a
 * solicited-node address, no Solicited flag on an NA sent to a multicast
 * address, and an RA from a link-local source (`bad-field`).
 */
export function parseIcmpv6(
  bytes: Uint8Array,
  src: Ipv6Address,
  dst: Ipv6Address,
): Icmpv6Repr | WireDropReason {
  if (bytes.length < ICMPV6_HEADER_LENGTH) return WireDropReason.Truncated;
  const sum = checksumAdd(pseudoHeaderSumV6(src, dst, IpProtocol.Icmpv6, bytes.length), bytes);
  if (checksumFinish(sum) !== 0) return WireDropReason.BadChecksum;
  const type = bytes[ICMPV6_TYPE]!;
  const code = bytes[ICMPV6_CODE]!;
  switch (type) {
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply:
      return {
        type,
        identifier: readU16(bytes, ICMPV6_IDENTIFIER),
        sequence: readU16(bytes, ICMPV6_SEQUENCE),
        data: bytes.subarray(ICMPV6_DATA),
      };
    case Icmpv6Type.DestinationUnreachable:
    case Icmpv6Type.TimeExceeded: {
      const original = bytes.subarray(ICMPV6_DATA);
      const problem = checkQuoted(original);
      if (problem !== null) return problem;
      return { type, code, original };
    }
    case Icmpv6Type.PacketTooBig: {
      const original = bytes.subarray(ICMPV6_DATA);
      const problem = checkQuoted(original);
      if (problem !== null) return problem;
      return { type, mtu: readU32(bytes, ICMPV6_MTU_POINTER), original };
    }
    case Icmpv6Type.ParameterProblem: {
      const original = bytes.subarray(ICMPV6_DATA);
      const problem = checkQuoted(original);
      if (problem !== null) return problem;
      return { type, code, pointer: readU32(bytes, ICMPV6_MTU_POINTER), original };
    }
    case Icmpv6Type.RouterSolicitation:
    case Icmpv6Type.RouterAdvertisement:
    case Icmpv6Type.NeighborSolicitation:
    case Icmpv6Type.NeighborAdvertisement:
      return parseNdp(bytes, type, code, src, dst);
    default:
      return WireDropReason.Unsupported;
  }
}

function parseNdp(
  bytes: Uint8Array,
  type:
    | typeof Icmpv6Type.RouterSolicitation
    | typeof Icmpv6Type.RouterAdvertisement
    | typeof Icmpv6Type.NeighborSolicitation
    | typeof Icmpv6Type.NeighborAdvertisement,
  code: number,
  src: Ipv6Address,
  dst: Ipv6Address,
): Icmpv6Repr | WireDropReason {
  const fixed =
    type === Icmpv6Type.RouterSolicitation
      ? NDP_RS_LENGTH
      : type === Icmpv6Type.RouterAdvertisement
        ? NDP_RA_LENGTH
        : NDP_NS_NA_LENGTH;
  if (bytes.length < fixed) return WireDropReason.Truncated;
  if (code !== 0) return WireDropReason.BadField;
  const found: NdpOptionsFound = {
    sourceLinkLayer: null,
    targetLinkLayer: null,
    mtu: 0,
    prefixes: [],
  };
  const problem = parseNdpOptions(bytes, fixed, found);
  if (problem !== null) return problem;
  const fromUnspecified = ipv6IsUnspecified(src);
  switch (type) {
    case Icmpv6Type.RouterSolicitation:
      // RFC 4861 §6.1.1: from ::, there is no source link-layer address option.
      if (fromUnspecified && found.sourceLinkLayer !== null) return WireDropReason.BadField;
      return { type, sourceLinkLayer: found.sourceLinkLayer };
    case Icmpv6Type.RouterAdvertisement:
      // RFC 4861 §6.1.2: routers advertise from their link-local address.
      if (!isLinkLocal(src)) return WireDropReason.BadField;
      return {
        type,
        hopLimit: bytes[NDP_RA_HOP_LIMIT]!,
        flags: bytes[NDP_RA_FLAGS]!,
        routerLifetime: readU16(bytes, NDP_RA_ROUTER_LIFETIME),
        reachableTime: readU32(bytes, NDP_RA_REACHABLE_TIME),
        retransTimer: readU32(bytes, NDP_RA_RETRANS_TIMER),
        sourceLinkLayer: found.sourceLinkLayer,
        mtu: found.mtu,
        prefixes: found.prefixes,
      };
    case Icmpv6Type.NeighborSolicitation: {
      const target = bytes.subarray(NDP_TARGET, NDP_TARGET + 16);
      // RFC 4861 §7.1.1: the target is not multicast; from :: (duplicate
      // address detection) the destination is a solicited-node address and
      // there is no source link-layer address option.
      if (ipv6IsMulticast(target)) return WireDropReason.BadField;
      if (fromUnspecified && (found.sourceLinkLayer !== null || !isSolicitedNode(dst))) {
        return WireDropReason.BadField;
      }
      return { type, target, sourceLinkLayer: found.sourceLinkLayer };
    }
    case Icmpv6Type.NeighborAdvertisement: {
      const target = bytes.subarray(NDP_TARGET, NDP_TARGET + 16);
      // The other 29 bits are reserved: ignored on receipt (RFC 4861 §4.4).
      const flags = bytes[NDP_NA_FLAGS]! & 0xe0;
      // RFC 4861 §7.1.2: the target is not multicast, and an advertisement
      // sent to a multicast address is never a solicited one.
      if (ipv6IsMulticast(target)) return WireDropReason.BadField;
      if (ipv6IsMulticast(dst) && (flags & NeighborAdvertFlags.Solicited) !== 0) {
        return WireDropReason.BadField;
      }
      return { type, flags, target, targetLinkLayer: found.targetLinkLayer };
    }
    default:
      return assertNever(type, 'NDP type');
  }
}

/** RFC 4291 §2.7.1: ff02::1:ff00:0/104. */
function isSolicitedNode(address: Ipv6Address): boolean {
  if (address[0] !== 0xff || address[1] !== 0x02) return false;
  for (let i = 2; i < 11; i++) if (address[i] !== 0) return false;
  return address[11] === 0x01 && address[12] === 0xff;
}

/** Bytes {@link emitIcmpv6} writes for `repr`. */
export function icmpv6Length(repr: Icmpv6Repr): number {
  switch (repr.type) {
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply:
      return ICMPV6_HEADER_LENGTH + repr.data.length;
    case Icmpv6Type.DestinationUnreachable:
    case Icmpv6Type.PacketTooBig:
    case Icmpv6Type.TimeExceeded:
    case Icmpv6Type.ParameterProblem:
      return ICMPV6_HEADER_LENGTH + repr.original.length;
    case Icmpv6Type.RouterSolicitation:
      return NDP_RS_LENGTH + (repr.sourceLinkLayer === null ? 0 : LINK_LAYER_OPTION_LENGTH);
    case Icmpv6Type.RouterAdvertisement:
      return (
        NDP_RA_LENGTH +
        (repr.sourceLinkLayer === null ? 0 : LINK_LAYER_OPTION_LENGTH) +
        (repr.mtu === 0 ? 0 : MTU_OPTION_LENGTH) +
        repr.prefixes.length * PREFIX_OPTION_LENGTH
      );
    case Icmpv6Type.NeighborSolicitation:
      return NDP_NS_NA_LENGTH + (repr.sourceLinkLayer === null ? 0 : LINK_LAYER_OPTION_LENGTH);
    case Icmpv6Type.NeighborAdvertisement:
      return NDP_NS_NA_LENGTH + (repr.targetLinkLayer === null ? 0 : LINK_LAYER_OPTION_LENGTH);
    default:
      return assertNever(repr, 'ICMPv6 repr');
  }
}

/**
 * Writes the message at the start of `out`, with its checksum over the
 * pseudo-header of `src` and `dst`, and returns its length. Data and quoted
 * packets are copied unless already in place at offset 8; for errors the
 * caller quotes at most {@link ICMPV6_MAX_ERROR_QUOTE} bytes. NDP options are
 * written in a fixed order: source link-layer address, MTU, prefixes (RA);
 * source (RS, NS) or target (NA) link-layer address.
 */
export function emitIcmpv6(
  repr: Icmpv6Repr,
  src: Ipv6Address,
  dst: Ipv6Address,
  out: Uint8Array,
): number {
  const length = icmpv6Length(repr);
  if (out.length < length) {
    throw new RangeError(
      `emitIcmpv6: the output holds ${out.length} bytes but the message needs ${length}; size it with icmpv6Length()`,
    );
  }
  out[ICMPV6_TYPE] = repr.type;
  out[ICMPV6_CODE] = 0;
  out[ICMPV6_CHECKSUM] = 0;
  out[ICMPV6_CHECKSUM + 1] = 0;
  switch (repr.type) {
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply:
      writeU16(out, ICMPV6_IDENTIFIER, repr.identifier);
      writeU16(out, ICMPV6_SEQUENCE, repr.sequence);
      placePayload(out, ICMPV6_DATA, repr.data);
      break;
    case Icmpv6Type.DestinationUnreachable:
    case Icmpv6Type.TimeExceeded:
      out[ICMPV6_CODE] = repr.code & 0xff;
      writeU32(out, 4, 0);
      placePayload(out, ICMPV6_DATA, repr.original);
      break;
    case Icmpv6Type.PacketTooBig:
      writeU32(out, ICMPV6_MTU_POINTER, repr.mtu);
      placePayload(out, ICMPV6_DATA, repr.original);
      break;
    case Icmpv6Type.ParameterProblem:
      out[ICMPV6_CODE] = repr.code & 0xff;
      writeU32(out, ICMPV6_MTU_POINTER, repr.pointer);
      placePayload(out, ICMPV6_DATA, repr.original);
      break;
    case Icmpv6Type.RouterSolicitation:
      writeU32(out, 4, 0);
      emitLinkLayerOption(
        out,
        NDP_RS_LENGTH,
        NdpOptionType.SourceLinkLayerAddress,
        repr.sourceLinkLayer,
      );
      break;
    case Icmpv6Type.RouterAdvertisement: {
      out[NDP_RA_HOP_LIMIT] = repr.hopLimit & 0xff;
      out[NDP_RA_FLAGS] = repr.flags & 0xff;
      writeU16(out, NDP_RA_ROUTER_LIFETIME, repr.routerLifetime);
      writeU32(out, NDP_RA_REACHABLE_TIME, repr.reachableTime);
      writeU32(out, NDP_RA_RETRANS_TIMER, repr.retransTimer);
      let at = emitLinkLayerOption(
        out,
        NDP_RA_LENGTH,
        NdpOptionType.SourceLinkLayerAddress,
        repr.sourceLinkLayer,
      );
      if (repr.mtu !== 0) {
        out[at] = NdpOptionType.Mtu;
        out[at + 1] = MTU_OPTION_LENGTH / 8;
        writeU16(out, at + 2, 0);
        writeU32(out, at + 4, repr.mtu);
        at += MTU_OPTION_LENGTH;
      }
      for (let i = 0; i < repr.prefixes.length; i++) {
        const prefix = repr.prefixes[i]!;
        if (prefix.prefix.length !== 16) {
          throw new RangeError('emitIcmpv6: a prefix must be a 16-byte IPv6 address');
        }
        out[at] = NdpOptionType.PrefixInformation;
        out[at + 1] = PREFIX_OPTION_LENGTH / 8;
        out[at + 2] = prefix.prefixLength & 0xff;
        out[at + 3] = prefix.flags & 0xff;
        writeU32(out, at + 4, prefix.validLifetime);
        writeU32(out, at + 8, prefix.preferredLifetime);
        writeU32(out, at + 12, 0);
        out.set(prefix.prefix, at + 16);
        at += PREFIX_OPTION_LENGTH;
      }
      break;
    }
    case Icmpv6Type.NeighborSolicitation:
      writeU32(out, 4, 0);
      writeTarget(out, repr.target);
      emitLinkLayerOption(
        out,
        NDP_NS_NA_LENGTH,
        NdpOptionType.SourceLinkLayerAddress,
        repr.sourceLinkLayer,
      );
      break;
    case Icmpv6Type.NeighborAdvertisement:
      writeU32(out, 4, 0);
      out[NDP_NA_FLAGS] = repr.flags & 0xe0;
      writeTarget(out, repr.target);
      emitLinkLayerOption(
        out,
        NDP_NS_NA_LENGTH,
        NdpOptionType.TargetLinkLayerAddress,
        repr.targetLinkLayer,
      );
      break;
    default:
      assertNever(repr, 'ICMPv6 repr');
  }
  const sum = checksumAdd(
    pseudoHeaderSumV6(src, dst, IpProtocol.Icmpv6, length),
    out.subarray(0, length),
  );
  writeU16(out, ICMPV6_CHECKSUM, checksumFinish(sum));
  return length;
}

function writeTarget(out: Uint8Array, target: Ipv6Address): void {
  if (target.length !== 16)
    throw new RangeError('emitIcmpv6: target must be a 16-byte IPv6 address');
  out.set(target, NDP_TARGET);
}

/** Writes a link-layer address option at `at` when `mac` is set; returns the offset after it. */
function emitLinkLayerOption(
  out: Uint8Array,
  at: number,
  type: number,
  mac: MacAddress | null,
): number {
  if (mac === null) return at;
  if (mac.length !== 6)
    throw new RangeError('emitIcmpv6: a link-layer address must be a 6-byte MAC');
  out[at] = type;
  out[at + 1] = LINK_LAYER_OPTION_LENGTH / 8;
  out.set(mac, at + 2);
  return at + LINK_LAYER_OPTION_LENGTH;
}

function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) |
      (bytes[offset + 1]! << 16) |
      (bytes[offset + 2]! << 8) |
      bytes[offset + 3]!) >>>
    0
  );
}

function writeU16(out: Uint8Array, offset: number, value: number): void {
  out[offset] = (value >>> 8) & 0xff;
  out[offset + 1] = value & 0xff;
}

function writeU32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

/** Copies `payload` to `out[offset..]` unless it is already there (set() would clone an overlapping source first). */
function placePayload(out: Uint8Array, offset: number, payload: Uint8Array): void {
  if (payload.buffer === out.buffer && payload.byteOffset === out.byteOffset + offset) return;
  out.set(payload, offset);
}
