/**
 * The sender: what goes next and how it is built. RFC 6675 §5 NextSeg order
 * (tail probe, F-RTO's new data, retransmission of what is lost, new data
 * and the FIN, the rescue retransmission), new data within the peer's window
 * and cwnd with sender SWS avoidance and Nagle (RFC 1122 §4.2.3.4, RFC 896),
 * segmentation at the current MSS, SYN and SYN,ACK with their options
 * (RFC 9293 §3.5, RFC 7323, RFC 2018, RFC 3168 §6.1.1), and the bookkeeping
 * for each segment that leaves (scoreboard, PRR, RTT timing).
 */
import {
  elapsed,
  type Instant,
  later,
  NEVER,
  seqAdd,
  seqDiff,
  seqGt,
  type SeqNum,
} from '../base/index.js';
import { noTcpOptions, TcpFlags, type TcpRepr } from '../wire/index.js';
import { advancePacer, onRateSent, paceAllows } from './rate.js';
import { advertiseWindow, MAX_WINDOW_FIELD, sackBlocks } from './receiver.js';
import { TcpSampleKind } from './recorder.js';
import { SegmentFlag } from './recovery/scoreboard.js';
import { scheduleLossProbe } from './recovery/tlp.js';
import {
  bytesInFlight,
  bytesOutstanding,
  canSendFin,
  CaState,
  EMPTY_PAYLOAD,
  isSynchronized,
  offsetOf,
  Probe,
  seqAt,
  type Tcb,
  unsentBytes,
  unsentDataBytes,
} from './tcb.js';
import { updateTimers } from './timers.js';
import { tsClock } from './timestamps.js';
import { TcpState } from './types.js';

/** The next segment, in order: a queued RST, our SYN, data (NextSeg), a keepalive or window probe, a bare ACK. */
export function nextSegment(c: Tcb, now: Instant): TcpRepr | null {
  if (c.snd.rstToSend.length > 0) return c.snd.rstToSend.shift()!;
  switch (c.state) {
    case TcpState.Closed:
    case TcpState.Listen:
      return null;
    case TcpState.SynSent:
      if (!c.snd.synPending) return null;
      c.snd.synPending = false;
      return makeSyn(c, now, false);
    case TcpState.SynReceived:
      if (c.snd.synPending) {
        c.snd.synPending = false;
        return makeSyn(c, now, true);
      }
      return c.rcv.ackNow ? makeAck(c, now) : null;
    default:
      break;
  }
  const data = nextDataSegment(c, now);
  if (data !== null) return data;
  if (c.snd.probeOwed) {
    c.snd.probeOwed = false;
    // A window that is open but smaller than a segment (sender SWS
    // avoidance held the data) is probed with as much data as it takes,
    // as Linux's tcp_write_wakeup does; else the peer, whose buffer may
    // never free more, and we would wait on each other for ever.
    if (seqGt(seqAdd(c.snd.una, c.snd.wnd), c.snd.nxt)) {
      const data = nextNewData(c, now, true);
      if (data !== null) return data;
    }
    // Keepalive and zero-window probes: SEG.SEQ = SND.UNA - 1, no data.
    return makeSegment(c, now, TcpFlags.ACK, seqAdd(c.snd.una, -1), EMPTY_PAYLOAD);
  }
  if (c.rcv.ackNow) return makeAck(c, now);
  return null;
}

/**
 * What goes next (RFC 6675 §5 NextSeg, with Linux's order): a due tail
 * loss probe; F-RTO's new data; retransmission of what is lost (rule 1);
 * new data and the FIN (rule 2); RFC 6675 rules 3 and 4 when RACK is off.
 */
