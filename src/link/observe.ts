/**
 * An observing wrapper: it tells an observer about every frame that passes,
 * and, for a frame that arrived, also when the stack has finished processing
 * it. The second report is what a tap cannot give: the state a frame left
 * behind. The stack processes a frame between the `receive()` that returned
 * it and its next call into the link (another `receive()`, or
 * `pollTimeout()` once it has nothing left to read), so that next call is
 * when the report is made.
 */
import { instant, type Instant } from '../base/index.js';
import type { LinkEndpoint, LinkKind, LinkStats } from './link.js';

/**
 * What an {@link ObservedEndpoint} reports. `index` numbers the frames that
 * passed either way, from 0, in the order they passed: a pcap tap directly
 * underneath numbers its records the same way.
 */
export interface FrameObserver {
  /** `frame` left: the endpoint underneath accepted it (a refused frame is not reported). */
  sent(index: number, now: Instant, frame: Uint8Array): void;
  /** `frame` arrived and is about to be handed to the stack. */
  arriving(index: number, now: Instant, frame: Uint8Array): void;
  /** The stack has processed `frame`, which arrived at `arrivedAt`. */
  processed(index: number, arrivedAt: Instant, frame: Uint8Array): void;
}

/** A {@link LinkEndpoint} that reports every frame to a {@link FrameObserver}; make it with {@link observeFrames}. */
export class ObservedEndpoint implements LinkEndpoint {
  readonly kind: LinkKind;
  /** The endpoint underneath. */
  readonly inner: LinkEndpoint;
  private readonly observer: FrameObserver;
  /** Frames that passed so far, both ways. */
  private passed = 0;
  /** The frame last received, until the stack is known to have processed it; index -1 when none. */
  private pendingIndex = -1;
  private pendingAt: Instant = instant(0);
  private pendingFrame: Uint8Array | null = null;

  constructor(inner: LinkEndpoint, observer: FrameObserver) {
    this.kind = inner.kind;
    this.inner = inner;
    this.observer = observer;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  send(now: Instant, frame: Uint8Array): boolean {
    // Not passed on as a handover: the observer may look at the frame after it left.
    const accepted = this.inner.send(now, frame);
    if (accepted) this.observer.sent(this.passed++, now, frame);
    return accepted;
  }

  receive(now: Instant): Uint8Array | null {
    this.settle();
    const frame = this.inner.receive(now);
    if (frame !== null) {
      const index = this.passed++;
      this.observer.arriving(index, now, frame);
      this.pendingIndex = index;
      this.pendingAt = now;
      this.pendingFrame = frame;
    }
    return frame;
  }

  pollTimeout(): Instant {
    this.settle();
    return this.inner.pollTimeout();
  }

  stats(): LinkStats {
    return this.inner.stats();
  }

  // No release(): the observer is shown a received frame once more after the
  // stack is done with it, so its storage must not go back to the sender.

  /** Reports the frame last received as processed, if it has not been yet. */
  private settle(): void {
    const frame = this.pendingFrame;
    if (frame === null) return;
    this.pendingFrame = null;
    this.observer.processed(this.pendingIndex, this.pendingAt, frame);
  }
}

/**
 * Wraps `endpoint` so that `observer` hears of every frame sent and
 * received, and of each received frame again once the stack has processed
 * it. Wrap a tap (`observeFrames(pcapTap(link), observer)`) to pair each
 * report with the capture's record of the same index.
 */
export function observeFrames(endpoint: LinkEndpoint, observer: FrameObserver): ObservedEndpoint {
  return new ObservedEndpoint(endpoint, observer);
}
