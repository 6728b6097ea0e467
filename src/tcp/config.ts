import { millis, seconds, type Duration } from '../base/index.js';

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
  /** Name of the congestion control algorithm (see congestion/index.ts). */
  congestionControl: string;
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
    congestionControl: 'newreno',
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
