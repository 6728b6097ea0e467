import type { Duration, Instant } from '../base/index.js';
import type { BbrInfo } from './congestion/index.js';

/** The eleven states of RFC 9293 §3.3.2, by their RFC names. */
export const TcpState = {
  Closed: 'CLOSED',
  Listen: 'LISTEN',
  SynSent: 'SYN-SENT',
  SynReceived: 'SYN-RECEIVED',
  Established: 'ESTABLISHED',
  FinWait1: 'FIN-WAIT-1',
  FinWait2: 'FIN-WAIT-2',
  CloseWait: 'CLOSE-WAIT',
  Closing: 'CLOSING',
  LastAck: 'LAST-ACK',
  TimeWait: 'TIME-WAIT',
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

/** How a connection ended, when it did not end in an orderly close. One vocabulary for the core; net/ maps it to Node's codes. */
export const TcpError = {
  /** The peer answered our SYN with RST (ECONNREFUSED). */
  Refused: 'refused',
  /** The peer reset an established connection (ECONNRESET). */
  Reset: 'reset',
  /** Retransmissions, keepalive probes or the user timeout ran out (ETIMEDOUT). */
  TimedOut: 'timed-out',
  /** We aborted: the application called abort(), or closed with unread data (ECONNABORTED / ECONNRESET on the peer). */
  Aborted: 'aborted',
  /** ICMP said the host or network cannot be reached (EHOSTUNREACH / ENETUNREACH). */
  Unreachable: 'unreachable',
} as const;
export type TcpError = (typeof TcpError)[keyof typeof TcpError];

/** Why the connection discarded a segment (counted per reason in the stats). */
export const TcpDropReason = {
  /** Sequence number outside the receive window (RFC 9293 §3.10.7.4 step 1). */
  OutOfWindow: 'tcp-out-of-window',
  /** PAWS: a timestamp older than TS.Recent (RFC 7323 §5). */
  Paws: 'tcp-paws',
  /** An ACK for data never sent, or older than the window allows (RFC 5961 §5). */
  BadAck: 'tcp-bad-ack',
  /** A RST that was not exactly at RCV.NXT (answered with a challenge ACK, RFC 5961 §3). */
  RstNotExact: 'tcp-rst-not-exact',
  /** A RST outside the window. */
  RstOutOfWindow: 'tcp-rst-out-of-window',
  /** A SYN on a synchronized connection (RFC 5961 §4). */
  UnexpectedSyn: 'tcp-unexpected-syn',
  /** A segment without ACK where one is required (RFC 9293 step 5). */
  NoAck: 'tcp-no-ack',
  /** A segment that the state does not accept (e.g. data in LISTEN, anything in CLOSED). */
  BadState: 'tcp-bad-state',
  /** Data after the application closed its reading side. */
  DataAfterClose: 'tcp-data-after-close',
  /** Data beyond the receive buffer (a peer ignoring our window). */
  NoBufferSpace: 'tcp-no-buffer-space',
} as const;
export type TcpDropReason = (typeof TcpDropReason)[keyof typeof TcpDropReason];

/** What happened, for the code that drives the connection (`pollEvent`). */
export type TcpEvent =
  | { type: 'connected' }
  | { type: 'readable' }
  | { type: 'writable' }
  | { type: 'peer-closed' }
  | { type: 'closed'; error: TcpError | null }
  | { type: 'state'; transition: StateTransition };

/** One recorded state change and what caused it (a received segment, a call, a timer). */
export interface StateTransition {
  at: Instant;
  from: TcpState;
  to: TcpState;
  cause: string;
}

/** A snapshot in the spirit of Linux TCP_INFO. Times are microseconds. */
export interface TcpStats {
  state: TcpState;
  /**
   * Loss-recovery state as Linux names it (tcpi_ca_state): open, disorder
   * (SACKs or duplicate ACKs seen), cwr (reducing after an ECN echo or a
   * repaired tail loss), recovery (fast recovery), loss (after a timeout).
   */
  caState: 'open' | 'disorder' | 'cwr' | 'recovery' | 'loss';
  srtt: Duration;
  rttvar: Duration;
  minRtt: Duration;
  rto: Duration;
  backoffs: number;
  cwnd: number;
  ssthresh: number;
  congestionControl: string;
  sendMss: number;
  receiveMss: number;
  bytesInFlight: number;
  sendWindow: number;
  receiveWindow: number;
  sendWindowScale: number;
  receiveWindowScale: number;
  timestamps: boolean;
  sackPermitted: boolean;
  bytesSent: number;
  bytesRetransmitted: number;
  bytesAcked: number;
  bytesReceived: number;
  segmentsSent: number;
  segmentsReceived: number;
  segmentsRetransmitted: number;
  dataSegmentsSent: number;
  dataSegmentsReceived: number;
  retransmitTimeouts: number;
  fastRetransmits: number;
  dupAcksReceived: number;
  sackedBytes: number;
  /** Segments deemed lost so far (cumulative: fast retransmits, RACK, and every segment outstanding at a timeout). */
  lostSegments: number;
  /** Bytes now deemed lost and not SACKed (tcpi_lost, in bytes). */
  lostBytes: number;
  /** Bytes retransmitted and not yet acknowledged or SACKed (tcpi_retrans, in bytes). */
  retransmittedOutBytes: number;
  /** Reordering degree in segments (tcpi_reordering; 3 until more is seen). */
  reordering: number;
  /** Times reordering was detected (tcpi_reord_seen). */
  reorderingSeen: number;
  /** RACK's current reordering window (µs). */
  reorderWindow: Duration;
  /** D-SACK blocks received (Linux TCPDSACKRecv). */
  dsacksReceived: number;
  /** Window reductions undone as spurious (D-SACK, timestamps or F-RTO; Linux's undo counters together). */
  spuriousRecoveries: number;
  /** Timeouts F-RTO found spurious (Linux TCPSpuriousRTOs). */
  spuriousRtos: number;
  /** Tail loss probes sent (Linux TCPLossProbes). */
  lossProbes: number;
  /** Losses a tail loss probe repaired (Linux TCPLossProbeRecovery). */
  lossProbeRecoveries: number;
  /** Bytes delivered to the peer, cumulatively acknowledged or SACKed (tcpi_delivered, in bytes). */
  deliveredBytes: number;
  /** The latest delivery-rate sample in bytes per second (tcpi_delivery_rate); 0 before one. */
  deliveryRate: number;
  /** The pacing rate in bytes per second (tcpi_pacing_rate); -1 when not pacing. */
  pacingRate: number;
  /**
   * BBR's model (Linux tcp_bbr_info with BBRv3's additions): its state, the
   * bandwidth estimate, min_rtt, the pacing rate and gains, the inflight
   * bounds; null for a window-based controller.
   */
  bbr: BbrInfo | null;
  /** ECN was negotiated (RFC 3168; TCPI_OPT_ECN). */
  ecn: boolean;
  /** Segments received with Congestion Experienced marked. */
  ceReceived: number;
  /** Window reductions caused by ECN echoes. */
  ecnReductions: number;
  /** The receive buffer limit now (grows with autotuning, up to maxReceiveBufferSize). */
  receiveBufferLimit: number;
  unackedSegments: number;
  outOfOrderBytes: number;
  outOfOrderSegments: number;
  challengeAcksSent: number;
  zeroWindowProbes: number;
  keepAliveProbes: number;
  sendBuffered: number;
  receiveBuffered: number;
  drops: Partial<Record<TcpDropReason, number>>;
}
