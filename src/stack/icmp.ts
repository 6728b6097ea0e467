/**
 * ICMP and ICMPv6 (RFC 792, RFC 4443): echo (ping, RFC 1122 §3.2.2.6), the
 * errors we send about packets we cannot deliver, rate limited (RFC 1812
 * §4.3.2.8, RFC 4443 §2.4(f)), and the errors we receive: path MTU news
 * (RFC 1191, RFC 8201) and soft or hard errors for the TCP connection the
 * quoted segment belongs to (RFC 5927; its checks happen in the Connection).
 * Neighbour solicitations and advertisements go to neighbor.ts.
 */
import type { Instant } from '../base/index.js';
import {
  ICMPV6_MAX_ERROR_QUOTE,
  IPV4_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  IpProtocol,
  emitIcmpv4,
  emitIcmpv6,
  icmpv4Length,
  icmpv6Length,
  isDropReason,
  parseIcmpv4,
  parseIcmpv6,
  walkIpv6Extensions,
  type Icmpv4Repr,
  type Icmpv6Repr,
  type Ipv6Chain,
} from '../wire/index.js';
import { IpAddr } from './address.js';
import { StackDropReason, countInterfaceDrop, type DropCounts } from './drop.js';
import type { EventQueue } from './events.js';
import type { IpOutput } from './ip-out.js';
import type { NeighborDiscovery } from './neighbor.js';
import type { NetInterface, Routing } from './routes.js';

/** What an ICMP error means for a connection. */
export type IcmpErrorKind = 'refused' | 'unreachable' | 'packet-too-big';

/** The transport that owns connections an ICMP error may be about (the TCP demultiplexer). */
export interface IcmpErrorReceiver {
  /**
   * An error about a segment we sent from `local` to `remote` (sequence
   * number `seq`; `mss` the new MSS for packet-too-big, else 0). False when
   * no connection took it.
   */
  tcpError(
    now: Instant,
    remote: IpAddr,
    remotePort: number,
    local: IpAddr,
    localPort: number,
    kind: IcmpErrorKind,
    seq: number,
    mss: number,
  ): boolean;
}

/** The UDP sockets an ICMP error may be about (udp/'s bindings). */
export interface IcmpUdpSockets {
  /** The socket bound to `local`:`port`, or null. */
  lookup(local: IpAddr, port: number): object | null;
}

/** The IP header and first 8 transport bytes quoted in an ICMP error. */
interface IpQuote {
  src: IpAddr;
  dst: IpAddr;
  protocol: number;
  srcPort: number;
  dstPort: number;
  seq: number;
}

/** ICMP of one stack. */
export class Icmp {
  private readonly routing: Routing;
  private readonly out: IpOutput;
  private readonly neighbors: NeighborDiscovery;
  private readonly events: EventQueue;
  private readonly drops: DropCounts;
  private readonly transport: IcmpErrorReceiver;
  private readonly udp: IcmpUdpSockets;
  private readonly rateLimit: number;
  private icmpTokens: number;
  private icmpRefillAt = 0 as Instant;

  constructor(
    routing: Routing,
    out: IpOutput,
    neighbors: NeighborDiscovery,
    events: EventQueue,
    drops: DropCounts,
    transport: IcmpErrorReceiver,
    udp: IcmpUdpSockets,
    rateLimit: number,
  ) {
    this.routing = routing;
    this.out = out;
    this.neighbors = neighbors;
    this.events = events;
    this.drops = drops;
    this.transport = transport;
    this.udp = udp;
    this.rateLimit = rateLimit;
    this.icmpTokens = rateLimit;
  }

