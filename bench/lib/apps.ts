/**
 * The applications the bench runs on tcpts sockets, on the stack's own API
 * (a `TcpSocket` owned by an object the driver hands events to): a bulk
 * sender, a sink, an echo server, a client and server for open/close
 * cycles, and a 1-byte request/response client. They do the least an
 * application can do, so the figures are the stack's and the driver's.
 */
import type { Instant } from '../../src/base/index.js';
import type { Driver, TcpSocketOwner } from '../../src/runtime/index.js';
import { TcpState, type TcpEvent } from '../../src/tcp/index.js';
import type { TcpListener, TcpSocket } from '../../src/stack/index.js';

/** Milliseconds on the process's monotonic clock. */
export function ms(): number {
  return performance.now();
}

const PEER_CLOSED_STATES: ReadonlySet<string> = new Set([
  TcpState.CloseWait,
  TcpState.LastAck,
  TcpState.Closing,
  TcpState.TimeWait,
  TcpState.Closed,
]);

const WRITABLE_STATES: ReadonlySet<string> = new Set([
  TcpState.SynSent,
  TcpState.SynReceived,
  TcpState.Established,
  TcpState.CloseWait,
]);

/**
 * Gives an accepted socket to its application. Events that came before the
 * socket was accepted (data with the handshake's last ACK, even the FIN)
 * went to the listener and are gone, so they are replayed from its state.
 */
export function adopt(socket: TcpSocket, owner: TcpSocketOwner, now: Instant): void {
  socket.owner = owner;
  if (socket.readableBytes > 0) owner.onTcpEvent({ type: 'readable' }, now);
  if (PEER_CLOSED_STATES.has(socket.state)) owner.onTcpEvent({ type: 'peer-closed' }, now);
}

/** Runs `onSocket` for every connection `listener` accepts. */
export function acceptAll(
  listener: TcpListener,
  onSocket: (socket: TcpSocket, now: Instant) => void,
): void {
  listener.owner = {
    onAccept(now: Instant): void {
      for (let s = listener.accept(); s !== null; s = listener.accept()) onSocket(s, now);
    },
  };
}

/** A payload source that writes `total` bytes (Infinity: until stopped), then half-closes. */
export class BulkSender implements TcpSocketOwner {
  readonly socket: TcpSocket;
  /** Bytes the socket has taken. */
  sent = 0;
  /** When the connection was established (ms), or -1. */
  connectedAt = -1;
  /** Set when the connection ended; the error if it did not end in order. */
  ended: Promise<string | null>;
  private readonly total: number;
  private readonly chunk: Uint8Array;
  private stopped = false;
  private resolveEnded: (error: string | null) => void = () => {};

  constructor(socket: TcpSocket, total: number, chunkBytes = 256 * 1024) {
    this.socket = socket;
    this.total = total;
    this.chunk = new Uint8Array(chunkBytes).fill(0x5a);
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    socket.owner = this;
  }

  onTcpEvent(event: TcpEvent, now: Instant): void {
    switch (event.type) {
      case 'connected':
        this.connectedAt = ms();
        this.pump(now);
        break;
      case 'writable':
        this.pump(now);
        break;
      case 'closed':
        this.resolveEnded(event.error);
        break;
      default:
        break;
    }
  }

  /** Stops writing and half-closes after what the socket already took. */
  stop(now: Instant): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.socket.state === TcpState.Established || this.socket.state === TcpState.CloseWait)
      this.socket.shutdown(now);
  }

  private pump(now: Instant): void {
    // A reset (the receiver went away) may come in the same round as the
    // window that made room: a write to a closed connection throws.
    if (this.stopped || !WRITABLE_STATES.has(this.socket.state)) return;
    const chunk = this.chunk;
    while (this.sent < this.total) {
      const want = Math.min(chunk.length, this.total - this.sent);
      const n = this.socket.write(want === chunk.length ? chunk : chunk.subarray(0, want));
      this.sent += n;
      if (n < want) return;
    }
    this.stop(now);
  }
}

/**
 * Reads and counts everything; records when the first and the last byte
 * came and, with a window, how many bytes arrived within `windowMs` of the
 * connection's start. Closes its side once the peer has.
 */
export class Sink implements TcpSocketOwner {
  readonly socket: TcpSocket;
  bytes = 0;
  /** When this side saw the connection (ms). */
  readonly startedAt: number;
  /** When the peer's FIN came (ms), or -1. */
  endedAt = -1;
  /** Bytes within the window, -1 until the window has passed. */
  windowBytes = -1;
  /** Resolves when the peer has closed (all its data read). */
  readonly done: Promise<void>;
  private readonly windowMs: number;
  private readonly buffer = new Uint8Array(256 * 1024);
  private resolveDone: () => void = () => {};

