/**
 * A per-packet simulation of one sender through one bottleneck, ACK by ACK,
 * to drive a congestion controller on its own (no Connection): a FIFO link
 * of rate R with a drop-tail queue (optionally marking ECT packets CE above
 * a threshold), a fixed propagation delay, and a receiver that acknowledges
 * every packet at once with a cumulative ACK and a SACK of that packet.
 *
 * The sender uses the real scoreboard (SentSegments), AckSample and
 * DeliveryRateEstimator, marks a packet lost once a packet sent after it is
 * delivered (the link is FIFO, so this is RACK with no reordering window),
 * retransmits lost data first, and paces at the controller's rate. Times
 * are virtual microseconds; a 20 s run takes well under a second.
 */
import { instant } from '../../src/base/index.js';
import { Bbr, BbrState } from '../../src/tcp/congestion/index.js';
import { AckSample, DeliveryRateEstimator, RateSample } from '../../src/tcp/recovery/sample.js';
import { SegmentFlag, SentSegments } from '../../src/tcp/recovery/scoreboard.js';

export interface PathOptions {
  /** Bottleneck rate, bytes per second. */
  rate: number;
  /** Round-trip propagation delay, µs. */
  rttUs: number;
  /** Queue limit in bytes (drop-tail). */
  queueBytes: number;
  /** Mark CE instead of queueing unmarked when the queue holds more than this (bytes); -1: no ECN. */
  ecnThreshold?: number;
  /** Drop every n-th packet entering the link (0: none), a deterministic random-loss stand-in. */
  dropEvery?: number;
  mss?: number;
  seed?: number;
  /** Application: bytes it has written by time t (µs); default unlimited. */
  appWritten?: (t: number) => number;
}

/** One ACK's view, kept for the tests. */
export interface Snapshot {
  t: number;
  state: BbrState;
  cwnd: number;
  inFlight: number;
  maxBw: number;
  bw: number;
  minRtt: number;
  queue: number;
  inflightHi: number;
  inflightLo: number;
  roundCount: number;
  filledPipe: boolean;
}

interface InFlightPacket {
  start: number;
  end: number;
  sentAt: number;
  ackAt: number;
  ce: boolean;
}

export class BottleneckDriver {
  readonly cc: Bbr;
  readonly mss: number;
  readonly board = new SentSegments();
  readonly estimator = new DeliveryRateEstimator();
  readonly rs = new RateSample();
  private readonly ack = new AckSample();
  private readonly opts: Required<Omit<PathOptions, 'appWritten'>> & {
    appWritten: ((t: number) => number) | null;
  };
  now = 0;
  /** When the link finishes serializing what it holds (µs). */
  private linkFreeAt = 0;
  /** ACKs on their way back, in arrival order (the link is FIFO). */
  private readonly acks: InFlightPacket[] = [];
  private ackHead = 0;
  /** Receiver: the cumulative point and what arrived above it. */
  private rcvNxt = 0;
  private readonly above = new Map<number, number>();
  sndNxt = 0;
  private paceNextAt = 0;
  inRecovery = false;
  private recoveryEnd = 0;
  private entered = 0;
  /** Counters. */
  drops = 0;
  ceMarks = 0;
  sent = 0;
  retransmits = 0;
  readonly snapshots: Snapshot[] = [];
  /** Every state change: [time µs, state]. */
  readonly transitions: Array<[number, BbrState]> = [];
  /** Every rate sample's delivery rate with its app-limited bit: [t, rate, appLimited]. */
  readonly samples: Array<[number, number, boolean]> = [];

  constructor(options: PathOptions, cc?: Bbr) {
    this.mss = options.mss ?? 1460;
    this.opts = {
      rate: options.rate,
      rttUs: options.rttUs,
      queueBytes: options.queueBytes,
      ecnThreshold: options.ecnThreshold ?? -1,
      dropEvery: options.dropEvery ?? 0,
      mss: this.mss,
      seed: options.seed ?? 1,
      appWritten: options.appWritten ?? null,
    };
    this.cc = cc ?? new Bbr({ mss: this.mss, initialWindowSegments: 10, seed: this.opts.seed });
    this.board.lossSink = this.estimator;
    this.estimator.lossListener = this.cc;
    this.transitions.push([0, this.cc.state]);
  }

