import { ByteRing, RangeSet, type BufferPool } from '../base/index.js';

/** Result of `ReceiveBuffer.insert`. */
export interface InsertResult {
  /** Bytes that became readable in order because of this segment. */
  inOrder: number;
  /** Bytes that were new but are held out of order. */
  heldOutOfOrder: number;
  /** Bytes of the segment we already had (for D-SACK, RFC 2883). */
  duplicate: number;
  /** Whether this segment filled (part of) a hole, which calls for an immediate ACK (RFC 5681 §4.2). */
  filledHole: boolean;
}

interface HeldSegment {
  offset: number;
  data: Uint8Array;
}

/**
 * The receive side of a connection: in-order bytes waiting for the
 * application, and out-of-order bytes held until the gap before them fills
 * (RFC 9293 §3.10.7.4 step 7, RFC 5681 §4.2). Positions are stream offsets
 * from the first data byte (IRS + 1), exact up to 2^53 bytes, so wraparound
 * is handled once, where the connection converts sequence numbers.
 *
 * Memory is bounded: the connection only accepts bytes inside the window it
 * advertised, and the window never exceeds `free`.
 */
export class ReceiveBuffer {
  private readonly ring: ByteRing;
  /** Stream offset of the next in-order byte expected (RCV.NXT as an offset). */
  private next = 0;
  /** Out-of-order segments, sorted by offset, never overlapping each other. */
  private held: HeldSegment[] = [];
  /** What `held` covers, plus recency for SACK generation. */
  private readonly heldRanges = new RangeSet();
  private heldBytes = 0;
  /** Ranges touched most recently first (RFC 2018 §4: SACK block order). */
  private recent: Array<[number, number]> = [];
  /**
   * The first run of the last inserted segment's bytes that we already had,
   * below the next offset or held out of order: what its D-SACK block
   * reports (RFC 2883 §4). Length 0: nothing came twice.
   */
  firstDuplicateOffset = 0;
  firstDuplicateLength = 0;

  /** `pool`: where the in-order ring's storage goes when it empties, and comes from again. */
  constructor(limit: number, pool: BufferPool | null = null) {
    this.ring = new ByteRing(limit, pool);
  }

  /** In-order bytes the application can read. */
  get readable(): number {
    return this.ring.length;
  }

  /** Offset of the next expected byte (RCV.NXT). */
  get nextOffset(): number {
    return this.next;
  }

  /** Bytes held out of order. */
  get outOfOrderBytes(): number {
    return this.heldBytes;
  }

  get outOfOrderSegments(): number {
    return this.held.length;
  }

  /** End offset of the highest out-of-order byte held, or `nextOffset` if none. */
  get highestHeld(): number {
    return this.heldRanges.isEmpty ? this.next : this.heldRanges.endAt(this.heldRanges.count - 1);
  }

  /** Space not taken by unread in-order bytes: what the window may cover from RCV.NXT. */
  get free(): number {
    return this.ring.free;
  }

  get limit(): number {
    return this.ring.limit;
  }

  /** Bytes of memory allocated for the in-order ring. */
  get allocated(): number {
    return this.ring.allocated;
  }

  setLimit(limit: number): void {
    this.ring.setLimit(limit);
  }

