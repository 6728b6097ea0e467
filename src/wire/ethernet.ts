/**
 * Ethernet II framing (IEEE 802.3 with an EtherType, RFC 894 for IPv4,
 * RFC 2464 for IPv6). The frame check sequence is never seen here: NICs,
 * TAP devices and pcap all strip it.
 */
import type { MacAddress } from './address.js';
import { WireDropReason } from './drop.js';

/** Offset of the destination MAC address. */
export const ETHERNET_DST = 0;
/** Offset of the source MAC address. */
export const ETHERNET_SRC = 6;
/** Offset of the 16-bit EtherType. */
export const ETHERNET_ETHERTYPE = 12;
/** Offset of the payload, and the length of the header. */
export const ETHERNET_HEADER_LENGTH = 14;
/**
 * IEEE 802.3: a frame carries at least 46 payload bytes; senders pad shorter
 * ones, so receivers must trust the inner length fields over the frame length.
 */
export const ETHERNET_MIN_PAYLOAD = 46;

/** EtherType values tcpts recognises. */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Ipv6: 0x86dd,
  /** IEEE 802.1Q VLAN tag: not supported (the header would be 4 bytes longer). */
  Vlan: 0x8100,
  /** IEEE 802.1ad stacked VLAN tag: not supported. */
  QinQ: 0x88a8,
} as const;

/**
 * IEEE 802.3: a type/length field below 0x0600 is a frame length (an 802.3
 * LLC frame), not an EtherType.
 */
const ETHERTYPE_MIN = 0x0600;

/** The broadcast MAC address ff:ff:ff:ff:ff:ff. Shared: do not write into it. */
export const MAC_BROADCAST: MacAddress = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/**
 * An Ethernet II frame as plain data.
 *
 * After {@link parseEthernet}, `dst`, `src` and `payload` are `subarray`
 * views of the input: copy (`slice`) whatever you keep beyond the input
 * buffer's lifetime.
 */
export interface EthernetRepr {
  dst: MacAddress;
  src: MacAddress;
  /** An EtherType (>= 0x0600); see {@link EtherType}. */
  ethertype: number;
  /** Everything after the header, including any padding the sender added. */
  payload: Uint8Array;
}

/** Destination MAC as a view. Valid once `bytes.length >= ETHERNET_HEADER_LENGTH`. */
export function ethernetDst(bytes: Uint8Array): MacAddress {
  return bytes.subarray(ETHERNET_DST, ETHERNET_DST + 6);
}

/** Source MAC as a view. Valid once `bytes.length >= ETHERNET_HEADER_LENGTH`. */
export function ethernetSrc(bytes: Uint8Array): MacAddress {
  return bytes.subarray(ETHERNET_SRC, ETHERNET_SRC + 6);
}

/** The EtherType field. Valid once `bytes.length >= ETHERNET_HEADER_LENGTH`. */
export function ethernetType(bytes: Uint8Array): number {
  return (bytes[ETHERNET_ETHERTYPE]! << 8) | bytes[ETHERNET_ETHERTYPE + 1]!;
}

/** True for a group (multicast or broadcast) address: the I/G bit, the low bit of the first byte. */
export function macIsMulticast(mac: MacAddress): boolean {
  return (mac[0]! & 1) === 1;
}

/** True for ff:ff:ff:ff:ff:ff. */
export function macIsBroadcast(mac: MacAddress): boolean {
  return (mac[0]! & mac[1]! & mac[2]! & mac[3]! & mac[4]! & mac[5]!) === 0xff;
}

/** True when two MAC addresses are equal. */
export function macEqual(a: MacAddress, b: MacAddress): boolean {
  return (
    a[0] === b[0] &&
    a[1] === b[1] &&
    a[2] === b[2] &&
    a[3] === b[3] &&
    a[4] === b[4] &&
    a[5] === b[5]
  );
}

/**
 * RFC 2464 §7: the MAC address for an IPv6 multicast address is 33:33
 * followed by the address's last four bytes. Writes into `out` (6 bytes).
 */
export function ipv6MulticastMac(group: Uint8Array, out: MacAddress): MacAddress {
  out[0] = 0x33;
  out[1] = 0x33;
  out[2] = group[12]!;
  out[3] = group[13]!;
  out[4] = group[14]!;
  out[5] = group[15]!;
  return out;
}

/**
 * Parses an Ethernet II frame. Returns `truncated` below 14 bytes and
 * `unsupported` for 802.3 length frames and VLAN-tagged frames. Any other
 * EtherType is returned as is, for the stack to count as an unknown protocol.
 */
export function parseEthernet(bytes: Uint8Array): EthernetRepr | WireDropReason {
  if (bytes.length < ETHERNET_HEADER_LENGTH) return WireDropReason.Truncated;
  const ethertype = ethernetType(bytes);
  if (ethertype < ETHERTYPE_MIN) return WireDropReason.Unsupported;
  if (ethertype === EtherType.Vlan || ethertype === EtherType.QinQ) {
    return WireDropReason.Unsupported;
  }
  return {
    dst: ethernetDst(bytes),
    src: ethernetSrc(bytes),
    ethertype,
    payload: bytes.subarray(ETHERNET_HEADER_LENGTH),
  };
}

/** Bytes {@link emitEthernet} writes: header plus payload (no padding is added). */
export function ethernetLength(repr: EthernetRepr): number {
  return ETHERNET_HEADER_LENGTH + repr.payload.length;
}

/**
 * Writes the frame at the start of `out` and returns its length. The payload
 * is copied unless it is already in place (a view of `out` at offset 14), so
 * a caller may build the payload inside `out` first. Short frames are not
 * padded to the 60-byte minimum: links that need it pad.
 */
export function emitEthernet(repr: EthernetRepr, out: Uint8Array): number {
  const length = ethernetLength(repr);
  if (out.length < length) {
    throw new RangeError(
      `emitEthernet: the output holds ${out.length} bytes but the frame needs ${length}; size it with ethernetLength()`,
    );
  }
  if (repr.dst.length !== 6 || repr.src.length !== 6) {
    throw new RangeError('emitEthernet: dst and src must be 6-byte MAC addresses');
  }
  out.set(repr.dst, ETHERNET_DST);
  out.set(repr.src, ETHERNET_SRC);
  out[ETHERNET_ETHERTYPE] = (repr.ethertype >>> 8) & 0xff;
  out[ETHERNET_ETHERTYPE + 1] = repr.ethertype & 0xff;
  placePayload(out, ETHERNET_HEADER_LENGTH, repr.payload);
  return length;
}

/** Copies `payload` to `out[offset..]` unless it is already there (set() would clone an overlapping source first). */
function placePayload(out: Uint8Array, offset: number, payload: Uint8Array): void {
  if (payload.buffer === out.buffer && payload.byteOffset === out.byteOffset + offset) return;
  out.set(payload, offset);
}