  /** Bytes in the bottleneck queue at time t (what the link has yet to serialize). */
  queueAt(t: number): number {
    return this.linkFreeAt > t ? ((this.linkFreeAt - t) * this.opts.rate) / 1_000_000 : 0;
  }

  /** RFC 6675 pipe: outstanding less SACKed and lost, plus retransmissions in flight. */
  get pipe(): number {
    if (this.board.isEmpty) return 0;
    const outstanding = this.board.lastEnd - this.board.startAt(0);
    return outstanding - this.board.sackedBytes - this.board.lostBytes + this.board.retransBytes;
  }

  private appWritten(): number {
    const f = this.opts.appWritten;
    return f === null ? Number.POSITIVE_INFINITY : f(this.now);
  }

  /** Runs until virtual time `until` (µs). */
  runUntil(until: number): void {
    while (this.now < until) {
      this.trySend();
      const nextAck = this.ackHead < this.acks.length ? this.acks[this.ackHead]!.ackAt : Infinity;
      const nextSend = this.canSendSomething() ? Math.max(this.paceNextAt, this.now) : Infinity;
      // An application-limited sender wakes up every millisecond to look for new data.
      const poll = this.opts.appWritten !== null ? this.now + 1000 : Infinity;
      let next = Math.min(nextAck, nextSend, poll, until);
      if (next <= this.now) next = this.now + 1;
      this.now = next;
      while (this.ackHead < this.acks.length && this.acks[this.ackHead]!.ackAt <= this.now) {
        this.onAck(this.acks[this.ackHead++]!);
      }
      if (this.ackHead > 1024) {
        this.acks.splice(0, this.ackHead);
        this.ackHead = 0;
      }
      if (
        this.ackHead >= this.acks.length &&
        this.pipe > 0 &&
        this.now > this.lastAckAt + 1_000_000
      ) {
        this.onTimeout();
      }
    }
  }

  private lastAckAt = 0;

  private canSendSomething(): boolean {
    if (this.pipe + this.mss > this.cc.cwnd) return false;
    return this.board.firstLostUnsent() >= 0 || this.appWritten() - this.sndNxt >= 1;
  }

  private trySend(): void {
    for (;;) {
      if (this.paceNextAt > this.now) return;
      const pipe = this.pipe;
      if (pipe + this.mss > this.cc.cwnd) return;
      const lost = this.board.firstLostUnsent();
      const unsent = this.appWritten() - this.sndNxt;
      this.estimator.checkAppLimited(
        unsent,
        this.mss,
        pipe,
        this.cc.cwnd,
        this.board.lostBytes,
        this.board.retransBytes,
      );
      let start: number;
      let end: number;
      this.estimator.onSend(this.now, pipe === 0);
      const e = this.estimator;
      if (lost >= 0) {
        start = this.board.startAt(lost);
        end = this.board.endAt(lost);
        this.board.onRetransmit(
          lost,
          this.now,
          e.delivered,
          e.deliveredTime,
          e.firstSentTime,
          e.lost,
          pipe + (end - start),
        );
        this.retransmits++;
      } else {
        if (unsent < 1) return;
        const len = Math.min(this.mss, Math.floor(unsent));
        start = this.sndNxt;
        end = start + len;
        this.sndNxt = end;
        this.board.append(
          start,
          end,
          this.now,
          e.appLimited ? SegmentFlag.AppLimited : 0,
          e.delivered,
          e.deliveredTime,
          e.firstSentTime,
          e.lost,
          pipe + len,
        );
      }
      this.cc.onPacketSent(instant(this.now), end - start, pipe);
      this.transmit(start, end);
      const rate = this.cc.pacingRate();
      if (rate > 0) {
        const from = this.paceNextAt > this.now ? this.paceNextAt : this.now;
        this.paceNextAt = Math.ceil(from + ((end - start) * 1_000_000) / rate);
      }
    }
  }

