/**
 * web/: sockets made of web streams, for any JavaScript host (a browser
 * page, a Worker, Node, Deno). `createWeb(driver)` gives the shape of the
 * WinterCG / Cloudflare `connect()` and of Deno's `listen()`, on that
 * driver's stack:
 *
 * ```ts
 * const web = createWeb(driver);
 * for await (const conn of web.listen({ port: 7 })) conn.readable.pipeTo(conn.writable);
 * const socket = web.connect({ hostname: '10.0.0.2', port: 7 });
 * ```
 *
 * No node: import is reachable from here (the bundle test checks it); the
 * node:net-compatible sockets are at tcpts/net.
 */
import type { Driver } from '../runtime/index.js';
import { IpAddr } from '../stack/index.js';
import { DatagramSocket, type DatagramSocketOptions } from './datagram.js';
import { fromStackError, socketError, type SocketError } from './errors.js';
import { StreamListener } from './listener.js';
import { StreamSocket, type SocketAddress, type StreamSocketOptions } from './socket.js';

export * from './errors.js';
export * from './socket.js';
export * from './listener.js';
export * from './datagram.js';

/** Options of {@link TcptsWeb.connect}. */
export interface ConnectOptions extends SocketAddress, StreamSocketOptions {
  /** The local address to send from (default: the route's source address). */
  localAddress?: string;
  /** The local port (default: an ephemeral one). */
  localPort?: number;
}

/** Options of {@link TcptsWeb.listen}. */
export interface ListenOptions extends StreamSocketOptions {
  /** 0 (the default) lets the stack choose; see `listener.addr.port`. */
  port?: number;
  /** One local address to listen on (default: all). */
  hostname?: string;
  /** Accept-queue length (default: the stack's). */
  backlog?: number;
}

/** Options of {@link TcptsWeb.bindUdp}. */
export interface BindOptions extends DatagramSocketOptions {
  port?: number;
  hostname?: string;
}

/** Web-stream sockets on one driver's stack. */
export interface TcptsWeb {
  readonly driver: Driver;
  /** Opens a connection; the socket is returned at once, `opened` says when it is up. */
  connect(options: ConnectOptions): StreamSocket;
  /** Listens on a port. Throws a {@link SocketError} (EADDRINUSE) if it is taken. */
  listen(options?: ListenOptions): StreamListener;
  /** Binds a UDP port. Throws a {@link SocketError} (EADDRINUSE) if it is taken. */
  bindUdp(options?: BindOptions): DatagramSocket;
}

/** Web-stream sockets whose connections live on `driver`'s stack. */
export function createWeb(driver: Driver): TcptsWeb {
  function connect(options: ConnectOptions): StreamSocket {
    const { hostname, port } = options;
    const remote = { hostname, port };
    if (IpAddr.parse(hostname) === null) {
      return new StreamSocket(
        driver,
        null,
        remote,
        options,
        socketError(
          'ENOTFOUND',
          'getaddrinfo',
          hostname,
          undefined,
          'tcpts resolves no names: give an IP address',
        ),
      );
    }
    let tcp;
    try {
      tcp = driver.stack.connect(driver.now(), {
        host: hostname,
        port,
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
        ...(options.localPort !== undefined ? { localPort: options.localPort } : {}),
      });
    } catch (thrown) {
      const error = fromStackError(thrown, 'connect', hostname, port);
      if (error === thrown) throw thrown; // a bad argument: the caller's to fix
      return new StreamSocket(driver, null, remote, options, error as SocketError);
    }
    driver.kick();
    return new StreamSocket(driver, tcp, remote, options);
  }

  function listen(options: ListenOptions = {}): StreamListener {
    const port = options.port ?? 0;
    let listener;
    try {
      listener = driver.stack.listen({
        port,
        ...(options.hostname !== undefined ? { host: options.hostname } : {}),
        ...(options.backlog !== undefined ? { backlog: options.backlog } : {}),
      });
    } catch (thrown) {
      throw fromStackError(thrown, 'listen', options.hostname ?? '::', port);
    }
    return new StreamListener(driver, listener, options);
  }

  function bindUdp(options: BindOptions = {}): DatagramSocket {
    const port = options.port ?? 0;
    let socket;
    try {
      socket = driver.stack.bindUdp({
        port,
        ...(options.hostname !== undefined ? { host: options.hostname } : {}),
      });
    } catch (thrown) {
      throw fromStackError(thrown, 'listen', options.hostname ?? '::', port);
    }
    return new DatagramSocket(driver, socket, options);
  }

  return { driver, connect, listen, bindUdp };
}
