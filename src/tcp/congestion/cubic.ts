/**
 * CUBIC congestion control (RFC 9438), the default as in Linux: after a
 * congestion event the window follows a cubic function of the time since
 * that event, W_cubic(t) = C·(t − K)³ + W_max, concave up to the window
 * where loss happened last and convex beyond it, with an AIMD-friendly floor
 * (W_est) so that it never does worse than Reno on short or slow paths. Slow
 * start is RFC 5681's, left early by HyStart++ (RFC 9406) when the RTT rises.
 *
 * Windows are bytes at the interface and segments inside the formulas (RFC
 * 9438 states them in segments); time is seconds inside the formulas.
 */
import type { Duration, Instant } from '../../base/index.js';
import type { CongestionConfig, CongestionControl } from './types.js';
import { INFINITE_SSTHRESH } from './types.js';
import { HystartPhase, HystartPlusPlus } from './hystart.js';

/** RFC 9438 §5.1: C = 0.4 (segments per second cubed). */
export const CUBIC_C = 0.4;
/** RFC 9438 §4.6: β_cubic = 0.7, the multiplicative decrease. */
export const CUBIC_BETA = 0.7;
/** RFC 9438 §4.3: α_cubic = 3·(1 − β)/(1 + β), Reno-equivalent additive increase. */
const ALPHA_AIMD = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);
/** RFC 9406 §4.3: with pacing, slow start grows by at most L = 8 SMSS per ACK (else unbounded). */
const PACED_SLOW_START_LIMIT = 8;

/** CUBIC (name `'cubic'`); make one with {@link createCubic}. */
export class Cubic implements CongestionControl {
  readonly name = 'cubic';
  cwnd: number;
  ssthresh: number;
  private mss: number;
  private readonly initialWindowSegments: number;
  /** RFC 9438 W_max in bytes: the window before the last reduction (0: none yet). */
  private wMax = 0;
  /** RFC 9438 K in seconds: when W_cubic climbs back to W_max. */
  private kSeconds = 0;
  /** Start of the current congestion-avoidance epoch (µs), or -1. */
  private epochStart = -1;
  /** RFC 9438 §4.3 W_est in bytes. */
  private wEst = 0;
  /** RFC 9438 cwnd_prior: cwnd when the last congestion event happened. */
  private cwndPrior = 0;
  /** Smoothed RTT (µs) from the samples onAck sees; the RTT in W_cubic(t + RTT). */
  private srtt = 0;
  /** Fractional bytes of growth not yet added to cwnd (cwnd stays an integer). */
  private carry = 0;
  private lastSentAt = -1;
  /** A retransmission timeout happened and no new data has been acknowledged since. */
  private afterTimeout = false;
  private readonly hystart: HystartPlusPlus | null;
  private readonly pacedLimit: boolean;
  // RFC 9438 §4.9: the state before the last reduction, restored on a spurious one.
  private priorCwnd = -1;
  private priorSsthresh = 0;
  private priorWMax = 0;
  private priorK = 0;
  private priorEpochStart = -1;
  private priorWEst = 0;
  private priorCwndPrior = 0;

  constructor(config: CongestionConfig) {
    checkMss(config.mss);
    if (!Number.isInteger(config.initialWindowSegments) || config.initialWindowSegments < 1) {
      throw new RangeError(
        `CUBIC: initialWindowSegments must be a positive integer, got ${config.initialWindowSegments}`,
      );
    }
    this.mss = config.mss;
    this.initialWindowSegments = config.initialWindowSegments;
    this.cwnd = this.initialWindow;
    this.ssthresh = INFINITE_SSTHRESH;
    this.hystart = config.hystart === false ? null : new HystartPlusPlus();
    this.pacedLimit = config.paced === true;
  }

  /** The initial (and idle restart) window: initialWindowSegments * SMSS, as for NewReno. */
  get initialWindow(): number {
    return this.initialWindowSegments * this.mss;
  }

  get inSlowStart(): boolean {
    return this.cwnd < this.ssthresh;
  }

