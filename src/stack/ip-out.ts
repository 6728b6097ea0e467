/**
 * IP output: the IPv4 or IPv6 header in front of a payload (RFC 791 §3.1,
 * RFC 8200 §3), fragmentation of what does not fit the path MTU (RFC 791
 * §2.3, RFC 8200 §4.5; never TCP, which sets DF and sizes segments to the
 * path), and the hand-off to the link: straight to the queue on an IP link,
 * through neighbour resolution on Ethernet.
 */
import type { Instant, Rng } from '../base/index.js';
import {
  EtherType,
  IPV4_HEADER_LENGTH,
  IPV6_FRAGMENT_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  IpProtocol,
  NDP_HOP_LIMIT,
  emitIpv4,
  emitIpv6,
  emitTcp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  tcpHeaderLength,
  type Ipv4Repr,
  type Ipv6Repr,
  type TcpRepr,
} from '../wire/index.js';
import type { IpAddr } from './address.js';
import { StackDropReason, countDrop, type DropCounts } from './drop.js';
import { HEADROOM, type FramePool, type TxQueue } from './frames.js';
import type { NeighborDiscovery } from './neighbor.js';
import type { RouteResult, Routing } from './routes.js';

const EMPTY = new Uint8Array(0);

/** The IP output path of one stack. */
export class IpOutput {
  private readonly routing: Routing;
  private readonly frames: FramePool;
  private readonly tx: TxQueue;
  private readonly neighbors: NeighborDiscovery;
  private readonly drops: DropCounts;
  private readonly rng: Rng;
  private readonly defaultTtl: number;
  /** The IPv4 header fields of the packet being built (emitIpv4 keeps nothing of it). */
  private readonly ipv4Header: Ipv4Repr = {
    src: 0,
    dst: 0,
    protocol: 0,
    ttl: 0,
    dscp: 0,
    ecn: 0,
    identification: 0,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    payload: EMPTY,
  };
  private ipv4Identification = 1;

  constructor(
    routing: Routing,
    frames: FramePool,
    tx: TxQueue,
    neighbors: NeighborDiscovery,
    drops: DropCounts,
    rng: Rng,
    defaultTtl: number,
  ) {
    this.routing = routing;
    this.frames = frames;
    this.tx = tx;
    this.neighbors = neighbors;
    this.drops = drops;
    this.rng = rng;
    this.defaultTtl = defaultTtl;
  }

  /** Sends a TCP segment of the connection local:localPort -> remote:remotePort, built in place in a pooled frame. */
  sendSegment(
    now: Instant,
    local: IpAddr,
    localPort: number,
    remote: IpAddr,
    remotePort: number,
    seg: TcpRepr,
    ecn = 0,
  ): void {
    seg.srcPort = localPort;
    seg.dstPort = remotePort;
    const route = this.routing.cachedRoute(remote);
    if (route === null) {
      countDrop(this.drops, StackDropReason.NoRoute);
      return;
    }
    const tcpLength = tcpHeaderLength(seg) + seg.payload.length;
    const ipHeader = remote.family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const buffer = this.frames.buffer(
      HEADROOM + ipHeader + tcpLength,
      tcpLength - seg.payload.length,
    );
    const tcpBytes = buffer.subarray(HEADROOM + ipHeader);
    const pseudo =
      remote.family === 4
        ? pseudoHeaderSumV4(local.v4, remote.v4, IpProtocol.Tcp, tcpLength)
        : pseudoHeaderSumV6(local.v6, remote.v6, IpProtocol.Tcp, tcpLength);
    emitTcp(seg, tcpBytes, pseudo, !route.iface.checksumOffload);
    // We never fragment TCP: DF is set and the MSS follows the path MTU. The
    // source is the connection's own address, whatever the route prefers.
    this.emitIpInPlace(now, route, local, remote, IpProtocol.Tcp, buffer, tcpLength, true, ecn);
  }

  /** Sends an upper-layer payload, fragmenting it when it does not fit (never for TCP). */
  sendIpPayload(
    now: Instant,
    route: RouteResult,
    dst: IpAddr,
    protocol: number,
    body: Uint8Array,
    dontFragment: boolean,
  ): void {
    const ipHeader = dst.family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const mtu = this.routing.pathMtuTo(now, route, dst);
    if (ipHeader + body.length <= mtu) {
      const buffer = new Uint8Array(HEADROOM + ipHeader + body.length);
      buffer.set(body, HEADROOM + ipHeader);
      this.emitIpInPlace(
        now,
        route,
        route.source,
        dst,
        protocol,
        buffer,
        body.length,
        dontFragment,
      );
      return;
    }
    if (dontFragment) {
      countDrop(this.drops, StackDropReason.MtuExceeded);
      return;
    }
    this.fragmentAndSend(now, route, dst, protocol, body, mtu);
  }

