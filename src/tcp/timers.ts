/**
 * The timer table (docs/architecture.md: deadlines, not callbacks): retransmission
 * (RFC 6298) and SYN retries, RACK's reordering timer and TLP's probe
 * timeout (one slot, as Linux), persist (RFC 9293 §3.8.6.1), keepalive
 * (RFC 1122 §4.2.3.6), the user timeout (RFC 5482), delayed ACK, pacing,
 * FIN-WAIT-2 (Linux tcp_fin_timeout) and TIME-WAIT's 2MSL.
 */
import {
  type Duration,
  earliest,
  elapsed,
  type Instant,
  later,
  micros,
  minDuration,
  NEVER,
} from '../base/index.js';
import { enterLoss, onReorderTimeout } from './recovery/loss-state.js';
import { onProbeTimeout } from './recovery/tlp.js';
import {
  finish,
  hasOutstanding,
  isSynchronized,
  LossTimer,
  makeRst,
  type Tcb,
  unsentBytes,
} from './tcb.js';
import { TcpError, TcpState } from './types.js';

/** The earliest deadline in the timer table, or NEVER. */
export function nextDeadline(c: Tcb): Instant {
  let t = earliest(c.timers.retransmitAt, c.timers.delayedAckAt);
  t = earliest(t, c.timers.persistAt);
  t = earliest(t, c.timers.keepAliveAt);
  t = earliest(t, c.timers.timeWaitAt);
  t = earliest(t, c.timers.lossTimerAt);
  if (c.rate.paceBlocked) t = earliest(t, c.rate.paceNextAt as Instant);
  return earliest(t, c.timers.finWait2At);
}

/** Runs every timer whose deadline has passed, in the order that lets a probe rearm the RTO. */
export function runTimers(c: Tcb, now: Instant): void {
  c.lastInputAt = now;
  if (c.timers.timeWaitAt <= now) {
    c.timers.timeWaitAt = NEVER;
    finish(c, now, null, 'timer 2MSL');
    return;
  }
  if (c.timers.finWait2At <= now) {
    c.timers.finWait2At = NEVER;
    if (c.state === TcpState.FinWait2) {
      // Linux tcp_fin_timeout: an orphaned FIN-WAIT-2 is dropped (with RST, as Linux does).
      c.snd.rstToSend.push(makeRst(c, c.snd.nxt, true, now));
      finish(c, now, null, 'timer FIN-WAIT-2');
      return;
    }
  }
  if (c.timers.lossTimerAt <= now) {
    // Before the RTO: a probe due at the same time rearms the RTO (RFC 8985 §7.3).
    const kind = c.timers.lossTimerKind;
    c.timers.lossTimerAt = NEVER;
    c.timers.lossTimerKind = LossTimer.None;
    if (kind === LossTimer.Reorder) onReorderTimeout(c, now);
    else if (kind === LossTimer.Probe) onProbeTimeout(c, now);
  }
  if (c.timers.retransmitAt <= now) {
    c.timers.retransmitAt = NEVER;
    onRetransmitTimeout(c, now);
    if (c.state === TcpState.Closed) return;
  }
  if (c.rate.paceBlocked && c.rate.paceNextAt <= now) c.rate.paceBlocked = false;
  if (c.timers.persistAt <= now) {
    c.timers.persistAt = NEVER;
    onPersistTimeout(c, now);
    if (c.state === TcpState.Closed) return;
  }
  if (c.timers.keepAliveAt <= now) {
    c.timers.keepAliveAt = NEVER;
    onKeepAliveTimeout(c, now);
    if (c.state === TcpState.Closed) return;
  }
  if (c.timers.delayedAckAt <= now) {
    c.timers.delayedAckAt = NEVER;
    if (c.rcv.ackPending) c.rcv.ackNow = true;
  }
}

