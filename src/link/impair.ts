/**
 * A wrapper that makes a link behave like a bad network, in the manner of
 * Linux's netem qdisc: loss (independent and Gilbert–Elliott bursts), delay
 * with jitter, reordering, duplication, single-bit corruption, a rate limit
 * with a drop-tail queue, a narrower MTU somewhere on the path, and cuts.
 * All randomness comes from a seeded generator, so a run repeats exactly.
 *
 * Each direction has its own conditions and its own random stream:
 * "outgoing" acts on frames given to `send()` before they reach the wrapped
 * endpoint, "incoming" on frames the wrapped endpoint receives before
 * `receive()` returns them. Options at the top level apply to both
 * directions; `outgoing` / `incoming` override them field by field. So
 * wrapping one end of a memory pair with `{ loss: 0.01 }` loses 1% each way;
 * to give the two directions different conditions, either wrap one end and
 * set `outgoing` and `incoming`, or wrap each end with `outgoing` only.
 *
 * A frame's path through one direction, in this order:
 *   cut? -> path MTU -> rate limiter (drop-tail queue, serialisation)
 *   -> loss -> burst loss -> duplication -> for each copy: corruption,
 *   delay + jitter, maybe held back extra (reordering) -> held until due.
 * Losses come after the rate limiter because a frame lost on the wire still
 * used its time on it.
 */
import { SeededRng, chance, randomInt } from '../base/index.js';
import type { Duration, Instant, Rng } from '../base/index.js';
import {
  ETHERNET_HEADER_LENGTH,
  LinkCounters,
  LinkDropReason,
  LinkKind,
  MAX_MTU,
  MIN_MTU,
  addInnerDrops,
  checkWrappable,
  frameSizeProblem,
  maxFrameLength,
} from './link.js';
import type { LinkEndpoint, LinkStats } from './link.js';
import {
  ETHERNET_ETHERTYPE,
  Ecn,
  EtherType,
  IPV4_CHECKSUM,
  IPV4_DSCP_ECN,
  IPV4_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
} from '../wire/index.js';

/**
 * The Gilbert–Elliott two-state loss model (Gilbert 1960, Elliott 1963; the
 * parameterisation of RFC 3611 §4.7.2 and netem's `loss gemodel p r 1-h 1-k`).
 * The chain moves once per frame. With `lossGood = 0` and `lossBad = 1`
 * (Gilbert's original model) every stay in the bad state is a burst of
 * losses whose mean length is `1 / pBadToGood` frames, and the long-run
 * loss rate is `pGoodToBad / (pGoodToBad + pBadToGood)`.
 */
export interface GilbertElliott {
  /** p: per frame, the probability of moving from the good state to the bad one. */
  pGoodToBad: number;
  /** r: per frame, the probability of moving from the bad state back to the good one. */
  pBadToGood: number;
  /** 1 - k: the probability of losing a frame in the good state. Default 0. */
  lossGood?: number;
  /** h: the probability of losing a frame in the bad state. Default 1. */
  lossBad?: number;
}

