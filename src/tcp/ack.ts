/**
 * An arriving ACK (RFC 9293 §3.10.7.4 step 5): SND.UNA advances and the
 * acknowledged bytes leave the send buffer; SND.WND is taken from the
 * segment that SND.WL1/SND.WL2 say is newest; SACK blocks (RFC 2018) and
 * D-SACK (RFC 2883, RFC 3708) go into the scoreboard; the RTT sample
 * (RFC 7323 §4, RFC 6298 with Karn's rule); then what the ACK means for
 * loss recovery and cwnd (as Linux's tcp_ack and tcp_fastretrans_alert).
 */
import {
  assertNever,
  type Duration,
  elapsed,
  type Instant,
  later,
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
import { TcpFlags, type TcpRepr } from '../wire/index.js';
import { generateRateSample } from './rate.js';
import { challengeAck } from './receiver.js';
import { TcpSampleKind } from './recorder.js';
import {
  detectLosses,
  endRecovery,
  endReduction,
  enterCwr,
  enterRecovery,
  newRenoAck,
  newRenoMayRecover,
  noteReordering,
  openState,
  processLoss,
  reduceWindow,
  tryPartialUndo,
  undo,
} from './recovery/loss-state.js';
import { processProbeAck, scheduleLossProbe } from './recovery/tlp.js';
import {
  bytesInFlight,
  CaState,
  drop,
  finSeqEnd,
  hasOutstanding,
  offsetOf,
  push,
  recordWindow,
  type Tcb,
} from './tcb.js';
import { tsClock, tsDiff, updateTimestampRecent } from './timestamps.js';
import { TcpDropReason } from './types.js';

/** Retransmitted ranges remembered for undo before the episode is given up (keeps memory bounded). */
const MAX_UNDO_RANGES = 64;

/** RFC 9293 step 5 for synchronized states; returns false when the segment is finished with. */
export function processAck(c: Tcb, now: Instant, seg: TcpRepr): boolean {
  const ack = seg.ack;
  if (seqGt(ack, c.snd.nxt)) {
    // RFC 9293: an ACK of something not yet sent gets an ACK and is dropped
    // (RFC 5961 §5.2 makes it a challenge ACK, rate limited).
    drop(c, TcpDropReason.BadAck);
    if (c.config.dropAckOfUnsent !== true) challengeAck(c, now);
    return false;
  }
  if (c.config.rfc5961 && seqLt(ack, seqAdd(c.snd.una, -c.snd.maxWnd))) {
    // RFC 5961 §5.2: older than any ACK the peer could legitimately send.
    drop(c, TcpDropReason.BadAck);
    challengeAck(c, now);
    return false;
  }
  updateTimestampRecent(c, now, seg);
  const windowBefore = c.snd.wnd;
  const priorInFlight = bytesInFlight(c);
  c.loss.ackSample.reset(now, c.rtt.minRtt, c.loss.board.fack);
  c.loss.probeDsacked = false;
  // The scoreboard: SACK blocks first, then the cumulative ACK (as Linux's
  // tcp_sacktag_write_queue before tcp_clean_rtx_queue).
  const dsack = c.opt.sackOn && seg.options.sackBlocks.length > 0 && processSack(c, seg);
  const advanced = seqGt(ack, c.snd.una);
  const dataAcked = advanced ? onNewAck(c, now, seg) : 0;
  const isDup =
    !advanced &&
    ack === c.snd.una &&
    seg.payload.length === 0 &&
    (seg.flags & (TcpFlags.SYN | TcpFlags.FIN)) === 0 &&
    seqLt(c.snd.una, c.snd.nxt) &&
    seg.window << c.opt.sndWscale === windowBefore;
  if (isDup) {
    c.loss.dupAcks++;
    c.counters.dupAcksReceived++;
    if (c.loss.dupAcks > c.loss.dupAcksPeak) c.loss.dupAcksPeak = c.loss.dupAcks;
  }
  onAckEvent(c, now, seg, advanced, isDup, dsack, dataAcked, priorInFlight);
  // RFC 9293 step 5: update the send window if the segment is newer (SND.WL1/WL2).
  if (seqLt(c.snd.wl1, seg.seq) || (c.snd.wl1 === seg.seq && seqLe(c.snd.wl2, ack))) {
    const wasZero = c.snd.wnd === 0;
    c.snd.wnd = seg.window << c.opt.sndWscale;
    c.snd.wl1 = seg.seq;
    c.snd.wl2 = ack;
    if (c.snd.wnd > c.snd.maxWnd) c.snd.maxWnd = c.snd.wnd;
    if (wasZero && c.snd.wnd > 0) {
      c.timers.persistAt = NEVER;
      c.timers.persistBackoff = 0;
    }
  }
  if (c.recorder !== null) {
    const una = offsetOf(c, c.snd.una);
    c.recorder.record(now, TcpSampleKind.Acked, una, una + c.snd.wnd);
  }
  return true;
}

/**
 * The cumulative ACK advanced: the acknowledged bytes leave the send ring
 * and the scoreboard, and the RTT estimator gets its sample. Returns the
 * data bytes acknowledged.
 */
function onNewAck(c: Tcb, now: Instant, seg: TcpRepr): number {
  const ack = seg.ack;
  const sample = c.loss.ackSample;
  sample.ackedBytes += c.loss.board.ackTo(
    offsetOf(c, ack),
    sample,
    c.loss.undoMarker >= 0 ? c.loss.retransAcked : null,
  );
  if (c.loss.retransAcked.count > MAX_UNDO_RANGES) {
    // A long-past episode: too much retransmitted since to judge it any more.
    c.loss.undoMarker = -1;
    c.loss.retransAcked.clear();
  }
  let advanced = seqDiff(ack, c.snd.una);
  // The FIN takes one sequence number but no byte of the ring.
  if (c.snd.finSent && seqGe(ack, finSeqEnd(c))) advanced -= 1;
  const dataAcked = Math.min(Math.max(advanced, 0), c.snd.ring.length);
  c.snd.ring.discard(dataAcked);
  c.snd.ringSeq = seqAdd(c.snd.ringSeq, dataAcked);
  c.snd.ackedOffset += dataAcked;
  c.snd.una = ack;
  c.counters.bytesAcked += dataAcked;

  // RTT sample (RFC 7323 §4 with timestamps; otherwise one timed segment, Karn's rule).
  let rttSample = -1 as Duration;
  const ts = seg.options.timestamp;
  if (c.opt.timestampsOn && ts !== null && ts.echo !== 0) {
    const ms = tsDiff(tsClock(c, now), ts.echo);
    if (ms >= 0) rttSample = millis(Math.max(ms, 0));
  } else if (c.snd.rttTiming && seqGt(ack, c.snd.rttSeq)) {
    rttSample = elapsed(now, c.snd.rttStart);
    c.snd.rttTiming = false;
  }
  if (rttSample >= 0) c.rtt.sample(rttSample);
  c.loss.lastRttSample = rttSample;
  c.rtt.resetBackoff();
  c.loss.consecutiveRtos = 0;
  c.loss.dupAcks = 0;
  c.loss.rack.onCumulativeAck(offsetOf(c, ack));
  // RFC 6298 (5.3): restart the retransmission timer when new data is acknowledged.
  c.timers.retransmitAt = hasOutstanding(c) ? later(now, c.rtt.rto) : NEVER;
  c.timers.unackedSince = hasOutstanding(c) ? now : NEVER;
  if (c.snd.writableWanted && c.snd.ring.free > 0) {
    c.snd.writableWanted = false;
    push(c, { type: 'writable' });
  }
  if (c.snd.ring.length === 0) c.snd.ring.release();
  if (c.loss.board.isEmpty) c.loss.board.release();
  return dataAcked;
}

/**
 * SACK blocks (RFC 2018) into the scoreboard. The first block may be a
 * D-SACK (RFC 2883 §4: below the cumulative ACK, or inside the second
 * block); the others are tagged in ascending order, as Linux sorts them, so
 * that RACK's reordering check sees deliveries in sequence order. Returns
 * whether a D-SACK came.
 */
function processSack(c: Tcb, seg: TcpRepr): boolean {
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
    dsack = onDsack(c, first.left, first.right);
  }
  // Valid blocks: above the cumulative ACK and within what was sent
  // (anything else is bogus), as offsets, sorted (at most four: no allocation).
  const scratch = c.loss.sackScratch;
  let n = 0;
  for (let i = dsack ? 1 : 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    if (!seqLt(b.left, b.right) || seqLt(b.left, ack) || seqGt(b.right, c.snd.nxt)) continue;
    const start = offsetOf(c, b.left);
    const end = offsetOf(c, b.right);
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
  const sample = c.loss.ackSample;
  for (let k = 0; k < n; k++) {
    const start = scratch[2 * k]!;
    const end = scratch[2 * k + 1]!;
    const newly = c.loss.board.sack(start, end, sample);
    if (newly > 0) {
      sample.sackedBytes += newly;
      if (c.recorder !== null)
        c.recorder.record(sample.now as Instant, TcpSampleKind.Sacked, start, end);
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
export function onDsack(c: Tcb, left: SeqNum, right: SeqNum): boolean {
  if (seqGt(right, c.snd.nxt) || seqDiff(c.snd.una, left) > c.snd.maxWnd + c.snd.mss) return false;
  const start = offsetOf(c, left);
  const end = offsetOf(c, right);
  if (start < 0) return false;
  c.counters.dsacksReceived++;
  if (c.useRack) c.loss.rack.onDsack(offsetOf(c, c.snd.nxt));
  if (c.loss.undoMarker >= 0 && c.loss.undoRetrans > 0 && end > c.loss.undoMarker) {
    const una = offsetOf(c, c.snd.una);
    let proven = 0;
    // Below SND.UNA only what we retransmitted counts (Linux assumes it
    // was ours; a network duplicate would then undo a real reduction).
    if (start < una)
      proven += c.loss.retransAcked.overlap(Math.max(start, c.loss.undoMarker), Math.min(end, una));
    if (end > una) proven += c.loss.board.retransmittedWithin(Math.max(start, una), end);
    if (proven > 0) c.loss.undoRetrans = Math.max(0, c.loss.undoRetrans - proven);
  }
  if (c.loss.rack.tlpEnd >= 0 && c.loss.rack.tlpIsRetrans && end === c.loss.rack.tlpEnd)
    c.loss.probeDsacked = true;
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
function onAckEvent(
  c: Tcb,
  now: Instant,
  seg: TcpRepr,
  advanced: boolean,
  isDup: boolean,
  dsack: boolean,
  dataAcked: number,
  priorInFlight: number,
): void {
  const sample = c.loss.ackSample;
  const delivered = sample.deliveredBytes;
  c.loss.rack.update(sample);
  if (sample.reorderSeen) noteReordering(c, sample.fack - sample.reorderLow);
  if (advanced && seqGt(seg.ack, c.loss.roundEnd)) {
    // RFC 9406 §4.2: a round ends when the ACK passes windowEnd.
    c.loss.roundEnd = c.snd.nxt;
    c.cc.onRoundStart(now);
  }
  if (c.loss.rack.tlpEnd >= 0) processProbeAck(c, now, advanced, isDup);

  // Leave a state whose end the ACK passed, or continue it.
  const priorState = c.loss.caState;
  switch (c.loss.caState) {
    case CaState.Recovery:
      if (seqGe(c.snd.una, c.loss.recoverSeq)) endRecovery(c, now, seg);
      else if (!c.opt.sackOn) newRenoAck(c, advanced, isDup, dataAcked);
      else if (advanced) tryPartialUndo(c, now, seg);
      break;
    case CaState.Cwr:
      // Linux holds CWR until something above high_seq is acknowledged.
      if (seqGt(c.snd.una, c.loss.recoverSeq)) {
        endReduction(c);
        c.loss.caState = openState(c);
      }
      break;
    case CaState.Loss:
      processLoss(c, now, seg, advanced, isDup);
      break;
    case CaState.Open:
    case CaState.Disorder:
      break;
    default:
      assertNever(c.loss.caState, 'ca state');
  }
  // RFC 3708: every retransmission of the episode proved unnecessary by D-SACK.
  if (
    dsack &&
    c.loss.caState !== CaState.Loss &&
    c.useUndo &&
    c.loss.undoMarker >= 0 &&
    c.loss.undoRetrans === 0
  ) {
    if (c.loss.caState === CaState.Recovery) c.loss.rack.onRecoveryExit();
    undo(c, now, true);
    c.loss.caState = openState(c);
    c.cc.onRecoveryExit?.(now);
  }

  const lostBefore = c.counters.lostSegments;
  // Loss detection (Linux tcp_time_to_recover) and the congestion signals.
  if (c.loss.caState !== CaState.Loss) {
    const lost = c.opt.sackOn ? detectLosses(c, now) : false;
    const open = c.loss.caState === CaState.Open || c.loss.caState === CaState.Disorder;
    if (open || c.loss.caState === CaState.Cwr) {
      if (
        c.opt.sackOn ? lost : isDup && c.loss.dupAcks >= c.loss.reordering && newRenoMayRecover(c)
      ) {
        enterRecovery(c, now);
      } else if (open && c.opt.ecnOn && (seg.flags & TcpFlags.ECE) !== 0) {
        enterCwr(c, now);
      } else if (open) {
        c.loss.caState = openState(c);
      }
    }
  }

  // After loss detection, so that the sample counts what this ACK marked lost.
  const rs = generateRateSample(
    c,
    now,
    c.opt.ecnOn && (seg.flags & TcpFlags.ECE) !== 0,
    priorInFlight,
  );

  // The window: a model-based controller on every ACK, whatever the state
  // (draft-ietf-ccwg-bbr §5.2, Linux's cong_control); else PRR while
  // reducing (RFC 6937), the controller otherwise.
  if (c.modelBased) {
    c.cc.onRateSample?.(now, rs);
    if (c.cc.takeAppLimitedRequest?.() === true) c.rate.estimator.markAppLimited(bytesInFlight(c));
  } else if (
    c.loss.caState === CaState.Cwr ||
    (c.loss.caState === CaState.Recovery && c.opt.sackOn)
  ) {
    const safeAck =
      c.config.prrSafeAck !== true || (advanced && c.counters.lostSegments === lostBefore);
    if (delivered > 0) reduceWindow(c, delivered, false, safeAck);
  } else if (advanced && priorState !== CaState.Recovery && priorState !== CaState.Cwr) {
    // (The ACK that ends a reduction leaves cwnd where the reduction put it.)
    const rtt = sample.caRtt >= 0 ? (sample.caRtt as Duration) : c.loss.lastRttSample;
    // Linux tcp_is_cwnd_limited: the window's peak use, not just this moment's.
    const used = priorInFlight > c.snd.windowMaxFlight ? priorInFlight : c.snd.windowMaxFlight;
    c.cc.onAck(now, c.config.cwndGrowsByDelivered === true ? delivered : dataAcked, used, rtt);
  }
  if (c.loss.caState === CaState.Open && c.loss.board.retransBytes === 0)
    c.loss.retransStampTs = -1;
  recordWindow(c, now);
  // RFC 8985 §7.2: (re)arm the probe timer on an ACK of new data.
  if (advanced) scheduleLossProbe(c, now);
}
