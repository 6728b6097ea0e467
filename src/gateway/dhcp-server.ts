/**
 * The gateway's DHCP server (RFC 2131): one guest, one address. DISCOVER
 * gets an OFFER of the guest address, REQUEST for it an ACK (a NAK for any
 * other address asked of this server), INFORM an ACK without a lease; with
 * the subnet mask, router, DNS server, lease time and server identifier
 * (RFC 2132). Enough for busybox udhcpc, dhclient and systemd-networkd.
 * Malformed messages are dropped and counted by reason.
 */
import type { Driver } from '../runtime/index.js';
import { IpAddr, type UdpSocket } from '../stack/index.js';
import type { Counters } from './counters.js';
import {
  DhcpMessageType,
  emitDhcpReply,
  parseDhcpRequest,
  type DhcpReply,
  type DhcpRequest,
} from './dhcp-wire.js';

const SERVER_PORT = 67;
const CLIENT_PORT = 68;
/** RFC 2131 §4.1: the broadcast bit of `flags`. */
const BROADCAST_FLAG = 0x8000;

/** What the server hands out. */
export interface DhcpServerOptions {
  server: IpAddr;
  guest: IpAddr;
  prefixLength: number;
  router: IpAddr;
  dns: IpAddr[];
  /** Seconds. */
  leaseTime: number;
}

/** A DHCP server on a gateway's stack. */
export class DhcpServer {
  private readonly driver: Driver;
  private readonly options: DhcpServerOptions;
  private readonly counters: Counters;
  private socket: UdpSocket | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(driver: Driver, options: DhcpServerOptions, counters: Counters) {
    this.driver = driver;
    this.options = options;
    this.counters = counters;
  }

  start(): void {
    const socket = this.driver.stack.bindUdp({ port: SERVER_PORT });
    this.socket = socket;
    this.unsubscribe = this.driver.onEvent((event) => {
      if (event.type === 'udp' && event.socket === socket) this.drain(socket);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.socket?.close();
    this.socket = null;
  }

  private drain(socket: UdpSocket): void {
    for (let d = socket.receive(); d !== null; d = socket.receive()) {
      const request = parseDhcpRequest(d.data);
      if (typeof request === 'string') {
        this.counters.add(request);
        continue;
      }
      this.counters.add(`dhcp-${messageName(request.messageType)}`);
      const reply = this.answer(request);
      if (reply === null) continue;
      this.send(request, reply);
    }
  }

  /** The reply to a request, or null for none (RFC 2131 §4.3). */
  private answer(request: DhcpRequest): DhcpReply | null {
    const o = this.options;
    const server = o.server.v4;
    const guest = o.guest.v4;
    const reply = (messageType: number, yiaddr: number, lease: boolean): DhcpReply => ({
      messageType,
      xid: request.xid,
      flags: request.flags,
      ciaddr: request.ciaddr,
      yiaddr,
      giaddr: request.giaddr,
      chaddr: request.chaddr,
      serverId: server,
      leaseTime: lease ? o.leaseTime : null,
      subnetMask: messageType === DhcpMessageType.Nak ? null : prefixMask(o.prefixLength),
      router: messageType === DhcpMessageType.Nak ? null : o.router.v4,
      dnsServers: messageType === DhcpMessageType.Nak ? [] : o.dns.map((a) => a.v4),
    });
    switch (request.messageType) {
      case DhcpMessageType.Discover:
        return reply(DhcpMessageType.Offer, guest, true);
      case DhcpMessageType.Request: {
        // §4.3.2: SELECTING names a server (ours or another's); INIT-REBOOT,
        // RENEWING and REBINDING name none and ask for ciaddr or option 50.
        if (request.serverId !== null && request.serverId !== server) return null;
        const asked = request.requestedAddress ?? request.ciaddr;
        if (asked !== guest) return reply(DhcpMessageType.Nak, 0, false);
        return reply(DhcpMessageType.Ack, guest, true);
      }
      case DhcpMessageType.Inform:
        // §3.4: configuration only, no lease and no yiaddr.
        return reply(DhcpMessageType.Ack, 0, false);
      default:
        // DECLINE and RELEASE: one guest, one address; nothing to take back.
        return null;
    }
  }

  private send(request: DhcpRequest, reply: DhcpReply): void {
    // §4.1: to ciaddr when the client has one (renewing), else broadcast (we
    // cannot unicast to a client that has no address yet without its ARP).
    const unicast =
      request.ciaddr !== 0 &&
      reply.messageType !== DhcpMessageType.Nak &&
      (request.flags & BROADCAST_FLAG) === 0;
    const to = unicast ? IpAddr.fromV4(request.ciaddr) : IpAddr.fromV4(0xffffffff);
    this.driver.stack.sendUdpFrom(
      this.driver.now(),
      { address: this.options.server, port: SERVER_PORT },
      { address: to, port: CLIENT_PORT },
      emitDhcpReply(reply),
    );
    this.driver.kick();
  }
}

function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (~0 << (32 - prefixLength)) >>> 0;
}

function messageName(type: number): string {
  for (const [name, value] of Object.entries(DhcpMessageType))
    if (value === type) return name.toLowerCase();
  return `type-${type}`;
}
