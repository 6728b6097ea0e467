/**
 * Two link endpoints joined in memory, like a veth pair or a cable with
 * nothing on it: what one end sends the other can receive at the same
 * instant, in order, unchanged. Impairment and capture are separate wrappers
 * (./impair.ts, ./tap.ts).
 */
import { NEVER } from '../base/index.js';
import type { Instant } from '../base/index.js';
import {
  LinkCounters,
  LinkDropReason,
  RELEASE_MIN_FRAME,
  checkLinkConfig,
  frameSizeProblem,
} from './link.js';
import type { LinkEndpoint, LinkKind, LinkPair, LinkStats } from './link.js';

/** Options of {@link memoryPair}. */
export interface MemoryPairOptions {
  /** Ethernet frames or bare IP packets. */
  kind: LinkKind;
  /** The MTU of both ends, in bytes of IP packet. Default 1500 (Ethernet II). */
  mtu?: number;
  /**
   * Frames that may wait at each end for `receive()`; a frame sent while the
   * peer's backlog is full is refused (`send()` returns false, counted as
   * `queue-full`). Default 1000, Linux's default `txqueuelen`.
   */
  queueFrames?: number;
  /**
   * Checksum offload on both ends ({@link LinkEndpoint.checksumOffload}):
   * stacks on the pair then neither compute nor verify TCP checksums, as
   * Linux does on loopback, since bytes copied in memory cannot be damaged.
   * Only for ends attached to stacks as they are: `impair()` and `pcapTap()`
   * refuse an endpoint that has it. Default false.
   */
  checksumOffload?: boolean;
}

const DEFAULT_MTU = 1500;
const DEFAULT_QUEUE_FRAMES = 1000;
const INITIAL_CAPACITY = 16;
/** Released frames that wait at most for their sender to reclaim them (a window of 64 KB frames). */
const MAX_RELEASED = 64;
/**
 * Copies of sent frames are carved from shared blocks rather than each
 * getting an ArrayBuffer of its own (an ArrayBuffer costs more to make and
 * collect than copying a 1500-byte frame). Blocks double from the smallest
 * to the largest as a link carries more.
 */
const COPY_BLOCK_MIN = 16 * 1024;
const COPY_BLOCK_MAX = 1024 * 1024;
/** Copies start 8-byte aligned, so the headers in them stay aligned for the checksum's word loop. */
const COPY_ALIGN = 8;

/**
 * Where one endpoint's outgoing copies are made. Each copy has bytes of its
 * own, never written again, so it is as much its receiver's as a separate
 * buffer would be; `copy.buffer` is the whole block, though.
 */
class CopyArena {
  private block = new Uint8Array(0);
  private used = 0;

  copy(frame: Uint8Array): Uint8Array {
    const length = frame.length;
    let block = this.block;
    let at = this.used;
    if (at + length > block.length) {
      if (length > COPY_BLOCK_MAX / 4) return frame.slice();
      let size = Math.min(COPY_BLOCK_MAX, Math.max(COPY_BLOCK_MIN, 2 * block.length));
      while (size < length) size *= 2;
      block = new Uint8Array(size);
      this.block = block;
      at = 0;
    }
    this.used = (at + length + COPY_ALIGN - 1) & ~(COPY_ALIGN - 1);
    // The constructor, not subarray: no species lookup per frame.
    const out = new Uint8Array(block.buffer, block.byteOffset + at, length);
    out.set(frame);
    return out;
  }
}

/**
 * A FIFO of frames with the instant each arrived, in a ring that doubles when
 * full (no `Array#shift`, no per-frame allocation besides the frame itself).
 */
class FrameFifo {
  private frames: (Uint8Array | null)[];
  private times: Float64Array;
  /** 1 where the frame was handed over by its sender (send(now, frame, true)), else 0. */
  private handed: Uint8Array;
  private head: number;
  private mask: number;
  length: number;

  constructor() {
    this.frames = new Array<Uint8Array | null>(INITIAL_CAPACITY).fill(null);
    this.times = new Float64Array(INITIAL_CAPACITY);
    this.handed = new Uint8Array(INITIAL_CAPACITY);
    this.head = 0;
    this.mask = INITIAL_CAPACITY - 1;
    this.length = 0;
  }

  push(time: Instant, frame: Uint8Array, handed: boolean): void {
    if (this.length > this.mask) this.grow();
    const at = (this.head + this.length) & this.mask;
    this.frames[at] = frame;
    this.times[at] = time;
    this.handed[at] = handed ? 1 : 0;
    this.length++;
  }

  /** Arrival time of the oldest frame; only when `length > 0`. */
  peekTime(): Instant {
    return this.times[this.head] as Instant;
  }

  /** Whether the oldest frame was handed over; only when `length > 0`. */
  peekHanded(): boolean {
    return this.handed[this.head] === 1;
  }

