/**
 * The receiver: segment text and FIN (RFC 9293 §3.10.7.4 steps 7 and 8)
 * into the reassembly buffer, delayed and immediate ACKs (RFC 1122
 * §4.2.3.2, RFC 5681 §4.2) and challenge ACKs' rate limit (RFC 5961 §7),
 * the SACK and D-SACK blocks we report (RFC 2018, RFC 2883), the advertised
 * window with receiver SWS avoidance (RFC 1122 §4.2.3.3, RFC 7323 §2.4),
 * the ECN echo (RFC 3168 §6.1.3) and receive-buffer autotuning (Linux
 * tcp_rcv_space_adjust).
 */
import {
  elapsed,
  type Instant,
  later,
  NEVER,
  seqAdd,
  seqDiff,
  seqLe,
  type SeqNum,
} from '../base/index.js';
import { type SackBlock, TcpFlags, type TcpRepr } from '../wire/index.js';
import {
  drop,
  enterTimeWait,
  finish,
  isSynchronized,
  makeRst,
  push,
  setState,
  signalReadable,
  type Tcb,
} from './tcb.js';
import { tsClock, tsDiff } from './timestamps.js';
import { TcpDropReason, TcpError, TcpState } from './types.js';

/** Largest unscaled window field. */
export const MAX_WINDOW_FIELD = 0xffff;

/** The IP ECN codepoint Congestion Experienced (RFC 3168 §5). */
const ECN_CE = 3;

/** Steps 7 (segment text) and 8 (FIN). */
export function processText(c: Tcb, now: Instant, seg: TcpRepr): void {
  const state = c.state;
  const receiving =
    state === TcpState.Established || state === TcpState.FinWait1 || state === TcpState.FinWait2;
  const payload = seg.payload;
  if (payload.length > 0 && receiving && !c.rcv.finReceived) {
    if (c.opt.ecnOn) receiveEcn(c, seg);
    if (c.opt.timestampsOn && c.autotune) sampleReceiveRtt(c, now, seg);
    if (c.rcv.readClosed) {
      // Data for an application that has closed: Linux answers with RST, in the
      // form of an answer to this segment (SEQ = SEG.ACK, no ACK bit: every
      // segment that reaches here has an ACK).
      drop(c, TcpDropReason.DataAfterClose);
      c.snd.rstToSend.push(
        c.config.resetDataAfterCloseAsReply === true
          ? makeRst(c, seg.ack, false)
          : makeRst(c, c.snd.nxt, true, now),
      );
      finish(c, now, TcpError.Aborted, 'rcv data after close');
      return;
    }
    const offset = c.rcv.buffer.nextOffset + seqDiff(seg.seq, c.rcv.nxt);
    const heldBefore = c.rcv.buffer.nextOffset + c.rcv.buffer.outOfOrderBytes;
    const result = c.rcv.buffer.insert(offset, payload);
    c.counters.dataSegmentsReceived++;
    // Each byte counts once, when it first arrives: inOrder also includes held bytes
    // pulled in when a hole fills, which were counted when they were held.
    c.counters.bytesReceived += c.rcv.buffer.nextOffset + c.rcv.buffer.outOfOrderBytes - heldBefore;
    if (payload.length > c.rcv.mss && payload.length <= c.config.mss) c.rcv.mss = payload.length;
    if (result.inOrder > 0) {
      c.rcv.nxt = seqAdd(c.rcv.nxt, result.inOrder);
      signalReadable(c);
    }
    // After RCV.NXT moved, so that noteDuplicate maps sequence numbers to the
    // buffer's offsets as they are now: exactly the bytes that came twice.
    const buffer = c.rcv.buffer;
    if (buffer.firstDuplicateLength > 0)
      noteDuplicate(
        c,
        seqAdd(seg.seq, buffer.firstDuplicateOffset - offset),
        buffer.firstDuplicateLength,
      );
    if (result.heldOutOfOrder > 0 || result.inOrder === 0 || result.filledHole) {
      // RFC 5681 §4.2: out-of-order data and data that fills a hole are ACKed at once.
      c.rcv.ackNow = true;
    } else {
      scheduleAck(c, now, result.inOrder);
    }
  }
  // Step 8: FIN.
  if ((seg.flags & TcpFlags.FIN) !== 0 && !c.rcv.finReceived) {
    const finOffset = c.rcv.buffer.nextOffset + seqDiff(seqAdd(seg.seq, payload.length), c.rcv.nxt);
    if (finOffset === c.rcv.buffer.nextOffset) {
      acceptFin(c, now);
    } else if (finOffset > c.rcv.buffer.nextOffset) {
      c.rcv.pendingFinOffset = finOffset;
      c.rcv.ackNow = true;
    }
  } else if (c.rcv.pendingFinOffset >= 0 && c.rcv.pendingFinOffset === c.rcv.buffer.nextOffset) {
    acceptFin(c, now);
  }
}

