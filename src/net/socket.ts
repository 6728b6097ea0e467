/**
 * A `node:net`-compatible socket over a tcpts connection: a `stream.Duplex`
 * whose reads come from the connection's receive buffer and whose writes go
 * into its send buffer, with Node's events, options and error shapes.
 *
 * Flow control is end to end. The socket reads from the connection only
 * while the stream wants data (`_read` was called and `push` has not yet
 * returned false), so a paused or absent consumer leaves bytes in the
 * connection's receive buffer, the advertised window closes and the peer
 * stops sending. Writes go into the connection's send buffer as far as it
 * has room; the rest waits with its callback until a `writable` event, so
 * the stream's own buffer fills, `write()` returns false, and `drain`
 * follows once the peer has acknowledged enough.
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import { later, millis, seconds, type Instant } from '../base/index.js';
import type { Driver, DriverTimer, TcpSocketOwner } from '../runtime/index.js';
import { IpAddr, type TcpSocket } from '../stack/index.js';
import { TcpState, type TcpError, type TcpEvent } from '../tcp/index.js';
import { endedByPeerError, fromStackError, netError, tcpError } from './errors.js';
import type { Server } from './server.js';
import { socketToWeb, type WebStreamPair } from './web.js';

/** Node's `dns.lookup`-style resolver, for host names in `connect`. */
export type LookupFunction = (
  hostname: string,
  options: { family?: number },
  callback: (err: Error | null, address: string, family: number) => void,
) => void;

/** Options of `new Socket()` (as Node's `net.Socket` options). */
export interface SocketOptions {
  /**
   * Keep the writable side open after the peer's FIN (default false, as
   * Node: when the peer ends, this socket ends too).
   */
  allowHalfOpen?: boolean;
  /** Both high-water marks of the stream, in bytes. */
  highWaterMark?: number;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  /** Destroys the socket when aborted. */
  signal?: AbortSignal;
  /** Disable Nagle's algorithm once connected. */
  noDelay?: boolean;
  /** Enable keepalive once connected. */
  keepAlive?: boolean;
  /** Idle time before the first keepalive probe, in milliseconds. */
  keepAliveInitialDelay?: number;
}

/** Options of `socket.connect()` / `connect()` (as Node's TCP connect options). */
export interface SocketConnectOptions {
  port: number | string;
  /** An IP address, or a name for `lookup`; default 'localhost'. */
  host?: string;
  localAddress?: string;
  localPort?: number;
  /** 4 or 6: which family `lookup` should return. */
  family?: number;
  /** Resolves `host` when it is not an IP address. Without it only 'localhost' resolves. */
  lookup?: LookupFunction;
  /** Idle timeout in milliseconds (as `setTimeout`). */
  timeout?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /**
   * This connection's congestion control ('cubic', 'newreno' or 'bbr'), as
   * Linux's TCP_CONGESTION socket option; default: the stack's
   * `tcp.congestionControl`. A tcpts extension; an unknown name fails the
   * connect with a RangeError that lists the known ones.
   */
  congestionControl?: string;
  /** Unix-domain sockets do not exist here; a string path throws. */
  path?: unknown;
}

/** What `address()` returns. */
export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

type WriteCallback = (error?: Error | null) => void;

const NO_CHUNKS: Buffer[] = [];
/** Largest chunk pushed into the stream at once (Node reads 64 KiB per `onread` too). */
const READ_CHUNK = 65536;
/**
 * How long a destroyed socket's connection may hold the process alive to get
 * its last data and FIN acknowledged. The kernel finishes such orphaned
 * connections after the process exits; a userspace stack can only do it
 * while the process runs, so it waits a little, not for the full
 * retransmission budget (minutes) of a peer that vanished.
 */
const LINGER_LIMIT = seconds(30);

/** States in which the connection accepts more data from the application. */
function canSend(state: TcpState): boolean {
  return (
    state === TcpState.SynSent ||
    state === TcpState.SynReceived ||
    state === TcpState.Established ||
    state === TcpState.CloseWait
  );
}

/** States of an orphaned connection that still has data or a FIN to get acknowledged. */
function stillSending(state: TcpState): boolean {
  return (
    state === TcpState.FinWait1 ||
    state === TcpState.Closing ||
    state === TcpState.LastAck ||
    state === TcpState.SynReceived
  );
}

