/**
 * The public face of a TCP connection (RFC 9293): the calling protocol of
 * docs/architecture.md (input, commands, output, reads), the opens (§3.10.1), the
 * user calls SEND, RECEIVE, CLOSE and ABORT (§3.10.2-3.10.5), ICMP errors
 * (RFC 5927, RFC 1191) and the stats snapshot. The state is a `Tcb`
 * (tcb.ts); each mechanism works on it from a module of its own: input.ts,
 * ack.ts, recovery/loss-state.ts, recovery/tlp.ts, sender.ts, rate.ts,
 * receiver.ts, options.ts, timestamps.ts and timers.ts.
 */
import {
  assertNever,
  type BufferPool,
  type Duration,
  type Instant,
  later,
  micros,
  NEVER,
  seqAdd,
  seqGt,
  seqLe,
  seqLt,
  type SeqNum,
} from '../base/index.js';
import { TcpFlags, type TcpRepr } from '../wire/index.js';
import { type TcpConfig, validateTcpConfig } from './config.js';
import { Bbr } from './congestion/index.js';
import { segmentArrives } from './input.js';
import { recomputeSendMss } from './options.js';
import { pacingRate } from './rate.js';
import { adjustReceiveSpace, currentReceiveWindow, maybeWindowUpdate } from './receiver.js';
import { TcpRecorder } from './recorder.js';
import { currentReorderWindow } from './recovery/loss-state.js';
import { nextSegment, noteSent } from './sender.js';
import {
  bytesInFlight,
  bytesOutstanding,
  canWrite,
  CaState,
  finish,
  isSynchronized,
  makeRst,
  setState,
  Tcb,
} from './tcb.js';
import { nextDeadline, runTimers, updateTimers } from './timers.js';
import { tsDiff } from './timestamps.js';
import { type StateTransition, TcpError, type TcpEvent, TcpState, type TcpStats } from './types.js';

export { resetFor } from './input.js';

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

/**
 * One TCP connection: the RFC 9293 state machine with reliable delivery, flow
 * control and congestion control. Sans-IO (docs/architecture.md "How the core is
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
      deliveredBytes: this.tcb.rate.estimator.delivered,
      deliveryRate: Math.round(this.tcb.rate.deliveryRate),
      pacingRate: this.tcb.pacing ? Math.round(pacingRate(this.tcb)) : -1,
      bbr: this.tcb.cc instanceof Bbr ? this.tcb.cc.info : null,
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
        this.tcb.snd.rstToSend.push(makeRst(this.tcb, this.tcb.snd.nxt, true, now));
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
      // These segments are resent because they no longer fit the path, not
      // because the network dropped them: BBR must not take them as a
      // loss-rate signal (which would cap inflight_hi at a flight the path
      // carried fine), so its per-packet loss listener is off meanwhile.
      const estimator = this.tcb.rate.estimator;
      const listener = estimator.lossListener;
      estimator.lossListener = null;
      this.tcb.loss.board.markAllLost();
      estimator.lossListener = listener;
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
  // Input (segments: input.ts; ICMP errors; TIME-WAIT reuse)
  // ===================================================================

  /**
   * Processes one arriving segment. Never throws on bad input: a segment
   * the state does not accept is dropped and counted by reason. `ecn` is the
   * IP header's ECN codepoint (RFC 3168 §5; 3 is Congestion Experienced),
   * 0 when the caller does not know it.
   */
  handleSegment(now: Instant, seg: TcpRepr, ecn = 0): void {
    segmentArrives(this.tcb, now, seg, ecn);
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