/** Conditions for one direction. Every field is optional; absent means "leave as is" (or the default). */
export interface Impairment {
  /** Probability that a frame is lost, independently of the others. Default 0. */
  loss?: number;
  /** Burst loss on top of `loss`; null for none. Default null. */
  burst?: GilbertElliott | null;
  /** Fixed one-way delay. Default 0. */
  delay?: Duration;
  /**
   * Each frame's delay is `delay` plus a uniform integer in [-jitter, +jitter]
   * µs (never below zero). Jitter alone keeps frames in order, as on a
   * single path: a frame is never released before one sent earlier (netem
   * does the same when a rate is set). Default 0.
   */
  jitter?: Duration;
  /** Probability that a frame is held back by `reorderDelay`, letting later frames overtake it. Default 0. */
  reorder?: number;
  /** The extra hold of a reordered frame. Default 10 ms. */
  reorderDelay?: Duration;
  /** Probability that a frame is delivered twice (each copy has its own delay). Default 0. */
  duplicate?: number;
  /**
   * Probability that a copy has one bit flipped. On an Ethernet link the bit
   * is chosen after the 14-byte header: a real Ethernet's FCS discards any
   * damaged frame, so what reaches a stack damaged was damaged beyond the
   * link (in a router's memory, say) and must be caught by the IP, TCP and
   * UDP checksums. On an IP link any bit may flip. Default 0.
   */
  corrupt?: number;
  /** Bandwidth in bits per second; 0 for unlimited. Default 0. */
  rate?: number;
  /**
   * Capacity of the rate limiter's drop-tail queue in bytes: the bytes not
   * yet serialised, counting the rest of the frame on the wire. A frame that
   * does not fit is dropped (`queue-full`); outgoing, `send()` returns false,
   * as a full qdisc reports to its sender. Default 65536.
   */
  queueBytes?: number;
  /**
   * ECN marking at the rate limiter's queue (RFC 3168 §5, a step-threshold
   * AQM like DCTCP's, RFC 8257 §3.1): an IPv4 or IPv6 packet that carries
   * ECT(0) or ECT(1) and arrives while the queue holds more than this many
   * bytes is queued marked CE; Not-ECT packets are queued unmarked (and
   * dropped only when the queue is full). Needs a `rate`. Default Infinity
   * (no marking).
   */
  ecnThreshold?: number;
  /**
   * The MTU of a narrower hop further along the path, 0 for none: bigger
   * frames are dropped silently (`too-big`), a PMTU black hole. The
   * endpoint's own `mtu` stays the wrapped link's. Default 0.
   */
  mtu?: number;
}

/** A change of conditions: top-level fields apply to both directions, then the per-direction ones. */
export interface ImpairSettings extends Impairment {
  /** Overrides for frames given to `send()`. */
  outgoing?: Impairment;
  /** Overrides for frames arriving from the wrapped endpoint. */
  incoming?: Impairment;
}

/** Options of {@link impair}. Give a `seed` (or an `rng`): the two directions draw from streams derived from it. */
export interface ImpairOptions extends ImpairSettings {
  /** Seed of the random streams. */
  seed?: number;
  /** A generator to derive the random streams from, instead of `seed`. */
  rng?: Rng;
}

/** The Gilbert–Elliott parameters with defaults filled in. */
export interface ResolvedGilbertElliott {
  pGoodToBad: number;
  pBadToGood: number;
  lossGood: number;
  lossBad: number;
}

/** The conditions in force for one direction, every field set. */
export interface ResolvedImpairment {
  loss: number;
  burst: ResolvedGilbertElliott | null;
  delay: Duration;
  jitter: Duration;
  reorder: number;
  reorderDelay: Duration;
  duplicate: number;
  corrupt: number;
  rate: number;
  queueBytes: number;
  ecnThreshold: number;
  mtu: number;
}

/** What one direction did, beyond the drops in {@link LinkStats}. */
export interface ImpairDirectionStats {
  /** Frames that entered this direction (not counting those refused for size or dropped by a cut). */
  frames: number;
  /** Extra copies made. */
  duplicated: number;
  /** Copies with a bit flipped. */
  corrupted: number;
  /** Copies held back to be overtaken. */
  reordered: number;
  /** ECN-capable packets marked CE by the queue (see `ecnThreshold`). */
  ceMarked: number;
  /** Copies in flight now. */
  held: number;
}

/** The impairment counters of both directions. */
export interface ImpairStats {
  outgoing: ImpairDirectionStats;
  incoming: ImpairDirectionStats;
}

/** No impairment: what a direction starts from. */
export const NO_IMPAIRMENT: Readonly<ResolvedImpairment> = {
  loss: 0,
  burst: null,
  delay: 0 as Duration,
  jitter: 0 as Duration,
  reorder: 0,
  reorderDelay: 10_000 as Duration,
  duplicate: 0,
  corrupt: 0,
  rate: 0,
  queueBytes: 65536,
  ecnThreshold: Infinity,
  mtu: 0,
};

const MICROS_PER_SECOND = 1_000_000;
/**
 * Slack when comparing the rate limiter's backlog, computed in floating
 * point from time and rate, with the queue size: without it a queue filled
 * exactly to its limit could refuse the last frame by a rounding error.
 */
const BACKLOG_EPSILON = 1e-6;

// ---------------------------------------------------------------- options

