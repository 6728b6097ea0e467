/**
 * Loss recovery's states (Linux tcp_ca_state): entering and leaving fast
 * recovery (RFC 5681 §3.2, RFC 6675 §5, NewReno RFC 6582) with PRR
 * (RFC 6937); the Loss state after a timeout (RFC 6298 §5, RFC 5681 §3.1)
 * with F-RTO (RFC 5682); undo of a reduction shown spurious by D-SACK
 * (RFC 3708) or timestamps (Eifel, RFC 3522); CWR after an ECN echo
 * (RFC 3168 §6.1.2); and loss detection by RACK (RFC 8985 §6) or RFC 6675's
 * IsLost, with the reordering estimate both use.
 */
import { type Instant, later, micros, seqAdd, seqGe, seqGt, seqLt } from '../../base/index.js';
import { type TcpRepr } from '../../wire/index.js';
import { INFINITE_SSTHRESH } from '../congestion/index.js';
import { TcpSampleKind } from '../recorder.js';
import { SegmentFlag } from './scoreboard.js';
import {
  bytesInFlight,
  bytesOutstanding,
  CaState,
  isSynchronized,
  LossTimer,
  offsetOf,
  Probe,
  recordWindow,
  type Tcb,
  unsentDataBytes,
} from '../tcb.js';
import { tsDiff } from '../timestamps.js';

/** Linux net.ipv4.tcp_max_reordering: the most segments the reordering estimate may reach. */
const MAX_REORDERING = 300;

/**
 * The retransmission timer expired with data outstanding (RFC 6298 §5.4-5.6,
 * RFC 5681 §3.1; Linux tcp_enter_loss): the Loss state, with cwnd collapsed,
 * the RTO backed off and everything outstanding marked lost; F-RTO (RFC 5682)
 * may watch the timeout.
 */
export function enterLoss(c: Tcb, now: Instant): void {
  const expired = c.rtt.rto;
  // F-RTO (RFC 5682) watches a timeout that opens a new episode, and
  // repeated ones (Linux: new_recovery || icsk_retransmits).
  // Only with SACK: without it the duplicate ACKs that follow F-RTO's new
  // data would not free the window for the retransmissions a real loss needs.
  const fresh = c.loss.caState !== CaState.Recovery && c.loss.caState !== CaState.Loss;
  c.loss.frto = c.useFrto && c.opt.sackOn && (fresh || c.rtt.backoffs > 0);
  c.loss.frtoProbing = false;
  c.loss.frtoNewData = false;
  const reducing = c.loss.caState === CaState.Recovery || c.loss.caState === CaState.Cwr;
  if (!reducing && (c.loss.caState !== CaState.Loss || c.loss.consecutiveRtos === 0)) {
    // A new episode (Linux tcp_enter_loss): what a later undo restores.
    initUndo(c);
  }
  c.loss.consecutiveRtos++;
  c.counters.retransmitTimeouts++;
  // In fast recovery or CWR ssthresh was already reduced for this window;
  // Linux keeps it and only collapses cwnd (tcp_enter_loss).
  const ssthresh = c.cc.ssthresh;
  c.cc.onRetransmitTimeout(now, bytesOutstanding(c));
  if (reducing) c.cc.ssthresh = ssthresh;
  c.rtt.backoff();
  // RFC 2018 §8 / RFC 6675 §5.1: after an RTO the SACK scoreboard is not
  // trusted (the receiver may renege), so everything is resent in order.
  c.loss.board.clearSacks();
  c.loss.board.markAllLost();
  if (c.loss.caState === CaState.Recovery) c.loss.rack.onRecoveryExit();
  c.loss.caState = CaState.Loss;
  c.loss.recoverSeq = c.snd.nxt;
  c.loss.recoverValid = true;
  c.loss.rtxOwed = false;
  c.loss.dupAcks = 0;
  c.snd.rttTiming = false;
  c.loss.rescueRxt = -1;
  c.loss.rack.resetProbe();
  c.loss.probeDue = Probe.None;
  c.timers.cancelLossTimer();
  if (c.opt.ecnOn) c.loss.ecnQueueCwr = true;
  c.counters.lostSegments += Math.ceil(bytesOutstanding(c) / c.snd.mss);
  c.timers.retransmitAt = later(now, c.rtt.rto);
  if (c.recorder !== null) {
    c.recorder.record(now, TcpSampleKind.Timeout, expired, 0);
    recordWindow(c, now);
  }
}

