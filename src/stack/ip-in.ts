/**
 * IP input: a frame from a link, through Ethernet (ARP goes to neighbor.ts)
 * and the IPv4 or IPv6 header (RFC 791 §3.2, RFC 8200 §4; reassembly of
 * fragments, RFC 791 §3.2 and RFC 8200 §4.5), to the transport it is for:
 * TCP, UDP, ICMP, or ICMP protocol unreachable (RFC 1122 §3.2.2.1). A packet
 * for another host is forwarded by a router and dropped by a host.
 */
import { seconds, type Instant } from '../base/index.js';
import {
  EtherType,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  IpProtocol,
  ipVersion,
  isDropReason,
  macEqual,
  macIsBroadcast,
  parseEthernet,
  parseIpv4,
  parseIpv6,
  walkIpv6Extensions,
  type Ipv6Chain,
} from '../wire/index.js';
import { IpAddr } from './address.js';
import { StackDropReason, countInterfaceDrop, type DropCounts } from './drop.js';
import type { Forwarder } from './forward.js';
import type { Icmp } from './icmp.js';
import type { NeighborDiscovery } from './neighbor.js';
import { Reassembler } from './reassembly.js';
import type { NetInterface, Routing } from './routes.js';
import type { TcpDemux } from './tcp-demux.js';
import type { UdpDemux } from './udp-demux.js';

/** Interned IPv4 addresses of received packets before the table starts afresh. */
const ADDRESS_CACHE_MAX = 4096;

/** The transports and helpers IP input hands packets to. */
export interface IpInputTargets {
  routing: Routing;
  neighbors: NeighborDiscovery;
  tcp: TcpDemux;
  udp: UdpDemux;
  icmp: Icmp;
  /** The forwarding plane of a router; null on a host. */
  forwarder: Forwarder | null;
  drops: DropCounts;
  /**
   * Take TCP and UDP to any unicast destination as if it were ours (a
   * user-mode NAT gateway, see transparent.ts). Default false.
   */
  transparent?: boolean;
}

/** The IP input path of one stack. */
export class IpInput {
  private readonly routing: Routing;
  private readonly neighbors: NeighborDiscovery;
  private readonly tcp: TcpDemux;
  private readonly udp: UdpDemux;
  private readonly icmp: Icmp;
  private readonly forwarder: Forwarder | null;
  private readonly drops: DropCounts;
  private readonly transparent: boolean;
  /** Datagrams being reassembled from fragments. */
  readonly fragments = new Reassembler({
    timeout: seconds(30),
    maxDatagramSize: 65535,
    maxBytes: 4 << 20,
  });
  /** The same IpAddr for the same IPv4 address of received packets (no text formatting per packet). */
  private readonly v4Addresses = new Map<number, IpAddr>();

  constructor(targets: IpInputTargets) {
    this.routing = targets.routing;
    this.neighbors = targets.neighbors;
    this.tcp = targets.tcp;
    this.udp = targets.udp;
    this.icmp = targets.icmp;
    this.forwarder = targets.forwarder;
    this.drops = targets.drops;
    this.transparent = targets.transparent === true;
  }

  /**
   * A frame that arrived on `iface`: Ethernet (IPv4, IPv6 or ARP) or, on an
   * IP link, a bare packet. Never throws on bad input.
   */
  receiveFrame(now: Instant, iface: NetInterface, frame: Uint8Array): void {
    if (iface.kind === 'ip') {
      this.receiveIp(now, iface, frame);
      return;
    }
    const eth = parseEthernet(frame);
    if (isDropReason(eth)) {
      countInterfaceDrop(this.drops, iface, eth);
      return;
    }
    if (
      !macEqual(eth.dst, iface.mac) &&
      !macIsBroadcast(eth.dst) &&
      !this.routing.acceptsMulticastMac(iface, eth.dst)
    ) {
      countInterfaceDrop(this.drops, iface, StackDropReason.NotForUs);
      return;
    }
    switch (eth.ethertype) {
      case EtherType.Ipv4:
      case EtherType.Ipv6:
        this.receiveIp(now, iface, eth.payload);
        return;
      case EtherType.Arp:
        this.neighbors.receiveArp(now, iface, eth.payload);
        return;
      default:
        countInterfaceDrop(this.drops, iface, StackDropReason.UnsupportedProtocol);
    }
  }

  private receiveIp(now: Instant, iface: NetInterface, packet: Uint8Array): void {
    if (packet.length < 1) {
      countInterfaceDrop(this.drops, iface, 'truncated');
      return;
    }
    const version = ipVersion(packet);
    if (version === 4) this.receiveIpv4(now, iface, packet);
    else if (version === 6) this.receiveIpv6(now, iface, packet);
    else countInterfaceDrop(this.drops, iface, 'bad-version');
  }

