/**
 * The public face of one host: the `Stack` class, sans-IO like the
 * connections it holds. It owns no mechanism itself; it builds the rooms that
 * do and hands each only the few others it needs:
 *
 * - routes.ts: interfaces, addresses, routes, path MTUs
 * - frames.ts: storage of outgoing frames and the transmit queue
 * - neighbor.ts: ARP and NDP (RFC 826, RFC 4861)
 * - ip-out.ts, ip-in.ts: IP output and input, fragmentation and reassembly
 * - icmp.ts: echo, errors, path MTU news; forward.ts: a router's forwarding
 * - tcp-demux.ts, udp-demux.ts: the transports' tables (over tcp/accept.ts
 *   and udp/)
 */
import { earliest, type Instant, type Rng } from '../base/index.js';
import type { TcpConfig } from '../tcp/index.js';
import { UdpBindings, type UdpHost } from '../udp/index.js';
import { IpAddr } from './address.js';
import { StackDropReason, countDrop, type DropCounts } from './drop.js';
import { EventQueue, type StackEvent } from './events.js';
import { Forwarder } from './forward.js';
import { FramePool, HEADROOM, TxQueue, type OutgoingFrame } from './frames.js';
import { Icmp } from './icmp.js';
import { IpInput } from './ip-in.js';
import { IpOutput } from './ip-out.js';
import { NeighborDiscovery } from './neighbor.js';
import { EPHEMERAL_PORT_HIGH, EPHEMERAL_PORT_LOW, checkPort } from './ports.js';
import {
  DEFAULT_MIN_PATH_MTU,
  DEFAULT_PATH_MTU_EXPIRY,
  Routing,
  type InterfaceOptions,
  type RouteResult,
} from './routes.js';
import { TcpListener, TcpSocket, type TcpSocketHost, type UdpSocket } from './sockets.js';
import { TcpDemux } from './tcp-demux.js';
import { UdpDemux } from './udp-demux.js';
import {
  InterceptedDatagrams,
  type InterceptFilter,
  type InterceptedDatagram,
  type SynRequest,
} from './transparent.js';

export type { InterfaceOptions } from './routes.js';
export type { OutgoingFrame } from './frames.js';
export type { StackEvent } from './events.js';
export type { InterceptFilter, InterceptedDatagram, SynRequest } from './transparent.js';

/** SYN cookies per round of polling (see StackOptions.synCookieBudget). */
const DEFAULT_SYN_COOKIE_BUDGET = 64;

export interface StackOptions {
  /** Randomness: ISN keys, ephemeral ports. The simulator passes a seeded one. */
  rng: Rng;
  /** TCP configuration for every connection (defaults: the Linux profile). */
  tcp?: Partial<TcpConfig>;
  /** Route packets between interfaces (a router). Default false. */
  forwarding?: boolean;
  /** TTL / hop limit of packets we originate (Linux default 64). */
  defaultTtl?: number;
  /** Accept queue length when `listen` gives none (Linux SOMAXCONN 4096). */
  defaultBacklog?: number;
  /** Most half-open connections per listener before SYNs are dropped (RFC 4987; Linux tcp_max_syn_backlog). */
  maxSynBacklog?: number;
  /**
   * SYN cookies answered per round of polling at most (default 64) while
   * established connections have segments arriving too; further SYNs in that
   * round are dropped unparsed so that a SYN flood cannot crowd out those
   * segments. Applies only once a listener's SYN queue is full.
   */
  synCookieBudget?: number;
  /** Bytes a UDP socket may hold unread before datagrams are dropped. */
  udpReceiveBuffer?: number;
  /** ICMP errors we send per second at most (Linux icmp_ratelimit spirit; RFC 4443 §2.4(f)). */
  icmpRateLimit?: number;
  /**
   * Smallest IPv4 path MTU an ICMP "fragmentation needed" may teach us
   * (Linux's min_pmtu, default 552); smaller news is ignored. IPv6 never goes
   * below 1280 (RFC 8201 §4).
   */
  minPathMtu?: number;
  /** Microseconds before a learned path MTU expires and the interface MTU applies again (default 10 minutes, RFC 8201 §4). */
  pathMtuExpiry?: number;
  /**
   * Terminate TCP and UDP for any destination, not only our addresses: a
   * user-mode NAT gateway's stack (see transparent.ts and
   * {@link Stack.listenTransparent}). Default false.
   */
  transparent?: boolean;
}

/** Statistics of a stack: drops per reason, overall and per interface. */
export interface StackStats {
  drops: DropCounts;
  interfaces: Array<{ name: string; framesIn: number; framesOut: number; drops: DropCounts }>;
  tcpConnections: number;
  tcpListeners: number;
  udpSockets: number;
  neighbors: number;
  pendingFragments: number;
  synCookiesSent: number;
  synCookiesAccepted: number;
  /** Bytes of connection buffer storage the stack keeps for reuse (0 once no connection is left). */
  pooledBufferBytes: number;
  /** Bytes of outgoing-frame storage the stack keeps (spare large frames and the current block). */
  keptFrameBytes: number;
}

