/**
 * IP fragment reassembly for IPv4 (RFC 791 §3.2, with RFC 815's hole
 * bookkeeping replaced by a sorted list of disjoint fragments) and IPv6
 * (RFC 8200 §4.5). Sans-IO: fragments come in with `now`, the one timer goes
 * out through `pollTimeout()`.
 *
 * The caller parses the IP header and passes the fragmentable part with its
 * byte offset; the key it builds (family, source, destination, identification,
 * and for IPv4 the protocol) picks the datagram. Atomic fragments (offset 0,
 * no more fragments, RFC 6946) should be handled by the caller without
 * reassembly; given here they still come back whole at once, as long as no
 * datagram with that key is pending.
 *
 * Policy, with the reasons:
 *
 * - Overlap (RFC 5722 §4, amended by erratum 3089): a fragment that overlaps
 *   another discards the whole datagram, "including those not yet received".
 *   RFC 5722 speaks of IPv6; Linux applies it to IPv4 as well since 4.19, and
 *   so do we. Unlike Linux, which forgets the datagram at once (so its later
 *   fragments start a fresh queue that can only time out), we keep a
 *   tombstone until the datagram's timer ends so that later fragments are
 *   dropped on arrival, as the RFC asks.
 * - Exact duplicates (same offset, length and bytes) are accepted and ignored:
 *   retransmitting links and duplicating networks make them, and they carry
 *   no conflict. A fragment with the same range but other bytes overlaps.
 * - A non-last fragment whose length is not a multiple of 8 (RFC 8200 §4.5
 *   says discard it; RFC 791 makes it impossible), an empty fragment, a last
 *   fragment that contradicts an earlier one or ends before data already
 *   received, and a fragment past a known end are 'fragment-bad': only that
 *   fragment is dropped and the datagram waits on (as Linux's ip_frag_queue
 *   does with -EINVAL).
 * - A fragment reaching past `maxDatagramSize` is 'fragment-too-big'; the
 *   datagram can never be valid, so it is discarded and tombstoned.
 * - Memory: every partial datagram is charged its payload bytes plus a fixed
 *   overhead per fragment and per datagram (Linux charges skb truesize, which
 *   likewise makes floods of tiny fragments cost what they really cost). A
 *   fragment that would take the total over `maxBytes` is 'fragment-memory';
 *   if its datagram was pending, that datagram is freed and tombstoned too,
 *   since it can no longer complete. (Linux instead refuses every fragment
 *   while over ipfrag_high_thresh and lets the partial queues time out.)
 * - Timeout: the timer starts with the first fragment and is not extended by
 *   later ones (Linux; RFC 791's max(timer, TTL) rule is not followed).
 */
import type { Duration, Instant } from '../base/index.js';
import { NEVER, later } from '../base/index.js';
import { StackDropReason } from './drop.js';

/** Tunables of a {@link Reassembler}. */
export interface ReassemblyConfig {
  /**
   * How long a partial datagram may wait for its remaining fragments, from
   * its first fragment. Linux uses ipfrag_time = 30 s for both families;
   * RFC 8200 §4.5 says 60 s for IPv6 and RFC 791 suggests 15 s as a lower
   * bound for IPv4. We default to Linux's 30 s.
   */
  timeout: Duration;
  /**
   * Largest reassembled payload (the bytes `add` returns), 65535. For IPv4
   * the total datagram including its header must also fit in 65535 bytes
   * (RFC 791 Total Length); a caller that wants that exactly uses
   * 65535 - 20 for IPv4, or checks the header length itself.
   */
  maxDatagramSize: number;
  /** Memory for all partial datagrams together, overheads included (Linux ipfrag_high_thresh, 4 MiB). */
  maxBytes: number;
}

/** Linux's values: 30 s, 65535 bytes, 4 MiB. */
export const DEFAULT_REASSEMBLY_CONFIG: ReassemblyConfig = {
  timeout: 30_000_000 as Duration,
  maxDatagramSize: 65535,
  maxBytes: 4 * 1024 * 1024,
};

/** Bytes charged per stored fragment beyond its payload (bookkeeping, like skb overhead in truesize). */
export const FRAGMENT_OVERHEAD = 64;
/** Bytes charged per pending (or tombstoned) datagram. */
export const DATAGRAM_OVERHEAD = 128;

/** One stored fragment: a private copy of its bytes at [start, start + data.length). */
class Fragment {
  readonly start: number;
  readonly end: number;
  readonly data: Uint8Array;

