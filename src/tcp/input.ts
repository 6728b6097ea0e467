/**
 * SEGMENT ARRIVES (RFC 9293 §3.10.7): the steps in their order for CLOSED
 * (§3.10.7.1), LISTEN (§3.10.7.2), SYN-SENT (§3.10.7.3) and the
 * synchronized states (§3.10.7.4): PAWS (RFC 7323 §5.3 R1), the
 * acceptability test (step 1), RST and SYN with RFC 5961's challenge ACKs
 * (steps 2 and 4), the handshake's final ACK (step 5), then the ACK itself
 * (ack.ts) and the text and FIN (receiver.ts).
 */
import {
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
import { negotiateOptions } from './options.js';
import { acceptWindow, challengeAck, noteDuplicate, processText } from './receiver.js';
import {
  drop,
  EMPTY_PAYLOAD,
  enterTimeWait,
  finish,
  finSeqEnd,
  hasOutstanding,
  makeRst,
  push,
  returnToListen,
  setState,
  signalReadable,
  type Tcb,
} from './tcb.js';
import { updateTimers } from './timers.js';
import { tsClock, tsDiff, updateTimestampRecent } from './timestamps.js';
import { TcpDropReason, TcpError, TcpState } from './types.js';

/** RFC 7323 §5.5: TS.Recent older than 24 days is no longer trusted for PAWS. */
const PAWS_IDLE_LIMIT = millis(24 * 24 * 3600 * 1000);

/** SEGMENT ARRIVES: counts it, then the steps for the current state (RFC 9293 §3.10.7). */
export function segmentArrives(c: Tcb, now: Instant, seg: TcpRepr, ecn: number): void {
  c.counters.segmentsReceived++;
  c.lastInputAt = now;
  c.rcv.arrivingEcn = ecn;
  switch (c.state) {
    case TcpState.Closed:
      segmentInClosed(c, seg);
      return;
    case TcpState.Listen:
      segmentInListen(c, now, seg);
      return;
    case TcpState.SynSent:
      segmentInSynSent(c, now, seg);
      return;
    default:
      segmentInSynchronized(c, now, seg);
      updateTimers(c, now);
  }
}

/** RFC 9293 §3.10.7.1: no TCB. Answer anything but a RST with a RST. */
function segmentInClosed(c: Tcb, seg: TcpRepr): void {
  drop(c, TcpDropReason.BadState);
  if ((seg.flags & TcpFlags.RST) !== 0) return;
  c.snd.rstToSend.push(resetFor(seg));
}

/** RFC 9293 §3.10.7.2. */
function segmentInListen(c: Tcb, now: Instant, seg: TcpRepr): void {
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
function segmentInSynSent(c: Tcb, now: Instant, seg: TcpRepr): void {
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
function segmentInSynchronized(c: Tcb, now: Instant, input: TcpRepr): void {
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
    } else if (seg.seq !== c.rcv.nxt || seg.payload.length > 0) {
      // Anything but a bare ACK at RCV.NXT is answered with an ACK, as Linux
      // (tcp_timewait_state_process) and FreeBSD do: RFC 9293 says nothing here.
      c.rcv.ackNow = true;
    }
    return;
  }

  // Step 6: URG. RFC 6093: urgent data is delivered inline; nothing to do beyond
  // the ordinary data path (no out-of-band API).

  // Steps 7 and 8: text and FIN.
  processText(c, now, seg);
}

/** An acceptable RST (RFC 9293 §3.10.7.4 step 2): how the connection ends depends on its state. */
function onReset(c: Tcb, now: Instant): void {
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

/** The acceptability test of RFC 9293 §3.10.7.4 step 1. */
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
function trimToWindow(c: Tcb, seg: TcpRepr, window: number): TcpRepr {
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

/** The RTT sample of the handshake (RFC 6298 §2, Karn: only an unretransmitted SYN, unless timestamps say which). */
function handshakeRtt(c: Tcb, now: Instant, seg: TcpRepr): void {
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
