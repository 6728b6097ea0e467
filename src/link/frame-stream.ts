/**
 * A link made of a pair of web streams of frames: each chunk of `readable`
 * is one arriving frame, each frame sent is one chunk written to
 * `writable`. Anything that can carry a stream of messages (a WebTransport
 * stream with framing, a TransformStream joining two stacks in one page, a
 * test harness) becomes a link this way.
 *
 * The streams are described by the little this file uses of them, so the
 * core compiles without DOM types; any WHATWG stream fits.
 */
import { LinkDropReason } from './link.js';
import { PushedFrameEndpoint, type PushedLinkOptions } from './pushed.js';

/** What the link reads frames from (a WHATWG `ReadableStream<Uint8Array>`). */
export interface FrameReadableStream {
  getReader(): {
    read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
    cancel(reason?: unknown): Promise<void>;
  };
}

/** What the link writes frames to (a WHATWG `WritableStream<Uint8Array>`). */
export interface FrameWritableStream {
  getWriter(): {
    write(chunk: Uint8Array): Promise<void>;
    close(): Promise<void>;
  };
}

/** Options of {@link frameStreamEndpoint}. */
export interface FrameStreamOptions extends PushedLinkOptions {
  /**
   * Frames written and not yet taken by the writable's sink before later
   * ones are dropped (counted as queue-full), as a NIC's transmit ring.
   * Default 1024.
   */
  transmitQueueFrames?: number;
}

/** A {@link LinkEndpoint} over a readable and a writable stream of frames; see {@link frameStreamEndpoint}. */
export class FrameStreamEndpoint extends PushedFrameEndpoint {
  private readonly writer: ReturnType<FrameWritableStream['getWriter']>;
  private readonly reader: ReturnType<FrameReadableStream['getReader']>;
  private readonly transmitQueue: number;
  private inFlight = 0;
  /** Settles a write: one bound function, not a closure per frame. */
  private readonly written = (): void => {
    this.inFlight--;
  };
  private readonly writeFailed = (): void => {
    this.inFlight--;
    this.cut();
  };

  constructor(
    readable: FrameReadableStream,
    writable: FrameWritableStream,
    options: FrameStreamOptions = {},
  ) {
    super('frameStreamEndpoint', options);
    this.transmitQueue = options.transmitQueueFrames ?? 1024;
    this.writer = writable.getWriter();
    this.reader = readable.getReader();
    void this.readLoop();
  }

  /** Ends both streams: the writable is closed, the readable cancelled. */
  close(): void {
    if (this.isCut) return;
    this.cut();
    this.writer.close().catch(() => {});
    this.reader.cancel().catch(() => {});
  }

  protected transmit(frame: Uint8Array, handover: boolean): LinkDropReason | null {
    if (this.inFlight >= this.transmitQueue) return LinkDropReason.QueueFull;
    this.inFlight++;
    // A stream keeps the chunk until its sink takes it: a copy, unless the
    // caller gave the bytes away.
    this.writer.write(handover ? frame : frame.slice()).then(this.written, this.writeFailed);
    return null;
  }

  private async readLoop(): Promise<void> {
    const reader = this.reader;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value instanceof Uint8Array) this.deliver(value);
        else this.counters.dropRx(LinkDropReason.TooShort); // not a frame at all
      }
    } catch {
      // The readable failed: the link is down, as when it ends.
    }
    this.cut();
  }
}

/**
 * A link endpoint over web streams of frames. The driver learns of arrivals
 * through `onReadable`:
 *
 * ```ts
 * const link = frameStreamEndpoint(readable, writable);
 * driver.attach(link, { addresses: ['10.0.0.1/24'] });
 * link.onReadable(() => driver.wake());
 * ```
 */
export function frameStreamEndpoint(
  readable: FrameReadableStream,
  writable: FrameWritableStream,
  options: FrameStreamOptions = {},
): FrameStreamEndpoint {
  return new FrameStreamEndpoint(readable, writable, options);
}
