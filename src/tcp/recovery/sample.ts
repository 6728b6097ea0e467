/**
 * What one ACK delivered, gathered while the scoreboard tags segments
 * (Linux's struct tcp_sacktag_state and rate_sample in one): bytes newly
 * acknowledged and SACKed, an unambiguous RTT for the controller, the RACK
 * candidate (RFC 8985 §6.2 step 2), reordering (step 3), F-RTO's "original
 * data delivered" (RFC 5682) and the delivery-rate sample.
 */
import { SegmentFlag, type DeliverySink } from './scoreboard.js';

/** RFC 8985 §6.2: RACK_sent_after: t1 later than t2, or the same time and a higher end. */
export function sentAfter(t1: number, end1: number, t2: number, end2: number): boolean {
  return t1 > t2 || (t1 === t2 && end1 > end2);
}

/** One ACK's deliveries; reset before each ACK and read after. */
export class AckSample implements DeliverySink {
  now = 0;
  private minRtt = -1;
  /** Bytes cumulatively acknowledged that were not SACKed before. */
  ackedBytes = 0;
  /** Bytes newly SACKed. */
  sackedBytes = 0;
  /** A segment never retransmitted was delivered (Linux FLAG_ORIG_SACK_ACKED; F-RTO, RFC 5682 §3.1). */
  origDelivered = false;
  /** An RTT from the most recently sent never-retransmitted segment delivered (µs), or -1. */
  caRtt = -1;
  private caXmit = -1;
  /** RACK candidate: the delivered segment sent last whose ACK is not ambiguous; -1 when none. */
  rackXmit = -1;
  rackEnd = -1;
  rackRtt = -1;
  /** RACK.fack as it advances through this ACK's deliveries. */
  fack = 0;
  /** A never-retransmitted segment below RACK.fack was delivered: reordering (RFC 8985 §6.2 step 3). */
  reorderSeen = false;
  /** Lowest start of such a segment (the reordering degree is fack minus this), or -1. */
  reorderLow = -1;
  /** Delivery-rate sample: the delivered count, its time and the send interval of the newest segment delivered. */
  priorDelivered = -1;
  priorTime = 0;
  sendElapsed = 0;
  rateXmit = -1;
  rateAppLimited = false;

  reset(now: number, minRtt: number, fack: number): void {
    this.now = now;
    this.minRtt = minRtt;
    this.ackedBytes = 0;
    this.sackedBytes = 0;
    this.origDelivered = false;
    this.caRtt = -1;
    this.caXmit = -1;
    this.rackXmit = -1;
    this.rackEnd = -1;
    this.rackRtt = -1;
    this.fack = fack;
    this.reorderSeen = false;
    this.reorderLow = -1;
    this.priorDelivered = -1;
    this.priorTime = 0;
    this.sendElapsed = 0;
    this.rateXmit = -1;
    this.rateAppLimited = false;
  }

  get deliveredBytes(): number {
    return this.ackedBytes + this.sackedBytes;
  }

  onDelivered(
    start: number,
    end: number,
    flags: number,
    xmitTime: number,
    delivered: number,
    deliveredTime: number,
    firstSentTime: number,
  ): void {
    const now = this.now;
    // SACKed before a timeout forgot it: long delivered, it tells nothing new.
    if ((flags & SegmentFlag.SackedBefore) !== 0) return;
    const retransmitted = (flags & SegmentFlag.EverRetrans) !== 0;
    if (!retransmitted) {
      this.origDelivered = true;
      if (xmitTime > this.caXmit) {
        this.caXmit = xmitTime;
        this.caRtt = now - xmitTime;
      }
    }
    // RFC 8985 §6.2 step 2: a retransmitted segment's ACK may be for the
    // original; skip it if it came back faster than any round trip. (The
    // RFC's other test, a TSecr older than the retransmission, would skip
    // every SACK of a retransmission that arrived out of order, since RFC
    // 7323 §4.3 echoes the last in-order segment's timestamp then; Linux's
    // tcp_rack_advance has only the min_RTT test, and so do we.)
    const rtt = now - xmitTime;
    const ambiguous = retransmitted && this.minRtt >= 0 && rtt < this.minRtt;
    if (!ambiguous && sentAfter(xmitTime, end, this.rackXmit, this.rackEnd)) {
      this.rackXmit = xmitTime;
      this.rackEnd = end;
      this.rackRtt = rtt;
    }
    // RFC 8985 §6.2 step 3: reordering is a never-retransmitted segment
    // delivered below the highest one delivered before it.
    if (end > this.fack) {
      this.fack = end;
    } else if (end < this.fack && !retransmitted) {
      this.reorderSeen = true;
      if (this.reorderLow < 0 || start < this.reorderLow) this.reorderLow = start;
    }
    // Delivery rate (draft-cheng-iccrg-delivery-rate-estimation §3.3): the
    // segment sent most recently among those delivered carries the sample.
    if (
      delivered > this.priorDelivered ||
      (delivered === this.priorDelivered && xmitTime > this.rateXmit)
    ) {
      this.priorDelivered = delivered;
      this.priorTime = deliveredTime;
      this.sendElapsed = xmitTime - firstSentTime;
      this.rateXmit = xmitTime;
      this.rateAppLimited = (flags & SegmentFlag.AppLimited) !== 0;
    }
  }
}
