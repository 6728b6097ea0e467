/**
 * A wrapper that holds back the first frame matching a test for a while
 * before sending it on, as a path that is slow for one packet would: later
 * frames overtake it. The demo uses it to delay a client's first SYN, so that
 * an old duplicate SYN can arrive first.
 */
import { instant, later, type Duration, type Instant } from '../base/index.js';
import type { LinkEndpoint, LinkKind, LinkStats } from './link.js';

/** What {@link holdFirst} holds back, and for how long. */
export interface HoldFirstOptions {
  /** True for the frame to hold; asked of each frame sent until one matches. */
  matches: (frame: Uint8Array) => boolean;
  /** How long the frame is held before it is sent on. */
  holdFor: Duration;
}

/** A {@link LinkEndpoint} that holds back one frame; make it with {@link holdFirst}. */
export class HoldFirstEndpoint implements LinkEndpoint {
  readonly kind: LinkKind;
  /** The endpoint underneath. */
  readonly inner: LinkEndpoint;
  private readonly matches: (frame: Uint8Array) => boolean;
  private readonly holdFor: Duration;
  /** The frame held (a copy: the sender may reuse its buffer), or null. */
  private held: Uint8Array | null = null;
  private due: Instant = instant(0);
  /** Set once a frame matched: only the first is held. */
  private done = false;

  constructor(inner: LinkEndpoint, options: HoldFirstOptions) {
    this.kind = inner.kind;
    this.inner = inner;
    this.matches = options.matches;
    this.holdFor = options.holdFor;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  send(now: Instant, frame: Uint8Array): boolean {
    if (!this.done && this.matches(frame)) {
      this.done = true;
      this.held = frame.slice();
      this.due = later(now, this.holdFor);
      return true;
    }
    return this.inner.send(now, frame);
  }

  receive(now: Instant): Uint8Array | null {
    // The driver calls receive at the deadline pollTimeout gave: send the held frame on then.
    if (this.held !== null && this.due <= now) {
      this.inner.send(now, this.held);
      this.held = null;
    }
    return this.inner.receive(now);
  }

  pollTimeout(): Instant {
    const inner = this.inner.pollTimeout();
    return this.held !== null && this.due < inner ? this.due : inner;
  }

  stats(): LinkStats {
    return this.inner.stats();
  }
}

/** Wraps `endpoint` so that the first frame sent that `options.matches` arrives `options.holdFor` late. */
export function holdFirst(endpoint: LinkEndpoint, options: HoldFirstOptions): HoldFirstEndpoint {
  return new HoldFirstEndpoint(endpoint, options);
}
