/**
 * The sender's record of what it has sent and not yet had cumulatively
 * acknowledged, one entry per segment as transmitted: its sequence range,
 * when it was (last) sent, and what we know of it (SACKed, lost,
 * retransmitted). This is the RFC 6675 scoreboard, the per-segment transmit
 * times RACK needs (RFC 8985 §6.1), and the delivery-rate bookkeeping of
 * draft-cheng-iccrg-delivery-rate-estimation, in one structure (Linux keeps
 * the same in its retransmission queue of skbs).
 *
 * Positions are sequence offsets from ISS + 1 (plain numbers, exact up to
 * 2^53), so ranges compare with `<`; the FIN takes the offset after the last
 * data byte. Entries live in parallel typed arrays between `head` and `tail`
 * (no object per segment); they are allocated on first use and grow by
 * doubling, and the front is compacted away as it is acknowledged.
 */

import type { RangeSet } from '../../base/index.js';

/** Bits of an entry's flags (Linux's TCPCB_SACKED_ACKED, TCPCB_LOST, TCPCB_SACKED_RETRANS, TCPCB_EVER_RETRANS). */
export const SegmentFlag = {
  /** The peer SACKed the whole entry. */
  Sacked: 1,
  /** Deemed lost (RACK, RFC 6675 IsLost, NewReno, or a timeout) and not SACKed since. */
  Lost: 2,
  /** Retransmitted and that retransmission is still outstanding (counted in pipe). */
  Retrans: 4,
  /** Retransmitted at least once (its ACKs are ambiguous: Karn, RFC 8985 §6.2 step 2). */
  EverRetrans: 8,
  /** The entry ends with our FIN. */
  Fin: 16,
  /** Sent while the application had nothing more to send (its rate sample is a lower bound). */
  AppLimited: 32,
  /** Sent with PSH (a retransmission keeps it, as Linux resends the skb's flags). */
  Psh: 64,
  /**
   * SACKed before a timeout cleared the scoreboard: when SACKed again it says
   * nothing new about the path (no RTT, reordering or F-RTO evidence).
   */
  SackedBefore: 128,
} as const;

const INITIAL_CAPACITY = 16;
/** Entries whose storage an empty scoreboard keeps (about 12 kB). */
const KEEP_CAPACITY = 256;
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);

/**
 * Receives each entry as it is newly delivered (cumulatively acknowledged or
 * SACKed), in ascending order; the connection's {@link AckSample}.
 */
export interface DeliverySink {
  onDelivered(
    start: number,
    end: number,
    flags: number,
    xmitTime: number,
    delivered: number,
    deliveredTime: number,
    firstSentTime: number,
    lostAtSend: number,
    txInFlight: number,
  ): void;
}

/**
 * Receives each entry as it is newly marked lost (not when it was lost
 * already): the delivery-rate estimator counts C.lost, and BBR checks the
 * loss rate per lost packet (draft-ietf-ccwg-bbr, BBRHandleLostPacket).
 */
export interface LossSink {
  onLost(start: number, end: number, flags: number, lostAtSend: number, txInFlight: number): void;
}

/** The segments in flight: see the module comment. */
export class SentSegments {
  private starts: Float64Array = EMPTY_F64;
  private ends: Float64Array = EMPTY_F64;
  private xmits: Float64Array = EMPTY_F64;
  private delivereds: Float64Array = EMPTY_F64;
  private deliveredTimes: Float64Array = EMPTY_F64;
  private firstSents: Float64Array = EMPTY_F64;
  /** C.lost when the entry was (last) sent (BBR's P.lost, draft-ietf-ccwg-bbr). */
  private lostAtSends: Float64Array = EMPTY_F64;
  /** Bytes in flight just after the entry was (last) sent, itself included (BBR's P.tx_in_flight). */
  private txInFlights: Float64Array = EMPTY_F64;
  private flagBits: Uint8Array = EMPTY_U8;
  private head = 0;
  private tail = 0;

  /** Sequence units (bytes, the FIN counting one) SACKed and not yet cumulatively acknowledged. */
  sackedBytes = 0;
  /** Entries SACKed (RACK.segs_sacked and RFC 6675's DupThresh count discontiguous SACKed segments). */
  sackedCount = 0;
  /** Lost and not SACKed (Linux lost_out, in bytes). */
  lostBytes = 0;
  /** Retransmitted and still outstanding (Linux retrans_out, in bytes). */
  retransBytes = 0;
  /** End of the highest entry ever delivered, cumulatively or by SACK (RACK.fack, RFC 8985 §6.2). */
  fack = 0;
  /** End of the highest SACKed entry (RFC 6675 HighACK's SACK counterpart), or -1. */
  highSacked = -1;
  /** Told of every entry newly marked lost; null: nobody listens. */
  lossSink: LossSink | null = null;
  /** No entry lost and not yet retransmitted starts below this offset (where firstLostUnsent looks from). */
  private lostFrom = Number.POSITIVE_INFINITY;

