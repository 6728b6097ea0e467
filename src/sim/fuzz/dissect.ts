/**
 * The fuzzer's own reading of a frame, independent of the stack's parsers:
 * where the IP header, its options or extension headers, and the upper
 * layer sit, whether the IP header is sound, and the transport checksum.
 * The fuzzer uses it to fix checksums after a mutation (so a mutated frame
 * reaches the deeper layers), to know which frames the stack must drop, and
 * to hold back frames that would forge state of the live connections.
 */
import {
  checksumAdd,
  checksumAddWord,
  checksumFold,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
} from '../../wire/index.js';

export const ETHERNET_HEADER = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_DEST_OPTIONS = 60;

/** Where the parts of a frame are, as far as they can be told. */
export interface Dissection {
  kind: 'short' | 'other' | 'arp' | 'ipv4' | 'ipv6';
  ethertype: number;
  /** Offset of the IP (or ARP) header. */
  ip: number;
  /** Offset of the upper-layer header: after IPv4 options or the IPv6 extension headers. */
  l4: number;
  /** End of the IP packet by its own length field (may lie beyond the frame). */
  ipEnd: number;
  /** The upper-layer protocol, -1 when the extension headers could not be walked. */
  protocol: number;
  /** Part of a fragmented datagram (not an atomic fragment, RFC 6946). */
  fragment: boolean;
  /** The IP header is sound: version, lengths, and for IPv4 its checksum. */
  headerOk: boolean;
}

function u16(f: Uint8Array, at: number): number {
  return (f[at]! << 8) | f[at + 1]!;
}

/** Reads the frame's layers; never throws, whatever the bytes. */
export function dissect(frame: Uint8Array): Dissection {
  const d: Dissection = {
    kind: 'short',
    ethertype: -1,
    ip: ETHERNET_HEADER,
    l4: -1,
    ipEnd: -1,
    protocol: -1,
    fragment: false,
    headerOk: false,
  };
  if (frame.length < ETHERNET_HEADER) return d;
  d.ethertype = u16(frame, 12);
  const ip = ETHERNET_HEADER;
  if (d.ethertype === ETHERTYPE_ARP) {
    d.kind = 'arp';
    return d;
  }
  if (d.ethertype === ETHERTYPE_IPV4) {
    d.kind = 'ipv4';
    if (frame.length < ip + 20) return d;
    const ihl = (frame[ip]! & 0x0f) * 4;
    const total = u16(frame, ip + 2);
    d.ipEnd = ip + total;
    d.l4 = ip + ihl;
    d.protocol = frame[ip + 9]!;
    const fragmentField = u16(frame, ip + 6);
    d.fragment = (fragmentField & 0x3fff) !== 0;
    d.headerOk =
      frame[ip]! >> 4 === 4 &&
      ihl >= 20 &&
      ip + ihl <= frame.length &&
      total >= ihl &&
      ip + total <= frame.length &&
      checksumFold(checksumAdd(0, frame.subarray(ip, ip + ihl))) === 0xffff;
    return d;
  }
  if (d.ethertype === ETHERTYPE_IPV6) {
    d.kind = 'ipv6';
    if (frame.length < ip + 40) return d;
    d.ipEnd = ip + 40 + u16(frame, ip + 4);
    d.headerOk = frame[ip]! >> 4 === 6 && d.ipEnd <= frame.length;
    let next = frame[ip + 6]!;
    let at = ip + 40;
    for (let guard = 0; guard < 16; guard++) {
      if (
        next !== IPV6_HOP_BY_HOP &&
        next !== IPV6_ROUTING &&
        next !== IPV6_DEST_OPTIONS &&
        next !== IPV6_FRAGMENT
      ) {
        d.protocol = next;
        d.l4 = at;
        return d;
      }
      if (at + 8 > frame.length) return d;
      if (next === IPV6_FRAGMENT) {
        const offsetFlags = u16(frame, at + 2);
        if ((offsetFlags & 0xfff9) !== 0) d.fragment = true;
        next = frame[at]!;
        at += 8;
      } else {
        next = frame[at]!;
        at += (frame[at + 1]! + 1) * 8;
      }
    }
    return d;
  }
  d.kind = 'other';
  return d;
}

