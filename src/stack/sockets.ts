import type { Duration, Instant } from '../base/index.js';
import type { Connection, TcpState, TcpStats } from '../tcp/index.js';
import type { IpAddr } from './address.js';

/**
 * What the stack needs from a socket handle's owner: a way to say "this
 * connection has work" after an API call. Implemented by `Stack`.
 */
export interface SocketHost {
  /** Marks a connection for output and timer re-evaluation. */
  touch(socket: TcpSocket): void;
  /** Removes a listener. */
  closeListener(listener: TcpListener): void;
  /** Removes a UDP socket. */
  closeUdp(socket: UdpSocket): void;
  /** Sends a datagram from a UDP socket now. */
  sendUdp(
    now: Instant,
    socket: UdpSocket,
    data: Uint8Array,
    address: IpAddr,
    port: number,
  ): boolean;
}

/**
 * A handle on one TCP connection of a stack: the 4-tuple plus the
 * connection's commands. Every command tells the stack to poll the
 * connection, so segments go out on the stack's next `pollTransmit`.
 */
export class TcpSocket {
  readonly id: number;
  readonly conn: Connection;
  readonly localAddress: IpAddr;
  readonly localPort: number;
  readonly remoteAddress: IpAddr;
  readonly remotePort: number;
  /** The listener this connection arrived on, or null for an active open. */
  readonly listener: TcpListener | null;
  /** Set once the application has taken it from the listener (or it was opened actively). */
  accepted: boolean;
  /**
   * Counted in its listener's SYN queue (half-open, RFC 4987 §3.1): set when
   * a listener makes it, cleared once when it is established or closes first.
   */
  inSynQueue = false;
  /** Free for the owner (the net/ layer keeps its Socket here). */
  owner: unknown = null;
  private readonly host: SocketHost;

  constructor(
    host: SocketHost,
    id: number,
    conn: Connection,
    local: { address: IpAddr; port: number },
    remote: { address: IpAddr; port: number },
    listener: TcpListener | null,
  ) {
    this.host = host;
    this.id = id;
    this.conn = conn;
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.listener = listener;
    this.accepted = listener === null;
  }

  get state(): TcpState {
    return this.conn.state;
  }

  /** Queues bytes; returns how many the send buffer took. */
  write(bytes: Uint8Array): number {
    const n = this.conn.write(bytes);
    this.host.touch(this);
    return n;
  }

  /** Reads received bytes into `dst`; returns the count. */
  read(dst: Uint8Array): number {
    const n = this.conn.read(dst);
    if (n > 0) this.host.touch(this);
    return n;
  }

  get readableBytes(): number {
    return this.conn.readableBytes;
  }

  get writableBytes(): number {
    return this.conn.writableBytes;
  }

  /** Half-close: FIN after queued data. */
  shutdown(now: Instant): void {
    this.conn.shutdown(now);
    this.host.touch(this);
  }

  /** Full close (RST if unread data remains, as Linux). */
  close(now: Instant): void {
    this.conn.close(now);
    this.host.touch(this);
  }

  /** Abort with RST. */
  abort(now: Instant): void {
    this.conn.abort(now);
    this.host.touch(this);
  }

  setNoDelay(noDelay: boolean): void {
    this.conn.setNoDelay(noDelay);
    this.host.touch(this);
  }

  setKeepAlive(now: Instant, enable: boolean, idle?: Duration): void {
    this.conn.setKeepAlive(now, enable, idle);
    this.host.touch(this);
  }

  stats(): TcpStats {
    return this.conn.stats();
  }
}

/** A listening TCP port. Established connections wait in `accept()` order. */
export class TcpListener {
  readonly address: IpAddr | null;
  readonly port: number;
  readonly family: 4 | 6 | 0;
  backlog: number;
  /** Connections established and not yet accepted. */
  readonly acceptQueue: TcpSocket[] = [];
  /** Half-open connections (SYN-RECEIVED) belonging to this listener. */
  synQueueLength = 0;
  closed = false;
  owner: unknown = null;
  private readonly host: SocketHost;

  constructor(
    host: SocketHost,
    address: IpAddr | null,
    port: number,
    backlog: number,
    family: 4 | 6 | 0,
  ) {
    this.host = host;
    this.address = address;
    this.port = port;
    this.backlog = backlog;
    this.family = family;
  }

  /** The next established connection, or null. */
  accept(): TcpSocket | null {
    const socket = this.acceptQueue.shift() ?? null;
    if (socket !== null) socket.accepted = true;
    return socket;
  }

  /** Stops listening; connections not yet accepted are reset. */
  close(): void {
    this.host.closeListener(this);
  }
}

/** A received UDP datagram. */
export interface UdpDatagram {
  data: Uint8Array;
  address: IpAddr;
  port: number;
}

/** A bound UDP socket. */
export class UdpSocket {
  readonly address: IpAddr | null;
  readonly port: number;
  readonly queue: UdpDatagram[] = [];
  queuedBytes = 0;
  readonly maxQueuedBytes: number;
  closed = false;
  owner: unknown = null;
  private readonly host: SocketHost;

  constructor(host: SocketHost, address: IpAddr | null, port: number, maxQueuedBytes: number) {
    this.host = host;
    this.address = address;
    this.port = port;
    this.maxQueuedBytes = maxQueuedBytes;
  }

  /** Sends one datagram; false when it could not be routed. */
  sendTo(now: Instant, data: Uint8Array, address: IpAddr, port: number): boolean {
    if (this.closed) throw new Error('UdpSocket.sendTo: the socket is closed; bind a new one');
    return this.host.sendUdp(now, this, data, address, port);
  }

  /** The next received datagram, or null. */
  receive(): UdpDatagram | null {
    const d = this.queue.shift() ?? null;
    if (d !== null) this.queuedBytes -= d.data.length;
    return d;
  }

  close(): void {
    this.host.closeUdp(this);
  }
}
