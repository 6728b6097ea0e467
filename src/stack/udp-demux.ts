/**
 * UDP in the stack (RFC 768): datagrams in, matched to udp/'s bound sockets,
 * with ICMP port unreachable where nobody listens (RFC 1122 §4.1.3.1, never
 * for broadcast or multicast); datagrams out, with their checksum over the
 * pseudo-header (RFC 768, RFC 8200 §8.1) and fragmented as IP must.
 */
import type { Instant } from '../base/index.js';
import {
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  IpProtocol,
  UDP_HEADER_LENGTH,
  emitUdp,
  isDropReason,
  parseUdp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
} from '../wire/index.js';
import type { UdpBindings } from '../udp/index.js';
import type { IpAddr } from './address.js';
import { StackDropReason, countDrop, countInterfaceDrop, type DropCounts } from './drop.js';
import type { EventQueue } from './events.js';
import type { Icmp } from './icmp.js';
import type { IpOutput } from './ip-out.js';
import type { NetInterface, Routing } from './routes.js';
import type { UdpSocket } from './sockets.js';
import type { InterceptedDatagrams } from './transparent.js';

/** The UDP demultiplexer of one stack. */
export class UdpDemux {
  private readonly bindings: UdpBindings<IpAddr>;
  private readonly routing: Routing;
  private readonly out: IpOutput;
  private readonly icmp: Icmp;
  private readonly events: EventQueue;
  private readonly drops: DropCounts;
  /** A gateway's catch-all for datagrams to any address (transparent.ts), or null. */
  intercepted: InterceptedDatagrams | null = null;

  constructor(
    bindings: UdpBindings<IpAddr>,
    routing: Routing,
    out: IpOutput,
    icmp: Icmp,
    events: EventQueue,
    drops: DropCounts,
  ) {
    this.bindings = bindings;
    this.routing = routing;
    this.out = out;
    this.icmp = icmp;
    this.events = events;
    this.drops = drops;
  }

  receive(
    now: Instant,
    iface: NetInterface,
    src: IpAddr,
    dst: IpAddr,
    bytes: Uint8Array,
    packet: Uint8Array,
  ): void {
    const pseudo =
      src.family === 4
        ? pseudoHeaderSumV4(src.v4, dst.v4, IpProtocol.Udp, 0)
        : pseudoHeaderSumV6(src.v6, dst.v6, IpProtocol.Udp, 0);
    const udp = parseUdp(bytes, pseudo, src.family === 4);
    if (isDropReason(udp)) {
      countInterfaceDrop(this.drops, iface, udp);
      return;
    }
    const socket = this.bindings.lookup(dst, udp.dstPort);
    if (socket === null && this.intercepted !== null && !this.isBroadcast(src, dst)) {
      const offer = this.intercepted.offer(src, udp.srcPort, dst, udp.dstPort, udp.payload);
      if (offer === 'queued') {
        this.events.push({ type: 'udp-intercepted' });
        return;
      }
      if (offer === 'full') {
        countInterfaceDrop(this.drops, iface, StackDropReason.UdpQueueFull);
        return;
      }
    }
    if (socket === null) {
      countInterfaceDrop(this.drops, iface, StackDropReason.NoSocket);
      // RFC 1122 §4.1.3.1: port unreachable, never for broadcast or multicast.
      if (!dst.isMulticast && !(src.family === 4 && this.routing.isBroadcastV4(dst.v4))) {
        if (src.family === 4) {
          this.icmp.sendError(now, src, packet, {
            type: Icmpv4Type.DestinationUnreachable,
            code: Icmpv4UnreachableCode.PortUnreachable,
            nextHopMtu: 0,
            original: packet,
          });
        } else {
          this.icmp.sendError(now, src, packet, {
            type: Icmpv6Type.DestinationUnreachable,
            code: Icmpv6UnreachableCode.PortUnreachable,
            original: packet,
          });
        }
      }
      return;
    }
    if (!socket.deliver(udp.payload, src, udp.srcPort)) {
      countInterfaceDrop(this.drops, iface, StackDropReason.UdpQueueFull);
      return;
    }
    this.events.push({ type: 'udp', socket });
  }

  send(now: Instant, socket: UdpSocket, data: Uint8Array, address: IpAddr, port: number): boolean {
    const route = this.routing.route(address);
    if (route === null) {
      countDrop(this.drops, StackDropReason.NoRoute);
      return false;
    }
    const source =
      socket.address !== null && !socket.address.isUnspecified ? socket.address : route.source;
    const body = new Uint8Array(UDP_HEADER_LENGTH + data.length);
    const pseudo =
      address.family === 4
        ? pseudoHeaderSumV4(source.v4, address.v4, IpProtocol.Udp, 0)
        : pseudoHeaderSumV6(source.v6, address.v6, IpProtocol.Udp, 0);
    emitUdp({ srcPort: socket.port, dstPort: port, payload: data }, body, pseudo);
    this.out.sendIpPayload(now, { ...route, source }, address, IpProtocol.Udp, body, false);
    return true;
  }

  /**
   * Sends a datagram from any address and port: a gateway's answer on behalf
   * of the destination its guest wrote to. False when it cannot be routed.
   */
  sendFrom(
    now: Instant,
    source: IpAddr,
    sourcePort: number,
    address: IpAddr,
    port: number,
    data: Uint8Array,
  ): boolean {
    const route = this.routing.route(address);
    if (route === null) {
      countDrop(this.drops, StackDropReason.NoRoute);
      return false;
    }
    const body = new Uint8Array(UDP_HEADER_LENGTH + data.length);
    const pseudo =
      address.family === 4
        ? pseudoHeaderSumV4(source.v4, address.v4, IpProtocol.Udp, 0)
        : pseudoHeaderSumV6(source.v6, address.v6, IpProtocol.Udp, 0);
    emitUdp({ srcPort: sourcePort, dstPort: port, payload: data }, body, pseudo);
    this.out.sendIpPayload(now, { ...route, source }, address, IpProtocol.Udp, body, false);
    return true;
  }

  private isBroadcast(src: IpAddr, dst: IpAddr): boolean {
    return dst.isMulticast || (src.family === 4 && this.routing.isBroadcastV4(dst.v4));
  }
}
