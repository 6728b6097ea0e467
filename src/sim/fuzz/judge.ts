/**
 * What the fuzzer knows about a frame before the stack sees it: whether
 * the stack must drop it (so a drop counter must move), and whether it
 * would forge state of the live connections that no stack can refuse (so
 * it is held back instead of injected).
 */
import { isFuzzSource4, isFuzzSource6, type FuzzAddresses } from './build.js';
import {
  ETHERNET_HEADER,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  transportChecksumOk,
  type Dissection,
} from './dissect.js';

function sameBytes(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

function u16(f: Uint8Array, at: number): number {
  return (f[at]! << 8) | f[at + 1]!;
}

/** Checks of the upper layer that every stack makes (RFC 9293 §3.1, RFC 768, RFC 792, RFC 4443). */
function upperLayerFault(frame: Uint8Array, d: Dissection): string | null {
  const length = d.ipEnd - d.l4;
  switch (d.protocol) {
    case PROTO_TCP: {
      if (length < 20) return 'a TCP header cut short';
      const dataOffset = (frame[d.l4 + 12]! >> 4) * 4;
      if (dataOffset < 20 || dataOffset > length)
        return `a TCP data offset of ${dataOffset} in ${length} bytes`;
      if (transportChecksumOk(frame, d) === false) return 'a bad TCP checksum';
      return null;
    }
    case PROTO_UDP: {
      if (length < 8) return 'a UDP header cut short';
      const udpLength = u16(frame, d.l4 + 4);
      if (udpLength < 8 || udpLength > length)
        return `a UDP length of ${udpLength} in ${length} bytes`;
      if (d.kind === 'ipv6' && u16(frame, d.l4 + 6) === 0)
        return 'a zero UDP checksum over IPv6 (RFC 8200 §8.1)';
      if (udpLength === length && transportChecksumOk(frame, d) === false)
        return 'a bad UDP checksum';
      return null;
    }
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      if (length < 4) return 'an ICMP header cut short';
      if (transportChecksumOk(frame, d) === false) return 'a bad ICMP checksum';
      return null;
    default:
      return null;
  }
}

/**
 * Why the target stack must drop `frame` and count it, or null when the
 * frame may be valid (then the stack may take it or drop it). Only faults
 * every conforming stack rejects are named; the rest is left to the stack.
 */
export function mustDrop(frame: Uint8Array, d: Dissection, addr: FuzzAddresses): string | null {
  if (d.kind === 'short') return 'shorter than an Ethernet header';
  if ((frame[0]! & 1) === 0 && !sameBytes(frame, 0, addr.targetMac, 0, 6))
    return 'for another MAC address';
  if (d.kind === 'other') return `ethertype 0x${d.ethertype.toString(16)}`;
  if (d.kind === 'arp')
    return frame.length < ETHERNET_HEADER + 28 ? 'an ARP packet cut short' : null;
  if (!d.headerOk) return `a broken ${d.kind === 'ipv4' ? 'IPv4' : 'IPv6'} header`;
  const ip = d.ip;
  if (d.kind === 'ipv4') {
    const first = frame[ip + 16]!;
    const last = frame[ip + 19]!;
    const unicast = first !== 0 && first < 224 && last !== 255;
    if (unicast && !sameBytes(frame, ip + 16, addr.target4, 0, 4))
      return 'for another IPv4 address';
    if (d.fragment || !sameBytes(frame, ip + 16, addr.target4, 0, 4)) return null;
    return upperLayerFault(frame, d);
  }
  const first = frame[ip + 24]!;
  const linkLocal = first === 0xfe && (frame[ip + 25]! & 0xc0) === 0x80;
  if (first !== 0xff && !linkLocal && !sameBytes(frame, ip + 24, addr.target6, 0, 16))
    return 'for another IPv6 address';
  if (d.fragment || d.protocol < 0 || !sameBytes(frame, ip + 24, addr.target6, 0, 16)) return null;
  return upperLayerFault(frame, d);
}

/**
 * Why `frame` is held back, or null to inject it. A frame that speaks for
 * the live peer and would be valid is a forgery no stack can refuse: a TCP
 * segment in its window with a right checksum (TCP has no authentication),
 * an ARP packet or a neighbour advertisement that rebinds its address
 * (RFC 826, RFC 4861 §11.1 leave both unauthenticated). Those would break
 * the checked streams for reasons that are not the stack's. A frame whose
 * segment is byte for byte one the peer sent (`origin`) is a replay, which
 * TCP must survive, and goes in.
 */
export function forgery(
  frame: Uint8Array,
  d: Dissection,
  origin: Uint8Array | null,
): string | null {
  if (d.kind === 'arp') {
    if (frame.length < ETHERNET_HEADER + 28) return null;
    if (isFuzzSource4(frame, ETHERNET_HEADER + 14)) return null;
    if (origin !== null && sameBytes(frame, ETHERNET_HEADER, origin, ETHERNET_HEADER, 28))
      return null;
    return 'an ARP packet for a live address';
  }
  if (d.kind === 'ipv4') {
    if (!d.headerOk || isFuzzSource4(frame, d.ip + 12)) return null;
    if (d.fragment) return d.protocol === PROTO_TCP ? 'a TCP fragment from a live address' : null;
    if (d.protocol !== PROTO_TCP || transportChecksumOk(frame, d) === false) return null;
  } else if (d.kind === 'ipv6') {
    if (frame.length < d.ip + 40 || isFuzzSource6(frame, d.ip + 8)) {
      // A neighbour advertisement from a fuzz address may still name a live target.
      if (d.protocol === PROTO_ICMPV6 && d.l4 + 24 <= frame.length && frame[d.l4] === 136) {
        if (!isFuzzSource6(frame, d.l4 + 8) && transportChecksumOk(frame, d) !== false)
          return 'a neighbour advertisement for a live address';
      }
      return null;
    }
    if (d.protocol === PROTO_ICMPV6) {
      const type = d.l4 < frame.length ? frame[d.l4]! : 0;
      if (type < 133 || type > 137 || transportChecksumOk(frame, d) === false) return null;
      return 'neighbour discovery from a live address';
    }
    if (d.fragment || d.protocol < 0)
      return 'an IPv6 packet from a live address the fuzzer cannot read through';
    if (d.protocol !== PROTO_TCP || transportChecksumOk(frame, d) === false) return null;
  } else {
    return null;
  }
  // A TCP segment from the live peer whose checksum holds goes in only as
  // a replay: the segment and its addresses as the peer sent them (the IP
  // header's TTL, ToS or identification may differ).
  if (origin === null || origin.length !== frame.length || d.l4 < 0)
    return 'a TCP segment from a live address';
  const addresses =
    d.kind === 'ipv4'
      ? sameBytes(frame, d.ip + 12, origin, d.ip + 12, 8)
      : sameBytes(frame, d.ip + 8, origin, d.ip + 8, 32);
  if (addresses && sameBytes(frame, d.l4, origin, d.l4, frame.length - d.l4)) return null;
  return 'a TCP segment from a live address, changed';
}

/**
 * Bugs the fuzzer found in the stack that are reported and not fixed yet,
 * by name: a frame that runs into one is counted apart instead of failing
 * the run (unless strict). Remove an entry when its bug is fixed.
 */
export const KNOWN_FUZZ_ISSUES: Readonly<Record<string, string>> = {
  'ip-version-vs-ethertype':
    'stack.ts receiveFrame hands IPv4 and IPv6 frames alike to receiveIp, which goes by the version ' +
    'nibble: a packet whose version contradicts its ethertype (an IPv6 packet in a 0x0800 frame) is taken ' +
    "as the other protocol instead of dropped (Linux's ip_rcv drops version != 4 as a header error)",
};

/** The known issue an uncounted drop of `frame` runs into, or null. */
export function knownIssueOf(frame: Uint8Array, d: Dissection): string | null {
  if (d.kind !== 'ipv4' && d.kind !== 'ipv6') return null;
  if (frame.length <= d.ip) return null;
  const version = frame[d.ip]! >> 4;
  if ((d.kind === 'ipv4' && version === 6) || (d.kind === 'ipv6' && version === 4))
    return 'ip-version-vs-ethertype';
  return null;
}
