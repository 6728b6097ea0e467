/**
 * net/: Node-compatible sockets over a tcpts stack. `createNet(driver)`
 * gives an object shaped like the `node:net` module whose sockets and
 * servers live on that driver's stack.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { Driver } from '../runtime/index.js';
import { Server, type ServerOptions } from './server.js';
import { Socket, type SocketConnectOptions, type SocketOptions } from './socket.js';

export * from './errors.js';
export * from './socket.js';
export * from './server.js';
export * from './web.js';
export * from './http-timeouts.js';

/** Options of `connect()` / `createConnection()`: the socket's options and where to connect. */
export type NetConnectOptions = SocketConnectOptions & SocketOptions;

/** A `node:net`-shaped module bound to one driver (one stack). */
export interface TcptsNet {
  /** The driver (and through it the stack) these sockets use. */
  readonly driver: Driver;
  /** `new net.Socket(options)`, then `socket.connect(...)`. */
  readonly Socket: new (options?: SocketOptions) => Socket;
  /** Alias of `Socket`, as in `node:net`. */
  readonly Stream: new (options?: SocketOptions) => Socket;
  /** `new net.Server(options, connectionListener)`. */
  readonly Server: new (
    options?: ServerOptions | ((socket: Socket) => void),
    connectionListener?: (socket: Socket) => void,
  ) => Server;
  createServer(
    options?: ServerOptions | ((socket: Socket) => void),
    connectionListener?: (socket: Socket) => void,
  ): Server;
  connect(options: NetConnectOptions, connectListener?: () => void): Socket;
  connect(port: number | string, host?: string, connectListener?: () => void): Socket;
  connect(port: number | string, connectListener?: () => void): Socket;
  createConnection(options: NetConnectOptions, connectListener?: () => void): Socket;
  createConnection(port: number | string, host?: string, connectListener?: () => void): Socket;
  createConnection(port: number | string, connectListener?: () => void): Socket;
  isIP(input: string): number;
  isIPv4(input: string): boolean;
  isIPv6(input: string): boolean;
}

/**
 * A `node:net`-compatible module on `driver`'s stack:
 *
 * ```ts
 * const net = createNet(driver);
 * net.createServer((s) => s.pipe(s)).listen(7);
 * const c = net.connect(7, '10.0.0.2', () => c.end('hello'));
 * ```
 */
export function createNet(driver: Driver): TcptsNet {
  class NetSocket extends Socket {
    constructor(options: SocketOptions = {}) {
      super(driver, options);
    }
  }
  const makeSocket = (options: SocketOptions): Socket => new NetSocket(options);
  class NetServer extends Server {
    constructor(
      options?: ServerOptions | ((socket: Socket) => void),
      connectionListener?: (socket: Socket) => void,
    ) {
      if (typeof options === 'function') super(driver, makeSocket, {}, options);
      else super(driver, makeSocket, options ?? {}, connectionListener);
    }
  }
  function connect(
    first: NetConnectOptions | number | string,
    second?: string | (() => void),
    third?: () => void,
  ): Socket {
    if (typeof first === 'object' && first !== null) {
      const socket = new NetSocket(first);
      return socket.connect(first, typeof second === 'function' ? second : undefined);
    }
    const socket = new NetSocket();
    if (typeof second === 'string') return socket.connect(first, second, third);
    return socket.connect(first, second);
  }
  return {
    driver,
    Socket: NetSocket,
    Stream: NetSocket,
    Server: NetServer,
    createServer: (options, connectionListener) => new NetServer(options, connectionListener),
    connect,
    createConnection: connect,
    isIP,
    isIPv4,
    isIPv6,
  };
}