/**
 * One host: interfaces, addresses, routes, the connection table and the
 * listeners. Sans-IO like the connections it holds: frames in
 * (`receiveFrame`), frames out (`pollTransmit`), one earliest deadline
 * (`pollTimeout` / `handleTimeout`), events for the application (`pollEvent`).
 */
export class Stack implements TcpSocketHost, UdpHost<IpAddr> {
  private readonly udpReceiveBuffer: number;
  private readonly drops: DropCounts = {};
  private readonly routing: Routing;
  private readonly frames = new FramePool();
  private readonly tx = new TxQueue();
  private readonly events = new EventQueue();
  private readonly neighbors: NeighborDiscovery;
  private readonly out: IpOutput;
  private readonly tcp: TcpDemux;
  private readonly icmp: Icmp;
  private readonly udpSockets = new UdpBindings<IpAddr>();
  private readonly udp: UdpDemux;
  private readonly input: IpInput;
  /**
   * The time of the latest call that brought one (a frame, a timeout, a
   * poll): the present, for the few calls that come without a time of their
   * own (pollEvent, a listener's close).
   */
  private latestInput = 0 as Instant;
  /** TcpDemux.timesEmptied when the frame storage was last trimmed. */
  private trimmedAt = 0;

  constructor(options: StackOptions) {
    const rng: Rng = options.rng;
    const forwarding = options.forwarding ?? false;
    this.udpReceiveBuffer = options.udpReceiveBuffer ?? 212_992;
    this.routing = new Routing(forwarding, {
      minPathMtu: options.minPathMtu ?? DEFAULT_MIN_PATH_MTU,
      pathMtuExpiry: options.pathMtuExpiry ?? DEFAULT_PATH_MTU_EXPIRY,
    });
    this.neighbors = new NeighborDiscovery(this.routing, this.tx, this.drops, forwarding);
    this.out = new IpOutput(
      this.routing,
      this.frames,
      this.tx,
      this.neighbors,
      this.drops,
      rng,
      options.defaultTtl ?? 64,
    );
    this.tcp = new TcpDemux(
      {
        rng,
        tcp: options.tcp ?? {},
        defaultBacklog: options.defaultBacklog ?? 4096,
        maxSynBacklog: options.maxSynBacklog ?? 1024,
        synCookieBudget: options.synCookieBudget ?? DEFAULT_SYN_COOKIE_BUDGET,
      },
      this,
      this.routing,
      this.out,
      this.events,
      this.drops,
    );
    this.icmp = new Icmp(
      this.routing,
      this.out,
      this.neighbors,
      this.events,
      this.drops,
      this.tcp,
      this.udpSockets,
      options.icmpRateLimit ?? 1000,
    );
    this.udp = new UdpDemux(
      this.udpSockets,
      this.routing,
      this.out,
      this.icmp,
      this.events,
      this.drops,
    );
    this.input = new IpInput({
      routing: this.routing,
      neighbors: this.neighbors,
      tcp: this.tcp,
      udp: this.udp,
      icmp: this.icmp,
      forwarder: forwarding ? new Forwarder(this.routing, this.out, this.icmp, this.drops) : null,
      drops: this.drops,
      transparent: options.transparent === true,
    });
  }

  // =====================================================================
  // Configuration
  // =====================================================================

  /** Adds an interface; returns its index (used by `receiveFrame` and `OutgoingFrame`). */
  addInterface(options: InterfaceOptions): number {
    return this.routing.addInterface(options);
  }

  /** Adds an address ("10.0.0.2/24") to an interface, with its connected route. */
  addAddress(ifIndex: number, cidrText: string): void {
    this.routing.addAddress(ifIndex, cidrText);
  }

  /** Adds a route: `addRoute('0.0.0.0/0', { via: '10.0.0.1' })`, or to an interface directly. */
  addRoute(cidrText: string, target: { via?: string; ifIndex?: number }): void {
    this.routing.addRoute(cidrText, target);
  }

  /** Interface facts for drivers: kind, MTU, MAC text. */
  interfaceInfo(ifIndex: number): {
    name: string;
    kind: 'ethernet' | 'ip';
    mtu: number;
    mac: string;
    addresses: string[];
  } {
    return this.routing.interfaceInfo(ifIndex);
  }

  /** Changes an interface's MTU (e.g. to test path MTU discovery). */
  setMtu(ifIndex: number, mtu: number): void {
    this.routing.setMtu(ifIndex, mtu);
  }

  /** Longest-prefix match; the source address is the interface's address of that family. */
  route(dst: IpAddr): RouteResult | null {
    return this.routing.route(dst);
  }

