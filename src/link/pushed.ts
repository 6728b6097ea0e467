/**
 * The part every link to a host channel shares (a web stream, a
 * MessagePort, a WebSocket): frames are pushed at us by the host's events,
 * not pulled at instants, so they wait in a bounded queue until the driver
 * calls `receive()`, and the driver learns of them through a handler set
 * with `onReadable` (the same calling protocol as the TUN/TAP links, see
 * link.ts). What differs per channel is only how a frame goes out
 * ({@link PushedFrameEndpoint.transmit}).
 */
import { NEVER, type Instant } from '../base/index.js';
import {
  LinkCounters,
  LinkDropReason,
  LinkKind,
  checkLinkConfig,
  frameSizeProblem,
  type LinkEndpoint,
  type LinkStats,
} from './link.js';

/** Options common to the host-channel links. */
export interface PushedLinkOptions {
  /** Ethernet frames (the default: a relay switches them) or bare IP packets. */
  kind?: LinkKind;
  /** Largest IP packet (default 1500). Both ends must agree. */
  mtu?: number;
  /**
   * Frames that may wait for `receive()` before later ones are dropped
   * (counted as queue-full), as a NIC's receive ring. Default 1024.
   */
  receiveQueueFrames?: number;
}

/** Default {@link PushedLinkOptions.receiveQueueFrames}. */
const DEFAULT_RECEIVE_QUEUE = 1024;

/**
 * A link endpoint fed by host events. Subclasses call {@link deliver} for
 * each frame that arrives and {@link cut} when the channel ends, and
 * implement {@link transmit}.
 */
export abstract class PushedFrameEndpoint implements LinkEndpoint {
  readonly kind: LinkKind;
  readonly mtu: number;
  protected readonly counters = new LinkCounters();
  private readonly queue: (Uint8Array | null)[];
  private head = 0;
  private count = 0;
  private lastNow: Instant = 0 as Instant;
  private readableHandler: (() => void) | null = null;
  private cutFlag = false;

  protected constructor(who: string, options: PushedLinkOptions) {
    this.kind = options.kind ?? LinkKind.Ethernet;
    this.mtu = options.mtu ?? 1500;
    checkLinkConfig(who, this.kind, this.mtu);
    const capacity = options.receiveQueueFrames ?? DEFAULT_RECEIVE_QUEUE;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `${who}: receiveQueueFrames must be a positive integer, got ${capacity}`,
      );
    }
    this.queue = new Array<Uint8Array | null>(capacity).fill(null);
  }

  /** Whether the channel has ended (closed by either side, or failed): nothing passes any more. */
  get isCut(): boolean {
    return this.cutFlag;
  }

  /**
   * Calls `handler` whenever frames have arrived for `receive()` (once per
   * host event that brought some). A driver wakes there:
   * `endpoint.onReadable(() => driver.wake())`. Null removes it.
   */
  onReadable(handler: (() => void) | null): void {
    this.readableHandler = handler;
    if (handler !== null && this.count > 0) handler();
  }

  send(now: Instant, frame: Uint8Array, handover = false): boolean {
    if (now > this.lastNow) this.lastNow = now;
    const problem = frameSizeProblem(this.kind, this.mtu, frame.length);
    if (problem !== null) {
      this.counters.dropTx(problem);
      return false;
    }
    if (this.cutFlag) {
      this.counters.dropTx(LinkDropReason.Cut);
      return false;
    }
    const outcome = this.transmit(frame, handover);
    if (outcome !== null) {
      this.counters.dropTx(outcome);
      return false;
    }
    this.counters.sent(frame.length);
    return true;
  }

  receive(now: Instant): Uint8Array | null {
    if (now > this.lastNow) this.lastNow = now;
    if (this.count === 0) return null;
    const queue = this.queue;
    const frame = queue[this.head]!;
    queue[this.head] = null;
    this.head = (this.head + 1) % queue.length;
    this.count--;
    this.counters.received(frame.length);
    return frame;
  }

  /** Already due while a frame waits; arrivals later are announced through {@link onReadable}. */
  pollTimeout(): Instant {
    return this.count > 0 ? this.lastNow : NEVER;
  }

  stats(): LinkStats {
    return this.counters.snapshot();
  }

  /**
   * Sends one frame on the channel, which has already passed the size
   * checks; returns null when it went, or why it was dropped. Unless
   * `handover`, the frame's bytes are the caller's again once this returns:
   * copy what the channel keeps.
   */
  protected abstract transmit(frame: Uint8Array, handover: boolean): LinkDropReason | null;

  /** A frame arrived (its bytes are ours to keep): queue it, or drop and count it. */
  protected deliver(frame: Uint8Array): void {
    if (this.cutFlag) return;
    const problem = frameSizeProblem(this.kind, this.mtu, frame.length);
    if (problem !== null) {
      this.counters.dropRx(problem);
      return;
    }
    const queue = this.queue;
    if (this.count === queue.length) {
      this.counters.dropRx(LinkDropReason.QueueFull);
      return;
    }
    queue[(this.head + this.count) % queue.length] = frame;
    this.count++;
    const handler = this.readableHandler;
    if (handler !== null && this.count === 1) handler();
  }

  /** The channel ended: later sends are dropped (as cut); frames already queued can still be received. */
  protected cut(): void {
    this.cutFlag = true;
  }
}

/** The `data` of a message event, whatever the host's event type (the host-channel links read nothing else). */
export function messageData(event: unknown): unknown {
  return typeof event === 'object' && event !== null
    ? (event as { data?: unknown }).data
    : undefined;
}
