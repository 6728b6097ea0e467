/**
 * Delivery rate (draft-cheng-iccrg-delivery-rate-estimation, Linux
 * tcp_rate.c) and pacing (Linux tcp_update_pacing_rate and the departure
 * time it sets per segment).
 */
import { type Instant } from '../base/index.js';
import { bytesOutstanding, type Tcb } from './tcb.js';

/** Linux net.ipv4.tcp_pacing_ss_ratio (200 %) and tcp_pacing_ca_ratio (120 %). */
const PACING_SS_RATIO = 2;
const PACING_CA_RATIO = 1.2;

/** Header bytes per segment counted when pacing (IPv4 + TCP with timestamps). */
const PACING_HEADER_BYTES = 52;

/** Delivery rate (draft-cheng-iccrg-delivery-rate-estimation §3.3, Linux tcp_rate_gen). */
export function updateDeliveryRate(c: Tcb, now: Instant, delivered: number): void {
  const s = c.loss.ackSample;
  c.rate.deliveredTotal += delivered;
  c.rate.deliveredAt = now;
  if (c.rate.appLimitedUntil > 0 && c.rate.deliveredTotal > c.rate.appLimitedUntil)
    c.rate.appLimitedUntil = 0;
  if (s.priorDelivered < 0) return;
  c.rate.firstSentAt = s.rateXmit;
  const interval = Math.max(s.sendElapsed, now - s.priorTime);
  // An interval shorter than the minimum RTT is an artefact (ACK compression).
  if (interval <= 0 || (c.rtt.minRtt > 0 && interval < c.rtt.minRtt)) return;
  const rate = ((c.rate.deliveredTotal - s.priorDelivered) * 1_000_000) / interval;
  if (!s.rateAppLimited || rate > c.rate.deliveryRate) c.rate.deliveryRate = rate;
}

/**
 * The pacing rate in bytes per second: the controller's, or Linux's
 * tcp_update_pacing_rate: 200 % of cwnd per SRTT in slow start (below half
 * of ssthresh), 120 % after; 0 before an RTT sample (no pacing yet).
 */
export function pacingRate(c: Tcb): number {
  const own = c.cc.pacingRate();
  if (own > 0) return own;
  const srtt = c.rtt.srtt;
  if (srtt <= 0) return 0;
  const ratio = c.cc.cwnd < c.cc.ssthresh / 2 ? PACING_SS_RATIO : PACING_CA_RATIO;
  return (ratio * Math.max(c.cc.cwnd, bytesOutstanding(c)) * 1_000_000) / srtt;
}

/** Whether the pacer lets a data segment go now; when not, its deadline joins the timer table. */
export function paceAllows(c: Tcb, now: Instant): boolean {
  if (!c.pacing || c.rate.paceNextAt <= now) return true;
  c.rate.paceBlocked = true;
  return false;
}

/** The next departure is one segment's time at the pacing rate later (Linux tcp_wstamp_ns). */
export function advancePacer(c: Tcb, now: Instant, bytes: number): void {
  const rate = pacingRate(c);
  if (rate <= 0) return;
  const from = c.rate.paceNextAt > now ? c.rate.paceNextAt : now;
  c.rate.paceNextAt = Math.ceil(from + ((bytes + PACING_HEADER_BYTES) * 1_000_000) / rate);
}

/**
 * A new segment of `length` sequence units leaves with `pipe` in flight
 * before it: an empty flight restarts the send and delivery clocks (Linux
 * tcp_rate_skb_sent); a segment that drains the send buffer while cwnd has
 * room marks the flow application-limited (tcp_rate_check_app_limited).
 */
export function onRateSent(
  c: Tcb,
  now: Instant,
  length: number,
  pipe: number,
  drained: boolean,
): void {
  if (c.loss.board.isEmpty) {
    c.rate.firstSentAt = now;
    c.rate.deliveredAt = now;
  }
  if (drained && pipe + length < c.cc.cwnd)
    c.rate.appLimitedUntil = Math.max(c.rate.deliveredTotal + pipe + length, 1);
}
