/**
 * Forwarding, for a stack that is a router (RFC 1812 §5.2; RFC 8200 for
 * IPv6): a packet for someone else goes on with its TTL or hop limit one
 * lower, is fragmented when IPv4 allows it and it does not fit (RFC 1812
 * §5.2.6), and otherwise earns its sender an ICMP error (time exceeded, no
 * route, fragmentation needed or packet too big).
 */
import type { Instant } from '../base/index.js';
import {
  IPV4_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  emitIpv4,
  isDropReason,
  parseIpv4,
} from '../wire/index.js';
import type { IpAddr } from './address.js';
import { StackDropReason, countInterfaceDrop, type DropCounts } from './drop.js';
import { HEADROOM } from './frames.js';
import type { Icmp } from './icmp.js';
import type { IpOutput } from './ip-out.js';
import type { NetInterface, RouteResult, Routing } from './routes.js';

/** The forwarding plane of a router stack. */
export class Forwarder {
  private readonly routing: Routing;
  private readonly out: IpOutput;
  private readonly icmp: Icmp;
  private readonly drops: DropCounts;

  constructor(routing: Routing, out: IpOutput, icmp: Icmp, drops: DropCounts) {
    this.routing = routing;
    this.out = out;
    this.icmp = icmp;
    this.drops = drops;
  }

  forward(
    now: Instant,
    iface: NetInterface,
    packet: Uint8Array,
    dst: IpAddr,
    src: IpAddr,
    ttl: number,
    family: 4 | 6,
    dontFragment: boolean,
  ): void {
    // RFC 1812 §4.2.2.9 / RFC 8200: a packet whose TTL would reach zero is dropped with time exceeded.
    if (ttl <= 1) {
      countInterfaceDrop(this.drops, iface, StackDropReason.TtlExpired);
      if (family === 4)
        this.icmp.sendError(now, src, packet, {
          type: Icmpv4Type.TimeExceeded,
          code: 0,
          original: packet,
        });
      else
        this.icmp.sendError(now, src, packet, {
          type: Icmpv6Type.TimeExceeded,
          code: 0,
          original: packet,
        });
      return;
    }
    const route = this.routing.route(dst);
    if (route === null) {
      countInterfaceDrop(this.drops, iface, StackDropReason.NoRoute);
      if (family === 4)
        this.icmp.sendError(now, src, packet, {
          type: Icmpv4Type.DestinationUnreachable,
          code: Icmpv4UnreachableCode.NetUnreachable,
          nextHopMtu: 0,
          original: packet,
        });
      else
        this.icmp.sendError(now, src, packet, {
          type: Icmpv6Type.DestinationUnreachable,
          code: Icmpv6UnreachableCode.NoRoute,
          original: packet,
        });
      return;
    }
    const length =
      family === 4
        ? (packet[2]! << 8) | packet[3]!
        : IPV6_HEADER_LENGTH + ((packet[4]! << 8) | packet[5]!);
    if (length > route.iface.mtu && family === 4 && !dontFragment) {
      // RFC 1812 §5.2.6: a router fragments an IPv4 datagram that may be fragmented.
      this.fragments(now, route, dst, packet, ttl - 1);
      return;
    }
    if (length > route.iface.mtu) {
      countInterfaceDrop(this.drops, iface, StackDropReason.MtuExceeded);
      // RFC 1191 §4: fragmentation needed with the next-hop MTU; RFC 4443 §3.2 packet too big.
      if (family === 4 && dontFragment) {
        this.icmp.sendError(now, src, packet, {
          type: Icmpv4Type.DestinationUnreachable,
          code: Icmpv4UnreachableCode.FragmentationNeeded,
          nextHopMtu: route.iface.mtu,
          original: packet,
        });
      } else if (family === 6) {
        this.icmp.sendError(now, src, packet, {
          type: Icmpv6Type.PacketTooBig,
          mtu: route.iface.mtu,
          original: packet,
        });
      }
      return;
    }
    const buffer = new Uint8Array(HEADROOM + length);
    const out = buffer.subarray(HEADROOM);
    out.set(packet.subarray(0, length));
    if (family === 4) {
      out[8] = ttl - 1;
      // Recompute the header checksum (RFC 1624 incremental update would do too).
      out[10] = 0;
      out[11] = 0;
      const ihl = (out[0]! & 0x0f) * 4;
      let sum = 0;
      for (let i = 0; i < ihl; i += 2) sum += (out[i]! << 8) | out[i + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      const c = ~sum & 0xffff;
      out[10] = c >>> 8;
      out[11] = c & 0xff;
    } else {
      out[7] = ttl - 1;
    }
    this.out.transmitIp(now, route, dst, buffer);
  }

  /** Splits a forwarded IPv4 datagram (itself perhaps a fragment) to fit the next hop (RFC 791 §3.2). */
  private fragments(
    now: Instant,
    route: RouteResult,
    dst: IpAddr,
    packet: Uint8Array,
    ttl: number,
  ): void {
    const ip = parseIpv4(packet);
    if (isDropReason(ip)) return;
    const chunk = Math.floor((route.iface.mtu - IPV4_HEADER_LENGTH) / 8) * 8;
    const body = ip.payload;
    for (let offset = 0; offset < body.length; offset += chunk) {
      const part = body.subarray(offset, Math.min(offset + chunk, body.length));
      const last = offset + chunk >= body.length;
      const buffer = new Uint8Array(HEADROOM + IPV4_HEADER_LENGTH + part.length);
      const out = buffer.subarray(HEADROOM);
      out.set(part, IPV4_HEADER_LENGTH);
      emitIpv4(
        {
          ...ip,
          ttl,
          moreFragments: ip.moreFragments || !last,
          fragmentOffset: ip.fragmentOffset + offset,
          payload: out.subarray(IPV4_HEADER_LENGTH),
        },
        out,
      );
      this.out.transmitIp(now, route, dst, buffer);
    }
  }
}
