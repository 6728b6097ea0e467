/**
 * The passive-open side of a listener: its SYN queue and accept queue, and
 * SYN cookies for when the SYN queue is full.
 *
 * - RFC 9293 §3.10.7.2 (LISTEN): a SYN makes a half-open connection; it
 *   leaves the SYN queue when established (into the accept queue, until the
 *   application accepts it) or when it dies first.
 * - RFC 4987 §3.1 and §3.6: both queues are bounded, so a SYN flood cannot
 *   take the memory established connections need; past the SYN queue's bound
 *   a SYN is answered with a cookie and no state is kept until the final ACK.
 *
 * The cookie encoding is our own (the idea is Bernstein's, as in Linux's
 * syncookies): the ISS carries a 5-bit time counter (64 s periods), a 3-bit
 * MSS index and 24 bits of a keyed hash of the 4-tuple, the counter and the
 * peer's ISN. Connections opened from a cookie have no window scaling, SACK
 * or timestamps, since nothing remembered them.
 */
import { seqAdd, type BufferPool, type Instant, type SeqNum } from '../base/index.js';
import { TcpFlags, noTcpOptions, type TcpRepr } from '../wire/index.js';
import type { TcpConfig } from './config.js';
import { Connection } from './connection.js';
import type { IsnGenerator } from './isn.js';

/** What a listener's queues need to know of a child connection's handle. */
export interface ListenerChild {
  /** Counted in its listener's SYN queue (half-open); the queues keep it. */
  inSynQueue: boolean;
}

/** A listener's SYN queue (a count) and accept queue (the established children, oldest first). */
export class ListenQueues<C extends ListenerChild> {
  /** Most established connections waiting to be accepted (listen's backlog). */
  backlog: number;
  /** Connections established and not yet accepted. */
  readonly acceptQueue: C[] = [];
  /** Half-open connections (SYN-RECEIVED) belonging to this listener. */
  synQueueLength = 0;
  /** Set once the listener stops listening; children that complete later are reset. */
  closed = false;

  constructor(backlog: number) {
    this.backlog = backlog;
  }

  /** No room for another established connection. */
  get acceptQueueFull(): boolean {
    return this.acceptQueue.length >= this.backlog;
  }

  /**
   * No room for another half-open one: the bound is the backlog, at least 8
   * and at most `maxSynBacklog` (Linux tcp_max_syn_backlog).
   */
  synQueueFull(maxSynBacklog: number): boolean {
    return this.synQueueLength >= Math.min(maxSynBacklog, Math.max(this.backlog, 8));
  }

  /** A SYN made a child: it waits in the SYN queue. */
  addHalfOpen(child: C): void {
    this.synQueueLength++;
    child.inSynQueue = true;
  }

  /**
   * The child is established: it moves to the accept queue. False when the
   * listener has closed meanwhile: then nobody will accept it, and the caller
   * resets it.
   */
  established(child: C): boolean {
    this.leaveSynQueue(child);
    if (this.closed) return false;
    this.acceptQueue.push(child);
    return true;
  }

  /** The child closed before it was accepted: it leaves whichever queue holds it, once. */
  childClosed(child: C): void {
    this.leaveSynQueue(child);
    const i = this.acceptQueue.indexOf(child);
    if (i >= 0) this.acceptQueue.splice(i, 1);
  }

  /**
   * Counted by the child's own flag, not by the connection's transitions
   * (recorded only with config.recordTransitions): a child reset after it was
   * established, or on a closed listener, has left the SYN queue already.
   */
  private leaveSynQueue(child: C): void {
    if (!child.inSynQueue) return;
    child.inSynQueue = false;
    this.synQueueLength--;
  }
}

/** SYN cookies are valid for two of these periods (64 to 128 s). */
const SYN_COOKIE_PERIOD = 64_000_000;
/** MSS values a cookie can encode in 3 bits (common path MTUs; as Linux's msstab idea). */
const SYN_COOKIE_MSS = [536, 1220, 1360, 1400, 1440, 1460, 8960, 65495] as const;
const EMPTY = new Uint8Array(0);

/** The SYN cookies of one host (one per stack: its ISN generator holds the key). */
export class SynCookies {
  /** SYN-ACKs sent with a cookie. */
  sent = 0;
  /** Connections rebuilt from a valid cookie. */
  accepted = 0;
  private readonly isn: IsnGenerator;
  /** The SYN-ACK window of cookie connections, by MSS (see learnSynAck). */
  private readonly windows = new Map<number, number>();

  constructor(isn: IsnGenerator) {
    this.isn = isn;
  }

  /**
   * The SYN-ACK window a cookie connection of MSS `mss` advertises, or -1
   * before {@link SynCookies.learnSynAck} has seen one: the same for every
   * SYN-ACK of that MSS, so it is worked out once, not per SYN.
   */
  synAckWindow(mss: number): number {
    return this.windows.get(mss) ?? -1;
  }