  private receiveIpv4(now: Instant, iface: NetInterface, packet: Uint8Array): void {
    const ip = parseIpv4(packet);
    if (isDropReason(ip)) {
      countInterfaceDrop(this.drops, iface, ip);
      return;
    }
    const dst = this.ipv4Address(ip.dst);
    const src = this.ipv4Address(ip.src);
    if (!this.routing.isLocalV4(ip.dst) && !this.terminatesAnyway(ip.protocol, dst)) {
      if (this.forwarder !== null)
        this.forwarder.forward(now, iface, packet, dst, src, ip.ttl, 4, ip.dontFragment);
      else countInterfaceDrop(this.drops, iface, StackDropReason.NotForUs);
      return;
    }
    let payload = ip.payload;
    if (ip.moreFragments || ip.fragmentOffset > 0) {
      const key = `4 ${ip.src} ${ip.dst} ${ip.identification} ${ip.protocol}`;
      const whole = this.fragments.add(now, key, ip.fragmentOffset, ip.moreFragments, ip.payload);
      if (whole === null) return;
      if (typeof whole === 'string') {
        countInterfaceDrop(this.drops, iface, whole);
        return;
      }
      payload = whole;
    }
    this.receiveTransport(now, iface, src, dst, ip.protocol, payload, packet);
  }

  private receiveIpv6(now: Instant, iface: NetInterface, packet: Uint8Array): void {
    const ip = parseIpv6(packet);
    if (isDropReason(ip)) {
      countInterfaceDrop(this.drops, iface, ip);
      return;
    }
    const dst = IpAddr.fromV6(ip.dst);
    const src = IpAddr.fromV6(ip.src);
    if (!this.routing.isLocalV6(iface, dst) && !this.terminatesAnyway(ip.protocol, dst)) {
      if (this.forwarder !== null && !dst.isMulticast && !dst.isLinkLocal)
        this.forwarder.forward(now, iface, packet, dst, src, ip.hopLimit, 6, true);
      else countInterfaceDrop(this.drops, iface, StackDropReason.NotForUs);
      return;
    }
    let protocol = ip.protocol;
    let payload = ip.payload;
    if (ip.fragment !== null) {
      const key = `6 ${src.text} ${dst.text} ${ip.fragment.identification}`;
      const whole = this.fragments.add(
        now,
        key,
        ip.fragment.offset,
        ip.fragment.moreFragments,
        ip.payload,
      );
      if (whole === null) return;
      if (typeof whole === 'string') {
        countInterfaceDrop(this.drops, iface, whole);
        return;
      }
      // The reassembled payload may itself start with more extension headers.
      const chain: Ipv6Chain = { protocol: 0, headerLength: 0, fragment: null };
      const bad = walkIpv6Extensions(whole, protocol, 0, whole.length, chain);
      if (bad !== null) {
        countInterfaceDrop(this.drops, iface, bad);
        return;
      }
      protocol = chain.protocol;
      payload = whole.subarray(chain.headerLength);
    }
    this.receiveTransport(now, iface, src, dst, protocol, payload, packet, ip.hopLimit);
  }

  private receiveTransport(
    now: Instant,
    iface: NetInterface,
    src: IpAddr,
    dst: IpAddr,
    protocol: number,
    payload: Uint8Array,
    packet: Uint8Array,
    hopLimit = 0,
  ): void {
    switch (protocol) {
      case IpProtocol.Tcp:
        this.tcp.receive(now, iface, src, dst, payload, packet);
        return;
      case IpProtocol.Udp:
        this.udp.receive(now, iface, src, dst, payload, packet);
        return;
      case IpProtocol.Icmp:
        if (src.family === 4) this.icmp.receiveV4(now, iface, src, dst, payload);
        else countInterfaceDrop(this.drops, iface, StackDropReason.UnsupportedProtocol);
        return;
      case IpProtocol.Icmpv6:
        if (src.family === 6) this.icmp.receiveV6(now, iface, src, dst, payload, hopLimit);
        else countInterfaceDrop(this.drops, iface, StackDropReason.UnsupportedProtocol);
        return;
      default:
        countInterfaceDrop(this.drops, iface, StackDropReason.UnsupportedProtocol);
        // RFC 1122 §3.2.2.1: protocol unreachable (IPv4); RFC 4443 parameter problem for IPv6 is optional.
        if (src.family === 4 && !dst.isMulticast) {
          this.icmp.sendError(now, src, packet, {
            type: Icmpv4Type.DestinationUnreachable,
            code: Icmpv4UnreachableCode.ProtocolUnreachable,
            nextHopMtu: 0,
            original: packet,
          });
        }
    }
  }

  /**
   * Whether a packet for another host is still ours to take: on a
   * transparent stack, TCP and UDP to unicast destinations are. (An IPv6
   * packet whose transport follows extension headers is not: the guests we
   * serve send TCP and UDP right after the fixed header.)
   */
  private terminatesAnyway(protocol: number, dst: IpAddr): boolean {
    return (
      this.transparent &&
      (protocol === IpProtocol.Tcp || protocol === IpProtocol.Udp) &&
      !dst.isMulticast &&
      !dst.isLinkLocal
    );
  }

  /** The IpAddr of an IPv4 address in a received packet, the same object each time. */
  private ipv4Address(address: number): IpAddr {
    const cache = this.v4Addresses;
    let ip = cache.get(address);
    if (ip === undefined) {
      if (cache.size >= ADDRESS_CACHE_MAX) cache.clear();
      ip = IpAddr.fromV4(address);
      cache.set(address, ip);
    }
    return ip;
  }
}
