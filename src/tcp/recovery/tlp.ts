/**
 * Tail loss probes (RFC 8985 §7): the probe timeout is armed while the
 * connection is open with data outstanding (§7.2), fires a probe (§7.3;
 * sender.ts builds it), and the ACKs that follow tell whether the probe
 * repaired a loss, which calls for a window reduction (§7.4).
 */
import { type Instant, later, millis, NEVER, seconds, seqAdd, seqGt } from '../../base/index.js';
import { endReduction } from './loss-state.js';
import {
  CaState,
  hasOutstanding,
  isSynchronized,
  LossTimer,
  offsetOf,
  Probe,
  type Tcb,
  unsentDataBytes,
} from '../tcb.js';

/** RFC 8985 §7.2: WCDelAckT, the worst-case delayed-ACK time a one-segment flight must allow. */
const WORST_CASE_DELAYED_ACK = millis(200);

/** Linux TCP_TIMEOUT_MIN: slack added to a probe timeout with more than one segment in flight. */
const PTO_SLACK = millis(2);

/** RFC 8985 §7.2: the probe timeout without an RTT sample. */
const PTO_WITHOUT_RTT = seconds(1);

/**
 * RFC 8985 §7.2: arm the probe timeout (PTO = 2·SRTT, plus the worst-case
 * delayed ACK when one segment is in flight, no later than the RTO) while
 * the connection is open, has SACK, data outstanding and no probe in flight.
 */
export function scheduleLossProbe(c: Tcb, now: Instant): void {
  if (c.timers.lossTimerKind === LossTimer.Reorder) return;
  if (
    !c.useTlp ||
    !c.opt.sackOn ||
    !hasOutstanding(c) ||
    c.loss.rack.tlpEnd >= 0 ||
    (c.loss.caState !== CaState.Open && c.loss.caState !== CaState.Cwr) ||
    !isSynchronized(c)
  ) {
    if (c.timers.lossTimerKind === LossTimer.Probe) c.timers.cancelLossTimer();
    return;
  }
  let pto: number;
  if (c.rtt.hasSample) {
    pto = 2 * c.rtt.srtt + (c.loss.board.count <= 1 ? WORST_CASE_DELAYED_ACK : PTO_SLACK);
  } else {
    pto = PTO_WITHOUT_RTT;
  }
  let at = now + pto;
  if (c.timers.retransmitAt !== NEVER && at > c.timers.retransmitAt) at = c.timers.retransmitAt;
  c.timers.lossTimerAt = at as Instant;
  c.timers.lossTimerKind = LossTimer.Probe;
}

/** The probe timeout fired (Linux tcp_send_loss_probe): pollTransmit sends the probe. */
export function onProbeTimeout(c: Tcb, now: Instant): void {
  if (!isSynchronized(c) || !hasOutstanding(c) || c.loss.rack.tlpEnd >= 0) return;
  if (c.loss.caState !== CaState.Open && c.loss.caState !== CaState.Cwr) return;
  const windowEnd = seqAdd(c.snd.una, c.snd.wnd);
  c.loss.probeDue =
    unsentDataBytes(c) > 0 && seqGt(windowEnd, c.snd.nxt) ? Probe.NewData : Probe.Retransmit;
  c.counters.lossProbes++;
  // RFC 8985 §7.3: the RTO runs in full after the probe.
  c.timers.retransmitAt = later(now, c.rtt.rto);
}

/**
 * An ACK while a probe is outstanding (RFC 8985 §7.4; Linux
 * tcp_process_tlp_ack). A probe of new data, or one the peer reports as a
 * duplicate, repaired nothing; an ACK beyond the probe without that
 * report means it repaired a loss, which calls for the response fast
 * recovery would have made (ssthresh reduced, cwnd set to it at once).
 */
export function processProbeAck(c: Tcb, now: Instant, advanced: boolean, isDup: boolean): void {
  const una = offsetOf(c, c.snd.una);
  if (una < c.loss.rack.tlpEnd) return;
  if (!c.loss.rack.tlpIsRetrans || c.loss.probeDsacked) {
    c.loss.rack.resetProbe();
    return;
  }
  if (una > c.loss.rack.tlpEnd) {
    c.loss.rack.resetProbe();
    c.counters.lossProbeRecoveries++;
    if (c.loss.caState === CaState.Open || c.loss.caState === CaState.Disorder) {
      // A model-based controller already counted the loss the probe
      // repaired in its rate samples; like Linux's BBR in a one-ACK CWR, it
      // makes no window change here.
      if (!c.modelBased) {
        c.cc.onCongestionEvent(now, c.loss.probeFlight);
        endReduction(c);
      }
      c.loss.undoMarker = -1;
      if (c.opt.ecnOn) c.loss.ecnQueueCwr = true;
    }
    return;
  }
  if (!advanced && isDup && c.loss.ackSample.sackedBytes === 0) c.loss.rack.resetProbe();
}
