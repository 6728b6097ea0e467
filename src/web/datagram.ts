/**
 * A UDP socket as web streams of datagrams: `readable` gives each datagram
 * that arrives with its sender, `writable` sends each datagram written to
 * it. UDP has no flow control: while the reader does not read, datagrams
 * wait in the stack's receive buffer and, once that is full, later ones are
 * dropped (counted by the stack), as with a kernel UDP socket.
 */
import type { Instant } from '../base/index.js';
import type { Driver } from '../runtime/index.js';
import { IpAddr, type StackEvent, type UdpSocket } from '../stack/index.js';
import { socketError } from './errors.js';
import type { SocketAddress } from './socket.js';

/** One UDP datagram and the address it came from or goes to. */
export interface Datagram extends SocketAddress {
  data: Uint8Array;
}

/** Options of a {@link DatagramSocket}'s readable. */
export interface DatagramSocketOptions {
  /** Datagrams the readable's queue holds before they are left in the stack's buffer. Default 64. */
  readableHighWaterMark?: number;
}

/** A bound UDP port as streams of {@link Datagram}s. */
export class DatagramSocket {
  readonly readable: ReadableStream<Datagram>;
  readonly writable: WritableStream<Datagram>;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  /** The address and port bound (port chosen by the stack when 0 was asked for). */
  readonly addr: SocketAddress;
  private readonly driver: Driver;
  private readonly udp: UdpSocket;
  private readController: ReadableStreamDefaultController<Datagram> | null = null;
  private readonly unsubscribe: () => void;
  private resolveClosed: () => void = () => {};
  private closedFlag = false;

  /** @internal use `bindUdp()`. */
  constructor(driver: Driver, udp: UdpSocket, options: DatagramSocketOptions = {}) {
    this.driver = driver;
    this.udp = udp;
    this.addr = { hostname: udp.address?.text ?? '::', port: udp.port };
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.readable = new ReadableStream<Datagram>(
      {
        start: (controller) => {
          this.readController = controller;
        },
        pull: () => this.pump(),
        cancel: () => this.close(),
      },
      { highWaterMark: options.readableHighWaterMark ?? 64 },
    );
    this.writable = new WritableStream<Datagram>({
      write: (datagram) => this.send(datagram),
      close: () => this.close(),
      abort: () => this.close(),
    });
    udp.owner = this;
    // The stack announces datagrams as stack events; dispatch has no UDP owners.
    this.unsubscribe = driver.onEvent((event: StackEvent, _now: Instant) => {
      if (event.type === 'udp' && event.socket === udp) this.pump();
    });
    driver.ref();
  }

  /** Unbinds the port; the readable ends after what it holds. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.unsubscribe();
    this.udp.close();
    try {
      this.readController!.close();
    } catch {
      // Already closed or cancelled by its reader: nothing more to end.
    }
    this.driver.unref();
    this.resolveClosed();
  }

  private pump(): void {
    if (this.closedFlag) return;
    const controller = this.readController!;
    while ((controller.desiredSize ?? 0) > 0) {
      const d = this.udp.receive();
      if (d === null) return;
      controller.enqueue({ data: d.data, hostname: d.address.text, port: d.port });
    }
  }

  private send(datagram: Datagram): void {
    if (this.closedFlag) throw socketError('EPIPE', 'write', undefined, undefined, 'closed');
    const address = IpAddr.parse(datagram.hostname);
    if (address === null) {
      throw socketError(
        'ENOTFOUND',
        'getaddrinfo',
        datagram.hostname,
        undefined,
        'tcpts resolves no names: give an IP address',
      );
    }
    const data = datagram.data;
    if (!(data instanceof Uint8Array)) {
      throw new TypeError('DatagramSocket: a datagram is { data: Uint8Array, hostname, port }');
    }
    if (!this.udp.sendTo(this.driver.now(), data, address, datagram.port)) {
      throw socketError('ENETUNREACH', 'write', address.text, datagram.port);
    }
    this.driver.kick();
  }
}