  /** Removes and returns the oldest frame; only when `length > 0`. */
  shift(): Uint8Array {
    const frame = this.frames[this.head]!;
    this.frames[this.head] = null;
    this.head = (this.head + 1) & this.mask;
    this.length--;
    return frame;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const frames = new Array<Uint8Array | null>(capacity).fill(null);
    const times = new Float64Array(capacity);
    const handed = new Uint8Array(capacity);
    for (let i = 0; i < this.length; i++) {
      const from = (this.head + i) & this.mask;
      frames[i] = this.frames[from]!;
      times[i] = this.times[from]!;
      handed[i] = this.handed[from]!;
    }
    this.frames = frames;
    this.times = times;
    this.handed = handed;
    this.head = 0;
    this.mask = capacity - 1;
  }
}

/** One end of a {@link memoryPair}. */
export class MemoryEndpoint implements LinkEndpoint {
  readonly kind: LinkKind;
  readonly mtu: number;
  /** How many frames may wait in this end's receive backlog. */
  readonly queueFrames: number;
  readonly checksumOffload: boolean;
  private peer: MemoryEndpoint;
  private readonly inbox: FrameFifo;
  private readonly counters: LinkCounters;
  private readonly copies = new CopyArena();
  /**
   * The frame the last receive() returned when its sender had handed it over
   * (the only frame release() may give back), else null.
   */
  private lastHanded: Uint8Array | null = null;
  /** Handed-over frames this end sent that the peer has released, for reclaim(). */
  private readonly released: Uint8Array[] = [];

  private constructor(kind: LinkKind, mtu: number, queueFrames: number, checksumOffload: boolean) {
    this.kind = kind;
    this.mtu = mtu;
    this.queueFrames = queueFrames;
    this.checksumOffload = checksumOffload;
    this.peer = this; // replaced by the other end in pair() before anyone sees it
    this.inbox = new FrameFifo();
    this.counters = new LinkCounters();
  }

  /** Two joined endpoints with checked settings; {@link memoryPair} is the public way in. */
  static pair(
    kind: LinkKind,
    mtu: number,
    queueFrames: number,
    checksumOffload = false,
  ): LinkPair<MemoryEndpoint> {
    const a = new MemoryEndpoint(kind, mtu, queueFrames, checksumOffload);
    const b = new MemoryEndpoint(kind, mtu, queueFrames, checksumOffload);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  /** Frames waiting in this end's receive backlog. */
  get backlog(): number {
    return this.inbox.length;
  }

  send(now: Instant, frame: Uint8Array, handover = false): boolean {
    const problem = frameSizeProblem(this.kind, this.mtu, frame.length);
    if (problem !== null) {
      this.counters.dropTx(problem);
      return false;
    }
    const peer = this.peer;
    if (peer.inbox.length >= peer.queueFrames) {
      this.counters.dropTx(LinkDropReason.QueueFull);
      return false;
    }
    // send() copies (LinkEndpoint contract): the one copy the receiver will
    // own. A frame handed over is already the receiver's to own: the sender
    // never writes it again, so it goes across as it is.
    peer.inbox.push(now, handover ? frame : this.copies.copy(frame), handover);
    this.counters.sent(frame.length);
    return true;
  }

  receive(now: Instant): Uint8Array | null {
    const inbox = this.inbox;
    this.lastHanded = null;
    // A frame sent "at" a later instant than `now` has not arrived yet.
    if (inbox.length === 0 || inbox.peekTime() > now) return null;
    const handed = inbox.peekHanded();
    const frame = inbox.shift();
    if (handed) this.lastHanded = frame;
    this.counters.received(frame.length);
    return frame;
  }

  /**
   * Gives a handed-over frame's storage back to the end that sent it, once
   * (a copy made here, a frame released twice, or a frame shorter than
   * {@link RELEASE_MIN_FRAME} is left alone). At most
   * {@link MAX_RELEASED} wait there; more are left to the collector.
   */
  release(frame: Uint8Array): void {
    if (frame.length < RELEASE_MIN_FRAME || frame !== this.lastHanded) return;
    this.lastHanded = null;
    const back = this.peer.released;
    if (back.length < MAX_RELEASED) back.push(frame);
  }

  reclaim(): Uint8Array | null {
    return this.released.pop() ?? null;
  }

  pollTimeout(): Instant {
    return this.inbox.length === 0 ? NEVER : this.inbox.peekTime();
  }

  stats(): LinkStats {
    return this.counters.snapshot();
  }
}

/**
 * Two endpoints joined in memory: what one sends the other receives at the
 * same `now`, in order and unchanged. Frames longer than the MTU (plus 14
 * bytes on an Ethernet link) or shorter than a minimal frame are refused
 * and counted; so is a frame sent while the peer's backlog is full.
 */
export function memoryPair(options: MemoryPairOptions): LinkPair<MemoryEndpoint> {
  const mtu = options.mtu ?? DEFAULT_MTU;
  const queueFrames = options.queueFrames ?? DEFAULT_QUEUE_FRAMES;
  checkLinkConfig('memoryPair', options.kind, mtu);
  if (!(queueFrames >= 1) || (queueFrames !== Infinity && !Number.isInteger(queueFrames))) {
    throw new RangeError(
      `memoryPair: queueFrames must be a positive integer (or Infinity), got ${queueFrames}`,
    );
  }
  return MemoryEndpoint.pair(options.kind, mtu, queueFrames, options.checksumOffload === true);
}
