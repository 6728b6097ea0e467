import {
  NEVER,
  ByteRing,
  type BufferPool,
  RangeSet,
  assertNever,
  earliest,
  elapsed,
  later,
  millis,
  micros,
  minDuration,
  seconds,
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqLe,
  seqLt,
  type Duration,
  type Instant,
  type SeqNum,
} from '../base/index.js';
import { TcpFlags, noTcpOptions, type SackBlock, type TcpRepr } from '../wire/index.js';
import { validateTcpConfig, windowScaleFor, type TcpConfig } from './config.js';
import {
  INFINITE_SSTHRESH,
  congestionControls,
  type CongestionControl,
} from './congestion/index.js';
import { ReceiveBuffer } from './receive.js';
import { TcpRecorder, TcpSampleKind } from './recorder.js';
import { AckSample } from './recovery/sample.js';
import { Prr } from './recovery/prr.js';
import { Rack } from './recovery/rack.js';
import { SegmentFlag, SentSegments } from './recovery/scoreboard.js';
import { RttEstimator } from './rtt.js';
import { tsDiff } from './timestamps.js';
import {
  TcpDropReason,
  TcpError,
  TcpState,
  type StateTransition,
  type TcpEvent,
  type TcpStats,
} from './types.js';

/** Options for an active open (`Connection.connect`). */
export interface ConnectOptions {
  /** The initial send sequence number; the stack derives it per RFC 6528 (see IsnGenerator). */
  iss: SeqNum;
  config: TcpConfig;
  /** Offset added to our timestamp clock (Linux randomises it per connection); default 0. */
  timestampOffset?: number;
  /** Where the send and receive buffers' storage is recycled (one per stack); default none. */
  buffers?: BufferPool | null;
}

/** Options for a passive open (`Connection.listen`). */
export interface ListenOptions {
  /** The ISS to use when a SYN arrives (the stack computes it from the SYN's 4-tuple). */
  iss: SeqNum;
  config: TcpConfig;
  timestampOffset?: number;
  /** As {@link ConnectOptions.buffers}. */
  buffers?: BufferPool | null;
}

