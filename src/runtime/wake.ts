/**
 * Joining two live drivers with an in-memory link. A link endpoint has no
 * callbacks (link/link.ts: a device link's driver learns of arrivals from the
 * host), and an in-memory link has no host to say "readable". The sender is
 * the one that knows, so the sending side's endpoint is wrapped to wake the
 * receiving driver.
 */
import type { Instant } from '../base/index.js';
import {
  memoryPair,
  type LinkEndpoint,
  type LinkKind,
  type LinkPair,
  type LinkStats,
} from '../link/index.js';
import type { AttachOptions, Driver } from './driver.js';

/** Anything that can be told "frames are waiting for you". */
export interface Wakeable {
  wake(): void;
}

/**
 * A link endpoint that tells the driver at the other end when a frame has
 * become receivable there. It wraps the sender's outermost endpoint and
 * checks the receiver's endpoint after every call that may move frames:
 * `send`, and a `receive` that returns null (by then a wrapped endpoint that
 * holds frames, e.g. an impairment's delay line, has released what is due).
 */
export class WakingEndpoint implements LinkEndpoint {
  readonly kind: LinkKind;
  readonly mtu: number;
  /** The inner endpoint's: waking changes no frame. */
  readonly checksumOffload: boolean;
  private readonly inner: LinkEndpoint;
  private readonly peerEndpoint: LinkEndpoint;
  private readonly peer: Wakeable;

  /**
   * @param inner the endpoint this side's driver uses
   * @param peerEndpoint the endpoint the other driver polls
   * @param peer the other driver
   */
  constructor(inner: LinkEndpoint, peerEndpoint: LinkEndpoint, peer: Wakeable) {
    this.kind = inner.kind;
    this.mtu = inner.mtu;
    this.checksumOffload = inner.checksumOffload === true;
    this.inner = inner;
    this.peerEndpoint = peerEndpoint;
    this.peer = peer;
  }

  /** Passes `handover` on: waking neither writes nor repeats a frame. */
  send(now: Instant, frame: Uint8Array, handover = false): boolean {
    const ok = this.inner.send(now, frame, handover);
    if (this.peerEndpoint.pollTimeout() <= now) this.peer.wake();
    return ok;
  }

  receive(now: Instant): Uint8Array | null {
    const frame = this.inner.receive(now);
    if (frame === null && this.peerEndpoint.pollTimeout() <= now) this.peer.wake();
    return frame;
  }

  /** Passes the release on, if the inner endpoint takes one. */
  release(frame: Uint8Array): void {
    if (this.inner.release !== undefined) this.inner.release(frame);
  }

  /** The inner endpoint's reclaimed storage, if it has any. */
  reclaim(): Uint8Array | null {
    return this.inner.reclaim !== undefined ? this.inner.reclaim() : null;
  }

  pollTimeout(): Instant {
    return this.inner.pollTimeout();
  }

  stats(): LinkStats {
    return this.inner.stats();
  }
}

/** Options of {@link joinDrivers}. */
export interface JoinOptions {
  /**
   * The link to use; default a new `memoryPair` of `kind` and `mtu`, with
   * checksum offload (nothing else can reach its ends).
   */
  pair?: LinkPair;
  /** Kind of a new memory pair (default 'ethernet'). */
  kind?: LinkKind;
  /** MTU of a new memory pair (default 1500). */
  mtu?: number;
  /** Interface options (addresses) of the first driver's end. */
  a?: AttachOptions;
  /** Interface options (addresses) of the second driver's end. */
  b?: AttachOptions;
}

/**
 * Attaches the two ends of a link to two drivers, each end wrapped to wake
 * the other driver. Returns the interface index on each side.
 */
export function joinDrivers(
  a: Driver,
  b: Driver,
  options: JoinOptions = {},
): { ifIndexA: number; ifIndexB: number } {
  const [ea, eb] =
    options.pair ??
    memoryPair({
      kind: options.kind ?? 'ethernet',
      checksumOffload: true,
      ...(options.mtu ? { mtu: options.mtu } : {}),
    });
  const ifIndexA = a.attach(new WakingEndpoint(ea, eb, b), options.a);
  const ifIndexB = b.attach(new WakingEndpoint(eb, ea, a), options.b);
  return { ifIndexA, ifIndexB };
}
