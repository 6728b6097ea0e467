/**
 * What one ACK delivered, gathered while the scoreboard tags segments
 * (Linux's struct tcp_sacktag_state and rate_sample in one): bytes newly
 * acknowledged and SACKed, an unambiguous RTT for the controller, the RACK
 * candidate (RFC 8985 §6.2 step 2), reordering (step 3), F-RTO's "original
 * data delivered" (RFC 5682) and the delivery-rate sample.
 */
import { SegmentFlag, type DeliverySink, type LossSink } from './scoreboard.js';

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
  /** The sample's packet: C.lost when it was sent (BBR's P.lost) and the flight it joined (P.tx_in_flight). */
  rateLostAtSend = 0;
  rateTxInFlight = 0;

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
    this.rateLostAtSend = 0;
    this.rateTxInFlight = 0;
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
    lostAtSend = 0,
    txInFlight = 0,
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
      this.rateLostAtSend = lostAtSend;
      this.rateTxInFlight = txInFlight;
    }
  }
}

/**
 * One ACK's delivery-rate sample, the `rs` of
 * draft-cheng-iccrg-delivery-rate-estimation §3 with the fields BBR adds
 * (draft-ietf-ccwg-bbr §2.2: lost, tx_in_flight, newly_acked, newly_lost).
 * Filled in place by {@link DeliveryRateEstimator.generate}: one object per
 * connection, no allocation per ACK. Bytes, microseconds, bytes per second.
 */
export class RateSample {
  /** The sample is usable: something was delivered and the interval is at least min_rtt (§3.3). */
  valid = false;
  /** rs.delivery_rate in bytes per second (0 when not valid). */
  deliveryRate = 0;
  /** rs.delivered: bytes delivered between the sample packet's send and this ACK. */
  delivered = 0;
  /** rs.interval (µs): max(send_elapsed, ack_elapsed); -1 when not valid. */
  interval = -1;
  /** rs.send_elapsed and rs.ack_elapsed (µs): the two phases whose longer one is the interval. */
  sendElapsed = 0;
  ackElapsed = 0;
  /** rs.prior_delivered and rs.prior_time: C.delivered and its time when the sample packet left (-1 and 0: no packet). */
  priorDelivered = 0;
  priorTime = 0;
  /** rs.is_app_limited: the sample packet left while the application, not the network, limited sending. */
  isAppLimited = false;
  /** rs.rtt (µs): from the most recently sent never-retransmitted packet delivered, or -1. */
  rtt = -1;
  /** rs.newly_acked: bytes this ACK newly acknowledged or SACKed. */
  newlyAcked = 0;
  /** rs.newly_lost: bytes newly marked lost while processing this ACK. */
  newlyLost = 0;
  /** rs.lost: C.lost now minus C.lost when the sample packet left (losses during its flight). */
  lost = 0;
  /** rs.tx_in_flight: bytes in flight just after the sample packet left, itself included. */
  txInFlight = 0;
  /** Bytes this ACK delivered that the network marked CE (an ECN echo; 0 without ECN). */
  ceDelivered = 0;
  /** C.inflight before this ACK and after it (and after its loss marking). */
  priorInFlight = 0;
  inFlight = 0;
  /** C.delivered and C.lost, totals after this ACK. */
  deliveredTotal = 0;
  lostTotal = 0;
  /** Whether the connection is in loss recovery (fast recovery or after a timeout). */
  inRecovery = false;
}

/**
 * The connection-wide delivery-rate state (the `C.` variables of
 * draft-cheng-iccrg-delivery-rate-estimation §3.1, plus C.lost for BBR):
 * what each sent packet records, the application-limited marking, and the
 * generation of one {@link RateSample} per ACK from what the scoreboard
 * reported into the {@link AckSample}. It is also the scoreboard's
 * {@link LossSink}, so that C.lost counts every byte newly marked lost, and
 * it passes each such loss on to a listener (BBR's per-packet loss check).
 */
export class DeliveryRateEstimator implements LossSink {
  /** C.delivered: bytes delivered (cumulatively acknowledged or SACKed) so far. */
  delivered = 0;
  /** C.delivered_time (µs): when C.delivered last grew. */
  deliveredTime = 0;
  /** C.first_send_time (µs): the send time of the packet that carried the last sample. */
  firstSentTime = 0;
  /** C.lost: bytes marked lost so far. */
  lost = 0;
  /** C.app_limited: the C.delivered mark until which samples are application-limited; 0 when not. */
  appLimitedUntil = 0;
  /** Bytes newly marked lost since the last {@link generate}. */
  private lostSinceAck = 0;
  /** Told of each newly lost packet (BBRHandleLostPacket); null when nobody listens. */
  lossListener: PacketLossListener | null = null;

  /** Whether packets sent now are application-limited (their samples are lower bounds). */
  get appLimited(): boolean {
    return this.appLimitedUntil > 0;
  }

  /**
   * A data packet is about to leave (§3.2 "upon transmitting"): with nothing
   * in flight, the send and delivery clocks restart from now, so that the
   * idle time before it does not dilute its sample. The caller then records
   * {@link delivered}, {@link deliveredTime}, {@link firstSentTime},
   * {@link lost} and {@link appLimited} with the packet.
   */
  onSend(now: number, flightEmpty: boolean): void {
    if (flightEmpty) {
      this.firstSentTime = now;
      this.deliveredTime = now;
    }
  }