  constructor(start: number, data: Uint8Array) {
    this.start = start;
    this.end = start + data.length;
    this.data = data;
  }
}

/** One datagram being reassembled, or a tombstone (`dead` set) for one that was discarded. */
class Datagram {
  readonly deadline: Instant;
  /** Disjoint fragments sorted by offset. */
  fragments: Fragment[];
  /** Payload length, known once the last fragment (more-fragments clear) arrived; else -1. */
  totalLength: number;
  /** The highest end offset of any fragment received. */
  maxEnd: number;
  /** Payload bytes held (fragments are disjoint, so this is also the bytes covered). */
  received: number;
  /** Memory charged for this datagram, overheads included. */
  charged: number;
  /** Why the datagram was discarded; its later fragments are dropped with this reason. */
  dead: StackDropReason | null;

  constructor(deadline: Instant) {
    this.deadline = deadline;
    this.fragments = [];
    this.totalLength = -1;
    this.maxEnd = 0;
    this.received = 0;
    this.charged = DATAGRAM_OVERHEAD;
    this.dead = null;
  }
}

/** Reassembles fragmented IPv4 or IPv6 datagrams under a memory bound. See the module comment for the policy. */
export class Reassembler {
  private readonly config: ReassemblyConfig;
  /**
   * Datagrams by key. Map iteration follows insertion, and every datagram's
   * deadline is its creation time plus the same timeout, so with a clock
   * that never goes back the first entry is always the one to expire next.
   */
  private readonly table: Map<string, Datagram>;
  private bytes: number;
  private live: number;

  /** Throws if a setting is out of range (API misuse). */
  constructor(config: ReassemblyConfig) {
    if (!Number.isFinite(config.timeout) || config.timeout <= 0) {
      throw new RangeError(
        `ReassemblyConfig.timeout must be a positive duration, got ${config.timeout}`,
      );
    }
    if (!Number.isInteger(config.maxDatagramSize) || config.maxDatagramSize < 1) {
      throw new RangeError(
        `ReassemblyConfig.maxDatagramSize must be a positive integer, got ${config.maxDatagramSize}`,
      );
    }
    if (!Number.isInteger(config.maxBytes) || config.maxBytes < 0) {
      throw new RangeError(
        `ReassemblyConfig.maxBytes must be a non-negative integer, got ${config.maxBytes}`,
      );
    }
    this.config = {
      timeout: config.timeout,
      maxDatagramSize: config.maxDatagramSize,
      maxBytes: config.maxBytes,
    };
    this.table = new Map();
    this.bytes = 0;
    this.live = 0;
  }

  /** Datagrams waiting for fragments (tombstones not included). */
  get pendingDatagrams(): number {
    return this.live;
  }

  /** Discarded datagrams whose later fragments are still being refused until their timer ends. */
  get discardedDatagrams(): number {
    return this.table.size - this.live;
  }

