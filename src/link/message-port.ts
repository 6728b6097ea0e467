/**
 * A link over a `MessagePort` (one end of a `MessageChannel`): each message
 * is one frame, its ArrayBuffer transferred rather than cloned. With one
 * port given to a Worker, a stack can run in the Worker while another (or
 * the application's sockets) runs in the page, or stacks can live in
 * several Workers joined by channels.
 *
 * The port is described by the little this file uses of it, so the core
 * compiles without DOM types; a browser's, a Worker's or Node's
 * `MessagePort` fits.
 */
import { LinkDropReason } from './link.js';
import { PushedFrameEndpoint, messageData, type PushedLinkOptions } from './pushed.js';

/**
 * What the link needs of a `MessagePort`. The listener's event is typed
 * `unknown` so that every host's own event type fits; the link reads only
 * its `data`.
 */
export interface MessagePortLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: unknown) => void): void;
  removeEventListener(type: 'message', listener: (event: unknown) => void): void;
  start(): void;
  close(): void;
}

/** A {@link LinkEndpoint} over a MessagePort; see {@link messagePortEndpoint}. */
export class MessagePortEndpoint extends PushedFrameEndpoint {
  private readonly port: MessagePortLike;
  private readonly onMessage = (event: unknown): void => {
    const data = messageData(event);
    if (data instanceof ArrayBuffer) this.deliver(new Uint8Array(data));
    else if (data instanceof Uint8Array) this.deliver(data);
    else this.counters.dropRx(LinkDropReason.TooShort); // not a frame at all
  };

  constructor(port: MessagePortLike, options: PushedLinkOptions = {}) {
    super('messagePortEndpoint', options);
    this.port = port;
    port.addEventListener('message', this.onMessage);
    port.start();
  }

  /** Stops listening and closes the port; the other end hears nothing more. */
  close(): void {
    if (this.isCut) return;
    this.cut();
    this.port.removeEventListener('message', this.onMessage);
    this.port.close();
  }

  protected transmit(frame: Uint8Array): LinkDropReason | null {
    // Transferring needs an ArrayBuffer of the frame alone (a stack's frames
    // are views into shared blocks), so the frame is copied into one, which
    // then moves to the other side without a second copy.
    const copy = frame.slice();
    this.port.postMessage(copy.buffer, [copy.buffer]);
    return null;
  }
}

/**
 * A link endpoint over a MessagePort. Make one on each end of a channel:
 *
 * ```ts
 * const { port1, port2 } = new MessageChannel();
 * worker.postMessage({ link: port2 }, [port2]);    // the Worker makes the other end
 * const link = messagePortEndpoint(port1);
 * driver.attach(link, { addresses: ['10.0.0.1/24'] });
 * link.onReadable(() => driver.wake());
 * ```
 */
export function messagePortEndpoint(
  port: MessagePortLike,
  options: PushedLinkOptions = {},
): MessagePortEndpoint {
  return new MessagePortEndpoint(port, options);
}