  /** Where HyStart++ stands ('done' when it is off or over). */
  get hystartPhase(): HystartPhase {
    return this.hystart === null ? HystartPhase.Done : this.hystart.phase;
  }

  /** RFC 9438 W_max in bytes (0 before the first congestion event). */
  get maxWindow(): number {
    return this.wMax;
  }

  /** RFC 9438 K in seconds, for the current epoch. */
  get k(): number {
    return this.kSeconds;
  }

  /** Start of the current congestion-avoidance epoch, or -1 outside one. */
  get epoch(): number {
    return this.epochStart;
  }

  /** RFC 9438 eq. 1 in bytes: W_cubic(t) = C·(t − K)³ + W_max, t in seconds since the epoch began. */
  windowAt(tSeconds: number): number {
    const d = tSeconds - this.kSeconds;
    return this.wMax + CUBIC_C * d * d * d * this.mss;
  }

  /** Keeps the windows' size in segments across an MSS change, as NewReno does. */
  setMss(mss: number): void {
    checkMss(mss);
    if (mss === this.mss) return;
    const scale = (bytes: number, floor: number) =>
      Math.max(floor, Math.floor((bytes * mss) / this.mss));
    this.cwnd = scale(this.cwnd, mss);
    if (this.ssthresh !== INFINITE_SSTHRESH) this.ssthresh = scale(this.ssthresh, 2 * mss);
    this.wMax = (this.wMax * mss) / this.mss;
    this.wEst = (this.wEst * mss) / this.mss;
    this.cwndPrior = (this.cwndPrior * mss) / this.mss;
    if (this.priorCwnd > 0) this.priorCwnd = scale(this.priorCwnd, mss);
    this.priorWMax = (this.priorWMax * mss) / this.mss;
    this.priorWEst = (this.priorWEst * mss) / this.mss;
    this.priorCwndPrior = (this.priorCwndPrior * mss) / this.mss;
    if (this.priorSsthresh > 0 && this.priorSsthresh !== INFINITE_SSTHRESH)
      this.priorSsthresh = scale(this.priorSsthresh, 2 * mss);
    this.carry = 0;
    this.mss = mss;
  }

  onAck(now: Instant, ackedBytes: number, bytesInFlight: number, rtt: Duration): void {
    if (!(ackedBytes > 0)) return;
    this.afterTimeout = false;
    if (rtt >= 0) this.srtt = this.srtt === 0 ? rtt : this.srtt + (rtt - this.srtt) / 8;
    if (this.cwnd < this.ssthresh) {
      if (this.hystart !== null && rtt >= 0) this.hystart.onRttSample(rtt);
      if (!this.isCwndLimited(bytesInFlight)) return;
      // RFC 9406 §4.2: cwnd += min(N, L·SMSS), divided by CSS_GROWTH_DIVISOR in CSS;
      // without pacing L is unbounded (as Linux's tcp_slow_start, which has no per-ACK cap).
      let inc = this.pacedLimit
        ? Math.min(ackedBytes, PACED_SLOW_START_LIMIT * this.mss)
        : ackedBytes;
      if (this.hystart !== null) inc /= this.hystart.growthDivisor;
      this.carry += inc;
      const whole = Math.floor(this.carry);
      this.carry -= whole;
      const grown = this.cwnd + whole;
      if (grown >= this.ssthresh) {
        this.cwnd = this.ssthresh;
        this.carry = 0;
      } else {
        this.cwnd = grown;
      }
      return;
    }
    if (!this.isCwndLimited(bytesInFlight)) return;
    this.congestionAvoidance(now, ackedBytes);
  }

