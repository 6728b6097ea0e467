import { millis, seconds, type Duration } from '../base/index.js';
import type { CongestionControlName } from './congestion/index.js';

/**
 * Every tunable of a TCP connection. `linuxProfile()` gives the defaults, chosen
 * to match a current Linux kernel (sysctl names in comments) so that a Linux peer
 * and packetdrill scripts written for Linux see familiar behaviour. Where the RFC
 * and Linux differ, the comment says which one we follow.
 */
export interface TcpConfig {
  /** MSS we advertise and the largest payload we receive; the stack derives it from the MTU. */
  mss: number;
  /** Peer MSS assumed when its SYN carries no MSS option (RFC 9293 §3.7.1: 536 for IPv4; 1220 for IPv6). */
  defaultPeerMss: number;
  /** Send buffer limit in bytes (unacknowledged plus unsent). Allocated lazily. */
  sendBufferSize: number;
  /** Receive buffer limit in bytes (unread plus out-of-order). Allocated lazily. */
  receiveBufferSize: number;
  /**
   * Largest receive buffer the window scale must cover (net.ipv4.tcp_rmem max). Current Linux
   * defaults to 32 MiB, which gives the wscale 10 a Linux 6.x SYN carries.
   */
  maxReceiveBufferSize: number;
  /** Offer window scaling (RFC 7323 §2; net.ipv4.tcp_window_scaling). */
  windowScaling: boolean;
  /** Offer timestamps (RFC 7323 §3; net.ipv4.tcp_timestamps). */
  timestamps: boolean;
  /** Offer SACK (RFC 2018; net.ipv4.tcp_sack). */
  sack: boolean;
  /** Send D-SACK for duplicate segments (RFC 2883; net.ipv4.tcp_dsack). */
  dsack: boolean;
  /** RFC 6298 (2.1): RTO before any RTT sample. */
  initialRto: Duration;
  /** Lower bound of the RTO. RFC 6298 (2.4) says 1 s; Linux uses 200 ms (TCP_RTO_MIN) and so do we. */
  minRto: Duration;
  /** Upper bound of the RTO and of backed-off probe intervals (Linux TCP_RTO_MAX, 120 s). */
  maxRto: Duration;
  /**
   * Apply minRto to the RTT variance term (Linux: RTO >= SRTT + 200 ms)
   * rather than to the whole RTO (RFC 6298 (2.4)). Default true, as Linux.
   */
  minRtoOnVariance: boolean;
  /**
   * RFC 5681 §4.1: after an idle period longer than the RTO, restart from the
   * initial window (Linux: net.ipv4.tcp_slow_start_after_idle, default 1).
   * Off, an idle connection keeps its cwnd, as google/packetdrill's defaults
   * set it and as many servers run.
   */
  slowStartAfterIdle: boolean;
  /** SYN retransmissions before a connect gives up (net.ipv4.tcp_syn_retries = 6). */
  synRetries: number;
  /** SYN-ACK retransmissions before a half-open connection is dropped (net.ipv4.tcp_synack_retries = 5). */
  synAckRetries: number;
  /** Data retransmissions before the connection times out (net.ipv4.tcp_retries2 = 15). */
  maxRetransmits: number;
  /** Maximum segment lifetime; TIME-WAIT lasts 2·MSL. Linux's TIME-WAIT is 60 s, so MSL is 30 s. */
  msl: Duration;
  /** How long an orphaned connection (closed by the application) may sit in FIN-WAIT-2 (net.ipv4.tcp_fin_timeout). */
  finTimeout: Duration;
  /** Delay ACKs (RFC 1122 §4.2.3.2). */
  delayedAck: boolean;
  /** Delayed-ACK timer. RFC 1122 allows up to 500 ms; Linux's minimum is 40 ms (TCP_DELACK_MIN). */
  delayedAckTimeout: Duration;
  /** ACKs sent at once, not delayed, at the start of a connection (Linux quick-ack mode; 0 disables). */
  initialQuickAcks: number;
  /** Disable Nagle's algorithm (TCP_NODELAY). */
  noDelay: boolean;
  /** Send keepalive probes when idle (SO_KEEPALIVE; RFC 1122 §4.2.3.6, off by default). */
  keepAlive: boolean;
  /** Idle time before the first keepalive probe (net.ipv4.tcp_keepalive_time, 2 h). */
  keepAliveIdle: Duration;
  /** Between keepalive probes (net.ipv4.tcp_keepalive_intvl, 75 s). */
  keepAliveInterval: Duration;
  /** Unanswered probes before the connection is declared dead (net.ipv4.tcp_keepalive_probes, 9). */
  keepAliveCount: number;
  /** RFC 5482 user timeout (TCP_USER_TIMEOUT): unacknowledged data older than this ends the connection. 0 = off. */
  userTimeout: Duration;
  /** Initial congestion window in segments (RFC 6928; Linux TCP_INIT_CWND = 10). */
  initialCwndSegments: number;
  /**
   * Name of the congestion control algorithm, as registered in congestion/index.ts (Linux's
   * net.ipv4.tcp_congestion_control): 'cubic' (Linux's default), 'newreno' or 'bbr'
   * (draft-ietf-ccwg-bbr; model-based, see `modelBased` in congestion/types.ts for what the
   * connection owes it: rate samples, lost packets, pacing). Any other string names a
   * controller registered at run time; an unknown one is refused when a connection starts.
   */
  congestionControl: CongestionControlName | (string & {});
  // The loss-recovery and congestion-control switches below are optional so
  // that a profile written before them still type-checks; `tcpConfig()` and
  // `linuxProfile()` always fill them in, and a connection reads a missing
  // one as its Linux default.
  /**
   * RACK time-based loss detection with SACK (RFC 8985; Linux net.ipv4.tcp_recovery = 1).
   * Off: RFC 6675's rule (DupThresh SACKed segments above a hole, growing with measured
   * reordering as Linux's tp->reordering). Without SACK, NewReno's three duplicate ACKs apply.
   * Default true.
   */
  rack?: boolean;
  /** Tail loss probes (RFC 8985 §7; Linux net.ipv4.tcp_early_retrans = 3). Need SACK, as in Linux. Default true. */
  tlp?: boolean;
  /**
   * Proportional Rate Reduction in SACK recovery and CWR (RFC 6937; Linux always). Off:
   * RFC 6675 §5 (cwnd = ssthresh when recovery starts). Recovery without SACK is NewReno's
   * (RFC 6582) either way. Default true.
   */
  prr?: boolean;
  /** F-RTO, spurious retransmission timeout detection (RFC 5682 SACK-enhanced; net.ipv4.tcp_frto = 2). Default true. */
  frto?: boolean;
  /**
   * Undo a window reduction shown spurious by D-SACK (RFC 2883, RFC 3708) or by timestamps
   * (Eifel, RFC 3522), as Linux does. Default true.
   */
  undo?: boolean;
  /**
   * ECN (RFC 3168; net.ipv4.tcp_ecn): 0 off, 1 request it on connections we open and accept
   * it, 2 accept it when the peer asks but do not ask (Linux's default). Default 2.
   */
  ecn?: number;
  /**
   * Pace segments over the round trip (Linux's internal pacing: 200 % of cwnd/SRTT in slow
   * start, 120 % after). Default false.
   */
  pacing?: boolean;
  /** HyStart++ (RFC 9406) for controllers that have it (CUBIC). Default true. */
  hystart?: boolean;
  /**
   * Grow the receive buffer with the bandwidth-delay product the application drains, up to
   * maxReceiveBufferSize (Linux tcp_rcv_space_adjust, net.ipv4.tcp_moderate_rcvbuf = 1).
   * Linux stops autotuning a socket whose SO_RCVBUF was set; set this false then. Default true.
   */
  receiveBufferAutotuning?: boolean;
  /**
   * Keep the last this-many samples of what the sender did and saw (TcpRecorder: segments
   * sent, retransmitted, SACKed and acknowledged; cwnd, ssthresh, pipe, SRTT) for plots.
   * 0 records nothing and allocates nothing. Default 0.
   */
  recordSamples?: number;
  /**
   * Data that arrives after close() (FIN-WAIT-1/2) is answered as Linux answers it: a reset
   * in reply to that segment (tcp_v4_send_reset: SEQ = SEG.ACK, no ACK bit). Off: the
   * connection aborts as RFC 9293 §3.10.5 ABORT does, <SEQ=SND.NXT><CTL=RST,ACK>. RFC 1122
   * §4.2.2.13 asks for a reset and says no more. Default false.
   */
  resetDataAfterCloseAsReply?: boolean;
  /**
   * A FIN that arrives in ESTABLISHED ends quick-ACK mode and is acknowledged by the
   * delayed-ACK timer, as Linux does (tcp_fin enters pingpong mode), so that the
   * application's own FIN can carry the ACK. Off: the FIN is acknowledged at once. RFC 1122
   * §4.2.3.2 allows either. Default false.
   */
  delayedAckOfFin?: boolean;
  /**
   * The congestion controller grows cwnd by the bytes an ACK newly delivers (newly SACKed
   * plus newly acknowledged and not SACKed before), as Linux's tcp_cong_avoid does with
   * tp->delivered. Off: by the bytes the cumulative ACK newly covers, SACKed before or not
   * (RFC 3465 §2.2, RFC 5681 §3.1). Default false.
   */
  cwndGrowsByDelivered?: boolean;
  /**
   * An ACK of data never sent (SEG.ACK > SND.NXT) is dropped in silence, as Linux's tcp_ack
   * does. Off: it is answered with an ACK (RFC 9293 §3.10.7.4 step 5; a rate-limited
   * challenge ACK, RFC 5961 §5.2). Default false.
   */
  dropAckOfUnsent?: boolean;
  /**
   * PRR's slow-start reduction bound adds its extra MSS only on an ACK that advances
   * SND.UNA and shows no new loss (RFC 9937's safeACK, Linux's tcp_cwnd_reduction). Off:
   * on every ACK, as RFC 6937 §3 did. Default false.
   */
  prrSafeAck?: boolean;
  /** RFC 5961 defences (challenge ACKs for in-window RST and SYN, ACK range check). */
  rfc5961: boolean;
  /**
   * Most challenge ACKs per second per connection (RFC 5961 §7). Linux 6.x turned its global
   * limit off (tcp_challenge_ack_limit = INT_MAX) and rate-limits per socket instead; a per-connection
   * budget keeps the defence without the global side channel (CVE-2016-5696).
   */
  challengeAckLimit: number;
  /** Largest zero-window probe / persist interval (Linux caps at TCP_RTO_MAX). */
  maxPersistInterval: Duration;
  /** Record every state transition in `Connection.transitions` (feeds ladder diagrams and traces). */
  recordTransitions: boolean;
}

