/**
 * NewReno congestion control: RFC 5681 slow start and congestion avoidance
 * with byte counting (RFC 3465), the RFC 5681 (4) window reductions, and the
 * RFC 6582 window at the end of fast recovery. The fast-recovery mechanics
 * themselves (retransmit, inflate by one SMSS per duplicate ACK, partial
 * ACKs) belong to the connection, which sets `cwnd` directly meanwhile.
 */
import type { Duration, Instant } from '../../base/index.js';
import type { CongestionConfig, CongestionControl } from './types.js';
import { INFINITE_SSTHRESH } from './types.js';

/**
 * RFC 3465 §2.2: in slow start, grow cwnd by at most L = 2*SMSS per ACK.
 * (RFC 5681 itself says at most 1 SMSS per ACK; Linux has no per-ACK limit
 * and counts every newly acknowledged packet.)
 */
const ABC_LIMIT_SEGMENTS = 2;

/** NewReno (name `'newreno'`); make one with {@link createNewReno}. */
export class NewReno implements CongestionControl {
  readonly name: string;
  cwnd: number;
  ssthresh: number;
  private mss: number;
  private readonly initialWindowSegments: number;
  /** RFC 3465 §2.1 bytes_acked: acknowledged bytes not yet turned into congestion-avoidance growth. */
  private bytesAcked: number;
  /** A retransmission timeout happened and no new data has been acknowledged since. */
  private afterTimeout: boolean;
  /** cwnd and ssthresh before the last reduction, for `onUndo` (Linux prior_cwnd, prior_ssthresh); -1: nothing to undo. */
  private priorCwnd: number;
  private priorSsthresh: number;

  constructor(config: CongestionConfig) {
    checkMss(config.mss);
    if (!Number.isInteger(config.initialWindowSegments) || config.initialWindowSegments < 1) {
      throw new RangeError(
        `NewReno: initialWindowSegments must be a positive integer, got ${config.initialWindowSegments}`,
      );
    }
    this.name = 'newreno';
    this.mss = config.mss;
    this.initialWindowSegments = config.initialWindowSegments;
    this.cwnd = this.initialWindow;
    this.ssthresh = INFINITE_SSTHRESH;
    this.bytesAcked = 0;
    this.afterTimeout = false;
    this.priorCwnd = -1;
    this.priorSsthresh = -1;
  }

  /**
   * The initial (and idle restart) window: initialWindowSegments * SMSS, as
   * Linux does (TCP_INIT_CWND = 10 segments). RFC 6928 IW10 additionally caps
   * it at max(2*SMSS, 14600) bytes, i.e. min(10*MSS, max(2*MSS, 14600));
   * Linux ignores that cap (so with a 1460-byte MSS both agree), and so do we.
   */
  get initialWindow(): number {
    return this.initialWindowSegments * this.mss;
  }

  /** RFC 5681 §3.1: slow start while cwnd < ssthresh, congestion avoidance from cwnd >= ssthresh. */
  get inSlowStart(): boolean {
    return this.cwnd < this.ssthresh;
  }

  /**
   * Sender MSS changed (after the handshake or a PMTU drop). The windows keep
   * their size in segments, as Linux's packet-counted snd_cwnd does: an IW of
   * 10 segments stays 10 segments of the negotiated MSS, and a PMTU drop does
   * not suddenly allow more packets in flight.
   */
  setMss(mss: number): void {
    checkMss(mss);
    if (mss === this.mss) return;
    const old = this.mss;
    this.cwnd = Math.max(mss, Math.floor((this.cwnd * mss) / old));
    if (this.ssthresh !== INFINITE_SSTHRESH) {
      this.ssthresh = Math.max(2 * mss, Math.floor((this.ssthresh * mss) / old));
    }
    this.bytesAcked = Math.floor((this.bytesAcked * mss) / old);
    if (this.priorCwnd > 0)
      this.priorCwnd = Math.max(mss, Math.floor((this.priorCwnd * mss) / old));
    if (this.priorSsthresh > 0 && this.priorSsthresh !== INFINITE_SSTHRESH)
      this.priorSsthresh = Math.max(2 * mss, Math.floor((this.priorSsthresh * mss) / old));
    this.mss = mss;
  }

  /** New data cumulatively acknowledged while not in loss recovery. `bytesInFlight` is before this ACK; `rtt` is the sample from this ACK or -1. */
  onAck(_now: Instant, ackedBytes: number, bytesInFlight: number, _rtt: Duration): void {
    if (!(ackedBytes > 0)) return;
    this.afterTimeout = false;
    if (!this.isCwndLimited(bytesInFlight)) return;
    const mss = this.mss;
    if (this.cwnd < this.ssthresh) {
      // RFC 5681 §3.1 slow start with RFC 3465 §2.2 byte counting, L = 2*SMSS;
      // stop at ssthresh so that growth past it is linear.
      const grown = this.cwnd + Math.min(ackedBytes, ABC_LIMIT_SEGMENTS * mss);
      this.cwnd = grown < this.ssthresh ? grown : this.ssthresh;
      return;
    }
    // RFC 5681 §3.1 congestion avoidance, byte counting as in RFC 3465 §2.1:
    // one SMSS per cwnd's worth of acknowledged bytes. Several SMSS at once if
    // one ACK covers more than a window (as Linux's tcp_cong_avoid_ai does).
    this.bytesAcked += ackedBytes;
    if (this.bytesAcked >= this.cwnd) {
      const steps = Math.floor(this.bytesAcked / this.cwnd);
      this.bytesAcked -= steps * this.cwnd;
      this.cwnd += steps * mss;
    }
  }

