/**
 * The link interface: what a stack sends frames into and receives frames
 * from. It is sans-IO in the same way as the rest of the core: every call
 * that depends on time is given `now`, and the endpoint tells its driver the
 * next instant it needs attention through {@link LinkEndpoint.pollTimeout}.
 * A driver with a real clock and the virtual-time simulator run it the same
 * way, with one timer for the stack and its link together.
 */
import type { Instant } from '../base/index.js';

/** What a link carries: Ethernet frames (a TAP device) or bare IP packets (a TUN device). */
export const LinkKind = {
  /** IEEE 802.3 frames without the FCS: 14-byte header, then the payload. */
  Ethernet: 'ethernet',
  /** Bare IPv4 or IPv6 packets; the version nibble says which. */
  Ip: 'ip',
} as const;

/** One of {@link LinkKind}. */
export type LinkKind = (typeof LinkKind)[keyof typeof LinkKind];

/** Destination, source, EtherType (IEEE 802.3 clause 3.1.1); the FCS is not part of a frame here. */
export const ETHERNET_HEADER_LENGTH = 14;

/**
 * RFC 791 (p. 25): every internet module must be able to forward a datagram
 * of 68 octets without fragmenting it, so no IP link has a smaller MTU.
 */
export const MIN_MTU = 68;

/** The largest IPv4 packet a 16-bit total length can describe (RFC 791); IPv6 jumbograms (RFC 2675) are out of scope. */
export const MAX_MTU = 65535;

/**
 * Frames shorter than this are never given back by `release()`
 * ({@link LinkEndpoint.release}), so a driver need not release them: they
 * cost less to make afresh than to send back (and a stack carves them from
 * shared blocks it would not reuse one by one).
 */
export const RELEASE_MIN_FRAME = 16 * 1024;

/** Why a link dropped a frame. Links never throw on a frame: they count it under one of these. */
export const LinkDropReason = {
  /** Longer than the MTU (plus the Ethernet header on an Ethernet link). */
  TooBig: 'too-big',
  /** Shorter than an Ethernet header, or an empty IP packet. */
  TooShort: 'too-short',
  /** A queue (the receiver's backlog, or a rate limiter's drop-tail queue) had no room. */
  QueueFull: 'queue-full',
  /** Random (independent, Bernoulli) loss. */
  Loss: 'loss',
  /** Loss from the Gilbert–Elliott burst model. */
  BurstLoss: 'burst-loss',
  /** The link was cut: sent while cut, or in flight when the cut came. */
  Cut: 'cut',
} as const;

/** One of {@link LinkDropReason}. */
export type LinkDropReason = (typeof LinkDropReason)[keyof typeof LinkDropReason];

/** Frames dropped, counted per {@link LinkDropReason}; every reason is present. */
export type LinkDropCounts = Record<LinkDropReason, number>;

/**
 * Counters of one endpoint, in the spirit of the interface counters of
 * `ip -s link` (tx/rx packets, bytes, dropped). A snapshot: later traffic
 * does not change an object already returned.
 *
 * How they add up:
 * - every frame offered to `send()` is either accepted (counted in
 *   `txFrames`) or refused (`send()` returned false; counted in `txDropped`);
 *   a frame accepted and lost later on the way out (impairment, a cut) is
 *   counted in `txFrames` *and* `txDropped`;
 * - `rxDropped` counts frames that reached this endpoint but were discarded
 *   before `receive()` could return them;
 * - the values of `drops` sum to `txDropped + rxDropped`.
 *
 * A wrapping endpoint (impairment, tap) reports its own boundary in the
 * tx/rx frame and byte counters and adds the drops of the endpoint it wraps,
 * so the outermost endpoint accounts for every frame its user handed over.
 */
export interface LinkStats {
  /** Frames `send()` accepted. */
  txFrames: number;
  /** Bytes of the frames `send()` accepted. */
  txBytes: number;
  /** Frames dropped on the way out: refused by `send()`, or accepted and lost afterwards. */
  txDropped: number;
  /** Frames `receive()` returned. */
  rxFrames: number;
  /** Bytes of the frames `receive()` returned. */
  rxBytes: number;
  /** Frames that arrived but were dropped before `receive()` returned them. */
  rxDropped: number;
  /** Both directions' drops by reason. */
  drops: LinkDropCounts;
}