/** Offset of the checksum field of `protocol` within its header, -1 for none we compute. */
function checksumOffset(protocol: number): number {
  switch (protocol) {
    case PROTO_TCP:
      return 16;
    case PROTO_UDP:
      return 6;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      return 2;
    default:
      return -1;
  }
}

/** The ones' complement sum of the upper layer with its pseudo-header, or -1 when it cannot be told. */
function transportSum(frame: Uint8Array, d: Dissection): number {
  if (d.l4 < 0 || d.ipEnd > frame.length || d.l4 > d.ipEnd || d.fragment) return -1;
  const length = d.ipEnd - d.l4;
  const body = frame.subarray(d.l4, d.ipEnd);
  if (d.kind === 'ipv4') {
    if (d.protocol === PROTO_ICMP) return checksumFold(checksumAdd(0, body));
    if (d.protocol !== PROTO_TCP && d.protocol !== PROTO_UDP) return -1;
    const ip = d.ip;
    const src = ((frame[ip + 12]! << 24) | (frame[ip + 13]! << 16) | u16(frame, ip + 14)) >>> 0;
    const dst = ((frame[ip + 16]! << 24) | (frame[ip + 17]! << 16) | u16(frame, ip + 18)) >>> 0;
    return checksumFold(checksumAdd(pseudoHeaderSumV4(src, dst, d.protocol, length), body));
  }
  if (d.kind === 'ipv6') {
    if (checksumOffset(d.protocol) < 0 || d.protocol === PROTO_ICMP) return -1;
    const ip = d.ip;
    const sum = pseudoHeaderSumV6(
      frame.subarray(ip + 8, ip + 24),
      frame.subarray(ip + 24, ip + 40),
      d.protocol,
      length,
    );
    return checksumFold(checksumAdd(sum, body));
  }
  return -1;
}

/**
 * Whether the upper layer's checksum verifies: true, false, or null when
 * the fuzzer cannot tell (a fragment, an unknown protocol, lengths that do
 * not fit). An IPv4 UDP checksum of zero means none (RFC 768).
 */
export function transportChecksumOk(frame: Uint8Array, d: Dissection): boolean | null {
  const offset = checksumOffset(d.protocol);
  if (offset < 0 || d.l4 + offset + 2 > Math.min(d.ipEnd, frame.length)) return null;
  if (d.kind === 'ipv4' && d.protocol === PROTO_UDP && u16(frame, d.l4 + 6) === 0) return true;
  const sum = transportSum(frame, d);
  if (sum < 0) return null;
  return sum === 0xffff;
}

/** Rewrites the IPv4 header checksum and the upper layer's checksum where the layout allows. */
export function fixChecksums(frame: Uint8Array): void {
  const d = dissect(frame);
  if (d.kind === 'ipv4' && frame.length >= d.ip + 20) {
    const ihl = (frame[d.ip]! & 0x0f) * 4;
    if (ihl >= 20 && d.ip + ihl <= frame.length) {
      frame[d.ip + 10] = 0;
      frame[d.ip + 11] = 0;
      const c = ~checksumFold(checksumAdd(0, frame.subarray(d.ip, d.ip + ihl))) & 0xffff;
      frame[d.ip + 10] = c >> 8;
      frame[d.ip + 11] = c & 0xff;
    }
  }
  const offset = checksumOffset(d.protocol);
  if (offset < 0 || d.l4 < 0 || d.l4 + offset + 2 > Math.min(d.ipEnd, frame.length)) return;
  frame[d.l4 + offset] = 0;
  frame[d.l4 + offset + 1] = 0;
  const sum = transportSum(frame, d);
  if (sum < 0) return;
  let c = ~checksumFold(checksumAddWord(sum, 0)) & 0xffff;
  // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
  if (c === 0 && d.protocol === PROTO_UDP) c = 0xffff;
  frame[d.l4 + offset] = c >> 8;
  frame[d.l4 + offset + 1] = c & 0xff;
}
