/**
 * What each segment of a connection is for: handshake, data, duplicate ACK,
 * retransmission (fast, by timeout, or a tail loss probe), window update,
 * zero-window probe, keep-alive, FIN, RST ... with a sentence that says why.
 *
 * The analysis follows the rules Wireshark's TCP sequence analysis applies
 * (its expert info: retransmission, fast retransmission, spurious
 * retransmission, duplicate ACK, zero window probe, keep-alive, window update,
 * out-of-order), replayed in capture order with one record per direction of
 * what that direction sent last, so that the page and `tcpts ladder` name a
 * segment as a decoder does. Pure: it sees numbers, never bytes or a clock.
 */
import { TcpFlags } from '../wire/index.js';
import type { CapturedSegment, LadderPacket, Side } from './ladder-model.js';

/** The main role of a segment, one per segment. */
export const SegmentRole = {
  Handshake: 'handshake',
  Data: 'data',
  Ack: 'ack',
  DupAck: 'dup-ack',
  Retransmission: 'retransmission',
  FastRetransmission: 'fast-retransmission',
  SpuriousRetransmission: 'spurious-retransmission',
  ProbeRetransmission: 'tlp-probe',
  OutOfOrder: 'out-of-order',
  WindowUpdate: 'window-update',
  ZeroWindowProbe: 'zero-window-probe',
  KeepAlive: 'keep-alive',
  KeepAliveAck: 'keep-alive-ack',
  Fin: 'fin',
  Rst: 'rst',
  OutOfWindow: 'out-of-window',
} as const;
export type SegmentRole = (typeof SegmentRole)[keyof typeof SegmentRole];

/** What Wireshark's expert info would say about a segment, in its words. */
export const ExpertFlag = {
  Retransmission: 'retransmission',
  FastRetransmission: 'fast retransmission',
  SpuriousRetransmission: 'spurious retransmission',
  OutOfOrder: 'out-of-order',
  DupAck: 'dup ack',
  ZeroWindowProbe: 'zero window probe',
  ZeroWindow: 'zero window',
  KeepAlive: 'keep-alive',
  WindowUpdate: 'window update',
  PreviousSegmentNotCaptured: 'previous segment not captured',
} as const;
export type ExpertFlag = (typeof ExpertFlag)[keyof typeof ExpertFlag];

/** One segment as the analysis needs it. */
export interface RoleInput {
  from: Side;
  /** When it was seen, µs. */
  time: number;
  flags: number;
  seq: number;
  ack: number;
  /** The raw window field. */
  window: number;
  /** Payload bytes. */
  length: number;
  /** The window scale option's shift, on a SYN that carries one; else null. */
  windowScale: number | null;
  /** True when it carries SACK blocks. */
  sack: boolean;
}

/** The analysis of one segment. */
export interface SegmentAnalysis {
  role: SegmentRole;
  /** Also true: a pure ACK or a retransmission that carries SACK blocks. */
  sack: boolean;
  /** Wireshark's expert flags for it (several may hold: a fast retransmission is a retransmission). */
  expert: ExpertFlag[];
  /** Why it was sent, one or two sentences. */
  why: string;
}

/** Wireshark's window for "fast": the retransmission follows the dup ACK within 20 ms. */
const FAST_RETRANSMISSION_WINDOW_US = 20_000;
/** Wireshark's out-of-order threshold when the handshake gave no round trip. */
const OUT_OF_ORDER_DEFAULT_US = 3_000;
/**
 * Linux's smallest RTO (TCP_RTO_MIN, 200 ms): a retransmission of the tail
 * segment sooner than that, with no duplicate ACKs, is the tail loss probe
 * (RFC 8985 §7), whose timeout is about two round trips.
 */
const RTO_MIN_US = 200_000;

interface Direction {
  /** The next sequence number expected from this direction (after its highest segment); null before any. */
  nextSeq: number | null;
  nextSeqTime: number;
  lastAck: number | null;
  lastAckTime: number;
  /** The scaled window last advertised. */
  window: number | null;
  dupAcks: number;
  shift: number;
  /** The flags of the last SYN this direction sent, or null. */
  synFlags: number | null;
  /** Whether the last segment was a keep-alive (its answer is a keep-alive ACK). */
  lastWasKeepAlive: boolean;
  /** When each sequence number was first sent (start of a segment). */
  firstSent: Map<number, number>;
}