function nextDataSegment(c: Tcb, now: Instant): TcpRepr | null {
  if (c.loss.probeDue !== Probe.None) {
    const probe = nextProbe(c, now);
    if (probe !== null) return probe;
  }
  if (c.loss.frtoNewData) {
    // RFC 5682 §3.1 step 2.b: new data instead of retransmissions, this ACK.
    const data = nextNewData(c, now, false);
    if (data !== null) return data;
    c.loss.frtoNewData = false;
    if (seqGt(c.snd.nxt, c.loss.recoverSeq)) return null;
    c.loss.frto = false;
  }
  if (c.loss.board.lostBytes > 0) {
    const rtx = nextRetransmission(c, now);
    if (rtx !== null) return rtx;
    // After a timeout what was outstanding goes again before anything new.
    if (c.loss.caState === CaState.Loss && c.loss.board.firstLostUnsent() >= 0) return null;
  }
  const data = nextNewData(c, now, false);
  if (data !== null) return data;
  if (c.opt.sackOn && !c.useRack && c.loss.caState === CaState.Recovery)
    return nextRfc6675Rescue(c, now);
  return null;
}

/** RFC 6675 NextSeg rule 1: the first segment deemed lost and not retransmitted since. */
function nextRetransmission(c: Tcb, now: Instant): TcpRepr | null {
  const i = c.loss.board.firstLostUnsent();
  if (i < 0) {
    c.loss.rtxOwed = false;
    return null;
  }
  if (!c.loss.rtxOwed) {
    if (bytesInFlight(c) >= c.cc.cwnd) return null;
    if (!paceAllows(c, now)) return null;
  }
  return retransmit(c, now, i, TcpSampleKind.Retransmitted);
}

/**
 * RFC 6675 NextSeg rules 3 and 4 (with RACK off, in recovery, when there is
 * nothing lost or new to send and cwnd − pipe ≥ 1 SMSS): the first
 * unSACKed segment below the highest SACK not yet retransmitted; failing
 * that, once per episode, a rescue retransmission of the last unSACKed
 * segment, so that a loss at the tail keeps the ACK clock going.
 */
function nextRfc6675Rescue(c: Tcb, now: Instant): TcpRepr | null {
  if (bytesInFlight(c) + c.snd.mss > c.cc.cwnd) return null;
  const board = c.loss.board;
  const high = board.highSacked;
  for (let i = 0; i < board.count && board.startAt(i) < high; i++) {
    if ((board.flagsAt(i) & (SegmentFlag.Sacked | SegmentFlag.EverRetrans)) === 0)
      return retransmit(c, now, i, TcpSampleKind.Retransmitted);
  }
  if (c.loss.rescueRxt < 0 || offsetOf(c, c.snd.una) > c.loss.rescueRxt) {
    for (let i = board.count - 1; i >= 0; i--) {
      if ((board.flagsAt(i) & SegmentFlag.Sacked) !== 0) continue;
      // The last unSACKed segment is already on its way again (rule 1 just
      // retransmitted it, or rule 3 did): a rescue would send it twice at once.
      if ((board.flagsAt(i) & SegmentFlag.Retrans) !== 0) return null;
      c.loss.rescueRxt = offsetOf(c, c.loss.recoverSeq);
      return retransmit(c, now, i, TcpSampleKind.Retransmitted);
    }
  }
  return null;
}

/**
 * Sends scoreboard entry i again. An entry from before a smaller MSS (or
 * with SACK blocks to fit) goes in pieces of the current size (Linux
 * tcp_fragment); the flags it was sent with (PSH, FIN) go with it.
 */