  /** Entries held. */
  get count(): number {
    return this.tail - this.head;
  }

  get isEmpty(): boolean {
    return this.tail === this.head;
  }

  /** Bytes of array storage held (for memory accounting). */
  get allocated(): number {
    return this.flagBits.length * (8 * 8 + 1);
  }

  startAt(i: number): number {
    return this.starts[this.head + i]!;
  }

  endAt(i: number): number {
    return this.ends[this.head + i]!;
  }

  flagsAt(i: number): number {
    return this.flagBits[this.head + i]!;
  }

  xmitAt(i: number): number {
    return this.xmits[this.head + i]!;
  }

  /** Data bytes of entry i (its sequence length less the FIN). */
  dataLengthAt(i: number): number {
    const j = this.head + i;
    return this.ends[j]! - this.starts[j]! - ((this.flagBits[j]! & SegmentFlag.Fin) !== 0 ? 1 : 0);
  }

  /** End of the last entry (SND.NXT as an offset), or -1 when empty. */
  get lastEnd(): number {
    return this.tail > this.head ? this.ends[this.tail - 1]! : -1;
  }

  /**
   * A new segment left: [start, end) sent at `now` with `flags` (Fin, Psh,
   * AppLimited), and the delivery-rate state of the moment: C.delivered,
   * C.delivered_time, C.first_send_time and, for BBR's loss-rate check,
   * C.lost and the bytes in flight including this segment (0 when the
   * caller does not track them).
   */
  append(
    start: number,
    end: number,
    now: number,
    flags: number,
    delivered: number,
    deliveredTime: number,
    firstSentTime: number,
    lostAtSend = 0,
    txInFlight = 0,
  ): void {
    if (this.tail === this.flagBits.length) this.makeRoom();
    const j = this.tail++;
    this.starts[j] = start;
    this.ends[j] = end;
    this.xmits[j] = now;
    this.delivereds[j] = delivered;
    this.deliveredTimes[j] = deliveredTime;
    this.firstSents[j] = firstSentTime;
    this.lostAtSends[j] = lostAtSend;
    this.txInFlights[j] = txInFlight;
    this.flagBits[j] = flags;
  }