/** Open, or Disorder while SACKed, lost or retransmitted data or duplicate ACKs are about (Linux tcp_try_keep_open). */
export function openState(c: Tcb): CaState {
  return c.loss.board.sackedBytes > 0 ||
    c.loss.board.lostBytes > 0 ||
    c.loss.board.retransBytes > 0 ||
    (!c.opt.sackOn && c.loss.dupAcks > 0)
    ? CaState.Disorder
    : CaState.Open;
}

/** RFC 6582 §3.2 (2): no new recovery for losses from before the last one ended ("recover"). */
export function newRenoMayRecover(c: Tcb): boolean {
  return !(c.loss.recoverValid && seqLt(c.snd.una, c.loss.recoverSeq));
}

/**
 * Fast recovery begins (RFC 5681 §3.2, RFC 6675 §5, Linux
 * tcp_enter_recovery): ssthresh from the controller, unless CWR already
 * reduced this window; PRR from here. Without SACK, NewReno (RFC 6582):
 * retransmit the first unacknowledged segment, cwnd = ssthresh + 3·SMSS.
 */
export function enterRecovery(c: Tcb, now: Instant): void {
  const flight = bytesOutstanding(c);
  // (A model-based controller was not told of the CWR: it hears now.)
  if (c.loss.caState !== CaState.Cwr || c.modelBased) {
    // A model-based controller's packet conservation starts from what is in
    // the network (draft-ietf-ccwg-bbr §5.6.4.4: packets_in_flight, the
    // pipe); a window-based one halves FlightSize (RFC 5681 (4)).
    c.cc.onCongestionEvent(now, c.modelBased ? bytesInFlight(c) : flight);
    initUndo(c);
    if (!c.modelBased) c.loss.prr.start(flight, c.cc.ssthresh);
    if (c.opt.ecnOn) c.loss.ecnQueueCwr = true;
  }
  c.loss.caState = CaState.Recovery;
  c.loss.recoverSeq = c.snd.nxt;
  c.loss.recoverValid = true;
  c.loss.rescueRxt = -1;
  c.snd.rttTiming = false;
  c.loss.rack.resetProbe();
  c.loss.probeDue = Probe.None;
  if (c.timers.lossTimerKind === LossTimer.Probe) c.timers.cancelLossTimer();
  c.counters.fastRetransmits++;
  if (!c.opt.sackOn) {
    if (!c.modelBased) c.cc.cwnd = c.cc.ssthresh + c.loss.dupAcks * c.snd.mss;
    c.loss.dupAcksPeak = c.loss.dupAcks;
    markHeadLost(c);
    c.loss.rtxOwed = true;
    c.counters.lostSegments++;
  } else if (!c.usePrr) {
    // RFC 6675 §5 (4.2): cwnd = ssthresh; (4.3): the first lost segment
    // goes at once, whatever pipe and cwnd say (PRR sends it by its own rule).
    if (!c.modelBased) c.cc.cwnd = c.cc.ssthresh;
    c.loss.rtxOwed = true;
  }
}

/** NewReno without SACK inside fast recovery (RFC 6582 §3.2 (4), (5)). */
export function newRenoAck(c: Tcb, advanced: boolean, isDup: boolean, dataAcked: number): void {
  if (advanced) {
    // A partial ACK: retransmit the next unacknowledged segment, deflate
    // the window by the amount acknowledged, add one MSS back.
    markHeadLost(c);
    c.loss.rtxOwed = true;
    if (c.modelBased) return;
    c.cc.cwnd = Math.max(
      c.cc.cwnd - dataAcked + (dataAcked >= c.snd.mss ? c.snd.mss : 0),
      c.snd.mss,
    );
  } else if (isDup && !c.modelBased) {
    // Inflate by one MSS for each further duplicate ACK.
    c.cc.cwnd += c.snd.mss;
  }
}

