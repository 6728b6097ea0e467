/**
 * A listening TCP port as an async iterable of {@link StreamSocket}s (the
 * shape of Deno's `Deno.listen()`): `for await (const conn of listener)`.
 * Connections the application has not asked for wait in the stack's accept
 * queue, so its backlog (and SYN cookies beyond it) is the backpressure, as
 * with a kernel socket nobody calls accept() on.
 */
import type { Instant } from '../base/index.js';
import type { Driver, TcpListenerOwner } from '../runtime/index.js';
import type { TcpListener } from '../stack/index.js';
import { StreamSocket, type SocketAddress, type StreamSocketOptions } from './socket.js';

interface Waiter {
  resolve(result: IteratorResult<StreamSocket>): void;
}

/** A listening port; iterate it for connections, `close()` it to stop. */
export class StreamListener implements TcpListenerOwner, AsyncIterable<StreamSocket> {
  /** The address and port listened on (port chosen by the stack when 0 was asked for). */
  readonly addr: SocketAddress;
  private readonly driver: Driver;
  private readonly listener: TcpListener;
  private readonly socketOptions: StreamSocketOptions;
  private readonly waiters: Waiter[] = [];
  private closedFlag = false;

  /** @internal use `listen()`. */
  constructor(driver: Driver, listener: TcpListener, socketOptions: StreamSocketOptions) {
    this.driver = driver;
    this.listener = listener;
    this.socketOptions = socketOptions;
    this.addr = { hostname: listener.address?.text ?? '::', port: listener.port };
    listener.owner = this;
    driver.ref();
  }

  /** The next connection; resolves with null once the listener is closed. */
  accept(): Promise<StreamSocket | null> {
    return this.next().then((r) => (r.done === true ? null : r.value));
  }

  /** The async-iterator protocol: each step is the next accepted connection. */
  next(): Promise<IteratorResult<StreamSocket>> {
    if (this.closedFlag) return Promise.resolve({ done: true, value: undefined });
    const socket = this.take();
    if (socket !== null) return Promise.resolve({ done: false, value: socket });
    return new Promise((resolve) => this.waiters.push({ resolve }));
  }

  /** Ending a `for await` loop early (break, throw) closes the listener. */
  return(): Promise<IteratorResult<StreamSocket>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamSocket> {
    return this;
  }

  /** Stops listening: connections not yet accepted are reset, and iteration ends. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.listener.close();
    this.driver.kick();
    this.driver.unref();
    const waiters = this.waiters.splice(0);
    for (const w of waiters) w.resolve({ done: true, value: undefined });
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** @internal connections are waiting: hand them to whoever waits. */
  onAccept(_now: Instant): void {
    while (this.waiters.length > 0) {
      const socket = this.take();
      if (socket === null) return;
      this.waiters.shift()!.resolve({ done: false, value: socket });
    }
  }

  private take(): StreamSocket | null {
    const tcp = this.listener.accept();
    if (tcp === null) return null;
    return new StreamSocket(
      this.driver,
      tcp,
      { hostname: tcp.remoteAddress.text, port: tcp.remotePort },
      this.socketOptions,
    );
  }
}
