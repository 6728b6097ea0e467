/**
 * Delivery rate (draft-cheng-iccrg-delivery-rate-estimation, Linux
 * tcp_rate.c) and pacing (Linux tcp_update_pacing_rate and the departure
 * time it sets per segment).
 */
import { type Instant } from '../base/index.js';
import { type RateSample } from './recovery/sample.js';
import { bytesInFlight, bytesOutstanding, CaState, type Tcb } from './tcb.js';

/** Linux net.ipv4.tcp_pacing_ss_ratio (200 %) and tcp_pacing_ca_ratio (120 %). */
const PACING_SS_RATIO = 2;
const PACING_CA_RATIO = 1.2;

/** Header bytes per segment counted when pacing (IPv4 + TCP with timestamps). */
const PACING_HEADER_BYTES = 52;

/**
 * This ACK's rate sample (draft-cheng-iccrg-delivery-rate-estimation §3.3,
 * Linux tcp_rate_gen), built after loss detection so that it carries the
 * bytes newly marked lost, into `c.rate.sample`. The delivery rate the stats
 * report takes a sample unless it was application-limited and lower (an
 * application-limited sample only shows a lower bound).
 */
export function generateRateSample(
  c: Tcb,
  now: Instant,
  ceEchoed: boolean,
  priorInFlight: number,
): RateSample {
  const rs = c.rate.sample;
  const state = c.loss.caState;
  c.rate.estimator.generate(
    now,
    c.loss.ackSample,
    c.rtt.minRtt,
    ceEchoed,
    priorInFlight,
    bytesInFlight(c),
    state === CaState.Recovery || state === CaState.Loss,
    rs,
  );
  if (rs.valid && (!rs.isAppLimited || rs.deliveryRate > c.rate.deliveryRate))
    c.rate.deliveryRate = rs.deliveryRate;
  return rs;
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
 * before it and `unsentAfter` bytes still to send behind it: an empty
 * flight restarts the send and delivery clocks (§3.2, Linux
 * tcp_rate_skb_sent); a segment that leaves less than an MSS unsent while
 * cwnd has room marks the flow application-limited (§3.4,
 * tcp_rate_check_app_limited).
 */
export function onRateSent(
  c: Tcb,
  now: Instant,
  length: number,
  pipe: number,
  unsentAfter: number,
): void {
  const e = c.rate.estimator;
  const board = c.loss.board;
  e.onSend(now, board.isEmpty);
  e.checkAppLimited(
    unsentAfter,
    c.snd.mss,
    pipe + length,
    c.cc.cwnd,
    board.lostBytes,
    board.retransBytes,
  );
}