/** The first unacknowledged segment is lost (NewReno; Linux tcp_newreno_mark_lost). */
function markHeadLost(c: Tcb): void {
  if (c.loss.board.count > 0) c.loss.board.markLost(0);
}

/**
 * Fast recovery ends: everything outstanding when it began is acknowledged
 * (RFC 6582 full ACK). Undo if it proved spurious; else cwnd = ssthresh
 * (RFC 6937 §3), or NewReno's deflation without SACK.
 */
export function endRecovery(c: Tcb, now: Instant, seg: TcpRepr): void {
  if (mayUndo(c, seg)) undo(c, now, false);
  else if (c.modelBased) {
    // The model sets cwnd; it only needs to know recovery is over.
  } else if (!c.opt.sackOn) c.cc.onRecoveryEnd(now, bytesInFlight(c));
  else if (c.usePrr) endReduction(c);
  c.loss.rack.onRecoveryExit();
  c.loss.rtxOwed = false;
  c.loss.caState = openState(c);
  c.cc.onRecoveryExit?.(now);
}

/** RFC 6937 §3 / Linux tcp_end_cwnd_reduction: the window settles at ssthresh. */
export function endReduction(c: Tcb): void {
  if (c.modelBased) return;
  if (c.cc.ssthresh < INFINITE_SSTHRESH) c.cc.cwnd = c.cc.ssthresh;
}

/**
 * A partial ACK whose timestamp predates our first retransmission: the
 * hole was filled by the original, delayed, so this was reordering, not
 * loss (RFC 3522; Linux tcp_try_undo_partial, which waits until no
 * retransmission is in flight).
 */
export function tryPartialUndo(c: Tcb, now: Instant, seg: TcpRepr): void {
  if (!c.useUndo || c.loss.undoMarker < 0 || !packetDelayed(c, seg)) return;
  if (c.loss.board.retransBytes > 0) return;
  c.loss.rack.onRecoveryExit();
  undo(c, now, true);
  c.loss.caState = openState(c);
  c.cc.onRecoveryExit?.(now);
}

/**
 * An ACK in the Loss state (after a timeout; Linux tcp_process_loss):
 * undo if the timeout proved spurious by D-SACK or timestamps, run F-RTO
 * (RFC 5682 §3.1, the SACK-enhanced version as Linux has it), and leave
 * the state when everything outstanding at the timeout is acknowledged.
 */
export function processLoss(
  c: Tcb,
  now: Instant,
  seg: TcpRepr,
  advanced: boolean,
  isDup: boolean,
): void {
  const recovered = seqGe(c.snd.una, c.loss.recoverSeq);
  if (advanced && mayUndo(c, seg)) {
    undo(c, now, true);
    leaveLoss(c, now);
    return;
  }
  if (c.loss.frto) {
    const sample = c.loss.ackSample;
    if (c.loss.frtoProbing) {
      if (advanced && sample.origDelivered) {
        // Step 3.b: after new data went out (2.b) the next ACK advanced
        // over data never retransmitted: what was outstanding at the
        // timeout had arrived, so the timeout was spurious.
        c.counters.spuriousRtos++;
        undo(c, now, true);
        leaveLoss(c, now);
        return;
      }
      // Step 3.a: a duplicate ACK or a SACK (the new data arrived past a
      // hole): the loss was real; conventional recovery goes on.
      if (isDup || sample.sackedBytes > 0) c.loss.frto = false;
    } else if (advanced && !recovered) {
      // Step 2.b: the first ACK after the timeout advanced, not to
      // "recover": send new data, not retransmissions, and let the next
      // ACK tell (RFC 5682 §3.1 with SACK).
      c.loss.recoverSeq = c.snd.nxt;
      const windowEnd = seqAdd(c.snd.una, c.snd.wnd);
      if (unsentDataBytes(c) > 0 && seqGt(windowEnd, c.snd.nxt)) {
        c.loss.frtoNewData = true;
        c.loss.frtoProbing = true;
      } else {
        c.loss.frto = false;
      }
    } else if (isDup || recovered || sample.sackedBytes > 0) {
      // Step 2.a: a duplicate ACK, or everything acknowledged: conventional.
      c.loss.frto = false;
    }
  }
  if (recovered) {
    if (mayUndo(c, seg)) undo(c, now, true);
    leaveLoss(c, now);
  }
}