  /**
   * Whether the sender was using its window, so that growing it means
   * something (Linux tcp_is_cwnd_limited; RFC 7661 §4.3 in spirit: do not
   * grow cwnd while application-limited, else an idle-ish connection builds
   * a huge window it has never tested and later bursts it). In slow start
   * Linux lets cwnd reach twice what is in flight; in congestion avoidance
   * the sender must have had less than one SMSS of room left.
   */
  private isCwndLimited(bytesInFlight: number): boolean {
    if (this.cwnd < this.ssthresh) return this.cwnd < 2 * bytesInFlight;
    return bytesInFlight + this.mss > this.cwnd;
  }

  /** Loss detected by duplicate ACKs / SACK: RFC 5681 (4): ssthresh = max(FlightSize / 2, 2*SMSS); cwnd is left for the recovery algorithm to set. */
  onCongestionEvent(_now: Instant, bytesInFlight: number): void {
    this.priorCwnd = this.cwnd;
    this.priorSsthresh = this.ssthresh;
    // FlightSize here is everything not cumulatively acknowledged. RFC 3042's
    // limited transmit legitimately takes it to cwnd + 2·SMSS; beyond that it
    // spans SACKed and lost data (after retransmissions were lost too), not
    // what is in the network, and half of it could raise ssthresh above cwnd.
    // Linux's tcp_reno_ssthresh uses cwnd alone.
    const bound = this.cwnd + 2 * this.mss;
    this.ssthresh = this.halvedFlight(bytesInFlight < bound ? bytesInFlight : bound);
    this.bytesAcked = 0;
    this.afterTimeout = false;
  }

  /**
   * Fast recovery ended (RFC 6582: full ACK). `bytesInFlight` is the data
   * still outstanding after that ACK. RFC 6582 §3.2 step 3 option (1):
   * cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS). Unlike option (2),
   * plain ssthresh, it cannot release a burst when little is left in flight.
   */
  onRecoveryEnd(_now: Instant, bytesInFlight: number): void {
    const mss = this.mss;
    const bound = Math.max(bytesInFlight, mss) + mss;
    this.cwnd = this.ssthresh < bound ? this.ssthresh : bound;
    this.bytesAcked = 0;
    this.afterTimeout = false;
  }

  /**
   * Retransmission timeout: RFC 5681 (4) ssthresh = max(FlightSize/2, 2*SMSS),
   * cwnd = loss window = 1 SMSS. RFC 5681 §3.1: when the timer fires again for
   * a segment the timer already retransmitted, ssthresh is held, not halved
   * again; we take "no new data acknowledged (onAck) since the last timeout"
   * to mean exactly that, as Linux keeps ssthresh while in its Loss state.
   */
  onRetransmitTimeout(_now: Instant, bytesInFlight: number): void {
    if (!this.afterTimeout) {
      this.priorCwnd = this.cwnd;
      this.priorSsthresh = this.ssthresh;
      this.ssthresh = this.halvedFlight(bytesInFlight);
    }
    this.cwnd = this.mss;
    this.bytesAcked = 0;
    this.afterTimeout = true;
  }

  /**
   * RFC 5681 §4.1: restart window after an idle period longer than the RTO:
   * cwnd = min(IW, cwnd). Before cutting, ssthresh remembers 3/4 of the old
   * window, as Linux's tcp_cwnd_restart does (tcp_current_ssthresh, from
   * RFC 2861 §3), so that slow start climbs back quickly; an infinite
   * ssthresh stays infinite.
   */
  onIdleRestart(_now: Instant): void {
    const threeQuarters = (this.cwnd >>> 1) + (this.cwnd >>> 2);
    if (this.ssthresh < threeQuarters) this.ssthresh = threeQuarters;
    const iw = this.initialWindow;
    if (this.cwnd > iw) this.cwnd = iw;
    this.bytesAcked = 0;
  }

  /** NewReno keeps no per-send state. */
  onPacketSent(_now: Instant, _bytes: number, _bytesInFlight: number): void {}

  /** NewReno keeps no per-round state. */
  onRoundStart(_now: Instant): void {}

  /**
   * A spurious reduction: back to the window and threshold from before it,
   * never below what they are now (Linux tcp_undo_cwnd_reduction with
   * tcp_reno_undo_cwnd: cwnd = max(cwnd, prior_cwnd), ssthresh =
   * max(ssthresh, prior_ssthresh)).
   */
  onUndo(_now: Instant): void {
    if (this.priorCwnd < 0) return;
    if (this.priorCwnd > this.cwnd) this.cwnd = this.priorCwnd;
    if (this.priorSsthresh > this.ssthresh) this.ssthresh = this.priorSsthresh;
    this.priorCwnd = -1;
    this.priorSsthresh = -1;
    this.afterTimeout = false;
    this.bytesAcked = 0;
  }

  /** No opinion: the connection derives the rate from cwnd and SRTT. */
  pacingRate(): number {
    return -1;
  }

  /** RFC 5681 (4): max(FlightSize / 2, 2*SMSS). */
  private halvedFlight(bytesInFlight: number): number {
    const half = Math.floor(bytesInFlight / 2);
    const floor = 2 * this.mss;
    return half > floor ? half : floor;
  }
}

function checkMss(mss: number): void {
  if (!Number.isInteger(mss) || mss < 1) {
    throw new RangeError(`congestion control: mss must be a positive integer, got ${mss}`);
  }
}

/** Factory for {@link NewReno}, registered as `'newreno'`. */
export function createNewReno(config: CongestionConfig): CongestionControl {
  return new NewReno(config);
}