  /** RFC 9438 §4.2-§4.5: one ACK's growth in congestion avoidance. */
  private congestionAvoidance(now: Instant, ackedBytes: number): void {
    const mss = this.mss;
    if (this.epochStart < 0) {
      // RFC 9438 §4.2 eq. 2: K = cbrt((W_max − cwnd_epoch) / C); K = 0 (and
      // W_max = cwnd) when the epoch starts at or above W_max, which covers the
      // first epoch after a timeout or after HyStart++ (§4.8, §4.10).
      this.epochStart = now;
      if (this.cwnd < this.wMax) {
        this.kSeconds = Math.cbrt((this.wMax - this.cwnd) / mss / CUBIC_C);
      } else {
        this.kSeconds = 0;
        this.wMax = this.cwnd;
      }
      this.wEst = this.cwnd;
      this.carry = 0;
    }
    const t = (now - this.epochStart) / 1_000_000;
    const rtt = this.srtt / 1_000_000;
    // RFC 9438 §4.2: target = W_cubic(t + RTT), bounded to [cwnd, 1.5·cwnd].
    let target = this.windowAt(t + rtt);
    if (target < this.cwnd) target = this.cwnd;
    else if (target > 1.5 * this.cwnd) target = 1.5 * this.cwnd;
    // RFC 9438 §4.3: W_est += α·segments_acked/cwnd, α = 1 once W_est reaches cwnd_prior.
    const alpha = this.wEst >= this.cwndPrior ? 1 : ALPHA_AIMD;
    this.wEst += (alpha * ackedBytes * mss) / this.cwnd;
    let next: number;
    if (this.windowAt(t) < this.wEst) {
      // AIMD-friendly region (§4.3): cwnd follows W_est.
      next = this.wEst > this.cwnd ? this.wEst : this.cwnd;
    } else {
      // Concave (§4.4) and convex (§4.5) regions: (target − cwnd)/cwnd per
      // segment acknowledged.
      next = this.cwnd + ((target - this.cwnd) * ackedBytes) / this.cwnd;
    }
    this.carry += next - this.cwnd;
    const whole = Math.floor(this.carry);
    this.carry -= whole;
    this.cwnd += whole;
  }

  /** The same test as NewReno's (Linux tcp_is_cwnd_limited; RFC 9438 §5.8: no growth while application-limited). */
  private isCwndLimited(bytesInFlight: number): boolean {
    if (this.cwnd < this.ssthresh) return this.cwnd < 2 * bytesInFlight;
    return bytesInFlight + this.mss > this.cwnd;
  }

  private savePrior(): void {
    this.priorCwnd = this.cwnd;
    this.priorSsthresh = this.ssthresh;
    this.priorWMax = this.wMax;
    this.priorK = this.kSeconds;
    this.priorEpochStart = this.epochStart;
    this.priorWEst = this.wEst;
    this.priorCwndPrior = this.cwndPrior;
  }

  /**
   * RFC 9438 §4.6-§4.7: W_max remembers cwnd (reduced further by fast
   * convergence when this loss came below the last one), ssthresh =
   * max(FlightSize·β, 2·SMSS). RFC 9438 computes ssthresh from flight_size;
   * Linux's bictcp_recalc_ssthresh uses cwnd. cwnd itself is left to the
   * recovery algorithm (PRR brings it down to ssthresh).
   */
  onCongestionEvent(_now: Instant, bytesInFlight: number): void {
    this.savePrior();
    this.epochStart = -1;
    this.wMax = this.cwnd < this.wMax ? (this.cwnd * (1 + CUBIC_BETA)) / 2 : this.cwnd;
    this.cwndPrior = this.cwnd;
    // FlightSize here is everything not cumulatively acknowledged; after
    // losses of retransmissions it spans SACKed and lost data far beyond
    // what the window allows, and β of it would raise ssthresh above cwnd.
    // Bounded by cwnd, as Linux's bictcp_recalc_ssthresh (which uses cwnd).
    this.ssthresh = this.reducedFlight(Math.min(bytesInFlight, this.cwnd));
    this.afterTimeout = false;
    this.carry = 0;
    this.hystart?.finish();
  }