  /** Index of the entry holding `offset`, or -1. */
  indexOf(offset: number): number {
    let lo = this.head;
    let hi = this.tail - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (offset < this.starts[mid]!) hi = mid - 1;
      else if (offset >= this.ends[mid]!) lo = mid + 1;
      else return mid - this.head;
    }
    return -1;
  }

  /**
   * Makes `offset` an entry boundary, splitting the entry that straddles it
   * (Linux tcp_fragment): both halves keep the entry's times and flags, but
   * FIN and PSH stay with the second. Needed when a SACK block, an ACK or a smaller
   * MSS cuts a segment.
   */
  splitAt(offset: number): void {
    const i = this.indexOf(offset);
    if (i < 0) return;
    const j = this.head + i;
    if (this.starts[j] === offset) return;
    if (this.tail === this.flagBits.length) this.makeRoom();
    const k = this.head + i; // makeRoom may have moved the entries
    this.starts.copyWithin(k + 1, k, this.tail);
    this.ends.copyWithin(k + 1, k, this.tail);
    this.xmits.copyWithin(k + 1, k, this.tail);
    this.delivereds.copyWithin(k + 1, k, this.tail);
    this.deliveredTimes.copyWithin(k + 1, k, this.tail);
    this.firstSents.copyWithin(k + 1, k, this.tail);
    this.lostAtSends.copyWithin(k + 1, k, this.tail);
    this.txInFlights.copyWithin(k + 1, k, this.tail);
    this.flagBits.copyWithin(k + 1, k, this.tail);
    this.tail++;
    this.ends[k] = offset;
    this.starts[k + 1] = offset;
    if ((this.flagBits[k]! & SegmentFlag.Sacked) !== 0) this.sackedCount++;
    this.flagBits[k] = this.flagBits[k]! & ~(SegmentFlag.Fin | SegmentFlag.Psh);
  }

  /**
   * Joins entry i+1 into entry i (Linux tcp_collapse_retrans): both must be
   * lost, not retransmitted since and not SACKed, and the joined data fit in
   * `maxData` bytes. Returns whether they were joined. Used when
   * retransmitting, so that segments cut smaller (a lower MSS) go out full.
   */
  mergeNext(i: number, maxData: number): boolean {
    const j = this.head + i;
    const k = j + 1;
    if (k >= this.tail) return false;
    const want = SegmentFlag.Lost;
    const mask = SegmentFlag.Lost | SegmentFlag.Retrans | SegmentFlag.Sacked;
    if ((this.flagBits[j]! & mask) !== want || (this.flagBits[k]! & mask) !== want) return false;
    if ((this.flagBits[j]! & SegmentFlag.Fin) !== 0 || this.ends[j] !== this.starts[k])
      return false;
    const fin = (this.flagBits[k]! & SegmentFlag.Fin) !== 0 ? 1 : 0;
    if (this.ends[k]! - fin - this.starts[j]! > maxData) return false;
    this.ends[j] = this.ends[k]!;
    this.flagBits[j] = this.flagBits[j]! | this.flagBits[k]!;
    this.starts.copyWithin(k, k + 1, this.tail);
    this.ends.copyWithin(k, k + 1, this.tail);
    this.xmits.copyWithin(k, k + 1, this.tail);
    this.delivereds.copyWithin(k, k + 1, this.tail);
    this.deliveredTimes.copyWithin(k, k + 1, this.tail);
    this.firstSents.copyWithin(k, k + 1, this.tail);
    this.lostAtSends.copyWithin(k, k + 1, this.tail);
    this.txInFlights.copyWithin(k, k + 1, this.tail);
    this.flagBits.copyWithin(k, k + 1, this.tail);
    this.tail--;
    return true;
  }

  /**
   * The cumulative ACK reached `offset`: entries below it leave, and those
   * not SACKed before are reported to `sink` as delivered; the ranges of
   * those ever retransmitted go to `retransmitted` when given (a later
   * D-SACK for them proves the retransmission spurious). Returns the bytes
   * newly acknowledged that had not been SACKed.
   */
  ackTo(offset: number, sink: DeliverySink, retransmitted: RangeSet | null): number {
    this.splitAt(offset);
    let newly = 0;
    while (this.head < this.tail && this.ends[this.head]! <= offset) {
      const j = this.head;
      const len = this.ends[j]! - this.starts[j]!;
      const f = this.flagBits[j]!;
      if ((f & SegmentFlag.Sacked) !== 0) {
        this.sackedBytes -= len;
        this.sackedCount--;
      } else {
        newly += len;
        if (retransmitted !== null && (f & SegmentFlag.EverRetrans) !== 0)
          retransmitted.add(this.starts[j]!, this.ends[j]!);
        if ((f & SegmentFlag.Lost) !== 0) this.lostBytes -= len;
        if ((f & SegmentFlag.Retrans) !== 0) this.retransBytes -= len;
        sink.onDelivered(
          this.starts[j]!,
          this.ends[j]!,
          f,
          this.xmits[j]!,
          this.delivereds[j]!,
          this.deliveredTimes[j]!,
          this.firstSents[j]!,
          this.lostAtSends[j]!,
          this.txInFlights[j]!,
        );
      }
      if (this.ends[j]! > this.fack) this.fack = this.ends[j]!;
      this.head++;
    }
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
      this.highSacked = -1;
    }
    return newly;
  }

  /**
   * Tags [start, end) as SACKed (RFC 6675 §5 "update the scoreboard"),
   * splitting entries at the block's edges; newly SACKed entries go to
   * `sink`. Returns the bytes newly SACKed.
   */
  sack(start: number, end: number, sink: DeliverySink): number {
    if (this.head === this.tail) return 0;
    const lo = Math.max(start, this.starts[this.head]!);
    const hi = Math.min(end, this.ends[this.tail - 1]!);
    if (lo >= hi) return 0;
    this.splitAt(lo);
    this.splitAt(hi);
    const i = this.indexOf(lo);
    let newly = 0;
    for (let j = this.head + i; j < this.tail && this.ends[j]! <= hi; j++) {
      const f = this.flagBits[j]!;
      if ((f & SegmentFlag.Sacked) !== 0) continue;
      const len = this.ends[j]! - this.starts[j]!;
      this.flagBits[j] = (f | SegmentFlag.Sacked) & ~(SegmentFlag.Lost | SegmentFlag.Retrans);
      this.sackedBytes += len;
      this.sackedCount++;
      if ((f & SegmentFlag.Lost) !== 0) this.lostBytes -= len;
      if ((f & SegmentFlag.Retrans) !== 0) this.retransBytes -= len;
      newly += len;
      if (this.ends[j]! > this.highSacked) this.highSacked = this.ends[j]!;
      sink.onDelivered(
        this.starts[j]!,
        this.ends[j]!,
        f,
        this.xmits[j]!,
        this.delivereds[j]!,
        this.deliveredTimes[j]!,
        this.firstSents[j]!,
        this.lostAtSends[j]!,
        this.txInFlights[j]!,
      );
      if (this.ends[j]! > this.fack) this.fack = this.ends[j]!;
    }
    return newly;
  }

  /**
   * Bytes of [start, end) that were ever retransmitted (a D-SACK for them
   * proves a retransmission unnecessary, RFC 3708 §2).
   */
  retransmittedWithin(start: number, end: number): number {
    let total = 0;
    const first = this.indexOf(start);
    let j = first >= 0 ? this.head + first : this.head;
    for (; j < this.tail && this.starts[j]! < end; j++) {
      if ((this.flagBits[j]! & SegmentFlag.EverRetrans) === 0) continue;
      const s = Math.max(start, this.starts[j]!);
      const e = Math.min(end, this.ends[j]!);
      if (e > s) total += e - s;
    }
    return total;
  }

  /**
   * Marks entry i lost (Linux tcp_mark_skb_lost): a retransmission of it in
   * flight is lost too (it leaves retrans). Returns whether anything changed.
   */
  markLost(i: number): boolean {
    const j = this.head + i;
    const f = this.flagBits[j]!;
    if ((f & SegmentFlag.Sacked) !== 0) return false;
    const len = this.ends[j]! - this.starts[j]!;
    let changed = false;
    if ((f & SegmentFlag.Retrans) !== 0) {
      this.retransBytes -= len;
      changed = true;
    }
    const newlyLost = (f & SegmentFlag.Lost) === 0;
    if (newlyLost) {
      this.lostBytes += len;
      changed = true;
    }
    this.flagBits[j] = (f | SegmentFlag.Lost) & ~SegmentFlag.Retrans;
    if (this.starts[j]! < this.lostFrom) this.lostFrom = this.starts[j]!;
    if (newlyLost && this.lossSink !== null) {
      this.lossSink.onLost(
        this.starts[j]!,
        this.ends[j]!,
        f,
        this.lostAtSends[j]!,
        this.txInFlights[j]!,
      );
    }
    return changed;
  }

  /** Entry i was just retransmitted at `now`, with the delivery-rate state of the moment (as for {@link append}). */
  onRetransmit(
    i: number,
    now: number,
    delivered: number,
    deliveredTime: number,
    firstSentTime: number,
    lostAtSend = 0,
    txInFlight = 0,
  ): void {
    const j = this.head + i;
    const f = this.flagBits[j]!;
    if ((f & SegmentFlag.Sacked) !== 0) {
      // Sent again though SACKed (a probe): nothing more is in flight.
      this.flagBits[j] = f | SegmentFlag.EverRetrans;
    } else {
      if ((f & SegmentFlag.Retrans) === 0) this.retransBytes += this.ends[j]! - this.starts[j]!;
      this.flagBits[j] = f | SegmentFlag.Retrans | SegmentFlag.EverRetrans;
    }
    this.xmits[j] = now;
    this.delivereds[j] = delivered;
    this.deliveredTimes[j] = deliveredTime;
    this.firstSents[j] = firstSentTime;
    this.lostAtSends[j] = lostAtSend;
    this.txInFlights[j] = txInFlight;
  }

  /** Index of the first entry lost and not retransmitted since (RFC 6675 NextSeg rule 1), or -1. */
  firstLostUnsent(): number {
    if (this.lostBytes <= 0 || this.head === this.tail) return -1;
    // Start where the last search ended (or where something was marked since).
    let j = this.head;
    if (this.lostFrom > this.starts[this.head]!) {
      const i = this.indexOf(this.lostFrom);
      j = i >= 0 ? this.head + i : this.tail;
    }
    for (; j < this.tail; j++) {
      if ((this.flagBits[j]! & (SegmentFlag.Lost | SegmentFlag.Retrans)) === SegmentFlag.Lost) {
        this.lostFrom = this.starts[j]!;
        return j - this.head;
      }
    }
    this.lostFrom = Number.POSITIVE_INFINITY;
    return -1;
  }

  /**
   * RFC 2018 §8 / RFC 6675 §5.1: after a timeout the SACK information is not
   * trusted (the receiver may have reneged), so SACKed entries count as
   * outstanding again.
   */
  clearSacks(): void {
    if (this.sackedCount === 0) return;
    for (let j = this.head; j < this.tail; j++) {
      const f = this.flagBits[j]!;
      if ((f & SegmentFlag.Sacked) !== 0)
        this.flagBits[j] = (f & ~SegmentFlag.Sacked) | SegmentFlag.SackedBefore;
    }
    this.sackedBytes = 0;
    this.sackedCount = 0;
    this.highSacked = -1;
  }

  /** A timeout: everything not SACKed is lost, retransmissions in flight included (Linux tcp_timeout_mark_lost). */
  markAllLost(): void {
    for (let i = 0; i < this.tail - this.head; i++) this.markLost(i);
  }

  /** A spurious loss response is undone: nothing is lost any more (Linux tcp_undo_cwnd_reduction with unmark_loss). */
  unmarkAllLost(): void {
    if (this.lostBytes === 0) return;
    for (let j = this.head; j < this.tail; j++) {
      this.flagBits[j] = this.flagBits[j]! & ~SegmentFlag.Lost;
    }
    this.lostBytes = 0;
    this.lostFrom = Number.POSITIVE_INFINITY;
  }

  /** Forgets everything (the connection closed). */
  clear(): void {
    this.head = 0;
    this.tail = 0;
    this.sackedBytes = 0;
    this.sackedCount = 0;
    this.lostBytes = 0;
    this.retransBytes = 0;
    this.highSacked = -1;
    this.lostFrom = Number.POSITIVE_INFINITY;
  }

  /**
   * Drops the storage when nothing is held and it is large (a connection
   * that had a big window and went quiet); a small one is kept, since
   * request/response traffic empties the scoreboard after every burst.
   */
  release(): void {
    if (this.head !== this.tail) return;
    this.head = 0;
    this.tail = 0;
    if (this.flagBits.length <= KEEP_CAPACITY) return;
    this.drop();
  }

  /** Drops the storage (the connection closed). */
  drop(): void {
    if (this.head !== this.tail) return;
    this.starts = EMPTY_F64;
    this.ends = EMPTY_F64;
    this.xmits = EMPTY_F64;
    this.delivereds = EMPTY_F64;
    this.deliveredTimes = EMPTY_F64;
    this.firstSents = EMPTY_F64;
    this.lostAtSends = EMPTY_F64;
    this.txInFlights = EMPTY_F64;
    this.flagBits = EMPTY_U8;
    this.head = 0;
    this.tail = 0;
  }

  /** Compacts the front away or doubles the storage, so that one more entry fits at the tail. */
  private makeRoom(): void {
    const n = this.tail - this.head;
    const cap = this.flagBits.length;
    if (this.head > 0 && n < cap / 2) {
      this.starts.copyWithin(0, this.head, this.tail);
      this.ends.copyWithin(0, this.head, this.tail);
      this.xmits.copyWithin(0, this.head, this.tail);
      this.delivereds.copyWithin(0, this.head, this.tail);
      this.deliveredTimes.copyWithin(0, this.head, this.tail);
      this.firstSents.copyWithin(0, this.head, this.tail);
      this.lostAtSends.copyWithin(0, this.head, this.tail);
      this.txInFlights.copyWithin(0, this.head, this.tail);
      this.flagBits.copyWithin(0, this.head, this.tail);
      this.head = 0;
      this.tail = n;
      return;
    }
    const next = Math.max(INITIAL_CAPACITY, cap * 2);
    this.starts = grow(this.starts, next, this.head, this.tail);
    this.ends = grow(this.ends, next, this.head, this.tail);
    this.xmits = grow(this.xmits, next, this.head, this.tail);
    this.delivereds = grow(this.delivereds, next, this.head, this.tail);
    this.deliveredTimes = grow(this.deliveredTimes, next, this.head, this.tail);
    this.firstSents = grow(this.firstSents, next, this.head, this.tail);
    this.lostAtSends = grow(this.lostAtSends, next, this.head, this.tail);
    this.txInFlights = grow(this.txInFlights, next, this.head, this.tail);
    const flags = new Uint8Array(next);
    flags.set(this.flagBits.subarray(this.head, this.tail));
    this.flagBits = flags;
    this.head = 0;
    this.tail = n;
  }
}

function grow(a: Float64Array, size: number, from: number, to: number): Float64Array {
  const out = new Float64Array(size);
  out.set(a.subarray(from, to));
  return out;
}