/** The defaults: what a current Linux kernel does. */
export function linuxProfile(): TcpConfig {
  return {
    mss: 1460,
    defaultPeerMss: 536,
    sendBufferSize: 1 << 20,
    receiveBufferSize: 1 << 20,
    maxReceiveBufferSize: 32 * 1024 * 1024,
    windowScaling: true,
    timestamps: true,
    sack: true,
    dsack: true,
    initialRto: seconds(1),
    minRto: millis(200),
    maxRto: seconds(120),
    minRtoOnVariance: true,
    slowStartAfterIdle: true,
    synRetries: 6,
    synAckRetries: 5,
    maxRetransmits: 15,
    msl: seconds(30),
    finTimeout: seconds(60),
    delayedAck: true,
    delayedAckTimeout: millis(40),
    initialQuickAcks: 16,
    noDelay: false,
    keepAlive: false,
    keepAliveIdle: seconds(7200),
    keepAliveInterval: seconds(75),
    keepAliveCount: 9,
    userTimeout: seconds(0),
    initialCwndSegments: 10,
    congestionControl: 'cubic',
    rack: true,
    tlp: true,
    prr: true,
    frto: true,
    undo: true,
    ecn: 2,
    pacing: false,
    hystart: true,
    receiveBufferAutotuning: true,
    recordSamples: 0,
    resetDataAfterCloseAsReply: false,
    delayedAckOfFin: false,
    cwndGrowsByDelivered: false,
    dropAckOfUnsent: false,
    prrSafeAck: false,
    rfc5961: true,
    challengeAckLimit: 1000,
    maxPersistInterval: seconds(120),
    recordTransitions: true,
  };
}