/**
 * One end of a link.
 *
 * Calling protocol (the same for every link, real or simulated):
 * - Every method that takes `now` first brings the endpoint up to `now`:
 *   frames whose time has come move on (a delayed outgoing frame departs,
 *   an arriving frame becomes receivable). Instants passed to one endpoint
 *   never decrease.
 * - `send(now, frame)` offers a frame. The endpoint **copies** what it keeps:
 *   the caller may reuse `frame` as soon as `send` returns (a stack builds
 *   frames in one scratch buffer). It returns false when the frame is refused
 *   here and now (too big, too short, a full local queue); it never throws on
 *   a frame. Loss further along the path is silent, as on a real network.
 * - `send(now, frame, true)` hands the frame over instead: the caller
 *   promises that neither it nor anyone else will write `frame`'s bytes
 *   again, and that they overlap no other frame it sends, so the endpoint may
 *   keep `frame` itself and deliver it as is, with no copy (as Linux's
 *   loopback passes the skb along rather than copying it). An endpoint that
 *   cannot use the promise copies as usual; a wrapper passes the promise on
 *   only if it neither writes the frame nor sends it twice. The receiver's
 *   guarantee below is the same either way. A stack makes this promise for
 *   every frame it emits (Stack.pollTransmit).
 * - `receive(now)` returns the next frame that has arrived by `now`, or null.
 *   The returned bytes are **the caller's**: the link and the sender never
 *   write them again, so they may be kept or modified. They need not be an
 *   ArrayBuffer of their own (a link may carve frames from shared blocks, as
 *   the memory pair does): use the view's `byteOffset`/`byteLength`, never
 *   `frame.buffer` whole, and `slice` a small piece kept long rather than
 *   pin the block with a `subarray`.
 * - `pollTimeout()` is the earliest instant at which the endpoint may have
 *   something to do: a frame becomes receivable or a held frame departs.
 *   It is honest: nothing becomes receivable before it, so a driver that
 *   sleeps until then misses nothing. It may be in the past (a frame is
 *   already waiting). `NEVER` when nothing is pending. A driver's loop is
 *   therefore: when the timer at `min(stack, link pollTimeout)` fires, call
 *   `receive(now)` until it returns null, feed the stack, `send` what the
 *   stack emits, and re-arm. After `receive(now)` has returned null,
 *   `pollTimeout()` is later than `now`, so the loop cannot spin.
 * - A link backed by a host device (TUN/TAP) learns of arrivals from the
 *   host, not from time: its `pollTimeout()` covers only what it holds
 *   itself, and its driver also calls `receive` when the host says the
 *   device is readable. There are no callbacks in this interface.
 */
export interface LinkEndpoint {
  /** Whether frames are Ethernet frames or bare IP packets. */
  readonly kind: LinkKind;
  /**
   * The largest IP packet the link carries, in bytes. An Ethernet frame may
   * be {@link ETHERNET_HEADER_LENGTH} bytes longer.
   */
  readonly mtu: number;
  /**
   * Checksum offload, as Linux's loopback has it: true when this endpoint
   * and its peer are joined with nothing that could change or record a frame
   * in between, so a stack on it neither computes TCP checksums (the field is
   * sent as 0) nor verifies them; a stack on the peer must do the same, so
   * the peer sets it too. Absent means false: host devices (TUN/TAP),
   * impairment and capture wrappers never set it, and refuse to wrap an
   * endpoint that has it (a one-sided wrapper would break the bargain).
   */
  readonly checksumOffload?: boolean;
  /**
   * Offers a frame at `now`; false if refused here. Never throws on a frame.
   * Copies it, unless `handover` is true: then the caller gives the frame's
   * bytes away (it never writes them again and they overlap no other frame),
   * and the endpoint may deliver `frame` itself. Default false.
   */
  send(now: Instant, frame: Uint8Array, handover?: boolean): boolean;
  /** The next frame that has arrived by `now` (the caller's to keep), or null. */
  receive(now: Instant): Uint8Array | null;
  /**
   * Optional. The caller is done with the frame the last `receive()` returned:
   * it keeps no reference and will neither read nor write it again. An
   * endpoint whose peer handed that frame over may give its storage back to
   * the peer's sender ({@link LinkEndpoint.reclaim}), as a NIC's transmit
   * ring gets its buffers back; otherwise it ignores the call. A driver
   * calls it only between `receive()` and the next `receive()`, and need not
   * for frames shorter than {@link RELEASE_MIN_FRAME}.
   */
  release?(frame: Uint8Array): void;
  /**
   * Optional. Storage of a frame this endpoint's user handed over
   * (`send(now, frame, true)`) that the receiver has released, now free for
   * the user to build frames in again (Stack.recycleFrame); null when none.
   * Nobody else reads or writes it any more.
   */
  reclaim?(): Uint8Array | null;
  /** The earliest instant at which `receive()` may return a frame or a held frame departs; `NEVER` if none. */
  pollTimeout(): Instant;
  /** A snapshot of the counters. */
  stats(): LinkStats;
}