export function retransmit(c: Tcb, now: Instant, index: number, kind: TcpSampleKind): TcpRepr {
  const board = c.loss.board;
  const mss = currentMss(c);
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
  const seqStart = seqAt(c, start);
  const payload = len > 0 ? copyOut(c, seqStart, len) : EMPTY_PAYLOAD;
  let flags: number = TcpFlags.ACK;
  if (fin) flags |= TcpFlags.FIN;
  if ((f & SegmentFlag.Psh) !== 0) flags |= TcpFlags.PSH;
  const pipe = bytesInFlight(c);
  // draft-cheng-iccrg-delivery-rate-estimation §3.2: a retransmission is a
  // send like any other; it records the rate state of its own departure.
  const e = c.rate.estimator;
  e.onSend(now, pipe === 0);
  board.onRetransmit(
    index,
    now,
    e.delivered,
    e.deliveredTime,
    e.firstSentTime,
    e.lost,
    pipe + end - start,
  );
  c.loss.rtxOwed = false;
  c.counters.segmentsRetransmitted++;
  c.counters.bytesRetransmitted += len;
  if (c.loss.undoRetrans < 0) c.loss.undoRetrans = 0;
  c.loss.undoRetrans += end - start;
  if (c.loss.retransStampTs < 0) c.loss.retransStampTs = tsClock(c, now);
  // Resending the first unacknowledged segment restarts the RTO, as Linux's
  // tcp_xmit_retransmit_queue does: the timer started by the original is
  // nearly spent, and would fire before this copy's ACK could come back.
  if (start <= offsetOf(c, c.snd.una)) c.timers.retransmitAt = later(now, c.rtt.rto);
  onDataSent(c, now, end - start, pipe);
  if (c.recorder !== null) c.recorder.record(now, kind, start, end);
  return makeSegment(c, now, flags, seqStart, payload);
}

/**
 * A tail loss probe (RFC 8985 §7.3): one segment of new data if there is
 * any and the peer's window takes it, regardless of cwnd; else the last
 * segment sent (its last MSS) again.
 */
function nextProbe(c: Tcb, now: Instant): TcpRepr | null {
  const kind = c.loss.probeDue;
  c.loss.probeDue = Probe.None;
  const flight = bytesOutstanding(c);
  if (kind === Probe.NewData) {
    const seg = nextNewData(c, now, true);
    if (seg !== null) {
      c.loss.rack.tlpEnd = offsetOf(c, c.snd.nxt);
      c.loss.rack.tlpIsRetrans = false;
      c.loss.probeFlight = bytesOutstanding(c);
      if (c.recorder !== null) {
        const start = offsetOf(c, seg.seq);
        c.recorder.record(now, TcpSampleKind.Probe, start, c.loss.rack.tlpEnd);
      }
      return seg;
    }
  }
  const board = c.loss.board;
  if (board.count === 0) return null;
  let last = board.count - 1;
  const mss = currentMss(c);
  if (board.dataLengthAt(last) > mss) {
    const fin = (board.flagsAt(last) & SegmentFlag.Fin) !== 0;
    board.splitAt(board.endAt(last) - (fin ? 1 : 0) - mss);
    last = board.count - 1;
  }
  c.loss.rack.tlpEnd = offsetOf(c, c.snd.nxt);
  c.loss.rack.tlpIsRetrans = true;
  c.loss.probeFlight = flight;
  return retransmit(c, now, last, TcpSampleKind.Probe);
}

/**
 * New data (RFC 6675 NextSeg rule 2) and the FIN, as the peer's window,
 * cwnd, Nagle and sender SWS avoidance allow. A probe ignores cwnd and
 * Nagle (Linux tcp_write_xmit with push_one = 2).
 */
