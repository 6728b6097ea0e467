import {
  BufferPool,
  DeadlineHeap,
  NEVER,
  earliest,
  seconds,
  seq,
  type Instant,
  type Rng,
} from '../base/index.js';
import {
  ArpOperation,
  ETHERNET_HEADER_LENGTH,
  EtherType,
  ICMPV6_MAX_ERROR_QUOTE,
  IPV4_HEADER_LENGTH,
  IPV6_FRAGMENT_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  IPV6_MIN_MTU,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  IpProtocol,
  MAC_BROADCAST,
  NDP_HOP_LIMIT,
  NeighborAdvertFlags,
  TcpFlags,
  UDP_HEADER_LENGTH,
  emitArp,
  emitEthernet,
  emitIcmpv4,
  emitIcmpv6,
  emitIpv4,
  emitIpv6,
  emitTcp,
  emitUdp,
  formatMacAddress,
  icmpv4Length,
  icmpv6Length,
  ipVersion,
  ipv6MulticastMac,
  ipv6SolicitedNode,
  isDropReason,
  macEqual,
  macIsBroadcast,
  parseArp,
  parseEthernet,
  parseIcmpv4,
  parseIcmpv6,
  parseIpv4,
  parseIpv6,
  parseMacAddress,
  parseTcp,
  parseUdp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  tcpHeaderLength,
  walkIpv6Extensions,
  type Icmpv4Repr,
  type Ipv6Chain,
  type Icmpv6Repr,
  type Ipv4Repr,
  type Ipv6Repr,
  type MacAddress,
  type TcpRepr,
} from '../wire/index.js';
import {
  Connection,
  IsnGenerator,
  SynCookies,
  TcpState,
  resetFor,
  tcpConfig,
  type TcpConfig,
  type TcpEvent,
} from '../tcp/index.js';
import {
  IpAddr,
  inPrefix,
  ipv4Broadcast,
  linkLocalFromMac,
  parseCidr,
  type Cidr,
} from './address.js';
import { StackDropReason, countDrop, type DropCounts } from './drop.js';
import { NeighborCache, type QueuedPacket } from './neighbor.js';
import { PortAllocator } from './ports.js';
import { Reassembler } from './reassembly.js';
import { UdpBindings, type UdpHost } from '../udp/index.js';
import { TcpListener, TcpSocket, type TcpSocketHost, type UdpSocket } from './sockets.js';

/** One network interface of a stack. */
export interface InterfaceOptions {
  /** A name for diagnostics ("eth0", "tun0"). */
  name?: string;
  /** `ethernet` frames (ARP/NDP resolve neighbours) or bare `ip` packets (as on a TUN device). */
  kind: 'ethernet' | 'ip';
  /** Largest IP packet the link carries (default 1500). */
  mtu?: number;
  /** The interface's MAC ("02:00:00:00:00:01"), ethernet only; default derived from the interface index. */
  mac?: string;
  /** Addresses with prefix ("10.0.0.2/24", "fd00::2/64"); each adds a connected route. */
  addresses?: string[];
  /**
   * The link needs no TCP checksums (a link endpoint's `checksumOffload`):
   * segments leave with 0 in the checksum field and arriving ones are not
   * verified, as on Linux's loopback. Default false. Ignored on a forwarding
   * stack: a router passes segments on to links that need the checksum.
   */
  checksumOffload?: boolean;
}

/** Options of a stack (one host). */
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
  /** Bytes a UDP socket may hold unread before datagrams are dropped. */
  udpReceiveBuffer?: number;
  /** ICMP errors we send per second at most (Linux icmp_ratelimit spirit; RFC 4443 §2.4(f)). */
  icmpRateLimit?: number;
}

/** What happened on a stack, for the layer that drives it. */
export type StackEvent =
  | { type: 'tcp'; socket: TcpSocket; event: TcpEvent }
  | { type: 'accept'; listener: TcpListener }
  | { type: 'udp'; socket: UdpSocket }
  | {
      type: 'echo-reply';
      from: IpAddr;
      identifier: number;
      sequence: number;
      data: Uint8Array;
      at: Instant;
    }
  | { type: 'icmp-error'; from: IpAddr; kind: string; at: Instant };

/**
 * A frame ready to leave through an interface. The frame's bytes are the
 * caller's: the stack never writes them again. They are a view into a block
 * of memory the stack shares between frames, so `frame.buffer` is more than
 * the frame: copy (`slice`) rather than transfer it.
 */
export interface OutgoingFrame {
  ifIndex: number;
  frame: Uint8Array;
}

interface Interface {
  index: number;
  name: string;
  kind: 'ethernet' | 'ip';
  mtu: number;
  mac: MacAddress;
  addresses: Cidr[];
  drops: DropCounts;
  framesIn: number;
  framesOut: number;
  /** See InterfaceOptions.checksumOffload. */
  checksumOffload: boolean;
}

interface Route {
  network: IpAddr;
  prefixLength: number;
  ifIndex: number;
  gateway: IpAddr | null;
}

interface RouteResult {
  iface: Interface;
  nextHop: IpAddr;
  source: IpAddr;
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
}

/** Headroom reserved in front of every packet we build, for an Ethernet header. */
const HEADROOM = ETHERNET_HEADER_LENGTH;
/**
 * Frames are carved from shared blocks instead of each getting an
 * ArrayBuffer of its own: an ArrayBuffer costs far more to make (and to
 * collect) than the bytes in it. A stack that sends little keeps small
 * blocks; one that sends a lot doubles them up to the largest.
 */
/**
 * Storage of connections' send and receive buffers that the stack keeps for
 * reuse: a ring that empties gives its storage back and takes it again when
 * data comes (see BufferPool). A few default-sized (1 MB) buffers, shared by
 * all connections; idle connections hold none.
 */
const BUFFER_POOL_BYTES = 4 * 1024 * 1024;
const FRAME_BLOCK_MIN = 16 * 1024;
const FRAME_BLOCK_MAX = 512 * 1024;
/**
 * Frames at least this long are built in recycled storage when there is some
 * (Stack.recycleFrame): below it, carving from a block costs less than
 * keeping spares.
 */
const RECYCLE_MIN_FRAME = 16 * 1024;
/** Spare frame buffers kept at most: enough for a window of 64 KB frames in flight in memory. */
const MAX_SPARE_FRAMES = 64;
/** Frames are 8-byte aligned in a block, so their IP and TCP headers stay 4-byte aligned for the checksum's word loop. */
const FRAME_ALIGN = 8;
/** Entries of the route cache before it starts afresh. */
const ROUTE_CACHE_MAX = 1024;
/** Interned IPv4 addresses of received packets before the table starts afresh. */
const ADDRESS_CACHE_MAX = 4096;
const LINUX_EPHEMERAL_LOW = 32768;
const LINUX_EPHEMERAL_HIGH = 60999;
const IPV6_ALL_NODES = IpAddr.parse('ff02::1')!;
const EMPTY = new Uint8Array(0);
const MAX_PATH_MTU_ENTRIES = 4096;
/** The largest MSS: a 65535-byte IPv4 packet less 40 bytes of headers (TcpConfig.mss's bound too). */
const MAX_MSS = 65495;

/**
 * One host: interfaces, addresses, routes, the connection table and the
 * listeners. Sans-IO like the connections it holds: frames in
 * (`receiveFrame`), frames out (`pollTransmit`), one earliest deadline
 * (`pollTimeout` / `handleTimeout`), events for the application (`pollEvent`).
 */