function checkProbability(who: string, name: string, p: number): void {
  if (!(p >= 0 && p <= 1))
    throw new RangeError(`${who}: ${name} must be a probability in [0, 1], got ${p}`);
}

function checkMicros(who: string, name: string, d: number): void {
  if (!Number.isSafeInteger(d) || d < 0) {
    throw new RangeError(
      `${who}: ${name} must be a whole, non-negative number of microseconds (use millis()), got ${d}`,
    );
  }
}

function resolveBurst(who: string, burst: GilbertElliott | null): ResolvedGilbertElliott | null {
  if (burst === null) return null;
  const resolved: ResolvedGilbertElliott = {
    pGoodToBad: burst.pGoodToBad,
    pBadToGood: burst.pBadToGood,
    lossGood: burst.lossGood ?? 0,
    lossBad: burst.lossBad ?? 1,
  };
  checkProbability(who, 'burst.pGoodToBad', resolved.pGoodToBad);
  checkProbability(who, 'burst.pBadToGood', resolved.pBadToGood);
  checkProbability(who, 'burst.lossGood', resolved.lossGood);
  checkProbability(who, 'burst.lossBad', resolved.lossBad);
  return resolved;
}

/** `base` with the fields present in `over` replaced, checked. */
function resolveImpairment(
  who: string,
  base: ResolvedImpairment,
  over: Impairment | undefined,
): ResolvedImpairment {
  if (over === undefined) return base;
  const r: ResolvedImpairment = {
    loss: over.loss ?? base.loss,
    burst: over.burst === undefined ? base.burst : resolveBurst(who, over.burst),
    delay: over.delay ?? base.delay,
    jitter: over.jitter ?? base.jitter,
    reorder: over.reorder ?? base.reorder,
    reorderDelay: over.reorderDelay ?? base.reorderDelay,
    duplicate: over.duplicate ?? base.duplicate,
    corrupt: over.corrupt ?? base.corrupt,
    rate: over.rate ?? base.rate,
    queueBytes: over.queueBytes ?? base.queueBytes,
    ecnThreshold: over.ecnThreshold ?? base.ecnThreshold,
    mtu: over.mtu ?? base.mtu,
  };
  checkProbability(who, 'loss', r.loss);
  checkProbability(who, 'reorder', r.reorder);
  checkProbability(who, 'duplicate', r.duplicate);
  checkProbability(who, 'corrupt', r.corrupt);
  checkMicros(who, 'delay', r.delay);
  checkMicros(who, 'jitter', r.jitter);
  checkMicros(who, 'reorderDelay', r.reorderDelay);
  if (!(r.rate >= 0 && r.rate < Infinity)) {
    throw new RangeError(
      `${who}: rate must be a finite number of bits per second (0: unlimited), got ${r.rate}`,
    );
  }
  if (!(r.queueBytes >= 0) || (r.queueBytes !== Infinity && !Number.isInteger(r.queueBytes))) {
    throw new RangeError(
      `${who}: queueBytes must be a whole number of bytes (or Infinity), got ${r.queueBytes}`,
    );
  }
  if (!(r.ecnThreshold >= 0)) {
    throw new RangeError(
      `${who}: ecnThreshold must be a number of bytes >= 0 (Infinity: no marking), got ${r.ecnThreshold}`,
    );
  }
  if (r.mtu !== 0 && (!Number.isInteger(r.mtu) || r.mtu < MIN_MTU || r.mtu > MAX_MTU)) {
    throw new RangeError(
      `${who}: mtu must be 0 (none) or an integer from ${MIN_MTU} to ${MAX_MTU}, got ${r.mtu}`,
    );
  }
  return r;
}

// ---------------------------------------------------------------- ECN marking

/**
 * Where the IP header of an ECN-capable packet (ECT(0) or ECT(1), RFC 3168
 * §5) starts in `frame`, or -1 for Not-ECT, already CE, anything that is not
 * IPv4 or IPv6, and frames too short to hold the header.
 */