export function familyName(family: 4 | 6): 'IPv4' | 'IPv6' {
  return family === 4 ? 'IPv4' : 'IPv6';
}

/** Node's ERR_SOCKET_CLOSED. */
function socketClosedError(): Error {
  return Object.assign(new Error('Socket is closed'), { code: 'ERR_SOCKET_CLOSED' });
}

/** An argument error with Node's code (ERR_INVALID_ARG_TYPE, ERR_MISSING_ARGS...). */
function argumentError(code: string, message: string): TypeError {
  return Object.assign(new TypeError(message), { code });
}

/** How Node describes a received value in ERR_INVALID_ARG_TYPE ("type string ('x')"). */
function describeReceived(value: unknown): string {
  if (value === null || value === undefined) return `Received ${String(value)}`;
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name !== undefined && name !== ''
      ? `Received an instance of ${name}`
      : 'Received [object]';
  }
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  return `Received type ${typeof value} (${shown})`;
}

/**
 * The port of `connect()`, checked as Node's lookupAndConnect does: missing
 * is ERR_MISSING_ARGS, neither number nor string is ERR_INVALID_ARG_TYPE,
 * out of range is ERR_SOCKET_BAD_PORT.
 */
function validateConnectPort(port: unknown): number {
  if (port === undefined || port === null) {
    throw argumentError(
      'ERR_MISSING_ARGS',
      'The "options" or "port" or "path" argument must be specified',
    );
  }
  if (typeof port !== 'number' && typeof port !== 'string') {
    throw argumentError(
      'ERR_INVALID_ARG_TYPE',
      `The "options.port" property must be one of type number or string. ${describeReceived(port)}`,
    );
  }
  return validatePort(port);
}

/** Node's ERR_SOCKET_BAD_PORT check: an integer 0..65535, as a number or numeric string. */
export function validatePort(port: unknown, name = 'Port'): number {
  const n =
    typeof port === 'number'
      ? port
      : typeof port === 'string' && port.trim() !== ''
        ? Number(port)
        : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw Object.assign(
      new RangeError(`${name} should be >= 0 and < 65536. Received ${String(port)}.`),
      { code: 'ERR_SOCKET_BAD_PORT' },
    );
  }
  return n;
}

/**
 * Keeps an orphaned connection (its socket destroyed while data or a FIN is
 * still unacknowledged) holding the process alive until that is done, at
 * most {@link LINGER_LIMIT}.
 */
class Lingering implements TcpSocketOwner {
  private readonly driver: Driver;
  private readonly timer: DriverTimer;
  private held = true;

  constructor(driver: Driver, tcp: TcpSocket) {
    this.driver = driver;
    driver.ref();
    tcp.owner = this;
    this.timer = driver.setTimer(later(driver.now(), LINGER_LIMIT), () => this.release());
  }

  onTcpEvent(event: TcpEvent): void {
    if (event.type === 'closed') this.release();
    else if (event.type === 'state' && !stillSending(event.transition.to)) this.release();
  }

  private release(): void {
    if (!this.held) return;
    this.held = false;
    this.timer.cancel();
    this.driver.unref();
  }
}

function emitClose(socket: Socket, hadError: boolean): void {
  socket.emit('close', hadError);
}

/**
 * A TCP socket with the API of Node's `net.Socket`. Create it through a
 * {@link createNet} module (`net.connect()`, `new net.Socket()`), or get it
 * from a server's 'connection' event.
 *
 * Events: 'connect', 'ready', 'data', 'end', 'finish', 'close' (with
 * `hadError`), 'error', 'timeout', 'drain', 'lookup'.
 */
export class Socket extends Duplex implements TcpSocketOwner {
  /** The driver that runs this socket's stack. */
  readonly driver: Driver;
  /** The server that accepted this socket, or null for an outgoing one. */
  server: Server | null = null;
  /** True from `connect()` until the connection is established (or fails). */
  connecting = false;
  private tcp: TcpSocket | null = null;
  private refed = true;
  private holdingRef = false;
  /** The stream wants data: `_read` ran and `push` has not returned false since. */
  private reading = false;
  private pulling = false;
  private peerEnded = false;
  private eofPushed = false;
  private endedByPeer = false;
  private resetAndClosing = false;
  private pendingChunks: Buffer[] = NO_CHUNKS;
  private pendingIndex = 0;
  private pendingTaken = 0;
  private pendingCb: WriteCallback | null = null;
  private bytesTaken = 0;
  private bytesReadCount = 0;
  private timeoutMs = 0;
  private lastActive = 0 as Instant;
  private idleTimer: DriverTimer | null = null;
  private wantNoDelay: boolean | null = null;
  private wantKeepAlive: { enable: boolean; delay: number } | null = null;
  private connectPort = 0;
  private connectAddress = '';
  private web: WebStreamPair | null = null;

