/**
 * A TCP connection as a pair of web streams, in the shape of the WinterCG /
 * Cloudflare `connect()` socket (and Deno's `Conn`): `readable`, `writable`,
 * `opened`, `closed`, `close()`.
 *
 * Flow control is the streams' own: the readable's queue holds at most its
 * high-water mark of bytes, and bytes stay in the connection's receive
 * buffer until the reader wants them, so a reader that stops reading lets
 * the buffer fill and the advertised window close (RFC 9293 §3.8.6); a
 * write's promise settles once the connection's send buffer has taken the
 * whole chunk, so a writer that awaits its writes never runs ahead of the
 * peer's window.
 */
import type { Instant } from '../base/index.js';
import type { Driver, TcpSocketOwner } from '../runtime/index.js';
import type { TcpSocket } from '../stack/index.js';
import { TcpState, type TcpError, type TcpEvent } from '../tcp/index.js';
import { connectionError, socketError, type SocketError } from './errors.js';

/** Where a socket is: an IP address (no names: tcpts resolves none) and a port. */
export interface SocketAddress {
  hostname: string;
  port: number;
}

/** What `opened` resolves with (the Cloudflare socket's `SocketInfo`): "address:port" of each end. */
export interface SocketInfo {
  remoteAddress: string;
  localAddress: string;
}

/** Options of a {@link StreamSocket}'s streams. */
export interface StreamSocketOptions {
  /**
   * Bytes the readable's queue holds before the socket stops taking bytes
   * out of the connection (they then wait in its receive buffer, and the
   * window closes when that is full). Default 64 KiB.
   */
  readableHighWaterMark?: number;
  /** Disable Nagle's algorithm (RFC 9293 §3.7.4), as `setNoDelay(true)`. Default false. */
  noDelay?: boolean;
}

/** The default {@link StreamSocketOptions.readableHighWaterMark}. */
export const DEFAULT_READABLE_HIGH_WATER_MARK = 64 * 1024;
/** The largest chunk the readable is given at once. */
const READ_CHUNK = 64 * 1024;

/** States in which the application may still queue bytes to send. */
function canSend(state: TcpState): boolean {
  return (
    state === TcpState.SynSent ||
    state === TcpState.SynReceived ||
    state === TcpState.Established ||
    state === TcpState.CloseWait
  );
}

/** States in which the peer has sent its FIN (all its data is in). */
function peerHasClosed(state: TcpState): boolean {
  return (
    state === TcpState.CloseWait ||
    state === TcpState.LastAck ||
    state === TcpState.Closing ||
    state === TcpState.TimeWait ||
    state === TcpState.Closed
  );
}

/**
 * Both directions are finished: our FIN is acknowledged and the peer's has
 * arrived (TIME-WAIT, which only keeps the 4-tuple), or the connection is
 * gone. The socket is closed then; TIME-WAIT runs on in the stack.
 */
function isFinished(state: TcpState): boolean {
  return state === TcpState.TimeWait || state === TcpState.Closed;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits (a socket whose `closed` nobody watches) is
  // not an unhandled one: the same error reaches the streams.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** A chunk a write is waiting to hand to the connection, and its promise. */
interface PendingWrite {
  rest: Uint8Array;
  resolve(): void;
  reject(error: unknown): void;
}

function asBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk))
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError(
    'StreamSocket: write Uint8Array (or other ArrayBufferView / ArrayBuffer) chunks; ' +
      'encode strings first (new TextEncoder().encode(text))',
  );
}

/**
 * One TCP connection as web streams. Get one from `connect()` or from a
 * listener (see ./index.ts); the driver hands it the connection's events.
 */
export class StreamSocket implements TcpSocketOwner {
  /** Bytes from the peer; ends at the peer's FIN, errors when the connection fails. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; `close()` sends our FIN (half-close), `abort()` resets the connection. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once the connection is established; rejects if it never is. */
  readonly opened: Promise<SocketInfo>;
  /** Resolves once both directions have finished in order; rejects with the error that ended the connection. */
  readonly closed: Promise<void>;
  /** The peer's address. */
  readonly remoteAddr: SocketAddress;

  private readonly driver: Driver;
  private readonly tcp: TcpSocket | null;
  private readonly openedDeferred = deferred<SocketInfo>();
  private readonly closedDeferred = deferred<void>();
  private readController: ReadableStreamDefaultController<Uint8Array> | null = null;
  private writeController: WritableStreamDefaultController | null = null;
  private pending: PendingWrite | null = null;
  /** The readable has ended (EOF, error, or cancelled): nothing more goes into it. */
  private readDone = false;
  /** The reader cancelled: what arrives is read and dropped, so the window stays open. */
  private discarding = false;
  private writeDone = false;
  private isOpen = false;
  /** close() was called. */
  private closing = false;
  /** Both directions of the connection finished in order (TIME-WAIT or CLOSED). */
  private finished = false;
  private ended = false;
  private refHeld = false;
  private pumping = false;