function ectHeaderAt(kind: LinkKind, frame: Uint8Array): number {
  let ip = 0;
  if (kind === LinkKind.Ethernet) {
    if (frame.length < ETHERNET_HEADER_LENGTH + 2) return -1;
    const type = (frame[ETHERNET_ETHERTYPE]! << 8) | frame[ETHERNET_ETHERTYPE + 1]!;
    if (type !== EtherType.Ipv4 && type !== EtherType.Ipv6) return -1;
    ip = ETHERNET_HEADER_LENGTH;
  }
  if (frame.length < ip + 2) return -1;
  const version = frame[ip]! >>> 4;
  let ecn: number;
  if (version === 4 && frame.length >= ip + IPV4_HEADER_LENGTH) {
    ecn = frame[ip + IPV4_DSCP_ECN]! & 3;
  } else if (version === 6 && frame.length >= ip + IPV6_HEADER_LENGTH) {
    // The traffic class straddles bytes 0 and 1; its ECN bits are bits 5-4 of byte 1.
    ecn = (frame[ip + 1]! >>> 4) & 3;
  } else {
    return -1;
  }
  return ecn === Ecn.Ect0 || ecn === Ecn.Ect1 ? ip : -1;
}

/**
 * Marks the ECN-capable packet whose IP header is at `ip` CE, as a router
 * does instead of dropping it (RFC 3168 §5). IPv4's header checksum is
 * updated incrementally (RFC 1624 eqn. 3); IPv6 has none.
 */
function markCe(frame: Uint8Array, ip: number): void {
  if (frame[ip]! >>> 4 === 6) {
    frame[ip + 1] = frame[ip + 1]! | (Ecn.Ce << 4);
    return;
  }
  const ds = frame[ip + IPV4_DSCP_ECN]!;
  const oldWord = (frame[ip]! << 8) | ds;
  const newWord = oldWord | Ecn.Ce;
  frame[ip + IPV4_DSCP_ECN] = ds | Ecn.Ce;
  // HC' = ~(~HC + ~m + m'), in ones' complement arithmetic.
  const at = ip + IPV4_CHECKSUM;
  let sum = (~((frame[at]! << 8) | frame[at + 1]!) & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  const checksum = ~sum & 0xffff;
  frame[at] = checksum >>> 8;
  frame[at + 1] = checksum & 0xff;
}

// ---------------------------------------------------------------- held frames

/**
 * Frames in flight, a binary min-heap on (deadline, arrival order): equal
 * deadlines leave in the order they came. Parallel arrays, no per-frame
 * objects.
 */
class FrameHeap {
  private readonly times: number[] = [];
  private readonly order: number[] = [];
  private readonly frames: (Uint8Array | null)[] = [];
  private nextOrder = 0;
  length = 0;

  push(time: number, frame: Uint8Array): void {
    const order = this.nextOrder++;
    let i = this.length++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = this.times[parent]!;
      if (pt < time || (pt === time && this.order[parent]! < order)) break;
      this.times[i] = pt;
      this.order[i] = this.order[parent]!;
      this.frames[i] = this.frames[parent]!;
      i = parent;
    }
    this.times[i] = time;
    this.order[i] = order;
    this.frames[i] = frame;
  }

  /** The earliest deadline; only when `length > 0`. */
  peekTime(): number {
    return this.times[0]!;
  }

  /** Removes and returns the frame with the earliest deadline; only when `length > 0`. */
  pop(): Uint8Array {
    const top = this.frames[0]!;
    const last = --this.length;
    const time = this.times[last]!;
    const order = this.order[last]!;
    const frame = this.frames[last]!;
    this.frames[last] = null;
    let i = 0;
    while (true) {
      let child = 2 * i + 1;
      if (child >= last) break;
      const right = child + 1;
      if (
        right < last &&
        (this.times[right]! < this.times[child]! ||
          (this.times[right] === this.times[child] && this.order[right]! < this.order[child]!))
      ) {
        child = right;
      }
      const ct = this.times[child]!;
      if (time < ct || (time === ct && order < this.order[child]!)) break;
      this.times[i] = ct;
      this.order[i] = this.order[child]!;
      this.frames[i] = this.frames[child]!;
      i = child;
    }
    if (last > 0) {
      this.times[i] = time;
      this.order[i] = order;
      this.frames[i] = frame;
    }
    return top;
  }
}

// ---------------------------------------------------------------- one direction