/** The FIN is in order (RFC 9293 §3.10.7.4 step 8): RCV.NXT passes it and the state moves on. */
function acceptFin(c: Tcb, now: Instant): void {
  c.rcv.finReceived = true;
  c.rcv.pendingFinOffset = -1;
  c.rcv.nxt = seqAdd(c.rcv.nxt, 1);
  if (c.config.delayedAckOfFin === true && c.state === TcpState.Established) {
    // Linux's tcp_fin: the peer is done, so leave quick-ACK mode and let the
    // delayed-ACK timer (or our own FIN, if the application closes first) carry the ACK.
    c.rcv.quickAcks = 0;
    scheduleAck(c, now, 0);
  } else {
    c.rcv.ackNow = true;
  }
  push(c, { type: 'peer-closed' });
  switch (c.state) {
    case TcpState.SynReceived:
    case TcpState.Established:
      setState(c, now, TcpState.CloseWait, 'rcv FIN');
      break;
    case TcpState.FinWait1:
      if (c.snd.finAcked) enterTimeWait(c, now, 'rcv FIN');
      else setState(c, now, TcpState.Closing, 'rcv FIN (simultaneous close)');
      break;
    case TcpState.FinWait2:
      c.timers.finWait2At = NEVER;
      enterTimeWait(c, now, 'rcv FIN');
      break;
    default:
      break;
  }
}

/** Remembers a duplicate range for a D-SACK block (RFC 2883 §4). */
export function noteDuplicate(c: Tcb, seqStart: SeqNum, length: number): void {
  if (!c.opt.sackOn || !c.config.dsack || length <= 0) return;
  const start =
    c.rcv.buffer.nextOffset + seqDiff(seqStart, c.rcv.nxt) + (c.rcv.finReceived ? 1 : 0);
  c.rcv.dsack = [start, start + length];
}

/** Acknowledge now, or within the delayed-ACK time (RFC 1122 §4.2.3.2, RFC 5681 §4.2). */
function scheduleAck(c: Tcb, now: Instant, bytes: number): void {
  c.rcv.bytesSinceAck += bytes;
  if (!c.config.delayedAck || c.rcv.quickAcks > 0) {
    if (c.rcv.quickAcks > 0) c.rcv.quickAcks--;
    c.rcv.ackNow = true;
    return;
  }
  // RFC 1122 §4.2.3.2 / RFC 5681 §4.2: ACK at least every second full-sized segment.
  if (c.rcv.bytesSinceAck >= 2 * c.rcv.mss) {
    c.rcv.ackNow = true;
    return;
  }
  if (!c.rcv.ackPending) {
    c.rcv.ackPending = true;
    c.timers.delayedAckAt = later(now, c.config.delayedAckTimeout);
  }
}

