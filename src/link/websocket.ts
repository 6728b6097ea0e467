/**
 * A link over a WebSocket: one frame per binary message, both ways (a
 * `tcpts relay` switches such frames between its clients, and onto a TAP
 * device). Text messages are not frames and are dropped.
 *
 * The socket is described by the little this file uses of it, so the core
 * compiles without DOM types and any WebSocket fits: the browser's global
 * one, or in Node (20 has none) the `ws` package's.
 */
import { LinkDropReason } from './link.js';
import { PushedFrameEndpoint, messageData, type PushedLinkOptions } from './pushed.js';

/** WebSocket.OPEN, the one readyState in which frames pass. */
const OPEN = 1;

/**
 * What the link needs of a WebSocket. Listeners' events are typed `unknown`
 * so that every implementation's own event types fit; the link reads only a
 * message event's `data`.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message' | 'close' | 'error', listener: (event: unknown) => void): void;
}

/** Options of {@link webSocketEndpoint}. */
export interface WebSocketLinkOptions extends PushedLinkOptions {
  /**
   * Bytes the socket may hold unsent (`bufferedAmount`) before frames are
   * dropped (counted as queue-full), as a NIC's transmit ring: TCP above
   * sees loss and slows down instead of the buffer growing without bound.
   * Default 4 MiB.
   */
  maxBufferedBytes?: number;
}

/** A {@link LinkEndpoint} over a WebSocket; see {@link webSocketEndpoint}. */
export class WebSocketEndpoint extends PushedFrameEndpoint {
  private readonly socket: WebSocketLike;
  private readonly maxBuffered: number;

  constructor(socket: WebSocketLike, options: WebSocketLinkOptions = {}) {
    super('webSocketEndpoint', options);
    this.socket = socket;
    this.maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('message', (event) => {
      const data = messageData(event);
      if (data instanceof ArrayBuffer) this.deliver(new Uint8Array(data));
      else if (data instanceof Uint8Array) this.deliver(data.slice());
      else this.counters.dropRx(LinkDropReason.TooShort); // a text message: not a frame
    });
    socket.addEventListener('close', () => this.cut());
    socket.addEventListener('error', () => this.cut());
  }

  /** Closes the WebSocket (normal closure, RFC 6455 §7.4.1 code 1000). */
  close(): void {
    this.cut();
    this.socket.close(1000, 'link closed');
  }

  protected transmit(frame: Uint8Array, handover: boolean): LinkDropReason | null {
    const socket = this.socket;
    // Before the socket is open and after it closed, the link is down.
    if (socket.readyState !== OPEN) return LinkDropReason.Cut;
    if (socket.bufferedAmount > this.maxBuffered) return LinkDropReason.QueueFull;
    // A socket may keep the bytes until they are on the wire (Node's ws
    // does): a copy, unless the caller gave them away.
    socket.send(handover ? frame : frame.slice());
    return null;
  }
}

/**
 * A link endpoint over an open WebSocket (frames sent while it is still
 * connecting are dropped, so attach it once `open` has fired):
 *
 * ```ts
 * const ws = new WebSocket('ws://127.0.0.1:8080/');
 * await new Promise((resolve) => ws.addEventListener('open', resolve));
 * const link = webSocketEndpoint(ws);
 * // Every stack on the relay's segment needs a MAC of its own.
 * driver.attach(link, { addresses: ['10.0.0.1/24'], mac: '02:00:00:00:00:01' });
 * link.onReadable(() => driver.wake());
 * ```
 */
export function webSocketEndpoint(
  socket: WebSocketLike,
  options: WebSocketLinkOptions = {},
): WebSocketEndpoint {
  return new WebSocketEndpoint(socket, options);
}