  constructor(driver: Driver, options: SocketOptions = {}) {
    const duplexOptions: DuplexOptions = {
      // As Node: Duplex's own half-open handling ends the writable side
      // after 'end' unless allowHalfOpen; 'close' is emitted by _destroy
      // (with Node's hadError argument), not by the stream machinery.
      allowHalfOpen: options.allowHalfOpen === true,
      emitClose: false,
      autoDestroy: true,
      decodeStrings: true,
    };
    if (options.highWaterMark !== undefined) duplexOptions.highWaterMark = options.highWaterMark;
    if (options.readableHighWaterMark !== undefined)
      duplexOptions.readableHighWaterMark = options.readableHighWaterMark;
    if (options.writableHighWaterMark !== undefined)
      duplexOptions.writableHighWaterMark = options.writableHighWaterMark;
    super(duplexOptions);
    this.driver = driver;
    if (options.noDelay === true) this.wantNoDelay = true;
    if (options.keepAlive === true)
      this.wantKeepAlive = { enable: true, delay: options.keepAliveInitialDelay ?? 0 };
    this.on('end', this.onReadableEnd);
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) process.nextTick(() => this.destroy(abortError(signal)));
      else signal.addEventListener('abort', () => this.destroy(abortError(signal)), { once: true });
    }
  }

  // ===================================================================
  // Connecting
  // ===================================================================

  /**
   * Opens the connection: `connect(port[, host][, listener])` or
   * `connect(options[, listener])`. 'connect' follows, or 'error' with
   * ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH...
   */
  connect(options: SocketConnectOptions, listener?: () => void): this;
  connect(port: number | string, host?: string, listener?: () => void): this;
  connect(port: number | string, listener?: () => void): this;
  connect(
    first: SocketConnectOptions | number | string,
    second?: string | (() => void),
    third?: () => void,
  ): this {
    let options: SocketConnectOptions;
    let listener: (() => void) | undefined;
    if (typeof first === 'object' && first !== null) {
      options = first;
      listener = typeof second === 'function' ? second : undefined;
    } else {
      options = { port: first };
      if (typeof second === 'string') {
        options.host = second;
        listener = third;
      } else {
        listener = second;
      }
    }
    if (typeof options.path === 'string') {
      throw new TypeError('tcpts sockets are TCP only: connect with { port, host }, not a path');
    }
    const port = validateConnectPort(options.port);
    if (this.destroyed) throw socketClosedError();
    if (this.connecting) {
      // Node reports EALREADY here as an 'error'; tcpts says so at once.
      throw Object.assign(new Error('Socket is already connecting: wait for its connect event'), {
        code: 'ERR_SOCKET_CONNECTING',
      });
    }
    if (this.tcp !== null) {
      // As Node on Linux: connect() on a connected TCP socket opens nothing
      // new; it completes at once on the connection there is, so 'connect'
      // and 'ready' come again (and the listener with them).
      if (listener !== undefined) this.once('connect', listener);
      this.connecting = true;
      process.nextTick(() => this.onConnected());
      return this;
    }
    if (listener !== undefined) this.once('connect', listener);
    if (options.timeout !== undefined && options.timeout > 0) this.setTimeout(options.timeout);
    if (options.noDelay === true) this.wantNoDelay = true;
    if (options.keepAlive === true)
      this.wantKeepAlive = { enable: true, delay: options.keepAliveInitialDelay ?? 0 };
    this.connecting = true;
    this.updateRef();
    this.connectPort = port;
    const host = options.host ?? 'localhost';
    const literal = IpAddr.parse(host);
    if (literal !== null) {
      // As Node: even for an address the connection starts on the next tick,
      // so destroy() right after connect() sends nothing.
      process.nextTick(() => this.startConnect(literal.text, port, options));
      return this;
    }
    const lookup = options.lookup ?? localhostOnly;
    const lookupOptions = options.family !== undefined ? { family: options.family } : {};
    lookup(host, lookupOptions, (err, address, family) => {
      this.emit('lookup', err, address, family, host);
      if (!this.connecting || this.destroyed) return;
      if (err !== null) {
        this.destroy(err);
        return;
      }
      this.startConnect(address, port, options);
    });
    return this;
  }

  private startConnect(address: string, port: number, options: SocketConnectOptions): void {
    if (!this.connecting || this.destroyed) return;
    this.connectAddress = address;
    const connectOptions: {
      host: string;
      port: number;
      localAddress?: string;
      localPort?: number;
      tcp?: { congestionControl: string };
    } = { host: address, port };
    if (options.congestionControl !== undefined)
      connectOptions.tcp = { congestionControl: options.congestionControl };
    if (options.localAddress !== undefined) connectOptions.localAddress = options.localAddress;
    if (options.localPort !== undefined) connectOptions.localPort = options.localPort;
    let tcp: TcpSocket;
    try {
      tcp = this.driver.stack.connect(this.driver.now(), connectOptions);
    } catch (thrown) {
      this.destroy(asError(fromStackError(thrown, 'connect', address, port)));
      return;
    }
    this.bind(tcp);
    this.flushWrites();
    this.driver.kick();
  }

  /** @internal Takes over a connection accepted by a server. */
  adopt(tcp: TcpSocket, pauseOnConnect: boolean): void {
    this.bind(tcp);
    this.updateRef();
    this.peerEnded = tcp.conn.peerClosed;
    if (pauseOnConnect) this.pause();
    this.touch();
    if (tcp.state === TcpState.Closed) {
      const error = tcp.conn.closeError;
      process.nextTick(() => this.onClosed(error));
    }
  }

  private bind(tcp: TcpSocket): void {
    this.tcp = tcp;
    tcp.owner = this;
    if (this.wantNoDelay !== null) tcp.setNoDelay(this.wantNoDelay);
    const keepAlive = this.wantKeepAlive;
    if (keepAlive !== null) this.applyKeepAlive(tcp, keepAlive.enable, keepAlive.delay);
  }

  // ===================================================================
  // Events from the connection (dispatched by the driver)
  // ===================================================================

  /** @internal */
  onTcpEvent(event: TcpEvent, _now: Instant): void {
    switch (event.type) {
      case 'connected':
        this.onConnected();
        return;
      case 'readable':
        if (this.reading) this.pull();
        return;
      case 'writable':
        this.flushWrites();
        return;
      case 'peer-closed':
        this.peerEnded = true;
        this.pull();
        return;
      case 'closed':
        this.onClosed(event.error);
        return;
      case 'state':
        return;
    }
  }

  private onConnected(): void {
    if (!this.connecting || this.destroyed) return;
    this.connecting = false;
    this.touch();
    this.emit('connect');
    this.emit('ready');
    if (this.reading) this.pull();
  }

  private onClosed(error: TcpError | null): void {
    if (this.destroyed) return;
    if (error === null) {
      // An orderly end (e.g. our FIN acknowledged in LAST-ACK): whatever is
      // still buffered is read out, then the stream ends.
      this.peerEnded = true;
      this.pull();
      return;
    }
    const syscall = this.connecting ? 'connect' : 'read';
    this.destroy(tcpError(error, syscall, this.connectAddress, this.connectPort));
  }

  // ===================================================================
  // Reading
  // ===================================================================

  override _read(_size: number): void {
    this.reading = true;
    this.pull();
  }

  /**
   * Moves received bytes from the connection into the stream while the
   * stream wants them; ends the stream once the peer's FIN has been reached.
   */
  private pull(): void {
    const tcp = this.tcp;
    if (tcp === null || this.pulling || this.destroyed || this.eofPushed) return;
    this.pulling = true;
    let read = false;
    while (this.reading) {
      const available = tcp.readableBytes;
      if (available === 0) break;
      const chunk = Buffer.allocUnsafe(available < READ_CHUNK ? available : READ_CHUNK);
      const n = tcp.read(chunk);
      if (n === 0) break;
      read = true;
      this.bytesReadCount += n;
      // `subarray` is a view: no copy when the read came up short.
      if (!this.push(n === chunk.length ? chunk : chunk.subarray(0, n))) this.reading = false;
      if (this.destroyed) break;
    }
    if (read) {
      this.touch();
      this.driver.kick(); // reading may open the window: the update must go out
    }
    let ended = false;
    if (this.peerEnded && !this.destroyed && !this.eofPushed && tcp.readableBytes === 0) {
      this.eofPushed = true;
      this.push(null);
      ended = true;
    }
    this.pulling = false;
    // As Node's onStreamRead at EOF (push(null), then read(0)): with nothing
    // left to read, 'end' comes even when nobody reads or listens for
    // 'data', and without allowHalfOpen the socket then ends and closes.
    if (ended) this.read(0);
  }

  private readonly onReadableEnd = (): void => {
    // Node's onReadableStreamEnd: without allowHalfOpen the writable side is
    // ended right after 'end'; a write after that is EPIPE.
    if (!this.allowHalfOpen) this.endedByPeer = true;
  };

  // ===================================================================
  // Writing
  // ===================================================================

  override write(
    chunk: unknown,
    encoding?: BufferEncoding | ((error: Error | null | undefined) => void),
    cb?: (error: Error | null | undefined) => void,
  ): boolean {
    if (this.endedByPeer && this.writableEnded) {
      // Node's writeAfterFIN.
      const error = endedByPeerError();
      const callback = typeof encoding === 'function' ? encoding : cb;
      if (callback !== undefined) process.nextTick(callback, error);
      this.destroy(error);
      return false;
    }
    if (typeof encoding === 'function') return super.write(chunk, encoding);
    if (encoding === undefined) return super.write(chunk, cb);
    return super.write(chunk, encoding, cb);
  }

  // No _writev: a batch of chunks would share one callback, and a destroy
  // while part of the batch waits would have to report the whole batch as
  // written. One chunk at a time, the chunks not yet handed to the
  // connection stay in the stream's buffer and fail with ERR_STREAM_DESTROYED
  // on destroy, as Node's writes not yet handed to the kernel do.
  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    this.pendingChunks = [chunk];
    this.startWrite(cb);
  }

  private startWrite(cb: WriteCallback): void {
    this.pendingIndex = 0;
    this.pendingTaken = 0;
    this.pendingCb = cb;
    // Before the connection exists (a name being looked up) the write waits;
    // startConnect flushes it. In SYN-SENT the connection queues it itself.
    if (this.tcp !== null) this.flushWrites();
  }

  /** Hands the pending chunks to the connection as far as its send buffer has room. */
  private flushWrites(): void {
    const cb = this.pendingCb;
    const tcp = this.tcp;
    if (cb === null || tcp === null) return;
    if (!canSend(tcp.state)) {
      // The connection went away under the write (reset, or closed).
      this.clearPending();
      const reason = tcp.conn.closeError;
      cb(
        reason !== null && reason !== 'aborted'
          ? tcpError(reason, 'write')
          : netError('EPIPE', 'write'),
      );
      return;
    }
    const chunks = this.pendingChunks;
    let taken = 0;
    while (this.pendingIndex < chunks.length) {
      const chunk = chunks[this.pendingIndex]!;
      const n = tcp.write(chunk);
      taken += n;
      if (n < chunk.length) {
        // `subarray` is a view of the rest; it waits for a 'writable' event.
        chunks[this.pendingIndex] = chunk.subarray(n);
        break;
      }
      this.pendingIndex++;
    }
    if (taken > 0) {
      this.bytesTaken += taken;
      this.pendingTaken += taken;
      this.touch();
      this.driver.kick();
    }
    if (this.pendingIndex === chunks.length) {
      this.clearPending();
      cb();
    }
  }

  private clearPending(): void {
    this.pendingChunks = NO_CHUNKS;
    this.pendingIndex = 0;
    this.pendingTaken = 0;
    this.pendingCb = null;
  }

  override _final(cb: (error?: Error | null) => void): void {
    const tcp = this.tcp;
    if (this.connecting) {
      // As Node: end() during connect sends the FIN once connected.
      this.once('connect', () => this._final(cb));
      return;
    }
    if (tcp === null) {
      cb();
      return;
    }
    // RFC 9293 §3.10.4: FIN after the queued data; we keep receiving.
    tcp.shutdown(this.driver.now());
    this.driver.kick();
    // As Node's shutdown request, which completes on a later turn of the
    // event loop: 'finish' (and the destroy after 'end' and 'finish') does
    // not happen within the same turn as end().
    setImmediate(cb);
  }

  // ===================================================================
  // Closing
  // ===================================================================

  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    this.cancelIdleTimer();
    this.connecting = false;
    const tcp = this.tcp;
    if (tcp !== null && tcp.owner === this) {
      const now = this.driver.now();
      // close(): FIN, or RST when unread data remains (Linux, RFC 2525 §2.17).
      if (this.resetAndClosing) tcp.abort(now);
      else tcp.close(now);
      if (stillSending(tcp.state)) new Lingering(this.driver, tcp);
      else tcp.owner = null;
      this.driver.kick();
    }
    const pending = this.pendingCb;
    if (pending !== null) {
      // As Node's onWriteComplete on a destroyed socket: the write request
      // completes without an error of its own.
      this.clearPending();
      pending(null);
    }
    this.updateRef();
    cb(error);
    // As Node: with a connection, 'close' follows when the handle has closed
    // (libuv's close callbacks, after this turn's I/O); without one, on the
    // next tick.
    const hadError = error !== null && error !== undefined;
    if (tcp !== null) setImmediate(emitClose, this, hadError);
    else process.nextTick(emitClose, this, hadError);
  }

  /** Half-close then destroy once the FIN is queued (Node's `destroySoon`, used by `node:http`). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /**
   * Closes with a RST instead of a FIN (SO_LINGER 0): the peer gets
   * ECONNRESET. While connecting, the reset waits for the connection.
   */
  resetAndDestroy(): this {
    if (this.tcp !== null) {
      if (this.connecting) this.once('connect', () => this.reset());
      else this.reset();
    } else {
      this.destroy(socketClosedError());
    }
    return this;
  }

  private reset(): void {
    this.resetAndClosing = true;
    this.destroy();
  }

  // ===================================================================
  // Options and timers
  // ===================================================================

  /**
   * Emits 'timeout' after `ms` milliseconds without reads or writes (the
   * socket stays open, as in Node); 0 turns it off. `callback` is added as a
   * one-time 'timeout' listener.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (typeof ms !== 'number') {
      throw argumentError(
        'ERR_INVALID_ARG_TYPE',
        `The "msecs" argument must be of type number. ${describeReceived(ms)}`,
      );
    }
    if (!Number.isFinite(ms) || ms < 0) {
      throw Object.assign(
        new RangeError(
          `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${ms}`,
        ),
        { code: 'ERR_OUT_OF_RANGE' },
      );
    }
    this.timeoutMs = ms;
    if (callback !== undefined) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    if (ms === 0 || this.destroyed) {
      this.cancelIdleTimer();
      return this;
    }
    this.lastActive = this.driver.now();
    this.cancelIdleTimer();
    this.armIdleTimer();
    return this;
  }

  /** The idle timeout in milliseconds, or undefined when off (Node's `socket.timeout`). */
  get timeout(): number | undefined {
    return this.timeoutMs > 0 ? this.timeoutMs : undefined;
  }

  /** Activity: resets the idle clock (lazily: the armed timer checks it when it fires). */
  private touch(): void {
    if (this.timeoutMs === 0) return;
    this.lastActive = this.driver.now();
    if (this.idleTimer === null && !this.destroyed) this.armIdleTimer();
  }

  private armIdleTimer(): void {
    this.idleTimer = this.driver.setTimer(
      later(this.lastActive, millis(this.timeoutMs)),
      this.onIdleTimer,
    );
  }

  private readonly onIdleTimer = (): void => {
    this.idleTimer = null;
    if (this.destroyed || this.timeoutMs === 0) return;
    const due = later(this.lastActive, millis(this.timeoutMs));
    if (this.driver.now() < due) {
      this.armIdleTimer(); // there was activity since: wait for the rest
      return;
    }
    // Not re-armed: the next activity starts the clock again (as Node's refresh()).
    this.emit('timeout');
  };

  private cancelIdleTimer(): void {
    if (this.idleTimer !== null) {
      this.idleTimer.cancel();
      this.idleTimer = null;
    }
  }

  /** Turns Nagle's algorithm off (`true`, the default) or on (TCP_NODELAY). */
  setNoDelay(noDelay = true): this {
    this.wantNoDelay = noDelay;
    if (this.tcp !== null && !this.destroyed) {
      this.tcp.setNoDelay(noDelay);
      this.driver.kick();
    }
    return this;
  }

  /**
   * Turns keepalive probes on or off (SO_KEEPALIVE); `initialDelay` is the
   * idle time before the first probe in milliseconds (0 keeps the current
   * one, 2 hours by default as Linux).
   */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.wantKeepAlive = { enable, delay: initialDelay };
    if (this.tcp !== null && !this.destroyed) this.applyKeepAlive(this.tcp, enable, initialDelay);
    return this;
  }

  private applyKeepAlive(tcp: TcpSocket, enable: boolean, delay: number): void {
    tcp.setKeepAlive(this.driver.now(), enable, delay > 0 ? millis(delay) : undefined);
    this.driver.kick();
  }

  /** Lets the process exit while this socket is open (as a Node handle's unref). */
  unref(): this {
    this.refed = false;
    this.updateRef();
    return this;
  }

  /** Undoes {@link unref}. */
  ref(): this {
    this.refed = true;
    this.updateRef();
    return this;
  }

  /** Holds one driver reference while connecting or connected, not destroyed, and not unref'd. */
  private updateRef(): void {
    const want = this.refed && !this.destroyed && (this.connecting || this.tcp !== null);
    if (want === this.holdingRef) return;
    this.holdingRef = want;
    if (want) this.driver.ref();
    else this.driver.unref();
  }

  // ===================================================================
  // Addresses and counters
  // ===================================================================

  /** The local address, family and port; `{}` before the connection exists or after destroy. */
  address(): AddressInfo | Record<string, never> {
    const tcp = this.tcp;
    if (tcp === null || this.destroyed) return {};
    return {
      address: tcp.localAddress.text,
      family: familyName(tcp.localAddress.family),
      port: tcp.localPort,
    };
  }

  get localAddress(): string | undefined {
    return this.tcp?.localAddress.text;
  }

  get localPort(): number | undefined {
    return this.tcp?.localPort;
  }

  get localFamily(): 'IPv4' | 'IPv6' | undefined {
    return this.tcp !== null ? familyName(this.tcp.localAddress.family) : undefined;
  }

  /** The peer's address; undefined while connecting (as Node's getpeername). */
  get remoteAddress(): string | undefined {
    return this.tcp !== null && !this.connecting ? this.tcp.remoteAddress.text : undefined;
  }

  get remotePort(): number | undefined {
    return this.tcp !== null && !this.connecting ? this.tcp.remotePort : undefined;
  }

  get remoteFamily(): 'IPv4' | 'IPv6' | undefined {
    return this.tcp !== null && !this.connecting
      ? familyName(this.tcp.remoteAddress.family)
      : undefined;
  }

  /** Bytes received and handed to the stream. */
  get bytesRead(): number {
    return this.bytesReadCount;
  }

  /** Bytes written: taken by the connection plus those still waiting in the stream (as Node). */
  get bytesWritten(): number {
    return this.bytesTaken + this.writableLength - this.pendingTaken;
  }

  /** True until the connection is established (no connection yet, or connecting). */
  get pending(): boolean {
    return this.tcp === null || this.connecting;
  }

  /** 'opening', 'open', 'readOnly', 'writeOnly' or 'closed', as Node. */
  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  /** The tcpts connection under this socket (for statistics: `tcpSocket.stats()`), or null. */
  get tcpSocket(): TcpSocket | null {
    return this.tcp;
  }

  /**
   * The same byte stream as web streams, for browser-minded code:
   * `{ readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array> }`.
   * Use either this pair or the socket's own stream API, not both at once.
   */
  toWeb(): WebStreamPair {
    if (this.web === null) this.web = socketToWeb(this);
    return this.web;
  }
}

/** Without a `lookup` option the only name known is 'localhost'. */
const localhostOnly: LookupFunction = (hostname, options, callback) => {
  process.nextTick(() => {
    if (hostname === 'localhost') {
      if (options.family === 6) callback(null, '::1', 6);
      else callback(null, '127.0.0.1', 4);
    } else {
      callback(netError('ENOTFOUND', 'getaddrinfo', hostname), '', 0);
    }
  });
};

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}