function nextNewData(c: Tcb, now: Instant, probe: boolean): TcpRepr | null {
  if (c.snd.finSent && unsentBytes(c) === 0) return null;
  const unsent = unsentBytes(c);
  const windowRoom = seqDiff(seqAdd(c.snd.una, c.snd.wnd), c.snd.nxt);
  const pipe = bytesInFlight(c);
  let cwndRoom = c.cc.cwnd - pipe;
  // RFC 3042 limited transmit without SACK: one extra segment for each of
  // the first two duplicate ACKs (with SACK, pipe already fell by what was SACKed).
  if (c.loss.caState === CaState.Disorder && !c.opt.sackOn) cwndRoom += c.loss.dupAcks * c.snd.mss;
  const mssNow = currentMss(c);
  // While PRR sets cwnd, any room is a whole segment (Linux counts cwnd in packets).
  if (
    probe ||
    (cwndRoom > 0 &&
      cwndRoom < mssNow &&
      (c.loss.caState === CaState.Recovery || c.loss.caState === CaState.Cwr))
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
      const nothingInFlight = c.snd.nxt === c.snd.una;
      const bigEnough = len >= c.snd.maxWnd / 2 && c.snd.maxWnd > 0;
      // After shutdown() nothing more will come to fill the segment, and the
      // FIN rides on it: Linux's tcp_nagle_test never holds a FIN segment.
      const nagleAllows =
        c.config.noDelay || nothingInFlight || c.snd.finQueued || probe || c.loss.frtoNewData;
      if (!probe && !((allQueuedFits && nagleAllows) || bigEnough)) {
        // Held back. If the window is what stops us and nothing is in
        // flight, the persist timer takes over (armed in updateTimers).
        return null;
      }
      if (!probe && !allQueuedFits && !bigEnough) return null;
      len = Math.min(len, unsent);
    }
    if (!probe && !paceAllows(c, now)) return null;
    const seqStart = c.snd.nxt;
    if (
      c.config.slowStartAfterIdle &&
      c.snd.nxt === c.snd.una &&
      c.counters.dataSegmentsSent > 0 &&
      elapsed(now, c.snd.lastSendAt) > c.rtt.rto
    ) {
      // RFC 5681 §4.1: after an idle period longer than the RTO, restart from
      // the initial window (Linux: net.ipv4.tcp_slow_start_after_idle = 1;
      // TcpConfig.slowStartAfterIdle turns it off).
      c.cc.onIdleRestart(now);
    }
    const payload = copyOut(c, seqStart, len);
    let flags: number = TcpFlags.ACK;
    if (len === unsent) flags |= TcpFlags.PSH;
    // Piggyback the FIN on the last data segment when there is window for it.
    if (c.snd.finQueued && len === unsent && canSendFin(c)) {
      flags |= TcpFlags.FIN;
      c.snd.finSent = true;
    }
    if (c.opt.ecnOn) {
      // RFC 3168 §6.1.2, §6.1.5: new data is ECN-capable, and the first
      // after a window reduction carries CWR.
      c.snd.lastEct = true;
      if (c.loss.ecnQueueCwr) {
        flags |= TcpFlags.CWR;
        c.loss.ecnQueueCwr = false;
      }
    }
    const fin = (flags & TcpFlags.FIN) !== 0;
    c.snd.nxt = seqAdd(c.snd.nxt, len + (fin ? 1 : 0));
    startTiming(c, now, seqStart);
    c.counters.dataSegmentsSent++;
    c.counters.bytesSent += len;
    appendSent(c, now, seqStart, len + (fin ? 1 : 0), flags, pipe);
    return makeSegment(c, now, flags, seqStart, payload);
  }
  if (c.snd.finQueued && !c.snd.finSent && canSendFin(c)) {
    c.snd.finSent = true;
    const seqStart = c.snd.nxt;
    c.snd.nxt = seqAdd(c.snd.nxt, 1);
    appendSent(c, now, seqStart, 1, TcpFlags.FIN, pipe);
    return makeSegment(c, now, TcpFlags.ACK | TcpFlags.FIN, seqStart, EMPTY_PAYLOAD);
  }
  return null;
}

/** A new segment of `length` sequence units at `seqStart` left: into the scoreboard. */
function appendSent(
  c: Tcb,
  now: Instant,
  seqStart: SeqNum,
  length: number,
  flags: number,
  pipe: number,
): void {
  onRateSent(c, now, length, pipe, unsentDataBytes(c));
  const start = offsetOf(c, seqStart);
  const e = c.rate.estimator;
  let bits = e.appLimited ? SegmentFlag.AppLimited : 0;
  if ((flags & TcpFlags.FIN) !== 0) bits |= SegmentFlag.Fin;
  if ((flags & TcpFlags.PSH) !== 0) bits |= SegmentFlag.Psh;
  c.loss.board.append(
    start,
    start + length,
    now,
    bits,
    e.delivered,
    e.deliveredTime,
    e.firstSentTime,
    e.lost,
    pipe + length,
  );
  onDataSent(c, now, length, pipe);
  if (c.recorder !== null) c.recorder.record(now, TcpSampleKind.Sent, start, start + length);
}