/** The state of one direction: its conditions, random stream, rate limiter and frames in flight. */
class Direction {
  conditions: ResolvedImpairment;
  private readonly rng: Rng;
  private readonly kind: LinkKind;
  /** Gilbert–Elliott state: true in the bad state. */
  private bad: boolean;
  /** When the rate limiter will have serialised its backlog (fractional µs). */
  private busyUntil: number;
  /** The latest deadline given to a frame that keeps its order (fractional µs). */
  private lastInOrder: number;
  readonly held: FrameHeap;
  frames: number;
  duplicated: number;
  corrupted: number;
  reordered: number;
  ceMarked: number;

  constructor(kind: LinkKind, conditions: ResolvedImpairment, rng: Rng) {
    this.conditions = conditions;
    this.rng = rng;
    this.kind = kind;
    this.bad = false;
    this.busyUntil = -Infinity;
    this.lastInOrder = -Infinity;
    this.held = new FrameHeap();
    this.frames = 0;
    this.duplicated = 0;
    this.corrupted = 0;
    this.reordered = 0;
    this.ceMarked = 0;
  }

  setConditions(conditions: ResolvedImpairment): void {
    this.conditions = conditions;
    if (conditions.burst === null) this.bad = false;
  }

  /**
   * Runs a frame through this direction at `now`. Returns null when it (and
   * any duplicate) is now held for delivery, or why it was dropped. `owned`
   * says whether the frame may be kept as is; otherwise it is copied.
   */
  admit(now: Instant, frame: Uint8Array, owned: boolean): LinkDropReason | null {
    const c = this.conditions;
    const rng = this.rng;
    this.frames++;
    if (c.mtu !== 0 && frame.length > maxFrameLength(this.kind, c.mtu)) {
      return LinkDropReason.TooBig;
    }
    let departure: number = now;
    if (c.rate > 0) {
      // Drop-tail: the queue holds what is not yet serialised, counting the
      // remainder of the frame being sent (that is what busyUntil measures).
      const backlogTime = this.busyUntil - now;
      const backlogBytes = backlogTime > 0 ? (backlogTime * c.rate) / (8 * MICROS_PER_SECOND) : 0;
      if (backlogBytes + frame.length > c.queueBytes + BACKLOG_EPSILON) {
        return LinkDropReason.QueueFull;
      }
      const start = backlogTime > 0 ? this.busyUntil : now;
      departure = start + (frame.length * 8 * MICROS_PER_SECOND) / c.rate;
      this.busyUntil = departure;
      if (backlogBytes > c.ecnThreshold) {
        const ip = ectHeaderAt(this.kind, frame);
        if (ip >= 0) {
          // Marking rewrites the frame: work on our own copy.
          if (!owned) {
            frame = frame.slice();
            owned = true;
          }
          markCe(frame, ip);
          this.ceMarked++;
        }
      }
    }
    if (chance(rng, c.loss)) return LinkDropReason.Loss;
    const burst = c.burst;
    if (burst !== null) {
      // The frame meets the chain in its current state; then the chain moves.
      let lost: boolean;
      if (this.bad) {
        lost = chance(rng, burst.lossBad);
        if (chance(rng, burst.pBadToGood)) this.bad = false;
      } else {
        lost = chance(rng, burst.lossGood);
        if (chance(rng, burst.pGoodToBad)) this.bad = true;
      }
      if (lost) return LinkDropReason.BurstLoss;
    }
    // The duplicate is copied before the original can be corrupted: each
    // copy meets corruption on its own.
    const duplicate = chance(rng, c.duplicate) ? frame.slice() : null;
    this.hold(departure, owned ? frame : frame.slice());
    if (duplicate !== null) {
      this.duplicated++;
      this.hold(departure, duplicate);
    }
    return null;
  }

