/**
 * A `node:net`-compatible server over a tcpts listener.
 */
import { EventEmitter } from 'node:events';
import type { Instant } from '../base/index.js';
import type { Driver, TcpListenerOwner } from '../runtime/index.js';
import type { TcpListener } from '../stack/index.js';
import { fromStackError } from './errors.js';
import {
  familyName,
  validatePort,
  type AddressInfo,
  type Socket,
  type SocketOptions,
} from './socket.js';

/** Options of `createServer()` (as Node's). */
export interface ServerOptions {
  /** Accepted sockets keep their writable side open after the peer's FIN (default false). */
  allowHalfOpen?: boolean;
  /** Accepted sockets start paused: no data is read until `resume()`. */
  pauseOnConnect?: boolean;
  /** Disable Nagle's algorithm on accepted sockets. */
  noDelay?: boolean;
  /** Enable keepalive on accepted sockets. */
  keepAlive?: boolean;
  /** Idle time before the first keepalive probe, in milliseconds. */
  keepAliveInitialDelay?: number;
  /** High-water mark of accepted sockets' streams. */
  highWaterMark?: number;
}

/** Options of `server.listen(options)` (TCP forms only). */
export interface ListenOptions {
  /** Default 0: a free port is chosen. */
  port?: number | string;
  /** An address of the stack; '0.0.0.0' (IPv4 only), '::' or none (both families). */
  host?: string;
  /** Length of the accept queue. */
  backlog?: number;
  /** With host '::', accept IPv6 only. */
  ipv6Only?: boolean;
  /** Stops listening when aborted. */
  signal?: AbortSignal;
  /** Unix-domain sockets do not exist here; a string path throws. */
  path?: unknown;
}

/** What the server needs to make its sockets (the classes of one {@link createNet} module). */
export type SocketFactory = (options: SocketOptions) => Socket;

/** A connection refused because of `maxConnections` (Node's 'drop' event). */
export interface DropInfo {
  localAddress: string;
  localPort: number;
  localFamily: 'IPv4' | 'IPv6';
  remoteAddress: string;
  remotePort: number;
  remoteFamily: 'IPv4' | 'IPv6';
}

function serverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * A TCP server with the API of Node's `net.Server`. Events: 'listening',
 * 'connection' (with a {@link Socket}), 'close' (once stopped and every
 * connection has closed), 'error' (EADDRINUSE...), 'drop'.
 */
export class Server extends EventEmitter implements TcpListenerOwner {
  readonly driver: Driver;
  /** Refuse connections beyond this many open ones (closed at once, 'drop' emitted). */
  maxConnections: number | undefined = undefined;
  private readonly makeSocket: SocketFactory;
  private readonly options: ServerOptions;
  private listener: TcpListener | null = null;
  private readonly sockets = new Set<Socket>();
  private refed = true;
  private holdingRef = false;

  constructor(
    driver: Driver,
    makeSocket: SocketFactory,
    options: ServerOptions = {},
    connectionListener?: (socket: Socket) => void,
  ) {
    super();
    this.driver = driver;
    this.makeSocket = makeSocket;
    this.options = options;
    if (connectionListener !== undefined) this.on('connection', connectionListener);
  }

  /** Whether the server is listening. */
  get listening(): boolean {
    return this.listener !== null;
  }

