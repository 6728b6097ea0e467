/**
 * The transmission control block (RFC 9293 §3.2, §3.3.1): a connection's
 * state, grouped as Linux's tcp_sock groups it, so that each mechanism
 * works on the state it owns: the send sequence space and its buffer
 * (`SendState`), the receive sequence space, reassembly and ACK generation
 * (`ReceiveState`), what the handshake negotiated (`OptionState`), loss
 * recovery (`LossState`), delivery rate and pacing (`RateState`) and the
 * timer table (`TimerTable`). Every field is set in a constructor, so each
 * object keeps one shape for the connection's life.
 *
 * What every mechanism shares lives here too: the lifecycle (RFC 9293
 * §3.3.2: `setState`, `finish`, TIME-WAIT, the return to LISTEN, the RST
 * of §3.10.5) and the queries of the send sequence space (SND.UNA..SND.NXT
 * as stream offsets, RFC 6675's pipe). The mechanisms' modules import them
 * from here and `Connection`, the public API, imports the mechanisms, so
 * there is no import cycle.
 */
import {
  type BufferPool,
  ByteRing,
  type Duration,
  type Instant,
  later,
  micros,
  NEVER,
  RangeSet,
  seqAdd,
  seqDiff,
  seqLt,
  type SeqNum,
} from '../base/index.js';
import { noTcpOptions, TcpFlags, type TcpRepr } from '../wire/index.js';
import { type TcpConfig, windowScaleFor } from './config.js';
import { Bbr, type CongestionControl, congestionControls } from './congestion/index.js';
import { ReceiveBuffer } from './receive.js';
import { bbrStateCode, TcpRecorder, TcpSampleKind } from './recorder.js';
import { Prr } from './recovery/prr.js';
import { Rack } from './recovery/rack.js';
import { AckSample, DeliveryRateEstimator, RateSample } from './recovery/sample.js';
import { SentSegments } from './recovery/scoreboard.js';
import { RttEstimator } from './rtt.js';
import { tsClock } from './timestamps.js';
import {
  type StateTransition,
  TcpDropReason,
  TcpError,
  type TcpEvent,
  TcpState,
  type TcpStats,
} from './types.js';

/** Loss-recovery phase, named as Linux's tcp_ca_state. */
export const CaState = {
  Open: 'open',
  Disorder: 'disorder',
  /** Reducing the window after an ECN echo (RFC 3168 §6.1.2) or a loss a probe repaired. */
  Cwr: 'cwr',
  Recovery: 'recovery',
  Loss: 'loss',
} as const;
export type CaState = (typeof CaState)[keyof typeof CaState];

/** What the loss-detection timer is for (Linux's ICSK_TIME_REO_TIMEOUT and ICSK_TIME_LOSS_PROBE share one slot). */
export const LossTimer = { None: 0, Reorder: 1, Probe: 2 } as const;
export type LossTimer = (typeof LossTimer)[keyof typeof LossTimer];

/** A tail loss probe waiting to go (RFC 8985 §7.3). */
export const Probe = { None: 0, NewData: 1, Retransmit: 2 } as const;
export type Probe = (typeof Probe)[keyof typeof Probe];

/** RFC 5681 §3.2: the dupack count that triggers fast retransmit. */
const DUPACK_THRESHOLD = 3;

export const EMPTY_PAYLOAD = new Uint8Array(0);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The counters of TcpStats; the rest of a snapshot is read from the state when asked. */
export type TcpCounters = Mutable<
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
    | 'bbr'
    | 'ecn'
    | 'receiveBufferLimit'
    | 'unackedSegments'
    | 'outOfOrderBytes'
    | 'outOfOrderSegments'
    | 'sendBuffered'
    | 'receiveBuffered'
  >
>;

