/**
 * TCP demultiplexing: the connection table (RFC 9293 §3.3.1's 4-tuple),
 * listeners, and what a segment nobody owns earns (RFC 9293 §3.10.7.1: a
 * reset; LISTEN step 2 for an ACK). It opens connections actively and
 * passively (with tcp/accept.ts's queues and SYN cookies), polls the ones
 * with work, keeps their deadlines (one heap for all) and reaps them when
 * they close. A new SYN may end TIME-WAIT early (RFC 9293 §3.6.1, RFC 6191).
 */
import { BufferPool, DeadlineHeap, NEVER, seq, type Instant, type Rng } from '../base/index.js';
import {
  IPV4_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  IPV6_MIN_MTU,
  IpProtocol,
  TcpFlags,
  isDropReason,
  parseTcp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
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
import { IpAddr } from './address.js';
import { StackDropReason, countInterfaceDrop, type DropCounts } from './drop.js';
import type { EventQueue } from './events.js';
import type { IcmpErrorKind, IcmpErrorReceiver } from './icmp.js';
import type { IpOutput } from './ip-out.js';
import {
  EPHEMERAL_PORT_HIGH,
  EPHEMERAL_PORT_LOW,
  PortAllocator,
  addressInUse,
  checkPort,
} from './ports.js';
import type { NetInterface, Routing } from './routes.js';
import { TcpListener, TcpSocket, type TcpSocketHost } from './sockets.js';
import { HeldSyns, type SynRequest } from './transparent.js';
import { demuxMatches, ecnCodepoint, emptyRepr, tupleKey } from './tcp-match.js';

/**
 * Storage of connections' send and receive buffers that the stack keeps for
 * reuse: a ring that empties gives its storage back and takes it again when
 * data comes (see BufferPool). A few default-sized (1 MB) buffers, shared by
 * all connections; idle connections hold none.
 */
const BUFFER_POOL_BYTES = 4 * 1024 * 1024;
/** The largest MSS: a 65535-byte IPv4 packet less 40 bytes of headers (TcpConfig.mss's bound too). */
const MAX_MSS = 65495;
/** Offset of the flags byte in a TCP header (RFC 9293 §3.1). */
const TCP_FLAGS_OFFSET = 13;

/** The TCP settings of a stack. */
export interface TcpDemuxOptions {
  rng: Rng;
  tcp: Partial<TcpConfig>;
  defaultBacklog: number;
  maxSynBacklog: number;
  /** Cookie SYN-ACKs per round of polling at most; see TcpDemux.cookieBudget. */
  synCookieBudget: number;
}

/** The TCP demultiplexer of one stack. */
export class TcpDemux implements IcmpErrorReceiver {
  private readonly tcpDefaults: TcpConfig;
  /**
   * The MSS cap the stack's options asked for (as TCP_MAXSEG would), or the
   * largest there is: a connection's MSS otherwise follows the interface MTU.
   */
  private readonly mssLimit: number;
  private readonly defaultBacklog: number;
  private readonly maxSynBacklog: number;
  /** The handles' owner (the Stack), told of their API calls. */
  private readonly host: TcpSocketHost;
  private readonly routing: Routing;
  private readonly out: IpOutput;
  private readonly events: EventQueue;
  private readonly drops: DropCounts;
  private readonly isn: IsnGenerator;
  private readonly synCookies: SynCookies;
  private readonly ports: PortAllocator;
  /** Connections by 4-tuple key (remote first, so lookups build one string). */
  private readonly connections = new Map<string, TcpSocket>();
  /**
   * How many connections each IPv4 remote address has in the table. A
   * segment from an address not in it belongs to no connection, and is known
   * not to without building a key string: a SYN flood from random sources
   * then costs no string per SYN (Linux's hash lookup allocates nothing either).
   */
  private readonly v4Remotes = new Map<number, number>();
  private readonly listeners = new Map<number, TcpListener[]>();
  /** Connections with possible output or timer changes since the last poll. */
  private readonly dirty = new Set<TcpSocket>();
  private readonly deadlines = new DeadlineHeap<TcpSocket>();
  /**
   * Connection buffer storage for reuse (see BUFFER_POOL_BYTES). Replaced by
   * an empty pool when the last connection goes, so what a burst of
   * connections gave back is left to the garbage collector rather than kept
   * by an idle stack.
   */
  private buffers = new BufferPool(BUFFER_POOL_BYTES);
  private nextSocketId = 1;
  /**
   * The connection the last segment went to: the next one is very likely for
   * it too (a bulk transfer, a request/response exchange), and matching it
   * costs a few comparisons where the table needs a key string built and
   * hashed (Linux's early demux keeps the same kind of hint). Cleared when
   * that connection leaves the table.
   */
  private lastDemux: TcpSocket | null = null;
  /**
   * Under a SYN flood every SYN costs a keyed hash and a SYN-ACK. While
   * established connections have segments arriving too (in this round of
   * polling or the last; the driver reads a batch of frames, then polls), at
   * most this many SYNs per round get a cookie: beyond it a SYN is dropped
   * before it is even parsed, so the connections' segments keep their turn
   * (as NAPI's budget bounds a softirq's work in Linux). Only once a
   * listener's SYN queue is full, and never when nothing competes: a burst of
   * SYNs alone is answered whole.
   */
  private readonly cookieBudget: number;
  /** Segments for connections in the table this round, and whether the last round had any. */
  private segmentsThisPoll = 0;
  private segmentsLastPoll = false;
  private cookiesThisPoll = 0;
  /** The SYN-ACK under construction, reused: sendSegment emits it at once. */
  private readonly synAck: TcpRepr = emptyRepr();
  /** Address bytes for the cookie hash, reused (IPv4; IPv6 addresses have theirs). */
  private readonly remoteV4 = new Uint8Array(4);
  private readonly localV4 = new Uint8Array(4);
  /** A gateway's catch-all listener and the SYNs it holds (transparent.ts), or null. */
  private transparent: { listener: TcpListener; held: HeldSyns } | null = null;

  constructor(
    options: TcpDemuxOptions,
    host: TcpSocketHost,
    routing: Routing,
    out: IpOutput,
    events: EventQueue,
    drops: DropCounts,
  ) {
    this.tcpDefaults = tcpConfig(options.tcp);
    this.mssLimit = options.tcp.mss ?? MAX_MSS;
    this.defaultBacklog = options.defaultBacklog;
    this.maxSynBacklog = options.maxSynBacklog;
    this.cookieBudget = options.synCookieBudget;
    this.host = host;
    this.routing = routing;
    this.out = out;
    this.events = events;
    this.drops = drops;
    // The order of these two draws from rng is part of what a seed means.
    this.isn = new IsnGenerator(options.rng);
    this.synCookies = new SynCookies(this.isn);
    this.ports = new PortAllocator(options.rng, EPHEMERAL_PORT_LOW, EPHEMERAL_PORT_HIGH);
  }

  /** How many times the last connection has left the table (the stack then trims its frame storage). */
  timesEmptied = 0;

  /** Bytes of connection buffer storage kept for reuse. */
  get pooledBufferBytes(): number {
    return this.buffers.pooledBytes;
  }

  /** Whether connections wait to be polled. */
  get hasWork(): boolean {
    return this.dirty.size > 0;
  }

  /** Live connections in the table. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Listeners, over all ports. */
  get listenerCount(): number {
    let n = 0;
    for (const l of this.listeners.values()) n += l.length;
    return n;
  }

  get synCookiesSent(): number {
    return this.synCookies.sent;
  }

  get synCookiesAccepted(): number {
    return this.synCookies.accepted;
  }

  /** The earliest deadline of any connection; NEVER if none. */
  pollTimeout(): Instant {
    return this.deadlines.peek();
  }

  /** Runs the timers of every connection due at `now`. */
  handleTimeout(now: Instant): void {
    for (
      let socket = this.deadlines.popDue(now);
      socket !== null;
      socket = this.deadlines.popDue(now)
    ) {
      socket.conn.handleTimeout(now);
      this.dirty.add(socket);
    }
  }

  /**
   * Listens on a port. `host` limits it to one local address (default: all of
   * both families). Throws an error with code EADDRINUSE if the port is taken.
   */
  listen(options: { port: number; host?: string; backlog?: number; family?: 4 | 6 }): TcpListener {
    const port = options.port;
    checkPort(port, true);
    const address =
      options.host !== undefined ? IpAddr.parseOrThrow(options.host, 'listen host') : null;
    if (address !== null && !address.isUnspecified && !this.routing.ownsAddress(address)) {
      // As Linux's bind() (inet_addr_valid_or_nonlocal): an address no interface has.
      throw Object.assign(
        new Error(
          `cannot listen on ${address.text}: no interface has that address; listen on one of the stack's addresses or on all`,
        ),
        { code: 'EADDRNOTAVAIL' },
      );
    }
    const chosen = port === 0 ? this.freeListenPort() : port;
    const existing = this.listeners.get(chosen) ?? [];
    for (const l of existing) {
      if (l.address === null || address === null || l.address.equals(address)) {
        throw addressInUse(address?.text ?? '::', chosen);
      }
    }
    const family = address !== null ? address.family : (options.family ?? 0);
    const listener = new TcpListener(
      this.host,
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
    if (remote.isMulticast || (remote.family === 4 && this.routing.isBroadcastV4(remote.v4))) {
      // As Linux's tcp_v4_connect (a route of type broadcast or multicast):
      // TCP is point to point, so there is no network to reach.
      throw Object.assign(
        new Error(`cannot connect to ${remote.text}: TCP needs a unicast address`),
        { code: 'ENETUNREACH' },
      );
    }
    const route = this.routing.route(remote);
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
    const config = this.connectionConfig(now, route.iface, remote, options.tcp);
    const iss = this.isn.next(now, local.bytes(), localPort, remote.bytes(), options.port);
    const conn = Connection.connect(now, {
      iss,
      config,
      timestampOffset: this.tsOffset(local, localPort, remote, options.port),
      buffers: this.buffers,
    });
    const socket = new TcpSocket(
      this.host,
      this.nextSocketId++,
      conn,
      { address: local, port: localPort },
      { address: remote, port: options.port },
      null,
    );
    this.tableSet(tupleKey(remote, options.port, local, localPort), socket);
    this.touch(socket);
    return socket;
  }

  /** Enters `socket` in the connection table under `key`. */
  private tableSet(key: string, socket: TcpSocket): void {
    const before = this.connections.get(key);
    if (before === socket) return;
    if (before !== undefined) this.forgetRemote(before.remoteAddress);
    this.connections.set(key, socket);
    const remote = socket.remoteAddress;
    if (remote.family === 4)
      this.v4Remotes.set(remote.v4, (this.v4Remotes.get(remote.v4) ?? 0) + 1);
  }

  /** Takes the entry under `key` out of the connection table. */
  private tableDelete(key: string): void {
    const before = this.connections.get(key);
    if (before === undefined) return;
    this.connections.delete(key);
    this.forgetRemote(before.remoteAddress);
  }

  private forgetRemote(remote: IpAddr): void {
    if (remote.family !== 4) return;
    const n = this.v4Remotes.get(remote.v4) ?? 0;
    if (n <= 1) this.v4Remotes.delete(remote.v4);
    else this.v4Remotes.set(remote.v4, n - 1);
  }

  /** The connection of a 4-tuple, or null. */
  private lookup(src: IpAddr, srcPort: number, dst: IpAddr, dstPort: number): TcpSocket | null {
    if (src.family === 4 && !this.v4Remotes.has(src.v4)) return null;
    return this.connections.get(tupleKey(src, srcPort, dst, dstPort)) ?? null;
  }

  /** Every live connection (for diagnostics and tests). */
  sockets(): TcpSocket[] {
    return [...this.connections.values()];
  }

  /** Marks a connection for output and timer re-evaluation. */
  touch(socket: TcpSocket): void {
    this.dirty.add(socket);
  }

  /** Stops a listener; connections not yet accepted are reset. */
  closeListener(now: Instant, listener: TcpListener): void {
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
        socket.conn.abort(now);
        this.dirty.add(socket);
      }
    }
    listener.acceptQueue.length = 0;
    if (this.transparent?.listener === listener) this.transparent = null;
  }

  /** Sends what every marked connection has to send, and gathers their events. */
  flush(now: Instant): void {
    // A new round of polling: SYNs may have cookies again (see cookieBudget).
    this.cookiesThisPoll = 0;
    this.segmentsLastPoll = this.segmentsThisPoll > 0;
    this.segmentsThisPoll = 0;
    if (this.dirty.size === 0) return;
    const sockets = [...this.dirty];
    this.dirty.clear();
    for (const socket of sockets) {
      const conn = socket.conn;
      for (let seg = conn.pollTransmit(now); seg !== null; seg = conn.pollTransmit(now)) {
        this.out.sendSegment(
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

  /** Gathers the events of marked connections (they stay marked for the next flush). */
  collectEvents(now: Instant): void {
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
    if (this.connections.get(key) === socket) this.tableDelete(key);
    if (this.connections.size === 0) {
      this.timesEmptied++;
      if (this.buffers.pooledBytes > 0) this.buffers = new BufferPool(BUFFER_POOL_BYTES);
    }
    if (this.lastDemux === socket) this.lastDemux = null;
    this.deadlines.set(socket, NEVER);
  }

  /** A TCP segment for one of our addresses. */
  receive(
    now: Instant,
    iface: NetInterface,
    src: IpAddr,
    dst: IpAddr,
    bytes: Uint8Array,
    packet: Uint8Array,
  ): void {
    if (
      this.cookiesThisPoll >= this.cookieBudget &&
      (this.segmentsLastPoll || this.segmentsThisPoll > 0) &&
      bytes.length > TCP_FLAGS_OFFSET &&
      (bytes[TCP_FLAGS_OFFSET]! & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) === TcpFlags.SYN
    ) {
      // A flood has used this round's cookies while connections have traffic:
      // the cheapest drop there is.
      countInterfaceDrop(this.drops, iface, StackDropReason.SynBudget);
      return;
    }
    const pseudo =
      src.family === 4
        ? pseudoHeaderSumV4(src.v4, dst.v4, IpProtocol.Tcp, bytes.length)
        : pseudoHeaderSumV6(src.v6, dst.v6, IpProtocol.Tcp, bytes.length);
    const seg = parseTcp(bytes, pseudo, !iface.checksumOffload);
    if (isDropReason(seg)) {
      countInterfaceDrop(this.drops, iface, seg);
      return;
    }
    if (dst.isMulticast || (src.family === 4 && this.routing.isBroadcastV4(dst.v4))) {
      countInterfaceDrop(this.drops, iface, StackDropReason.NotForUs);
      return;
    }
    let socket = this.lastDemux;
    // A CLOSED one may already have been replaced in the table by a new connection.
    if (
      socket === null ||
      socket.conn.state === TcpState.Closed ||
      !demuxMatches(socket, src, seg.srcPort, dst, seg.dstPort)
    ) {
      socket = this.lookup(src, seg.srcPort, dst, seg.dstPort);
      if (socket !== null) this.lastDemux = socket;
    }
    // A connection that reached CLOSED in this batch waits to be reaped: it owns nothing any more.
    if (socket !== null && socket.conn.state !== TcpState.Closed) {
      if (socket.conn.state === TcpState.TimeWait && socket.conn.acceptsNewSyn(seg)) {
        // RFC 9293 §3.6.1 / RFC 6191: a new SYN may end TIME-WAIT early.
        socket.conn.abort(now);
        this.tableDelete(tupleKey(src, seg.srcPort, dst, seg.dstPort));
        if (this.lastDemux === socket) this.lastDemux = null;
        this.deadlines.set(socket, NEVER);
        this.dirty.add(socket);
      } else {
        this.segmentsThisPoll++;
        socket.conn.handleSegment(now, seg, ecnCodepoint(packet));
        this.dirty.add(socket);
        return;
      }
    }
    const listener = this.findListener(dst, seg.dstPort);
    if (listener === null) {
      if (this.transparent !== null && this.holdSyn(iface, src, dst, seg)) return;
      countInterfaceDrop(this.drops, iface, StackDropReason.NoListener);
      this.sendReset(now, src, dst, seg);
      return;
    }
    if (
      (seg.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) === TcpFlags.ACK &&
      this.synCookies.sent > 0 &&
      this.synCookies.check(now, src.bytes(), seg.srcPort, dst.bytes(), seg.dstPort, seg)
    ) {
      if (listener.acceptQueueFull) {
        countInterfaceDrop(this.drops, iface, StackDropReason.BacklogFull);
        return;
      }
      const conn = this.synCookies.open(now, seg, this.cookieConfig(now, iface, src), this.buffers);
      this.addChild(listener, conn, src, dst, seg);
      return;
    }
    if ((seg.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) !== TcpFlags.SYN) {
      // Not a SYN for a listener: RST for an ACK (RFC 9293 LISTEN step 2), ignore the rest.
      countInterfaceDrop(this.drops, iface, StackDropReason.NoSocket);
      if ((seg.flags & TcpFlags.ACK) !== 0 && (seg.flags & TcpFlags.RST) === 0)
        this.sendReset(now, src, dst, seg);
      return;
    }
    // RFC 4987: bound half-open connections and the accept queue, so a SYN
    // flood cannot take the memory that established connections need.
    if (listener.acceptQueueFull) {
      countInterfaceDrop(this.drops, iface, StackDropReason.BacklogFull);
      return;
    }
    if (listener.synQueueFull(this.maxSynBacklog)) {
      // RFC 4987 §3.6: the SYN queue is full (a flood, or a burst): answer with
      // a SYN cookie and keep no state until the handshake completes.
      this.answerWithCookie(now, iface, src, dst, seg);
      return;
    }
    void packet;
    const config = this.connectionConfig(now, iface, src);
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
      this.host,
      this.nextSocketId++,
      conn,
      { address: dst, port: seg.dstPort },
      { address: src, port: seg.srcPort },
      listener,
    );
    listener.addHalfOpen(child);
    this.tableSet(tupleKey(src, seg.srcPort, dst, seg.dstPort), child);
    this.lastDemux = null;
    this.dirty.add(child);
  }

  /**
   * The SYN-ACK with a cookie for `seg`: no Connection, no config object, no
   * allocation once the SYN-ACK window for this MSS is known.
   */
  private answerWithCookie(
    now: Instant,
    iface: NetInterface,
    src: IpAddr,
    dst: IpAddr,
    seg: TcpRepr,
  ): void {
    this.cookiesThisPoll++;
    const mss = this.pathMss(now, iface, src, this.mssLimit);
    let window = this.synCookies.synAckWindow(mss);
    if (window < 0)
      window = this.synCookies.learnSynAck(now, this.cookieConfig(now, iface, src), this.buffers);
    const synAck = this.synAck;
    this.synCookies.answer(
      now,
      this.addressBytes(src, this.remoteV4),
      seg.srcPort,
      this.addressBytes(dst, this.localV4),
      seg.dstPort,
      seg.seq,
      seg.options.mss,
      mss,
      window,
      synAck,
    );
    this.out.sendSegment(now, dst, seg.dstPort, src, seg.srcPort, synAck);
  }

  /** The bytes of `address` for hashing: IPv4 written into `scratch`, IPv6 its own. */
  private addressBytes(address: IpAddr, scratch: Uint8Array): Uint8Array {
    if (address.family === 6) return address.v6;
    const v4 = address.v4;
    scratch[0] = v4 >>> 24;
    scratch[1] = (v4 >>> 16) & 0xff;
    scratch[2] = (v4 >>> 8) & 0xff;
    scratch[3] = v4 & 0xff;
    return scratch;
  }

  /**
   * The MSS toward `remote` through `iface` (RFC 9293 §3.7.1: MTU - IP
   * header - TCP header), with what ICMP taught of the path, at most `cap`.
   */
  private pathMss(now: Instant, iface: NetInterface, remote: IpAddr, cap: number): number {
    const ipHeader = remote.family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const learned = this.routing.learnedPathMtu(now, remote);
    const mtu = learned !== undefined && learned < iface.mtu ? learned : iface.mtu;
    return Math.min(cap, mtu - ipHeader - 20);
  }

  /** A connection made from a SYN cookie: nothing remembered window scaling, SACK or timestamps. */
  private cookieConfig(now: Instant, iface: NetInterface, remote: IpAddr): TcpConfig {
    return this.connectionConfig(now, iface, remote, {
      windowScaling: false,
      sack: false,
      timestamps: false,
    });
  }

  private sendReset(now: Instant, src: IpAddr, dst: IpAddr, seg: TcpRepr): void {
    // RFC 9293 §3.10.7.1: never answer a RST with a RST.
    if ((seg.flags & TcpFlags.RST) !== 0) return;
    this.out.sendSegment(now, dst, seg.dstPort, src, seg.srcPort, resetFor(seg));
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

  private connectionConfig(
    now: Instant,
    iface: NetInterface,
    remote: IpAddr,
    overrides?: Partial<TcpConfig>,
  ): TcpConfig {
    // tcpDefaults is a whole, checked config: one copy per connection (its
    // socket options change it), checked by the Connection it goes to.
    return {
      ...this.tcpDefaults,
      ...overrides,
      // RFC 9293 §3.7.1: MSS = MTU - IP header - TCP header; 1220 is the IPv6 default (RFC 8200 minimum MTU).
      // As Linux (tcp_advertise_mss), the MTU alone sets it unless the
      // application capped it: the profile's 1460 is Ethernet's, and on a
      // 64 KB link it would cut every segment to 1448 bytes of payload.
      mss: this.pathMss(now, iface, remote, overrides?.mss ?? this.mssLimit),
      defaultPeerMss: remote.family === 4 ? 536 : IPV6_MIN_MTU - IPV6_HEADER_LENGTH - 20,
    };
  }

  private tsOffset(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): number {
    // Linux randomises the timestamp clock per connection (secure_tcp_ts_off) so
    // that it does not leak uptime; a keyed hash of the tuple does the same.
    return this.isn.hash(local.bytes(), localPort, remote.bytes(), remotePort, 0x7473);
  }

  private freeListenPort(): number {
    for (let p = EPHEMERAL_PORT_LOW; p <= EPHEMERAL_PORT_HIGH; p++)
      if (!this.listeners.has(p)) return p;
    throw Object.assign(new Error('no free port to listen on'), { code: 'EADDRINUSE' });
  }

  // ===================================================================
  // Transparent termination (transparent.ts): a gateway's catch-all
  // ===================================================================

  /**
   * The catch-all listener: SYNs to any address and port nobody listens on
   * are held and reported as 'syn' events, to be answered with
   * {@link answerSyn}; accepted ones then arrive on this listener.
   */
  listenTransparent(options: { backlog: number; maxHeldSyns: number }): TcpListener {
    if (this.transparent !== null)
      throw new Error('a transparent listener is open already: close it before opening another');
    const listener = new TcpListener(this.host, null, 0, options.backlog, 0);
    this.transparent = { listener, held: new HeldSyns(options.maxHeldSyns) };
    return listener;
  }

  /** Holds a pure SYN for the catch-all; false for any other segment (answered as usual). */
  private holdSyn(iface: NetInterface, src: IpAddr, dst: IpAddr, seg: TcpRepr): boolean {
    if ((seg.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) !== TcpFlags.SYN) return false;
    const offer = this.transparent!.held.offer(iface, src, dst, seg);
    if (offer === 'held') {
      const request: SynRequest = {
        remoteAddress: src,
        remotePort: seg.srcPort,
        localAddress: dst,
        localPort: seg.dstPort,
      };
      this.events.push({ type: 'syn', request });
    } else if (offer === 'full') {
      // RFC 4987: no state past the bound; the guest's SYN retries come back later.
      countInterfaceDrop(this.drops, iface, StackDropReason.SynQueueFull);
    }
    return true;
  }

  /**
   * Answers a held SYN: accept (the SYN-ACK goes out from the address the
   * guest asked for; the connection reaches the transparent listener once
   * established) or refuse (a RST, RFC 9293 §3.10.7.1). With `accept`
   * 'forget', nothing is sent: the guest's own SYN retries run out. False if
   * the request was answered already or the listener is gone.
   */
  answerSyn(now: Instant, request: SynRequest, answer: 'accept' | 'refuse' | 'forget'): boolean {
    const transparent = this.transparent;
    if (transparent === null) return false;
    const held = transparent.held.take(request);
    if (held === null) return false;
    const src = held.remoteAddress;
    const dst = held.localAddress;
    const seg = held.segment;
    if (answer === 'refuse') this.sendReset(now, src, dst, seg);
    if (answer !== 'accept') return true;
    if (this.connections.has(tupleKey(src, seg.srcPort, dst, seg.dstPort))) return false;
    const config = this.connectionConfig(now, held.iface, src);
    const iss = this.isn.next(now, dst.bytes(), seg.dstPort, src.bytes(), seg.srcPort);
    const conn = Connection.listen({
      iss,
      config,
      timestampOffset: this.tsOffset(dst, seg.dstPort, src, seg.srcPort),
      buffers: this.buffers,
    });
    conn.handleSegment(now, seg);
    this.addChild(transparent.listener, conn, src, dst, seg);
    return true;
  }

  tcpError(
    now: Instant,
    remote: IpAddr,
    remotePort: number,
    local: IpAddr,
    localPort: number,
    kind: IcmpErrorKind,
    sequence: number,
    mss: number,
  ): boolean {
    const socket = this.lookup(remote, remotePort, local, localPort);
    if (socket === null) return false;
    const taken = socket.conn.handleIcmpError(now, kind, seq(sequence), mss);
    this.dirty.add(socket);
    return taken;
  }
}