  /**
   * Starts listening: `listen([port[, host[, backlog]]][, callback])` or
   * `listen(options[, callback])`. 'listening' follows on the next tick, or
   * 'error' (EADDRINUSE).
   */
  listen(options: ListenOptions, callback?: () => void): this;
  listen(port?: number | string, host?: string, backlog?: number, callback?: () => void): this;
  listen(port?: number | string, host?: string, callback?: () => void): this;
  listen(port?: number | string, backlog?: number, callback?: () => void): this;
  listen(port?: number | string, callback?: () => void): this;
  listen(callback?: () => void): this;
  listen(...args: unknown[]): this {
    let callback: (() => void) | undefined;
    if (args.length > 0 && typeof args[args.length - 1] === 'function') {
      callback = args.pop() as () => void;
    }
    let options: ListenOptions;
    const first = args[0];
    if (typeof first === 'object' && first !== null) {
      options = first as ListenOptions;
    } else {
      options = {};
      if (first !== undefined && first !== null) options.port = first as number | string;
      // Node: listen(port, host, backlog) or listen(port, backlog).
      if (typeof args[1] === 'string') {
        options.host = args[1];
        if (typeof args[2] === 'number') options.backlog = args[2];
      } else if (typeof args[1] === 'number') {
        options.backlog = args[1];
      }
    }
    if (typeof options.path === 'string') {
      throw new TypeError('tcpts servers are TCP only: listen on { port, host }, not a path');
    }
    if (this.listener !== null) {
      throw serverError(
        'ERR_SERVER_ALREADY_LISTEN',
        'Listen method has been called more than once without closing.',
      );
    }
    const port = validatePort(options.port ?? 0, 'options.port');
    if (callback !== undefined) this.once('listening', callback);
    const host = options.host;
    const listenOptions: { port: number; host?: string; backlog?: number; family?: 4 | 6 } = {
      port,
    };
    let shownHost = '::';
    if (host === undefined || host === '::') {
      if (options.ipv6Only === true) listenOptions.family = 6;
    } else if (host === '0.0.0.0') {
      listenOptions.family = 4;
      shownHost = '0.0.0.0';
    } else {
      listenOptions.host = host;
      shownHost = host;
    }
    if (options.backlog !== undefined && options.backlog > 0)
      listenOptions.backlog = options.backlog;
    let listener: TcpListener;
    try {
      listener = this.driver.stack.listen(listenOptions);
    } catch (thrown) {
      const error = fromStackError(thrown, 'listen', shownHost, port);
      // Argument errors throw at once, as Node's; system errors arrive as 'error'.
      if (error === thrown) throw thrown;
      process.nextTick(() => this.emit('error', error));
      return this;
    }
    listener.owner = this;
    this.listener = listener;
    this.updateRef();
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.close();
      else signal.addEventListener('abort', () => this.close(), { once: true });
    }
    process.nextTick(() => {
      if (this.listener === listener) this.emit('listening');
    });
    return this;
  }

  /** @internal Connections are waiting in the listener's accept queue. */
  onAccept(now: Instant): void {
    const listener = this.listener;
    if (listener === null) return;
    for (let tcp = listener.accept(); tcp !== null; tcp = listener.accept()) {
      if (this.maxConnections !== undefined && this.sockets.size >= this.maxConnections) {
        // As Node: the connection is closed at once and reported as dropped.
        tcp.close(now);
        this.driver.kick();
        const info: DropInfo = {
          localAddress: tcp.localAddress.text,
          localPort: tcp.localPort,
          localFamily: familyName(tcp.localAddress.family),
          remoteAddress: tcp.remoteAddress.text,
          remotePort: tcp.remotePort,
          remoteFamily: familyName(tcp.remoteAddress.family),
        };
        this.emit('drop', info);
        continue;
      }
      const socketOptions: SocketOptions = { allowHalfOpen: this.options.allowHalfOpen === true };
      if (this.options.highWaterMark !== undefined)
        socketOptions.highWaterMark = this.options.highWaterMark;
      if (this.options.noDelay === true) socketOptions.noDelay = true;
      if (this.options.keepAlive === true) {
        socketOptions.keepAlive = true;
        socketOptions.keepAliveInitialDelay = this.options.keepAliveInitialDelay ?? 0;
      }
      const socket = this.makeSocket(socketOptions);
      socket.server = this;
      socket.adopt(tcp, this.options.pauseOnConnect === true);
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.emitCloseIfDrained();
      });
      this.emit('connection', socket);
    }
  }

  /**
   * Stops accepting connections (those not yet accepted are reset). 'close'
   * follows once every accepted connection has closed. `callback` gets
   * ERR_SERVER_NOT_RUNNING if the server was not listening.
   */
  close(callback?: (error?: Error) => void): this {
    if (callback !== undefined) {
      if (this.listener === null) {
        this.once('close', () =>
          callback(serverError('ERR_SERVER_NOT_RUNNING', 'Server is not running.')),
        );
      } else {
        this.once('close', () => callback());
      }
    }
    if (this.listener !== null) {
      this.listener.close();
      this.listener.owner = null;
      this.listener = null;
      this.driver.kick();
      this.updateRef();
    }
    this.emitCloseIfDrained();
    return this;
  }

  private emitCloseIfDrained(): void {
    if (this.listener !== null || this.sockets.size > 0) return;
    process.nextTick(() => this.emit('close'));
  }

  /** Where the server listens, or null when it does not. */
  address(): AddressInfo | null {
    const listener = this.listener;
    if (listener === null) return null;
    if (listener.address !== null) {
      return {
        address: listener.address.text,
        family: familyName(listener.address.family),
        port: listener.port,
      };
    }
    return listener.family === 4
      ? { address: '0.0.0.0', family: 'IPv4', port: listener.port }
      : { address: '::', family: 'IPv6', port: listener.port };
  }

  /** Counts the open connections (asynchronously, as Node). */
  getConnections(callback: (error: Error | null, count: number) => void): this {
    const count = this.sockets.size;
    process.nextTick(() => callback(null, count));
    return this;
  }

  /** Lets the process exit while the server listens. */
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

  private updateRef(): void {
    const want = this.refed && this.listener !== null;
    if (want === this.holdingRef) return;
    this.holdingRef = want;
    if (want) this.driver.ref();
    else this.driver.unref();
  }
}