  /**
   * Works out, from a real Connection in LISTEN given a SYN, what a cookie
   * connection of `config` puts in its SYN-ACK (the window; the MSS is the
   * config's), so that {@link SynCookies.answer} can then build SYN-ACKs
   * without a Connection. Returns the window.
   */
  learnSynAck(now: Instant, config: TcpConfig, buffers: BufferPool): number {
    const conn = Connection.listen({ iss: 0 as SeqNum, config, buffers });
    conn.handleSegment(now, {
      srcPort: 1,
      dstPort: 1,
      seq: 0 as SeqNum,
      ack: 0 as SeqNum,
      flags: TcpFlags.SYN,
      window: 65535,
      urgent: 0,
      options: { ...noTcpOptions(), mss: SYN_COOKIE_MSS[0] },
      payload: EMPTY,
    });
    const synAck = conn.pollTransmit(now);
    conn.abort(now);
    while (conn.pollTransmit(now) !== null) {
      // The RST of the abort: this connection never met a peer.
    }
    const window = synAck !== null ? synAck.window : 0;
    this.windows.set(config.mss, window);
    return window;
  }

  /**
   * Answers a SYN (the peer's sequence number `peerSeq` and MSS option
   * `peerMss`, 0 when absent) with a cookie, writing the SYN-ACK into `out`
   * (ports are the caller's to set). No Connection and no allocation: under a
   * SYN flood this runs for every SYN (RFC 4987 §3.6), so it must cost little
   * more than the keyed hash. The SYN-ACK carries only our MSS (`mss`) and
   * `window` (see {@link SynCookies.synAckWindow}); without ECN, as the
   * connection {@link SynCookies.open} rebuilds has none.
   */
  answer(
    now: Instant,
    remote: Uint8Array,
    remotePort: number,
    local: Uint8Array,
    localPort: number,
    peerSeq: SeqNum,
    peerMss: number,
    mss: number,
    window: number,
    out: TcpRepr,
  ): void {
    const count = Math.floor(now / SYN_COOKIE_PERIOD);
    let mssIndex = 0;
    // RFC 9293 §3.7.1: without the option the peer's MSS is 536.
    const peer = peerMss > 0 ? peerMss : 536;
    for (let i = 0; i < SYN_COOKIE_MSS.length; i++) if (SYN_COOKIE_MSS[i]! <= peer) mssIndex = i;
    out.seq = this.cookie(remote, remotePort, local, localPort, count, peerSeq, mssIndex);
    out.ack = seqAdd(peerSeq, 1);
    out.flags = TcpFlags.SYN | TcpFlags.ACK;
    out.window = window;
    out.urgent = 0;
    out.payload = EMPTY;
    const options = out.options;
    options.mss = mss;
    options.windowScale = -1;
    options.sackPermitted = false;
    options.timestamp = null;
    if (options.sackBlocks.length > 0) options.sackBlocks.length = 0;
    this.sent++;
  }

  /** Whether the ACK `seg` acknowledges a cookie of ours from this period or the one before. */
  check(
    now: Instant,
    remote: Uint8Array,
    remotePort: number,
    local: Uint8Array,
    localPort: number,
    seg: TcpRepr,
  ): boolean {
    const cookie = (seg.ack - 1) >>> 0;
    const irs = seqAdd(seg.seq, -1);
    const count = Math.floor(now / SYN_COOKIE_PERIOD);
    const mssIndex = (cookie >>> 24) & 0x7;
    // This period's cookies and the last one's.
    for (let c = count; c >= count - 1 && c >= 0; c--) {
      if (this.cookie(remote, remotePort, local, localPort, c, irs, mssIndex) === cookie)
        return true;
    }
    return false;
  }

  /**
   * The connection a valid cookie (see {@link SynCookies.check}) stands for:
   * its SYN replayed (the SYN-ACK went out as the cookie already), then the
   * ACK `seg` given to it.
   */
  open(now: Instant, seg: TcpRepr, config: TcpConfig, buffers: BufferPool): Connection {
    const cookie = (seg.ack - 1) >>> 0;
    const mssIndex = (cookie >>> 24) & 0x7;
    const conn = Connection.listen({ iss: cookie as SeqNum, config, buffers });
    const syn: TcpRepr = {
      ...seg,
      seq: seqAdd(seg.seq, -1),
      ack: 0 as SeqNum,
      flags: TcpFlags.SYN,
      payload: EMPTY,
      options: { ...noTcpOptions(), mss: SYN_COOKIE_MSS[mssIndex]! },
    };
    conn.handleSegment(now, syn);
    while (conn.pollTransmit(now) !== null) {
      // The SYN,ACK already went out as the cookie; this rebuilds its state only.
    }
    conn.handleSegment(now, seg);
    this.accepted++;
    return conn;
  }

  private cookie(
    remote: Uint8Array,
    remotePort: number,
    local: Uint8Array,
    localPort: number,
    count: number,
    irs: SeqNum,
    mssIndex: number,
  ): SeqNum {
    const hash = this.isn.hash(
      local,
      localPort,
      remote,
      remotePort,
      (Math.imul(count, 0x9e3779b1) ^ irs) >>> 0,
    );
    return ((((count & 0x1f) << 27) | (mssIndex << 24) | (hash & 0xffffff)) >>> 0) as SeqNum;
  }
}