/** A call the application made that the connection's state does not allow. */
export class TcpApiError extends Error {
  override readonly name = 'TcpApiError';
  /** Stable code: 'not-connected', 'write-after-shutdown', 'closed', 'bad-argument'. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Loss-recovery phase, named as Linux's tcp_ca_state. */
const CaState = {
  Open: 'open',
  Disorder: 'disorder',
  /** Reducing the window after an ECN echo (RFC 3168 §6.1.2) or a loss a probe repaired. */
  Cwr: 'cwr',
  Recovery: 'recovery',
  Loss: 'loss',
} as const;
type CaState = (typeof CaState)[keyof typeof CaState];

/** What the loss-detection timer is for (Linux's ICSK_TIME_REO_TIMEOUT and ICSK_TIME_LOSS_PROBE share one slot). */
const LossTimer = { None: 0, Reorder: 1, Probe: 2 } as const;
type LossTimer = (typeof LossTimer)[keyof typeof LossTimer];

/** A tail loss probe waiting to go (RFC 8985 §7.3). */
const Probe = { None: 0, NewData: 1, Retransmit: 2 } as const;
type Probe = (typeof Probe)[keyof typeof Probe];

/** IP ECN codepoints (RFC 3168 §5). */
const ECN_ECT0 = 2;
const ECN_CE = 3;

/** Bytes of TCP option space the timestamps option takes in every segment (RFC 7323 §3.2: 10 + 2 NOPs). */
const TIMESTAMP_OPTION_SPACE = 12;
/** Largest unscaled window field. */
const MAX_WINDOW_FIELD = 0xffff;
/** RFC 7323 §5.5: TS.Recent older than 24 days is no longer trusted for PAWS. */
const PAWS_IDLE_LIMIT = millis(24 * 24 * 3600 * 1000);
/** RFC 5681 §3.2: the dupack count that triggers fast retransmit. */
const DUPACK_THRESHOLD = 3;
/** Retransmitted ranges remembered for undo before the episode is given up (keeps memory bounded). */
const MAX_UNDO_RANGES = 64;
/** Linux net.ipv4.tcp_max_reordering: the most segments the reordering estimate may reach. */
const MAX_REORDERING = 300;
/** RFC 8985 §7.2: WCDelAckT, the worst-case delayed-ACK time a one-segment flight must allow. */
const WORST_CASE_DELAYED_ACK = millis(200);
/** Linux TCP_TIMEOUT_MIN: slack added to a probe timeout with more than one segment in flight. */
const PTO_SLACK = millis(2);
/** RFC 8985 §7.2: the probe timeout without an RTT sample. */
const PTO_WITHOUT_RTT = seconds(1);
/** Linux net.ipv4.tcp_pacing_ss_ratio (200 %) and tcp_pacing_ca_ratio (120 %). */
const PACING_SS_RATIO = 2;
const PACING_CA_RATIO = 1.2;
/** Header bytes per segment counted when pacing (IPv4 + TCP with timestamps). */
const PACING_HEADER_BYTES = 52;

function emptyStats(): Mutable<
  Omit<
    TcpStats,
    | 'state'
    | 'caState'
    | 'srtt'
    | 'rttvar'
    | 'minRtt'
    | 'rto'
    | 'backoffs'
    | 'cwnd'
    | 'ssthresh'
    | 'congestionControl'
    | 'sendMss'
    | 'receiveMss'
    | 'bytesInFlight'
    | 'sendWindow'
    | 'receiveWindow'
    | 'sendWindowScale'
    | 'receiveWindowScale'
    | 'timestamps'
    | 'sackPermitted'
    | 'sackedBytes'
    | 'lostBytes'
    | 'retransmittedOutBytes'
    | 'reordering'
    | 'reorderWindow'
    | 'deliveredBytes'
    | 'deliveryRate'
    | 'pacingRate'
    | 'ecn'
    | 'receiveBufferLimit'
    | 'unackedSegments'
    | 'outOfOrderBytes'
    | 'outOfOrderSegments'
    | 'sendBuffered'
    | 'receiveBuffered'
  >
> {
  return {
    bytesSent: 0,
    bytesRetransmitted: 0,
    bytesAcked: 0,
    bytesReceived: 0,
    segmentsSent: 0,
    segmentsReceived: 0,
    segmentsRetransmitted: 0,
    dataSegmentsSent: 0,
    dataSegmentsReceived: 0,
    retransmitTimeouts: 0,
    fastRetransmits: 0,
    dupAcksReceived: 0,
    lostSegments: 0,
    reorderingSeen: 0,
    dsacksReceived: 0,
    spuriousRecoveries: 0,
    spuriousRtos: 0,
    lossProbes: 0,
    lossProbeRecoveries: 0,
    ceReceived: 0,
    ecnReductions: 0,
    challengeAcksSent: 0,
    zeroWindowProbes: 0,
    keepAliveProbes: 0,
    drops: {},
  };
}
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One TCP connection: the RFC 9293 state machine with reliable delivery, flow
 * control and congestion control. Sans-IO (DESIGN.md "How the core is
 * driven"): it never reads a clock or does I/O. Feed it segments and time
 * (`handleSegment`, `handleTimeout`), give it commands (`write`, `shutdown`,
 * `close`, `abort`), then drain `pollTransmit` and `pollEvent` and arm a timer
 * for `pollTimeout()`.
 *
 * Where RFC 9293 leaves a choice, this follows Linux; the comments say where.
 */
export class Connection {
  readonly config: TcpConfig;
  private stateValue: TcpState = TcpState.Closed;
  /** Every state change with its cause, when `config.recordTransitions`. */
  readonly transitions: StateTransition[] = [];
  private readonly events: TcpEvent[] = [];
  private eventHead = 0;
  private error: TcpError | null = null;
  private passive = false;

  // --- send sequence space (RFC 9293 §3.3.1) ---
  private iss: SeqNum;
  private sndUna: SeqNum;
  private sndNxt: SeqNum;
  /** Peer's window in bytes (already scaled). */
  private sndWnd = 0;
  private sndWl1: SeqNum;
  private sndWl2: SeqNum;
  private maxSndWnd = 0;
  /** Unacknowledged and unsent data; its first byte has sequence number `ringSeq`. */
  private readonly sendRing: ByteRing;
  private ringSeq: SeqNum;
  /** Stream offset of `sndUna` once the SYN is acknowledged (data bytes acknowledged so far). */
  private ackedOffset = 0;
  /** The application called shutdown/close: a FIN follows the queued data. */
  private finQueued = false;
  private finSent = false;
  private finAcked = false;
  private synPending = false;

  // --- receive sequence space ---
  private irs = 0 as SeqNum;
  private rcvNxt = 0 as SeqNum;
  /** Right edge of the largest window we advertised: we accept data up to here (RFC 7323 §2.4). */
  private rcvAdvRight = 0 as SeqNum;
  private lastWindowSent = 0;
  private readonly receive: ReceiveBuffer;
  private finReceived = false;
  /** Stream offset of a FIN that arrived out of order, or -1. */
  private pendingFinOffset = -1;
  /** The application closed its reading side: new data is answered with RST (as Linux does). */
  private readClosed = false;
  private rcvMss: number;

  // --- options negotiated on the handshake ---
  private timestampsOn = false;
  private readonly timestampOffset: number;
  private tsRecent = 0;
  private tsRecentSet = false;
  private tsRecentAt = 0 as Instant;
  private lastAckSent = 0 as SeqNum;
  private sackOn = false;
  /** Peer's window shift (applied to windows we receive). */
  private sndWscale = 0;
  /** Our window shift (applied to windows we send). */
  private rcvWscale = 0;
  private offeredWscale: number;
  private peerMss: number;
  private sendMss: number;
  private mtuMssLimit = Number.POSITIVE_INFINITY;

  // --- ACK generation ---
  private ackNow = false;
  private ackPending = false;
  private bytesSinceAck = 0;
  private quickAcks: number;
  /** D-SACK range to report once (RFC 2883), as stream offsets, or null. */
  private dsack: [number, number] | null = null;
  private challengeWindowStart = 0 as Instant;
  private challengeCount = 0;
  private rstToSend: TcpRepr[] = [];

  // --- loss recovery and congestion control ---
  private readonly rtt: RttEstimator;
  private readonly cc: CongestionControl;
  private caState: CaState = CaState.Open;
  private dupAcks = 0;
  /** RFC 6582 "recover" (Linux high_seq): SND.NXT when recovery, loss or CWR began. */
  private recoverSeq: SeqNum;
  private recoverValid = false;
  /** NewReno without SACK: one retransmission is owed now (fast retransmit or partial ACK), regardless of cwnd. */
  private rtxOwed = false;
  /** What was sent and is not cumulatively acknowledged, per segment: the scoreboard (RFC 6675) and RACK's times. */
  private readonly board = new SentSegments();
  /** What the ACK being processed delivered. */
  private readonly ackSample = new AckSample();
  private readonly rack = new Rack();
  private readonly prr = new Prr();
  // The switches of TcpConfig, resolved once (a missing one is its Linux default).
  private readonly useRack: boolean;
  private readonly useTlp: boolean;
  private readonly usePrr: boolean;
  private readonly useFrto: boolean;
  private readonly useUndo: boolean;
  private readonly pacing: boolean;
  private readonly ecnMode: number;
  private readonly autotune: boolean;
  /**
   * Segments the reordering seen spans (Linux tp->reordering): the duplicate
   * ACK threshold without SACK, and RFC 6675's DupThresh with SACK and RACK off.
   */
  private reordering = DUPACK_THRESHOLD;
  /** The most duplicate ACKs in a row during this loss episode (without SACK). */
  private dupAcksPeak = 0;
  /** RACK's reordering timer or TLP's probe timeout, whichever is armed (one slot, as Linux). */
  private lossTimerAt: Instant = NEVER;
  private lossTimerKind: LossTimer = LossTimer.None;
  /** A tail loss probe is due (the timer fired; pollTransmit sends it). */
  private probeDue: Probe = Probe.None;
  /** FlightSize when the outstanding probe was sent (the loss it repairs is judged against it). */
  private probeFlight = 0;
  /** The current D-SACK covered the outstanding probe (RFC 8985 §7.4.2). */
  private probeDsacked = false;
  /** F-RTO (RFC 5682) is watching the current timeout. */
  private frto = false;
  /** F-RTO step 2.b: send new data rather than retransmit on this ACK. */
  private frtoNewData = false;
  /** F-RTO is past step 2.b: the next ACK decides (step 3). */
  private frtoProbing = false;
  /** RFC 6675 RescueRxt (offset) for this recovery episode, or -1. */
  private rescueRxt = -1;
  /** Linux undo_marker: SND.UNA (offset) when the current reduction began, or -1 when there is nothing to undo. */
  private undoMarker = -1;
  /** Linux undo_retrans: bytes retransmitted since then and not shown spurious by D-SACK; -1 before any. */
  private undoRetrans = -1;
  /** Our TSval on the first retransmission of the episode (Eifel, RFC 3522), or -1. */
  private retransStampTs = -1;
  /** RFC 9406 windowEnd: a round ends when the cumulative ACK passes it. */
  private roundEnd: SeqNum;
  // Delivery rate (draft-cheng-iccrg-delivery-rate-estimation).
  private deliveredTotal = 0;
  private deliveredAt = 0;
  private firstSentAt = 0;
  /** Delivered count below which samples are application-limited, or 0. */
  private appLimitedUntil = 0;
  private deliveryRate = 0;
  /** Pacing: the earliest time the next data segment may leave. */
  private paceNextAt = 0;
  /** Pacing held a segment back: the timer table has a pacing deadline. */
  private paceBlocked = false;
  // ECN (RFC 3168).
  private ecnOn = false;
  /** Our SYN asked for ECN (an ECN-setup SYN, not retransmitted). */
  private ecnRequested = false;
  /** Receiver: a CE mark arrived and the sender has not yet answered with CWR: echo ECE. */
  private ecnDemandCwr = false;
  /** Sender: the window was reduced; the next new data segment carries CWR. */
  private ecnQueueCwr = false;
  /** The segment pollTransmit returned last is ECN-capable (ECT(0)). */
  private lastEct = false;
  // Receive-buffer autotuning (Linux tcp_rcv_space_adjust).
  private rcvSpace = 0;
  private rcvSpaceCopied = 0;
  private rcvSpaceAt = -1;
  private copiedTotal = 0;
  /** The receiver's RTT estimate (µs) from timestamps on arriving data, or 0. */
  private rcvRtt = 0;
  /** The time of the last input (segment or timer), for work done in read(). */
  private lastInputAt = 0 as Instant;
  private readonly recorderRef: TcpRecorder | null;
  /** The ECN codepoint of the segment being processed. */
  private arrivingEcn = 0;
  /** The RTT estimator's sample from the ACK being processed, or -1. */
  private lastRttSample = -1 as Duration;
  /** Retransmitted ranges cumulatively acknowledged since the undo marker (D-SACKs below SND.UNA are checked against it). */
  private readonly retransAcked = new RangeSet();
  /** SACK blocks of one ACK as sorted offset pairs. */
  private readonly sackScratch = new Float64Array(8);
  /** RTT timing of one segment when timestamps are off (Karn's rule applies). */
  private rttTiming = false;
  private rttSeq = 0 as SeqNum;
  private rttStart = 0 as Instant;
  private consecutiveRtos = 0;
  private synRetransmits = 0;
  /** When the oldest unacknowledged data was first sent (for the user timeout). */
  private unackedSince = NEVER;
  private lastSendAt = 0 as Instant;
  private lastReceiveAt = 0 as Instant;
  private keepAliveProbesOut = 0;
  private persistBackoff = 0;
  private probeOwed = false;
  /**
   * The most bytes in flight after a send within the current window, and the
   * offset that window ends at (Linux's max_packets_out and cwnd_usage_seq).
   * Whether the sender used its cwnd is judged over the window, not by what
   * is in flight when an ACK lands: a receiver that acknowledges a whole
   * burst in a few ACKs would otherwise have all but the first counted as
   * application-limited, and cwnd would hardly grow.
   */
  private windowMaxFlight = 0;
  private windowUsageEnd = -1;
  private writableWanted = false;
  private readableSignalled = false;

  // --- timers: deadlines, not callbacks (DESIGN.md) ---
  private retransmitAt: Instant = NEVER;
  private delayedAckAt: Instant = NEVER;
  private persistAt: Instant = NEVER;
  private keepAliveAt: Instant = NEVER;
  private timeWaitAt: Instant = NEVER;
  private finWait2At: Instant = NEVER;

  private readonly counters = emptyStats();

  private constructor(
    config: TcpConfig,
    iss: SeqNum,
    timestampOffset: number,
    buffers: BufferPool | null,
  ) {
    validateTcpConfig(config);
    this.config = config;
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = iss;
    this.sndWl1 = iss;
    this.sndWl2 = iss;
    this.ringSeq = seqAdd(iss, 1);
    this.recoverSeq = iss;
    this.roundEnd = iss;
    this.sendRing = new ByteRing(config.sendBufferSize, buffers);
    this.receive = new ReceiveBuffer(config.receiveBufferSize, buffers);
    this.timestampOffset = timestampOffset >>> 0;
    this.offeredWscale = config.windowScaling ? windowScaleFor(config.maxReceiveBufferSize) : -1;
    this.peerMss = config.defaultPeerMss;
    this.sendMss = Math.min(config.defaultPeerMss, config.mss);
    this.rcvMss = Math.min(config.mss, config.defaultPeerMss);
    this.quickAcks = config.initialQuickAcks;
    this.rtt = new RttEstimator({
      initialRto: config.initialRto,
      minRto: config.minRto,
      maxRto: config.maxRto,
      minRtoOnVariance: config.minRtoOnVariance,
    });
    const factory = congestionControls[config.congestionControl];
    if (factory === undefined) {
      throw new RangeError(
        `unknown congestion control '${config.congestionControl}'; known: ${Object.keys(congestionControls).join(', ')}`,
      );
    }
    this.useRack = config.rack ?? true;
    this.useTlp = config.tlp ?? true;
    this.usePrr = config.prr ?? true;
    this.useFrto = config.frto ?? true;
    this.useUndo = config.undo ?? true;
    this.pacing = config.pacing ?? false;
    this.ecnMode = config.ecn ?? 2;
    this.autotune = config.receiveBufferAutotuning ?? true;
    const samples = config.recordSamples ?? 0;
    this.recorderRef = samples > 0 ? new TcpRecorder(samples) : null;
    this.cc = factory({
      mss: this.sendMss,
      initialWindowSegments: config.initialCwndSegments,
      hystart: config.hystart ?? true,
      paced: this.pacing,
    });
  }

  /** Active open: sends a SYN (RFC 9293 §3.10.1 OPEN call, active). */
  static connect(now: Instant, options: ConnectOptions): Connection {
    const conn = new Connection(
      options.config,
      options.iss,
      options.timestampOffset ?? 0,
      options.buffers ?? null,
    );
    conn.lastReceiveAt = now;
    conn.sndNxt = seqAdd(options.iss, 1);
    conn.synPending = true;
    conn.setState(now, TcpState.SynSent, 'call connect');
    conn.retransmitAt = later(now, conn.rtt.rto);
    return conn;
  }

  /** Passive open: a connection in LISTEN that the next SYN synchronizes. */
  static listen(options: ListenOptions): Connection {
    const conn = new Connection(
      options.config,
      options.iss,
      options.timestampOffset ?? 0,
      options.buffers ?? null,
    );
    conn.passive = true;
    conn.setState(0 as Instant, TcpState.Listen, 'call listen');
    return conn;
  }

  // ===================================================================
  // Reads
  // ===================================================================

  get state(): TcpState {
    return this.stateValue;
  }

  /** The error the connection ended with, or null. */
  get closeError(): TcpError | null {
    return this.error;
  }

  /** In-order bytes waiting to be read. */
  get readableBytes(): number {
    return this.receive.readable;
  }

  /** Bytes `write` would accept now. */
  get writableBytes(): number {
    return this.canWrite() ? this.sendRing.free : 0;
  }

  /** Bytes written but not yet acknowledged by the peer. */
  get sendBuffered(): number {
    return this.sendRing.length;
  }

  /** The peer has sent FIN and every byte before it was delivered in order. */
  get peerClosed(): boolean {
    return this.finReceived;
  }

  /** Initial sequence numbers (for traces). */
  get initialSendSequence(): SeqNum {
    return this.iss;
  }

  get initialReceiveSequence(): SeqNum {
    return this.irs;
  }

  /** Effective send MSS: payload bytes per segment. */
  get mss(): number {
    return this.sendMss;
  }

  /** Whether the connection holds buffers or timers that still matter. */
  get isClosed(): boolean {
    return this.stateValue === TcpState.Closed;
  }

  /** Heap bytes of buffer storage currently allocated (for memory accounting). */
  get bufferBytes(): number {
    return this.sendRing.allocated + this.receive.allocated + this.board.allocated;
  }

  /** The sample recorder when `config.recordSamples` > 0 (for plots), else null. */
  get recorder(): TcpRecorder | null {
    return this.recorderRef;
  }

  /**
   * The IP ECN codepoint for the segment `pollTransmit` returned last: ECT(0)
   * (2) for new data on an ECN connection (RFC 3168 §6.1.5: not for
   * retransmissions, pure ACKs or probes), else Not-ECT (0).
   */
  get transmitEcn(): number {
    return this.lastEct ? ECN_ECT0 : 0;
  }

  /** A snapshot in the spirit of Linux TCP_INFO. */
  stats(): TcpStats {
    return {
      ...this.counters,
      drops: { ...this.counters.drops },
      state: this.stateValue,
      caState: this.caState,
      srtt: this.rtt.srtt,
      rttvar: this.rtt.rttvar,
      minRtt: this.rtt.minRtt,
      rto: this.rtt.rto,
      backoffs: this.rtt.backoffs,
      cwnd: this.cc.cwnd,
      ssthresh: this.cc.ssthresh,
      congestionControl: this.cc.name,
      sendMss: this.sendMss,
      receiveMss: this.rcvMss,
      bytesInFlight: this.bytesInFlight(),
      sendWindow: this.sndWnd,
      receiveWindow: this.currentReceiveWindow(),
      sendWindowScale: this.sndWscale,
      receiveWindowScale: this.rcvWscale,
      timestamps: this.timestampsOn,
      sackPermitted: this.sackOn,
      sackedBytes: this.board.sackedBytes,
      lostBytes: this.board.lostBytes,
      retransmittedOutBytes: this.board.retransBytes,
      reordering: this.reordering,
      reorderWindow: micros(this.currentReorderWindow()),
      deliveredBytes: this.deliveredTotal,
      deliveryRate: Math.round(this.deliveryRate),
      pacingRate: this.pacing ? Math.round(this.pacingRate()) : -1,
      ecn: this.ecnOn,
      receiveBufferLimit: this.receive.limit,
      unackedSegments: Math.ceil(this.bytesOutstanding() / Math.max(this.sendMss, 1)),
      outOfOrderBytes: this.receive.outOfOrderBytes,
      outOfOrderSegments: this.receive.outOfOrderSegments,
      sendBuffered: this.sendRing.length,
      receiveBuffered: this.receive.readable,
    };
  }

  // ===================================================================
  // Commands
  // ===================================================================

  /**
   * Queues bytes for sending; returns how many were taken (less than offered
   * when the send buffer is full: a `writable` event follows when space frees).
   * Writing before the handshake completes queues the data (RFC 9293 §3.10.2).
   */
  write(bytes: Uint8Array): number {
    if (!this.canWrite()) {
      if (this.finQueued && this.stateValue !== TcpState.Closed) {
        throw new TcpApiError(
          'write-after-shutdown',
          'cannot write after shutdown(): the sending direction is closed',
        );
      }
      throw new TcpApiError(
        this.stateValue === TcpState.Listen ? 'not-connected' : 'closed',
        `cannot write in state ${this.stateValue}; open a connection first`,
      );
    }
    const taken = this.sendRing.write(bytes);
    if (taken < bytes.length) this.writableWanted = true;
    return taken;
  }

  /** Copies up to `dst.length` received bytes out; returns the count. May schedule a window update. */
  read(dst: Uint8Array): number {
    const before = this.currentReceiveWindow();
    const n = this.receive.read(dst);
    if (n > 0) {
      this.readableSignalled = false;
      this.copiedTotal += n;
      if (this.autotune) this.adjustReceiveSpace();
      this.maybeWindowUpdate(before);
      if (this.receive.readable === 0) this.receive.release();
    }
    return n;
  }

  /** Copies received bytes out without consuming them (MSG_PEEK). */
  peek(dst: Uint8Array): number {
    return this.receive.peek(dst);
  }

  /**
   * Half-close (RFC 9293 §3.10.4): send FIN after the queued data and keep
   * receiving. In SYN-SENT the connection simply closes.
   */
  shutdown(now: Instant): void {
    switch (this.stateValue) {
      case TcpState.Closed:
      case TcpState.Listen:
        this.finish(now, null, 'call shutdown');
        return;
      case TcpState.SynSent:
        this.finish(now, null, 'call shutdown');
        return;
      case TcpState.SynReceived:
      case TcpState.Established:
        this.finQueued = true;
        // RFC 9293 §3.10.4: in SYN-RECEIVED with nothing to send, the FIN
        // goes at once and we enter FIN-WAIT-1 (Linux's tcp_close_state does
        // the same); with data queued, the FIN waits until ESTABLISHED.
        if (this.stateValue === TcpState.Established || this.sendRing.length === 0)
          this.setState(now, TcpState.FinWait1, 'call shutdown');
        return;
      case TcpState.CloseWait:
        this.finQueued = true;
        this.setState(now, TcpState.LastAck, 'call shutdown');
        return;
      case TcpState.FinWait1:
      case TcpState.FinWait2:
      case TcpState.Closing:
      case TcpState.LastAck:
      case TcpState.TimeWait:
        return;
      default:
        assertNever(this.stateValue, 'state');
    }
  }

  /**
   * Full close: no more sending or receiving. Unread data (or data that
   * arrives later) makes it a reset, as Linux does (RFC 2525 §2.17); otherwise
   * it is a graceful FIN, and an orphaned FIN-WAIT-2 is bounded by `finTimeout`.
   */
  close(now: Instant): void {
    this.readClosed = true;
    if (this.receive.readable > 0 && this.isSynchronized()) {
      this.abort(now);
      return;
    }
    this.shutdown(now);
    if (this.stateValue === TcpState.FinWait2) {
      this.finWait2At = later(now, this.config.finTimeout);
    }
  }

  /** Aborts with RST (like SO_LINGER 0); the connection ends with `aborted`. */
  abort(now: Instant): void {
    switch (this.stateValue) {
      case TcpState.Closed:
        return;
      case TcpState.SynReceived:
      case TcpState.Established:
      case TcpState.FinWait1:
      case TcpState.FinWait2:
      case TcpState.CloseWait:
        // RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST> from these states.
        this.rstToSend.push(this.makeRst(this.sndNxt, true));
        break;
      default:
        // LISTEN, SYN-SENT, and CLOSING, LAST-ACK, TIME-WAIT (our FIN is out;
        // RFC 9293 §3.10.5 just deletes the TCB, as Linux's tcp_need_reset).
        break;
    }
    // RFC 9293 §3.10.5: in TIME-WAIT both sides have closed, the abort answers "ok".
    this.finish(now, this.stateValue === TcpState.TimeWait ? null : TcpError.Aborted, 'call abort');
  }

  /** Turns Nagle's algorithm off or on (TCP_NODELAY). */
  setNoDelay(noDelay: boolean): void {
    this.config.noDelay = noDelay;
  }

  /** Turns keepalive on or off, optionally with a new idle time (SO_KEEPALIVE, TCP_KEEPIDLE). */
  setKeepAlive(now: Instant, enable: boolean, idle?: Duration): void {
    this.config.keepAlive = enable;
    if (idle !== undefined) this.config.keepAliveIdle = idle;
    this.keepAliveProbesOut = 0;
    this.keepAliveAt = NEVER;
    this.updateTimers(now);
  }

  /** Sets the RFC 5482 user timeout (0 disables). */
  setUserTimeout(timeout: Duration): void {
    this.config.userTimeout = timeout;
  }

  /**
   * Lowers the send MSS when the path MTU drops (RFC 1191, RFC 8201) and
   * retransmits what was in flight at the new size.
   */
  setPathMss(now: Instant, mss: number): void {
    if (!(mss >= 64))
      throw new TcpApiError('bad-argument', `path MSS must be at least 64, got ${mss}`);
    this.mtuMssLimit = mss;
    const before = this.sendMss;
    this.recomputeSendMss();
    if (this.sendMss < before && seqLt(this.sndUna, this.sndNxt) && this.isSynchronized()) {
      // RFC 1191 §6.5: retransmit at once, without treating it as congestion
      // (what is outstanding goes again in segments of the new size).
      this.board.markAllLost();
      this.recoverSeq = this.sndNxt;
      this.recoverValid = true;
      if (this.caState !== CaState.Recovery && this.caState !== CaState.Loss) {
        this.caState = CaState.Loss;
        this.frto = false;
        this.undoMarker = -1;
      }
      this.rtxOwed = true;
      this.rttTiming = false;
      this.updateTimers(now);
    }
  }

  // ===================================================================
  // Output
  // ===================================================================

  /** The next event, or null. */
  pollEvent(): TcpEvent | null {
    if (this.eventHead >= this.events.length) {
      if (this.eventHead > 0) {
        this.events.length = 0;
        this.eventHead = 0;
      }
      return null;
    }
    return this.events[this.eventHead++]!;
  }

  /** The earliest deadline at which `handleTimeout` has work, or NEVER. */
  pollTimeout(): Instant {
    let t = earliest(this.retransmitAt, this.delayedAckAt);
    t = earliest(t, this.persistAt);
    t = earliest(t, this.keepAliveAt);
    t = earliest(t, this.timeWaitAt);
    t = earliest(t, this.lossTimerAt);
    if (this.paceBlocked) t = earliest(t, this.paceNextAt as Instant);
    return earliest(t, this.finWait2At);
  }

  /**
   * The next segment to send, or null when there is nothing. Call until null.
   *
   * The repr object is the caller's (a fresh one each time), but its
   * `payload` is borrowed: usually a view (`subarray`) into the connection's
   * send buffer, so a segment costs no payload allocation and the caller
   * copies the bytes once, into the frame it builds. The view is valid until
   * the next call into this connection (a later `write` may reuse the space
   * once the bytes are acknowledged); a caller that keeps a segment longer
   * must copy the payload (`slice`). Never write into it.
   */
  pollTransmit(now: Instant): TcpRepr | null {
    this.lastEct = false;
    const seg = this.nextSegment(now);
    if (seg !== null) {
      this.noteSent(now, seg);
    } else {
      // Nothing to send, perhaps because the window is closed: data written
      // since the last segment arrived needs the persist timer (RFC 9293 §3.8.6.1).
      this.updateTimers(now);
    }
    return seg;
  }

  // ===================================================================
  // Timers
  // ===================================================================

  /** Runs every timer whose deadline has passed. Harmless when early or repeated. */
  handleTimeout(now: Instant): void {
    this.lastInputAt = now;
    if (this.timeWaitAt <= now) {
      this.timeWaitAt = NEVER;
      this.finish(now, null, 'timer 2MSL');
      return;
    }
    if (this.finWait2At <= now) {
      this.finWait2At = NEVER;
      if (this.stateValue === TcpState.FinWait2) {
        // Linux tcp_fin_timeout: an orphaned FIN-WAIT-2 is dropped (with RST, as Linux does).
        this.rstToSend.push(this.makeRst(this.sndNxt, true));
        this.finish(now, null, 'timer FIN-WAIT-2');
        return;
      }
    }
    if (this.lossTimerAt <= now) {
      // Before the RTO: a probe due at the same time rearms the RTO (RFC 8985 §7.3).
      const kind = this.lossTimerKind;
      this.lossTimerAt = NEVER;
      this.lossTimerKind = LossTimer.None;
      if (kind === LossTimer.Reorder) this.onReorderTimeout(now);
      else if (kind === LossTimer.Probe) this.onProbeTimeout(now);
    }
    if (this.retransmitAt <= now) {
      this.retransmitAt = NEVER;
      this.onRetransmitTimeout(now);
      if (this.stateValue === TcpState.Closed) return;
    }
    if (this.paceBlocked && this.paceNextAt <= now) this.paceBlocked = false;
    if (this.persistAt <= now) {
      this.persistAt = NEVER;
      this.onPersistTimeout(now);
      if (this.stateValue === TcpState.Closed) return;
    }
    if (this.keepAliveAt <= now) {
      this.keepAliveAt = NEVER;
      this.onKeepAliveTimeout(now);
      if (this.stateValue === TcpState.Closed) return;
    }
    if (this.delayedAckAt <= now) {
      this.delayedAckAt = NEVER;
      if (this.ackPending) this.ackNow = true;
    }
  }

  private onRetransmitTimeout(now: Instant): void {
    switch (this.stateValue) {
      case TcpState.SynSent:
      case TcpState.SynReceived: {
        const limit =
          this.stateValue === TcpState.SynSent ? this.config.synRetries : this.config.synAckRetries;
        if (this.synRetransmits >= limit) {
          this.finish(now, TcpError.TimedOut, 'timer retransmit (SYN retries exhausted)');
          return;
        }
        this.synRetransmits++;
        this.counters.retransmitTimeouts++;
        this.rtt.backoff();
        this.synPending = true;
        this.rttTiming = false;
        this.retransmitAt = later(now, this.rtt.rto);
        return;
      }
      case TcpState.Established:
      case TcpState.FinWait1:
      case TcpState.Closing:
      case TcpState.LastAck:
      case TcpState.CloseWait:
        break;
      default:
        return;
    }
    if (!this.hasOutstanding()) return;
    if (this.userTimeoutExpired(now) || this.consecutiveRtos >= this.config.maxRetransmits) {
      this.finish(now, TcpError.TimedOut, 'timer retransmit (retries exhausted)');
      return;
    }
    const expired = this.rtt.rto;
    // F-RTO (RFC 5682) watches a timeout that opens a new episode, and
    // repeated ones (Linux: new_recovery || icsk_retransmits).
    // Only with SACK: without it the duplicate ACKs that follow F-RTO's new
    // data would not free the window for the retransmissions a real loss needs.
    const fresh = this.caState !== CaState.Recovery && this.caState !== CaState.Loss;
    this.frto = this.useFrto && this.sackOn && (fresh || this.rtt.backoffs > 0);
    this.frtoProbing = false;
    this.frtoNewData = false;
    const reducing = this.caState === CaState.Recovery || this.caState === CaState.Cwr;
    if (!reducing && (this.caState !== CaState.Loss || this.consecutiveRtos === 0)) {
      // A new episode (Linux tcp_enter_loss): what a later undo restores.
      this.initUndo();
    }
    this.consecutiveRtos++;
    this.counters.retransmitTimeouts++;
    // In fast recovery or CWR ssthresh was already reduced for this window;
    // Linux keeps it and only collapses cwnd (tcp_enter_loss).
    const ssthresh = this.cc.ssthresh;
    this.cc.onRetransmitTimeout(now, this.bytesOutstanding());
    if (reducing) this.cc.ssthresh = ssthresh;
    this.rtt.backoff();
    // RFC 2018 §8 / RFC 6675 §5.1: after an RTO the SACK scoreboard is not
    // trusted (the receiver may renege), so everything is resent in order.
    this.board.clearSacks();
    this.board.markAllLost();
    if (this.caState === CaState.Recovery) this.rack.onRecoveryExit();
    this.caState = CaState.Loss;
    this.recoverSeq = this.sndNxt;
    this.recoverValid = true;
    this.rtxOwed = false;
    this.dupAcks = 0;
    this.rttTiming = false;
    this.rescueRxt = -1;
    this.rack.resetProbe();
    this.probeDue = Probe.None;
    this.cancelLossTimer();
    if (this.ecnOn) this.ecnQueueCwr = true;
    this.counters.lostSegments += Math.ceil(this.bytesOutstanding() / this.sendMss);
    this.retransmitAt = later(now, this.rtt.rto);
    if (this.recorderRef !== null) {
      this.recorderRef.record(now, TcpSampleKind.Timeout, expired, 0);
      this.recordWindow(now);
    }
  }

  private onPersistTimeout(now: Instant): void {
    if (!this.isSynchronized() || this.unsentBytes() === 0 || this.hasOutstanding()) return;
    if (this.userTimeoutExpired(now)) {
      this.finish(now, TcpError.TimedOut, 'timer persist (user timeout)');
      return;
    }
    // RFC 9293 §3.8.6.1: probe the zero window (or the one too small to use).
    // Linux sends an ACK with an old sequence number (snd_una - 1), which the
    // peer must answer with its current window; we do the same.
    this.probeOwed = true;
    this.counters.zeroWindowProbes++;
    this.persistBackoff++;
    this.persistAt = later(now, this.persistInterval());
  }

  private onKeepAliveTimeout(now: Instant): void {
    if (!this.config.keepAlive || !this.isSynchronized()) return;
    if (this.hasOutstanding() || this.unsentBytes() > 0) {
      // Not idle: the retransmission or persist timer is watching the peer
      // (and has its own limits). Linux's tcp_keepalive_timer reschedules too.
      this.keepAliveAt = later(now, this.config.keepAliveIdle);
      return;
    }
    if (this.keepAliveProbesOut >= this.config.keepAliveCount) {
      this.finish(now, TcpError.TimedOut, 'timer keepalive (no answer)');
      return;
    }
    // RFC 1122 §4.2.3.6: a probe is a segment with SEG.SEQ = SND.NXT - 1 and no data.
    this.keepAliveProbesOut++;
    this.counters.keepAliveProbes++;
    this.probeOwed = true;
    this.keepAliveAt = later(now, this.config.keepAliveInterval);
  }

  // ===================================================================
  // Input: SEGMENT ARRIVES (RFC 9293 §3.10.7)
  // ===================================================================

  /**
   * Processes one arriving segment. Never throws on bad input: a segment
   * the state does not accept is dropped and counted by reason. `ecn` is the
   * IP header's ECN codepoint (RFC 3168 §5; 3 is Congestion Experienced),
   * 0 when the caller does not know it.
   */
  handleSegment(now: Instant, seg: TcpRepr, ecn = 0): void {
    this.counters.segmentsReceived++;
    this.lastInputAt = now;
    this.arrivingEcn = ecn;
    switch (this.stateValue) {
      case TcpState.Closed:
        this.segmentInClosed(seg);
        return;
      case TcpState.Listen:
        this.segmentInListen(now, seg);
        return;
      case TcpState.SynSent:
        this.segmentInSynSent(now, seg);
        return;
      default:
        this.segmentInSynchronized(now, seg);
        this.updateTimers(now);
    }
  }

  /** RFC 9293 §3.10.7.1: no TCB. Answer anything but a RST with a RST. */
  private segmentInClosed(seg: TcpRepr): void {
    this.drop(TcpDropReason.BadState);
    if ((seg.flags & TcpFlags.RST) !== 0) return;
    this.rstToSend.push(resetFor(seg));
  }

  /** RFC 9293 §3.10.7.2. */
  private segmentInListen(now: Instant, seg: TcpRepr): void {
    const flags = seg.flags;
    if ((flags & TcpFlags.RST) !== 0) {
      this.drop(TcpDropReason.BadState);
      return;
    }
    if ((flags & TcpFlags.ACK) !== 0) {
      // Second check: an ACK in LISTEN is bad; RST <SEQ=SEG.ACK>.
      this.drop(TcpDropReason.BadState);
      this.rstToSend.push(resetFor(seg));
      return;
    }
    if ((flags & TcpFlags.SYN) === 0) {
      this.drop(TcpDropReason.BadState);
      return;
    }
    // Third check: SYN. RCV.NXT = SEG.SEQ + 1, IRS = SEG.SEQ, send SYN,ACK.
    this.lastReceiveAt = now;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.negotiateOptions(now, seg);
    // RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR; accepting it
    // (net.ipv4.tcp_ecn 1 or 2) our SYN,ACK carries ECE.
    this.ecnOn =
      this.ecnMode !== 0 &&
      (flags & (TcpFlags.ECE | TcpFlags.CWR)) === (TcpFlags.ECE | TcpFlags.CWR);
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndUna = this.iss;
    this.ringSeq = seqAdd(this.iss, 1);
    this.sndWnd = seg.window; // RFC 7323 §2.2: the window in a SYN is never scaled.
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.maxSndWnd = this.sndWnd;
    this.synPending = true;
    this.synRetransmits = 0;
    this.setState(now, TcpState.SynReceived, 'rcv SYN');
    this.retransmitAt = later(now, this.rtt.rto);
    // Data on the SYN is not kept: our SYN,ACK acknowledges the SYN alone, so
    // the peer sends the data again once we are synchronized. RFC 9293 lets a
    // receiver drop any unacknowledged text, and this is what Linux does
    // without TCP Fast Open; keeping it here while RCV.NXT stays at IRS+1 would
    // deliver the bytes twice, and before the handshake proved the SYN current.
  }

  /** RFC 9293 §3.10.7.3. */
  private segmentInSynSent(now: Instant, seg: TcpRepr): void {
    const flags = seg.flags;
    const hasAck = (flags & TcpFlags.ACK) !== 0;
    // First check the ACK bit.
    if (hasAck && (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndNxt))) {
      this.drop(TcpDropReason.BadAck);
      if ((flags & TcpFlags.RST) === 0) this.rstToSend.push(this.makeRst(seg.ack, false));
      return;
    }
    // Second check the RST bit: only with an acceptable ACK (RFC 5961 §3.2).
    if ((flags & TcpFlags.RST) !== 0) {
      if (hasAck) {
        this.finish(now, TcpError.Refused, 'rcv RST');
      } else {
        this.drop(TcpDropReason.NoAck);
      }
      return;
    }
    if ((flags & TcpFlags.SYN) === 0) {
      this.drop(TcpDropReason.BadState);
      return;
    }
    // Fourth check the SYN bit.
    this.lastReceiveAt = now;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    // The window our SYN offered starts at IRS+1, unknown until now (makeSyn
    // could only place its right edge relative to 0).
    this.rcvAdvRight = seqAdd(this.rcvNxt, this.lastWindowSent);
    this.negotiateOptions(now, seg);
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.maxSndWnd = this.sndWnd;
    if (hasAck) {
      this.handshakeRtt(now, seg);
      // RFC 3168 §6.1.1: an ECN-setup SYN,ACK has ECE and not CWR.
      this.ecnOn = this.ecnRequested && (flags & (TcpFlags.ECE | TcpFlags.CWR)) === TcpFlags.ECE;
      this.sndUna = seg.ack;
      this.synPending = false;
      this.retransmitAt = NEVER;
      // RFC 5482: the user timeout times unacknowledged data; the SYN is
      // acknowledged now, so its clock stops (data sent later restarts it).
      this.unackedSince = NEVER;
      this.rtt.resetBackoff();
      if (this.synRetransmits > 0 && !this.rtt.hasSample) this.rtt.resetForDataAfterSynLoss();
      this.setState(now, TcpState.Established, 'rcv SYN,ACK');
      this.push({ type: 'connected' });
      this.ackNow = true;
      // Data or FIN on the SYN,ACK continues at step 6 (RFC 9293).
      const rest = { ...seg, seq: seqAdd(seg.seq, 1), flags: seg.flags & ~TcpFlags.SYN };
      if (rest.payload.length > 0 || (rest.flags & TcpFlags.FIN) !== 0) this.processText(now, rest);
      this.updateTimers(now);
      return;
    }
    // Simultaneous open: SYN without ACK. Answer SYN,ACK with our ISS and wait.
    this.synPending = true;
    this.setState(now, TcpState.SynReceived, 'rcv SYN (simultaneous open)');
    this.retransmitAt = later(now, this.rtt.rto);
  }

  /** RFC 9293 §3.10.7.4: SYN-RECEIVED and every synchronized state. */
  private segmentInSynchronized(now: Instant, input: TcpRepr): void {
    let seg = input;
    const flags = seg.flags;
    const isRst = (flags & TcpFlags.RST) !== 0;

    // RFC 7323 §5.3 R1: PAWS, before the sequence check.
    if (this.timestampsOn && seg.options.timestamp !== null && this.tsRecentSet && !isRst) {
      const tsval = seg.options.timestamp.value;
      if (elapsed(now, this.tsRecentAt) > PAWS_IDLE_LIMIT) {
        this.tsRecentSet = false; // R1's 24-day rule: TS.Recent is stale.
      } else if (tsDiff(tsval, this.tsRecent) < 0) {
        this.drop(TcpDropReason.Paws);
        this.ackNow = true;
        return;
      }
    }

    if (
      this.stateValue === TcpState.SynReceived &&
      this.passive &&
      (flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) === TcpFlags.SYN &&
      seg.seq === this.irs
    ) {
      // A retransmission of the SYN we answered: our SYN,ACK was lost, so send
      // it again (as Linux's tcp_check_req does). This must come before step 1,
      // which would find the SYN below RCV.NXT and answer with a bare ACK that
      // the peer, still in SYN-SENT, can only drop.
      this.synPending = true;
      return;
    }

    if (
      this.stateValue === TcpState.SynReceived &&
      !this.passive &&
      (flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) === (TcpFlags.SYN | TcpFlags.ACK) &&
      seg.seq === this.irs &&
      seg.ack === this.sndNxt
    ) {
      // Simultaneous open (RFC 9293 §3.5, Figure 8 line 6): the peer's SYN,ACK
      // (SEG.SEQ = IRS, SEG.ACK = SND.NXT) acknowledges our SYN and completes
      // the handshake. Its SYN lies below RCV.NXT, so step 1 would take it for
      // an old duplicate; Linux's tcp_validate_incoming lets exactly this one
      // through. Step 5 moves to ESTABLISHED with the SYN stripped, and the
      // old SYN is acknowledged at once, as Linux does.
      seg = { ...seg, seq: seqAdd(seg.seq, 1), flags: flags & ~TcpFlags.SYN };
      this.ackNow = true;
    }

    // Step 1: sequence number check.
    const window = this.acceptWindow();
    const segLen =
      seg.payload.length +
      ((flags & TcpFlags.SYN) !== 0 ? 1 : 0) +
      ((flags & TcpFlags.FIN) !== 0 ? 1 : 0);
    if (!this.acceptable(seg.seq, segLen, window)) {
      if (isRst) {
        this.drop(TcpDropReason.RstOutOfWindow);
        return;
      }
      // A duplicate of data we already have: report it with D-SACK (RFC 2883).
      if (seg.payload.length > 0 && seqLt(seg.seq, this.rcvNxt))
        this.noteDuplicate(seg.seq, seg.payload.length);
      this.drop(TcpDropReason.OutOfWindow);
      if (this.stateValue === TcpState.TimeWait && (flags & TcpFlags.FIN) !== 0) {
        // A retransmitted FIN in TIME-WAIT: acknowledge it and restart 2MSL (RFC 9293 step 8).
        this.timeWaitAt = later(now, micros(2 * this.config.msl));
      }
      if ((flags & TcpFlags.SYN) !== 0) {
        // RFC 5961 §4.2: a SYN gets a challenge ACK "irrespective of the exact
        // sequence number", so this ACK is counted and rate limited (§7) as
        // one, like Linux's syn_challenge; an old duplicate SYN lands here.
        this.challengeAck(now);
        return;
      }
      this.ackNow = true;
      return;
    }
    // Zero window, or data beyond it: keep the ACK information, trim the text.
    seg = this.trimToWindow(seg, window);

    // Step 2: RST (RFC 5961 §3.2: only an exact match resets; in-window gets a challenge ACK).
    if (isRst) {
      if (this.config.rfc5961 && seg.seq !== this.rcvNxt) {
        this.drop(TcpDropReason.RstNotExact);
        this.challengeAck(now);
        return;
      }
      this.onReset(now);
      return;
    }

    // Step 4: SYN on a synchronized connection.
    if ((seg.flags & TcpFlags.SYN) !== 0) {
      if (this.stateValue === TcpState.SynReceived && this.passive) {
        // RFC 9293: a new SYN in a passively opened SYN-RECEIVED returns to LISTEN.
        this.returnToListen(now, 'rcv SYN');
        return;
      }
      // RFC 5961 §4: never reset on a SYN; answer with a challenge ACK.
      this.drop(TcpDropReason.UnexpectedSyn);
      this.challengeAck(now);
      return;
    }

    // Step 5: ACK.
    if ((seg.flags & TcpFlags.ACK) === 0) {
      this.drop(TcpDropReason.NoAck);
      return;
    }
    this.lastReceiveAt = now;
    this.keepAliveProbesOut = 0;
    // Our SYN is still unacknowledged in SYN-RECEIVED, and in FIN-WAIT-1 when
    // the user closed in SYN-RECEIVED (the FIN then follows the SYN).
    const synUnacked =
      this.stateValue === TcpState.SynReceived ||
      (this.stateValue === TcpState.FinWait1 && this.sndUna === this.iss);
    if (synUnacked) {
      if (seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndNxt)) {
        this.synPending = false;
        this.handshakeRtt(now, seg);
        // RFC 7323 §4.3 (2): the handshake's last ACK is a segment like any
        // other for TS.Recent (Linux tcp_check_req stores its tsval).
        this.updateTimestampRecent(now, seg);
        this.sndWnd = seg.window << this.sndWscale;
        this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
        this.sndWl1 = seg.seq;
        this.sndWl2 = seg.ack;
        // Only the SYN is acknowledged here; an ACK that also covers a FIN
        // sent in SYN-RECEIVED goes on to processAck below.
        this.sndUna = seqAdd(this.iss, 1);
        this.retransmitAt = NEVER;
        // RFC 5482: the user timeout times unacknowledged data, not the
        // handshake: our SYN,ACK is acknowledged, so its clock stops here.
        this.unackedSince = NEVER;
        this.rtt.resetBackoff();
        if (this.synRetransmits > 0 && !this.rtt.hasSample) this.rtt.resetForDataAfterSynLoss();
        if (this.stateValue === TcpState.SynReceived)
          this.setState(now, TcpState.Established, 'rcv ACK');
        this.push({ type: 'connected' });
        if (this.receive.readable > 0) this.signalReadable();
        if (this.finQueued && this.stateValue === TcpState.Established)
          this.setState(now, TcpState.FinWait1, 'queued shutdown');
        if (this.hasOutstanding()) {
          // The FIN sent in SYN-RECEIVED is still out: time it.
          this.retransmitAt = later(now, this.rtt.rto);
          this.unackedSince = now;
          if (seqGt(seg.ack, this.sndUna) && !this.processAck(now, seg)) return;
        }
      } else {
        // The ACK does not acknowledge our SYN: this is how an old duplicate SYN
        // is defused (RFC 9293 §3.5, Figure 9): reset the other side, keep ours.
        this.drop(TcpDropReason.BadAck);
        this.rstToSend.push(this.makeRst(seg.ack, false));
        return;
      }
    } else if (!this.processAck(now, seg)) {
      return;
    }

    // FIN-WAIT-1 / CLOSING / LAST-ACK: has our FIN been acknowledged?
    if (this.finSent && !this.finAcked && seqGe(this.sndUna, this.finSeqEnd())) {
      this.finAcked = true;
      switch (this.stateValue) {
        case TcpState.FinWait1:
          this.setState(now, TcpState.FinWait2, 'rcv ACK of FIN');
          if (this.readClosed) this.finWait2At = later(now, this.config.finTimeout);
          break;
        case TcpState.Closing:
          this.enterTimeWait(now, 'rcv ACK of FIN');
          return;
        case TcpState.LastAck:
          this.finish(now, null, 'rcv ACK of FIN');
          return;
        default:
          break;
      }
    }
    if (this.stateValue === TcpState.TimeWait) {
      // The only thing that can arrive in TIME-WAIT is a retransmitted FIN.
      if ((seg.flags & TcpFlags.FIN) !== 0) {
        this.ackNow = true;
        this.timeWaitAt = later(now, micros(2 * this.config.msl));
      }
      return;
    }

    // Step 6: URG. RFC 6093: urgent data is delivered inline; nothing to do beyond
    // the ordinary data path (no out-of-band API).

    // Steps 7 and 8: text and FIN.
    this.processText(now, seg);
  }