  private hold(departure: number, frame: Uint8Array): void {
    const c = this.conditions;
    const rng = this.rng;
    if (chance(rng, c.corrupt)) {
      const start =
        this.kind === LinkKind.Ethernet && frame.length > ETHERNET_HEADER_LENGTH
          ? ETHERNET_HEADER_LENGTH
          : 0;
      const bit = randomInt(rng, (frame.length - start) * 8);
      frame[start + (bit >>> 3)]! ^= 1 << (bit & 7);
      this.corrupted++;
    }
    let deadline = departure + c.delay;
    if (c.jitter > 0) deadline += randomInt(rng, 2 * c.jitter + 1) - c.jitter;
    if (deadline < departure) deadline = departure;
    if (chance(rng, c.reorder)) {
      // Held back outside the in-order chain, so later frames overtake it.
      deadline += c.reorderDelay;
      this.reordered++;
    } else {
      if (deadline < this.lastInOrder) deadline = this.lastInOrder;
      this.lastInOrder = deadline;
    }
    this.held.push(Math.ceil(deadline), frame);
  }

  stats(): ImpairDirectionStats {
    return {
      frames: this.frames,
      duplicated: this.duplicated,
      corrupted: this.corrupted,
      reordered: this.reordered,
      ceMarked: this.ceMarked,
      held: this.held.length,
    };
  }
}

// ---------------------------------------------------------------- the wrapper

/**
 * A {@link LinkEndpoint} wrapping another and impairing both directions.
 * Outgoing frames are held here until due and then sent into the wrapped
 * endpoint with their due instant (so a capture below records exact times
 * even when the driver comes late); incoming frames are taken from the
 * wrapped endpoint at the next call and held until due. The wrapped
 * endpoint does not say when a frame reached it, so an incoming frame's
 * delay counts from that call: exact for a driver that wakes at
 * `pollTimeout()` (which includes the wrapped endpoint's), late by the
 * driver's own lateness otherwise.
 */
export class ImpairedLink implements LinkEndpoint {
  readonly kind: LinkKind;
  /** The endpoint underneath. */
  readonly inner: LinkEndpoint;
  private readonly outgoing: Direction;
  private readonly incoming: Direction;
  private isCut: boolean;
  private readonly counters: LinkCounters;

  constructor(inner: LinkEndpoint, options: ImpairOptions) {
    checkWrappable('impair', inner);
    let base: Rng;
    if (options.rng !== undefined) base = options.rng;
    else if (options.seed !== undefined) base = new SeededRng(options.seed);
    else {
      throw new Error(
        'impair: pass a seed (or an rng); a fixed default would give every impaired link the same losses',
      );
    }
    this.kind = inner.kind;
    this.inner = inner;
    // One stream per direction, so that changing one direction's conditions
    // does not shift the other's random draws.
    const outRng = new SeededRng(base.nextU32());
    const inRng = new SeededRng(base.nextU32());
    const both = resolveImpairment('impair', NO_IMPAIRMENT, options);
    this.outgoing = new Direction(
      inner.kind,
      resolveImpairment('impair: outgoing', both, options.outgoing),
      outRng,
    );
    this.incoming = new Direction(
      inner.kind,
      resolveImpairment('impair: incoming', both, options.incoming),
      inRng,
    );
    this.isCut = false;
    this.counters = new LinkCounters();
  }

  /** The wrapped endpoint's MTU: the impairment's `mtu` is a hop further on, unknown to the host. */
  get mtu(): number {
    return this.inner.mtu;
  }

  /** True between {@link cut} and {@link heal}. */
  get isDown(): boolean {
    return this.isCut;
  }

  send(now: Instant, frame: Uint8Array): boolean {
    this.flush(now);
    const length = frame.length;
    const problem = frameSizeProblem(this.kind, this.inner.mtu, length);
    if (problem !== null) {
      this.counters.dropTx(problem);
      return false;
    }
    if (this.isCut) {
      // The cut is somewhere on the path: the sender does not learn of it.
      this.counters.sent(length);
      this.counters.dropTx(LinkDropReason.Cut);
      return true;
    }
    const dropped = this.outgoing.admit(now, frame, false);
    if (dropped === LinkDropReason.QueueFull) {
      this.counters.dropTx(dropped);
      return false;
    }
    this.counters.sent(length);
    if (dropped !== null) this.counters.dropTx(dropped);
    else this.flush(now);
    return true;
  }

  receive(now: Instant): Uint8Array | null {
    this.flush(now);
    this.pull(now);
    const held = this.incoming.held;
    if (held.length === 0 || held.peekTime() > now) return null;
    const frame = held.pop();
    this.counters.received(frame.length);
    return frame;
  }