/** Bookkeeping for any data segment that leaves: PRR's count, the controller, the pacer. */
function onDataSent(c: Tcb, now: Instant, bytes: number, pipeBefore: number): void {
  const flight = pipeBefore + bytes;
  // Linux tcp_cwnd_validate: a new window starts once the last one is acknowledged.
  if (offsetOf(c, c.snd.una) >= c.snd.windowUsageEnd || flight > c.snd.windowMaxFlight) {
    c.snd.windowMaxFlight = flight;
    c.snd.windowUsageEnd = offsetOf(c, c.snd.nxt);
  }
  if (c.loss.caState === CaState.Recovery || c.loss.caState === CaState.Cwr)
    c.loss.prr.onSent(bytes);
  c.cc.onPacketSent(now, bytes, pipeBefore);
  if (c.pacing) advancePacer(c, now, bytes);
}

/** Our SYN or SYN,ACK with the options we offer or echo (RFC 9293 §3.5, RFC 7323 §2.2 and §3.2, RFC 2018 §2, RFC 3168 §6.1.1). */
export function makeSyn(c: Tcb, now: Instant, withAck: boolean): TcpRepr {
  const options = noTcpOptions();
  options.mss = c.config.mss;
  const offerAll = !withAck;
  // On a SYN,ACK we only echo options the peer offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
  if (
    c.config.windowScaling &&
    (offerAll || (c.opt.offeredWscale >= 0 && c.opt.rcvWscale >= 0 && c.opt.peerOfferedWscale))
  ) {
    options.windowScale = c.opt.offeredWscale;
  }
  if (c.config.sack && (offerAll || c.opt.sackOn)) options.sackPermitted = true;
  let flags: number = withAck ? TcpFlags.SYN | TcpFlags.ACK : TcpFlags.SYN;
  if (withAck) {
    if (c.opt.ecnOn) flags |= TcpFlags.ECE;
  } else {
    // RFC 3168 §6.1.1: ask with ECE and CWR (net.ipv4.tcp_ecn = 1); a
    // retransmitted SYN goes without them (§6.1.1.1, as Linux's
    // tcp_ecn_clear_syn), in case a middlebox drops ECN-setup SYNs.
    c.opt.ecnRequested = c.ecnMode === 1 && c.snd.synRetransmits === 0;
    if (c.opt.ecnRequested) flags |= TcpFlags.ECE | TcpFlags.CWR;
  }
  if (c.config.timestamps && (offerAll || c.opt.timestampsOn)) {
    options.timestamp = { value: tsClock(c, now), echo: withAck ? c.opt.tsRecent : 0 };
  }
  // RFC 7323 §2.2: the window field of a SYN is never scaled. Linux offers
  // the largest multiple of the MSS that fits (64240 for an MSS of 1460).
  const space = Math.min(c.rcv.buffer.free, MAX_WINDOW_FIELD);
  const window = Math.max(
    Math.floor(space / c.config.mss) * c.config.mss,
    Math.min(space, c.config.mss),
  );
  c.rcv.advRight = seqAdd(c.rcv.nxt, window);
  c.rcv.lastWindowSent = window;
  if (!c.snd.rttTiming && c.snd.synRetransmits === 0) {
    c.snd.rttTiming = true;
    c.snd.rttSeq = c.snd.iss;
    c.snd.rttStart = now;
  }
  if (c.snd.synRetransmits > 0) c.counters.segmentsRetransmitted++;
  if (withAck) {
    c.opt.lastAckSent = c.rcv.nxt;
    c.rcv.ackNow = false;
  }
  return {
    srcPort: 0,
    dstPort: 0,
    seq: c.snd.iss,
    ack: withAck ? c.rcv.nxt : (0 as SeqNum),
    flags,
    window,
    urgent: 0,
    options,
    payload: EMPTY_PAYLOAD,
  };
}

/** A bare ACK at SND.NXT. */
function makeAck(c: Tcb, now: Instant): TcpRepr {
  return makeSegment(c, now, TcpFlags.ACK, c.snd.nxt, EMPTY_PAYLOAD);
}