export class Stack implements TcpSocketHost, UdpHost<IpAddr> {
  private readonly rng: Rng;
  private readonly tcpDefaults: TcpConfig;
  /**
   * The MSS cap the stack's options asked for (as TCP_MAXSEG would), or the
   * largest there is: a connection's MSS otherwise follows the interface MTU.
   */
  private readonly mssLimit: number;
  private readonly forwarding: boolean;
  private readonly defaultTtl: number;
  private readonly defaultBacklog: number;
  private readonly maxSynBacklog: number;
  private readonly udpReceiveBuffer: number;
  private readonly icmpRateLimit: number;
  private readonly interfaces: Interface[] = [];
  private readonly routes: Route[] = [];
  private readonly isn: IsnGenerator;
  private readonly synCookies: SynCookies;
  private readonly ports: PortAllocator;
  private readonly neighbors: NeighborCache;
  private readonly fragments: Reassembler;
  /** Connections by 4-tuple key (remote first, so lookups build one string). */
  private readonly connections = new Map<string, TcpSocket>();
  private readonly listeners = new Map<number, TcpListener[]>();
  private readonly udpSockets = new UdpBindings<IpAddr>();
  private readonly txQueue: OutgoingFrame[] = [];
  private txHead = 0;
  private readonly events: StackEvent[] = [];
  private eventHead = 0;
  /** Connections with possible output or timer changes since the last poll. */
  private readonly dirty = new Set<TcpSocket>();
  private readonly deadlines = new DeadlineHeap<TcpSocket>();
  /** Connection buffer storage for reuse (see BUFFER_POOL_BYTES). */
  private readonly buffers = new BufferPool(BUFFER_POOL_BYTES);
  private readonly drops: DropCounts = {};
  private nextSocketId = 1;
  /** Path MTUs learned from ICMP, by destination (RFC 1191, RFC 8201). */
  private readonly pathMtus = new Map<string, number>();
  /** Routes by destination text, valid while {@link Stack.routeEpoch} stands; for sendSegment. */
  private readonly routeCache = new Map<string, RouteResult | null>();
  /** Bumped whenever interfaces, addresses or routes change: the route cache is then stale. */
  private routeEpoch = 0;
  private routeCacheEpoch = 0;
  /**
   * The connection the last segment went to: the next one is very likely for
   * it too (a bulk transfer, a request/response exchange), and matching it
   * costs a few comparisons where the table needs a key string built and
   * hashed (Linux's early demux keeps the same kind of hint). Cleared when
   * that connection leaves the table.
   */
  private lastDemux: TcpSocket | null = null;
  /** The same IpAddr for the same IPv4 address of received packets (no text formatting per packet). */
  private readonly v4Addresses = new Map<number, IpAddr>();
  private frameBlock = new Uint8Array(0);
  private frameUsed = 0;
  /** Storage for large frames given back by {@link Stack.recycleFrame}, newest last. */
  private readonly spareFrames: Uint8Array[] = [];
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
  private icmpTokens: number;
  private icmpRefillAt = 0 as Instant;
  /**
   * The time of the latest call that brought one (a frame, a timeout, a
   * poll): the present, for the few calls that come without a time of their
   * own (pollEvent, a listener's close).
   */
  private latestInput = 0 as Instant;

  constructor(options: StackOptions) {
    this.rng = options.rng;
    this.tcpDefaults = tcpConfig(options.tcp ?? {});
    this.mssLimit = options.tcp?.mss ?? MAX_MSS;
    this.forwarding = options.forwarding ?? false;
    this.defaultTtl = options.defaultTtl ?? 64;
    this.defaultBacklog = options.defaultBacklog ?? 4096;
    this.maxSynBacklog = options.maxSynBacklog ?? 1024;
    this.udpReceiveBuffer = options.udpReceiveBuffer ?? 212_992;
    this.icmpRateLimit = options.icmpRateLimit ?? 1000;
    this.icmpTokens = this.icmpRateLimit;
    this.isn = new IsnGenerator(this.rng);
    this.synCookies = new SynCookies(this.isn);
    this.ports = new PortAllocator(this.rng, LINUX_EPHEMERAL_LOW, LINUX_EPHEMERAL_HIGH);
    this.neighbors = new NeighborCache({
      reachableTime: seconds(30),
      retransmitInterval: seconds(1),
      maxProbes: 3,
      maxQueuePerNeighbor: 100,
      maxEntries: 4096,
    });
    this.fragments = new Reassembler({
      timeout: seconds(30),
      maxDatagramSize: 65535,
      maxBytes: 4 << 20,
    });
  }

  // =====================================================================
  // Configuration
  // =====================================================================

