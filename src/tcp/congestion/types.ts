/**
 * The congestion-control plug-in point (DESIGN.md convention 5, after
 * Linux's tcp_congestion_ops): a small object that sees byte counts and
 * times, never segments. The connection owns loss detection and recovery
 * and tells the controller what happened; the controller owns cwnd and
 * ssthresh.
 */
import type { Duration, Instant } from '../../base/index.js';

/** Linux's TCP_INFINITE_SSTHRESH: the slow-start threshold before the first loss. */
export const INFINITE_SSTHRESH = 0x7fffffff;

/** A congestion controller; one instance per connection. */
export interface CongestionControl {
  /** Algorithm name as in the registry (`'newreno'`), like Linux's tcp_congestion_ops.name. */
  readonly name: string;
  /** Congestion window in bytes. Loss recovery may set it directly (NewReno window inflation). */
  cwnd: number;
  /** Slow-start threshold in bytes; starts "infinite" (use 0x7fffffff, like Linux's TCP_INFINITE_SSTHRESH). */
  ssthresh: number;
  /** Sender MSS changed (after the handshake or a PMTU drop). */
  setMss(mss: number): void;
  /** New data cumulatively acknowledged while not in loss recovery. `bytesInFlight` is before this ACK; `rtt` is the sample from this ACK or -1. */
  onAck(now: Instant, ackedBytes: number, bytesInFlight: number, rtt: Duration): void;
  /** Loss detected by duplicate ACKs / SACK: RFC 5681 (4): ssthresh = max(FlightSize / 2, 2*SMSS); cwnd is left for the recovery algorithm to set. */
  onCongestionEvent(now: Instant, bytesInFlight: number): void;
  /** Fast recovery ended (RFC 6582: full ACK): cwnd deflates, e.g. to ssthresh. */
  onRecoveryEnd(now: Instant, bytesInFlight: number): void;
  /** Retransmission timeout: RFC 5681 (4) ssthresh = max(FlightSize/2, 2*SMSS), cwnd = loss window = 1 SMSS. */
  onRetransmitTimeout(now: Instant, bytesInFlight: number): void;
  /** RFC 5681 §4.1: restart window after an idle period longer than the RTO: cwnd = min(IW, cwnd). */
  onIdleRestart(now: Instant): void;
}

/** What a controller needs to start. */
export interface CongestionConfig {
  /** Sender maximum segment size (SMSS) in bytes, payload only. */
  mss: number;
  /** Initial window in segments (RFC 6928 and Linux: 10). */
  initialWindowSegments: number;
}

/** Makes a controller for a new connection. */
export type CongestionControlFactory = (config: CongestionConfig) => CongestionControl;