/** Builds a segment with ACK, window, timestamps and SACK as negotiated. */
function makeSegment(
  c: Tcb,
  now: Instant,
  flags: number,
  seqNum: SeqNum,
  payload: Uint8Array,
): TcpRepr {
  // RFC 3168 §6.1.3: ECE on every segment until the sender's CWR arrives.
  if (c.rcv.ecnDemandCwr && c.opt.ecnOn) flags |= TcpFlags.ECE;
  const options = noTcpOptions();
  if (c.opt.timestampsOn) options.timestamp = { value: tsClock(c, now), echo: c.opt.tsRecent };
  if (c.opt.sackOn) options.sackBlocks = sackBlocks(c);
  const window = advertiseWindow(c);
  c.opt.lastAckSent = c.rcv.nxt;
  c.rcv.ackNow = false;
  c.rcv.ackPending = false;
  c.timers.delayedAckAt = NEVER;
  c.rcv.bytesSinceAck = 0;
  return {
    srcPort: 0,
    dstPort: 0,
    seq: seqNum,
    ack: c.rcv.nxt,
    flags,
    window,
    urgent: 0,
    options,
    payload,
  };
}

/**
 * Payload bytes that fit in the next segment: the send MSS less the SACK
 * option it will carry. The MSS already leaves room for timestamps; SACK
 * blocks come and go, so like Linux's tcp_current_mss we shrink per segment
 * rather than exceed the path MTU.
 */
function currentMss(c: Tcb): number {
  if (!c.opt.sackOn) return c.snd.mss;
  const max = c.opt.timestampsOn ? 3 : 4;
  let blocks = c.rcv.dsack !== null ? 1 : 0;
  if (c.rcv.buffer.outOfOrderBytes > 0) blocks += c.rcv.buffer.sackRanges(max).length;
  if (blocks === 0) return c.snd.mss;
  // RFC 2018 §3: 2 NOPs + kind + length, then 8 bytes per block.
  return Math.max(c.snd.mss - (4 + 8 * Math.min(blocks, max)), 1);
}

/** Bookkeeping for any segment that leaves: counters, the RTO, the probe timer and the other timers. */
export function noteSent(c: Tcb, now: Instant, seg: TcpRepr): void {
  c.counters.segmentsSent++;
  const consumes = seg.payload.length > 0 || (seg.flags & (TcpFlags.SYN | TcpFlags.FIN)) !== 0;
  if (consumes && (seg.flags & TcpFlags.RST) === 0) {
    c.snd.lastSendAt = now;
    if (c.timers.unackedSince === NEVER) c.timers.unackedSince = now;
    if (c.timers.retransmitAt === NEVER) c.timers.retransmitAt = later(now, c.rtt.rto);
    // RFC 8985 §7.2: (re)arm the probe timeout after sending.
    if (isSynchronized(c)) scheduleLossProbe(c, now);
  }
  updateTimers(c, now);
}

/**
 * The send ring's bytes for a segment: a view into the ring (no copy, no
 * allocation) unless they wrap around the ring's end, which happens once
 * per trip round the ring; then a copy. See pollTransmit for how long the
 * view stays valid.
 */
function copyOut(c: Tcb, seqStart: SeqNum, len: number): Uint8Array {
  const offset = seqDiff(seqStart, c.snd.ringSeq);
  const view = c.snd.ring.view(offset, len);
  if (view !== null) return view;
  const out = new Uint8Array(len);
  c.snd.ring.peek(offset, out);
  return out;
}

/** Times one segment for an RTT sample when timestamps are off (RFC 6298 §3, Karn). */
function startTiming(c: Tcb, now: Instant, seqStart: SeqNum): void {
  if (c.opt.timestampsOn || c.snd.rttTiming || c.loss.caState !== CaState.Open) return;
  c.snd.rttTiming = true;
  c.snd.rttSeq = seqStart;
  c.snd.rttStart = now;
}