  /** Adds an interface; returns its index (used by `receiveFrame` and `OutgoingFrame`). */
  addInterface(options: InterfaceOptions): number {
    const index = this.interfaces.length;
    const mtu = options.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
      throw new RangeError(`interface MTU must be an integer in 68..65535, got ${mtu}`);
    }
    let mac: MacAddress = Uint8Array.of(0x02, 0, 0, 0, (index >> 8) & 0xff, (index + 1) & 0xff);
    if (options.mac !== undefined) {
      const parsed = parseMacAddress(options.mac);
      if (parsed === null)
        throw new TypeError(`invalid MAC address '${options.mac}': expected aa:bb:cc:dd:ee:ff`);
      mac = parsed;
    }
    const iface: Interface = {
      index,
      name: options.name ?? `if${index}`,
      kind: options.kind,
      mtu,
      mac,
      addresses: [],
      drops: {},
      framesIn: 0,
      framesOut: 0,
      checksumOffload: options.checksumOffload === true && !this.forwarding,
    };
    this.interfaces.push(iface);
    this.routeEpoch++;
    if (options.kind === 'ethernet') {
      // RFC 4291 §2.1: every IPv6 interface has a link-local address.
      iface.addresses.push({ address: linkLocalFromMac(mac), prefixLength: 64 });
      this.routes.push({
        network: IpAddr.parse('fe80::')!,
        prefixLength: 64,
        ifIndex: index,
        gateway: null,
      });
    }
    for (const text of options.addresses ?? []) this.addAddress(index, text);
    return index;
  }

  /** Adds an address ("10.0.0.2/24") to an interface, with its connected route. */
  addAddress(ifIndex: number, cidrText: string): void {
    const iface = this.requireInterface(ifIndex);
    const cidr = parseCidr(cidrText);
    iface.addresses.push(cidr);
    this.routeEpoch++;
    this.routes.push({
      network: cidr.address,
      prefixLength: cidr.prefixLength,
      ifIndex,
      gateway: null,
    });
  }

  /** Adds a route: `addRoute('0.0.0.0/0', { via: '10.0.0.1' })`, or to an interface directly. */
  addRoute(cidrText: string, target: { via?: string; ifIndex?: number }): void {
    const cidr = parseCidr(cidrText);
    const gateway = target.via !== undefined ? IpAddr.parseOrThrow(target.via, 'gateway') : null;
    let ifIndex = target.ifIndex;
    if (ifIndex === undefined) {
      if (gateway === null)
        throw new TypeError('addRoute needs a gateway (via) or an interface (ifIndex)');
      const r = this.route(gateway);
      if (r === null)
        throw new Error(
          `gateway ${gateway.text} is not on a connected network; add its interface address first`,
        );
      ifIndex = r.iface.index;
    }
    this.requireInterface(ifIndex);
    this.routes.push({ network: cidr.address, prefixLength: cidr.prefixLength, ifIndex, gateway });
    this.routeEpoch++;
  }

  /** Interface facts for drivers: kind, MTU, MAC text. */
  interfaceInfo(ifIndex: number): {
    name: string;
    kind: 'ethernet' | 'ip';
    mtu: number;
    mac: string;
    addresses: string[];
  } {
    const iface = this.requireInterface(ifIndex);
    return {
      name: iface.name,
      kind: iface.kind,
      mtu: iface.mtu,
      mac: formatMacAddress(iface.mac),
      addresses: iface.addresses.map((a) => `${a.address.text}/${a.prefixLength}`),
    };
  }

  /** Changes an interface's MTU (e.g. to test path MTU discovery). */
  setMtu(ifIndex: number, mtu: number): void {
    this.requireInterface(ifIndex).mtu = mtu;
  }

  // =====================================================================
  // TCP API
  // =====================================================================

  /**
   * Listens on a port. `host` limits it to one local address (default: all of
   * both families). Throws an error with code EADDRINUSE if the port is taken.
   */
  listen(options: { port: number; host?: string; backlog?: number; family?: 4 | 6 }): TcpListener {
    const port = options.port;
    checkPort(port, true);
    const address =
      options.host !== undefined ? IpAddr.parseOrThrow(options.host, 'listen host') : null;
    const chosen = port === 0 ? this.freeListenPort() : port;
    const existing = this.listeners.get(chosen) ?? [];
    for (const l of existing) {
      if (l.address === null || address === null || l.address.equals(address)) {
        throw addressInUse(address?.text ?? '::', chosen);
      }
    }
    const family = address !== null ? address.family : (options.family ?? 0);
    const listener = new TcpListener(
      this,
      address,
      chosen,
      options.backlog ?? this.defaultBacklog,
      family,
    );
    existing.push(listener);
    this.listeners.set(chosen, existing);
    return listener;
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
    const remote = IpAddr.parseOrThrow(options.host, 'host');
    checkPort(options.port, false);
    this.latestInput = now;
    const route = this.route(remote);
    if (route === null) {
      throw Object.assign(
        new Error(`no route to ${remote.text}: add an interface address or a route first`),
        {
          code: 'ENETUNREACH',
        },
      );
    }
    const local =
      options.localAddress !== undefined
        ? IpAddr.parseOrThrow(options.localAddress, 'localAddress')
        : route.source;
    let localPort = options.localPort ?? 0;
    if (localPort === 0) {
      localPort = this.ports.allocate(local.bytes(), remote.bytes(), options.port, (p) =>
        this.connections.has(tupleKey(remote, options.port, local, p)),
      );
      if (localPort < 0) {
        throw Object.assign(new Error('no free ephemeral port for this destination'), {
          code: 'EADDRNOTAVAIL',
        });
      }
    } else if (this.connections.has(tupleKey(remote, options.port, local, localPort))) {
      throw addressInUse(local.text, localPort);
    }
    const config = this.connectionConfig(route.iface, remote, options.tcp);
    const iss = this.isn.next(now, local.bytes(), localPort, remote.bytes(), options.port);
    const conn = Connection.connect(now, {
      iss,
      config,
      timestampOffset: this.tsOffset(local, localPort, remote, options.port),
      buffers: this.buffers,
    });
    const socket = new TcpSocket(
      this,
      this.nextSocketId++,
      conn,
      { address: local, port: localPort },
      { address: remote, port: options.port },
      null,
    );
    this.connections.set(tupleKey(remote, options.port, local, localPort), socket);
    this.touch(socket);
    return socket;
  }

  /** Every live connection (for diagnostics and tests). */
  tcpSockets(): TcpSocket[] {
    return [...this.connections.values()];
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
      { low: LINUX_EPHEMERAL_LOW, high: LINUX_EPHEMERAL_HIGH },
      this.udpReceiveBuffer,
    );
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
    const dst = IpAddr.parseOrThrow(host, 'ping host');
    const route = this.route(dst);
    if (route === null) return false;
    const data = options.data ?? new Uint8Array(56);
    const identifier = options.identifier ?? 1;
    const sequence = options.sequence ?? 1;
    if (dst.family === 4) {
      const icmp: Icmpv4Repr = { type: Icmpv4Type.EchoRequest, identifier, sequence, data };
      const body = new Uint8Array(icmpv4Length(icmp));
      emitIcmpv4(icmp, body);
      this.sendIpPayload(now, route, dst, IpProtocol.Icmp, body, false);
    } else {
      const icmp: Icmpv6Repr = { type: Icmpv6Type.EchoRequest, identifier, sequence, data };
      const body = new Uint8Array(icmpv6Length(icmp));
      emitIcmpv6(icmp, route.source.v6, dst.v6, body);
      this.sendIpPayload(now, route, dst, IpProtocol.Icmpv6, body, false);
    }
    return true;
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
    const iface = this.interfaces[ifIndex];
    if (iface === undefined)
      throw new RangeError(`no interface ${ifIndex}; add it with addInterface first`);
    this.latestInput = now;
    iface.framesIn++;
    if (iface.kind === 'ip') {
      this.receiveIp(now, iface, frame);
      return;
    }
    const eth = parseEthernet(frame);
    if (isDropReason(eth)) {
      this.drop(iface, eth);
      return;
    }
    if (
      !macEqual(eth.dst, iface.mac) &&
      !macIsBroadcast(eth.dst) &&
      !this.acceptsMulticastMac(iface, eth.dst)
    ) {
      this.drop(iface, StackDropReason.NotForUs);
      return;
    }
    switch (eth.ethertype) {
      case EtherType.Ipv4:
      case EtherType.Ipv6:
        this.receiveIp(now, iface, eth.payload);
        return;
      case EtherType.Arp:
        this.receiveArp(now, iface, eth.payload);
        return;
      default:
        this.drop(iface, StackDropReason.UnsupportedProtocol);
    }
  }

  /**
   * The next frame to transmit, or null. Call until null after any input,
   * command or timeout. The frame is the caller's: the stack never writes its
   * bytes again and no other frame shares them (each is built in storage of
   * its own, see frameBuffer), so a driver may hand it to the link without a
   * copy (`LinkEndpoint.send(now, frame, true)`).
   */
  pollTransmit(now: Instant): OutgoingFrame | null {
    this.latestInput = now;
    if (this.txHead >= this.txQueue.length) {
      this.txQueue.length = 0;
      this.txHead = 0;
      this.flushDirty(now);
      if (this.txQueue.length === 0) return null;
    }
    const frame = this.txQueue[this.txHead++]!;
    this.interfaces[frame.ifIndex]!.framesOut++;
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
    const whole = frame.buffer;
    // A large frame we built owns its whole ArrayBuffer; the link may see it
    // without the headroom (an IP link), so it starts at 0 or HEADROOM.
    if (
      frame.length < RECYCLE_MIN_FRAME - HEADROOM ||
      frame.byteOffset > HEADROOM ||
      frame.byteOffset + frame.length !== whole.byteLength ||
      this.spareFrames.length >= MAX_SPARE_FRAMES
    )
      return;
    this.spareFrames.push(new Uint8Array(whole));
  }

  /** The next event for the application, or null. */
  pollEvent(): StackEvent | null {
    if (this.eventHead >= this.events.length) {
      if (this.dirty.size > 0) this.collectEvents(this.latestInput);
      if (this.eventHead >= this.events.length) {
        this.events.length = 0;
        this.eventHead = 0;
        return null;
      }
    }
    return this.events[this.eventHead++]!;
  }

  /** The earliest deadline of any connection, neighbour or fragment timer; NEVER if none. */
  pollTimeout(): Instant {
    let t = this.deadlines.peek();
    t = earliest(t, this.neighbors.pollTimeout());
    t = earliest(t, this.fragments.pollTimeout());
    if (this.dirty.size > 0 || this.txHead < this.txQueue.length) return 0 as Instant;
    return t;
  }

  /** Runs every timer due at `now`. */
  handleTimeout(now: Instant): void {
    this.latestInput = now;
    for (
      let socket = this.deadlines.popDue(now);
      socket !== null;
      socket = this.deadlines.popDue(now)
    ) {
      socket.conn.handleTimeout(now);
      this.dirty.add(socket);
    }
    if (this.neighbors.pollTimeout() <= now) {
      const { solicit, failed, probe } = this.neighbors.handleTimeout(now);
      for (const key of solicit) this.solicitKey(now, key);
      for (const p of probe) this.solicitKey(now, p.key, p.mac);
      for (const f of failed) {
        for (let i = 0; i < f.packets.length; i++)
          countDrop(this.drops, StackDropReason.NeighborUnresolved);
        this.neighborFailed(now, f.key, f.packets);
      }
    }
    if (this.fragments.pollTimeout() <= now) {
      const n = this.fragments.handleTimeout(now);
      for (let i = 0; i < n; i++) countDrop(this.drops, StackDropReason.FragmentTimeout);
    }
  }

  /** Drop counters and table sizes. */
  stats(): StackStats {
    let listeners = 0;
    for (const l of this.listeners.values()) listeners += l.length;
    return {
      drops: { ...this.drops },
      interfaces: this.interfaces.map((i) => ({
        name: i.name,
        framesIn: i.framesIn,
        framesOut: i.framesOut,
        drops: { ...i.drops },
      })),
      tcpConnections: this.connections.size,
      tcpListeners: listeners,
      udpSockets: this.udpSockets.size,
      neighbors: this.neighbors.size,
      pendingFragments: this.fragments.pendingDatagrams,
      synCookiesSent: this.synCookies.sent,
      synCookiesAccepted: this.synCookies.accepted,
    };
  }

  // =====================================================================
  // TcpSocketHost and UdpHost
  // =====================================================================

  touch(socket: TcpSocket): void {
    this.dirty.add(socket);
  }

  closeListener(listener: TcpListener): void {
    if (listener.closed) return;
    listener.closed = true;
    const list = this.listeners.get(listener.port);
    if (list !== undefined) {
      const rest = list.filter((l) => l !== listener);
      if (rest.length > 0) this.listeners.set(listener.port, rest);
      else this.listeners.delete(listener.port);
    }
    // Connections nobody will accept are reset, as Linux does on close of a listening socket.
    for (const socket of this.connections.values()) {
      if (socket.listener === listener && !socket.accepted) {
        socket.conn.abort(this.latestInput);
        this.dirty.add(socket);
      }
    }
    listener.acceptQueue.length = 0;
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
    const route = this.route(address);
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
    this.sendIpPayload(now, { ...route, source }, address, IpProtocol.Udp, body, false);
    return true;
  }

  // =====================================================================
  // Internals: output of connections
  // =====================================================================

  private flushDirty(now: Instant): void {
    if (this.dirty.size === 0) return;
    const sockets = [...this.dirty];
    this.dirty.clear();
    for (const socket of sockets) {
      const conn = socket.conn;
      for (let seg = conn.pollTransmit(now); seg !== null; seg = conn.pollTransmit(now)) {
        this.sendSegment(
          now,
          socket.localAddress,
          socket.localPort,
          socket.remoteAddress,
          socket.remotePort,
          seg,
          conn.transmitEcn,
        );
      }
      this.drainConnectionEvents(now, socket);
      this.deadlines.set(socket, conn.pollTimeout());
    }
  }

  private collectEvents(now: Instant): void {
    for (const socket of this.dirty) this.drainConnectionEvents(now, socket);
  }

  private drainConnectionEvents(now: Instant, socket: TcpSocket): void {
    const conn = socket.conn;
    for (let e = conn.pollEvent(); e !== null; e = conn.pollEvent()) {
      if (socket.listener !== null && !socket.accepted) {
        this.childEvent(now, socket, e);
        continue;
      }
      this.events.push({ type: 'tcp', socket, event: e });
    }
    this.reap(socket);
  }

  /** Events of a connection still owned by its listener (not yet accepted). */
  private childEvent(now: Instant, socket: TcpSocket, e: TcpEvent): void {
    const listener = socket.listener!;
    if (e.type === 'connected') {
      if (listener.established(socket)) this.events.push({ type: 'accept', listener });
      else socket.conn.abort(now);
      return;
    }
    if (
      e.type === 'state' &&
      e.transition.to === TcpState.Listen &&
      e.transition.from !== TcpState.Closed
    ) {
      // RFC 9293: a reset half-open connection "returns to LISTEN"; for us the
      // child simply goes away, and the listener never saw it.
      socket.conn.abort(now);
      return;
    }
    if (e.type === 'closed') listener.childClosed(socket);
  }

  /** Drops a connection from the tables once it is CLOSED (TIME-WAIT keeps it). */
  private reap(socket: TcpSocket): void {
    if (socket.conn.state !== TcpState.Closed && socket.conn.state !== TcpState.Listen) return;
    const key = tupleKey(
      socket.remoteAddress,
      socket.remotePort,
      socket.localAddress,
      socket.localPort,
    );
    if (this.connections.get(key) === socket) this.connections.delete(key);
    if (this.lastDemux === socket) this.lastDemux = null;
    this.deadlines.set(socket, NEVER);
  }

  private sendSegment(
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
    const route = this.cachedRoute(remote);
    if (route === null) {
      countDrop(this.drops, StackDropReason.NoRoute);
      return;
    }
    const tcpLength = tcpHeaderLength(seg) + seg.payload.length;
    const ipHeader = remote.family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const buffer = this.frameBuffer(
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

  /**
   * A zeroed buffer for one frame of `length` bytes, carved from the current
   * block (see FRAME_BLOCK_MIN). Frames never share bytes, so each is as
   * much its receiver's as a buffer of its own would be.
   */
  private frameBuffer(length: number, headerBytes: number): Uint8Array {
    if (length >= RECYCLE_MIN_FRAME) {
      // A large frame has an ArrayBuffer of its own, so that it can come
      // back whole (recycleFrame) and be built again. In storage that came
      // back the payload is copied over all the rest, so only the headers
      // need the zeros a fresh buffer has (options padding, reserved bits).
      const spares = this.spareFrames;
      while (spares.length > 0) {
        const spare = spares.pop()!;
        if (spare.length < length) continue; // too small for this one: let it go
        const out = new Uint8Array(spare.buffer, 0, length);
        out.fill(0, 0, HEADROOM + IPV6_HEADER_LENGTH + headerBytes);
        return out;
      }
      return new Uint8Array(length);
    }
    let block = this.frameBlock;
    let at = this.frameUsed;
    if (at + length > block.length) {
      if (length > FRAME_BLOCK_MAX / 4) return new Uint8Array(length);
      let size = Math.min(FRAME_BLOCK_MAX, Math.max(FRAME_BLOCK_MIN, 2 * block.length));
      while (size < length) size *= 2;
      block = new Uint8Array(size);
      this.frameBlock = block;
      at = 0;
    }
    this.frameUsed = (at + length + FRAME_ALIGN - 1) & ~(FRAME_ALIGN - 1);
    // The constructor, not subarray: no species lookup per frame.
    return new Uint8Array(block.buffer, block.byteOffset + at, length);
  }

  /**
   * {@link Stack.route} remembered per destination until interfaces,
   * addresses or routes change: a connection sends many segments to one
   * place. The result is shared, so nobody may change it.
   */
  private cachedRoute(dst: IpAddr): RouteResult | null {
    const cache = this.routeCache;
    if (this.routeCacheEpoch !== this.routeEpoch || cache.size >= ROUTE_CACHE_MAX) {
      cache.clear();
      this.routeCacheEpoch = this.routeEpoch;
    }
    let route = cache.get(dst.text);
    if (route === undefined) {
      route = this.route(dst);
      cache.set(dst.text, route);
    }
    return route;
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

  // =====================================================================
  // Internals: IP output
  // =====================================================================

  /** Sends an upper-layer payload, fragmenting it when it does not fit (never for TCP). */
  private sendIpPayload(
    now: Instant,
    route: RouteResult,
    dst: IpAddr,
    protocol: number,
    body: Uint8Array,
    dontFragment: boolean,
  ): void {
    const ipHeader = dst.family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const mtu = this.pathMtuTo(route, dst);
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

  /** The MTU to `dst`: the interface's, lowered by what ICMP told us of the path (RFC 1191, RFC 8201). */
  private pathMtuTo(route: RouteResult, dst: IpAddr): number {
    const learned = this.pathMtus.get(dst.text);
    return learned !== undefined && learned < route.iface.mtu ? learned : route.iface.mtu;
  }

  /** Remembers a smaller path MTU for a destination (bounded: the oldest entries go first). */
  private learnPathMtu(dst: IpAddr, mtu: number): void {
    const floor = dst.family === 4 ? 576 : IPV6_MIN_MTU;
    const value = Math.max(mtu, floor);
    const before = this.pathMtus.get(dst.text);
    if (before !== undefined && before <= value) return;
    this.pathMtus.delete(dst.text);
    this.pathMtus.set(dst.text, value);
    if (this.pathMtus.size > MAX_PATH_MTU_ENTRIES) {
      const oldest = this.pathMtus.keys().next().value;
      if (oldest !== undefined) this.pathMtus.delete(oldest);
    }
  }

  /** RFC 791 §2.3 / RFC 8200 §4.5: split a datagram into fragments that fit the MTU. */
  private fragmentAndSend(
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
  private emitIpInPlace(
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
  private transmitIp(now: Instant, route: RouteResult, dst: IpAddr, buffer: Uint8Array): void {
    const iface = route.iface;
    const packet = buffer.subarray(HEADROOM);
    if (iface.kind === 'ip') {
      this.txQueue.push({ ifIndex: iface.index, frame: packet });
      return;
    }
    const ethertype = dst.family === 4 ? EtherType.Ipv4 : EtherType.Ipv6;
    const mac = this.resolveMac(now, iface, route.nextHop, dst);
    if (mac !== null) {
      this.queueEthernet(iface, mac, ethertype, buffer);
      return;
    }
    const key = neighborKey(iface.index, route.nextHop);
    const { solicit, dropped } = this.neighbors.enqueue(now, key, { ethertype, packet: buffer });
    if (dropped !== null) countDrop(iface.drops, StackDropReason.NeighborQueueFull);
    if (solicit) this.solicit(now, iface, route.nextHop);
  }

  /** Destination MAC without resolution, or null if the neighbour cache must be asked. */
  private resolveMac(
    now: Instant,
    iface: Interface,
    nextHop: IpAddr,
    dst: IpAddr,
  ): MacAddress | null {
    if (dst.isMulticast) {
      if (dst.family === 6) return ipv6MulticastMac(dst.v6, new Uint8Array(6));
      return Uint8Array.of(
        0x01,
        0x00,
        0x5e,
        (dst.v4 >>> 16) & 0x7f,
        (dst.v4 >>> 8) & 0xff,
        dst.v4 & 0xff,
      );
    }
    if (dst.family === 4) {
      if (dst.v4 === 0xffffffff) return MAC_BROADCAST;
      for (const a of iface.addresses) {
        if (
          a.address.family === 4 &&
          ipv4Broadcast(a.address, a.prefixLength) === dst.v4 &&
          a.prefixLength < 31
        )
          return MAC_BROADCAST;
      }
    }
    return this.neighbors.lookup(now, neighborKey(iface.index, nextHop));
  }

  /** Writes the Ethernet header into the headroom of `buffer` and queues the frame. */
  private queueEthernet(
    iface: Interface,
    dstMac: MacAddress,
    ethertype: number,
    buffer: Uint8Array,
  ): void {
    emitEthernet(
      { dst: dstMac, src: iface.mac, ethertype, payload: buffer.subarray(HEADROOM) },
      buffer,
    );
    this.txQueue.push({ ifIndex: iface.index, frame: buffer });
  }

  /** ARP request (RFC 826) or neighbour solicitation (RFC 4861 §7.2.2) for `target`. */
  private solicit(now: Instant, iface: Interface, target: IpAddr, unicastMac?: MacAddress): void {
    if (target.family === 4) {
      const source = this.sourceFor(iface, 4, target);
      const buffer = new Uint8Array(HEADROOM + 28);
      emitArp(
        {
          operation: ArpOperation.Request,
          senderHardware: iface.mac,
          senderProtocol: source === null ? 0 : source.v4,
          targetHardware: new Uint8Array(6),
          targetProtocol: target.v4,
        },
        buffer.subarray(HEADROOM),
      );
      // RFC 4861-style unicast probes are ARP requests sent to the cached MAC (as Linux's arp_solicit).
      this.queueEthernet(iface, unicastMac?.slice() ?? MAC_BROADCAST, EtherType.Arp, buffer);
      return;
    }
    const source = this.sourceFor(iface, 6, target);
    if (source === null) return;
    if (unicastMac !== undefined) {
      // RFC 4861 §7.2.2: a NUD probe is an NS sent to the target's own address and MAC.
      const probeNs: Icmpv6Repr = {
        type: Icmpv6Type.NeighborSolicitation,
        target: target.v6,
        sourceLinkLayer: iface.mac,
      };
      const probeBody = new Uint8Array(icmpv6Length(probeNs));
      emitIcmpv6(probeNs, source.v6, target.v6, probeBody);
      const probeBuffer = ndpPacket(source, target, probeBody);
      this.queueEthernet(iface, unicastMac.slice(), EtherType.Ipv6, probeBuffer);
      return;
    }
    const group = IpAddr.fromV6(ipv6SolicitedNode(target.v6, new Uint8Array(16)));
    const ns: Icmpv6Repr = {
      type: Icmpv6Type.NeighborSolicitation,
      target: target.v6,
      sourceLinkLayer: iface.mac,
    };
    const body = new Uint8Array(icmpv6Length(ns));
    emitIcmpv6(ns, source.v6, group.v6, body);
    const route: RouteResult = { iface, nextHop: group, source };
    this.sendIpPayload(now, route, group, IpProtocol.Icmpv6, body, true);
  }

  private solicitKey(now: Instant, key: string, unicastMac?: MacAddress): void {
    const slash = key.indexOf('/');
    const iface = this.interfaces[Number(key.slice(0, slash))];
    const target = IpAddr.parse(key.slice(slash + 1));
    if (iface !== undefined && target !== null) this.solicit(now, iface, target, unicastMac);
  }

  /** Resolution failed: tell the sources, as a router or host would (ICMP host unreachable, RFC 1812/4443). */
  private neighborFailed(now: Instant, _key: string, packets: QueuedPacket[]): void {
    for (const p of packets) {
      const packet = p.packet.subarray(HEADROOM);
      this.deliverLocalUnreachable(now, packet);
    }
  }

  /** A packet of ours could not be delivered: connections to that host get a soft error. */
  private deliverLocalUnreachable(now: Instant, packet: Uint8Array): void {
    const parsed = this.parseIpQuote(packet);
    if (parsed === null || parsed.protocol !== IpProtocol.Tcp) return;
    const socket = this.connections.get(
      tupleKey(parsed.dst, parsed.dstPort, parsed.src, parsed.srcPort),
    );
    if (socket === undefined) return;
    socket.conn.handleIcmpError(now, 'unreachable', seq(parsed.seq), 0);
    this.dirty.add(socket);
  }

  // =====================================================================
  // Internals: input
  // =====================================================================

  private receiveIp(now: Instant, iface: Interface, packet: Uint8Array): void {
    if (packet.length < 1) {
      this.drop(iface, 'truncated');
      return;
    }
    const version = ipVersion(packet);
    if (version === 4) this.receiveIpv4(now, iface, packet);
    else if (version === 6) this.receiveIpv6(now, iface, packet);
    else this.drop(iface, 'bad-version');
  }

  private receiveIpv4(now: Instant, iface: Interface, packet: Uint8Array): void {
    const ip = parseIpv4(packet);
    if (isDropReason(ip)) {
      this.drop(iface, ip);
      return;
    }
    const dst = this.ipv4Address(ip.dst);
    const src = this.ipv4Address(ip.src);
    if (!this.isLocalV4(ip.dst)) {
      if (this.forwarding) this.forward(now, iface, packet, dst, src, ip.ttl, 4, ip.dontFragment);
      else this.drop(iface, StackDropReason.NotForUs);
      return;
    }
    let payload = ip.payload;
    if (ip.moreFragments || ip.fragmentOffset > 0) {
      const key = `4 ${ip.src} ${ip.dst} ${ip.identification} ${ip.protocol}`;
      const whole = this.fragments.add(now, key, ip.fragmentOffset, ip.moreFragments, ip.payload);
      if (whole === null) return;
      if (typeof whole === 'string') {
        this.drop(iface, whole);
        return;
      }
      payload = whole;
    }
    this.receiveTransport(now, iface, src, dst, ip.protocol, payload, packet);
  }

  private receiveIpv6(now: Instant, iface: Interface, packet: Uint8Array): void {
    const ip = parseIpv6(packet);
    if (isDropReason(ip)) {
      this.drop(iface, ip);
      return;
    }
    const dst = IpAddr.fromV6(ip.dst);
    const src = IpAddr.fromV6(ip.src);
    if (!this.isLocalV6(iface, dst)) {
      if (this.forwarding && !dst.isMulticast && !dst.isLinkLocal)
        this.forward(now, iface, packet, dst, src, ip.hopLimit, 6, true);
      else this.drop(iface, StackDropReason.NotForUs);
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
        this.drop(iface, whole);
        return;
      }
      // The reassembled payload may itself start with more extension headers.
      const chain: Ipv6Chain = { protocol: 0, headerLength: 0, fragment: null };
      const bad = walkIpv6Extensions(whole, protocol, 0, whole.length, chain);
      if (bad !== null) {
        this.drop(iface, bad);
        return;
      }
      protocol = chain.protocol;
      payload = whole.subarray(chain.headerLength);
    }
    this.receiveTransport(now, iface, src, dst, protocol, payload, packet, ip.hopLimit);
  }

  private receiveTransport(
    now: Instant,
    iface: Interface,
    src: IpAddr,
    dst: IpAddr,
    protocol: number,
    payload: Uint8Array,
    packet: Uint8Array,
    hopLimit = 0,
  ): void {
    switch (protocol) {
      case IpProtocol.Tcp:
        this.receiveTcp(now, iface, src, dst, payload, packet);
        return;
      case IpProtocol.Udp:
        this.receiveUdp(now, iface, src, dst, payload, packet);
        return;
      case IpProtocol.Icmp:
        if (src.family === 4) this.receiveIcmpv4(now, iface, src, dst, payload);
        else this.drop(iface, StackDropReason.UnsupportedProtocol);
        return;
      case IpProtocol.Icmpv6:
        if (src.family === 6) this.receiveIcmpv6(now, iface, src, dst, payload, hopLimit);
        else this.drop(iface, StackDropReason.UnsupportedProtocol);
        return;
      default:
        this.drop(iface, StackDropReason.UnsupportedProtocol);
        // RFC 1122 §3.2.2.1: protocol unreachable (IPv4); RFC 4443 parameter problem for IPv6 is optional.
        if (src.family === 4 && !dst.isMulticast) {
          this.sendIcmpError(now, src, packet, {
            type: Icmpv4Type.DestinationUnreachable,
            code: Icmpv4UnreachableCode.ProtocolUnreachable,
            nextHopMtu: 0,
            original: packet,
          });
        }
    }
  }

  private receiveTcp(
    now: Instant,
    iface: Interface,
    src: IpAddr,
    dst: IpAddr,
    bytes: Uint8Array,
    packet: Uint8Array,
  ): void {
    const pseudo =
      src.family === 4
        ? pseudoHeaderSumV4(src.v4, dst.v4, IpProtocol.Tcp, bytes.length)
        : pseudoHeaderSumV6(src.v6, dst.v6, IpProtocol.Tcp, bytes.length);
    const seg = parseTcp(bytes, pseudo, !iface.checksumOffload);
    if (isDropReason(seg)) {
      this.drop(iface, seg);
      return;
    }
    if (dst.isMulticast || (src.family === 4 && this.isBroadcastV4(dst.v4))) {
      this.drop(iface, StackDropReason.NotForUs);
      return;
    }
    let socket = this.lastDemux;
    // A CLOSED one may already have been replaced in the table by a new connection.
    if (
      socket === null ||
      socket.conn.state === TcpState.Closed ||
      !demuxMatches(socket, src, seg.srcPort, dst, seg.dstPort)
    ) {
      socket = this.connections.get(tupleKey(src, seg.srcPort, dst, seg.dstPort)) ?? null;
      if (socket !== null) this.lastDemux = socket;
    }
    // A connection that reached CLOSED in this batch waits to be reaped: it owns nothing any more.
    if (socket !== null && socket.conn.state !== TcpState.Closed) {
      if (socket.conn.state === TcpState.TimeWait && socket.conn.acceptsNewSyn(seg)) {
        // RFC 9293 §3.6.1 / RFC 6191: a new SYN may end TIME-WAIT early.
        socket.conn.abort(now);
        this.connections.delete(tupleKey(src, seg.srcPort, dst, seg.dstPort));
        if (this.lastDemux === socket) this.lastDemux = null;
        this.deadlines.set(socket, NEVER);
        this.dirty.add(socket);
      } else {
        socket.conn.handleSegment(now, seg, ecnCodepoint(packet));
        this.dirty.add(socket);
        return;
      }
    }
    const listener = this.findListener(dst, seg.dstPort);
    if (listener === null) {
      this.drop(iface, StackDropReason.NoListener);
      this.sendReset(now, src, dst, seg);
      return;
    }
    if (
      (seg.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) === TcpFlags.ACK &&
      this.synCookies.sent > 0 &&
      this.synCookies.check(now, src.bytes(), seg.srcPort, dst.bytes(), seg.dstPort, seg)
    ) {
      if (listener.acceptQueueFull) {
        this.drop(iface, StackDropReason.BacklogFull);
        return;
      }
      const conn = this.synCookies.open(now, seg, this.cookieConfig(iface, src), this.buffers);
      this.addChild(listener, conn, src, dst, seg);
      return;
    }
    if ((seg.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) !== TcpFlags.SYN) {
      // Not a SYN for a listener: RST for an ACK (RFC 9293 LISTEN step 2), ignore the rest.
      this.drop(iface, StackDropReason.NoSocket);
      if ((seg.flags & TcpFlags.ACK) !== 0 && (seg.flags & TcpFlags.RST) === 0)
        this.sendReset(now, src, dst, seg);
      return;
    }
    // RFC 4987: bound half-open connections and the accept queue, so a SYN
    // flood cannot take the memory that established connections need.
    if (listener.acceptQueueFull) {
      this.drop(iface, StackDropReason.BacklogFull);
      return;
    }
    if (listener.synQueueFull(this.maxSynBacklog)) {
      // RFC 4987 §3.6: the SYN queue is full (a flood, or a burst): answer with
      // a SYN cookie and keep no state until the handshake completes.
      const synAck = this.synCookies.answer(
        now,
        src.bytes(),
        seg.srcPort,
        dst.bytes(),
        seg.dstPort,
        seg,
        this.cookieConfig(iface, src),
        this.buffers,
      );
      if (synAck !== null) this.sendSegment(now, dst, seg.dstPort, src, seg.srcPort, synAck);
      return;
    }
    void packet;
    const config = this.connectionConfig(iface, src);
    const iss = this.isn.next(now, dst.bytes(), seg.dstPort, src.bytes(), seg.srcPort);
    const conn = Connection.listen({
      iss,
      config,
      timestampOffset: this.tsOffset(dst, seg.dstPort, src, seg.srcPort),
      buffers: this.buffers,
    });
    conn.handleSegment(now, seg);
    this.addChild(listener, conn, src, dst, seg);
  }

  /** Enters a listener's new child (half-open) in the connection table. */
  private addChild(
    listener: TcpListener,
    conn: Connection,
    src: IpAddr,
    dst: IpAddr,
    seg: TcpRepr,
  ): void {
    const child = new TcpSocket(
      this,
      this.nextSocketId++,
      conn,
      { address: dst, port: seg.dstPort },
      { address: src, port: seg.srcPort },
      listener,
    );
    listener.addHalfOpen(child);
    this.connections.set(tupleKey(src, seg.srcPort, dst, seg.dstPort), child);
    this.lastDemux = null;
    this.dirty.add(child);
  }

  /** A connection made from a SYN cookie: nothing remembered window scaling, SACK or timestamps. */
  private cookieConfig(iface: Interface, remote: IpAddr): TcpConfig {
    return this.connectionConfig(iface, remote, {
      windowScaling: false,
      sack: false,
      timestamps: false,
    });
  }

  private sendReset(now: Instant, src: IpAddr, dst: IpAddr, seg: TcpRepr): void {
    // RFC 9293 §3.10.7.1: never answer a RST with a RST.
    if ((seg.flags & TcpFlags.RST) !== 0) return;
    this.sendSegment(now, dst, seg.dstPort, src, seg.srcPort, resetFor(seg));
  }

  private findListener(dst: IpAddr, port: number): TcpListener | null {
    const list = this.listeners.get(port);
    if (list === undefined) return null;
    let wildcard: TcpListener | null = null;
    for (const l of list) {
      if (l.address !== null && l.address.equals(dst)) return l;
      if (l.address === null && (l.family === 0 || l.family === dst.family)) wildcard = l;
    }
    return wildcard;
  }

  private receiveUdp(
    now: Instant,
    iface: Interface,
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
      this.drop(iface, udp);
      return;
    }
    const socket = this.udpSockets.lookup(dst, udp.dstPort);
    if (socket === null) {
      this.drop(iface, StackDropReason.NoSocket);
      // RFC 1122 §4.1.3.1: port unreachable, never for broadcast or multicast.
      if (!dst.isMulticast && !(src.family === 4 && this.isBroadcastV4(dst.v4))) {
        if (src.family === 4) {
          this.sendIcmpError(now, src, packet, {
            type: Icmpv4Type.DestinationUnreachable,
            code: Icmpv4UnreachableCode.PortUnreachable,
            nextHopMtu: 0,
            original: packet,
          });
        } else {
          this.sendIcmpError(now, src, packet, {
            type: Icmpv6Type.DestinationUnreachable,
            code: Icmpv6UnreachableCode.PortUnreachable,
            original: packet,
          });
        }
      }
      return;
    }
    if (!socket.deliver(udp.payload, src, udp.srcPort)) {
      this.drop(iface, StackDropReason.UdpQueueFull);
      return;
    }
    this.events.push({ type: 'udp', socket });
  }

  private receiveIcmpv4(
    now: Instant,
    iface: Interface,
    src: IpAddr,
    dst: IpAddr,
    bytes: Uint8Array,
  ): void {
    const icmp = parseIcmpv4(bytes);
    if (isDropReason(icmp)) {
      this.drop(iface, icmp);
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
        const route = this.route(src);
        if (route === null) return;
        const source = this.isBroadcastV4(dst.v4) ? route.source : dst;
        this.sendIpPayload(now, { ...route, source }, src, IpProtocol.Icmp, body, false);
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
        this.icmpErrorToTcp(now, iface, src, icmp.original, kind, icmp.nextHopMtu);
        return;
      }
      case Icmpv4Type.TimeExceeded:
        this.icmpErrorToTcp(now, iface, src, icmp.original, 'unreachable', 0);
        return;
      default:
        this.drop(iface, StackDropReason.IcmpIgnored);
    }
  }

  private receiveIcmpv6(
    now: Instant,
    iface: Interface,
    src: IpAddr,
    dst: IpAddr,
    bytes: Uint8Array,
    hopLimit: number,
  ): void {
    const icmp = parseIcmpv6(bytes, src.v6, dst.v6);
    if (isDropReason(icmp)) {
      this.drop(iface, icmp);
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
        const route = this.route(src);
        if (route === null) return;
        const source = dst.isMulticast ? route.source : dst;
        const body = new Uint8Array(icmpv6Length(reply));
        emitIcmpv6(reply, source.v6, src.v6, body);
        this.sendIpPayload(now, { ...route, source }, src, IpProtocol.Icmpv6, body, false);
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
      case Icmpv6Type.NeighborSolicitation: {
        if (hopLimit !== NDP_HOP_LIMIT || iface.kind !== 'ethernet') {
          this.drop(iface, StackDropReason.BadNdp);
          return;
        }
        const target = IpAddr.fromV6(icmp.target);
        if (!iface.addresses.some((a) => a.address.equals(target))) {
          this.drop(iface, StackDropReason.NotForUs);
          return;
        }
        if (icmp.sourceLinkLayer !== null && !src.isUnspecified)
          this.learnNeighbor(now, iface, src, icmp.sourceLinkLayer);
        // RFC 4861 §7.2.4: answer with S (unless the source is ::) and O, with our link-layer address.
        const to = src.isUnspecified ? IPV6_ALL_NODES : src;
        const na: Icmpv6Repr = {
          type: Icmpv6Type.NeighborAdvertisement,
          flags:
            (src.isUnspecified ? 0 : NeighborAdvertFlags.Solicited) |
            NeighborAdvertFlags.Override |
            (this.forwarding ? NeighborAdvertFlags.Router : 0),
          target: target.v6,
          targetLinkLayer: iface.mac,
        };
        const body = new Uint8Array(icmpv6Length(na));
        emitIcmpv6(na, target.v6, to.v6, body);
        const mac = icmp.sourceLinkLayer ?? null;
        const buffer = ndpPacket(target, to, body);
        const dstMac = to.isMulticast
          ? ipv6MulticastMac(to.v6, new Uint8Array(6))
          : (mac ?? this.neighbors.lookup(now, neighborKey(iface.index, to)));
        if (dstMac !== null) this.queueEthernet(iface, dstMac.slice(), EtherType.Ipv6, buffer);
        return;
      }
      case Icmpv6Type.NeighborAdvertisement: {
        if (hopLimit !== NDP_HOP_LIMIT) {
          this.drop(iface, StackDropReason.BadNdp);
          return;
        }
        if (icmp.targetLinkLayer !== null)
          this.learnNeighbor(now, iface, IpAddr.fromV6(icmp.target), icmp.targetLinkLayer);
        return;
      }
      case Icmpv6Type.PacketTooBig:
        this.icmpErrorToTcp(now, iface, src, icmp.original, 'packet-too-big', icmp.mtu);
        return;
      case Icmpv6Type.DestinationUnreachable:
        this.icmpErrorToTcp(
          now,
          iface,
          src,
          icmp.original,
          icmp.code === Icmpv6UnreachableCode.PortUnreachable ? 'refused' : 'unreachable',
          0,
        );
        return;
      case Icmpv6Type.TimeExceeded:
        this.icmpErrorToTcp(now, iface, src, icmp.original, 'unreachable', 0);
        return;
      default:
        // Router solicitations/advertisements and parameter problems: we are configured statically.
        this.drop(iface, StackDropReason.IcmpIgnored);
    }
  }

  private receiveArp(now: Instant, iface: Interface, bytes: Uint8Array): void {
    const arp = parseArp(bytes);
    if (isDropReason(arp)) {
      this.drop(iface, arp);
      return;
    }
    const ours = iface.addresses.some(
      (a) => a.address.family === 4 && a.address.v4 === arp.targetProtocol,
    );
    const sender = IpAddr.fromV4(arp.senderProtocol);
    // RFC 826 "merge": refresh a known sender; learn it when the packet is for us.
    if (
      arp.senderProtocol !== 0 &&
      (ours || this.neighbors.lookup(now, neighborKey(iface.index, sender)) !== null)
    ) {
      this.learnNeighbor(now, iface, sender, arp.senderHardware);
    }
    if (!ours) {
      this.drop(iface, StackDropReason.NotForUs);
      return;
    }
    if (arp.operation === ArpOperation.Request) {
      const buffer = new Uint8Array(HEADROOM + 28);
      emitArp(
        {
          operation: ArpOperation.Reply,
          senderHardware: iface.mac,
          senderProtocol: arp.targetProtocol,
          targetHardware: arp.senderHardware,
          targetProtocol: arp.senderProtocol,
        },
        buffer.subarray(HEADROOM),
      );
      this.queueEthernet(iface, arp.senderHardware.slice(), EtherType.Arp, buffer);
    }
  }

  private learnNeighbor(now: Instant, iface: Interface, address: IpAddr, mac: MacAddress): void {
    const waiting = this.neighbors.update(now, neighborKey(iface.index, address), mac);
    for (const item of waiting) this.queueEthernet(iface, mac.slice(), item.ethertype, item.packet);
  }

  /** Matches an ICMP error's quoted packet to a connection (RFC 5927 checks happen in the Connection). */
  private icmpErrorToTcp(
    now: Instant,
    iface: Interface,
    from: IpAddr,
    original: Uint8Array,
    kind: 'refused' | 'unreachable' | 'packet-too-big',
    mtu: number,
  ): void {
    this.events.push({ type: 'icmp-error', from, kind, at: now });
    const quote = this.parseIpQuote(original);
    if (quote === null) {
      this.drop(iface, StackDropReason.IcmpBadQuote);
      return;
    }
    // RFC 8201 §4 / RFC 1191 §6.3: the path MTU belongs to the destination, for every protocol.
    if (kind === 'packet-too-big' && mtu > 0) this.learnPathMtu(quote.dst, mtu);
    if (quote.protocol !== IpProtocol.Tcp) return;
    const socket = this.connections.get(
      tupleKey(quote.dst, quote.dstPort, quote.src, quote.srcPort),
    );
    if (socket === undefined) {
      this.drop(iface, StackDropReason.IcmpIgnored);
      return;
    }
    let mss = 0;
    if (kind === 'packet-too-big') {
      // RFC 1191 §5 / RFC 8201 §4: never below the minimum MTU of the family.
      const floorMtu = quote.src.family === 4 ? 576 : IPV6_MIN_MTU;
      const pathMtu = Math.max(mtu > 0 ? mtu : floorMtu, floorMtu);
      mss = pathMtu - (quote.src.family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH) - 20;
    }
    if (!socket.conn.handleIcmpError(now, kind, seq(quote.seq), mss))
      this.drop(iface, StackDropReason.IcmpIgnored);
    this.dirty.add(socket);
  }

  /** Reads the IP header and first 8 transport bytes quoted in an ICMP error. */
  private parseIpQuote(original: Uint8Array): {
    src: IpAddr;
    dst: IpAddr;
    protocol: number;
    srcPort: number;
    dstPort: number;
    seq: number;
  } | null {
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
        ((original[12]! << 24) | (original[13]! << 16) | (original[14]! << 8) | original[15]!) >>>
          0,
      );
      dst = IpAddr.fromV4(
        ((original[16]! << 24) | (original[17]! << 16) | (original[18]! << 8) | original[19]!) >>>
          0,
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

  // =====================================================================
  // Internals: forwarding (router)
  // =====================================================================

  private forward(
    now: Instant,
    iface: Interface,
    packet: Uint8Array,
    dst: IpAddr,
    src: IpAddr,
    ttl: number,
    family: 4 | 6,
    dontFragment: boolean,
  ): void {
    // RFC 1812 §4.2.2.9 / RFC 8200: a packet whose TTL would reach zero is dropped with time exceeded.
    if (ttl <= 1) {
      this.drop(iface, StackDropReason.TtlExpired);
      if (family === 4)
        this.sendIcmpError(now, src, packet, {
          type: Icmpv4Type.TimeExceeded,
          code: 0,
          original: packet,
        });
      else
        this.sendIcmpError(now, src, packet, {
          type: Icmpv6Type.TimeExceeded,
          code: 0,
          original: packet,
        });
      return;
    }
    const route = this.route(dst);
    if (route === null) {
      this.drop(iface, StackDropReason.NoRoute);
      if (family === 4)
        this.sendIcmpError(now, src, packet, {
          type: Icmpv4Type.DestinationUnreachable,
          code: Icmpv4UnreachableCode.NetUnreachable,
          nextHopMtu: 0,
          original: packet,
        });
      else
        this.sendIcmpError(now, src, packet, {
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
      this.forwardFragments(now, route, dst, packet, ttl - 1);
      return;
    }
    if (length > route.iface.mtu) {
      this.drop(iface, StackDropReason.MtuExceeded);
      // RFC 1191 §4: fragmentation needed with the next-hop MTU; RFC 4443 §3.2 packet too big.
      if (family === 4 && dontFragment) {
        this.sendIcmpError(now, src, packet, {
          type: Icmpv4Type.DestinationUnreachable,
          code: Icmpv4UnreachableCode.FragmentationNeeded,
          nextHopMtu: route.iface.mtu,
          original: packet,
        });
      } else if (family === 6) {
        this.sendIcmpError(now, src, packet, {
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
    this.transmitIp(now, route, dst, buffer);
  }

  /** Splits a forwarded IPv4 datagram (itself perhaps a fragment) to fit the next hop (RFC 791 §3.2). */
  private forwardFragments(
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
      this.transmitIp(now, route, dst, buffer);
    }
  }

  /** Sends an ICMP error about `packet` to `to`, rate limited (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)). */
  private sendIcmpError(
    now: Instant,
    to: IpAddr,
    packet: Uint8Array,
    repr: Icmpv4Repr | Icmpv6Repr,
  ): void {
    if (now - this.icmpRefillAt >= 1_000_000) {
      this.icmpRefillAt = now;
      this.icmpTokens = this.icmpRateLimit;
    }
    if (this.icmpTokens <= 0) return;
    // Never about an ICMP error (RFC 1122 §3.2.2), nor to unspecified or multicast sources.
    if (to.isUnspecified || to.isMulticast) return;
    this.icmpTokens--;
    const route = this.route(to);
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
      this.sendIpPayload(now, route, to, IpProtocol.Icmp, body, false);
    } else {
      const r = repr as Icmpv6Repr;
      if ('original' in r)
        r.original = packet.subarray(0, Math.min(packet.length, ICMPV6_MAX_ERROR_QUOTE));
      const body = new Uint8Array(icmpv6Length(r));
      emitIcmpv6(r, route.source.v6, to.v6, body);
      this.sendIpPayload(now, route, to, IpProtocol.Icmpv6, body, false);
    }
  }

  // =====================================================================
  // Internals: addressing and routing
  // =====================================================================

  /** Longest-prefix match; the source address is the interface's address of that family. */
  route(dst: IpAddr): RouteResult | null {
    let best: Route | null = null;
    for (const r of this.routes) {
      if (
        inPrefix(dst, r.network, r.prefixLength) &&
        (best === null || r.prefixLength > best.prefixLength)
      )
        best = r;
    }
    // A local address routes to itself over its own interface (Linux uses lo; we keep it on the interface).
    if (best === null) return null;
    const iface = this.interfaces[best.ifIndex]!;
    const nextHop = best.gateway ?? dst;
    const source = this.sourceFor(iface, dst.family, dst);
    if (source === null) return null;
    return { iface, nextHop, source };
  }

  /** RFC 6724 in miniature: same family, same scope (link-local for link-local), prefer the same subnet. */
  private sourceFor(iface: Interface, family: 4 | 6, dst: IpAddr): IpAddr | null {
    let fallback: IpAddr | null = null;
    for (const a of iface.addresses) {
      if (a.address.family !== family) continue;
      if (family === 6 && a.address.isLinkLocal !== dst.isLinkLocal) {
        if (fallback === null && !dst.isLinkLocal) fallback = a.address;
        continue;
      }
      if (inPrefix(dst, a.address, a.prefixLength)) return a.address;
      if (fallback === null || (family === 6 && fallback.isLinkLocal)) fallback = a.address;
    }
    if (fallback !== null) return fallback;
    // Any address of the family on another interface (a host with several interfaces).
    for (const other of this.interfaces)
      for (const a of other.addresses)
        if (a.address.family === family && !a.address.isLinkLocal) return a.address;
    return null;
  }

  private isLocalV4(address: number): boolean {
    if (address === 0xffffffff) return true;
    for (const iface of this.interfaces) {
      for (const a of iface.addresses) {
        if (a.address.family !== 4) continue;
        if (a.address.v4 === address) return true;
        if (a.prefixLength < 31 && ipv4Broadcast(a.address, a.prefixLength) === address)
          return true;
      }
    }
    return false;
  }

  private isBroadcastV4(address: number): boolean {
    if (address === 0xffffffff) return true;
    for (const iface of this.interfaces) {
      for (const a of iface.addresses) {
        if (
          a.address.family === 4 &&
          a.prefixLength < 31 &&
          ipv4Broadcast(a.address, a.prefixLength) === address
        )
          return true;
      }
    }
    return false;
  }

  private isLocalV6(iface: Interface, address: IpAddr): boolean {
    if (address.isMulticast) {
      if (address.equals(IPV6_ALL_NODES)) return true;
      // Solicited-node groups of our addresses (RFC 4291 §2.7.1).
      for (const a of iface.addresses) {
        if (
          a.address.family === 6 &&
          ipv6SolicitedNode(a.address.v6, new Uint8Array(16)).every((b, i) => b === address.v6[i])
        )
          return true;
      }
      return false;
    }
    for (const i of this.interfaces)
      for (const a of i.addresses)
        if (a.address.family === 6 && a.address.equals(address)) return true;
    return false;
  }

  private acceptsMulticastMac(iface: Interface, mac: MacAddress): boolean {
    if ((mac[0]! & 1) === 0) return false;
    if (mac[0] === 0x33 && mac[1] === 0x33) {
      // IPv6 multicast: all-nodes and our solicited-node groups.
      if (mac[2] === 0 && mac[3] === 0 && mac[4] === 0 && mac[5] === 1) return true;
      for (const a of iface.addresses) {
        if (a.address.family !== 6) continue;
        const v6 = a.address.v6;
        if (mac[2] === 0xff && mac[3] === v6[13] && mac[4] === v6[14] && mac[5] === v6[15])
          return true;
      }
    }
    return false;
  }

  private connectionConfig(
    iface: Interface,
    remote: IpAddr,
    overrides?: Partial<TcpConfig>,
  ): TcpConfig {
    const ipHeader = remote.family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    // tcpDefaults is a whole, checked config: one copy per connection (its
    // socket options change it), checked by the Connection it goes to.
    return {
      ...this.tcpDefaults,
      ...overrides,
      // RFC 9293 §3.7.1: MSS = MTU - IP header - TCP header; 1220 is the IPv6 default (RFC 8200 minimum MTU).
      // As Linux (tcp_advertise_mss), the MTU alone sets it unless the
      // application capped it: the profile's 1460 is Ethernet's, and on a
      // 64 KB link it would cut every segment to 1448 bytes of payload.
      mss: Math.min(
        overrides?.mss ?? this.mssLimit,
        Math.min(iface.mtu, this.pathMtus.get(remote.text) ?? iface.mtu) - ipHeader - 20,
      ),
      defaultPeerMss: remote.family === 4 ? 536 : IPV6_MIN_MTU - IPV6_HEADER_LENGTH - 20,
    };
  }

  private tsOffset(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): number {
    // Linux randomises the timestamp clock per connection (secure_tcp_ts_off) so
    // that it does not leak uptime; a keyed hash of the tuple does the same.
    return this.isn.hash(local.bytes(), localPort, remote.bytes(), remotePort, 0x7473);
  }

  private freeListenPort(): number {
    for (let p = LINUX_EPHEMERAL_LOW; p <= LINUX_EPHEMERAL_HIGH; p++)
      if (!this.listeners.has(p)) return p;
    throw Object.assign(new Error('no free port to listen on'), { code: 'EADDRINUSE' });
  }

  private requireInterface(ifIndex: number): Interface {
    const iface = this.interfaces[ifIndex];
    if (iface === undefined)
      throw new RangeError(`no interface ${ifIndex}; the stack has ${this.interfaces.length}`);
    return iface;
  }

  private drop(iface: Interface, reason: string): void {
    countDrop(this.drops, reason);
    countDrop(iface.drops, reason);
  }
}

/** Whether a segment from `remote`:`remotePort` to `local`:`localPort` belongs to `socket`. */
function demuxMatches(
  socket: TcpSocket,
  remote: IpAddr,
  remotePort: number,
  local: IpAddr,
  localPort: number,
): boolean {
  return (
    socket.remotePort === remotePort &&
    socket.localPort === localPort &&
    sameAddress(socket.remoteAddress, remote) &&
    sameAddress(socket.localAddress, local)
  );
}

function sameAddress(a: IpAddr, b: IpAddr): boolean {
  if (a === b) return true;
  if (a.family !== b.family) return false;
  return a.family === 4 ? a.v4 === b.v4 : a.text === b.text;
}

/**
 * An NDP message in an IPv6 packet with headroom for Ethernet: hop limit 255,
 * as RFC 4861 §7.1 requires of every NS/NA, so receivers know it was not routed.
 */
function ndpPacket(src: IpAddr, dst: IpAddr, body: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(HEADROOM + IPV6_HEADER_LENGTH + body.length);
  buffer.set(body, HEADROOM + IPV6_HEADER_LENGTH);
  emitIpv6(
    {
      src: src.v6,
      dst: dst.v6,
      hopLimit: NDP_HOP_LIMIT,
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      protocol: IpProtocol.Icmpv6,
      headerLength: IPV6_HEADER_LENGTH,
      fragment: null,
      payload: buffer.subarray(HEADROOM + IPV6_HEADER_LENGTH),
    },
    buffer.subarray(HEADROOM),
  );
  return buffer;
}

/** The connection table key: remote address and port, then local. */
function tupleKey(remote: IpAddr, remotePort: number, local: IpAddr, localPort: number): string {
  return `${remote.text}|${remotePort}|${local.text}|${localPort}`;
}

function neighborKey(ifIndex: number, address: IpAddr): string {
  return `${ifIndex}/${address.text}`;
}

function checkPort(port: number, allowZero: boolean): void {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new RangeError(
      `port must be an integer in ${allowZero ? 0 : 1}..65535, got ${String(port)}`,
    );
  }
}

function addressInUse(address: string, port: number): Error {
  return Object.assign(new Error(`address ${address} port ${port} is already in use`), {
    code: 'EADDRINUSE',
    address,
    port,
  });
}

/** The ECN field of an IP packet's header (RFC 3168 §5), for TCP's congestion echo. */
function ecnCodepoint(packet: Uint8Array): number {
  if (packet.length < 2) return 0;
  return packet[0]! >>> 4 === 4 ? packet[1]! & 3 : (packet[1]! >>> 4) & 3;
}
