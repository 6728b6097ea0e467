/**
 * UDP sockets (RFC 768): a bound port with a bounded queue of received
 * datagrams, and the table of bound ports that input is matched against.
 * UDP has no connection state, so a socket is just its binding and its
 * queue; RFC 1122 §4.1.3.4 leaves the local address choice to the host, and
 * like Linux a socket bound to one address takes precedence over a wildcard.
 *
 * The address type is the host's (the stack's IpAddr): this folder sits below
 * stack/ and names only what it needs of an address.
 */
import type { Instant } from '../base/index.js';

/** What a UDP socket needs of an address: identity and its text for errors. */
export interface UdpAddress<A> {
  equals(other: A): boolean;
  readonly text: string;
}

/** What a UDP socket needs from the host that owns it (implemented by the stack). */
export interface UdpHost<A> {
  /** Removes a socket from the host's table of bound ports. */
  closeUdp(socket: UdpSocket<A>): void;
  /** Sends a datagram from the socket now; false when it could not be routed. */
  sendUdp(now: Instant, socket: UdpSocket<A>, data: Uint8Array, address: A, port: number): boolean;
}

/** A received UDP datagram. */
export interface UdpDatagram<A> {
  data: Uint8Array;
  address: A;
  port: number;
}

/** A bound UDP socket. */
export class UdpSocket<A> {
  readonly address: A | null;
  readonly port: number;
  readonly queue: Array<UdpDatagram<A>> = [];
  queuedBytes = 0;
  readonly maxQueuedBytes: number;
  closed = false;
  owner: unknown = null;
  private readonly host: UdpHost<A>;

  constructor(host: UdpHost<A>, address: A | null, port: number, maxQueuedBytes: number) {
    this.host = host;
    this.address = address;
    this.port = port;
    this.maxQueuedBytes = maxQueuedBytes;
  }

  /** Sends one datagram; false when it could not be routed. */
  sendTo(now: Instant, data: Uint8Array, address: A, port: number): boolean {
    if (this.closed) throw new Error('UdpSocket.sendTo: the socket is closed; bind a new one');
    return this.host.sendUdp(now, this, data, address, port);
  }

  /** The next received datagram, or null. */
  receive(): UdpDatagram<A> | null {
    const d = this.queue.shift() ?? null;
    if (d !== null) this.queuedBytes -= d.data.length;
    return d;
  }

  close(): void {
    this.host.closeUdp(this);
  }

  /**
   * Queues a datagram that arrived for this socket, copying its bytes out of
   * the borrowed packet; false (nothing queued) when the receive buffer is
   * full, where Linux drops too (SO_RCVBUF).
   */
  deliver(payload: Uint8Array, address: A, port: number): boolean {
    if (this.queuedBytes + payload.length > this.maxQueuedBytes) return false;
    this.queue.push({ data: payload.slice(), address, port });
    this.queuedBytes += payload.length;
    return true;
  }
}

/** The bound UDP ports of a host. */
export class UdpBindings<A extends UdpAddress<A>> {
  private readonly byPort = new Map<number, Array<UdpSocket<A>>>();

  /** Sockets bound, over all ports. */
  get size(): number {
    let n = 0;
    for (const list of this.byPort.values()) n += list.length;
    return n;
  }

  /**
   * Binds a new socket. Port 0 takes the first free port of `ephemeral`.
   * Throws EADDRINUSE when another socket holds the same port for an
   * overlapping address (a wildcard overlaps every address).
   */
  bind(
    host: UdpHost<A>,
    address: A | null,
    port: number,
    ephemeral: { low: number; high: number },
    maxQueuedBytes: number,
  ): UdpSocket<A> {
    if (port === 0) {
      for (let p = ephemeral.low; p <= ephemeral.high; p++) {
        if (!this.byPort.has(p)) {
          port = p;
          break;
        }
      }
    }
    const existing = this.byPort.get(port) ?? [];
    for (const s of existing) {
      if (s.address === null || address === null || s.address.equals(address)) {
        const text = address?.text ?? '::';
        throw Object.assign(new Error(`address ${text} port ${port} is already in use`), {
          code: 'EADDRINUSE',
          address: text,
          port,
        });
      }
    }
    const socket = new UdpSocket(host, address, port, maxQueuedBytes);
    existing.push(socket);
    this.byPort.set(port, existing);
    return socket;
  }

  /** Removes a socket (once; later calls do nothing). */
  remove(socket: UdpSocket<A>): void {
    if (socket.closed) return;
    socket.closed = true;
    const list = this.byPort.get(socket.port);
    if (list === undefined) return;
    const rest = list.filter((s) => s !== socket);
    if (rest.length > 0) this.byPort.set(socket.port, rest);
    else this.byPort.delete(socket.port);
  }

  /** The socket a datagram to `dst`:`port` goes to: one bound to `dst`, else a wildcard, else null. */
  lookup(dst: A, port: number): UdpSocket<A> | null {
    const list = this.byPort.get(port);
    let socket: UdpSocket<A> | null = null;
    if (list !== undefined) {
      for (const s of list) {
        if (s.address !== null && s.address.equals(dst)) socket = s;
        else if (s.address === null && socket === null) socket = s;
      }
    }
    return socket;
  }
}