function direction(): Direction {
  return {
    nextSeq: null,
    nextSeqTime: 0,
    lastAck: null,
    lastAckTime: 0,
    window: null,
    dupAcks: 0,
    shift: 0,
    synFlags: null,
    lastWasKeepAlive: false,
    firstSent: new Map(),
  };
}

/** a < b modulo 2^32 (RFC 9293 §3.4). */
function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

const CONTROL = TcpFlags.SYN | TcpFlags.FIN | TcpFlags.RST;

/**
 * Names the role of every segment of one connection, in capture order. The
 * segments must all belong to one connection and be in the order they were
 * seen.
 */
export function analyseSegments(inputs: readonly RoleInput[]): SegmentAnalysis[] {
  const dirs: Record<Side, Direction> = { client: direction(), server: direction() };
  let synTime: number | null = null;
  let firstRtt: number | null = null;
  let handshakeAck: number | null = null;
  const out: SegmentAnalysis[] = [];
  for (const s of inputs) {
    const fwd = dirs[s.from];
    const rev = dirs[s.from === 'client' ? 'server' : 'client'];
    const syn = (s.flags & TcpFlags.SYN) !== 0;
    const fin = (s.flags & TcpFlags.FIN) !== 0;
    const rst = (s.flags & TcpFlags.RST) !== 0;
    const hasAck = (s.flags & TcpFlags.ACK) !== 0;
    if (syn && s.windowScale !== null) fwd.shift = Math.min(s.windowScale, 14);
    // RFC 7323 §2.2: the window of a SYN is never scaled.
    const window = syn ? s.window : s.window * 2 ** fwd.shift;
    const expert: ExpertFlag[] = [];
    const nextEnd = (s.seq + s.length + (syn ? 1 : 0) + (fin ? 1 : 0)) >>> 0;
    let keepAlive = false;
    let probe = false;
    let dupAck = false;

    // Wireshark's checks, in its order.
    if (s.length === 1 && fwd.nextSeq !== null && s.seq === fwd.nextSeq && rev.window === 0) {
      probe = true;
      expert.push(ExpertFlag.ZeroWindowProbe);
    }
    if (!probe) {
      if (s.window === 0 && (s.flags & CONTROL) === 0) expert.push(ExpertFlag.ZeroWindow);
      if (fwd.nextSeq !== null && seqLt(fwd.nextSeq, s.seq) && !rst)
        expert.push(ExpertFlag.PreviousSegmentNotCaptured);
      if (
        s.length <= 1 &&
        (s.flags & CONTROL) === 0 &&
        fwd.nextSeq !== null &&
        (fwd.nextSeq - 1) >>> 0 === s.seq
      ) {
        keepAlive = true;
        expert.push(ExpertFlag.KeepAlive);
      }
      const sameAck =
        hasAck && fwd.lastAck !== null && s.ack === fwd.lastAck && s.seq === fwd.nextSeq;
      if (
        !keepAlive &&
        s.length === 0 &&
        (s.flags & CONTROL) === 0 &&
        sameAck &&
        window !== 0 &&
        fwd.window !== null &&
        window !== fwd.window
      ) {
        expert.push(ExpertFlag.WindowUpdate);
      } else if (
        !keepAlive &&
        s.length === 0 &&
        (s.flags & CONTROL) === 0 &&
        sameAck &&
        window !== 0 &&
        window === fwd.window &&
        !rev.lastWasKeepAlive
      ) {
        dupAck = true;
        fwd.dupAcks++;
        expert.push(ExpertFlag.DupAck);
      }
    }
    if (!dupAck) fwd.dupAcks = 0;

    // In a simultaneous open, the SYN,ACK repeats the number of the side's
    // own SYN but is the next step of the handshake (RFC 9293 §3.5, Figure 8).
    const nextHandshakeStep = syn && fwd.synFlags !== null && fwd.synFlags !== s.flags;
    if (syn) fwd.synFlags = s.flags;
    let retransmitKind: SegmentRole | null = null;
    if (
      !nextHandshakeStep &&
      (s.length > 0 || syn || fin) &&
      fwd.nextSeq !== null &&
      seqLt(s.seq, fwd.nextSeq) &&
      !keepAlive
    ) {
      const sinceDupAck = s.time - rev.lastAckTime;
      const oooThreshold = firstRtt ?? OUT_OF_ORDER_DEFAULT_US;
      if (
        rev.dupAcks >= 2 &&
        rev.lastAck === s.seq &&
        sinceDupAck < FAST_RETRANSMISSION_WINDOW_US
      ) {
        retransmitKind = SegmentRole.FastRetransmission;
        expert.push(ExpertFlag.FastRetransmission, ExpertFlag.Retransmission);
      } else if (s.time - fwd.nextSeqTime < oooThreshold && fwd.nextSeq !== nextEnd) {
        retransmitKind = SegmentRole.OutOfOrder;
        expert.push(ExpertFlag.OutOfOrder);
      } else if (s.length > 0 && rev.lastAck !== null && seqLe(nextEnd, rev.lastAck)) {
        retransmitKind = SegmentRole.SpuriousRetransmission;
        expert.push(ExpertFlag.SpuriousRetransmission, ExpertFlag.Retransmission);
      } else {
        const first = fwd.firstSent.get(s.seq);
        const tail = nextEnd === fwd.nextSeq;
        retransmitKind =
          tail && rev.dupAcks === 0 && first !== undefined && s.time - first < RTO_MIN_US
            ? SegmentRole.ProbeRetransmission
            : SegmentRole.Retransmission;
        expert.push(ExpertFlag.Retransmission);
      }
    }

    // Out of the receiver's window: it starts beyond the right edge the
    // other side last advertised (RFC 9293 §3.10.7.4's acceptability test).
    const beyondWindow =
      !syn &&
      !rst &&
      s.length > 0 &&
      rev.lastAck !== null &&
      rev.window !== null &&
      rev.window > 0 &&
      !seqLt(s.seq, (rev.lastAck + rev.window) >>> 0);

    let role: SegmentRole;
    if (rst) role = SegmentRole.Rst;
    else if (syn) role = retransmitKind ?? SegmentRole.Handshake;
    else if (probe) role = SegmentRole.ZeroWindowProbe;
    else if (keepAlive) role = SegmentRole.KeepAlive;
    else if (retransmitKind !== null) role = retransmitKind;
    else if (beyondWindow) role = SegmentRole.OutOfWindow;
    else if (fin) role = SegmentRole.Fin;
    else if (s.length > 0) role = SegmentRole.Data;
    else if (dupAck) role = SegmentRole.DupAck;
    else if (rev.lastWasKeepAlive && s.length === 0) role = SegmentRole.KeepAliveAck;
    else if (expert.includes(ExpertFlag.WindowUpdate)) role = SegmentRole.WindowUpdate;
    else if (handshakeAck === null && hasAck && s.from === 'client' && synTime !== null) {
      role = SegmentRole.Handshake;
      handshakeAck = s.ack;
    } else role = SegmentRole.Ack;

    // The first round trip: SYN to the ACK that completes the handshake.
    if (syn && !hasAck && synTime === null) synTime = s.time;
    if (role === SegmentRole.Handshake && !syn && synTime !== null && firstRtt === null)
      firstRtt = s.time - synTime;

    out.push({
      role,
      sack: s.sack,
      expert,
      why: explain(role, s, rev.dupAcks, fwd.dupAcks),
    });

    // Remember what this direction has sent.
    if (!probe && !keepAlive && (fwd.nextSeq === null || seqLt(fwd.nextSeq, nextEnd))) {
      fwd.nextSeq = nextEnd;
      fwd.nextSeqTime = s.time;
    }
    if ((s.length > 0 || syn || fin) && !fwd.firstSent.has(s.seq)) fwd.firstSent.set(s.seq, s.time);
    fwd.window = window;
    if (hasAck && s.ack !== fwd.lastAck) {
      fwd.lastAck = s.ack;
      fwd.lastAckTime = s.time;
    } else if (dupAck) fwd.lastAckTime = s.time;
    fwd.lastWasKeepAlive = keepAlive;
  }
  return out;
}