  // =====================================================================
  // TCP API
  // =====================================================================

  /**
   * Listens on a port. `host` limits it to one local address (default: all of
   * both families). Throws an error with code EADDRINUSE if the port is taken.
   */
  listen(options: { port: number; host?: string; backlog?: number; family?: 4 | 6 }): TcpListener {
    return this.tcp.listen(options);
  }

  /**
   * Opens a connection (active open). The SYN leaves on the next
   * `pollTransmit`. Throws a clear error if no route leads to `host`.
   */
  connect(
    now: Instant,
    options: {
      host: string;
      port: number;
      localAddress?: string;
      localPort?: number;
      tcp?: Partial<TcpConfig>;
    },
  ): TcpSocket {
    const socket = this.tcp.connect(now, options);
    this.latestInput = now;
    return socket;
  }

  /** Every live connection (for diagnostics and tests). */
  tcpSockets(): TcpSocket[] {
    return this.tcp.sockets();
  }

  /**
   * The catch-all listener of a transparent stack (StackOptions.transparent):
   * a SYN to any address and port nobody listens on is held and reported as a
   * 'syn' event; {@link answerSyn} accepts it (the connection then arrives on
   * this listener, its local end the address the guest asked for) or refuses
   * it. At most `maxHeldSyns` wait for an answer; more are dropped (the
   * guest retries).
   */
  listenTransparent(options: { backlog?: number; maxHeldSyns?: number } = {}): TcpListener {
    return this.tcp.listenTransparent({
      backlog: options.backlog ?? 4096,
      maxHeldSyns: options.maxHeldSyns ?? 1024,
    });
  }

  /**
   * Answers a SYN held by the transparent listener: 'accept' sends the
   * SYN-ACK, 'refuse' a RST, 'forget' nothing (the guest's SYN retries run
   * out). False if it was answered already.
   */
  answerSyn(now: Instant, request: SynRequest, answer: 'accept' | 'refuse' | 'forget'): boolean {
    this.latestInput = now;
    return this.tcp.answerSyn(now, request, answer);
  }

  // =====================================================================
  // UDP API
  // =====================================================================

  /** Binds a UDP socket; port 0 picks an ephemeral one. Throws EADDRINUSE on a collision. */
  bindUdp(options: { port?: number; host?: string }): UdpSocket {
    const address =
      options.host !== undefined ? IpAddr.parseOrThrow(options.host, 'bind host') : null;
    const port = options.port ?? 0;
    checkPort(port, true);
    return this.udpSockets.bind(
      this,
      address,
      port,
      { low: EPHEMERAL_PORT_LOW, high: EPHEMERAL_PORT_HIGH },
      this.udpReceiveBuffer,
    );
  }

  /**
   * On a transparent stack, takes datagrams to any address and port no
   * socket is bound to when `filter` says so (others get ICMP port
   * unreachable); they wait, at most `maxQueuedBytes`, for
   * {@link receiveIntercepted}, announced by 'udp-intercepted' events.
   */
  interceptUdp(filter: InterceptFilter, maxQueuedBytes = 4 << 20): void {
    if (this.udp.intercepted !== null)
      throw new Error('UDP is intercepted already: interceptUdp may be called once per stack');
    this.udp.intercepted = new InterceptedDatagrams(filter, maxQueuedBytes);
  }

  /** The next intercepted datagram, or null. */
  receiveIntercepted(): InterceptedDatagram | null {
    return this.udp.intercepted?.next() ?? null;
  }

  /** Sends a datagram from any address and port (a gateway's answer on a destination's behalf). */
  sendUdpFrom(
    now: Instant,
    from: { address: IpAddr; port: number },
    to: { address: IpAddr; port: number },
    data: Uint8Array,
  ): boolean {
    this.latestInput = now;
    checkPort(to.port, false);
    return this.udp.sendFrom(now, from.address, from.port, to.address, to.port, data);
  }

  // =====================================================================
  // ICMP echo (ping)
  // =====================================================================

  /** Sends an ICMP or ICMPv6 echo request; the answer arrives as an `echo-reply` event. */
  ping(
    now: Instant,
    host: string,
    options: { identifier?: number; sequence?: number; data?: Uint8Array } = {},
  ): boolean {
    return this.icmp.ping(now, IpAddr.parseOrThrow(host, 'ping host'), options);
  }

  // =====================================================================
  // The sans-IO surface
  // =====================================================================

  /**
   * One frame arrived on interface `ifIndex` at `now`. Never throws on bad
   * input. The stack keeps no reference to `frame` once this returns (what
   * it keeps, it copies), so the caller may then give its storage away
   * (`LinkEndpoint.release`).
   */
  receiveFrame(now: Instant, ifIndex: number, frame: Uint8Array): void {
    const iface = this.routing.interfaces[ifIndex];
    if (iface === undefined)
      throw new RangeError(`no interface ${ifIndex}; add it with addInterface first`);
    this.latestInput = now;
    iface.framesIn++;
    this.input.receiveFrame(now, iface, frame);
  }

