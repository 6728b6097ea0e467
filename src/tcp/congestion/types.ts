/**
 * The congestion-control plug-in point (docs/architecture.md convention 5, after
 * Linux's tcp_congestion_ops): a small object that sees byte counts and
 * times, never segments. The connection owns loss detection and recovery
 * and tells the controller what happened; the controller owns cwnd and
 * ssthresh.
 */
import type { Duration, Instant } from '../../base/index.js';
import type { RateSample } from '../recovery/sample.js';

/** Linux's TCP_INFINITE_SSTHRESH: the slow-start threshold before the first loss. */
export const INFINITE_SSTHRESH = 0x7fffffff;

/** A congestion controller; one instance per connection. */
export interface CongestionControl {
  /** Algorithm name as in the registry (`'newreno'`), like Linux's tcp_congestion_ops.name. */
  readonly name: string;
  /** Congestion window in bytes. Loss recovery may set it directly (NewReno window inflation, PRR). */
  cwnd: number;
  /** Slow-start threshold in bytes; starts "infinite" (use 0x7fffffff, like Linux's TCP_INFINITE_SSTHRESH). */
  ssthresh: number;
  /** Sender MSS changed (after the handshake or a PMTU drop). */
  setMss(mss: number): void;
  /**
   * New data cumulatively acknowledged while not reducing the window (not in
   * fast recovery or CWR). `bytesInFlight` is before this ACK; `rtt` is an RTT
   * sample from this ACK (from the segment sent last among those it
   * delivered) or -1.
   */
  onAck(now: Instant, ackedBytes: number, bytesInFlight: number, rtt: Duration): void;
  /**
   * Congestion signalled by loss (duplicate ACKs, SACK, RACK) or by an ECN
   * echo (RFC 3168 §6.1.2): set ssthresh (RFC 5681 (4): max(FlightSize / 2,
   * 2*SMSS) for NewReno); cwnd is left for the recovery algorithm to set.
   */
  onCongestionEvent(now: Instant, bytesInFlight: number): void;
  /**
   * NewReno fast recovery ended (RFC 6582: full ACK), for a connection
   * without PRR: cwnd deflates. With PRR the connection sets cwnd to
   * ssthresh itself (RFC 6937 §3) and does not call this.
   */
  onRecoveryEnd(now: Instant, bytesInFlight: number): void;
  /** Retransmission timeout: RFC 5681 (4) ssthresh = max(FlightSize/2, 2*SMSS), cwnd = loss window = 1 SMSS. */
  onRetransmitTimeout(now: Instant, bytesInFlight: number): void;
  /** RFC 5681 §4.1: restart window after an idle period longer than the RTO: cwnd = min(IW, cwnd). */
  onIdleRestart(now: Instant): void;
  /**
   * A segment left (new data or a retransmission) of `bytes` bytes;
   * `bytesInFlight` is what was in flight before it. CUBIC uses this to tell
   * an idle period from a busy one (Linux CA_EVENT_TX_START).
   */
  onPacketSent(now: Instant, bytes: number, bytesInFlight: number): void;
  /**
   * A new round trip began: this ACK passed the SND.NXT recorded when the
   * last round began (RFC 9406 §4.2 windowEnd). Called before `onAck`.
   */
  onRoundStart(now: Instant): void;
  /**
   * The last window reduction was spurious (detected by D-SACK, RFC 3708;
   * F-RTO, RFC 5682; or timestamps, RFC 3522): restore what it changed
   * (Linux's undo_cwnd with prior_ssthresh; RFC 9438 §4.9).
   */
  onUndo(now: Instant): void;
  /**
   * The pacing rate in bytes per second the controller wants, or -1 to let
   * the connection derive it from cwnd and SRTT (Linux tcp_update_pacing_rate).
   */
  pacingRate(): number;

  // Model-based controllers (BBR) need what a window-based one does not: the
  // ACK's whole rate sample, each lost packet, and the end of recovery. These
  // members are optional; a controller without them keeps the calls above.

  /**
   * The controller sets cwnd itself from its model on every ACK, also during
   * recovery (Linux's tcp_congestion_ops.cong_control): the connection calls
   * `onRateSample` instead of `onAck`, makes no PRR, NewReno or CWR window
   * changes of its own, and paces at `pacingRate()` whatever the pacing
   * option says. ssthresh stays "infinite".
   */
  readonly modelBased?: boolean;
  /**
   * Every ACK, after the scoreboard was updated and losses detected
   * (draft-ietf-ccwg-bbr "upon receiving an ACK"), with that ACK's sample.
   */
  onRateSample?(now: Instant, rs: RateSample): void;
  /**
   * A packet was newly marked lost (draft-ietf-ccwg-bbr BBRHandleLostPacket):
   * `bytes` long, `txInFlight` in flight when it left (itself included),
   * `lostSince` bytes lost since it left (itself included).
   */
  onPacketLost?(bytes: number, txInFlight: number, lostSince: number, appLimited: boolean): void;
  /** Fast recovery, or the loss state after a timeout, ended (with or without SACK). */
  onRecoveryExit?(now: Instant): void;
  /**
   * Whether the controller wants the current flight's samples marked
   * application-limited (BBR's MarkConnectionAppLimited in ProbeRTT). Reading
   * it clears the request.
   */
  takeAppLimitedRequest?(): boolean;
}

/** What a controller needs to start. */
export interface CongestionConfig {
  /** Sender maximum segment size (SMSS) in bytes, payload only. */
  mss: number;
  /** Initial window in segments (RFC 6928 and Linux: 10). */
  initialWindowSegments: number;
  /** Leave slow start on a rising RTT (HyStart++, RFC 9406), for controllers that support it; default true. */
  hystart?: boolean;
  /** The connection paces its segments (RFC 9406 §4.3 then limits slow-start growth per ACK). Default false. */
  paced?: boolean;
  /** Seed of the controller's own randomness (BBR's ProbeBW wait); default 1. The core has no other source. */
  seed?: number;
}

/** Makes a controller for a new connection. */
export type CongestionControlFactory = (config: CongestionConfig) => CongestionControl;