  /** Sends an ICMP or ICMPv6 echo request; the answer arrives as an `echo-reply` event. */
  ping(
    now: Instant,
    dst: IpAddr,
    options: { identifier?: number; sequence?: number; data?: Uint8Array },
  ): boolean {
    const route = this.routing.route(dst);
    if (route === null) return false;
    const data = options.data ?? new Uint8Array(56);
    const identifier = options.identifier ?? 1;
    const sequence = options.sequence ?? 1;
    if (dst.family === 4) {
      const icmp: Icmpv4Repr = { type: Icmpv4Type.EchoRequest, identifier, sequence, data };
      const body = new Uint8Array(icmpv4Length(icmp));
      emitIcmpv4(icmp, body);
      this.out.sendIpPayload(now, route, dst, IpProtocol.Icmp, body, false);
    } else {
      const icmp: Icmpv6Repr = { type: Icmpv6Type.EchoRequest, identifier, sequence, data };
      const body = new Uint8Array(icmpv6Length(icmp));
      emitIcmpv6(icmp, route.source.v6, dst.v6, body);
      this.out.sendIpPayload(now, route, dst, IpProtocol.Icmpv6, body, false);
    }
    return true;
  }

  receiveV4(now: Instant, iface: NetInterface, src: IpAddr, dst: IpAddr, bytes: Uint8Array): void {
    const icmp = parseIcmpv4(bytes);
    if (isDropReason(icmp)) {
      countInterfaceDrop(this.drops, iface, icmp);
      return;
    }
    switch (icmp.type) {
      case Icmpv4Type.EchoRequest: {
        // RFC 1122 §3.2.2.6: answer with the same identifier, sequence and data.
        const reply: Icmpv4Repr = {
          type: Icmpv4Type.EchoReply,
          identifier: icmp.identifier,
          sequence: icmp.sequence,
          data: icmp.data,
        };
        const body = new Uint8Array(icmpv4Length(reply));
        emitIcmpv4(reply, body);
        const route = this.routing.route(src);
        if (route === null) return;
        const source = this.routing.isBroadcastV4(dst.v4) ? route.source : dst;
        this.out.sendIpPayload(now, { ...route, source }, src, IpProtocol.Icmp, body, false);
        return;
      }
      case Icmpv4Type.EchoReply:
        this.events.push({
          type: 'echo-reply',
          from: src,
          identifier: icmp.identifier,
          sequence: icmp.sequence,
          data: icmp.data.slice(),
          at: now,
        });
        return;
      case Icmpv4Type.DestinationUnreachable: {
        const code = icmp.code;
        let kind: 'refused' | 'unreachable' | 'packet-too-big' = 'unreachable';
        if (
          code === Icmpv4UnreachableCode.PortUnreachable ||
          code === Icmpv4UnreachableCode.ProtocolUnreachable
        )
          kind = 'refused';
        if (code === Icmpv4UnreachableCode.FragmentationNeeded) kind = 'packet-too-big';
        this.errorToTransport(now, iface, src, icmp.original, kind, icmp.nextHopMtu);
        return;
      }
      case Icmpv4Type.TimeExceeded:
        this.errorToTransport(now, iface, src, icmp.original, 'unreachable', 0);
        return;
      default:
        countInterfaceDrop(this.drops, iface, StackDropReason.IcmpIgnored);
    }
  }