  /**
   * The next frame to transmit, or null. Call until null after any input,
   * command or timeout. The frame is the caller's: the stack never writes its
   * bytes again and no other frame shares them (each is built in storage of
   * its own, see FramePool), so a driver may hand it to the link without a
   * copy (`LinkEndpoint.send(now, frame, true)`).
   */
  pollTransmit(now: Instant): OutgoingFrame | null {
    this.latestInput = now;
    let frame = this.tx.next();
    if (frame === null) {
      this.tcp.flush(now);
      frame = this.tx.next();
      if (frame === null) {
        // The last connection has gone since the last look: the frame storage
        // of the burst goes too.
        if (this.tcp.timesEmptied !== this.trimmedAt) {
          this.trimmedAt = this.tcp.timesEmptied;
          if (this.tcp.connectionCount === 0) this.frames.trim();
        }
        return null;
      }
    }
    this.routing.interfaces[frame.ifIndex]!.framesOut++;
    return frame;
  }

  /**
   * Gives back a frame this stack emitted (pollTransmit) that nobody will
   * read or write again: one it handed over whose receiver has finished with
   * it (`LinkEndpoint.reclaim`). The stack builds large frames in such
   * storage again, so a bulk sender reuses a few buffers instead of
   * allocating (and the garbage collector freeing) one per 64 KB frame.
   * Small frames (carved from shared blocks), anything that is not a whole
   * large frame's buffer, and more than a few spares are left to the
   * collector.
   */
  recycleFrame(frame: Uint8Array): void {
    this.frames.recycle(frame);
  }

  /** The next event for the application, or null. */
  pollEvent(): StackEvent | null {
    let event = this.events.next();
    if (event === null && this.tcp.hasWork) {
      this.tcp.collectEvents(this.latestInput);
      event = this.events.next();
    }
    return event;
  }

  /** The earliest deadline of any connection, neighbour or fragment timer; NEVER if none. */
  pollTimeout(): Instant {
    let t = this.tcp.pollTimeout();
    t = earliest(t, this.neighbors.pollTimeout());
    t = earliest(t, this.input.fragments.pollTimeout());
    if (this.tcp.hasWork || this.tx.pending) return 0 as Instant;
    return t;
  }

  /** Runs every timer due at `now`. */
  handleTimeout(now: Instant): void {
    this.latestInput = now;
    this.tcp.handleTimeout(now);
    if (this.neighbors.pollTimeout() <= now) {
      for (const f of this.neighbors.handleTimeout(now)) {
        for (let i = 0; i < f.packets.length; i++)
          countDrop(this.drops, StackDropReason.NeighborUnresolved);
        // Resolution failed: tell the sources, as a router or host would (ICMP host unreachable, RFC 1812/4443).
        for (const p of f.packets) this.icmp.localUnreachable(now, p.packet.subarray(HEADROOM));
      }
    }
    const fragments = this.input.fragments;
    if (fragments.pollTimeout() <= now) {
      const n = fragments.handleTimeout(now);
      for (let i = 0; i < n; i++) countDrop(this.drops, StackDropReason.FragmentTimeout);
    }
  }

  /** Drop counters and table sizes. */
  stats(): StackStats {
    return {
      drops: { ...this.drops },
      interfaces: this.routing.interfaces.map((i) => ({
        name: i.name,
        framesIn: i.framesIn,
        framesOut: i.framesOut,
        drops: { ...i.drops },
      })),
      tcpConnections: this.tcp.connectionCount,
      tcpListeners: this.tcp.listenerCount,
      udpSockets: this.udpSockets.size,
      neighbors: this.neighbors.size,
      pendingFragments: this.input.fragments.pendingDatagrams,
      synCookiesSent: this.tcp.synCookiesSent,
      synCookiesAccepted: this.tcp.synCookiesAccepted,
      pooledBufferBytes: this.tcp.pooledBufferBytes,
      keptFrameBytes: this.frames.keptBytes,
    };
  }

  // =====================================================================
  // TcpSocketHost and UdpHost: what socket handles call back
  // =====================================================================

  touch(socket: TcpSocket): void {
    this.tcp.touch(socket);
  }

  closeListener(listener: TcpListener): void {
    this.tcp.closeListener(this.latestInput, listener);
  }

  closeUdp(socket: UdpSocket): void {
    this.udpSockets.remove(socket);
  }

  sendUdp(
    now: Instant,
    socket: UdpSocket,
    data: Uint8Array,
    address: IpAddr,
    port: number,
  ): boolean {
    checkPort(port, false);
    return this.udp.send(now, socket, data, address, port);
  }
}