/** The Loss state ends: F-RTO stops watching and the state opens. */
function leaveLoss(c: Tcb, now: Instant): void {
  c.loss.rack.onRecoveryExit();
  c.loss.frto = false;
  c.loss.frtoProbing = false;
  c.loss.frtoNewData = false;
  c.loss.rtxOwed = false;
  c.loss.caState = openState(c);
  c.cc.onRecoveryExit?.(now);
}

/** Linux tcp_init_undo: remember where this reduction began, for a later undo. */
function initUndo(c: Tcb): void {
  if (!c.useUndo) {
    c.loss.undoMarker = -1;
    return;
  }
  c.loss.undoMarker = offsetOf(c, c.snd.una);
  c.loss.undoRetrans = c.loss.board.retransBytes > 0 ? c.loss.board.retransBytes : -1;
  c.loss.retransAcked.clear();
  if (c.loss.board.retransBytes === 0) c.loss.retransStampTs = -1;
}

/** Linux tcp_may_undo: every retransmission D-SACKed (RFC 3708), or the ACK is for an original (RFC 3522). */
function mayUndo(c: Tcb, seg: TcpRepr): boolean {
  if (!c.useUndo || c.loss.undoMarker < 0) return false;
  return c.loss.undoRetrans === 0 || packetDelayed(c, seg);
}

/** Eifel (RFC 3522 §3.2): the ACK echoes a timestamp from before our first retransmission. */
function packetDelayed(c: Tcb, seg: TcpRepr): boolean {
  const ts = seg.options.timestamp;
  return (
    c.opt.timestampsOn &&
    ts !== null &&
    ts.echo !== 0 &&
    c.loss.retransStampTs >= 0 &&
    tsDiff(ts.echo, c.loss.retransStampTs) < 0
  );
}

/**
 * The reduction was spurious: the controller restores its window
 * (RFC 3708 §3, RFC 5682 §4, RFC 9438 §4.9; Linux tcp_undo_cwnd_reduction),
 * and what was marked lost is in flight after all.
 */
export function undo(c: Tcb, now: Instant, unmarkLoss: boolean): void {
  if (!c.opt.sackOn && c.loss.caState === CaState.Recovery) {
    // Without SACK the duplicate ACKs were reordering: raise the threshold
    // past what this episode saw (Linux tcp_check_reno_reordering).
    noteReordering(c, (c.loss.dupAcksPeak + 1) * c.snd.mss);
  }
  c.cc.onUndo(now);
  if (unmarkLoss) c.loss.board.unmarkAllLost();
  c.loss.undoMarker = -1;
  c.loss.undoRetrans = -1;
  c.loss.ecnQueueCwr = false;
  c.counters.spuriousRecoveries++;
  if (c.recorder !== null) c.recorder.record(now, TcpSampleKind.Undo, c.cc.cwnd, c.cc.ssthresh);
}

/**
 * RFC 3168 §6.1.2: an ECN echo is congestion, answered as a loss would be
 * (ssthresh from the controller, PRR down to it) but at most once per
 * window of data (Linux's CWR state, until SND.UNA passes SND.NXT of now).
 */
export function enterCwr(c: Tcb, now: Instant): void {
  const flight = bytesOutstanding(c);
  // A model-based controller hears of CE marks through the rate sample
  // (rs.ceDelivered) and answers them itself; CWR still goes on the wire.
  if (!c.modelBased) {
    c.cc.onCongestionEvent(now, flight);
    c.loss.prr.start(flight, c.cc.ssthresh);
  }
  c.loss.undoMarker = -1;
  c.loss.caState = CaState.Cwr;
  c.loss.recoverSeq = c.snd.nxt;
  c.loss.recoverValid = true;
  c.loss.ecnQueueCwr = true;
  c.counters.ecnReductions++;
  if (c.recorder !== null) c.recorder.record(now, TcpSampleKind.EcnEcho, c.cc.cwnd, c.cc.ssthresh);
}

/**
 * PRR (RFC 6937 §3): cwnd = pipe + sndcnt for what this ACK delivered. `safeAck` lets
 * PRR-SSRB add its MSS: always under RFC 6937, and with `prrSafeAck` (RFC 9937) only
 * when the ACK advanced SND.UNA and marked nothing newly lost (never on a timer).
 */