  /** RFC 791 §2.3 / RFC 8200 §4.5: split a datagram into fragments that fit the MTU. */
  fragmentAndSend(
    now: Instant,
    route: RouteResult,
    dst: IpAddr,
    protocol: number,
    body: Uint8Array,
    mtu: number,
  ): void {
    const id = this.ipv4Identification++ & 0xffff;
    const id6 = this.rng.nextU32();
    const header =
      dst.family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH + IPV6_FRAGMENT_HEADER_LENGTH;
    const chunk = Math.floor((mtu - header) / 8) * 8;
    for (let offset = 0; offset < body.length; offset += chunk) {
      const part = body.subarray(offset, Math.min(offset + chunk, body.length));
      const more = offset + chunk < body.length;
      const buffer = new Uint8Array(HEADROOM + header + part.length);
      const packet = buffer.subarray(HEADROOM);
      packet.set(part, header);
      if (dst.family === 4) {
        const repr: Ipv4Repr = {
          src: route.source.v4,
          dst: dst.v4,
          protocol,
          ttl: this.defaultTtl,
          dscp: 0,
          ecn: 0,
          identification: id,
          dontFragment: false,
          moreFragments: more,
          fragmentOffset: offset,
          payload: packet.subarray(header),
        };
        emitIpv4(repr, packet);
      } else {
        const repr: Ipv6Repr = {
          src: route.source.v6,
          dst: dst.v6,
          hopLimit: this.defaultTtl,
          dscp: 0,
          ecn: 0,
          flowLabel: 0,
          protocol,
          headerLength: header,
          fragment: { offset, moreFragments: more, identification: id6 },
          payload: packet.subarray(header),
        };
        emitIpv6(repr, packet);
      }
      this.transmitIp(now, route, dst, buffer);
    }
  }

  /**
   * Writes the IP header in front of a payload already placed in `buffer`
   * (after HEADROOM + IP header space) and hands the packet to the link.
   */
  emitIpInPlace(
    now: Instant,
    route: RouteResult,
    source: IpAddr,
    dst: IpAddr,
    protocol: number,
    buffer: Uint8Array,
    payloadLength: number,
    dontFragment: boolean,
    ecn = 0,
  ): void {
    const packet = buffer.subarray(HEADROOM);
    if (dst.family === 4) {
      const headerLength = IPV4_HEADER_LENGTH;
      const repr = this.ipv4Header;
      repr.src = source.v4;
      repr.dst = dst.v4;
      repr.protocol = protocol;
      repr.ttl = this.defaultTtl;
      repr.identification = dontFragment ? 0 : this.ipv4Identification++ & 0xffff;
      repr.dontFragment = dontFragment;
      repr.ecn = ecn;
      repr.payload = packet.subarray(headerLength, headerLength + payloadLength);
      emitIpv4(repr, packet);
      repr.payload = EMPTY;
    } else {
      const repr: Ipv6Repr = {
        src: source.v6,
        dst: dst.v6,
        hopLimit:
          protocol === IpProtocol.Icmpv6 && dst.isMulticast ? NDP_HOP_LIMIT : this.defaultTtl,
        dscp: 0,
        ecn,
        flowLabel: 0,
        protocol,
        headerLength: IPV6_HEADER_LENGTH,
        fragment: null,
        payload: packet.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
      };
      emitIpv6(repr, packet);
    }
    this.transmitIp(now, route, dst, buffer);
  }

  /** Adds the link header (resolving the neighbour on Ethernet) and queues the frame. */
  transmitIp(now: Instant, route: RouteResult, dst: IpAddr, buffer: Uint8Array): void {
    const iface = route.iface;
    const packet = buffer.subarray(HEADROOM);
    if (iface.kind === 'ip') {
      this.tx.push(iface.index, packet);
      return;
    }
    const ethertype = dst.family === 4 ? EtherType.Ipv4 : EtherType.Ipv6;
    this.neighbors.transmit(now, iface, route.nextHop, dst, ethertype, buffer);
  }
}
