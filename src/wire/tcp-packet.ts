import type { Ipv4Address, Ipv6Address, MacAddress } from './address.js';
import { pseudoHeaderSumV4, pseudoHeaderSumV6 } from './checksum.js';
import { ETHERNET_HEADER_LENGTH, EtherType, emitEthernet } from './ethernet.js';
import { IPV4_HEADER_LENGTH, IpProtocol, emitIpv4 } from './ipv4.js';
import { IPV6_HEADER_LENGTH, emitIpv6 } from './ipv6.js';
import { emitTcp, tcpHeaderLength, type TcpRepr } from './tcp.js';

/**
 * A whole frame carrying one TCP segment, built from plain reprs in one call:
 * Ethernet (optional), IPv4 or IPv6, TCP with its checksum over the right
 * pseudo-header. For whoever puts a segment on a link without a stack in
 * front of it: a simulated old duplicate, a scripted peer, a test.
 */

/** The IPv4 header of a {@link TcpPacketRepr}; the protocol and length follow from the segment. */
export interface TcpPacketIpv4 {
  version: 4;
  src: Ipv4Address;
  dst: Ipv4Address;
  ttl: number;
  /** Differentiated services codepoint, 0..63 (RFC 2474). */
  dscp: number;
  /** ECN codepoint, 0..3 (RFC 3168). */
  ecn: number;
  identification: number;
  dontFragment: boolean;
}

/** The IPv6 header of a {@link TcpPacketRepr} (no extension headers); the next header and length follow from the segment. */
export interface TcpPacketIpv6 {
  version: 6;
  src: Ipv6Address;
  dst: Ipv6Address;
  hopLimit: number;
  /** The high 6 bits of the traffic class (RFC 2474). */
  dscp: number;
  /** The low 2 bits of the traffic class (RFC 3168). */
  ecn: number;
  /** The 20-bit flow label (RFC 6437). */
  flowLabel: number;
}

/** A frame that carries one TCP segment, as plain data. */
export interface TcpPacketRepr {
  /** The Ethernet addresses, or null for a bare IP packet (a TUN or raw-IP link); the EtherType follows from the IP version. */
  ethernet: { src: MacAddress; dst: MacAddress } | null;
  ip: TcpPacketIpv4 | TcpPacketIpv6;
  tcp: TcpRepr;
}

/** Bytes {@link emitTcpPacket} writes for `repr`. */
export function tcpPacketLength(repr: TcpPacketRepr): number {
  return (
    (repr.ethernet === null ? 0 : ETHERNET_HEADER_LENGTH) +
    (repr.ip.version === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH) +
    tcpHeaderLength(repr.tcp) +
    repr.tcp.payload.length
  );
}

/**
 * Writes the frame `repr` describes at the start of `out`, innermost first
 * so that each layer finds its payload already in place, and returns its
 * length. The TCP options are laid out as {@link emitTcp} lays them out.
 *
 * @throws RangeError when `out` is shorter than {@link tcpPacketLength}, or
 *   when a layer cannot encode its fields (see emitIpv4, emitIpv6).
 */
export function emitTcpPacket(repr: TcpPacketRepr, out: Uint8Array): number {
  const length = tcpPacketLength(repr);
  if (out.length < length) {
    throw new RangeError(
      `emitTcpPacket: out holds ${out.length} bytes but the frame needs ${length}; size it with tcpPacketLength(repr)`,
    );
  }
  const ipAt = repr.ethernet === null ? 0 : ETHERNET_HEADER_LENGTH;
  const ip = repr.ip;
  const tcpAt = ipAt + (ip.version === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH);
  const segment = out.subarray(tcpAt, length);
  if (ip.version === 4) {
    emitTcp(repr.tcp, segment, pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Tcp, segment.length));
    emitIpv4(
      {
        src: ip.src,
        dst: ip.dst,
        protocol: IpProtocol.Tcp,
        ttl: ip.ttl,
        dscp: ip.dscp,
        ecn: ip.ecn,
        identification: ip.identification,
        dontFragment: ip.dontFragment,
        moreFragments: false,
        fragmentOffset: 0,
        payload: segment,
      },
      out.subarray(ipAt, length),
    );
  } else {
    emitTcp(repr.tcp, segment, pseudoHeaderSumV6(ip.src, ip.dst, IpProtocol.Tcp, segment.length));
    emitIpv6(
      {
        src: ip.src,
        dst: ip.dst,
        protocol: IpProtocol.Tcp,
        headerLength: IPV6_HEADER_LENGTH,
        fragment: null,
        hopLimit: ip.hopLimit,
        dscp: ip.dscp,
        ecn: ip.ecn,
        flowLabel: ip.flowLabel,
        payload: segment,
      },
      out.subarray(ipAt, length),
    );
  }
  if (repr.ethernet !== null) {
    emitEthernet(
      {
        dst: repr.ethernet.dst,
        src: repr.ethernet.src,
        ethertype: ip.version === 4 ? EtherType.Ipv4 : EtherType.Ipv6,
        payload: out.subarray(ipAt, length),
      },
      out,
    );
  }
  return length;
}

/** The frame `repr` describes, in a new array of exactly its length (see {@link emitTcpPacket}). */
export function buildTcpPacket(repr: TcpPacketRepr): Uint8Array {
  const out = new Uint8Array(tcpPacketLength(repr));
  emitTcpPacket(repr, out);
  return out;
}