  /** @internal use `connect()` or a listener. */
  constructor(
    driver: Driver,
    tcp: TcpSocket | null,
    remote: SocketAddress,
    options: StreamSocketOptions = {},
    failure: SocketError | null = null,
  ) {
    this.driver = driver;
    this.tcp = tcp;
    this.remoteAddr = remote;
    this.opened = this.openedDeferred.promise;
    this.closed = this.closedDeferred.promise;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.readController = controller;
        },
        pull: () => this.pump(),
        cancel: () => this.cancelReading(),
      },
      {
        highWaterMark: options.readableHighWaterMark ?? DEFAULT_READABLE_HIGH_WATER_MARK,
        size: (chunk) => chunk.byteLength,
      },
    );
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.writeController = controller;
      },
      write: (chunk) => this.write(chunk),
      close: () => this.closeWriting(),
      abort: () => this.reset(),
    });
    if (failure !== null) {
      this.fail(failure);
      return;
    }
    if (tcp === null) throw new Error('StreamSocket: a connection or a failure is required');
    tcp.owner = this;
    if (options.noDelay === true) tcp.setNoDelay(true);
    this.holdRef();
    const state = tcp.state;
    if (state !== TcpState.SynSent && state !== TcpState.SynReceived) {
      // Accepted: established already, and events that came before the
      // socket had an owner went to nobody, so take stock of its state.
      this.onOpen();
      if (peerHasClosed(state)) this.pump();
      if (state === TcpState.Closed) this.onClosed(tcp.conn.closeError);
    }
  }

  /** Our end's address, once there is a connection. */
  get localAddr(): SocketAddress | null {
    const tcp = this.tcp;
    return tcp === null ? null : { hostname: tcp.localAddress.text, port: tcp.localPort };
  }

  /**
   * Closes the connection both ways: FIN after what was written, or RST when
   * received bytes are left unread (RFC 2525 §2.17, as Linux). The readable
   * ends after what it already holds; pending writes fail. Resolves with
   * `closed`.
   */
  close(): Promise<void> {
    if (!this.ended && !this.closing) {
      this.closing = true;
      const tcp = this.tcp;
      if (!this.isOpen) {
        // As a Cloudflare socket closed while connecting: `opened` never will.
        const { hostname, port } = this.remoteAddr;
        this.openedDeferred.reject(
          socketError('ECONNABORTED', 'connect', hostname, port, 'closed before it opened'),
        );
      }
      this.endReadable(null);
      if (!this.writeDone) {
        this.writeDone = true;
        const error = socketError('EPIPE', 'write', undefined, undefined, 'the socket was closed');
        this.failPending(error);
        this.writeController?.error(error);
      }
      if (tcp !== null && !isFinished(tcp.state)) {
        tcp.close(this.driver.now());
        this.driver.kick();
      }
    }
    return this.closed;
  }

  // ===================================================================
  // Events from the connection (dispatched by the driver)
  // ===================================================================

  /** @internal */
  onTcpEvent(event: TcpEvent, _now: Instant): void {
    switch (event.type) {
      case 'connected':
        this.onOpen();
        return;
      case 'readable':
      case 'peer-closed':
        this.pump();
        return;
      case 'writable':
        this.flushPending();
        return;
      case 'closed':
        this.onClosed(event.error);
        return;
      case 'state':
        if (isFinished(event.transition.to) && this.tcp?.conn.closeError === null) this.finish();
        return;
    }
  }

  private onOpen(): void {
    const tcp = this.tcp;
    if (this.isOpen || tcp === null) return;
    this.isOpen = true;
    this.openedDeferred.resolve({
      remoteAddress: `${tcp.remoteAddress.text}:${tcp.remotePort}`,
      localAddress: `${tcp.localAddress.text}:${tcp.localPort}`,
    });
    this.pump();
  }

  private onClosed(error: TcpError | null): void {
    // close() with unread bytes resets the connection on purpose: as Node,
    // the socket that did it reports nothing for that.
    if (error === null || (error === 'aborted' && this.closing)) {
      // An orderly end: what is buffered is read out, then the stream ends.
      this.pump();
      this.finish();
      return;
    }
    const remote = this.remoteAddr;
    this.fail(
      connectionError(error, this.isOpen ? 'read' : 'connect', remote.hostname, remote.port),
    );
  }

  // ===================================================================
  // Reading
  // ===================================================================

  /**
   * Moves received bytes into the readable while its queue has room (or
   * drops them once the reader has cancelled); ends it at the peer's FIN.
   * Reading opens the window again, so the driver is kicked to send the
   * update.
   */
  private pump(): void {
    const tcp = this.tcp;
    if (tcp === null || this.pumping || (this.readDone && !this.discarding)) return;
    this.pumping = true;
    const controller = this.readController!;
    let read = false;
    for (;;) {
      const available = tcp.readableBytes;
      if (available === 0) break;
      if (this.discarding) {
        const scratch = new Uint8Array(available < READ_CHUNK ? available : READ_CHUNK);
        if (tcp.read(scratch) === 0) break;
        read = true;
        continue;
      }
      if ((controller.desiredSize ?? 0) <= 0) break;
      const chunk = new Uint8Array(available < READ_CHUNK ? available : READ_CHUNK);
      const n = tcp.read(chunk);
      if (n === 0) break;
      read = true;
      // `subarray` is a view: no copy when the read came up short.
      controller.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    if (read) this.driver.kick(); // the window opened: the update must go out
    if (!this.readDone && tcp.readableBytes === 0 && peerHasClosed(tcp.state)) {
      this.endReadable(null);
    }
    this.pumping = false;
  }

  private cancelReading(): void {
    if (this.readDone) return;
    this.readDone = true;
    this.discarding = true;
    this.pump();
    this.settleIfDone();
  }

  /** Ends the readable: closed (EOF) with null, errored otherwise. */
  private endReadable(error: Error | null): void {
    if (this.readDone) return;
    this.readDone = true;
    const controller = this.readController!;
    if (error === null) controller.close();
    else controller.error(error);
    this.settleIfDone();
  }

  // ===================================================================
  // Writing
  // ===================================================================

  private write(chunk: unknown): Promise<void> | void {
    const tcp = this.tcp!;
    const bytes = asBytes(chunk);
    if (!canSend(tcp.state)) throw this.writeError();
    const n = tcp.write(bytes);
    if (n > 0) this.driver.kick();
    if (n === bytes.length) return;
    // The rest waits for room ('writable'); `subarray` is a view, and the
    // chunk is the caller's until this write's promise settles.
    return new Promise<void>((resolve, reject) => {
      this.pending = { rest: bytes.subarray(n), resolve, reject };
    });
  }

  private flushPending(): void {
    const pending = this.pending;
    const tcp = this.tcp;
    if (pending === null || tcp === null) return;
    if (!canSend(tcp.state)) {
      this.pending = null;
      pending.reject(this.writeError());
      return;
    }
    const n = tcp.write(pending.rest);
    if (n > 0) this.driver.kick();
    if (n < pending.rest.length) {
      pending.rest = pending.rest.subarray(n);
      return;
    }
    this.pending = null;
    pending.resolve();
  }

  private failPending(error: unknown): void {
    const pending = this.pending;
    this.pending = null;
    if (pending !== null) pending.reject(error);
  }

  /** The error for a write the connection can no longer take. */
  private writeError(): SocketError {
    const reason = this.tcp?.conn.closeError ?? null;
    const remote = this.remoteAddr;
    return reason !== null && reason !== 'aborted'
      ? connectionError(reason, 'write', remote.hostname, remote.port)
      : socketError('EPIPE', 'write');
  }

  /** Half-close (RFC 9293 §3.10.4): our FIN follows the queued data; reading goes on. */
  private async closeWriting(): Promise<void> {
    await this.opened;
    const tcp = this.tcp!;
    this.writeDone = true;
    if (canSend(tcp.state)) {
      tcp.shutdown(this.driver.now());
      this.driver.kick();
    }
  }

  /** The writable was aborted: the connection is reset (RST), as a destroyed socket with unsent data. */
  private reset(): void {
    this.writeDone = true;
    const tcp = this.tcp;
    if (tcp !== null && !isFinished(tcp.state)) {
      tcp.abort(this.driver.now());
      this.driver.kick();
    }
    if (!this.readDone) this.endReadable(socketError('ECONNABORTED', 'read'));
    this.fail(socketError('ECONNABORTED', 'write'));
  }

  // ===================================================================
  // The end
  // ===================================================================

  /**
   * `closed` resolves once the connection has finished in order and the
   * readable has ended too (its reader has had every byte, or cancelled):
   * until then bytes may still wait in the receive buffer for the reader.
   */
  private settleIfDone(): void {
    if (!this.finished || !this.readDone || this.ended) return;
    this.ended = true;
    this.failPending(socketError('EPIPE', 'write'));
    this.closedDeferred.resolve();
    this.releaseRef();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.pump();
    this.settleIfDone();
  }

  private fail(error: SocketError): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.isOpen) this.openedDeferred.reject(error);
    if (!this.readDone) this.endReadable(error);
    if (!this.writeDone) {
      this.writeDone = true;
      this.failPending(error);
      this.writeController?.error(error);
    }
    this.closedDeferred.reject(error);
    this.releaseRef();
  }

  /**
   * While open the socket holds its driver's reference (in Node that keeps
   * the process alive, as an open net.Socket does); elsewhere it is a count.
   */
  private holdRef(): void {
    if (this.refHeld) return;
    this.refHeld = true;
    this.driver.ref();
  }

  private releaseRef(): void {
    if (!this.refHeld) return;
    this.refHeld = false;
    this.driver.unref();
  }
}