  pollTimeout(): Instant {
    let t = this.inner.pollTimeout();
    const out = this.outgoing.held;
    if (out.length > 0 && out.peekTime() < t) t = out.peekTime() as Instant;
    const inc = this.incoming.held;
    if (inc.length > 0 && inc.peekTime() < t) t = inc.peekTime() as Instant;
    return t;
  }

  stats(): LinkStats {
    return addInnerDrops(this.counters.snapshot(), this.inner.stats());
  }

  /** Counters of the impairments themselves (copies made, bits flipped, frames held back). */
  impairStats(): ImpairStats {
    return { outgoing: this.outgoing.stats(), incoming: this.incoming.stats() };
  }

  /** The conditions in force in each direction. */
  conditions(): { outgoing: ResolvedImpairment; incoming: ResolvedImpairment } {
    return { outgoing: this.outgoing.conditions, incoming: this.incoming.conditions };
  }

  /**
   * Changes conditions from now on: fields present replace the current ones
   * (top level for both directions, then `outgoing` / `incoming`); absent
   * fields stay. Frames already in flight keep their deadlines. Throws a
   * RangeError on an invalid value and then changes nothing.
   */
  setOptions(settings: ImpairSettings): void {
    const out = resolveImpairment(
      'setOptions: outgoing',
      resolveImpairment('setOptions', this.outgoing.conditions, settings),
      settings.outgoing,
    );
    const inc = resolveImpairment(
      'setOptions: incoming',
      resolveImpairment('setOptions', this.incoming.conditions, settings),
      settings.incoming,
    );
    this.outgoing.setConditions(out);
    this.incoming.setConditions(inc);
  }

  /**
   * Cuts the link at `now` in both directions: frames due by `now` are
   * delivered first; frames still in flight are lost, and so is everything
   * sent or arriving until {@link heal}. All counted as `cut`.
   */
  cut(now: Instant): void {
    this.flush(now);
    this.pull(now);
    this.isCut = true;
    const out = this.outgoing.held;
    while (out.length > 0) {
      out.pop();
      this.counters.dropTx(LinkDropReason.Cut);
    }
    // Incoming frames already due have arrived: they stay receivable.
    const inc = this.incoming.held;
    const due: Uint8Array[] = [];
    const dueTimes: number[] = [];
    while (inc.length > 0) {
      const t = inc.peekTime();
      const frame = inc.pop();
      if (t <= now) {
        due.push(frame);
        dueTimes.push(t);
      } else {
        this.counters.dropRx(LinkDropReason.Cut);
      }
    }
    for (let i = 0; i < due.length; i++) inc.push(dueTimes[i]!, due[i]!);
  }

  /** Ends a {@link cut}: frames sent from now on travel again. */
  heal(): void {
    this.isCut = false;
  }

  /** Sends every outgoing frame due by `now` into the wrapped endpoint, at its due instant. */
  private flush(now: Instant): void {
    const held = this.outgoing.held;
    while (held.length > 0 && held.peekTime() <= now) {
      const due = held.peekTime() as Instant;
      // A refusal below is counted in the inner endpoint's stats, which
      // stats() adds in; this frame's send() has long returned.
      this.inner.send(due, held.pop());
    }
  }

  /** Takes every frame that has reached the wrapped endpoint into the incoming direction. */
  private pull(now: Instant): void {
    const inner = this.inner;
    for (let frame = inner.receive(now); frame !== null; frame = inner.receive(now)) {
      if (this.isCut) {
        this.counters.dropRx(LinkDropReason.Cut);
        continue;
      }
      const dropped = this.incoming.admit(now, frame, true);
      if (dropped !== null) this.counters.dropRx(dropped);
    }
  }
}

/**
 * Wraps `endpoint` in an {@link ImpairedLink}. Top-level conditions in
 * `options` apply to both directions; `outgoing` / `incoming` override them.
 * `seed` (or `rng`) is required.
 *
 * @example
 * const [a, b] = memoryPair({ kind: 'ip' });
 * const lossy = impair(a, { seed: 7, loss: 0.01, delay: millis(20), jitter: millis(2) });
 */
export function impair(endpoint: LinkEndpoint, options: ImpairOptions): ImpairedLink {
  return new ImpairedLink(endpoint, options);
}