  /** Without PRR: as NewReno (RFC 6582 §3.2 (3) option 1), min(ssthresh, max(FlightSize, SMSS) + SMSS). */
  onRecoveryEnd(_now: Instant, bytesInFlight: number): void {
    const bound = Math.max(bytesInFlight, this.mss) + this.mss;
    this.cwnd = this.ssthresh < bound ? this.ssthresh : bound;
    this.carry = 0;
  }

  /**
   * RFC 9438 §4.8: on a timeout ssthresh comes from β_cubic and cwnd is one
   * segment; the next epoch starts with K = 0 and W_max = the cwnd it starts
   * with. A timeout repeated before any new ACK keeps ssthresh (RFC 5681 §3.1).
   */
  onRetransmitTimeout(_now: Instant, bytesInFlight: number): void {
    if (!this.afterTimeout) {
      this.savePrior();
      this.cwndPrior = this.cwnd;
      this.ssthresh = this.reducedFlight(bytesInFlight);
      this.wMax = 0;
    }
    this.cwnd = this.mss;
    this.epochStart = -1;
    this.afterTimeout = true;
    this.carry = 0;
    this.hystart?.finish();
  }

  /** RFC 5681 §4.1 as NewReno (ssthresh keeps 3/4 of the old window, Linux tcp_cwnd_restart); a new epoch follows. */
  onIdleRestart(_now: Instant): void {
    const threeQuarters = (this.cwnd >>> 1) + (this.cwnd >>> 2);
    if (this.ssthresh < threeQuarters) this.ssthresh = threeQuarters;
    const iw = this.initialWindow;
    if (this.cwnd > iw) this.cwnd = iw;
    this.epochStart = -1;
    this.carry = 0;
  }

  /**
   * Sending after a quiet spell: the epoch moves forward by the idle time, so
   * that W_cubic does not leap ahead while nothing was sent (Linux's
   * bictcp_cwnd_event on CA_EVENT_TX_START; RFC 9438 §5.8).
   */
  onPacketSent(now: Instant, _bytes: number, bytesInFlight: number): void {
    if (bytesInFlight === 0 && this.epochStart >= 0 && this.lastSentAt >= 0) {
      const idle = now - this.lastSentAt;
      if (idle > 0) this.epochStart = Math.min(this.epochStart + idle, now);
    }
    this.lastSentAt = now;
  }

  /** RFC 9406 §4.2: round boundaries drive HyStart++; CSS_ROUNDS of CSS end slow start. */
  onRoundStart(_now: Instant): void {
    if (this.hystart === null || this.cwnd >= this.ssthresh) return;
    if (this.hystart.onRoundStart()) {
      this.ssthresh = this.cwnd;
    }
  }

  /** RFC 9438 §4.9: restore the state saved before a spurious reduction, if cwnd is still below it. */
  onUndo(_now: Instant): void {
    if (this.priorCwnd < 0) return;
    if (this.cwnd < this.priorCwnd) {
      this.cwnd = this.priorCwnd;
      this.wMax = this.priorWMax;
      this.kSeconds = this.priorK;
      this.epochStart = this.priorEpochStart;
      this.wEst = this.priorWEst;
      this.cwndPrior = this.priorCwndPrior;
    }
    if (this.priorSsthresh > this.ssthresh) this.ssthresh = this.priorSsthresh;
    this.priorCwnd = -1;
    this.afterTimeout = false;
    this.carry = 0;
  }

  pacingRate(): number {
    return -1;
  }

  /** max(FlightSize·β_cubic, 2·SMSS) in whole bytes. */
  private reducedFlight(bytesInFlight: number): number {
    const reduced = Math.floor(bytesInFlight * CUBIC_BETA);
    const floor = 2 * this.mss;
    return reduced > floor ? reduced : floor;
  }
}

function checkMss(mss: number): void {
  if (!Number.isInteger(mss) || mss < 1) {
    throw new RangeError(`congestion control: mss must be a positive integer, got ${mss}`);
  }
}

/** Factory for {@link Cubic}, registered as `'cubic'`. */
export function createCubic(config: CongestionConfig): CongestionControl {
  return new Cubic(config);
}