/** The two ends of a link: what one sends, the other receives. */
export type LinkPair<E extends LinkEndpoint = LinkEndpoint> = readonly [E, E];

/**
 * Throws unless `inner` may be wrapped by `who`: a wrapper that can change
 * or record frames cannot sit on a checksum-offload endpoint (its peer would
 * send frames without checksums through it, or trust what it altered).
 */
export function checkWrappable(who: string, inner: LinkEndpoint): void {
  if (inner.checksumOffload === true) {
    throw new RangeError(
      `${who}: cannot wrap an endpoint with checksum offload; make the pair without it ` +
        '(memoryPair({ checksumOffload: false }), the default)',
    );
  }
}

/** The longest frame a link of this kind and MTU carries. */
export function maxFrameLength(kind: LinkKind, mtu: number): number {
  return kind === LinkKind.Ethernet ? mtu + ETHERNET_HEADER_LENGTH : mtu;
}

/** The shortest frame a link of this kind carries: an Ethernet header, or one byte of IP. */
export function minFrameLength(kind: LinkKind): number {
  return kind === LinkKind.Ethernet ? ETHERNET_HEADER_LENGTH : 1;
}

/**
 * Why a frame of `length` bytes cannot go on a link of this kind and MTU, or
 * null when it can.
 */
export function frameSizeProblem(
  kind: LinkKind,
  mtu: number,
  length: number,
): LinkDropReason | null {
  if (length > maxFrameLength(kind, mtu)) return LinkDropReason.TooBig;
  if (length < minFrameLength(kind)) return LinkDropReason.TooShort;
  return null;
}

/** Throws a RangeError unless `kind` is a {@link LinkKind} and `mtu` an integer in [{@link MIN_MTU}, {@link MAX_MTU}]. */
export function checkLinkConfig(who: string, kind: LinkKind, mtu: number): void {
  if (kind !== LinkKind.Ethernet && kind !== LinkKind.Ip) {
    throw new RangeError(`${who}: kind must be 'ethernet' or 'ip', got ${String(kind)}`);
  }
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) {
    throw new RangeError(
      `${who}: mtu must be an integer from ${MIN_MTU} (RFC 791) to ${MAX_MTU}, got ${mtu}`,
    );
  }
}

/** A drop-count record with every reason at zero. */
export function emptyDropCounts(): LinkDropCounts {
  return {
    'too-big': 0,
    'too-short': 0,
    'queue-full': 0,
    loss: 0,
    'burst-loss': 0,
    cut: 0,
  };
}

/** Every {@link LinkDropReason}, for iterating over a {@link LinkDropCounts}. */
export const LINK_DROP_REASONS: readonly LinkDropReason[] = [
  LinkDropReason.TooBig,
  LinkDropReason.TooShort,
  LinkDropReason.QueueFull,
  LinkDropReason.Loss,
  LinkDropReason.BurstLoss,
  LinkDropReason.Cut,
];

/**
 * The mutable counters behind {@link LinkStats}, for link implementations:
 * one per endpoint, updated per frame without allocating.
 */
export class LinkCounters {
  txFrames = 0;
  txBytes = 0;
  txDropped = 0;
  rxFrames = 0;
  rxBytes = 0;
  rxDropped = 0;
  readonly drops: LinkDropCounts = emptyDropCounts();

  /** A frame accepted by `send()`. */
  sent(length: number): void {
    this.txFrames++;
    this.txBytes += length;
  }

  /** A frame returned by `receive()`. */
  received(length: number): void {
    this.rxFrames++;
    this.rxBytes += length;
  }

  /** A frame dropped on the way out. */
  dropTx(reason: LinkDropReason): void {
    this.txDropped++;
    this.drops[reason]++;
  }

  /** A frame dropped on the way in. */
  dropRx(reason: LinkDropReason): void {
    this.rxDropped++;
    this.drops[reason]++;
  }

  /** A snapshot as {@link LinkStats}. */
  snapshot(): LinkStats {
    return {
      txFrames: this.txFrames,
      txBytes: this.txBytes,
      txDropped: this.txDropped,
      rxFrames: this.rxFrames,
      rxBytes: this.rxBytes,
      rxDropped: this.rxDropped,
      drops: { ...this.drops },
    };
  }
}

/**
 * Adds the drops of `inner` (the stats of a wrapped endpoint) into `outer`,
 * in place, and returns `outer`: a wrapper's user sees every frame it handed
 * over accounted for, wherever below it was dropped.
 */
export function addInnerDrops(outer: LinkStats, inner: LinkStats): LinkStats {
  outer.txDropped += inner.txDropped;
  outer.rxDropped += inner.rxDropped;
  for (const reason of LINK_DROP_REASONS) outer.drops[reason] += inner.drops[reason];
  return outer;
}
