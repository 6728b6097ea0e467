/**
 * Round-trip time estimation and the retransmission timeout, RFC 6298.
 *
 * The estimator only does arithmetic: which segments may be timed (Karn's
 * algorithm, RFC 6298 §3: never time a retransmitted segment unless
 * timestamps disambiguate it) is the caller's business.
 */
import type { Duration } from '../base/index.js';
import { millis, seconds } from '../base/index.js';

/** Bounds and starting point of the retransmission timeout. */
export interface RttConfig {
  /** RTO before any RTT sample. RFC 6298 (2.1): 1 s. */
  initialRto: Duration;
  /** Floor of the RTO. RFC 6298 (2.4) says 1 s; Linux uses 200 ms (TCP_RTO_MIN). */
  minRto: Duration;
  /** Ceiling of the RTO, also of the backed-off RTO. RFC 6298 (2.5): at least 60 s; Linux uses 120 s. */
  maxRto: Duration;
  /**
   * Where minRto applies. false: to the whole RTO, as RFC 6298 (2.4). true:
   * to the variance term, as Linux (tcp_rtt_estimator keeps rttvar_us at
   * least tcp_rto_min), so the RTO is at least SRTT + minRto and a
   * retransmission is given a round trip plus slack, however long the path.
   */
  minRtoOnVariance: boolean;
}

/** The RFC's own bounds: RFC 6298 (2.1) initial 1 s, (2.4) floor 1 s, (2.5) ceiling 60 s. */
export const RFC6298_RTT_CONFIG: Readonly<RttConfig> = Object.freeze({
  initialRto: seconds(1),
  minRto: seconds(1),
  maxRto: seconds(60),
  minRtoOnVariance: false,
});

/**
 * Linux's bounds: initial 1 s (TCP_TIMEOUT_INIT, as RFC 6298 (2.1)), floor
 * 200 ms (TCP_RTO_MIN, below the RFC's 1 s) on the variance term, ceiling
 * 120 s (TCP_RTO_MAX).
 */
export const LINUX_RTT_CONFIG: Readonly<RttConfig> = Object.freeze({
  initialRto: seconds(1),
  minRto: millis(200),
  maxRto: seconds(120),
  minRtoOnVariance: true,
});

/** RFC 6298 (2.3): alpha = 1/8. */
const ALPHA = 1 / 8;
/** RFC 6298 (2.3): beta = 1/4. */
const BETA = 1 / 4;
/** RFC 6298 (2.2): K = 4. */
const K = 4;
/**
 * RFC 6298 (2.2) G, the clock granularity. Our clock ticks in microseconds,
 * but a 1 ms G keeps the variance term from collapsing to nothing on a path
 * with perfectly steady RTT (e.g. in the simulator), as a coarse clock would.
 */
const G = millis(1);
/** RFC 6298 (5.7): the RTO used once data flows after the SYN had to be retransmitted. */
const RTO_AFTER_SYN_LOSS = seconds(3);
/** Beyond this many doublings any positive RTO exceeds every sane maxRto (2^40 µs is 12 days). */
const MAX_BACKOFF_SHIFT = 40;

/**
 * RFC 6298 RTT estimator: smoothed RTT, RTT variation, and the RTO with
 * exponential backoff.
 *
 * The smoothed values are kept as doubles (exact for the first samples, since
 * 1/8 and 1/4 are powers of two, and far below a microsecond off later;
 * Linux instead keeps 8*srtt and 4*mdev as truncated integers) and rounded to
 * whole microseconds when read.
 */
export class RttEstimator {
  private readonly minRtoValue: Duration;
  private readonly maxRtoValue: Duration;
  private readonly minRtoOnVariance: boolean;
  /** RTO before the first sample: initialRto, or 3 s after a SYN loss (RFC 6298 (5.7)). */
  private unmeasuredRto: number;
  private srttValue: number;
  private rttvarValue: number;
  private measured: boolean;
  private minRttValue: number;
  private latestRttValue: number;
  private backoffCount: number;

  constructor(config: RttConfig) {
    if (!(config.initialRto > 0) || !(config.minRto >= 0) || !(config.maxRto >= config.minRto)) {
      throw new RangeError(
        `RttEstimator: need initialRto > 0 and 0 <= minRto <= maxRto, got initialRto ${config.initialRto} µs, minRto ${config.minRto} µs, maxRto ${config.maxRto} µs`,
      );
    }
    this.minRtoValue = config.minRto;
    this.maxRtoValue = config.maxRto;
    this.minRtoOnVariance = config.minRtoOnVariance;
    this.unmeasuredRto = config.initialRto;
    this.srttValue = 0;
    this.rttvarValue = 0;
    this.measured = false;
    this.minRttValue = -1;
    this.latestRttValue = 0;
    this.backoffCount = 0;
  }

