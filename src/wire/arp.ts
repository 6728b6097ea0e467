/**
 * ARP (RFC 826) for IPv4 over Ethernet: the only combination tcpts resolves,
 * so the parser insists on it rather than carrying variable-length addresses.
 */
import type { Ipv4Address, MacAddress } from './address.js';
import { readIpv4Address, writeIpv4Address } from './address.js';
import { WireDropReason } from './drop.js';

/** Offset of the hardware type (1 = Ethernet). */
export const ARP_HTYPE = 0;
/** Offset of the protocol type (an EtherType; 0x0800 = IPv4). */
export const ARP_PTYPE = 2;
/** Offset of the hardware address length. */
export const ARP_HLEN = 4;
/** Offset of the protocol address length. */
export const ARP_PLEN = 5;
/** Offset of the operation. */
export const ARP_OPER = 6;
/** Offset of the sender hardware address. */
export const ARP_SHA = 8;
/** Offset of the sender protocol address. */
export const ARP_SPA = 14;
/** Offset of the target hardware address. */
export const ARP_THA = 18;
/** Offset of the target protocol address. */
export const ARP_TPA = 24;
/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_LENGTH = 28;

/** RFC 826 hardware type for Ethernet (IANA "Hardware Types": 1). */
export const ARP_HTYPE_ETHERNET = 1;
/** RFC 826 protocol type for IPv4: its EtherType. */
export const ARP_PTYPE_IPV4 = 0x0800;

/** ARP operations (RFC 826); RARP and InARP are not supported. */
export const ArpOperation = {
  Request: 1,
  Reply: 2,
} as const;

/** An ARP operation tcpts handles. */
export type ArpOperation = (typeof ArpOperation)[keyof typeof ArpOperation];

/**
 * An Ethernet/IPv4 ARP packet as plain data.
 *
 * After {@link parseArp}, the hardware addresses are `subarray` views of the
 * input: copy (`slice`) them before storing them in a neighbour cache.
 */
export interface ArpRepr {
  operation: ArpOperation;
  senderHardware: MacAddress;
  senderProtocol: Ipv4Address;
  /** In a request, usually 00:00:00:00:00:00 (RFC 826 leaves it unspecified). */
  targetHardware: MacAddress;
  targetProtocol: Ipv4Address;
}

/**
 * Parses an ARP packet (an Ethernet payload). Bytes past the 28 the packet
 * needs are Ethernet padding and are ignored. Returns `truncated` when short,
 * `bad-field` unless it is Ethernet/IPv4 with 6- and 4-byte addresses, and
 * `unsupported` for operations other than request and reply.
 */
export function parseArp(bytes: Uint8Array): ArpRepr | WireDropReason {
  if (bytes.length < ARP_LENGTH) return WireDropReason.Truncated;
  const htype = (bytes[ARP_HTYPE]! << 8) | bytes[ARP_HTYPE + 1]!;
  const ptype = (bytes[ARP_PTYPE]! << 8) | bytes[ARP_PTYPE + 1]!;
  if (
    htype !== ARP_HTYPE_ETHERNET ||
    ptype !== ARP_PTYPE_IPV4 ||
    bytes[ARP_HLEN] !== 6 ||
    bytes[ARP_PLEN] !== 4
  ) {
    return WireDropReason.BadField;
  }
  const operation = (bytes[ARP_OPER]! << 8) | bytes[ARP_OPER + 1]!;
  if (operation !== ArpOperation.Request && operation !== ArpOperation.Reply) {
    return WireDropReason.Unsupported;
  }
  return {
    operation,
    senderHardware: bytes.subarray(ARP_SHA, ARP_SHA + 6),
    senderProtocol: readIpv4Address(bytes, ARP_SPA),
    targetHardware: bytes.subarray(ARP_THA, ARP_THA + 6),
    targetProtocol: readIpv4Address(bytes, ARP_TPA),
  };
}

/** Bytes {@link emitArp} writes: always 28. */
export function arpLength(_repr: ArpRepr): number {
  return ARP_LENGTH;
}

/** Writes the packet at the start of `out` and returns its length (28). */
export function emitArp(repr: ArpRepr, out: Uint8Array): number {
  if (out.length < ARP_LENGTH) {
    throw new RangeError(
      `emitArp: the output holds ${out.length} bytes but an ARP packet needs ${ARP_LENGTH}`,
    );
  }
  if (repr.senderHardware.length !== 6 || repr.targetHardware.length !== 6) {
    throw new RangeError('emitArp: hardware addresses must be 6-byte MAC addresses');
  }
  out[ARP_HTYPE] = 0;
  out[ARP_HTYPE + 1] = ARP_HTYPE_ETHERNET;
  out[ARP_PTYPE] = ARP_PTYPE_IPV4 >>> 8;
  out[ARP_PTYPE + 1] = ARP_PTYPE_IPV4 & 0xff;
  out[ARP_HLEN] = 6;
  out[ARP_PLEN] = 4;
  out[ARP_OPER] = 0;
  out[ARP_OPER + 1] = repr.operation;
  out.set(repr.senderHardware, ARP_SHA);
  writeIpv4Address(out, ARP_SPA, repr.senderProtocol);
  out.set(repr.targetHardware, ARP_THA);
  writeIpv4Address(out, ARP_TPA, repr.targetProtocol);
  return ARP_LENGTH;
}