function emptyCounters(): TcpCounters {
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

/** The send sequence space (RFC 9293 §3.3.1), the send buffer and what the sender owes. */
export class SendState {
  iss: SeqNum;
  una: SeqNum;
  nxt: SeqNum;
  /** Peer's window in bytes (already scaled). */
  wnd = 0;
  wl1: SeqNum;
  wl2: SeqNum;
  maxWnd = 0;
  /** Unacknowledged and unsent data; its first byte has sequence number `ringSeq`. */
  readonly ring: ByteRing;
  ringSeq: SeqNum;
  /** Stream offset of `una` once the SYN is acknowledged (data bytes acknowledged so far). */
  ackedOffset = 0;
  /** The application called shutdown/close: a FIN follows the queued data. */
  finQueued = false;
  finSent = false;
  finAcked = false;
  synPending = false;
  synRetransmits = 0;
  /** Effective send MSS: payload bytes per segment. */
  mss: number;
  peerMss: number;
  mtuMssLimit = Number.POSITIVE_INFINITY;
  rstToSend: TcpRepr[] = [];
  lastSendAt = 0 as Instant;
  /**
   * The most bytes in flight after a send within the current window, and the
   * offset that window ends at (Linux's max_packets_out and cwnd_usage_seq).
   * Whether the sender used its cwnd is judged over the window, not by what
   * is in flight when an ACK lands: a receiver that acknowledges a whole
   * burst in a few ACKs would otherwise have all but the first counted as
   * application-limited, and cwnd would hardly grow.
   */
  windowMaxFlight = 0;
  windowUsageEnd = -1;
  writableWanted = false;
  /** A keepalive or window probe is owed (the timer fired; pollTransmit sends it). */
  probeOwed = false;
  /** The segment pollTransmit returned last is ECN-capable (ECT(0)). */
  lastEct = false;
  /** RTT timing of one segment when timestamps are off (Karn's rule applies). */
  rttTiming = false;
  rttSeq = 0 as SeqNum;
  rttStart = 0 as Instant;

  constructor(config: TcpConfig, iss: SeqNum, buffers: BufferPool | null) {
    this.iss = iss;
    this.una = iss;
    this.nxt = iss;
    this.wl1 = iss;
    this.wl2 = iss;
    this.ringSeq = seqAdd(iss, 1);
    this.ring = new ByteRing(config.sendBufferSize, buffers);
    this.peerMss = config.defaultPeerMss;
    this.mss = Math.min(config.defaultPeerMss, config.mss);
  }
}

/** The receive sequence space, reassembly, ACK generation and receive-buffer autotuning. */
export class ReceiveState {
  irs = 0 as SeqNum;
  nxt = 0 as SeqNum;
  /** Right edge of the largest window we advertised: we accept data up to here (RFC 7323 §2.4). */
  advRight = 0 as SeqNum;
  lastWindowSent = 0;
  readonly buffer: ReceiveBuffer;
  finReceived = false;
  /** Stream offset of a FIN that arrived out of order, or -1. */
  pendingFinOffset = -1;
  /** The application closed its reading side: new data is answered with RST (as Linux does). */
  readClosed = false;
  mss: number;
  ackNow = false;
  ackPending = false;
  bytesSinceAck = 0;
  quickAcks: number;
  /** D-SACK range to report once (RFC 2883), as stream offsets, or null. */
  dsack: [number, number] | null = null;
  challengeWindowStart = 0 as Instant;
  challengeCount = 0;
  /** A CE mark arrived and the sender has not yet answered with CWR: echo ECE. */
  ecnDemandCwr = false;
  /** The ECN codepoint of the segment being processed. */
  arrivingEcn = 0;
  // Receive-buffer autotuning (Linux tcp_rcv_space_adjust).
  space = 0;
  spaceCopied = 0;
  spaceAt = -1;
  copiedTotal = 0;
  /** The receiver's RTT estimate (µs) from timestamps on arriving data, or 0. */
  rtt = 0;
  readableSignalled = false;

  constructor(config: TcpConfig, buffers: BufferPool | null) {
    this.buffer = new ReceiveBuffer(config.receiveBufferSize, buffers);
    this.mss = Math.min(config.mss, config.defaultPeerMss);
    this.quickAcks = config.initialQuickAcks;
  }
}

/** What the handshake negotiated (RFC 7323 timestamps and window scale, RFC 2018 SACK, RFC 3168 ECN). */
export class OptionState {
  timestampsOn = false;
  readonly timestampOffset: number;
  tsRecent = 0;
  tsRecentSet = false;
  tsRecentAt = 0 as Instant;
  lastAckSent = 0 as SeqNum;
  sackOn = false;
  /** Peer's window shift (applied to windows we receive). */
  sndWscale = 0;
  /** Our window shift (applied to windows we send). */
  rcvWscale = 0;
  offeredWscale: number;
  peerOfferedWscale = false;
  ecnOn = false;
  /** Our SYN asked for ECN (an ECN-setup SYN, not retransmitted). */
  ecnRequested = false;

  constructor(config: TcpConfig, timestampOffset: number) {
    this.timestampOffset = timestampOffset >>> 0;
    this.offeredWscale = config.windowScaling ? windowScaleFor(config.maxReceiveBufferSize) : -1;
  }
}

/** Loss detection and recovery: the scoreboard, RACK, PRR, F-RTO, TLP and undo. */
export class LossState {
  caState: CaState = CaState.Open;
  dupAcks = 0;
  /** RFC 6582 "recover" (Linux high_seq): SND.NXT when recovery, loss or CWR began. */
  recoverSeq: SeqNum;
  recoverValid = false;
  /** NewReno without SACK: one retransmission is owed now (fast retransmit or partial ACK), regardless of cwnd. */
  rtxOwed = false;
  /** What was sent and is not cumulatively acknowledged, per segment: the scoreboard (RFC 6675) and RACK's times. */
  readonly board = new SentSegments();
  /** What the ACK being processed delivered. */
  readonly ackSample = new AckSample();
  readonly rack = new Rack();
  readonly prr = new Prr();
  /**
   * Segments the reordering seen spans (Linux tp->reordering): the duplicate
   * ACK threshold without SACK, and RFC 6675's DupThresh with SACK and RACK off.
   */
  reordering = DUPACK_THRESHOLD;
  /** The most duplicate ACKs in a row during this loss episode (without SACK). */
  dupAcksPeak = 0;
  /** A tail loss probe is due (the timer fired; pollTransmit sends it). */
  probeDue: Probe = Probe.None;
  /** FlightSize when the outstanding probe was sent (the loss it repairs is judged against it). */
  probeFlight = 0;
  /** The current D-SACK covered the outstanding probe (RFC 8985 §7.4.2). */
  probeDsacked = false;
  /** F-RTO (RFC 5682) is watching the current timeout. */
  frto = false;
  /** F-RTO step 2.b: send new data rather than retransmit on this ACK. */
  frtoNewData = false;
  /** F-RTO is past step 2.b: the next ACK decides (step 3). */
  frtoProbing = false;
  /** RFC 6675 RescueRxt (offset) for this recovery episode, or -1. */
  rescueRxt = -1;
  /** Linux undo_marker: SND.UNA (offset) when the current reduction began, or -1 when there is nothing to undo. */
  undoMarker = -1;
  /** Linux undo_retrans: bytes retransmitted since then and not shown spurious by D-SACK; -1 before any. */
  undoRetrans = -1;
  /** Our TSval on the first retransmission of the episode (Eifel, RFC 3522), or -1. */
  retransStampTs = -1;
  /** Retransmitted ranges cumulatively acknowledged since the undo marker (D-SACKs below SND.UNA are checked against it). */
  readonly retransAcked = new RangeSet();
  /** SACK blocks of one ACK as sorted offset pairs. */
  readonly sackScratch = new Float64Array(8);
  /** RFC 9406 windowEnd: a round ends when the cumulative ACK passes it. */
  roundEnd: SeqNum;
  /** Sender: the window was reduced; the next new data segment carries CWR (RFC 3168 §6.1.2). */
  ecnQueueCwr = false;
  consecutiveRtos = 0;
  /** The RTT estimator's sample from the ACK being processed, or -1. */
  lastRttSample = -1 as Duration;

  constructor(iss: SeqNum) {
    this.recoverSeq = iss;
    this.roundEnd = iss;
  }
}

/** Delivery rate (draft-cheng-iccrg-delivery-rate-estimation) and pacing. */
export class RateState {
  /** The C. variables every sent segment records; also the scoreboard's loss sink (C.lost). */
  readonly estimator = new DeliveryRateEstimator();
  /** The ACK being processed's rate sample, filled in place (no allocation per ACK). */
  readonly sample = new RateSample();
  /** The delivery rate reported in stats (bytes per second): the best recent sample, as Linux's tcpi_delivery_rate. */
  deliveryRate = 0;
  /** Pacing: the earliest time the next data segment may leave. */
  paceNextAt = 0;
  /** Pacing held a segment back: the timer table has a pacing deadline. */
  paceBlocked = false;
}

/** Timers are deadlines, not callbacks (docs/architecture.md), with what they count. */
export class TimerTable {
  retransmitAt: Instant = NEVER;
  delayedAckAt: Instant = NEVER;
  persistAt: Instant = NEVER;
  keepAliveAt: Instant = NEVER;
  timeWaitAt: Instant = NEVER;
  finWait2At: Instant = NEVER;
  /** RACK's reordering timer or TLP's probe timeout, whichever is armed (one slot, as Linux). */
  lossTimerAt: Instant = NEVER;
  lossTimerKind: LossTimer = LossTimer.None;
  persistBackoff = 0;
  keepAliveProbesOut = 0;
  /** When the oldest unacknowledged data was first sent (for the user timeout). */
  unackedSince = NEVER;
  lastReceiveAt = 0 as Instant;

  cancelLossTimer(): void {
    this.lossTimerAt = NEVER;
    this.lossTimerKind = LossTimer.None;
  }
}

/** One connection's state; `Connection` holds one and the mechanisms' functions take it. */
export class Tcb {
  readonly config: TcpConfig;
  state: TcpState = TcpState.Closed;
  /** Every state change with its cause, when `config.recordTransitions`. */
  readonly transitions: StateTransition[] = [];
  readonly events: TcpEvent[] = [];
  eventHead = 0;
  error: TcpError | null = null;
  /** An ICMP error remembered, reported if the connection later times out (Linux sk_err_soft). */
  softError: TcpError | null = null;
  passive = false;
  readonly snd: SendState;
  readonly rcv: ReceiveState;
  readonly opt: OptionState;
  readonly loss: LossState;
  readonly rate: RateState;
  readonly timers: TimerTable;
  readonly rtt: RttEstimator;
  readonly cc: CongestionControl;
  readonly counters: TcpCounters;
  readonly recorder: TcpRecorder | null;
  /** The time of the last input (segment or timer), for work done in read(). */
  lastInputAt = 0 as Instant;
  // The switches of TcpConfig, resolved once (a missing one is its Linux default).
  readonly useRack: boolean;
  readonly useTlp: boolean;
  readonly usePrr: boolean;
  readonly useFrto: boolean;
  readonly useUndo: boolean;
  readonly pacing: boolean;
  /** The controller sets cwnd from its model (BBR): no PRR, NewReno or CWR window changes here. */
  readonly modelBased: boolean;
  readonly ecnMode: number;
  readonly autotune: boolean;

  constructor(config: TcpConfig, iss: SeqNum, timestampOffset: number, buffers: BufferPool | null) {
    this.config = config;
    this.snd = new SendState(config, iss, buffers);
    this.rcv = new ReceiveState(config, buffers);
    this.opt = new OptionState(config, timestampOffset);
    this.loss = new LossState(iss);
    this.rate = new RateState();
    this.timers = new TimerTable();
    this.counters = emptyCounters();
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
    const pacingOption = config.pacing ?? false;
    this.ecnMode = config.ecn ?? 2;
    this.autotune = config.receiveBufferAutotuning ?? true;
    const samples = config.recordSamples ?? 0;
    this.recorder = samples > 0 ? new TcpRecorder(samples) : null;
    this.cc = factory({
      mss: this.snd.mss,
      initialWindowSegments: config.initialCwndSegments,
      hystart: config.hystart ?? true,
      paced: pacingOption,
    });
    this.modelBased = this.cc.modelBased === true;
    // A model-based controller's pacing rate is half of its control (BBR
    // sends at bw·gain, cwnd only caps the flight), so it always paces.
    this.pacing = pacingOption || this.modelBased;
    // C.lost counts every byte the scoreboard marks lost; BBR also hears of
    // each lost packet (BBRHandleLostPacket). Bound once, not per loss.
    this.loss.board.lossSink = this.rate.estimator;
    const onPacketLost = this.cc.onPacketLost;
    if (onPacketLost !== undefined)
      this.rate.estimator.lossListener = { onPacketLost: onPacketLost.bind(this.cc) };
  }
}

// --- The lifecycle (RFC 9293 §3.3.2); every transition goes through setState ---

/** Every state change goes through here: recorded when asked, and reported as an event (docs/architecture.md convention 4). */
export function setState(c: Tcb, now: Instant, to: TcpState, cause: string): void {
  const from = c.state;
  if (from === to) return;
  c.state = to;
  const transition: StateTransition = { at: now, from, to, cause };
  if (c.config.recordTransitions) c.transitions.push(transition);
  push(c, { type: 'state', transition });
}

/** Queues an event for pollEvent. */
export function push(c: Tcb, event: TcpEvent): void {
  c.events.push(event);
}

/** Counts a segment dropped for a named reason (docs/architecture.md convention 3). */
export function drop(c: Tcb, reason: TcpDropReason): void {
  c.counters.drops[reason] = (c.counters.drops[reason] ?? 0) + 1;
}

/** The connection ends (CLOSED): every timer stops, the scoreboard goes, and `closed` reports the error or null. */
export function finish(c: Tcb, now: Instant, error: TcpError | null, cause: string): void {
  if (c.state === TcpState.Closed) return;
  // A timeout after ICMP said the host cannot be reached reports that instead (Linux: sk_err_soft).
  c.error = error === TcpError.TimedOut && c.softError !== null ? c.softError : error;
  setState(c, now, TcpState.Closed, cause);
  c.timers.retransmitAt = NEVER;
  c.timers.delayedAckAt = NEVER;
  c.timers.persistAt = NEVER;
  c.timers.keepAliveAt = NEVER;
  c.timers.timeWaitAt = NEVER;
  c.timers.finWait2At = NEVER;
  c.timers.cancelLossTimer();
  c.rate.paceBlocked = false;
  c.loss.probeDue = Probe.None;
  c.loss.board.clear();
  c.loss.board.drop();
  c.rcv.ackNow = false;
  c.rcv.ackPending = false;
  c.snd.probeOwed = false;
  c.snd.synPending = false;
  push(c, { type: 'closed', error: c.error });
}

/** TIME-WAIT (RFC 9293 §3.10.7.4 step 8): only the 2MSL timer runs. */
export function enterTimeWait(c: Tcb, now: Instant, cause: string): void {
  setState(c, now, TcpState.TimeWait, cause);
  c.timers.retransmitAt = NEVER;
  c.timers.cancelLossTimer();
  c.timers.persistAt = NEVER;
  c.timers.keepAliveAt = NEVER;
  c.timers.finWait2At = NEVER;
  c.timers.timeWaitAt = later(now, micros(2 * c.config.msl));
  // Our FIN is acknowledged, so nothing is outstanding: the scoreboard's
  // storage goes, as Linux swaps a socket for a small timewait sock. A busy
  // server holds a TIME-WAIT connection per closed one for 2 MSL.
  c.loss.board.drop();
}

/** A passively opened SYN-RECEIVED goes back to LISTEN (RFC 9293 §3.10.7.4 steps 2 and 4). */
export function returnToListen(c: Tcb, now: Instant, cause: string): void {
  setState(c, now, TcpState.Listen, cause);
  c.timers.retransmitAt = NEVER;
  c.snd.synPending = false;
  c.rcv.ackNow = false;
}

/** Past the handshake (RFC 9293 §3.10.7.4 calls these the synchronized states). */
export function isSynchronized(c: Tcb): boolean {
  switch (c.state) {
    case TcpState.Closed:
    case TcpState.Listen:
    case TcpState.SynSent:
    case TcpState.SynReceived:
      return false;
    default:
      return true;
  }
}

/** Whether the application may still queue data (RFC 9293 §3.10.2 SEND). */
export function canWrite(c: Tcb): boolean {
  if (c.snd.finQueued) return false;
  switch (c.state) {
    case TcpState.SynSent:
    case TcpState.SynReceived:
    case TcpState.Established:
    case TcpState.CloseWait:
      return true;
    default:
      return false;
  }
}

/** Reports `readable`, once until the application reads again. */
export function signalReadable(c: Tcb): void {
  if (c.rcv.readableSignalled) return;
  c.rcv.readableSignalled = true;
  push(c, { type: 'readable' });
}

/**
 * A RST at `seqNum`, with ACK = RCV.NXT when `withAck` (RFC 9293 §3.10.5, §3.10.7).
 * Given `now`, it is a reset of our own connection (an abort, not an answer to a
 * stray segment) and carries TSopt when timestamps are on: RFC 7323 §3.2 says a
 * RST should, and Linux's tcp_send_active_reset does.
 */
export function makeRst(c: Tcb, seqNum: SeqNum, withAck: boolean, now?: Instant): TcpRepr {
  const options = noTcpOptions();
  if (now !== undefined && c.opt.timestampsOn) {
    options.timestamp = { value: tsClock(c, now), echo: c.opt.tsRecent };
  }
  return {
    srcPort: 0,
    dstPort: 0,
    seq: seqNum,
    ack: withAck ? c.rcv.nxt : (0 as SeqNum),
    flags: withAck ? TcpFlags.RST | TcpFlags.ACK : TcpFlags.RST,
    window: 0,
    urgent: 0,
    options,
    payload: EMPTY_PAYLOAD,
  };
}

// --- Queries of the send sequence space ---

/** Sequence offset from ISS + 1 (exact, never wrapping) of a sequence number near the send window. */
export function offsetOf(c: Tcb, s: SeqNum): number {
  return c.snd.ackedOffset + seqDiff(s, c.snd.ringSeq);
}

/** The sequence number at a sequence offset. */
export function seqAt(c: Tcb, offset: number): SeqNum {
  return seqAdd(c.snd.ringSeq, offset - c.snd.ackedOffset);
}

/** SND.NXT − SND.UNA: sent and not cumulatively acknowledged (RFC 5681 FlightSize). */
export function bytesOutstanding(c: Tcb): number {
  return seqDiff(c.snd.nxt, c.snd.una);
}

/**
 * Bytes in the network by our estimate: RFC 6675 pipe (Linux
 * tcp_packets_in_flight, in bytes): what is outstanding, less what was
 * SACKed or deemed lost, plus retransmissions in flight.
 */
export function bytesInFlight(c: Tcb): number {
  const b = c.loss.board;
  const pipe = seqDiff(c.snd.nxt, c.snd.una) - b.sackedBytes - b.lostBytes + b.retransBytes;
  return pipe > 0 ? pipe : 0;
}

/** Whether anything sent is unacknowledged. */
export function hasOutstanding(c: Tcb): boolean {
  return seqLt(c.snd.una, c.snd.nxt);
}

/** Sequence units written and not yet sent, the FIN included. */
export function unsentBytes(c: Tcb): number {
  return c.snd.ring.length - seqDiff(c.snd.nxt, c.snd.ringSeq) + (c.snd.finSent ? 1 : 0);
}

/** Data bytes written and not yet sent (the FIN not counted). */
export function unsentDataBytes(c: Tcb): number {
  const n = c.snd.ring.length - seqDiff(c.snd.nxt, c.snd.ringSeq);
  return n > 0 ? n : 0;
}

/** The sequence number our FIN takes. */
function finSeq(c: Tcb): SeqNum {
  return seqAdd(c.snd.ringSeq, c.snd.ring.length);
}

/** The sequence number just past our FIN. */
export function finSeqEnd(c: Tcb): SeqNum {
  return seqAdd(finSeq(c), 1);
}

/** A FIN may go once we are synchronized and our SYN is acknowledged. */
export function canSendFin(c: Tcb): boolean {
  return isSynchronized(c) && c.state !== TcpState.SynReceived;
}

/** A window sample for the recorder: cwnd, ssthresh, pipe, SRTT; and BBR's model with it. */
export function recordWindow(c: Tcb, now: Instant): void {
  if (c.recorder === null) return;
  c.recorder.record(
    now,
    TcpSampleKind.Window,
    c.cc.cwnd,
    c.cc.ssthresh,
    bytesInFlight(c),
    c.rtt.srtt,
  );
  const cc = c.cc;
  if (cc instanceof Bbr) {
    c.recorder.record(
      now,
      TcpSampleKind.Model,
      cc.bw,
      cc.minRtt,
      cc.pacingRate(),
      bbrStateCode(cc.state),
    );
  }
}