/** The retransmission timer expired (RFC 6298 §5.4-5.7): the SYN again, or the Loss state, or the end when retries are exhausted. */
export function onRetransmitTimeout(c: Tcb, now: Instant): void {
  switch (c.state) {
    case TcpState.SynSent:
    case TcpState.SynReceived: {
      const limit = c.state === TcpState.SynSent ? c.config.synRetries : c.config.synAckRetries;
      if (c.snd.synRetransmits >= limit) {
        finish(c, now, TcpError.TimedOut, 'timer retransmit (SYN retries exhausted)');
        return;
      }
      c.snd.synRetransmits++;
      c.counters.retransmitTimeouts++;
      c.rtt.backoff();
      c.snd.synPending = true;
      c.snd.rttTiming = false;
      c.timers.retransmitAt = later(now, c.rtt.rto);
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
  if (!hasOutstanding(c)) return;
  if (userTimeoutExpired(c, now) || c.loss.consecutiveRtos >= c.config.maxRetransmits) {
    finish(c, now, TcpError.TimedOut, 'timer retransmit (retries exhausted)');
    return;
  }
  enterLoss(c, now);
}

/** The persist timer expired: a window probe is owed (RFC 9293 §3.8.6.1). */
function onPersistTimeout(c: Tcb, now: Instant): void {
  if (!isSynchronized(c) || unsentBytes(c) === 0 || hasOutstanding(c)) return;
  if (userTimeoutExpired(c, now)) {
    finish(c, now, TcpError.TimedOut, 'timer persist (user timeout)');
    return;
  }
  // RFC 9293 §3.8.6.1: probe the zero window (or the one too small to use).
  // Linux sends an ACK with an old sequence number (snd_una - 1), which the
  // peer must answer with its current window; we do the same.
  c.snd.probeOwed = true;
  c.counters.zeroWindowProbes++;
  c.timers.persistBackoff++;
  c.timers.persistAt = later(now, persistInterval(c));
}

/** The keepalive timer expired (RFC 1122 §4.2.3.6): a probe, or the end after keepAliveCount unanswered. */
function onKeepAliveTimeout(c: Tcb, now: Instant): void {
  if (!c.config.keepAlive || !isSynchronized(c)) return;
  if (hasOutstanding(c) || unsentBytes(c) > 0) {
    // Not idle: the retransmission or persist timer is watching the peer
    // (and has its own limits). Linux's tcp_keepalive_timer reschedules too.
    c.timers.keepAliveAt = later(now, c.config.keepAliveIdle);
    return;
  }
  if (c.timers.keepAliveProbesOut >= c.config.keepAliveCount) {
    finish(c, now, TcpError.TimedOut, 'timer keepalive (no answer)');
    return;
  }
  // RFC 1122 §4.2.3.6: a probe is a segment with SEG.SEQ = SND.NXT - 1 and no data.
  c.timers.keepAliveProbesOut++;
  c.counters.keepAliveProbes++;
  c.snd.probeOwed = true;
  c.timers.keepAliveAt = later(now, c.config.keepAliveInterval);
}

/** RFC 5482: data has been unacknowledged longer than the user timeout. */
function userTimeoutExpired(c: Tcb, now: Instant): boolean {
  return (
    c.config.userTimeout > 0 &&
    c.timers.unackedSince !== NEVER &&
    elapsed(now, c.timers.unackedSince) >= c.config.userTimeout
  );
}

/** The persist interval: the RTO, doubled per unanswered probe, up to maxPersistInterval. */
function persistInterval(c: Tcb): Duration {
  const base = c.rtt.rto;
  return minDuration(
    micros(base * 2 ** Math.min(c.timers.persistBackoff, 20)),
    c.config.maxPersistInterval,
  );
}

/** Re-derives the persist and keepalive timers from the current state. */
export function updateTimers(c: Tcb, now: Instant): void {
  if (!isSynchronized(c)) return;
  // Persist: data waiting and nothing in flight to elicit ACKs, because the
  // window is zero (RFC 9293 §3.8.6.1) or too small for sender SWS avoidance
  // to use (RFC 1122 §4.2.3.4): only our probe can learn of a window update
  // that was lost.
  if (unsentBytes(c) > 0 && !hasOutstanding(c)) {
    if (c.timers.persistAt === NEVER) c.timers.persistAt = later(now, persistInterval(c));
  } else {
    c.timers.persistAt = NEVER;
    if (hasOutstanding(c)) c.timers.persistBackoff = 0;
  }
  if (
    c.config.keepAlive &&
    c.timers.keepAliveProbesOut === 0 &&
    !hasOutstanding(c) &&
    unsentBytes(c) === 0
  ) {
    c.timers.keepAliveAt = later(c.timers.lastReceiveAt, c.config.keepAliveIdle);
    if (c.timers.keepAliveAt < now) c.timers.keepAliveAt = now;
  } else if (!c.config.keepAlive) {
    c.timers.keepAliveAt = NEVER;
  }
}
