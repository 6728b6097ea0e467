import {
  assertNever,
  type BufferPool,
  type Duration,
  elapsed,
  type Instant,
  later,
  micros,
  millis,
  NEVER,
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqLe,
  seqLt,
  type SeqNum,
} from '../base/index.js';
import { noTcpOptions, TcpFlags, type TcpRepr } from '../wire/index.js';
import { processAck } from './ack.js';
import { type TcpConfig, validateTcpConfig } from './config.js';
import { negotiateOptions, recomputeSendMss } from './options.js';
import { pacingRate } from './rate.js';
import {
  acceptWindow,
  adjustReceiveSpace,
  challengeAck,
  currentReceiveWindow,
  maybeWindowUpdate,
  noteDuplicate,
  processText,
} from './receiver.js';
import { TcpRecorder } from './recorder.js';
import { currentReorderWindow } from './recovery/loss-state.js';
import { nextSegment, noteSent } from './sender.js';
import {
  bytesInFlight,
  bytesOutstanding,
  canWrite,
  CaState,
  drop,
  EMPTY_PAYLOAD,
  enterTimeWait,
  finish,
  finSeqEnd,
  hasOutstanding,
  isSynchronized,
  makeRst,
  push,
  returnToListen,
  setState,
  signalReadable,
  Tcb,
} from './tcb.js';
import { nextDeadline, runTimers, updateTimers } from './timers.js';
import { tsClock, tsDiff, updateTimestampRecent } from './timestamps.js';
import {
  type StateTransition,
  TcpDropReason,
  TcpError,
  type TcpEvent,
  TcpState,
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

/** IP ECN codepoints (RFC 3168 §5). */
const ECN_ECT0 = 2;

/** RFC 7323 §5.5: TS.Recent older than 24 days is no longer trusted for PAWS. */
const PAWS_IDLE_LIMIT = millis(24 * 24 * 3600 * 1000);

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
  private readonly tcb: Tcb;
  readonly config: TcpConfig;
  /** Every state change with its cause, when `config.recordTransitions`. */
  readonly transitions: StateTransition[];

  private constructor(
    config: TcpConfig,
    iss: SeqNum,
    timestampOffset: number,
    buffers: BufferPool | null,
  ) {
    validateTcpConfig(config);
    this.config = config;
    this.tcb = new Tcb(config, iss, timestampOffset, buffers);
    this.transitions = this.tcb.transitions;
  }

  /** Active open: sends a SYN (RFC 9293 §3.10.1 OPEN call, active). */
  static connect(now: Instant, options: ConnectOptions): Connection {
    const conn = new Connection(
      options.config,
      options.iss,
      options.timestampOffset ?? 0,
      options.buffers ?? null,
    );
    const c = conn.tcb;
    c.timers.lastReceiveAt = now;
    c.snd.nxt = seqAdd(options.iss, 1);
    c.snd.synPending = true;
    setState(c, now, TcpState.SynSent, 'call connect');
    c.timers.retransmitAt = later(now, c.rtt.rto);
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
    conn.tcb.passive = true;
    setState(conn.tcb, 0 as Instant, TcpState.Listen, 'call listen');
    return conn;
  }

  // ===================================================================
  // Reads
  // ===================================================================

  get state(): TcpState {
    return this.tcb.state;
  }

  /** The error the connection ended with, or null. */
  get closeError(): TcpError | null {
    return this.tcb.error;
  }

  /** In-order bytes waiting to be read. */
  get readableBytes(): number {
    return this.tcb.rcv.buffer.readable;
  }

  /** Bytes `write` would accept now. */
  get writableBytes(): number {
    return canWrite(this.tcb) ? this.tcb.snd.ring.free : 0;
  }

  /** Bytes written but not yet acknowledged by the peer. */
  get sendBuffered(): number {
    return this.tcb.snd.ring.length;
  }

  /** The peer has sent FIN and every byte before it was delivered in order. */
  get peerClosed(): boolean {
    return this.tcb.rcv.finReceived;
  }

  /** Initial sequence numbers (for traces). */
  get initialSendSequence(): SeqNum {
    return this.tcb.snd.iss;
  }

  get initialReceiveSequence(): SeqNum {
    return this.tcb.rcv.irs;
  }

  /** Effective send MSS: payload bytes per segment. */
  get mss(): number {
    return this.tcb.snd.mss;
  }

  /** Whether the connection holds buffers or timers that still matter. */
  get isClosed(): boolean {
    return this.tcb.state === TcpState.Closed;
  }

  /** Heap bytes of buffer storage currently allocated (for memory accounting). */
  get bufferBytes(): number {
    return (
      this.tcb.snd.ring.allocated + this.tcb.rcv.buffer.allocated + this.tcb.loss.board.allocated
    );
  }

  /** The sample recorder when `config.recordSamples` > 0 (for plots), else null. */
  get recorder(): TcpRecorder | null {
    return this.tcb.recorder;
  }

  /**
   * The IP ECN codepoint for the segment `pollTransmit` returned last: ECT(0)
   * (2) for new data on an ECN connection (RFC 3168 §6.1.5: not for
   * retransmissions, pure ACKs or probes), else Not-ECT (0).
   */
  get transmitEcn(): number {
    return this.tcb.snd.lastEct ? ECN_ECT0 : 0;
  }

  /** A snapshot in the spirit of Linux TCP_INFO. */
  stats(): TcpStats {
    return {
      ...this.tcb.counters,
      drops: { ...this.tcb.counters.drops },
      state: this.tcb.state,
      caState: this.tcb.loss.caState,
      srtt: this.tcb.rtt.srtt,
      rttvar: this.tcb.rtt.rttvar,
      minRtt: this.tcb.rtt.minRtt,
      rto: this.tcb.rtt.rto,
      backoffs: this.tcb.rtt.backoffs,
      cwnd: this.tcb.cc.cwnd,
      ssthresh: this.tcb.cc.ssthresh,
      congestionControl: this.tcb.cc.name,
      sendMss: this.tcb.snd.mss,
      receiveMss: this.tcb.rcv.mss,
      bytesInFlight: bytesInFlight(this.tcb),
      sendWindow: this.tcb.snd.wnd,
      receiveWindow: currentReceiveWindow(this.tcb),
      sendWindowScale: this.tcb.opt.sndWscale,
      receiveWindowScale: this.tcb.opt.rcvWscale,
      timestamps: this.tcb.opt.timestampsOn,
      sackPermitted: this.tcb.opt.sackOn,
      sackedBytes: this.tcb.loss.board.sackedBytes,
      lostBytes: this.tcb.loss.board.lostBytes,
      retransmittedOutBytes: this.tcb.loss.board.retransBytes,
      reordering: this.tcb.loss.reordering,
      reorderWindow: micros(currentReorderWindow(this.tcb)),
      deliveredBytes: this.tcb.rate.deliveredTotal,
      deliveryRate: Math.round(this.tcb.rate.deliveryRate),
      pacingRate: this.tcb.pacing ? Math.round(pacingRate(this.tcb)) : -1,
      ecn: this.tcb.opt.ecnOn,
      receiveBufferLimit: this.tcb.rcv.buffer.limit,
      unackedSegments: Math.ceil(bytesOutstanding(this.tcb) / Math.max(this.tcb.snd.mss, 1)),
      outOfOrderBytes: this.tcb.rcv.buffer.outOfOrderBytes,
      outOfOrderSegments: this.tcb.rcv.buffer.outOfOrderSegments,
      sendBuffered: this.tcb.snd.ring.length,
      receiveBuffered: this.tcb.rcv.buffer.readable,
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
    if (!canWrite(this.tcb)) {
      if (this.tcb.snd.finQueued && this.tcb.state !== TcpState.Closed) {
        throw new TcpApiError(
          'write-after-shutdown',
          'cannot write after shutdown(): the sending direction is closed',
        );
      }
      throw new TcpApiError(
        this.tcb.state === TcpState.Listen ? 'not-connected' : 'closed',
        `cannot write in state ${this.tcb.state}; open a connection first`,
      );
    }
    const taken = this.tcb.snd.ring.write(bytes);
    if (taken < bytes.length) this.tcb.snd.writableWanted = true;
    return taken;
  }

  /** Copies up to `dst.length` received bytes out; returns the count. May schedule a window update. */
  read(dst: Uint8Array): number {
    const before = currentReceiveWindow(this.tcb);
    const n = this.tcb.rcv.buffer.read(dst);
    if (n > 0) {
      this.tcb.rcv.readableSignalled = false;
      this.tcb.rcv.copiedTotal += n;
      if (this.tcb.autotune) adjustReceiveSpace(this.tcb);
      maybeWindowUpdate(this.tcb, before);
      if (this.tcb.rcv.buffer.readable === 0) this.tcb.rcv.buffer.release();
    }
    return n;
  }

  /** Copies received bytes out without consuming them (MSG_PEEK). */
  peek(dst: Uint8Array): number {
    return this.tcb.rcv.buffer.peek(dst);
  }

  /**
   * Half-close (RFC 9293 §3.10.4): send FIN after the queued data and keep
   * receiving. In SYN-SENT the connection simply closes.
   */
  shutdown(now: Instant): void {
    switch (this.tcb.state) {
      case TcpState.Closed:
      case TcpState.Listen:
        finish(this.tcb, now, null, 'call shutdown');
        return;
      case TcpState.SynSent:
        finish(this.tcb, now, null, 'call shutdown');
        return;
      case TcpState.SynReceived:
      case TcpState.Established:
        this.tcb.snd.finQueued = true;
        // RFC 9293 §3.10.4: in SYN-RECEIVED with nothing to send, the FIN
        // goes at once and we enter FIN-WAIT-1 (Linux's tcp_close_state does
        // the same); with data queued, the FIN waits until ESTABLISHED.
        if (this.tcb.state === TcpState.Established || this.tcb.snd.ring.length === 0)
          setState(this.tcb, now, TcpState.FinWait1, 'call shutdown');
        return;
      case TcpState.CloseWait:
        this.tcb.snd.finQueued = true;
        setState(this.tcb, now, TcpState.LastAck, 'call shutdown');
        return;
      case TcpState.FinWait1:
      case TcpState.FinWait2:
      case TcpState.Closing:
      case TcpState.LastAck:
      case TcpState.TimeWait:
        return;
      default:
        assertNever(this.tcb.state, 'state');
    }
  }

  /**
   * Full close: no more sending or receiving. Unread data (or data that
   * arrives later) makes it a reset, as Linux does (RFC 2525 §2.17); otherwise
   * it is a graceful FIN, and an orphaned FIN-WAIT-2 is bounded by `finTimeout`.
   */
  close(now: Instant): void {
    this.tcb.rcv.readClosed = true;
    if (this.tcb.rcv.buffer.readable > 0 && isSynchronized(this.tcb)) {
      this.abort(now);
      return;
    }
    this.shutdown(now);
    if (this.tcb.state === TcpState.FinWait2) {
      this.tcb.timers.finWait2At = later(now, this.tcb.config.finTimeout);
    }
  }

  /** Aborts with RST (like SO_LINGER 0); the connection ends with `aborted`. */
  abort(now: Instant): void {
    switch (this.tcb.state) {
      case TcpState.Closed:
        return;
      case TcpState.SynReceived:
      case TcpState.Established:
      case TcpState.FinWait1:
      case TcpState.FinWait2:
      case TcpState.CloseWait:
        // RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST> from these states.
        this.tcb.snd.rstToSend.push(makeRst(this.tcb, this.tcb.snd.nxt, true));
        break;
      default:
        // LISTEN, SYN-SENT, and CLOSING, LAST-ACK, TIME-WAIT (our FIN is out;
        // RFC 9293 §3.10.5 just deletes the TCB, as Linux's tcp_need_reset).
        break;
    }
    // RFC 9293 §3.10.5: in TIME-WAIT both sides have closed, the abort answers "ok".
    finish(
      this.tcb,
      now,
      this.tcb.state === TcpState.TimeWait ? null : TcpError.Aborted,
      'call abort',
    );
  }

  /** Turns Nagle's algorithm off or on (TCP_NODELAY). */
  setNoDelay(noDelay: boolean): void {
    this.tcb.config.noDelay = noDelay;
  }

  /** Turns keepalive on or off, optionally with a new idle time (SO_KEEPALIVE, TCP_KEEPIDLE). */
  setKeepAlive(now: Instant, enable: boolean, idle?: Duration): void {
    this.tcb.config.keepAlive = enable;
    if (idle !== undefined) this.tcb.config.keepAliveIdle = idle;
    this.tcb.timers.keepAliveProbesOut = 0;
    this.tcb.timers.keepAliveAt = NEVER;
    updateTimers(this.tcb, now);
  }

  /** Sets the RFC 5482 user timeout (0 disables). */
  setUserTimeout(timeout: Duration): void {
    this.tcb.config.userTimeout = timeout;
  }

  /**
   * Lowers the send MSS when the path MTU drops (RFC 1191, RFC 8201) and
   * retransmits what was in flight at the new size.
   */
  setPathMss(now: Instant, mss: number): void {
    if (!(mss >= 64))
      throw new TcpApiError('bad-argument', `path MSS must be at least 64, got ${mss}`);
    this.tcb.snd.mtuMssLimit = mss;
    const before = this.tcb.snd.mss;
    recomputeSendMss(this.tcb);
    if (
      this.tcb.snd.mss < before &&
      seqLt(this.tcb.snd.una, this.tcb.snd.nxt) &&
      isSynchronized(this.tcb)
    ) {
      // RFC 1191 §6.5: retransmit at once, without treating it as congestion
      // (what is outstanding goes again in segments of the new size).
      this.tcb.loss.board.markAllLost();
      this.tcb.loss.recoverSeq = this.tcb.snd.nxt;
      this.tcb.loss.recoverValid = true;
      if (this.tcb.loss.caState !== CaState.Recovery && this.tcb.loss.caState !== CaState.Loss) {
        this.tcb.loss.caState = CaState.Loss;
        this.tcb.loss.frto = false;
        this.tcb.loss.undoMarker = -1;
      }
      this.tcb.loss.rtxOwed = true;
      this.tcb.snd.rttTiming = false;
      updateTimers(this.tcb, now);
    }
  }

  // ===================================================================
  // Output
  // ===================================================================

  /** The next event, or null. */
  pollEvent(): TcpEvent | null {
    if (this.tcb.eventHead >= this.tcb.events.length) {
      if (this.tcb.eventHead > 0) {
        this.tcb.events.length = 0;
        this.tcb.eventHead = 0;
      }
      return null;
    }
    return this.tcb.events[this.tcb.eventHead++]!;
  }

  /** The earliest deadline at which `handleTimeout` has work, or NEVER. */
  pollTimeout(): Instant {
    return nextDeadline(this.tcb);
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
    this.tcb.snd.lastEct = false;
    const seg = nextSegment(this.tcb, now);
    if (seg !== null) {
      noteSent(this.tcb, now, seg);
    } else {
      // Nothing to send, perhaps because the window is closed: data written
      // since the last segment arrived needs the persist timer (RFC 9293 §3.8.6.1).
      updateTimers(this.tcb, now);
    }
    return seg;
  }

  // ===================================================================
  // Timers
  // ===================================================================

  /** Runs every timer whose deadline has passed. Harmless when early or repeated. */
  handleTimeout(now: Instant): void {
    runTimers(this.tcb, now);
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
    this.tcb.counters.segmentsReceived++;
    this.tcb.lastInputAt = now;
    this.tcb.rcv.arrivingEcn = ecn;
    switch (this.tcb.state) {
      case TcpState.Closed:
        segmentInClosed(this.tcb, seg);
        return;
      case TcpState.Listen:
        segmentInListen(this.tcb, now, seg);
        return;
      case TcpState.SynSent:
        segmentInSynSent(this.tcb, now, seg);
        return;
      default:
        segmentInSynchronized(this.tcb, now, seg);
        updateTimers(this.tcb, now);
    }
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
      this.tcb.state === TcpState.SynSent
        ? quotedSeq === this.tcb.snd.iss
        : seqLe(this.tcb.snd.una, quotedSeq) && seqLt(quotedSeq, this.tcb.snd.nxt);
    if (!inFlight || this.tcb.state === TcpState.Closed || this.tcb.state === TcpState.Listen)
      return false;
    switch (kind) {
      case 'refused':
        if (this.tcb.state === TcpState.SynSent) {
          finish(this.tcb, now, TcpError.Refused, 'rcv ICMP unreachable');
          return true;
        }
        this.tcb.softError = TcpError.Unreachable;
        return true;
      case 'unreachable':
        if (
          this.tcb.state === TcpState.SynSent ||
          (this.tcb.state === TcpState.SynReceived && !this.tcb.passive)
        ) {
          // RFC 1122 §4.2.3.9 lets a host or network unreachable be soft, but
          // Linux (tcp_v4_err, tcp_v6_err) reports any ICMP error during its
          // own handshake and closes the socket: connect fails with
          // EHOSTUNREACH at once instead of after the SYN retries.
          finish(this.tcb, now, TcpError.Unreachable, 'rcv ICMP unreachable');
          return true;
        }
        this.tcb.softError = TcpError.Unreachable;
        return true;
      case 'packet-too-big':
        if (mss >= Math.min(this.tcb.snd.peerMss, this.tcb.config.mss, this.tcb.snd.mtuMssLimit))
          return false;
        this.setPathMss(now, mss);
        return true;
      default:
        return assertNever(kind, 'ICMP error kind');
    }
  }

  /**
   * Whether a SYN arriving for this connection in TIME-WAIT may start a new
   * incarnation (RFC 9293 §3.6.1 and RFC 6191): its sequence number is beyond
   * what we received, or its timestamp is newer. The stack then closes this
   * one and opens a new connection for the SYN.
   */
  acceptsNewSyn(seg: TcpRepr): boolean {
    if (
      this.tcb.state !== TcpState.TimeWait ||
      (seg.flags & (TcpFlags.SYN | TcpFlags.ACK)) !== TcpFlags.SYN
    )
      return false;
    const ts = seg.options.timestamp;
    if (this.tcb.opt.timestampsOn && ts !== null && this.tcb.opt.tsRecentSet) {
      return tsDiff(ts.value, this.tcb.opt.tsRecent) > 0;
    }
    return seqGt(seg.seq, this.tcb.rcv.nxt);
  }
}

/** RFC 9293 §3.10.7.1: no TCB. Answer anything but a RST with a RST. */
export function segmentInClosed(c: Tcb, seg: TcpRepr): void {
  drop(c, TcpDropReason.BadState);
  if ((seg.flags & TcpFlags.RST) !== 0) return;
  c.snd.rstToSend.push(resetFor(seg));
}

/** RFC 9293 §3.10.7.2. */
export function segmentInListen(c: Tcb, now: Instant, seg: TcpRepr): void {
  const flags = seg.flags;
  if ((flags & TcpFlags.RST) !== 0) {
    drop(c, TcpDropReason.BadState);
    return;
  }
  if ((flags & TcpFlags.ACK) !== 0) {
    // Second check: an ACK in LISTEN is bad; RST <SEQ=SEG.ACK>.
    drop(c, TcpDropReason.BadState);
    c.snd.rstToSend.push(resetFor(seg));
    return;
  }
  if ((flags & TcpFlags.SYN) === 0) {
    drop(c, TcpDropReason.BadState);
    return;
  }
  // Third check: SYN. RCV.NXT = SEG.SEQ + 1, IRS = SEG.SEQ, send SYN,ACK.
  c.timers.lastReceiveAt = now;
  c.rcv.irs = seg.seq;
  c.rcv.nxt = seqAdd(seg.seq, 1);
  negotiateOptions(c, now, seg);
  // RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR; accepting it
  // (net.ipv4.tcp_ecn 1 or 2) our SYN,ACK carries ECE.
  c.opt.ecnOn =
    c.ecnMode !== 0 && (flags & (TcpFlags.ECE | TcpFlags.CWR)) === (TcpFlags.ECE | TcpFlags.CWR);
  c.snd.nxt = seqAdd(c.snd.iss, 1);
  c.snd.una = c.snd.iss;
  c.snd.ringSeq = seqAdd(c.snd.iss, 1);
  c.snd.wnd = seg.window; // RFC 7323 §2.2: the window in a SYN is never scaled.
  c.snd.wl1 = seg.seq;
  c.snd.wl2 = seg.ack;
  c.snd.maxWnd = c.snd.wnd;
  c.snd.synPending = true;
  c.snd.synRetransmits = 0;
  setState(c, now, TcpState.SynReceived, 'rcv SYN');
  c.timers.retransmitAt = later(now, c.rtt.rto);
  // Data on the SYN is not kept: our SYN,ACK acknowledges the SYN alone, so
  // the peer sends the data again once we are synchronized. RFC 9293 lets a
  // receiver drop any unacknowledged text, and this is what Linux does
  // without TCP Fast Open; keeping it here while RCV.NXT stays at IRS+1 would
  // deliver the bytes twice, and before the handshake proved the SYN current.
}

/** RFC 9293 §3.10.7.3. */
export function segmentInSynSent(c: Tcb, now: Instant, seg: TcpRepr): void {
  const flags = seg.flags;
  const hasAck = (flags & TcpFlags.ACK) !== 0;
  // First check the ACK bit.
  if (hasAck && (seqLe(seg.ack, c.snd.iss) || seqGt(seg.ack, c.snd.nxt))) {
    drop(c, TcpDropReason.BadAck);
    if ((flags & TcpFlags.RST) === 0) c.snd.rstToSend.push(makeRst(c, seg.ack, false));
    return;
  }
  // Second check the RST bit: only with an acceptable ACK (RFC 5961 §3.2).
  if ((flags & TcpFlags.RST) !== 0) {
    if (hasAck) {
      finish(c, now, TcpError.Refused, 'rcv RST');
    } else {
      drop(c, TcpDropReason.NoAck);
    }
    return;
  }
  if ((flags & TcpFlags.SYN) === 0) {
    drop(c, TcpDropReason.BadState);
    return;
  }
  // Fourth check the SYN bit.
  c.timers.lastReceiveAt = now;
  c.rcv.irs = seg.seq;
  c.rcv.nxt = seqAdd(seg.seq, 1);
  // The window our SYN offered starts at IRS+1, unknown until now (makeSyn
  // could only place its right edge relative to 0).
  c.rcv.advRight = seqAdd(c.rcv.nxt, c.rcv.lastWindowSent);
  negotiateOptions(c, now, seg);
  c.snd.wnd = seg.window;
  c.snd.wl1 = seg.seq;
  c.snd.wl2 = seg.ack;
  c.snd.maxWnd = c.snd.wnd;
  if (hasAck) {
    handshakeRtt(c, now, seg);
    // RFC 3168 §6.1.1: an ECN-setup SYN,ACK has ECE and not CWR.
    c.opt.ecnOn = c.opt.ecnRequested && (flags & (TcpFlags.ECE | TcpFlags.CWR)) === TcpFlags.ECE;
    c.snd.una = seg.ack;
    c.snd.synPending = false;
    c.timers.retransmitAt = NEVER;
    // RFC 5482: the user timeout times unacknowledged data; the SYN is
    // acknowledged now, so its clock stops (data sent later restarts it).
    c.timers.unackedSince = NEVER;
    c.rtt.resetBackoff();
    if (c.snd.synRetransmits > 0 && !c.rtt.hasSample) c.rtt.resetForDataAfterSynLoss();
    setState(c, now, TcpState.Established, 'rcv SYN,ACK');
    push(c, { type: 'connected' });
    c.rcv.ackNow = true;
    // Data or FIN on the SYN,ACK continues at step 6 (RFC 9293).
    const rest = { ...seg, seq: seqAdd(seg.seq, 1), flags: seg.flags & ~TcpFlags.SYN };
    if (rest.payload.length > 0 || (rest.flags & TcpFlags.FIN) !== 0) processText(c, now, rest);
    updateTimers(c, now);
    return;
  }
  // Simultaneous open: SYN without ACK. Answer SYN,ACK with our ISS and wait.
  c.snd.synPending = true;
  setState(c, now, TcpState.SynReceived, 'rcv SYN (simultaneous open)');
  c.timers.retransmitAt = later(now, c.rtt.rto);
}

/** RFC 9293 §3.10.7.4: SYN-RECEIVED and every synchronized state. */
export function segmentInSynchronized(c: Tcb, now: Instant, input: TcpRepr): void {
  let seg = input;
  const flags = seg.flags;
  const isRst = (flags & TcpFlags.RST) !== 0;

  // RFC 7323 §5.3 R1: PAWS, before the sequence check.
  if (c.opt.timestampsOn && seg.options.timestamp !== null && c.opt.tsRecentSet && !isRst) {
    const tsval = seg.options.timestamp.value;
    if (elapsed(now, c.opt.tsRecentAt) > PAWS_IDLE_LIMIT) {
      c.opt.tsRecentSet = false; // R1's 24-day rule: TS.Recent is stale.
    } else if (tsDiff(tsval, c.opt.tsRecent) < 0) {
      drop(c, TcpDropReason.Paws);
      c.rcv.ackNow = true;
      return;
    }
  }

  if (
    c.state === TcpState.SynReceived &&
    c.passive &&
    (flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) === TcpFlags.SYN &&
    seg.seq === c.rcv.irs
  ) {
    // A retransmission of the SYN we answered: our SYN,ACK was lost, so send
    // it again (as Linux's tcp_check_req does). This must come before step 1,
    // which would find the SYN below RCV.NXT and answer with a bare ACK that
    // the peer, still in SYN-SENT, can only drop.
    c.snd.synPending = true;
    return;
  }

  if (
    c.state === TcpState.SynReceived &&
    !c.passive &&
    (flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) === (TcpFlags.SYN | TcpFlags.ACK) &&
    seg.seq === c.rcv.irs &&
    seg.ack === c.snd.nxt
  ) {
    // Simultaneous open (RFC 9293 §3.5, Figure 8 line 6): the peer's SYN,ACK
    // (SEG.SEQ = IRS, SEG.ACK = SND.NXT) acknowledges our SYN and completes
    // the handshake. Its SYN lies below RCV.NXT, so step 1 would take it for
    // an old duplicate; Linux's tcp_validate_incoming lets exactly this one
    // through. Step 5 moves to ESTABLISHED with the SYN stripped, and the
    // old SYN is acknowledged at once, as Linux does.
    seg = { ...seg, seq: seqAdd(seg.seq, 1), flags: flags & ~TcpFlags.SYN };
    c.rcv.ackNow = true;
  }

  // Step 1: sequence number check.
  const window = acceptWindow(c);
  const segLen =
    seg.payload.length +
    ((flags & TcpFlags.SYN) !== 0 ? 1 : 0) +
    ((flags & TcpFlags.FIN) !== 0 ? 1 : 0);
  if (!acceptable(c, seg.seq, segLen, window)) {
    if (isRst) {
      drop(c, TcpDropReason.RstOutOfWindow);
      return;
    }
    // A duplicate of data we already have: report it with D-SACK (RFC 2883).
    if (seg.payload.length > 0 && seqLt(seg.seq, c.rcv.nxt))
      noteDuplicate(c, seg.seq, seg.payload.length);
    drop(c, TcpDropReason.OutOfWindow);
    if (c.state === TcpState.TimeWait && (flags & TcpFlags.FIN) !== 0) {
      // A retransmitted FIN in TIME-WAIT: acknowledge it and restart 2MSL (RFC 9293 step 8).
      c.timers.timeWaitAt = later(now, micros(2 * c.config.msl));
    }
    if ((flags & TcpFlags.SYN) !== 0) {
      // RFC 5961 §4.2: a SYN gets a challenge ACK "irrespective of the exact
      // sequence number", so this ACK is counted and rate limited (§7) as
      // one, like Linux's syn_challenge; an old duplicate SYN lands here.
      challengeAck(c, now);
      return;
    }
    c.rcv.ackNow = true;
    return;
  }
  // Zero window, or data beyond it: keep the ACK information, trim the text.
  seg = trimToWindow(c, seg, window);

  // Step 2: RST (RFC 5961 §3.2: only an exact match resets; in-window gets a challenge ACK).
  if (isRst) {
    if (c.config.rfc5961 && seg.seq !== c.rcv.nxt) {
      drop(c, TcpDropReason.RstNotExact);
      challengeAck(c, now);
      return;
    }
    onReset(c, now);
    return;
  }

  // Step 4: SYN on a synchronized connection.
  if ((seg.flags & TcpFlags.SYN) !== 0) {
    if (c.state === TcpState.SynReceived && c.passive) {
      // RFC 9293: a new SYN in a passively opened SYN-RECEIVED returns to LISTEN.
      returnToListen(c, now, 'rcv SYN');
      return;
    }
    // RFC 5961 §4: never reset on a SYN; answer with a challenge ACK.
    drop(c, TcpDropReason.UnexpectedSyn);
    challengeAck(c, now);
    return;
  }

  // Step 5: ACK.
  if ((seg.flags & TcpFlags.ACK) === 0) {
    drop(c, TcpDropReason.NoAck);
    return;
  }
  c.timers.lastReceiveAt = now;
  c.timers.keepAliveProbesOut = 0;
  // Our SYN is still unacknowledged in SYN-RECEIVED, and in FIN-WAIT-1 when
  // the user closed in SYN-RECEIVED (the FIN then follows the SYN).
  const synUnacked =
    c.state === TcpState.SynReceived || (c.state === TcpState.FinWait1 && c.snd.una === c.snd.iss);
  if (synUnacked) {
    if (seqLt(c.snd.una, seg.ack) && seqLe(seg.ack, c.snd.nxt)) {
      c.snd.synPending = false;
      handshakeRtt(c, now, seg);
      // RFC 7323 §4.3 (2): the handshake's last ACK is a segment like any
      // other for TS.Recent (Linux tcp_check_req stores its tsval).
      updateTimestampRecent(c, now, seg);
      c.snd.wnd = seg.window << c.opt.sndWscale;
      c.snd.maxWnd = Math.max(c.snd.maxWnd, c.snd.wnd);
      c.snd.wl1 = seg.seq;
      c.snd.wl2 = seg.ack;
      // Only the SYN is acknowledged here; an ACK that also covers a FIN
      // sent in SYN-RECEIVED goes on to processAck below.
      c.snd.una = seqAdd(c.snd.iss, 1);
      c.timers.retransmitAt = NEVER;
      // RFC 5482: the user timeout times unacknowledged data, not the
      // handshake: our SYN,ACK is acknowledged, so its clock stops here.
      c.timers.unackedSince = NEVER;
      c.rtt.resetBackoff();
      if (c.snd.synRetransmits > 0 && !c.rtt.hasSample) c.rtt.resetForDataAfterSynLoss();
      if (c.state === TcpState.SynReceived) setState(c, now, TcpState.Established, 'rcv ACK');
      push(c, { type: 'connected' });
      if (c.rcv.buffer.readable > 0) signalReadable(c);
      if (c.snd.finQueued && c.state === TcpState.Established)
        setState(c, now, TcpState.FinWait1, 'queued shutdown');
      if (hasOutstanding(c)) {
        // The FIN sent in SYN-RECEIVED is still out: time it.
        c.timers.retransmitAt = later(now, c.rtt.rto);
        c.timers.unackedSince = now;
        if (seqGt(seg.ack, c.snd.una) && !processAck(c, now, seg)) return;
      }
    } else {
      // The ACK does not acknowledge our SYN: this is how an old duplicate SYN
      // is defused (RFC 9293 §3.5, Figure 9): reset the other side, keep ours.
      drop(c, TcpDropReason.BadAck);
      c.snd.rstToSend.push(makeRst(c, seg.ack, false));
      return;
    }
  } else if (!processAck(c, now, seg)) {
    return;
  }

  // FIN-WAIT-1 / CLOSING / LAST-ACK: has our FIN been acknowledged?
  if (c.snd.finSent && !c.snd.finAcked && seqGe(c.snd.una, finSeqEnd(c))) {
    c.snd.finAcked = true;
    switch (c.state) {
      case TcpState.FinWait1:
        setState(c, now, TcpState.FinWait2, 'rcv ACK of FIN');
        if (c.rcv.readClosed) c.timers.finWait2At = later(now, c.config.finTimeout);
        break;
      case TcpState.Closing:
        enterTimeWait(c, now, 'rcv ACK of FIN');
        return;
      case TcpState.LastAck:
        finish(c, now, null, 'rcv ACK of FIN');
        return;
      default:
        break;
    }
  }
  if (c.state === TcpState.TimeWait) {
    // The only thing that can arrive in TIME-WAIT is a retransmitted FIN.
    if ((seg.flags & TcpFlags.FIN) !== 0) {
      c.rcv.ackNow = true;
      c.timers.timeWaitAt = later(now, micros(2 * c.config.msl));
    }
    return;
  }

  // Step 6: URG. RFC 6093: urgent data is delivered inline; nothing to do beyond
  // the ordinary data path (no out-of-band API).

  // Steps 7 and 8: text and FIN.
  processText(c, now, seg);
}

export function onReset(c: Tcb, now: Instant): void {
  switch (c.state) {
    case TcpState.SynReceived:
      if (c.passive) {
        // RFC 9293: a passively opened connection returns to LISTEN; the
        // application never saw it.
        returnToListen(c, now, 'rcv RST');
      } else {
        finish(c, now, TcpError.Refused, 'rcv RST');
      }
      return;
    case TcpState.Established:
    case TcpState.FinWait1:
    case TcpState.FinWait2:
    case TcpState.CloseWait:
      finish(c, now, TcpError.Reset, 'rcv RST');
      return;
    default:
      // CLOSING, LAST-ACK, TIME-WAIT: the connection just ends.
      finish(c, now, null, 'rcv RST');
  }
}

// ===================================================================
// Segment construction
// ===================================================================

// ===================================================================
// Helpers
// ===================================================================

export function handshakeRtt(c: Tcb, now: Instant, seg: TcpRepr): void {
  // Karn: only a SYN that was not retransmitted gives a sample (unless timestamps say which one).
  const ts = seg.options.timestamp;
  if (c.opt.timestampsOn && ts !== null && ts.echo !== 0) {
    const ms = tsDiff(tsClock(c, now), ts.echo);
    if (ms >= 0) c.rtt.sample(millis(ms));
  } else if (c.snd.rttTiming && c.snd.synRetransmits === 0) {
    c.rtt.sample(elapsed(now, c.snd.rttStart));
  }
  c.snd.rttTiming = false;
}

export function acceptable(c: Tcb, seqStart: SeqNum, segLen: number, window: number): boolean {
  // RFC 9293 §3.10.7.4 step 1, the four cases.
  if (segLen === 0) {
    if (window === 0) return seqStart === c.rcv.nxt;
    return seqLe(c.rcv.nxt, seqStart) && seqLt(seqStart, seqAdd(c.rcv.nxt, window));
  }
  if (window === 0) {
    // RFC 9293 allows ACKs, URGs and RSTs through a zero window: a segment
    // at RCV.NXT is kept for its control information and its text trimmed.
    return seqStart === c.rcv.nxt;
  }
  const end = seqAdd(seqStart, segLen - 1);
  const right = seqAdd(c.rcv.nxt, window);
  return (
    (seqLe(c.rcv.nxt, seqStart) && seqLt(seqStart, right)) ||
    (seqLe(c.rcv.nxt, end) && seqLt(end, right))
  );
}

/** Cuts text before RCV.NXT and beyond the window (RFC 9293: "trimmed to the window"). */
export function trimToWindow(c: Tcb, seg: TcpRepr, window: number): TcpRepr {
  let seqStart = seg.seq;
  let flags = seg.flags;
  let payload = seg.payload;
  if (seqLt(seqStart, c.rcv.nxt)) {
    let cut = seqDiff(c.rcv.nxt, seqStart);
    if ((flags & TcpFlags.SYN) !== 0) {
      flags &= ~TcpFlags.SYN;
      cut -= 1;
      seqStart = seqAdd(seqStart, 1);
    }
    const dataCut = Math.min(cut, payload.length);
    if (dataCut > 0) noteDuplicate(c, seqStart, dataCut);
    payload = payload.subarray(dataCut);
    seqStart = seqAdd(seqStart, dataCut);
  }
  const room = seqDiff(seqAdd(c.rcv.nxt, window), seqStart);
  if (payload.length > room) {
    if (room < payload.length) drop(c, TcpDropReason.NoBufferSpace);
    payload = payload.subarray(0, Math.max(room, 0));
    flags &= ~TcpFlags.FIN; // The FIN lies beyond the window: it will come again.
    c.rcv.ackNow = true;
  }
  if (payload === seg.payload && flags === seg.flags && seqStart === seg.seq) return seg;
  return { ...seg, seq: seqStart, flags, payload };
}

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