/** A challenge ACK (RFC 5961 §3-5), rate limited per connection (§7). */
export function challengeAck(c: Tcb, now: Instant): void {
  // RFC 5961 §7: rate-limit challenge ACKs (per connection, per second).
  if (elapsed(now, c.rcv.challengeWindowStart) >= 1_000_000) {
    c.rcv.challengeWindowStart = now;
    c.rcv.challengeCount = 0;
  }
  if (c.rcv.challengeCount >= c.config.challengeAckLimit) return;
  c.rcv.challengeCount++;
  c.counters.challengeAcksSent++;
  c.rcv.ackNow = true;
}

/** Bytes of window from RCV.NXT that we accept: up to the largest right edge advertised. */
export function acceptWindow(c: Tcb): number {
  return Math.max(seqDiff(c.rcv.advRight, c.rcv.nxt), 0);
}

/** The window the free buffer allows, capped at what the scale can express. */
export function currentReceiveWindow(c: Tcb): number {
  return Math.min(c.rcv.buffer.free, MAX_WINDOW_FIELD * 2 ** c.opt.rcvWscale);
}

/** The window field for an outgoing segment, moving the right edge per RFC 1122 receiver SWS avoidance. */
export function advertiseWindow(c: Tcb): number {
  const free = currentReceiveWindow(c);
  const candidate = seqAdd(c.rcv.nxt, free);
  const growth = seqDiff(candidate, c.rcv.advRight);
  // RFC 1122 §4.2.3.3: advance the right edge only by at least min(buffer/2, MSS).
  const threshold = Math.min(c.rcv.buffer.limit / 2, c.rcv.mss);
  const unit = 2 ** c.opt.rcvWscale;
  if (
    growth >= threshold ||
    (seqLe(c.rcv.advRight, c.rcv.nxt) && free >= threshold) ||
    // A window under one scale unit goes out as 0 and would never open if
    // the growth to a whole unit is below the SWS threshold (a buffer of a
    // few units): offer the unit rather than a zero window nobody will fill.
    // Only with a scale: unscaled, nothing is rounded away, and the clause
    // would reopen a closed window for a single free byte, which receiver
    // SWS avoidance forbids (RFC 9293 §3.8.6.2.2; Linux __tcp_select_window
    // keeps 0 while the free space is under an MSS).
    (c.opt.rcvWscale > 0 && seqDiff(c.rcv.advRight, c.rcv.nxt) < unit && free >= unit)
  ) {
    c.rcv.advRight = candidate;
  }
  const window = Math.max(seqDiff(c.rcv.advRight, c.rcv.nxt), 0);
  // Rounding down may make the right edge look shorter by less than one
  // scale unit; we keep accepting up to rcvAdvRight (RFC 7323 §2.4).
  const field = Math.min(Math.floor(window / 2 ** c.opt.rcvWscale), MAX_WINDOW_FIELD);
  c.rcv.lastWindowSent = field * 2 ** c.opt.rcvWscale;
  return field;
}

/** After the application reads: a window update when the window grew enough to matter (RFC 1122 §4.2.3.3). */
export function maybeWindowUpdate(c: Tcb, windowBefore: number): void {
  if (!isSynchronized(c) || c.rcv.finReceived) return;
  const now = currentReceiveWindow(c);
  // Send a window update when the window we could offer has grown enough to
  // matter: it was (nearly) closed, or it at least doubled.
  const threshold = Math.min(c.rcv.buffer.limit / 2, c.rcv.mss);
  if (
    now - c.rcv.lastWindowSent >= threshold &&
    (c.rcv.lastWindowSent < 2 * c.rcv.mss || now >= 2 * c.rcv.lastWindowSent)
  ) {
    c.rcv.ackNow = true;
  }
  void windowBefore;
}