  receiveV6(
    now: Instant,
    iface: NetInterface,
    src: IpAddr,
    dst: IpAddr,
    bytes: Uint8Array,
    hopLimit: number,
  ): void {
    const icmp = parseIcmpv6(bytes, src.v6, dst.v6);
    if (isDropReason(icmp)) {
      countInterfaceDrop(this.drops, iface, icmp);
      return;
    }
    switch (icmp.type) {
      case Icmpv6Type.EchoRequest: {
        const reply: Icmpv6Repr = {
          type: Icmpv6Type.EchoReply,
          identifier: icmp.identifier,
          sequence: icmp.sequence,
          data: icmp.data,
        };
        const route = this.routing.route(src);
        if (route === null) return;
        const source = dst.isMulticast ? route.source : dst;
        const body = new Uint8Array(icmpv6Length(reply));
        emitIcmpv6(reply, source.v6, src.v6, body);
        this.out.sendIpPayload(now, { ...route, source }, src, IpProtocol.Icmpv6, body, false);
        return;
      }
      case Icmpv6Type.EchoReply:
        this.events.push({
          type: 'echo-reply',
          from: src,
          identifier: icmp.identifier,
          sequence: icmp.sequence,
          data: icmp.data.slice(),
          at: now,
        });
        return;
      case Icmpv6Type.NeighborSolicitation:
        this.neighbors.receiveSolicitation(
          now,
          iface,
          src,
          icmp.target,
          icmp.sourceLinkLayer,
          hopLimit,
        );
        return;
      case Icmpv6Type.NeighborAdvertisement:
        this.neighbors.receiveAdvertisement(
          now,
          iface,
          icmp.target,
          icmp.targetLinkLayer,
          hopLimit,
        );
        return;
      case Icmpv6Type.PacketTooBig:
        this.errorToTransport(now, iface, src, icmp.original, 'packet-too-big', icmp.mtu);
        return;
      case Icmpv6Type.DestinationUnreachable:
        this.errorToTransport(
          now,
          iface,
          src,
          icmp.original,
          icmp.code === Icmpv6UnreachableCode.PortUnreachable ? 'refused' : 'unreachable',
          0,
        );
        return;
      case Icmpv6Type.TimeExceeded:
        this.errorToTransport(now, iface, src, icmp.original, 'unreachable', 0);
        return;
      default:
        // Router solicitations/advertisements and parameter problems: we are configured statically.
        countInterfaceDrop(this.drops, iface, StackDropReason.IcmpIgnored);
    }
  }

  /**
   * Matches an ICMP error's quoted packet to a connection or socket. Anyone
   * can send ICMP, so nothing is learned from it until the quote proves it is
   * about a packet we sent (RFC 5927 §4): for TCP, a live connection whose
   * quoted sequence number is in flight (the Connection checks SND.UNA ≤ seq <
   * SND.NXT); for UDP, a socket bound to the quoted source. Only then does a
   * smaller path MTU go to the cache that later connections read (RFC 8201
   * §4, RFC 1191 §6.3), and never one below the floor.
   */
  private errorToTransport(
    now: Instant,
    iface: NetInterface,
    from: IpAddr,
    original: Uint8Array,
    kind: IcmpErrorKind,
    mtu: number,
  ): void {
    this.events.push({ type: 'icmp-error', from, kind, at: now });
    const quote = parseIpQuote(original);
    if (quote === null) {
      countInterfaceDrop(this.drops, iface, StackDropReason.IcmpBadQuote);
      return;
    }
    const floorMtu = this.routing.pathMtuFloor(quote.src.family);
    if (kind === 'packet-too-big' && mtu > 0 && mtu < floorMtu) {
      // RFC 8201 §4 discards a Packet Too Big below 1280; for IPv4, Linux's
      // min_pmtu plays the same part: a forger cannot shrink our segments.
      countInterfaceDrop(this.drops, iface, StackDropReason.IcmpMtuBelowFloor);
      return;
    }
    if (quote.protocol === IpProtocol.Udp) {
      if (this.udp.lookup(quote.src, quote.srcPort) === null) {
        countInterfaceDrop(this.drops, iface, StackDropReason.IcmpIgnored);
        return;
      }
      if (kind === 'packet-too-big' && mtu > 0) this.routing.learnPathMtu(now, quote.dst, mtu);
      return;
    }
    if (quote.protocol !== IpProtocol.Tcp) {
      countInterfaceDrop(this.drops, iface, StackDropReason.IcmpIgnored);
      return;
    }
    let mss = 0;
    if (kind === 'packet-too-big') {
      // RFC 1191 §5: a router that gives no next-hop MTU leaves us the floor.
      const pathMtu = mtu > 0 ? mtu : floorMtu;
      mss = pathMtu - (quote.src.family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH) - 20;
    }
    const taken = this.transport.tcpError(
      now,
      quote.dst,
      quote.dstPort,
      quote.src,
      quote.srcPort,
      kind,
      quote.seq,
      mss,
    );
    if (!taken) {
      countInterfaceDrop(this.drops, iface, StackDropReason.IcmpIgnored);
      return;
    }
    if (kind === 'packet-too-big' && mtu > 0) this.routing.learnPathMtu(now, quote.dst, mtu);
  }