  constructor(socket: TcpSocket, startedAt = ms(), windowMs = 0) {
    this.socket = socket;
    this.startedAt = startedAt;
    this.windowMs = windowMs;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  onTcpEvent(event: TcpEvent, now: Instant): void {
    switch (event.type) {
      case 'readable':
        this.drain();
        break;
      case 'peer-closed':
        this.drain();
        if (this.endedAt < 0) {
          this.endedAt = ms();
          this.socket.close(now);
          this.resolveDone();
        }
        break;
      case 'closed':
        if (this.endedAt < 0) {
          this.endedAt = ms();
          this.resolveDone();
        }
        break;
      default:
        break;
    }
  }

  private drain(): void {
    const socket = this.socket;
    if (this.windowMs > 0 && this.windowBytes < 0 && ms() - this.startedAt >= this.windowMs) {
      // What is read now may have come after the window closed: not counted.
      this.windowBytes = this.bytes;
    }
    for (let n = socket.read(this.buffer); n > 0; n = socket.read(this.buffer)) this.bytes += n;
  }
}

/** Echoes what it reads (request/response servers); closes once the peer has. */
export class Echo implements TcpSocketOwner {
  private readonly socket: TcpSocket;
  private readonly buffer = new Uint8Array(64 * 1024);

  constructor(socket: TcpSocket) {
    this.socket = socket;
    socket.setNoDelay(true);
  }

  onTcpEvent(event: TcpEvent, now: Instant): void {
    if (event.type === 'readable' || event.type === 'writable') this.pump();
    else if (event.type === 'peer-closed') {
      this.pump();
      this.socket.close(now);
    }
  }

  private pump(): void {
    // Round trips move a byte at a time, far below the send buffer: a short
    // write would mean the peer stopped reading, and then the rest waits.
    for (let n = this.socket.read(this.buffer); n > 0; n = this.socket.read(this.buffer)) {
      this.socket.write(this.buffer.subarray(0, n));
    }
  }
}

/** One byte out, wait for one byte back, again: counts round trips until stopped. */
export class RoundTripClient implements TcpSocketOwner {
  readonly socket: TcpSocket;
  roundTrips = 0;
  startedAt = -1;
  /** Resolves when connected. */
  readonly connected: Promise<void>;
  private running = true;
  private readonly one = Uint8Array.of(0x78);
  private readonly buffer = new Uint8Array(64);
  private resolveConnected: () => void = () => {};

  constructor(socket: TcpSocket) {
    this.socket = socket;
    this.connected = new Promise((resolve) => (this.resolveConnected = resolve));
    socket.owner = this;
    socket.setNoDelay(true);
  }

  onTcpEvent(event: TcpEvent): void {
    if (event.type === 'connected') {
      this.startedAt = ms();
      this.resolveConnected();
      this.socket.write(this.one);
    } else if (event.type === 'readable') {
      const n = this.socket.read(this.buffer);
      if (n > 0) {
        this.roundTrips += n;
        if (this.running) this.socket.write(this.one);
      }
    }
  }

  /** No more requests after the one in flight. */
  stop(): void {
    this.running = false;
  }
}

/**
 * Open/close cycles from the client side: connect, wait for the server's
 * FIN (the server closes as soon as it accepts), close, and once the
 * connection is CLOSED start the next. `parallel` cycles run at a time.
 */
export class CycleClient {
  cycles = 0;
  errors = 0;
  private running = true;
  private readonly driver: Driver;
  private readonly host: string;
  private readonly port: number;

  constructor(driver: Driver, host: string, port: number) {
    this.driver = driver;
    this.host = host;
    this.port = port;
  }

  /** Starts `parallel` cycles. */
  start(parallel: number): void {
    for (let i = 0; i < parallel; i++) this.open();
    this.driver.kick();
  }

  /** Lets the cycles in progress finish without starting new ones. */
  stop(): void {
    this.running = false;
  }

  private open(): void {
    const socket = this.driver.stack.connect(this.driver.now(), {
      host: this.host,
      port: this.port,
    });
    socket.owner = {
      onTcpEvent: (event: TcpEvent, now: Instant): void => {
        if (event.type === 'peer-closed') socket.close(now);
        else if (event.type === 'closed') {
          if (event.error === null) this.cycles++;
          else this.errors++;
          if (this.running) this.open();
        }
      },
    };
  }
}

/** The server side of open/close cycles: accept, close at once. */
export function closingServer(listener: TcpListener): void {
  acceptAll(listener, (socket, now) => socket.close(now));
}