/** The SACK blocks for an outgoing segment (RFC 2018 §4): a D-SACK first, once (RFC 2883), then the held ranges most recent first. */
export function sackBlocks(c: Tcb): SackBlock[] {
  // RFC 2018 §3: with timestamps there is room for three blocks, else four.
  const max = c.opt.timestampsOn ? 3 : 4;
  const blocks: SackBlock[] = [];
  const base = c.rcv.buffer.nextOffset;
  // Stream offsets map to sequence numbers from RCV.NXT, which counts the FIN once it is in.
  const finAdjust = c.rcv.finReceived ? -1 : 0;
  if (c.rcv.dsack !== null) {
    // RFC 2883 §4: the D-SACK block comes first, once.
    const [s, e] = c.rcv.dsack;
    blocks.push({
      left: seqAdd(c.rcv.nxt, s - base + finAdjust),
      right: seqAdd(c.rcv.nxt, e - base + finAdjust),
    });
    c.rcv.dsack = null;
  }
  if (c.rcv.buffer.outOfOrderBytes > 0) {
    for (const [s, e] of c.rcv.buffer.sackRanges(max - blocks.length)) {
      blocks.push({
        left: seqAdd(c.rcv.nxt, s - base + finAdjust),
        right: seqAdd(c.rcv.nxt, e - base + finAdjust),
      });
    }
  }
  return blocks;
}

/**
 * RFC 3168 §6.1.3 at the receiver: CWR from the sender ends our echo of
 * congestion; a CE mark starts (or restarts) it, with an immediate ACK the
 * first time (Linux tcp_ecn_check_ce enters quick-ack mode).
 */
function receiveEcn(c: Tcb, seg: TcpRepr): void {
  if ((seg.flags & TcpFlags.CWR) !== 0) c.rcv.ecnDemandCwr = false;
  if (c.rcv.arrivingEcn === ECN_CE) {
    c.counters.ceReceived++;
    if (!c.rcv.ecnDemandCwr) c.rcv.ackNow = true;
    c.rcv.ecnDemandCwr = true;
  }
}

/**
 * The receiver's RTT from the timestamp an arriving data segment echoes
 * (Linux tcp_rcv_rtt_measure_ts, smoothed with gain 1/8), for autotuning.
 */
function sampleReceiveRtt(c: Tcb, now: Instant, seg: TcpRepr): void {
  const ts = seg.options.timestamp;
  if (ts === null || ts.echo === 0) return;
  const ms = tsDiff(tsClock(c, now), ts.echo);
  if (ms < 0 || ms > 60_000) return;
  const sample = Math.max(ms, 1) * 1000;
  c.rcv.rtt = c.rcv.rtt === 0 ? sample : c.rcv.rtt + (sample - c.rcv.rtt) / 8;
}

/**
 * Receive-buffer autotuning (Linux tcp_rcv_space_adjust, in spirit): once
 * per receiver RTT, if the application drained more than in the last
 * measurement, let the buffer (and so the window) hold twice that plus 16
 * segments, more while the rate grows, up to maxReceiveBufferSize. The ring
 * grows only as data fills it, so memory follows use.
 */
export function adjustReceiveSpace(c: Tcb): void {
  const rtt = c.rcv.rtt > 0 ? c.rcv.rtt : c.rtt.srtt;
  if (rtt <= 0 || !isSynchronized(c)) return;
  const now = c.lastInputAt;
  if (c.rcv.spaceAt < 0) {
    // Linux tcp_init_buffer_space: the first measure is against 10 segments.
    c.rcv.space = 10 * c.rcv.mss;
    c.rcv.spaceAt = now;
    c.rcv.spaceCopied = 0;
    return;
  }
  if (now - c.rcv.spaceAt < rtt) return;
  const copied = c.rcv.copiedTotal - c.rcv.spaceCopied;
  if (copied > c.rcv.space) {
    let window = 2 * copied + 16 * c.rcv.mss;
    window += (2 * window * (copied - c.rcv.space)) / c.rcv.space;
    const limit = Math.min(Math.floor(window), c.config.maxReceiveBufferSize);
    if (limit > c.rcv.buffer.limit) c.rcv.buffer.setLimit(limit);
    c.rcv.space = copied;
  }
  c.rcv.spaceCopied = c.rcv.copiedTotal;
  c.rcv.spaceAt = now;
}