  /** Into the bottleneck: dropped when the queue is full, CE-marked above the threshold. */
  private transmit(start: number, end: number): void {
    this.sent++;
    this.entered++;
    const size = end - start;
    const queue = this.queueAt(this.now);
    if (
      queue + size > this.opts.queueBytes ||
      (this.opts.dropEvery > 0 && this.entered % this.opts.dropEvery === 0)
    ) {
      this.drops++;
      return;
    }
    const ce = this.opts.ecnThreshold >= 0 && queue > this.opts.ecnThreshold;
    if (ce) this.ceMarks++;
    const begin = this.linkFreeAt > this.now ? this.linkFreeAt : this.now;
    this.linkFreeAt = begin + (size * 1_000_000) / this.opts.rate;
    this.acks.push({
      start,
      end,
      sentAt: this.now,
      ackAt: Math.ceil(this.linkFreeAt) + this.opts.rttUs,
      ce,
    });
  }

  private onAck(p: InFlightPacket): void {
    this.lastAckAt = this.now;
    // The receiver.
    if (p.start <= this.rcvNxt) {
      if (p.end > this.rcvNxt) this.rcvNxt = p.end;
      for (
        let next = this.above.get(this.rcvNxt);
        next !== undefined;
        next = this.above.get(this.rcvNxt)
      ) {
        this.above.delete(this.rcvNxt);
        this.rcvNxt = next;
      }
    } else {
      this.above.set(p.start, p.end);
    }
    // The sender.
    const priorInFlight = this.pipe;
    const board = this.board;
    this.ack.reset(this.now, this.cc.minRtt, board.fack);
    // The caller adds what the scoreboard returns, as the connection does.
    if (p.start >= this.rcvNxt) this.ack.sackedBytes += board.sack(p.start, p.end, this.ack);
    this.ack.ackedBytes += board.ackTo(this.rcvNxt, this.ack, null);
    // Loss: everything not delivered that was sent before the delivered packet.
    const sentBefore = p.sentAt;
    for (let i = 0; i < board.count; i++) {
      const f = board.flagsAt(i);
      if ((f & (SegmentFlag.Sacked | SegmentFlag.Lost)) !== 0) continue;
      if (board.xmitAt(i) < sentBefore) board.markLost(i);
    }
    if (!this.inRecovery && board.lostBytes > 0) {
      this.inRecovery = true;
      this.recoveryEnd = this.sndNxt;
      this.cc.onCongestionEvent(instant(this.now), this.pipe);
    } else if (this.inRecovery && this.rcvNxt >= this.recoveryEnd && board.lostBytes === 0) {
      this.inRecovery = false;
      this.cc.onRecoveryExit(instant(this.now));
    }
    this.estimator.generate(
      this.now,
      this.ack,
      this.cc.minRtt,
      p.ce,
      priorInFlight,
      this.pipe,
      this.inRecovery,
      this.rs,
    );
    if (this.rs.valid) this.samples.push([this.now, this.rs.deliveryRate, this.rs.isAppLimited]);
    const before = this.cc.state;
    this.cc.onRateSample(instant(this.now), this.rs);
    if (this.cc.takeAppLimitedRequest()) this.estimator.markAppLimited(this.pipe);
    if (this.cc.state !== before) this.transitions.push([this.now, this.cc.state]);
    this.snapshots.push({
      t: this.now,
      state: this.cc.state,
      cwnd: this.cc.cwnd,
      inFlight: this.pipe,
      maxBw: this.cc.maxBw,
      bw: this.cc.bw,
      minRtt: this.cc.minRtt,
      queue: this.queueAt(this.now),
      inflightHi: this.cc.inflightHi,
      inflightLo: this.cc.inflightLo,
      roundCount: this.cc.roundCount,
      filledPipe: this.cc.filledPipe,
    });
  }

  /** No ACK for a second with data out: a retransmission timeout. */
  private onTimeout(): void {
    this.board.markAllLost();
    this.cc.onRetransmitTimeout(instant(this.now), this.pipe);
    this.inRecovery = true;
    this.recoveryEnd = this.sndNxt;
    this.lastAckAt = this.now;
  }
}