  /** Memory charged for all partial datagrams and tombstones: payload plus overheads. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /**
   * Adds the fragment at byte `offset` of datagram `key`. Returns the whole
   * payload (a fresh array) when this fragment completes it, null while
   * fragments are missing, or why the fragment was dropped. `data` is copied.
   */
  add(
    now: Instant,
    key: string,
    offset: number,
    moreFragments: boolean,
    data: Uint8Array,
  ): Uint8Array | null | StackDropReason {
    const length = data.length;
    const end = offset + length;
    // Offsets come from a 13-bit field in units of 8 bytes (RFC 791, RFC 8200 §4.5).
    if (!Number.isInteger(offset) || offset < 0 || (offset & 7) !== 0) {
      return StackDropReason.FragmentBad;
    }
    // An empty fragment adds nothing and only costs memory (Linux drops it too).
    if (length === 0) return StackDropReason.FragmentBad;
    // RFC 8200 §4.5: a fragment with M set must carry a multiple of 8 bytes.
    if (moreFragments && (length & 7) !== 0) return StackDropReason.FragmentBad;

    let d = this.table.get(key);
    if (d !== undefined && d.dead !== null) return d.dead;

    if (end > this.config.maxDatagramSize) {
      // Can never make a valid datagram: discard what we have and refuse the rest.
      if (d !== undefined) this.kill(d, StackDropReason.FragmentTooBig);
      return StackDropReason.FragmentTooBig;
    }

    let index = 0;
    if (d !== undefined) {
      if (!moreFragments) {
        // A second last fragment must agree; no data may lie beyond the end (RFC 8200 §4.5, Linux).
        if (d.totalLength !== -1 && d.totalLength !== end) return StackDropReason.FragmentBad;
        if (d.maxEnd > end) return StackDropReason.FragmentBad;
      } else if (d.totalLength !== -1 && end > d.totalLength) {
        return StackDropReason.FragmentBad;
      }
      index = firstAtOrAfter(d.fragments, offset);
      const verdict = this.checkOverlap(d, index, offset, end, data);
      if (verdict === DUPLICATE) return null;
      if (verdict === OVERLAP) {
        // RFC 5722 §4: the whole datagram goes, including fragments not yet received.
        this.kill(d, StackDropReason.FragmentOverlap);
        return StackDropReason.FragmentOverlap;
      }
    }

    const cost = length + FRAGMENT_OVERHEAD + (d === undefined ? DATAGRAM_OVERHEAD : 0);
    if (this.bytes + cost > this.config.maxBytes) {
      // The datagram cannot complete without this fragment: free it now rather than at timeout.
      if (d !== undefined) this.kill(d, StackDropReason.FragmentMemory);
      return StackDropReason.FragmentMemory;
    }

    if (d === undefined) {
      d = new Datagram(later(now, this.config.timeout));
      this.table.set(key, d);
      this.live++;
      this.bytes += DATAGRAM_OVERHEAD;
    }
    // slice: a copy; the input is a view into a receive buffer we must not pin.
    d.fragments.splice(index, 0, new Fragment(offset, data.slice()));
    d.received += length;
    d.charged += length + FRAGMENT_OVERHEAD;
    this.bytes += length + FRAGMENT_OVERHEAD;
    if (end > d.maxEnd) d.maxEnd = end;
    if (!moreFragments) d.totalLength = end;

    if (d.totalLength === -1 || d.received !== d.totalLength) return null;
    // Disjoint fragments covering exactly [0, totalLength): the datagram is whole.
    const out = new Uint8Array(d.totalLength);
    const frags = d.fragments;
    for (let i = 0; i < frags.length; i++) out.set(frags[i]!.data, frags[i]!.start);
    this.table.delete(key);
    this.live--;
    this.bytes -= d.charged;
    return out;
  }

  /** When the oldest datagram (or tombstone) expires, or NEVER. */
  pollTimeout(): Instant {
    for (const d of this.table.values()) return d.deadline;
    return NEVER;
  }

  /**
   * Drops datagrams whose timer has run out and returns how many were still
   * waiting (count each as 'fragment-timeout'); expired tombstones are
   * removed without being counted again. A late or early call is harmless.
   */
  handleTimeout(now: Instant): number {
    let expired = 0;
    for (const [key, d] of this.table) {
      if (d.deadline > now) break; // insertion order is deadline order
      this.table.delete(key);
      this.bytes -= d.charged;
      if (d.dead === null) {
        this.live--;
        expired++;
      }
    }
    return expired;
  }

  /**
   * Compares [offset, end) with its would-be neighbours in the sorted list:
   * the fragment before `index` and the one at it. Fragments are disjoint, so
   * no other one can reach into the range.
   */
  private checkOverlap(
    d: Datagram,
    index: number,
    offset: number,
    end: number,
    data: Uint8Array,
  ): number {
    const frags = d.fragments;
    if (index > 0 && frags[index - 1]!.end > offset) return OVERLAP;
    if (index < frags.length) {
      const next = frags[index]!;
      if (next.start === offset && next.end === end) {
        return sameBytes(next.data, data) ? DUPLICATE : OVERLAP;
      }
      if (next.start < end) return OVERLAP;
    }
    return FITS;
  }

  /** Frees a datagram's fragments and leaves a tombstone until its deadline. */
  private kill(d: Datagram, reason: StackDropReason): void {
    this.bytes -= d.charged - DATAGRAM_OVERHEAD;
    d.charged = DATAGRAM_OVERHEAD;
    d.fragments = [];
    d.received = 0;
    d.dead = reason;
    this.live--;
  }
}

const FITS = 0;
const DUPLICATE = 1;
const OVERLAP = 2;

/** Index of the first fragment starting at or after `offset` (binary search). */
function firstAtOrAfter(frags: Fragment[], offset: number): number {
  let lo = 0;
  let hi = frags.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (frags[mid]!.start < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