function explain(role: SegmentRole, s: RoleInput, peerDupAcks: number, dupAcks: number): string {
  const syn = (s.flags & TcpFlags.SYN) !== 0;
  const hasAck = (s.flags & TcpFlags.ACK) !== 0;
  switch (role) {
    case SegmentRole.Handshake:
      if (syn && !hasAck)
        return 'Opens the connection: the SYN carries the sender’s initial sequence number and its options (MSS, SACK permitted, timestamps, window scale).';
      if (syn)
        return 'Answers the SYN with a SYN of its own and acknowledges it (SYN counts as one byte): two of the three messages in one.';
      return 'The third message: it acknowledges the server’s SYN. A third message is needed so that the server knows its SYN arrived and that the SYN it answered is current, not an old duplicate (RFC 9293 §3.5).';
    case SegmentRole.Data:
      return `Carries ${s.length} byte(s) of data${hasAck ? ' and acknowledges what arrived from the other side' : ''}.`;
    case SegmentRole.Ack:
      return 'Acknowledges data or a FIN: the cumulative ACK says every byte before it arrived.';
    case SegmentRole.DupAck:
      return `Duplicate ACK #${dupAcks}: the same ACK again, sent because a segment arrived out of order — a hole before it.${s.sack ? ' Its SACK blocks say which bytes beyond the hole did arrive (RFC 2018).' : ''} Three of them start fast retransmit (RFC 5681 §3.2).`;
    case SegmentRole.FastRetransmission:
      return `Fast retransmission: ${peerDupAcks} duplicate ACKs said this segment was missing, so it is sent again without waiting for the retransmission timer (RFC 5681 §3.2, RFC 6675).`;
    case SegmentRole.Retransmission:
      return 'Retransmission by timeout: nothing acknowledged this data before the retransmission timer (RTO, RFC 6298) expired, so it is sent again and the timer doubles.';
    case SegmentRole.ProbeRetransmission:
      return 'Tail loss probe: the last segment sent again about two round trips after it left, before the RTO, so that a lost tail draws SACKs and fast recovery instead of a timeout (RFC 8985 §7).';
    case SegmentRole.SpuriousRetransmission:
      return 'Spurious retransmission: the other side had already acknowledged these bytes; the sender resent them before it saw that ACK.';
    case SegmentRole.OutOfOrder:
      return 'Out of order, as Wireshark judges it: these bytes come after later ones, less than one handshake round trip after them, too soon to tell a quick retransmission (a tail loss probe, say) from the network reordering segments.';
    case SegmentRole.WindowUpdate:
      return 'Window update: nothing new, only a different receive window, so the sender knows it may send more.';
    case SegmentRole.ZeroWindowProbe:
      return 'Zero-window probe: the receiver’s window is 0, so the sender sends one byte now and then to learn when it opens (RFC 9293 §3.8.6.1).';
    case SegmentRole.KeepAlive:
      return 'Keep-alive: after a long silence, one old sequence number sent again to check that the peer is still there; it must answer with an ACK.';
    case SegmentRole.KeepAliveAck:
      return 'Answers a keep-alive: the peer is still there.';
    case SegmentRole.Fin:
      return 'FIN: this side has no more data to send. The other direction stays open, since the other side may still have data; that is why closing takes four messages.';
    case SegmentRole.Rst:
      return 'RST: the connection is aborted at once (or a segment arrived for a connection that does not exist); no reply is sent to a RST.';
    case SegmentRole.OutOfWindow:
      return 'Out of window: it starts beyond the right edge of the window the receiver last advertised, so the receiver cannot accept it.';
  }
}