export function reduceWindow(
  c: Tcb,
  delivered: number,
  force: boolean,
  safeAck = c.config.prrSafeAck !== true,
): void {
  if (c.modelBased) return;
  if (c.loss.caState === CaState.Recovery && !c.usePrr) return;
  if (delivered <= 0 && !force) return;
  const pipe = bytesInFlight(c);
  const sndcnt = c.loss.prr.sendQuota(delivered, pipe, c.snd.mss, safeAck);
  c.cc.cwnd = Math.max(pipe + sndcnt, c.snd.mss);
}

/**
 * Marks what is lost by RACK (RFC 8985 §6.2 step 5) or, with RACK off, by
 * RFC 6675's IsLost; returns whether anything is lost now.
 */
export function detectLosses(c: Tcb, now: Instant): boolean {
  let newly: number;
  if (c.useRack) {
    const timeout = c.loss.rack.detectLoss(c.loss.board, now, currentReorderWindow(c));
    newly = c.loss.rack.newlyLost;
    armReorderTimer(c, now, timeout);
  } else {
    newly = markLostByDupThresh(c);
  }
  if (newly > 0) c.counters.lostSegments += newly;
  return c.loss.board.lostBytes > 0;
}

/** RACK's reordering window now (RFC 8985 §6.2 step 4). */
export function currentReorderWindow(c: Tcb): number {
  const recovering = c.loss.caState === CaState.Recovery || c.loss.caState === CaState.Loss;
  return c.loss.rack.reorderWindow(recovering, c.loss.board.sackedCount, c.rtt.minRtt, c.rtt.srtt);
}

/**
 * RFC 6675 §4 IsLost: a segment is lost when DupThresh segments, or more
 * than (DupThresh − 1)·SMSS bytes, above it are SACKed. DupThresh is the
 * reordering seen (3 at first, Linux's tp->reordering). Segments already
 * retransmitted are left to the timer (RFC 6675 HighRxt).
 */
function markLostByDupThresh(c: Tcb): number {
  const board = c.loss.board;
  if (board.sackedCount === 0) return 0;
  const dupThresh = c.loss.reordering;
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
    if (segmentsAbove < dupThresh && bytesAbove <= (dupThresh - 1) * c.snd.mss) break;
    if ((f & (SegmentFlag.Lost | SegmentFlag.EverRetrans)) === 0 && board.markLost(i)) newly++;
  }
  return newly;
}

/** Reordering of `distance` bytes was seen (Linux tcp_check_sack_reordering). */
export function noteReordering(c: Tcb, distance: number): void {
  c.counters.reorderingSeen++;
  const segments = Math.min(Math.ceil(distance / c.snd.mss), MAX_REORDERING);
  if (segments > c.loss.reordering) c.loss.reordering = segments;
}

/** RACK's reordering timer (RFC 8985 §6.3): run detection again when the next candidate's time is up. */
function armReorderTimer(c: Tcb, now: Instant, timeout: number): void {
  if (timeout > 0) {
    c.timers.lossTimerAt = later(now, micros(Math.ceil(timeout)));
    c.timers.lossTimerKind = LossTimer.Reorder;
  } else if (c.timers.lossTimerKind === LossTimer.Reorder) {
    c.timers.cancelLossTimer();
  }
}

/** The reordering timer fired (Linux tcp_rack_reo_timeout). */
export function onReorderTimeout(c: Tcb, now: Instant): void {
  if (!isSynchronized(c) || !c.opt.sackOn) return;
  const timeout = c.loss.rack.detectLoss(c.loss.board, now, currentReorderWindow(c));
  if (c.loss.rack.newlyLost > 0) {
    c.counters.lostSegments += c.loss.rack.newlyLost;
    if (
      c.loss.caState === CaState.Open ||
      c.loss.caState === CaState.Disorder ||
      c.loss.caState === CaState.Cwr
    )
      enterRecovery(c, now);
    if (c.loss.caState === CaState.Recovery) reduceWindow(c, 0, true);
  }
  armReorderTimer(c, now, timeout);
  recordWindow(c, now);
}