  /** Sends an ICMP error about `packet` to `to`, rate limited (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)). */
  sendError(now: Instant, to: IpAddr, packet: Uint8Array, repr: Icmpv4Repr | Icmpv6Repr): void {
    if (now - this.icmpRefillAt >= 1_000_000) {
      this.icmpRefillAt = now;
      this.icmpTokens = this.rateLimit;
    }
    if (this.icmpTokens <= 0) return;
    // Never about an ICMP error (RFC 1122 §3.2.2), nor to unspecified or multicast sources.
    if (to.isUnspecified || to.isMulticast) return;
    this.icmpTokens--;
    const route = this.routing.route(to);
    if (route === null) return;
    if (to.family === 4) {
      const r = repr as Icmpv4Repr;
      if ('original' in r) {
        const ihl = (packet[0]! & 0x0f) * 4;
        // RFC 1812 §4.3.2.3: quote as much as fits in 576 bytes.
        r.original = packet.subarray(
          0,
          Math.min(packet.length, 576 - IPV4_HEADER_LENGTH - 8, Math.max(ihl + 8, 0) + 520),
        );
      }
      const body = new Uint8Array(icmpv4Length(r));
      emitIcmpv4(r, body);
      this.out.sendIpPayload(now, route, to, IpProtocol.Icmp, body, false);
    } else {
      const r = repr as Icmpv6Repr;
      if ('original' in r)
        r.original = packet.subarray(0, Math.min(packet.length, ICMPV6_MAX_ERROR_QUOTE));
      const body = new Uint8Array(icmpv6Length(r));
      emitIcmpv6(r, route.source.v6, to.v6, body);
      this.out.sendIpPayload(now, route, to, IpProtocol.Icmpv6, body, false);
    }
  }

  /** A packet of ours could not be delivered: connections to that host get a soft error. */
  localUnreachable(now: Instant, packet: Uint8Array): void {
    const parsed = parseIpQuote(packet);
    if (parsed === null || parsed.protocol !== IpProtocol.Tcp) return;
    this.transport.tcpError(
      now,
      parsed.dst,
      parsed.dstPort,
      parsed.src,
      parsed.srcPort,
      'unreachable',
      parsed.seq,
      0,
    );
  }
}

/** Reads the IP header and first 8 transport bytes quoted in an ICMP error. */
function parseIpQuote(original: Uint8Array): IpQuote | null {
  if (original.length < 1) return null;
  const version = original[0]! >> 4;
  let src: IpAddr;
  let dst: IpAddr;
  let protocol: number;
  let offset: number;
  if (version === 4) {
    if (original.length < IPV4_HEADER_LENGTH) return null;
    const ihl = (original[0]! & 0x0f) * 4;
    if (ihl < IPV4_HEADER_LENGTH) return null;
    protocol = original[9]!;
    src = IpAddr.fromV4(
      ((original[12]! << 24) | (original[13]! << 16) | (original[14]! << 8) | original[15]!) >>> 0,
    );
    dst = IpAddr.fromV4(
      ((original[16]! << 24) | (original[17]! << 16) | (original[18]! << 8) | original[19]!) >>> 0,
    );
    offset = ihl;
  } else if (version === 6) {
    if (original.length < IPV6_HEADER_LENGTH) return null;
    const chain: Ipv6Chain = { protocol: 0, headerLength: 0, fragment: null };
    if (
      walkIpv6Extensions(original, original[6]!, IPV6_HEADER_LENGTH, original.length, chain) !==
      null
    ) {
      return null;
    }
    protocol = chain.protocol;
    src = IpAddr.fromV6(original.subarray(8, 24));
    dst = IpAddr.fromV6(original.subarray(24, 40));
    offset = chain.headerLength;
  } else {
    return null;
  }
  if (original.length < offset + 8) return null;
  const t = original.subarray(offset);
  return {
    src,
    dst,
    protocol,
    srcPort: (t[0]! << 8) | t[1]!,
    dstPort: (t[2]! << 8) | t[3]!,
    seq: ((t[4]! << 24) | (t[5]! << 16) | (t[6]! << 8) | t[7]!) >>> 0,
  };
}