/** Named configuration profiles; more (e.g. `freebsd`) can join. */
export const tcpProfiles: Record<string, () => TcpConfig> = { linux: linuxProfile };

/** The default profile with some fields overridden, validated. */
export function tcpConfig(overrides: Partial<TcpConfig> = {}): TcpConfig {
  const config = { ...linuxProfile(), ...overrides };
  validateTcpConfig(config);
  return config;
}

/** Throws a RangeError naming the first field that is out of range. */
export function validateTcpConfig(config: TcpConfig): void {
  const positive: Array<keyof TcpConfig> = [
    'mss',
    'defaultPeerMss',
    'sendBufferSize',
    'receiveBufferSize',
    'initialRto',
    'minRto',
    'maxRto',
    'msl',
    'initialCwndSegments',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`TcpConfig.${key} must be a positive number, got ${String(value)}`);
    }
  }
  if (config.mss < 64 || config.mss > 65495) {
    throw new RangeError(`TcpConfig.mss must be between 64 and 65495, got ${config.mss}`);
  }
  if (config.minRto > config.maxRto) {
    throw new RangeError('TcpConfig.minRto must not exceed maxRto');
  }
  if (config.ecn !== undefined && config.ecn !== 0 && config.ecn !== 1 && config.ecn !== 2) {
    throw new RangeError(
      `TcpConfig.ecn must be 0 (off), 1 (request) or 2 (accept only), got ${String(config.ecn)}`,
    );
  }
  const samples = config.recordSamples;
  if (samples !== undefined && !(Number.isInteger(samples) && samples >= 0)) {
    throw new RangeError(
      `TcpConfig.recordSamples must be a non-negative integer, got ${String(samples)}`,
    );
  }
}

/**
 * The window scale shift we offer: the smallest that lets a 16-bit field
 * cover `maxReceiveBufferSize` (RFC 7323 §2.3 caps it at 14).
 */
export function windowScaleFor(maxReceiveBufferSize: number): number {
  let shift = 0;
  while (shift < 14 && 0xffff * 2 ** shift < maxReceiveBufferSize) shift++;
  return shift;
}