  /**
   * Feeds one RTT measurement (RFC 6298 (2.2)/(2.3), alpha 1/8, beta 1/4,
   * K = 4, G = 1 ms clock granularity). A negative sample (a bogus timestamp
   * echo, say) is ignored rather than trusted.
   */
  sample(rtt: Duration): void {
    if (!(rtt >= 0)) return;
    this.latestRttValue = rtt;
    if (this.minRttValue < 0 || rtt < this.minRttValue) this.minRttValue = rtt;
    if (!this.measured) {
      // RFC 6298 (2.2): SRTT <- R, RTTVAR <- R/2.
      this.srttValue = rtt;
      this.rttvarValue = rtt / 2;
      this.measured = true;
      return;
    }
    // RFC 6298 (2.3): RTTVAR first, from the SRTT before this sample.
    const deviation = Math.abs(this.srttValue - rtt);
    this.rttvarValue = (1 - BETA) * this.rttvarValue + BETA * deviation;
    this.srttValue = (1 - ALPHA) * this.srttValue + ALPHA * rtt;
  }

  /** Whether any RTT sample has been taken. */
  get hasSample(): boolean {
    return this.measured;
  }

  /** Smoothed RTT (RFC 6298 SRTT); 0 before the first sample. */
  get srtt(): Duration {
    return Math.round(this.srttValue) as Duration;
  }

  /** RTT variation (RFC 6298 RTTVAR); 0 before the first sample. */
  get rttvar(): Duration {
    return Math.round(this.rttvarValue) as Duration;
  }

  /** The smallest sample seen; -1 before the first sample (a sentinel, not a duration). */
  get minRtt(): Duration {
    return this.minRttValue as Duration;
  }

  /** The most recent sample; 0 before the first sample. */
  get latestRtt(): Duration {
    return this.latestRttValue as Duration;
  }

  /** The RTO without backoff, clamped to [minRto, maxRto]. */
  get baseRto(): Duration {
    // RFC 6298 (2.2)/(2.3): RTO = SRTT + max(G, K*RTTVAR); before any sample, (2.1).
    // With minRtoOnVariance (Linux), minRto floors K*RTTVAR instead of the
    // sum (2.4): on a 100 ms path the RTO is about 300 ms rather than 200 ms,
    // so a fast retransmission's ACK is not beaten by the timer.
    const variance = K * this.rttvarValue;
    const floor = this.minRtoOnVariance ? this.minRtoValue : G;
    const raw = this.measured
      ? this.srttValue + (variance > floor ? variance : floor)
      : this.unmeasuredRto;
    const rounded = Math.round(raw);
    // RFC 6298 (2.4) floor, (2.5) ceiling.
    if (rounded < this.minRtoValue) return this.minRtoValue;
    if (rounded > this.maxRtoValue) return this.maxRtoValue;
    return rounded as Duration;
  }

  /** Current RTO including exponential backoff, clamped to [minRto, maxRto]. */
  get rto(): Duration {
    const base = this.baseRto;
    if (this.backoffCount === 0) return base;
    // RFC 6298 (5.5): each timeout doubles the RTO; (2.5) caps it at maxRto.
    if (this.backoffCount >= MAX_BACKOFF_SHIFT) return this.maxRtoValue;
    const backed = base * 2 ** this.backoffCount;
    return (backed > this.maxRtoValue ? this.maxRtoValue : backed) as Duration;
  }

  /**
   * RFC 6298 (5.5): double the RTO after a retransmission timeout, capped at
   * maxRto. The count keeps rising past the cap (like Linux's icsk_backoff),
   * so `backoffs` also counts consecutive timeouts.
   */
  backoff(): void {
    this.backoffCount++;
  }

  /** Clears the backoff (new data acknowledged, RFC 6298 (5.7)/Karn). */
  resetBackoff(): void {
    this.backoffCount = 0;
  }

  /** Consecutive timeouts since the last `resetBackoff()`. */
  get backoffs(): number {
    return this.backoffCount;
  }

  /**
   * RFC 6298 (5.7): after SYN retransmission, the RTO when data transmission
   * begins is 3 s unless measured. Call it when the handshake completes if
   * the SYN (or SYN-ACK) was retransmitted. A measured RTT (e.g. from
   * timestamps, which survive Karn's rule) wins, as in Linux's
   * tcp_init_transfer (TCP_TIMEOUT_FALLBACK only when srtt is 0). The
   * handshake's backoff is cleared either way: the SYN has been answered.
   */
  resetForDataAfterSynLoss(): void {
    if (!this.measured && this.unmeasuredRto < RTO_AFTER_SYN_LOSS) {
      this.unmeasuredRto = RTO_AFTER_SYN_LOSS;
    }
    this.backoffCount = 0;
  }
}