  /** RFC 9293 step 5 for synchronized states; returns false when the segment is finished with. */
  private processAck(now: Instant, seg: TcpRepr): boolean {
    const ack = seg.ack;
    if (seqGt(ack, this.sndNxt)) {
      // RFC 9293: an ACK of something not yet sent gets an ACK and is dropped
      // (RFC 5961 §5.2 makes it a challenge ACK, rate limited).
      this.drop(TcpDropReason.BadAck);
      this.challengeAck(now);
      return false;
    }
    if (this.config.rfc5961 && seqLt(ack, seqAdd(this.sndUna, -this.maxSndWnd))) {
      // RFC 5961 §5.2: older than any ACK the peer could legitimately send.
      this.drop(TcpDropReason.BadAck);
      this.challengeAck(now);
      return false;
    }
    this.updateTimestampRecent(now, seg);
    const windowBefore = this.sndWnd;
    const priorInFlight = this.bytesInFlight();
    this.ackSample.reset(now, this.rtt.minRtt, this.board.fack);
    this.probeDsacked = false;
    // The scoreboard: SACK blocks first, then the cumulative ACK (as Linux's
    // tcp_sacktag_write_queue before tcp_clean_rtx_queue).
    const dsack = this.sackOn && seg.options.sackBlocks.length > 0 && this.processSack(seg);
    const advanced = seqGt(ack, this.sndUna);
    const dataAcked = advanced ? this.onNewAck(now, seg) : 0;
    const isDup =
      !advanced &&
      ack === this.sndUna &&
      seg.payload.length === 0 &&
      (seg.flags & (TcpFlags.SYN | TcpFlags.FIN)) === 0 &&
      seqLt(this.sndUna, this.sndNxt) &&
      seg.window << this.sndWscale === windowBefore;
    if (isDup) {
      this.dupAcks++;
      this.counters.dupAcksReceived++;
      if (this.dupAcks > this.dupAcksPeak) this.dupAcksPeak = this.dupAcks;
    }
    this.onAckEvent(now, seg, advanced, isDup, dsack, dataAcked, priorInFlight);
    // RFC 9293 step 5: update the send window if the segment is newer (SND.WL1/WL2).
    if (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, ack))) {
      const wasZero = this.sndWnd === 0;
      this.sndWnd = seg.window << this.sndWscale;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
      if (this.sndWnd > this.maxSndWnd) this.maxSndWnd = this.sndWnd;
      if (wasZero && this.sndWnd > 0) {
        this.persistAt = NEVER;
        this.persistBackoff = 0;
      }
    }
    if (this.recorderRef !== null) {
      const una = this.offsetOf(this.sndUna);
      this.recorderRef.record(now, TcpSampleKind.Acked, una, una + this.sndWnd);
    }
    return true;
  }

  /**
   * The cumulative ACK advanced: the acknowledged bytes leave the send ring
   * and the scoreboard, and the RTT estimator gets its sample. Returns the
   * data bytes acknowledged.
   */
  private onNewAck(now: Instant, seg: TcpRepr): number {
    const ack = seg.ack;
    const sample = this.ackSample;
    sample.ackedBytes += this.board.ackTo(
      this.offsetOf(ack),
      sample,
      this.undoMarker >= 0 ? this.retransAcked : null,
    );
    if (this.retransAcked.count > MAX_UNDO_RANGES) {
      // A long-past episode: too much retransmitted since to judge it any more.
      this.undoMarker = -1;
      this.retransAcked.clear();
    }
    let advanced = seqDiff(ack, this.sndUna);
    // The FIN takes one sequence number but no byte of the ring.
    if (this.finSent && seqGe(ack, this.finSeqEnd())) advanced -= 1;
    const dataAcked = Math.min(Math.max(advanced, 0), this.sendRing.length);
    this.sendRing.discard(dataAcked);
    this.ringSeq = seqAdd(this.ringSeq, dataAcked);
    this.ackedOffset += dataAcked;
    this.sndUna = ack;
    this.counters.bytesAcked += dataAcked;

    // RTT sample (RFC 7323 §4 with timestamps; otherwise one timed segment, Karn's rule).
    let rttSample = -1 as Duration;
    const ts = seg.options.timestamp;
    if (this.timestampsOn && ts !== null && ts.echo !== 0) {
      const ms = tsDiff(this.tsClock(now), ts.echo);
      if (ms >= 0) rttSample = millis(Math.max(ms, 0));
    } else if (this.rttTiming && seqGt(ack, this.rttSeq)) {
      rttSample = elapsed(now, this.rttStart);
      this.rttTiming = false;
    }
    if (rttSample >= 0) this.rtt.sample(rttSample);
    this.lastRttSample = rttSample;
    this.rtt.resetBackoff();
    this.consecutiveRtos = 0;
    this.dupAcks = 0;
    this.rack.onCumulativeAck(this.offsetOf(ack));
    // RFC 6298 (5.3): restart the retransmission timer when new data is acknowledged.
    this.retransmitAt = this.hasOutstanding() ? later(now, this.rtt.rto) : NEVER;
    this.unackedSince = this.hasOutstanding() ? now : NEVER;
    if (this.writableWanted && this.sendRing.free > 0) {
      this.writableWanted = false;
      this.push({ type: 'writable' });
    }
    if (this.sendRing.length === 0) this.sendRing.release();
    if (this.board.isEmpty) this.board.release();
    return dataAcked;
  }

  /**
   * SACK blocks (RFC 2018) into the scoreboard. The first block may be a
   * D-SACK (RFC 2883 §4: below the cumulative ACK, or inside the second
   * block); the others are tagged in ascending order, as Linux sorts them, so
   * that RACK's reordering check sees deliveries in sequence order. Returns
   * whether a D-SACK came.
   */
  private processSack(seg: TcpRepr): boolean {
    const blocks = seg.options.sackBlocks;
    const ack = seg.ack;
    let dsack = false;
    const first = blocks[0]!;
    if (
      seqLt(first.left, first.right) &&
      (seqLt(first.left, ack) ||
        (blocks.length > 1 &&
          seqGe(first.left, blocks[1]!.left) &&
          seqLe(first.right, blocks[1]!.right)))
    ) {
      dsack = this.onDsack(first.left, first.right);
    }
    // Valid blocks: above the cumulative ACK and within what was sent
    // (anything else is bogus), as offsets, sorted (at most four: no allocation).
    const scratch = this.sackScratch;
    let n = 0;
    for (let i = dsack ? 1 : 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (!seqLt(b.left, b.right) || seqLt(b.left, ack) || seqGt(b.right, this.sndNxt)) continue;
      const start = this.offsetOf(b.left);
      const end = this.offsetOf(b.right);
      let j = n;
      while (j > 0 && scratch[2 * (j - 1)]! > start) {
        scratch[2 * j] = scratch[2 * (j - 1)]!;
        scratch[2 * j + 1] = scratch[2 * (j - 1) + 1]!;
        j--;
      }
      scratch[2 * j] = start;
      scratch[2 * j + 1] = end;
      n++;
      if (n === 4) break;
    }
    const sample = this.ackSample;
    for (let k = 0; k < n; k++) {
      const start = scratch[2 * k]!;
      const end = scratch[2 * k + 1]!;
      const newly = this.board.sack(start, end, sample);
      if (newly > 0) {
        sample.sackedBytes += newly;
        if (this.recorderRef !== null)
          this.recorderRef.record(sample.now as Instant, TcpSampleKind.Sacked, start, end);
      }
    }
    return dsack;
  }

  /**
   * A D-SACK for [left, right): a segment arrived twice (RFC 2883). If we
   * had retransmitted it since the current reduction began, that
   * retransmission was unnecessary (RFC 3708 §2): the undo count drops.
   * RACK widens its reordering window (RFC 8985 §6.2 step 4), and a D-SACK
   * of the tail probe means the probe was a duplicate (§7.4.2).
   */
  private onDsack(left: SeqNum, right: SeqNum): boolean {
    if (seqGt(right, this.sndNxt) || seqDiff(this.sndUna, left) > this.maxSndWnd + this.sendMss)
      return false;
    const start = this.offsetOf(left);
    const end = this.offsetOf(right);
    if (start < 0) return false;
    this.counters.dsacksReceived++;
    if (this.useRack) this.rack.onDsack(this.offsetOf(this.sndNxt));
    if (this.undoMarker >= 0 && this.undoRetrans > 0 && end > this.undoMarker) {
      const una = this.offsetOf(this.sndUna);
      let proven = 0;
      // Below SND.UNA only what we retransmitted counts (Linux assumes it
      // was ours; a network duplicate would then undo a real reduction).
      if (start < una)
        proven += this.retransAcked.overlap(Math.max(start, this.undoMarker), Math.min(end, una));
      if (end > una) proven += this.board.retransmittedWithin(Math.max(start, una), end);
      if (proven > 0) this.undoRetrans = Math.max(0, this.undoRetrans - proven);
    }
    if (this.rack.tlpEnd >= 0 && this.rack.tlpIsRetrans && end === this.rack.tlpEnd)
      this.probeDsacked = true;
    return true;
  }

  /**
   * What an ACK means for loss recovery and the window, after the
   * scoreboard has it (Linux tcp_ack with tcp_fastretrans_alert): RACK,
   * reordering, delivery rate and rounds; the tail probe's outcome; leaving
   * a state whose end the ACK passed; undo; loss detection and entering
   * recovery or CWR; then cwnd (PRR while reducing, the controller
   * otherwise) and the probe timer.
   */
  private onAckEvent(
    now: Instant,
    seg: TcpRepr,
    advanced: boolean,
    isDup: boolean,
    dsack: boolean,
    dataAcked: number,
    priorInFlight: number,
  ): void {
    const sample = this.ackSample;
    const delivered = sample.deliveredBytes;
    if (delivered > 0) this.updateDeliveryRate(now, delivered);
    this.rack.update(sample);
    if (sample.reorderSeen) this.noteReordering(sample.fack - sample.reorderLow);
    if (advanced && seqGt(seg.ack, this.roundEnd)) {
      // RFC 9406 §4.2: a round ends when the ACK passes windowEnd.
      this.roundEnd = this.sndNxt;
      this.cc.onRoundStart(now);
    }
    if (this.rack.tlpEnd >= 0) this.processProbeAck(now, advanced, isDup);

    // Leave a state whose end the ACK passed, or continue it.
    const priorState = this.caState;
    switch (this.caState) {
      case CaState.Recovery:
        if (seqGe(this.sndUna, this.recoverSeq)) this.endRecovery(now, seg);
        else if (!this.sackOn) this.newRenoAck(advanced, isDup, dataAcked);
        else if (advanced) this.tryPartialUndo(now, seg);
        break;
      case CaState.Cwr:
        // Linux holds CWR until something above high_seq is acknowledged.
        if (seqGt(this.sndUna, this.recoverSeq)) {
          this.endReduction();
          this.caState = this.openState();
        }
        break;
      case CaState.Loss:
        this.processLoss(now, seg, advanced, isDup);
        break;
      case CaState.Open:
      case CaState.Disorder:
        break;
      default:
        assertNever(this.caState, 'ca state');
    }
    // RFC 3708: every retransmission of the episode proved unnecessary by D-SACK.
    if (
      dsack &&
      this.caState !== CaState.Loss &&
      this.useUndo &&
      this.undoMarker >= 0 &&
      this.undoRetrans === 0
    ) {
      if (this.caState === CaState.Recovery) this.rack.onRecoveryExit();
      this.undo(now, true);
      this.caState = this.openState();
    }

    // Loss detection (Linux tcp_time_to_recover) and the congestion signals.
    if (this.caState !== CaState.Loss) {
      const lost = this.sackOn ? this.detectLosses(now) : false;
      const open = this.caState === CaState.Open || this.caState === CaState.Disorder;
      if (open || this.caState === CaState.Cwr) {
        if (
          this.sackOn ? lost : isDup && this.dupAcks >= this.reordering && this.newRenoMayRecover()
        ) {
          this.enterRecovery(now);
        } else if (open && this.ecnOn && (seg.flags & TcpFlags.ECE) !== 0) {
          this.enterCwr(now);
        } else if (open) {
          this.caState = this.openState();
        }
      }
    }

    // The window: PRR while reducing (RFC 6937), the controller otherwise.
    if (this.caState === CaState.Cwr || (this.caState === CaState.Recovery && this.sackOn)) {
      if (delivered > 0) this.reduceWindow(delivered, false);
    } else if (advanced && priorState !== CaState.Recovery && priorState !== CaState.Cwr) {
      // (The ACK that ends a reduction leaves cwnd where the reduction put it.)
      const rtt = sample.caRtt >= 0 ? (sample.caRtt as Duration) : this.lastRttSample;
      // Linux tcp_is_cwnd_limited: the window's peak use, not just this moment's.
      const used = priorInFlight > this.windowMaxFlight ? priorInFlight : this.windowMaxFlight;
      this.cc.onAck(now, dataAcked, used, rtt);
    }
    if (this.caState === CaState.Open && this.board.retransBytes === 0) this.retransStampTs = -1;
    this.recordWindow(now);
    // RFC 8985 §7.2: (re)arm the probe timer on an ACK of new data.
    if (advanced) this.scheduleLossProbe(now);
  }

  /** Open, or Disorder while SACKed, lost or retransmitted data or duplicate ACKs are about (Linux tcp_try_keep_open). */
  private openState(): CaState {
    return this.board.sackedBytes > 0 ||
      this.board.lostBytes > 0 ||
      this.board.retransBytes > 0 ||
      (!this.sackOn && this.dupAcks > 0)
      ? CaState.Disorder
      : CaState.Open;
  }

  /** RFC 6582 §3.2 (2): no new recovery for losses from before the last one ended ("recover"). */
  private newRenoMayRecover(): boolean {
    return !(this.recoverValid && seqLt(this.sndUna, this.recoverSeq));
  }

  /**
   * Fast recovery begins (RFC 5681 §3.2, RFC 6675 §5, Linux
   * tcp_enter_recovery): ssthresh from the controller, unless CWR already
   * reduced this window; PRR from here. Without SACK, NewReno (RFC 6582):
   * retransmit the first unacknowledged segment, cwnd = ssthresh + 3·SMSS.
   */
  private enterRecovery(now: Instant): void {
    const flight = this.bytesOutstanding();
    if (this.caState !== CaState.Cwr) {
      this.cc.onCongestionEvent(now, flight);
      this.initUndo();
      this.prr.start(flight, this.cc.ssthresh);
      if (this.ecnOn) this.ecnQueueCwr = true;
    }
    this.caState = CaState.Recovery;
    this.recoverSeq = this.sndNxt;
    this.recoverValid = true;
    this.rescueRxt = -1;
    this.rttTiming = false;
    this.rack.resetProbe();
    this.probeDue = Probe.None;
    if (this.lossTimerKind === LossTimer.Probe) this.cancelLossTimer();
    this.counters.fastRetransmits++;
    if (!this.sackOn) {
      this.cc.cwnd = this.cc.ssthresh + this.dupAcks * this.sendMss;
      this.dupAcksPeak = this.dupAcks;
      this.markHeadLost();
      this.rtxOwed = true;
      this.counters.lostSegments++;
    } else if (!this.usePrr) {
      // RFC 6675 §5 (4.2): cwnd = ssthresh; (4.3): the first lost segment
      // goes at once, whatever pipe and cwnd say (PRR sends it by its own rule).
      this.cc.cwnd = this.cc.ssthresh;
      this.rtxOwed = true;
    }
  }

  /** NewReno without SACK inside fast recovery (RFC 6582 §3.2 (4), (5)). */
  private newRenoAck(advanced: boolean, isDup: boolean, dataAcked: number): void {
    if (advanced) {
      // A partial ACK: retransmit the next unacknowledged segment, deflate
      // the window by the amount acknowledged, add one MSS back.
      this.markHeadLost();
      this.rtxOwed = true;
      this.cc.cwnd = Math.max(
        this.cc.cwnd - dataAcked + (dataAcked >= this.sendMss ? this.sendMss : 0),
        this.sendMss,
      );
    } else if (isDup) {
      // Inflate by one MSS for each further duplicate ACK.
      this.cc.cwnd += this.sendMss;
    }
  }

  /** The first unacknowledged segment is lost (NewReno; Linux tcp_newreno_mark_lost). */
  private markHeadLost(): void {
    if (this.board.count > 0) this.board.markLost(0);
  }

  /**
   * Fast recovery ends: everything outstanding when it began is acknowledged
   * (RFC 6582 full ACK). Undo if it proved spurious; else cwnd = ssthresh
   * (RFC 6937 §3), or NewReno's deflation without SACK.
   */
  private endRecovery(now: Instant, seg: TcpRepr): void {
    if (this.mayUndo(seg)) this.undo(now, false);
    else if (!this.sackOn) this.cc.onRecoveryEnd(now, this.bytesInFlight());
    else if (this.usePrr) this.endReduction();
    this.rack.onRecoveryExit();
    this.rtxOwed = false;
    this.caState = this.openState();
  }

  /** RFC 6937 §3 / Linux tcp_end_cwnd_reduction: the window settles at ssthresh. */
  private endReduction(): void {
    if (this.cc.ssthresh < INFINITE_SSTHRESH) this.cc.cwnd = this.cc.ssthresh;
  }

  /**
   * A partial ACK whose timestamp predates our first retransmission: the
   * hole was filled by the original, delayed, so this was reordering, not
   * loss (RFC 3522; Linux tcp_try_undo_partial, which waits until no
   * retransmission is in flight).
   */
  private tryPartialUndo(now: Instant, seg: TcpRepr): void {
    if (!this.useUndo || this.undoMarker < 0 || !this.packetDelayed(seg)) return;
    if (this.board.retransBytes > 0) return;
    this.rack.onRecoveryExit();
    this.undo(now, true);
    this.caState = this.openState();
  }

  /**
   * An ACK in the Loss state (after a timeout; Linux tcp_process_loss):
   * undo if the timeout proved spurious by D-SACK or timestamps, run F-RTO
   * (RFC 5682 §3.1, the SACK-enhanced version as Linux has it), and leave
   * the state when everything outstanding at the timeout is acknowledged.
   */
  private processLoss(now: Instant, seg: TcpRepr, advanced: boolean, isDup: boolean): void {
    const recovered = seqGe(this.sndUna, this.recoverSeq);
    if (advanced && this.mayUndo(seg)) {
      this.undo(now, true);
      this.leaveLoss();
      return;
    }
    if (this.frto) {
      const sample = this.ackSample;
      if (this.frtoProbing) {
        if (advanced && sample.origDelivered) {
          // Step 3.b: after new data went out (2.b) the next ACK advanced
          // over data never retransmitted: what was outstanding at the
          // timeout had arrived, so the timeout was spurious.
          this.counters.spuriousRtos++;
          this.undo(now, true);
          this.leaveLoss();
          return;
        }
        // Step 3.a: a duplicate ACK or a SACK (the new data arrived past a
        // hole): the loss was real; conventional recovery goes on.
        if (isDup || sample.sackedBytes > 0) this.frto = false;
      } else if (advanced && !recovered) {
        // Step 2.b: the first ACK after the timeout advanced, not to
        // "recover": send new data, not retransmissions, and let the next
        // ACK tell (RFC 5682 §3.1 with SACK).
        this.recoverSeq = this.sndNxt;
        const windowEnd = seqAdd(this.sndUna, this.sndWnd);
        if (this.unsentDataBytes() > 0 && seqGt(windowEnd, this.sndNxt)) {
          this.frtoNewData = true;
          this.frtoProbing = true;
        } else {
          this.frto = false;
        }
      } else if (isDup || recovered || sample.sackedBytes > 0) {
        // Step 2.a: a duplicate ACK, or everything acknowledged: conventional.
        this.frto = false;
      }
    }
    if (recovered) {
      if (this.mayUndo(seg)) this.undo(now, true);
      this.leaveLoss();
    }
  }

  private leaveLoss(): void {
    this.rack.onRecoveryExit();
    this.frto = false;
    this.frtoProbing = false;
    this.frtoNewData = false;
    this.rtxOwed = false;
    this.caState = this.openState();
  }

  /** Linux tcp_init_undo: remember where this reduction began, for a later undo. */
  private initUndo(): void {
    if (!this.useUndo) {
      this.undoMarker = -1;
      return;
    }
    this.undoMarker = this.offsetOf(this.sndUna);
    this.undoRetrans = this.board.retransBytes > 0 ? this.board.retransBytes : -1;
    this.retransAcked.clear();
    if (this.board.retransBytes === 0) this.retransStampTs = -1;
  }

  /** Linux tcp_may_undo: every retransmission D-SACKed (RFC 3708), or the ACK is for an original (RFC 3522). */
  private mayUndo(seg: TcpRepr): boolean {
    if (!this.useUndo || this.undoMarker < 0) return false;
    return this.undoRetrans === 0 || this.packetDelayed(seg);
  }

  /** Eifel (RFC 3522 §3.2): the ACK echoes a timestamp from before our first retransmission. */
  private packetDelayed(seg: TcpRepr): boolean {
    const ts = seg.options.timestamp;
    return (
      this.timestampsOn &&
      ts !== null &&
      ts.echo !== 0 &&
      this.retransStampTs >= 0 &&
      tsDiff(ts.echo, this.retransStampTs) < 0
    );
  }

  /**
   * The reduction was spurious: the controller restores its window
   * (RFC 3708 §3, RFC 5682 §4, RFC 9438 §4.9; Linux tcp_undo_cwnd_reduction),
   * and what was marked lost is in flight after all.
   */
  private undo(now: Instant, unmarkLoss: boolean): void {
    if (!this.sackOn && this.caState === CaState.Recovery) {
      // Without SACK the duplicate ACKs were reordering: raise the threshold
      // past what this episode saw (Linux tcp_check_reno_reordering).
      this.noteReordering((this.dupAcksPeak + 1) * this.sendMss);
    }
    this.cc.onUndo(now);
    if (unmarkLoss) this.board.unmarkAllLost();
    this.undoMarker = -1;
    this.undoRetrans = -1;
    this.ecnQueueCwr = false;
    this.counters.spuriousRecoveries++;
    if (this.recorderRef !== null)
      this.recorderRef.record(now, TcpSampleKind.Undo, this.cc.cwnd, this.cc.ssthresh);
  }

  /**
   * RFC 3168 §6.1.2: an ECN echo is congestion, answered as a loss would be
   * (ssthresh from the controller, PRR down to it) but at most once per
   * window of data (Linux's CWR state, until SND.UNA passes SND.NXT of now).
   */
  private enterCwr(now: Instant): void {
    const flight = this.bytesOutstanding();
    this.cc.onCongestionEvent(now, flight);
    this.prr.start(flight, this.cc.ssthresh);
    this.undoMarker = -1;
    this.caState = CaState.Cwr;
    this.recoverSeq = this.sndNxt;
    this.recoverValid = true;
    this.ecnQueueCwr = true;
    this.counters.ecnReductions++;
    if (this.recorderRef !== null)
      this.recorderRef.record(now, TcpSampleKind.EcnEcho, this.cc.cwnd, this.cc.ssthresh);
  }

  /** PRR (RFC 6937 §3): cwnd = pipe + sndcnt for what this ACK delivered. */
  private reduceWindow(delivered: number, force: boolean): void {
    if (this.caState === CaState.Recovery && !this.usePrr) return;
    if (delivered <= 0 && !force) return;
    const pipe = this.bytesInFlight();
    const sndcnt = this.prr.sendQuota(delivered, pipe, this.sendMss);
    this.cc.cwnd = Math.max(pipe + sndcnt, this.sendMss);
  }

  /**
   * Marks what is lost by RACK (RFC 8985 §6.2 step 5) or, with RACK off, by
   * RFC 6675's IsLost; returns whether anything is lost now.
   */
  private detectLosses(now: Instant): boolean {
    let newly: number;
    if (this.useRack) {
      const timeout = this.rack.detectLoss(this.board, now, this.currentReorderWindow());
      newly = this.rack.newlyLost;
      this.armReorderTimer(now, timeout);
    } else {
      newly = this.markLostByDupThresh();
    }
    if (newly > 0) this.counters.lostSegments += newly;
    return this.board.lostBytes > 0;
  }

  private currentReorderWindow(): number {
    const recovering = this.caState === CaState.Recovery || this.caState === CaState.Loss;
    return this.rack.reorderWindow(
      recovering,
      this.board.sackedCount,
      this.rtt.minRtt,
      this.rtt.srtt,
    );
  }

  /**
   * RFC 6675 §4 IsLost: a segment is lost when DupThresh segments, or more
   * than (DupThresh − 1)·SMSS bytes, above it are SACKed. DupThresh is the
   * reordering seen (3 at first, Linux's tp->reordering). Segments already
   * retransmitted are left to the timer (RFC 6675 HighRxt).
   */
  private markLostByDupThresh(): number {
    const board = this.board;
    if (board.sackedCount === 0) return 0;
    const dupThresh = this.reordering;
    let bytesAbove = board.sackedBytes;
    let segmentsAbove = board.sackedCount;
    let newly = 0;
    for (let i = 0; i < board.count && segmentsAbove > 0; i++) {
      const f = board.flagsAt(i);
      if ((f & SegmentFlag.Sacked) !== 0) {
        bytesAbove -= board.endAt(i) - board.startAt(i);
        segmentsAbove--;
        continue;
      }
      if (segmentsAbove < dupThresh && bytesAbove <= (dupThresh - 1) * this.sendMss) break;
      if ((f & (SegmentFlag.Lost | SegmentFlag.EverRetrans)) === 0 && board.markLost(i)) newly++;
    }
    return newly;
  }

  /** Reordering of `distance` bytes was seen (Linux tcp_check_sack_reordering). */
  private noteReordering(distance: number): void {
    this.counters.reorderingSeen++;
    const segments = Math.min(Math.ceil(distance / this.sendMss), MAX_REORDERING);
    if (segments > this.reordering) this.reordering = segments;
  }

  /** RACK's reordering timer (RFC 8985 §6.3): run detection again when the next candidate's time is up. */
  private armReorderTimer(now: Instant, timeout: number): void {
    if (timeout > 0) {
      this.lossTimerAt = later(now, micros(Math.ceil(timeout)));
      this.lossTimerKind = LossTimer.Reorder;
    } else if (this.lossTimerKind === LossTimer.Reorder) {
      this.cancelLossTimer();
    }
  }

  private cancelLossTimer(): void {
    this.lossTimerAt = NEVER;
    this.lossTimerKind = LossTimer.None;
  }

  /** The reordering timer fired (Linux tcp_rack_reo_timeout). */
  private onReorderTimeout(now: Instant): void {
    if (!this.isSynchronized() || !this.sackOn) return;
    const timeout = this.rack.detectLoss(this.board, now, this.currentReorderWindow());
    if (this.rack.newlyLost > 0) {
      this.counters.lostSegments += this.rack.newlyLost;
      if (
        this.caState === CaState.Open ||
        this.caState === CaState.Disorder ||
        this.caState === CaState.Cwr
      )
        this.enterRecovery(now);
      if (this.caState === CaState.Recovery) this.reduceWindow(0, true);
    }
    this.armReorderTimer(now, timeout);
    this.recordWindow(now);
  }

  /**
   * RFC 8985 §7.2: arm the probe timeout (PTO = 2·SRTT, plus the worst-case
   * delayed ACK when one segment is in flight, no later than the RTO) while
   * the connection is open, has SACK, data outstanding and no probe in flight.
   */
  private scheduleLossProbe(now: Instant): void {
    if (this.lossTimerKind === LossTimer.Reorder) return;
    if (
      !this.useTlp ||
      !this.sackOn ||
      !this.hasOutstanding() ||
      this.rack.tlpEnd >= 0 ||
      (this.caState !== CaState.Open && this.caState !== CaState.Cwr) ||
      !this.isSynchronized()
    ) {
      if (this.lossTimerKind === LossTimer.Probe) this.cancelLossTimer();
      return;
    }
    let pto: number;
    if (this.rtt.hasSample) {
      pto = 2 * this.rtt.srtt + (this.board.count <= 1 ? WORST_CASE_DELAYED_ACK : PTO_SLACK);
    } else {
      pto = PTO_WITHOUT_RTT;
    }
    let at = now + pto;
    if (this.retransmitAt !== NEVER && at > this.retransmitAt) at = this.retransmitAt;
    this.lossTimerAt = at as Instant;
    this.lossTimerKind = LossTimer.Probe;
  }

  /** The probe timeout fired (Linux tcp_send_loss_probe): pollTransmit sends the probe. */
  private onProbeTimeout(now: Instant): void {
    if (!this.isSynchronized() || !this.hasOutstanding() || this.rack.tlpEnd >= 0) return;
    if (this.caState !== CaState.Open && this.caState !== CaState.Cwr) return;
    const windowEnd = seqAdd(this.sndUna, this.sndWnd);
    this.probeDue =
      this.unsentDataBytes() > 0 && seqGt(windowEnd, this.sndNxt)
        ? Probe.NewData
        : Probe.Retransmit;
    this.counters.lossProbes++;
    // RFC 8985 §7.3: the RTO runs in full after the probe.
    this.retransmitAt = later(now, this.rtt.rto);
  }

  /**
   * An ACK while a probe is outstanding (RFC 8985 §7.4; Linux
   * tcp_process_tlp_ack). A probe of new data, or one the peer reports as a
   * duplicate, repaired nothing; an ACK beyond the probe without that
   * report means it repaired a loss, which calls for the response fast
   * recovery would have made (ssthresh reduced, cwnd set to it at once).
   */
  private processProbeAck(now: Instant, advanced: boolean, isDup: boolean): void {
    const una = this.offsetOf(this.sndUna);
    if (una < this.rack.tlpEnd) return;
    if (!this.rack.tlpIsRetrans || this.probeDsacked) {
      this.rack.resetProbe();
      return;
    }
    if (una > this.rack.tlpEnd) {
      this.rack.resetProbe();
      this.counters.lossProbeRecoveries++;
      if (this.caState === CaState.Open || this.caState === CaState.Disorder) {
        this.cc.onCongestionEvent(now, this.probeFlight);
        this.endReduction();
        this.undoMarker = -1;
        if (this.ecnOn) this.ecnQueueCwr = true;
      }
      return;
    }
    if (!advanced && isDup && this.ackSample.sackedBytes === 0) this.rack.resetProbe();
  }

  /** Delivery rate (draft-cheng-iccrg-delivery-rate-estimation §3.3, Linux tcp_rate_gen). */
  private updateDeliveryRate(now: Instant, delivered: number): void {
    const s = this.ackSample;
    this.deliveredTotal += delivered;
    this.deliveredAt = now;
    if (this.appLimitedUntil > 0 && this.deliveredTotal > this.appLimitedUntil)
      this.appLimitedUntil = 0;
    if (s.priorDelivered < 0) return;
    this.firstSentAt = s.rateXmit;
    const interval = Math.max(s.sendElapsed, now - s.priorTime);
    // An interval shorter than the minimum RTT is an artefact (ACK compression).
    if (interval <= 0 || (this.rtt.minRtt > 0 && interval < this.rtt.minRtt)) return;
    const rate = ((this.deliveredTotal - s.priorDelivered) * 1_000_000) / interval;
    if (!s.rateAppLimited || rate > this.deliveryRate) this.deliveryRate = rate;
  }

  /** Steps 7 (segment text) and 8 (FIN). */
  private processText(now: Instant, seg: TcpRepr): void {
    const state = this.stateValue;
    const receiving =
      state === TcpState.Established || state === TcpState.FinWait1 || state === TcpState.FinWait2;
    const payload = seg.payload;
    if (payload.length > 0 && receiving && !this.finReceived) {
      if (this.ecnOn) this.receiveEcn(seg);
      if (this.timestampsOn && this.autotune) this.sampleReceiveRtt(now, seg);
      if (this.readClosed) {
        // Data for an application that has closed: Linux answers with RST.
        this.drop(TcpDropReason.DataAfterClose);
        this.rstToSend.push(this.makeRst(this.sndNxt, true));
        this.finish(now, TcpError.Aborted, 'rcv data after close');
        return;
      }
      const offset = this.receive.nextOffset + seqDiff(seg.seq, this.rcvNxt);
      const heldBefore = this.receive.nextOffset + this.receive.outOfOrderBytes;
      const result = this.receive.insert(offset, payload);
      this.counters.dataSegmentsReceived++;
      // Each byte counts once, when it first arrives: inOrder also includes held bytes
      // pulled in when a hole fills, which were counted when they were held.
      this.counters.bytesReceived +=
        this.receive.nextOffset + this.receive.outOfOrderBytes - heldBefore;
      if (payload.length > this.rcvMss && payload.length <= this.config.mss)
        this.rcvMss = payload.length;
      if (result.duplicate > 0)
        this.noteDuplicate(seg.seq, Math.min(result.duplicate, payload.length));
      if (result.inOrder > 0) {
        this.rcvNxt = seqAdd(this.rcvNxt, result.inOrder);
        this.signalReadable();
      }
      if (result.heldOutOfOrder > 0 || result.inOrder === 0 || result.filledHole) {
        // RFC 5681 §4.2: out-of-order data and data that fills a hole are ACKed at once.
        this.ackNow = true;
      } else {
        this.scheduleAck(now, result.inOrder);
      }
    }
    // Step 8: FIN.
    if ((seg.flags & TcpFlags.FIN) !== 0 && !this.finReceived) {
      const finOffset =
        this.receive.nextOffset + seqDiff(seqAdd(seg.seq, payload.length), this.rcvNxt);
      if (finOffset === this.receive.nextOffset) {
        this.acceptFin(now);
      } else if (finOffset > this.receive.nextOffset) {
        this.pendingFinOffset = finOffset;
        this.ackNow = true;
      }
    } else if (this.pendingFinOffset >= 0 && this.pendingFinOffset === this.receive.nextOffset) {
      this.acceptFin(now);
    }
  }

  private acceptFin(now: Instant): void {
    this.finReceived = true;
    this.pendingFinOffset = -1;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.ackNow = true;
    this.push({ type: 'peer-closed' });
    switch (this.stateValue) {
      case TcpState.SynReceived:
      case TcpState.Established:
        this.setState(now, TcpState.CloseWait, 'rcv FIN');
        break;
      case TcpState.FinWait1:
        if (this.finAcked) this.enterTimeWait(now, 'rcv FIN');
        else this.setState(now, TcpState.Closing, 'rcv FIN (simultaneous close)');
        break;
      case TcpState.FinWait2:
        this.finWait2At = NEVER;
        this.enterTimeWait(now, 'rcv FIN');
        break;
      default:
        break;
    }
  }

  private onReset(now: Instant): void {
    switch (this.stateValue) {
      case TcpState.SynReceived:
        if (this.passive) {
          // RFC 9293: a passively opened connection returns to LISTEN; the
          // application never saw it.
          this.returnToListen(now, 'rcv RST');
        } else {
          this.finish(now, TcpError.Refused, 'rcv RST');
        }
        return;
      case TcpState.Established:
      case TcpState.FinWait1:
      case TcpState.FinWait2:
      case TcpState.CloseWait:
        this.finish(now, TcpError.Reset, 'rcv RST');
        return;
      default:
        // CLOSING, LAST-ACK, TIME-WAIT: the connection just ends.
        this.finish(now, null, 'rcv RST');
    }
  }

  // ===================================================================
  // Segment construction
  // ===================================================================

  private nextSegment(now: Instant): TcpRepr | null {
    if (this.rstToSend.length > 0) return this.rstToSend.shift()!;
    switch (this.stateValue) {
      case TcpState.Closed:
      case TcpState.Listen:
        return null;
      case TcpState.SynSent:
        if (!this.synPending) return null;
        this.synPending = false;
        return this.makeSyn(now, false);
      case TcpState.SynReceived:
        if (this.synPending) {
          this.synPending = false;
          return this.makeSyn(now, true);
        }
        return this.ackNow ? this.makeAck(now) : null;
      default:
        break;
    }
    const data = this.nextDataSegment(now);
    if (data !== null) return data;
    if (this.probeOwed) {
      this.probeOwed = false;
      // A window that is open but smaller than a segment (sender SWS
      // avoidance held the data) is probed with as much data as it takes,
      // as Linux's tcp_write_wakeup does; else the peer, whose buffer may
      // never free more, and we would wait on each other for ever.
      if (seqGt(seqAdd(this.sndUna, this.sndWnd), this.sndNxt)) {
        const data = this.nextNewData(now, true);
        if (data !== null) return data;
      }
      // Keepalive and zero-window probes: SEG.SEQ = SND.UNA - 1, no data.
      return this.makeSegment(now, TcpFlags.ACK, seqAdd(this.sndUna, -1), EMPTY_PAYLOAD);
    }
    if (this.ackNow) return this.makeAck(now);
    return null;
  }

  /**
   * What goes next (RFC 6675 §5 NextSeg, with Linux's order): a due tail
   * loss probe; F-RTO's new data; retransmission of what is lost (rule 1);
   * new data and the FIN (rule 2); RFC 6675 rules 3 and 4 when RACK is off.
   */
  private nextDataSegment(now: Instant): TcpRepr | null {
    if (this.probeDue !== Probe.None) {
      const probe = this.nextProbe(now);
      if (probe !== null) return probe;
    }
    if (this.frtoNewData) {
      // RFC 5682 §3.1 step 2.b: new data instead of retransmissions, this ACK.
      const data = this.nextNewData(now, false);
      if (data !== null) return data;
      this.frtoNewData = false;
      if (seqGt(this.sndNxt, this.recoverSeq)) return null;
      this.frto = false;
    }
    if (this.board.lostBytes > 0) {
      const rtx = this.nextRetransmission(now);
      if (rtx !== null) return rtx;
      // After a timeout what was outstanding goes again before anything new.
      if (this.caState === CaState.Loss && this.board.firstLostUnsent() >= 0) return null;
    }
    const data = this.nextNewData(now, false);
    if (data !== null) return data;
    if (this.sackOn && !this.useRack && this.caState === CaState.Recovery)
      return this.nextRfc6675Rescue(now);
    return null;
  }

  /** RFC 6675 NextSeg rule 1: the first segment deemed lost and not retransmitted since. */
  private nextRetransmission(now: Instant): TcpRepr | null {
    const i = this.board.firstLostUnsent();
    if (i < 0) {
      this.rtxOwed = false;
      return null;
    }
    if (!this.rtxOwed) {
      if (this.bytesInFlight() >= this.cc.cwnd) return null;
      if (!this.paceAllows(now)) return null;
    }
    return this.retransmit(now, i, TcpSampleKind.Retransmitted);
  }

  /**
   * RFC 6675 NextSeg rules 3 and 4 (with RACK off, in recovery, when there is
   * nothing lost or new to send and cwnd − pipe ≥ 1 SMSS): the first
   * unSACKed segment below the highest SACK not yet retransmitted; failing
   * that, once per episode, a rescue retransmission of the last unSACKed
   * segment, so that a loss at the tail keeps the ACK clock going.
   */
  private nextRfc6675Rescue(now: Instant): TcpRepr | null {
    if (this.bytesInFlight() + this.sendMss > this.cc.cwnd) return null;
    const board = this.board;
    const high = board.highSacked;
    for (let i = 0; i < board.count && board.startAt(i) < high; i++) {
      if ((board.flagsAt(i) & (SegmentFlag.Sacked | SegmentFlag.EverRetrans)) === 0)
        return this.retransmit(now, i, TcpSampleKind.Retransmitted);
    }
    if (this.rescueRxt < 0 || this.offsetOf(this.sndUna) > this.rescueRxt) {
      for (let i = board.count - 1; i >= 0; i--) {
        if ((board.flagsAt(i) & SegmentFlag.Sacked) !== 0) continue;
        this.rescueRxt = this.offsetOf(this.recoverSeq);
        return this.retransmit(now, i, TcpSampleKind.Retransmitted);
      }
    }
    return null;
  }

  /**
   * Sends scoreboard entry i again. An entry from before a smaller MSS (or
   * with SACK blocks to fit) goes in pieces of the current size (Linux
   * tcp_fragment); the flags it was sent with (PSH, FIN) go with it.
   */
  private retransmit(now: Instant, index: number, kind: TcpSampleKind): TcpRepr {
    const board = this.board;
    const mss = this.currentMss();
    const start = board.startAt(index);
    if (board.dataLengthAt(index) > mss) board.splitAt(start + mss);
    // A short entry takes bytes from the next one lost with it, so that
    // segments cut smaller (a lower MSS) go out full again.
    while (board.dataLengthAt(index) < mss && index + 1 < board.count) {
      const want = board.startAt(index) + mss;
      const next = board.flagsAt(index + 1);
      const mask = SegmentFlag.Lost | SegmentFlag.Retrans | SegmentFlag.Sacked;
      if ((next & mask) === SegmentFlag.Lost && board.endAt(index + 1) > want) board.splitAt(want);
      if (!board.mergeNext(index, mss)) break;
    }
    const end = board.endAt(index);
    const f = board.flagsAt(index);
    const fin = (f & SegmentFlag.Fin) !== 0;
    const len = end - start - (fin ? 1 : 0);
    const seqStart = this.seqAt(start);
    const payload = len > 0 ? this.copyOut(seqStart, len) : EMPTY_PAYLOAD;
    let flags: number = TcpFlags.ACK;
    if (fin) flags |= TcpFlags.FIN;
    if ((f & SegmentFlag.Psh) !== 0) flags |= TcpFlags.PSH;
    const pipe = this.bytesInFlight();
    board.onRetransmit(index, now, this.deliveredTotal, this.deliveredAt, this.firstSentAt);
    this.rtxOwed = false;
    this.counters.segmentsRetransmitted++;
    this.counters.bytesRetransmitted += len;
    if (this.undoRetrans < 0) this.undoRetrans = 0;
    this.undoRetrans += end - start;
    if (this.retransStampTs < 0) this.retransStampTs = this.tsClock(now);
    // Resending the first unacknowledged segment restarts the RTO, as Linux's
    // tcp_xmit_retransmit_queue does: the timer started by the original is
    // nearly spent, and would fire before this copy's ACK could come back.
    if (start <= this.offsetOf(this.sndUna)) this.retransmitAt = later(now, this.rtt.rto);
    this.onDataSent(now, end - start, pipe);
    if (this.recorderRef !== null) this.recorderRef.record(now, kind, start, end);
    return this.makeSegment(now, flags, seqStart, payload);
  }

  /**
   * A tail loss probe (RFC 8985 §7.3): one segment of new data if there is
   * any and the peer's window takes it, regardless of cwnd; else the last
   * segment sent (its last MSS) again.
   */
  private nextProbe(now: Instant): TcpRepr | null {
    const kind = this.probeDue;
    this.probeDue = Probe.None;
    const flight = this.bytesOutstanding();
    if (kind === Probe.NewData) {
      const seg = this.nextNewData(now, true);
      if (seg !== null) {
        this.rack.tlpEnd = this.offsetOf(this.sndNxt);
        this.rack.tlpIsRetrans = false;
        this.probeFlight = this.bytesOutstanding();
        if (this.recorderRef !== null) {
          const start = this.offsetOf(seg.seq);
          this.recorderRef.record(now, TcpSampleKind.Probe, start, this.rack.tlpEnd);
        }
        return seg;
      }
    }
    const board = this.board;
    if (board.count === 0) return null;
    let last = board.count - 1;
    const mss = this.currentMss();
    if (board.dataLengthAt(last) > mss) {
      const fin = (board.flagsAt(last) & SegmentFlag.Fin) !== 0;
      board.splitAt(board.endAt(last) - (fin ? 1 : 0) - mss);
      last = board.count - 1;
    }
    this.rack.tlpEnd = this.offsetOf(this.sndNxt);
    this.rack.tlpIsRetrans = true;
    this.probeFlight = flight;
    return this.retransmit(now, last, TcpSampleKind.Probe);
  }

  /**
   * New data (RFC 6675 NextSeg rule 2) and the FIN, as the peer's window,
   * cwnd, Nagle and sender SWS avoidance allow. A probe ignores cwnd and
   * Nagle (Linux tcp_write_xmit with push_one = 2).
   */
  private nextNewData(now: Instant, probe: boolean): TcpRepr | null {
    if (this.finSent && this.unsentBytes() === 0) return null;
    const unsent = this.unsentBytes();
    const windowRoom = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
    const pipe = this.bytesInFlight();
    let cwndRoom = this.cc.cwnd - pipe;
    // RFC 3042 limited transmit without SACK: one extra segment for each of
    // the first two duplicate ACKs (with SACK, pipe already fell by what was SACKed).
    if (this.caState === CaState.Disorder && !this.sackOn) cwndRoom += this.dupAcks * this.sendMss;
    const mssNow = this.currentMss();
    // While PRR sets cwnd, any room is a whole segment (Linux counts cwnd in packets).
    if (
      probe ||
      (cwndRoom > 0 &&
        cwndRoom < mssNow &&
        (this.caState === CaState.Recovery || this.caState === CaState.Cwr))
    )
      cwndRoom = Math.max(cwndRoom, mssNow);
    if (unsent > 0) {
      const room = Math.min(windowRoom, cwndRoom);
      let len = Math.min(unsent, mssNow, Math.max(room, 0));
      if (len <= 0) return null;
      const wouldEmpty = len === unsent;
      if (len < mssNow) {
        // RFC 1122 §4.2.3.4 sender SWS avoidance, with Nagle (RFC 896) deciding
        // when a small final segment may go: send it if nothing is in flight
        // (or no-delay), or if it is at least half the largest window seen.
        const allQueuedFits = wouldEmpty;
        const nothingInFlight = this.sndNxt === this.sndUna;
        const bigEnough = len >= this.maxSndWnd / 2 && this.maxSndWnd > 0;
        // After shutdown() nothing more will come to fill the segment, and the
        // FIN rides on it: Linux's tcp_nagle_test never holds a FIN segment.
        const nagleAllows =
          this.config.noDelay || nothingInFlight || this.finQueued || probe || this.frtoNewData;
        if (!probe && !((allQueuedFits && nagleAllows) || bigEnough)) {
          // Held back. If the window is what stops us and nothing is in
          // flight, the persist timer takes over (armed in updateTimers).
          return null;
        }
        if (!probe && !allQueuedFits && !bigEnough) return null;
        len = Math.min(len, unsent);
      }
      if (!probe && !this.paceAllows(now)) return null;
      const seqStart = this.sndNxt;
      if (
        this.sndNxt === this.sndUna &&
        this.counters.dataSegmentsSent > 0 &&
        elapsed(now, this.lastSendAt) > this.rtt.rto
      ) {
        // RFC 5681 §4.1: after an idle period longer than the RTO, restart from
        // the initial window (Linux: net.ipv4.tcp_slow_start_after_idle = 1).
        this.cc.onIdleRestart(now);
      }
      const payload = this.copyOut(seqStart, len);
      let flags: number = TcpFlags.ACK;
      if (len === unsent) flags |= TcpFlags.PSH;
      // Piggyback the FIN on the last data segment when there is window for it.
      if (this.finQueued && len === unsent && this.canSendFin()) {
        flags |= TcpFlags.FIN;
        this.finSent = true;
      }
      if (this.ecnOn) {
        // RFC 3168 §6.1.2, §6.1.5: new data is ECN-capable, and the first
        // after a window reduction carries CWR.
        this.lastEct = true;
        if (this.ecnQueueCwr) {
          flags |= TcpFlags.CWR;
          this.ecnQueueCwr = false;
        }
      }
      const fin = (flags & TcpFlags.FIN) !== 0;
      this.sndNxt = seqAdd(this.sndNxt, len + (fin ? 1 : 0));
      this.startTiming(now, seqStart);
      this.counters.dataSegmentsSent++;
      this.counters.bytesSent += len;
      this.appendSent(now, seqStart, len + (fin ? 1 : 0), flags, pipe, len === unsent);
      return this.makeSegment(now, flags, seqStart, payload);
    }
    if (this.finQueued && !this.finSent && this.canSendFin()) {
      this.finSent = true;
      const seqStart = this.sndNxt;
      this.sndNxt = seqAdd(this.sndNxt, 1);
      this.appendSent(now, seqStart, 1, TcpFlags.FIN, pipe, true);
      return this.makeSegment(now, TcpFlags.ACK | TcpFlags.FIN, seqStart, EMPTY_PAYLOAD);
    }
    return null;
  }

  /** A new segment of `length` sequence units at `seqStart` left: into the scoreboard. */
  private appendSent(
    now: Instant,
    seqStart: SeqNum,
    length: number,
    flags: number,
    pipe: number,
    drained: boolean,
  ): void {
    // Delivery rate: an empty flight restarts the send and delivery clocks
    // (Linux tcp_rate_skb_sent); a segment that drains the send buffer while
    // cwnd has room marks the flow application-limited (tcp_rate_check_app_limited).
    if (this.board.isEmpty) {
      this.firstSentAt = now;
      this.deliveredAt = now;
    }
    if (drained && pipe + length < this.cc.cwnd)
      this.appLimitedUntil = Math.max(this.deliveredTotal + pipe + length, 1);
    const start = this.offsetOf(seqStart);
    let bits = this.appLimitedUntil > 0 ? SegmentFlag.AppLimited : 0;
    if ((flags & TcpFlags.FIN) !== 0) bits |= SegmentFlag.Fin;
    if ((flags & TcpFlags.PSH) !== 0) bits |= SegmentFlag.Psh;
    this.board.append(
      start,
      start + length,
      now,
      bits,
      this.deliveredTotal,
      this.deliveredAt,
      this.firstSentAt,
    );
    this.onDataSent(now, length, pipe);
    if (this.recorderRef !== null)
      this.recorderRef.record(now, TcpSampleKind.Sent, start, start + length);
  }

  /** Bookkeeping for any data segment that leaves: PRR's count, the controller, the pacer. */
  private onDataSent(now: Instant, bytes: number, pipeBefore: number): void {
    const flight = pipeBefore + bytes;
    // Linux tcp_cwnd_validate: a new window starts once the last one is acknowledged.
    if (this.offsetOf(this.sndUna) >= this.windowUsageEnd || flight > this.windowMaxFlight) {
      this.windowMaxFlight = flight;
      this.windowUsageEnd = this.offsetOf(this.sndNxt);
    }
    if (this.caState === CaState.Recovery || this.caState === CaState.Cwr) this.prr.onSent(bytes);
    this.cc.onPacketSent(now, bytes, pipeBefore);
    if (this.pacing) this.advancePacer(now, bytes);
  }

  /**
   * The pacing rate in bytes per second: the controller's, or Linux's
   * tcp_update_pacing_rate: 200 % of cwnd per SRTT in slow start (below half
   * of ssthresh), 120 % after; 0 before an RTT sample (no pacing yet).
   */
  private pacingRate(): number {
    const own = this.cc.pacingRate();
    if (own > 0) return own;
    const srtt = this.rtt.srtt;
    if (srtt <= 0) return 0;
    const ratio = this.cc.cwnd < this.cc.ssthresh / 2 ? PACING_SS_RATIO : PACING_CA_RATIO;
    return (ratio * Math.max(this.cc.cwnd, this.bytesOutstanding()) * 1_000_000) / srtt;
  }

  /** Whether the pacer lets a data segment go now; when not, its deadline joins the timer table. */
  private paceAllows(now: Instant): boolean {
    if (!this.pacing || this.paceNextAt <= now) return true;
    this.paceBlocked = true;
    return false;
  }

  /** The next departure is one segment's time at the pacing rate later (Linux tcp_wstamp_ns). */
  private advancePacer(now: Instant, bytes: number): void {
    const rate = this.pacingRate();
    if (rate <= 0) return;
    const from = this.paceNextAt > now ? this.paceNextAt : now;
    this.paceNextAt = Math.ceil(from + ((bytes + PACING_HEADER_BYTES) * 1_000_000) / rate);
  }

  private makeSyn(now: Instant, withAck: boolean): TcpRepr {
    const options = noTcpOptions();
    options.mss = this.config.mss;
    const offerAll = !withAck;
    // On a SYN,ACK we only echo options the peer offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
    if (
      this.config.windowScaling &&
      (offerAll || (this.offeredWscale >= 0 && this.rcvWscale >= 0 && this.peerOfferedWscale))
    ) {
      options.windowScale = this.offeredWscale;
    }
    if (this.config.sack && (offerAll || this.sackOn)) options.sackPermitted = true;
    let flags: number = withAck ? TcpFlags.SYN | TcpFlags.ACK : TcpFlags.SYN;
    if (withAck) {
      if (this.ecnOn) flags |= TcpFlags.ECE;
    } else {
      // RFC 3168 §6.1.1: ask with ECE and CWR (net.ipv4.tcp_ecn = 1); a
      // retransmitted SYN goes without them (§6.1.1.1, as Linux's
      // tcp_ecn_clear_syn), in case a middlebox drops ECN-setup SYNs.
      this.ecnRequested = this.ecnMode === 1 && this.synRetransmits === 0;
      if (this.ecnRequested) flags |= TcpFlags.ECE | TcpFlags.CWR;
    }
    if (this.config.timestamps && (offerAll || this.timestampsOn)) {
      options.timestamp = { value: this.tsClock(now), echo: withAck ? this.tsRecent : 0 };
    }
    // RFC 7323 §2.2: the window field of a SYN is never scaled. Linux offers
    // the largest multiple of the MSS that fits (64240 for an MSS of 1460).
    const space = Math.min(this.receive.free, MAX_WINDOW_FIELD);
    const window = Math.max(
      Math.floor(space / this.config.mss) * this.config.mss,
      Math.min(space, this.config.mss),
    );
    this.rcvAdvRight = seqAdd(this.rcvNxt, window);
    this.lastWindowSent = window;
    if (!this.rttTiming && this.synRetransmits === 0) {
      this.rttTiming = true;
      this.rttSeq = this.iss;
      this.rttStart = now;
    }
    if (this.synRetransmits > 0) this.counters.segmentsRetransmitted++;
    if (withAck) {
      this.lastAckSent = this.rcvNxt;
      this.ackNow = false;
    }
    return {
      srcPort: 0,
      dstPort: 0,
      seq: this.iss,
      ack: withAck ? this.rcvNxt : (0 as SeqNum),
      flags,
      window,
      urgent: 0,
      options,
      payload: EMPTY_PAYLOAD,
    };
  }

  private peerOfferedWscale = false;

  private makeAck(now: Instant): TcpRepr {
    return this.makeSegment(now, TcpFlags.ACK, this.sndNxt, EMPTY_PAYLOAD);
  }

  /** Builds a segment with ACK, window, timestamps and SACK as negotiated. */
  private makeSegment(now: Instant, flags: number, seqNum: SeqNum, payload: Uint8Array): TcpRepr {
    // RFC 3168 §6.1.3: ECE on every segment until the sender's CWR arrives.
    if (this.ecnDemandCwr && this.ecnOn) flags |= TcpFlags.ECE;
    const options = noTcpOptions();
    if (this.timestampsOn) options.timestamp = { value: this.tsClock(now), echo: this.tsRecent };
    if (this.sackOn) options.sackBlocks = this.sackBlocks();
    const window = this.advertiseWindow();
    this.lastAckSent = this.rcvNxt;
    this.ackNow = false;
    this.ackPending = false;
    this.delayedAckAt = NEVER;
    this.bytesSinceAck = 0;
    return {
      srcPort: 0,
      dstPort: 0,
      seq: seqNum,
      ack: this.rcvNxt,
      flags,
      window,
      urgent: 0,
      options,
      payload,
    };
  }

  private makeRst(seqNum: SeqNum, withAck: boolean): TcpRepr {
    return {
      srcPort: 0,
      dstPort: 0,
      seq: seqNum,
      ack: withAck ? this.rcvNxt : (0 as SeqNum),
      flags: withAck ? TcpFlags.RST | TcpFlags.ACK : TcpFlags.RST,
      window: 0,
      urgent: 0,
      options: noTcpOptions(),
      payload: EMPTY_PAYLOAD,
    };
  }

  /**
   * Payload bytes that fit in the next segment: the send MSS less the SACK
   * option it will carry. The MSS already leaves room for timestamps; SACK
   * blocks come and go, so like Linux's tcp_current_mss we shrink per segment
   * rather than exceed the path MTU.
   */
  private currentMss(): number {
    if (!this.sackOn) return this.sendMss;
    const max = this.timestampsOn ? 3 : 4;
    let blocks = this.dsack !== null ? 1 : 0;
    if (this.receive.outOfOrderBytes > 0) blocks += this.receive.sackRanges(max).length;
    if (blocks === 0) return this.sendMss;
    // RFC 2018 §3: 2 NOPs + kind + length, then 8 bytes per block.
    return Math.max(this.sendMss - (4 + 8 * Math.min(blocks, max)), 1);
  }

  private sackBlocks(): SackBlock[] {
    // RFC 2018 §3: with timestamps there is room for three blocks, else four.
    const max = this.timestampsOn ? 3 : 4;
    const blocks: SackBlock[] = [];
    const base = this.receive.nextOffset;
    // Stream offsets map to sequence numbers from RCV.NXT, which counts the FIN once it is in.
    const finAdjust = this.finReceived ? -1 : 0;
    if (this.dsack !== null) {
      // RFC 2883 §4: the D-SACK block comes first, once.
      const [s, e] = this.dsack;
      blocks.push({
        left: seqAdd(this.rcvNxt, s - base + finAdjust),
        right: seqAdd(this.rcvNxt, e - base + finAdjust),
      });
      this.dsack = null;
    }
    if (this.receive.outOfOrderBytes > 0) {
      for (const [s, e] of this.receive.sackRanges(max - blocks.length)) {
        blocks.push({
          left: seqAdd(this.rcvNxt, s - base + finAdjust),
          right: seqAdd(this.rcvNxt, e - base + finAdjust),
        });
      }
    }
    return blocks;
  }

  private noteSent(now: Instant, seg: TcpRepr): void {
    this.counters.segmentsSent++;
    const consumes = seg.payload.length > 0 || (seg.flags & (TcpFlags.SYN | TcpFlags.FIN)) !== 0;
    if (consumes && (seg.flags & TcpFlags.RST) === 0) {
      this.lastSendAt = now;
      if (this.unackedSince === NEVER) this.unackedSince = now;
      if (this.retransmitAt === NEVER) this.retransmitAt = later(now, this.rtt.rto);
      // RFC 8985 §7.2: (re)arm the probe timeout after sending.
      if (this.isSynchronized()) this.scheduleLossProbe(now);
    }
    this.updateTimers(now);
  }

  // ===================================================================
  // Helpers
  // ===================================================================

  private negotiateOptions(now: Instant, syn: TcpRepr): void {
    const o = syn.options;
    this.peerMss = o.mss > 0 ? o.mss : this.config.defaultPeerMss;
    this.peerOfferedWscale = o.windowScale >= 0;
    if (this.config.windowScaling && o.windowScale >= 0 && this.offeredWscale >= 0) {
      // RFC 7323 §2.2: scaling is on only when both SYNs carry the option.
      this.sndWscale = Math.min(o.windowScale, 14);
      this.rcvWscale = this.offeredWscale;
    } else {
      this.sndWscale = 0;
      this.rcvWscale = 0;
    }
    this.sackOn = this.config.sack && o.sackPermitted;
    this.timestampsOn = this.config.timestamps && o.timestamp !== null;
    if (this.timestampsOn && o.timestamp !== null) {
      this.tsRecent = o.timestamp.value;
      this.tsRecentSet = true;
      this.tsRecentAt = now;
    }
    this.recomputeSendMss();
    // The peer's full-sized segment as we will see it: its MSS (bounded by
    // ours) less the timestamp option every segment then carries (RFC 7323
    // §3.2; 1448 bytes on Ethernet). RFC 5681 §4.2's "every second full-sized
    // segment" is judged against this; received segments can only raise it
    // (Linux's tcp_measure_rcv_mss follows the largest segment seen).
    this.rcvMss =
      Math.min(this.config.mss, this.peerMss) - (this.timestampsOn ? TIMESTAMP_OPTION_SPACE : 0);
  }

  private recomputeSendMss(): void {
    // RFC 9293 §3.7.1 / RFC 6691: the MSS option excludes TCP options, so the
    // timestamps option comes out of every segment's payload.
    let mss = Math.min(this.peerMss, this.config.mss, this.mtuMssLimit);
    if (this.timestampsOn) mss -= TIMESTAMP_OPTION_SPACE;
    this.sendMss = Math.max(mss, 48);
    this.cc.setMss(this.sendMss);
  }

  private handshakeRtt(now: Instant, seg: TcpRepr): void {
    // Karn: only a SYN that was not retransmitted gives a sample (unless timestamps say which one).
    const ts = seg.options.timestamp;
    if (this.timestampsOn && ts !== null && ts.echo !== 0) {
      const ms = tsDiff(this.tsClock(now), ts.echo);
      if (ms >= 0) this.rtt.sample(millis(ms));
    } else if (this.rttTiming && this.synRetransmits === 0) {
      this.rtt.sample(elapsed(now, this.rttStart));
    }
    this.rttTiming = false;
  }

  private updateTimestampRecent(now: Instant, seg: TcpRepr): void {
    // RFC 7323 §4.3: TS.Recent follows segments at or before Last.ACK.sent.
    const ts = seg.options.timestamp;
    if (!this.timestampsOn || ts === null) return;
    if (
      (!this.tsRecentSet || tsDiff(ts.value, this.tsRecent) >= 0) &&
      seqLe(seg.seq, this.lastAckSent)
    ) {
      this.tsRecent = ts.value;
      this.tsRecentSet = true;
      this.tsRecentAt = now;
    }
  }

  private challengeAck(now: Instant): void {
    // RFC 5961 §7: rate-limit challenge ACKs (per connection, per second).
    if (elapsed(now, this.challengeWindowStart) >= 1_000_000) {
      this.challengeWindowStart = now;
      this.challengeCount = 0;
    }
    if (this.challengeCount >= this.config.challengeAckLimit) return;
    this.challengeCount++;
    this.counters.challengeAcksSent++;
    this.ackNow = true;
  }

  private noteDuplicate(seqStart: SeqNum, length: number): void {
    if (!this.sackOn || !this.config.dsack || length <= 0) return;
    const start =
      this.receive.nextOffset + seqDiff(seqStart, this.rcvNxt) + (this.finReceived ? 1 : 0);
    this.dsack = [start, start + length];
  }

  private scheduleAck(now: Instant, bytes: number): void {
    this.bytesSinceAck += bytes;
    if (!this.config.delayedAck || this.quickAcks > 0) {
      if (this.quickAcks > 0) this.quickAcks--;
      this.ackNow = true;
      return;
    }
    // RFC 1122 §4.2.3.2 / RFC 5681 §4.2: ACK at least every second full-sized segment.
    if (this.bytesSinceAck >= 2 * this.rcvMss) {
      this.ackNow = true;
      return;
    }
    if (!this.ackPending) {
      this.ackPending = true;
      this.delayedAckAt = later(now, this.config.delayedAckTimeout);
    }
  }

  /** Bytes of window from RCV.NXT that we accept: up to the largest right edge advertised. */
  private acceptWindow(): number {
    return Math.max(seqDiff(this.rcvAdvRight, this.rcvNxt), 0);
  }

  private currentReceiveWindow(): number {
    return Math.min(this.receive.free, MAX_WINDOW_FIELD * 2 ** this.rcvWscale);
  }

  /** The window field for an outgoing segment, moving the right edge per RFC 1122 receiver SWS avoidance. */
  private advertiseWindow(): number {
    const free = this.currentReceiveWindow();
    const candidate = seqAdd(this.rcvNxt, free);
    const growth = seqDiff(candidate, this.rcvAdvRight);
    // RFC 1122 §4.2.3.3: advance the right edge only by at least min(buffer/2, MSS).
    const threshold = Math.min(this.receive.limit / 2, this.rcvMss);
    const unit = 2 ** this.rcvWscale;
    if (
      growth >= threshold ||
      (seqLe(this.rcvAdvRight, this.rcvNxt) && free >= threshold) ||
      // A window under one scale unit goes out as 0 and would never open if
      // the growth to a whole unit is below the SWS threshold (a buffer of a
      // few units): offer the unit rather than a zero window nobody will fill.
      // Only with a scale: unscaled, nothing is rounded away, and the clause
      // would reopen a closed window for a single free byte, which receiver
      // SWS avoidance forbids (RFC 9293 §3.8.6.2.2; Linux __tcp_select_window
      // keeps 0 while the free space is under an MSS).
      (this.rcvWscale > 0 && seqDiff(this.rcvAdvRight, this.rcvNxt) < unit && free >= unit)
    ) {
      this.rcvAdvRight = candidate;
    }
    const window = Math.max(seqDiff(this.rcvAdvRight, this.rcvNxt), 0);
    // Rounding down may make the right edge look shorter by less than one
    // scale unit; we keep accepting up to rcvAdvRight (RFC 7323 §2.4).
    const field = Math.min(Math.floor(window / 2 ** this.rcvWscale), MAX_WINDOW_FIELD);
    this.lastWindowSent = field * 2 ** this.rcvWscale;
    return field;
  }

  private maybeWindowUpdate(windowBefore: number): void {
    if (!this.isSynchronized() || this.finReceived) return;
    const now = this.currentReceiveWindow();
    // Send a window update when the window we could offer has grown enough to
    // matter: it was (nearly) closed, or it at least doubled.
    const threshold = Math.min(this.receive.limit / 2, this.rcvMss);
    if (
      now - this.lastWindowSent >= threshold &&
      (this.lastWindowSent < 2 * this.rcvMss || now >= 2 * this.lastWindowSent)
    ) {
      this.ackNow = true;
    }
    void windowBefore;
  }

  private acceptable(seqStart: SeqNum, segLen: number, window: number): boolean {
    // RFC 9293 §3.10.7.4 step 1, the four cases.
    if (segLen === 0) {
      if (window === 0) return seqStart === this.rcvNxt;
      return seqLe(this.rcvNxt, seqStart) && seqLt(seqStart, seqAdd(this.rcvNxt, window));
    }
    if (window === 0) {
      // RFC 9293 allows ACKs, URGs and RSTs through a zero window: a segment
      // at RCV.NXT is kept for its control information and its text trimmed.
      return seqStart === this.rcvNxt;
    }
    const end = seqAdd(seqStart, segLen - 1);
    const right = seqAdd(this.rcvNxt, window);
    return (
      (seqLe(this.rcvNxt, seqStart) && seqLt(seqStart, right)) ||
      (seqLe(this.rcvNxt, end) && seqLt(end, right))
    );
  }

  /** Cuts text before RCV.NXT and beyond the window (RFC 9293: "trimmed to the window"). */
  private trimToWindow(seg: TcpRepr, window: number): TcpRepr {
    let seqStart = seg.seq;
    let flags = seg.flags;
    let payload = seg.payload;
    if (seqLt(seqStart, this.rcvNxt)) {
      let cut = seqDiff(this.rcvNxt, seqStart);
      if ((flags & TcpFlags.SYN) !== 0) {
        flags &= ~TcpFlags.SYN;
        cut -= 1;
        seqStart = seqAdd(seqStart, 1);
      }
      const dataCut = Math.min(cut, payload.length);
      if (dataCut > 0) this.noteDuplicate(seqStart, dataCut);
      payload = payload.subarray(dataCut);
      seqStart = seqAdd(seqStart, dataCut);
    }
    const room = seqDiff(seqAdd(this.rcvNxt, window), seqStart);
    if (payload.length > room) {
      if (room < payload.length) this.drop(TcpDropReason.NoBufferSpace);
      payload = payload.subarray(0, Math.max(room, 0));
      flags &= ~TcpFlags.FIN; // The FIN lies beyond the window: it will come again.
      this.ackNow = true;
    }
    if (payload === seg.payload && flags === seg.flags && seqStart === seg.seq) return seg;
    return { ...seg, seq: seqStart, flags, payload };
  }

  /**
   * The send ring's bytes for a segment: a view into the ring (no copy, no
   * allocation) unless they wrap around the ring's end, which happens once
   * per trip round the ring; then a copy. See pollTransmit for how long the
   * view stays valid.
   */
  private copyOut(seqStart: SeqNum, len: number): Uint8Array {
    const offset = seqDiff(seqStart, this.ringSeq);
    const view = this.sendRing.view(offset, len);
    if (view !== null) return view;
    const out = new Uint8Array(len);
    this.sendRing.peek(offset, out);
    return out;
  }

  private startTiming(now: Instant, seqStart: SeqNum): void {
    if (this.timestampsOn || this.rttTiming || this.caState !== CaState.Open) return;
    this.rttTiming = true;
    this.rttSeq = seqStart;
    this.rttStart = now;
  }

  private unsentBytes(): number {
    return this.sendRing.length - seqDiff(this.sndNxt, this.ringSeq) + (this.finSent ? 1 : 0);
  }

  private finSeq(): SeqNum {
    return seqAdd(this.ringSeq, this.sendRing.length);
  }

  private finSeqEnd(): SeqNum {
    return seqAdd(this.finSeq(), 1);
  }

  private canSendFin(): boolean {
    return this.isSynchronized() && this.stateValue !== TcpState.SynReceived;
  }

  private bytesOutstanding(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }

  /**
   * Bytes in the network by our estimate: RFC 6675 pipe (Linux
   * tcp_packets_in_flight, in bytes): what is outstanding, less what was
   * SACKed or deemed lost, plus retransmissions in flight.
   */
  private bytesInFlight(): number {
    const b = this.board;
    const pipe = seqDiff(this.sndNxt, this.sndUna) - b.sackedBytes - b.lostBytes + b.retransBytes;
    return pipe > 0 ? pipe : 0;
  }

  /** Sequence offset from ISS + 1 (exact, never wrapping) of a sequence number near the send window. */
  private offsetOf(s: SeqNum): number {
    return this.ackedOffset + seqDiff(s, this.ringSeq);
  }

  /** The sequence number at a sequence offset. */
  private seqAt(offset: number): SeqNum {
    return seqAdd(this.ringSeq, offset - this.ackedOffset);
  }

  /** Data bytes written and not yet sent (the FIN not counted). */
  private unsentDataBytes(): number {
    const n = this.sendRing.length - seqDiff(this.sndNxt, this.ringSeq);
    return n > 0 ? n : 0;
  }

  /** A window sample for the recorder: cwnd, ssthresh, pipe, SRTT. */
  private recordWindow(now: Instant): void {
    if (this.recorderRef === null) return;
    this.recorderRef.record(
      now,
      TcpSampleKind.Window,
      this.cc.cwnd,
      this.cc.ssthresh,
      this.bytesInFlight(),
      this.rtt.srtt,
    );
  }

  /**
   * RFC 3168 §6.1.3 at the receiver: CWR from the sender ends our echo of
   * congestion; a CE mark starts (or restarts) it, with an immediate ACK the
   * first time (Linux tcp_ecn_check_ce enters quick-ack mode).
   */
  private receiveEcn(seg: TcpRepr): void {
    if ((seg.flags & TcpFlags.CWR) !== 0) this.ecnDemandCwr = false;
    if (this.arrivingEcn === ECN_CE) {
      this.counters.ceReceived++;
      if (!this.ecnDemandCwr) this.ackNow = true;
      this.ecnDemandCwr = true;
    }
  }

  /**
   * The receiver's RTT from the timestamp an arriving data segment echoes
   * (Linux tcp_rcv_rtt_measure_ts, smoothed with gain 1/8), for autotuning.
   */
  private sampleReceiveRtt(now: Instant, seg: TcpRepr): void {
    const ts = seg.options.timestamp;
    if (ts === null || ts.echo === 0) return;
    const ms = tsDiff(this.tsClock(now), ts.echo);
    if (ms < 0 || ms > 60_000) return;
    const sample = Math.max(ms, 1) * 1000;
    this.rcvRtt = this.rcvRtt === 0 ? sample : this.rcvRtt + (sample - this.rcvRtt) / 8;
  }

  /**
   * Receive-buffer autotuning (Linux tcp_rcv_space_adjust, in spirit): once
   * per receiver RTT, if the application drained more than in the last
   * measurement, let the buffer (and so the window) hold twice that plus 16
   * segments, more while the rate grows, up to maxReceiveBufferSize. The ring
   * grows only as data fills it, so memory follows use.
   */
  private adjustReceiveSpace(): void {
    const rtt = this.rcvRtt > 0 ? this.rcvRtt : this.rtt.srtt;
    if (rtt <= 0 || !this.isSynchronized()) return;
    const now = this.lastInputAt;
    if (this.rcvSpaceAt < 0) {
      // Linux tcp_init_buffer_space: the first measure is against 10 segments.
      this.rcvSpace = 10 * this.rcvMss;
      this.rcvSpaceAt = now;
      this.rcvSpaceCopied = 0;
      return;
    }
    if (now - this.rcvSpaceAt < rtt) return;
    const copied = this.copiedTotal - this.rcvSpaceCopied;
    if (copied > this.rcvSpace) {
      let window = 2 * copied + 16 * this.rcvMss;
      window += (2 * window * (copied - this.rcvSpace)) / this.rcvSpace;
      const limit = Math.min(Math.floor(window), this.config.maxReceiveBufferSize);
      if (limit > this.receive.limit) this.receive.setLimit(limit);
      this.rcvSpace = copied;
    }
    this.rcvSpaceCopied = this.copiedTotal;
    this.rcvSpaceAt = now;
  }

  private hasOutstanding(): boolean {
    return seqLt(this.sndUna, this.sndNxt);
  }

  private userTimeoutExpired(now: Instant): boolean {
    return (
      this.config.userTimeout > 0 &&
      this.unackedSince !== NEVER &&
      elapsed(now, this.unackedSince) >= this.config.userTimeout
    );
  }

  private persistInterval(): Duration {
    const base = this.rtt.rto;
    return minDuration(
      micros(base * 2 ** Math.min(this.persistBackoff, 20)),
      this.config.maxPersistInterval,
    );
  }

  /** Re-derives the persist and keepalive timers from the current state. */
  private updateTimers(now: Instant): void {
    if (!this.isSynchronized()) return;
    // Persist: data waiting and nothing in flight to elicit ACKs, because the
    // window is zero (RFC 9293 §3.8.6.1) or too small for sender SWS avoidance
    // to use (RFC 1122 §4.2.3.4): only our probe can learn of a window update
    // that was lost.
    if (this.unsentBytes() > 0 && !this.hasOutstanding()) {
      if (this.persistAt === NEVER) this.persistAt = later(now, this.persistInterval());
    } else {
      this.persistAt = NEVER;
      if (this.hasOutstanding()) this.persistBackoff = 0;
    }
    if (
      this.config.keepAlive &&
      this.keepAliveProbesOut === 0 &&
      !this.hasOutstanding() &&
      this.unsentBytes() === 0
    ) {
      this.keepAliveAt = later(this.lastReceiveAt, this.config.keepAliveIdle);
      if (this.keepAliveAt < now) this.keepAliveAt = now;
    } else if (!this.config.keepAlive) {
      this.keepAliveAt = NEVER;
    }
  }

  private tsClock(now: Instant): number {
    // A 1 ms timestamp clock (RFC 7323 §5.4 allows 1 ms to 1 s), offset per connection.
    return (Math.floor(now / 1000) + this.timestampOffset) >>> 0;
  }

  private isSynchronized(): boolean {
    switch (this.stateValue) {
      case TcpState.Closed:
      case TcpState.Listen:
      case TcpState.SynSent:
      case TcpState.SynReceived:
        return false;
      default:
        return true;
    }
  }

  private canWrite(): boolean {
    if (this.finQueued) return false;
    switch (this.stateValue) {
      case TcpState.SynSent:
      case TcpState.SynReceived:
      case TcpState.Established:
      case TcpState.CloseWait:
        return true;
      default:
        return false;
    }
  }

  private signalReadable(): void {
    if (this.readableSignalled) return;
    this.readableSignalled = true;
    this.push({ type: 'readable' });
  }

  private enterTimeWait(now: Instant, cause: string): void {
    this.setState(now, TcpState.TimeWait, cause);
    this.retransmitAt = NEVER;
    this.cancelLossTimer();
    this.persistAt = NEVER;
    this.keepAliveAt = NEVER;
    this.finWait2At = NEVER;
    this.timeWaitAt = later(now, micros(2 * this.config.msl));
    // Our FIN is acknowledged, so nothing is outstanding: the scoreboard's
    // storage goes, as Linux swaps a socket for a small timewait sock. A busy
    // server holds a TIME-WAIT connection per closed one for 2 MSL.
    this.board.drop();
  }

  private returnToListen(now: Instant, cause: string): void {
    this.setState(now, TcpState.Listen, cause);
    this.retransmitAt = NEVER;
    this.synPending = false;
    this.ackNow = false;
  }

  /**
   * An ICMP error that quotes one of our segments; the stack has matched the
   * 4-tuple and read the quoted sequence number. Returns false when the error
   * is ignored.
   *
   * - `refused` (port or protocol unreachable): a hard error during the
   *   handshake ends the connect with `refused` (Linux does so in SYN-SENT);
   *   on a synchronized connection it is soft (RFC 1122 §4.2.3.9).
   * - `unreachable` (host or network, or a local ARP/NDP failure): during our
   *   own handshake (SYN-SENT, or SYN-RECEIVED after a simultaneous open) it
   *   ends the connect with `unreachable`, as Linux does; otherwise soft:
   *   remembered, and reported if the connection later times out (RFC 1122
   *   §4.2.3.9, as Linux's sk_err_soft).
   * - `packet-too-big`: lowers the MSS to `mss` and resends (RFC 1191, RFC 8201).
   *
   * RFC 5927 §4.1: the quoted sequence number must be one we have in flight,
   * or the error is a forgery and is ignored.
   */
  handleIcmpError(
    now: Instant,
    kind: 'refused' | 'unreachable' | 'packet-too-big',
    quotedSeq: SeqNum,
    mss: number,
  ): boolean {
    const inFlight =
      this.stateValue === TcpState.SynSent
        ? quotedSeq === this.iss
        : seqLe(this.sndUna, quotedSeq) && seqLt(quotedSeq, this.sndNxt);
    if (!inFlight || this.stateValue === TcpState.Closed || this.stateValue === TcpState.Listen)
      return false;
    switch (kind) {
      case 'refused':
        if (this.stateValue === TcpState.SynSent) {
          this.finish(now, TcpError.Refused, 'rcv ICMP unreachable');
          return true;
        }
        this.softError = TcpError.Unreachable;
        return true;
      case 'unreachable':
        if (
          this.stateValue === TcpState.SynSent ||
          (this.stateValue === TcpState.SynReceived && !this.passive)
        ) {
          // RFC 1122 §4.2.3.9 lets a host or network unreachable be soft, but
          // Linux (tcp_v4_err, tcp_v6_err) reports any ICMP error during its
          // own handshake and closes the socket: connect fails with
          // EHOSTUNREACH at once instead of after the SYN retries.
          this.finish(now, TcpError.Unreachable, 'rcv ICMP unreachable');
          return true;
        }
        this.softError = TcpError.Unreachable;
        return true;
      case 'packet-too-big':
        if (mss >= Math.min(this.peerMss, this.config.mss, this.mtuMssLimit)) return false;
        this.setPathMss(now, mss);
        return true;
      default:
        return assertNever(kind, 'ICMP error kind');
    }
  }

  private softError: TcpError | null = null;

  /**
   * Whether a SYN arriving for this connection in TIME-WAIT may start a new
   * incarnation (RFC 9293 §3.6.1 and RFC 6191): its sequence number is beyond
   * what we received, or its timestamp is newer. The stack then closes this
   * one and opens a new connection for the SYN.
   */
  acceptsNewSyn(seg: TcpRepr): boolean {
    if (
      this.stateValue !== TcpState.TimeWait ||
      (seg.flags & (TcpFlags.SYN | TcpFlags.ACK)) !== TcpFlags.SYN
    )
      return false;
    const ts = seg.options.timestamp;
    if (this.timestampsOn && ts !== null && this.tsRecentSet) {
      return tsDiff(ts.value, this.tsRecent) > 0;
    }
    return seqGt(seg.seq, this.rcvNxt);
  }

  private finish(now: Instant, error: TcpError | null, cause: string): void {
    if (this.stateValue === TcpState.Closed) return;
    // A timeout after ICMP said the host cannot be reached reports that instead (Linux: sk_err_soft).
    this.error = error === TcpError.TimedOut && this.softError !== null ? this.softError : error;
    this.setState(now, TcpState.Closed, cause);
    this.retransmitAt = NEVER;
    this.delayedAckAt = NEVER;
    this.persistAt = NEVER;
    this.keepAliveAt = NEVER;
    this.timeWaitAt = NEVER;
    this.finWait2At = NEVER;
    this.cancelLossTimer();
    this.paceBlocked = false;
    this.probeDue = Probe.None;
    this.board.clear();
    this.board.drop();
    this.ackNow = false;
    this.ackPending = false;
    this.probeOwed = false;
    this.synPending = false;
    this.push({ type: 'closed', error: this.error });
  }

  private setState(now: Instant, to: TcpState, cause: string): void {
    const from = this.stateValue;
    if (from === to) return;
    this.stateValue = to;
    const transition: StateTransition = { at: now, from, to, cause };
    if (this.config.recordTransitions) this.transitions.push(transition);
    this.push({ type: 'state', transition });
  }

  private push(event: TcpEvent): void {
    this.events.push(event);
  }

  private drop(reason: TcpDropReason): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
  }
}

const EMPTY_PAYLOAD = new Uint8Array(0);

/**
 * The RST that answers a segment nobody wants (RFC 9293 §3.10.7.1): if it
 * had ACK, <SEQ=SEG.ACK><CTL=RST>; else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 * Never answers a RST. Ports are swapped for the caller.
 */
export function resetFor(seg: TcpRepr): TcpRepr {
  const base = {
    srcPort: seg.dstPort,
    dstPort: seg.srcPort,
    window: 0,
    urgent: 0,
    options: noTcpOptions(),
    payload: EMPTY_PAYLOAD,
  };
  if ((seg.flags & TcpFlags.ACK) !== 0) {
    return { ...base, seq: seg.ack, ack: 0 as SeqNum, flags: TcpFlags.RST };
  }
  const len =
    seg.payload.length +
    ((seg.flags & TcpFlags.SYN) !== 0 ? 1 : 0) +
    ((seg.flags & TcpFlags.FIN) !== 0 ? 1 : 0);
  return {
    ...base,
    seq: 0 as SeqNum,
    ack: seqAdd(seg.seq, len),
    flags: TcpFlags.RST | TcpFlags.ACK,
  };
}