  /**
   * Takes a segment's payload at `offset`. The caller has already trimmed it
   * to the window; bytes before `nextOffset` count as duplicates, and the copy
   * kept for out-of-order bytes is our own (the input may be a borrowed view).
   */
  insert(offset: number, data: Uint8Array): InsertResult {
    const result: InsertResult = { inOrder: 0, heldOutOfOrder: 0, duplicate: 0, filledHole: false };
    let start = offset;
    let bytes = data;
    this.firstDuplicateLength = 0;
    if (start < this.next) {
      const skip = Math.min(this.next - start, bytes.length);
      result.duplicate += skip;
      this.firstDuplicateOffset = start;
      this.firstDuplicateLength = skip;
      bytes = bytes.subarray(skip);
      start += skip;
    }
    if (bytes.length === 0) return result;
    // Bytes already held out of order came twice too, whether this segment
    // fills the hole below them or not.
    if (this.firstDuplicateLength === 0) this.findHeldOverlap(start, start + bytes.length);
    if (start === this.next) {
      const hadHoles = this.held.length > 0;
      const written = this.ring.write(bytes);
      this.next += written;
      result.inOrder += written;
      result.filledHole = hadHoles;
      // Pull in held segments that are now contiguous; anything they share with
      // what just arrived is a duplicate.
      while (this.held.length > 0 && this.held[0]!.offset <= this.next) {
        const seg = this.held.shift()!;
        this.heldBytes -= seg.data.length;
        const end = seg.offset + seg.data.length;
        if (end > this.next) {
          const tail = seg.data.subarray(this.next - seg.offset);
          const taken = this.ring.write(tail);
          this.next += taken;
          result.inOrder += taken;
        }
      }
      this.heldRanges.removeBelow(this.next);
      this.pruneRecent();
      return result;
    }
    // Out of order: keep only the parts not already held.
    const end = start + bytes.length;
    const already = this.heldRanges.overlap(start, end);
    result.duplicate += already;
    if (already < bytes.length) {
      this.storeGaps(start, bytes);
      result.heldOutOfOrder = bytes.length - already;
    }
    this.heldRanges.add(start, end);
    this.touchRecent(start, end);
    return result;
  }

  /** Sets the first duplicate run to the first part of [start, end) already held out of order. */
  private findHeldOverlap(start: number, end: number): void {
    const held = this.heldRanges;
    for (let i = 0; i < held.count; i++) {
      const s = Math.max(start, held.startAt(i));
      const e = Math.min(end, held.endAt(i));
      if (e > s) {
        this.firstDuplicateOffset = s;
        this.firstDuplicateLength = e - s;
        return;
      }
      if (held.startAt(i) >= end) return;
    }
  }

  /** Copies up to `dst.length` in-order bytes out, consuming them. */
  read(dst: Uint8Array): number {
    return this.ring.read(dst);
  }

  /** Copies in-order bytes out without consuming them (MSG_PEEK). */
  peek(dst: Uint8Array): number {
    return this.ring.peek(0, dst);
  }

  /** Frees buffer memory when nothing is held. */
  release(): void {
    this.ring.release();
  }

  /**
   * SACK blocks for what is held out of order (RFC 2018 §4): the block holding
   * the most recent segment first, then other recently changed blocks, at most
   * `max`. Offsets, as [start, end) pairs.
   */
  sackRanges(max: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const [s] of this.recent) {
      if (out.length >= max) break;
      const i = this.heldRanges.indexContaining(s);
      if (i < 0) continue;
      const block: [number, number] = [this.heldRanges.startAt(i), this.heldRanges.endAt(i)];
      if (!out.some((b) => b[0] === block[0])) out.push(block);
    }
    return out;
  }

  private storeGaps(start: number, bytes: Uint8Array): void {
    const end = start + bytes.length;
    let cursor = start;
    let insertAt = 0;
    while (insertAt < this.held.length && this.held[insertAt]!.offset < start) insertAt++;
    // Walk the held segments that overlap [start, end) and store the gaps between them.
    let i = insertAt > 0 ? insertAt - 1 : 0;
    const pieces: HeldSegment[] = [];
    for (; i < this.held.length && cursor < end; i++) {
      const seg = this.held[i]!;
      const segEnd = seg.offset + seg.data.length;
      if (segEnd <= cursor) continue;
      if (seg.offset >= end) break;
      if (seg.offset > cursor) {
        pieces.push({ offset: cursor, data: bytes.slice(cursor - start, seg.offset - start) });
      }
      cursor = Math.max(cursor, segEnd);
    }
    if (cursor < end) pieces.push({ offset: cursor, data: bytes.slice(cursor - start) });
    for (const piece of pieces) {
      let at = 0;
      while (at < this.held.length && this.held[at]!.offset < piece.offset) at++;
      this.held.splice(at, 0, piece);
      this.heldBytes += piece.data.length;
    }
  }

  private touchRecent(start: number, end: number): void {
    this.recent = this.recent.filter(([s, e]) => e < start || s > end);
    this.recent.unshift([start, end]);
    if (this.recent.length > 8) this.recent.length = 8;
  }

  private pruneRecent(): void {
    this.recent = this.recent.filter(([, e]) => e > this.next);
  }
}