  /**
   * §3.4 CheckIfApplicationLimited, before a send attempt: the flow is
   * application-limited when less than one MSS is left to send, cwnd has
   * room, and every packet deemed lost has been retransmitted (else the
   * sender is busy repairing, not idle). Samples taken until what is in
   * flight now is delivered then only count if they raise the estimate.
   * (Linux tcp_rate_check_app_limited also requires the host queues to be
   * empty; here nothing waits below TCP.)
   */
  checkAppLimited(
    unsentBytes: number,
    mss: number,
    inFlight: number,
    cwnd: number,
    lostOut: number,
    retransOut: number,
  ): void {
    if (unsentBytes < mss && inFlight < cwnd && lostOut <= retransOut)
      this.markAppLimited(inFlight);
  }

  /**
   * Marks the connection application-limited until what is in flight now is
   * delivered (BBR's MarkConnectionAppLimited in ProbeRTT uses this too).
   */
  markAppLimited(inFlight: number): void {
    const until = this.delivered + inFlight;
    this.appLimitedUntil = until > 0 ? until : 1;
  }

  /** {@link LossSink}: the scoreboard newly marked [start, end) lost. */
  onLost(start: number, end: number, flags: number, lostAtSend: number, txInFlight: number): void {
    const bytes = end - start;
    this.lost += bytes;
    this.lostSinceAck += bytes;
    const listener = this.lossListener;
    if (listener !== null) {
      listener.onPacketLost(
        bytes,
        txInFlight,
        this.lost - lostAtSend,
        (flags & SegmentFlag.AppLimited) !== 0,
      );
    }
  }

  /**
   * Builds this ACK's sample into `rs` (§3.3 UpdateRateSample for what the
   * scoreboard delivered, then GenerateRateSample). `ack` holds the
   * deliveries (reset before the ACK, filled while the scoreboard tagged
   * segments); `minRtt` (µs, or -1) rejects intervals shorter than a round
   * trip, which only ACK compression or a stretched ACK can produce. Returns
   * `rs.valid`.
   */
  generate(
    now: number,
    ack: AckSample,
    minRtt: number,
    ceMarked: boolean,
    priorInFlight: number,
    inFlight: number,
    inRecovery: boolean,
    rs: RateSample,
  ): boolean {
    const newly = ack.deliveredBytes;
    if (newly > 0) {
      this.delivered += newly;
      this.deliveredTime = now;
    }
    // §3.3: the application-limited phase ends once its last packet is delivered.
    if (this.appLimitedUntil > 0 && this.delivered > this.appLimitedUntil) this.appLimitedUntil = 0;
    rs.newlyAcked = newly;
    rs.newlyLost = this.lostSinceAck;
    this.lostSinceAck = 0;
    rs.ceDelivered = ceMarked ? newly : 0;
    rs.priorInFlight = priorInFlight;
    rs.inFlight = inFlight;
    rs.deliveredTotal = this.delivered;
    rs.lostTotal = this.lost;
    rs.inRecovery = inRecovery;
    rs.rtt = ack.caRtt;
    rs.valid = false;
    rs.deliveryRate = 0;
    rs.interval = -1;
    if (ack.priorDelivered < 0) {
      // Nothing newly delivered: no sample, and no loss-rate context either.
      rs.delivered = 0;
      rs.priorDelivered = -1;
      rs.priorTime = 0;
      rs.isAppLimited = this.appLimitedUntil > 0;
      rs.lost = 0;
      rs.txInFlight = 0;
      return false;
    }
    this.firstSentTime = ack.rateXmit;
    rs.priorDelivered = ack.priorDelivered;
    rs.priorTime = ack.priorTime;
    rs.isAppLimited = ack.rateAppLimited;
    rs.sendElapsed = ack.sendElapsed;
    // §3.3: ack_elapsed runs from the delivery before the sample packet left
    // to this one. Taking the larger of the two phases keeps a burst of ACKs
    // (ACK compression) or a burst of sends from inflating the rate.
    rs.ackElapsed = this.deliveredTime - ack.priorTime;
    rs.delivered = this.delivered - ack.priorDelivered;
    rs.lost = this.lost - ack.rateLostAtSend;
    rs.txInFlight = ack.rateTxInFlight;
    const interval = rs.sendElapsed > rs.ackElapsed ? rs.sendElapsed : rs.ackElapsed;
    if (interval <= 0 || (minRtt > 0 && interval < minRtt)) return false;
    rs.interval = interval;
    rs.deliveryRate = (rs.delivered * 1_000_000) / interval;
    rs.valid = true;
    return true;
  }
}

/** Told of each packet as it is newly marked lost (draft-ietf-ccwg-bbr BBRHandleLostPacket). */
export interface PacketLossListener {
  /**
   * `bytes` were lost; `txInFlight` is what was in flight when that packet
   * left (itself included), `lostSince` the bytes lost since then (this
   * packet included), `appLimited` whether it left application-limited.
   */
  onPacketLost(bytes: number, txInFlight: number, lostSince: number, appLimited: boolean): void;
}