/** The flag bits from a flag list as the ladder writes it ("SYN,ACK"). */
export function flagBits(names: string): number {
  let bits = 0;
  for (const name of names.split(',')) {
    const bit = (TcpFlags as Record<string, number>)[name];
    if (bit !== undefined) bits |= bit;
  }
  return bits;
}

/**
 * A diagram's packet as {@link analyseSegments} takes it, timed as a capture
 * at `vantage` would see it: when it left that side, or arrived there.
 */
export function roleInputOfPacket(p: LadderPacket, vantage: Side = 'client'): RoleInput {
  const shift = /wscale (\d+)/.exec(p.options);
  const here = p.from === vantage ? p.sentAt : p.arrivedAt;
  return {
    from: p.from,
    time: here ?? p.sentAt ?? p.arrivedAt ?? 0,
    flags: flagBits(p.flags),
    seq: p.seq,
    ack: p.ack,
    window: p.window,
    length: p.length,
    windowScale: shift === null ? null : Number(shift[1]),
    sack: /\bsack \d/.test(p.options),
  };
}

/** A captured segment as {@link analyseSegments} takes it. */
export function roleInputOfSegment(s: CapturedSegment, from: Side): RoleInput {
  let windowScale: number | null = null;
  let sack = false;
  for (const o of s.options) {
    if (o.kind === 'wscale') windowScale = o.shift;
    if (o.kind === 'sack') sack = true;
  }
  return {
    from,
    time: s.time,
    flags: s.flags,
    seq: s.seq,
    ack: s.ack,
    window: s.window,
    length: s.length,
    windowScale,
    sack,
  };
}
