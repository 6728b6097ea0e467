import type { Duration, Instant } from '../base/index.js';
import { ListenQueues, type Connection, type TcpState, type TcpStats } from '../tcp/index.js';
import type { UdpDatagram as UdpDatagramOf, UdpSocket as UdpSocketOf } from '../udp/index.js';
import type { IpAddr } from './address.js';

/**
 * What a TCP socket or listener handle needs from the stack that owns it: a
 * way to say "this connection has work" after an API call, and to stop
 * listening. (UDP sockets declare their own host, udp/'s UdpHost.)
 */
export interface TcpSocketHost {
  /** Marks a connection for output and timer re-evaluation. */
  touch(socket: TcpSocket): void;
  /** Removes a listener. */
  closeListener(listener: TcpListener): void;
}

/** A bound UDP socket of a stack (udp/'s socket, with the stack's addresses). */
export type UdpSocket = UdpSocketOf<IpAddr>;
/** A datagram received on a stack's UDP socket. */
export type UdpDatagram = UdpDatagramOf<IpAddr>;

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
  /** Counted in its listener's SYN queue (see tcp/'s ListenQueues, which keeps it). */
  inSynQueue = false;
  /** Free for the owner (the net/ layer keeps its Socket here). */
  owner: unknown = null;
  private readonly host: TcpSocketHost;

  constructor(
    host: TcpSocketHost,
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

/**
 * A listening TCP port. Established connections wait in `accept()` order
 * (the queues, and `backlog`, `acceptQueue`, `synQueueLength` and `closed`,
 * are tcp/'s ListenQueues).
 */
export class TcpListener extends ListenQueues<TcpSocket> {
  readonly address: IpAddr | null;
  readonly port: number;
  readonly family: 4 | 6 | 0;
  owner: unknown = null;
  private readonly host: TcpSocketHost;

  constructor(
    host: TcpSocketHost,
    address: IpAddr | null,
    port: number,
    backlog: number,
    family: 4 | 6 | 0,
  ) {
    super(backlog);
    this.host = host;
    this.address = address;
    this.port = port;
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
