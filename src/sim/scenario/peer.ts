/**
 * Applications: a peer is one end of a TCP connection running a script
 * (send, receive, shut down, close, wait for the FIN, sleep, meet at a
 * barrier). It reads everything as it arrives (or paced), checks each byte
 * against its partner's stream (the data invariant), and aborts on cue.
 */
import { later, type Duration, type Instant } from '../../base/index.js';
import type { TcpSocket } from '../../stack/index.js';
import { TcpState, type TcpError, type TcpEvent } from '../../tcp/index.js';
import type { SimHost } from '../network.js';
import type { Pacing } from './plan.js';
import type { Run } from './run.js';
import { EXPECT_SCRATCH, READ_SCRATCH, WRITE_SCRATCH, fillStream } from './streams.js';

/**
 * How a connection end may finish: cleanly; `aborted` (it called abort());
 * `reset` (its peer did); `any` failure a client of a listener that stopped
 * accepting may meet (refused, reset, timed out) or a clean close; `stray`,
 * an accepted connection nobody opened (see {@link TcpWorkload.stray}),
 * which may end in any way as long as it ends.
 */
export type Expect = 'clean' | 'aborted' | 'reset' | 'any' | 'stray';

/** Holds the peers that arrive until `size` have, then lets them all go in the same instant. */
export class Barrier {
  readonly size: number;
  readonly arrived: Peer[] = [];
  released = false;

  constructor(size: number) {
    this.size = size;
  }

  arrive(peer: Peer, now: Instant): void {
    this.arrived.push(peer);
    if (this.arrived.length < this.size) return;
    // Everyone acts in the same instant: that is what makes a close simultaneous.
    this.released = true;
    for (const p of this.arrived) if (p !== peer) p.pump(now);
  }
}

/** One step of a peer's script; byte counts add up over the script. */
export type Step =
  | { op: 'send'; bytes: number }
  | { op: 'recv'; bytes: number }
  | { op: 'shutdown' }
  | { op: 'close' }
  | { op: 'waitPeerClose' }
  | { op: 'sleep'; duration: number }
  | { op: 'barrier'; barrier: Barrier };

/** The bytes a script sends (`send`) or expects to read (`recv`) in all. */
export function sumOf(steps: Step[], op: 'send' | 'recv'): number {
  let total = 0;
  for (const s of steps) if (s.op === op) total += s.bytes;
  return total;
}

/**
 * One end of a TCP connection as an application: it reads everything as it
 * arrives (or paced), checks every byte against the peer's stream, and runs
 * its script (send, wait to receive, shut down, close, wait for the FIN).
 */
export class Peer {
  readonly label: string;
  readonly run: Run;
  readonly host: SimHost;
  readonly socket: TcpSocket;
  readonly sendKey: number;
  readonly sendLength: number;
  readonly recvKey: number;
  readonly recvLength: number;
  readonly script: Step[];
  readonly pacing: Pacing | null;
  expect: Expect;
  pc = 0;
  private entered = false;
  /** A sleep step's timer has fired. */
  private awake = false;
  private sendTarget = 0;
  private recvTarget = 0;
  written = 0;
  received = 0;
  started = false;
  connectedSeen = false;
  peerClosedSeen = false;
  /** Bytes the stream holds in all, fixed when the FIN arrived (received + readable then). */
  finalLength = -1;
  closed = false;
  closeError: TcpError | null = null;
  /** When this end was made (its connect, or its accept); when it closed (-1 while open). */
  readonly createdAt: Instant;
  closedAt = -1;
  /**
   * Called when this end closes with an error before it ever connected; true
   * when the application will connect again (see TcpWorkload.retryConnect):
   * this end is then superseded by a new one and its own hooks do not run.
   */
  onConnectFailed: ((peer: Peer, now: Instant) => boolean) | null = null;
  /** A new attempt is scheduled to replace this end: it does not count as finished yet. */
  retrying = false;
  /** The number of the attempt this end is: 0 for the first connect. */
  attempt = 0;
  /** The end of the next attempt, once the application connected again. */
  supersededBy: Peer | null = null;
  /** The transition into CLOSED: the state it left and why (null while open). */
  closedBy: { from: TcpState; cause: string } | null = null;
  aborted = false;
  private dataFailed = false;
  private finishedNotified = false;
  /** Abort when this peer has read this many bytes (and not all): -1 for never. */
  abortAfterRecv = -1;
  /** Who aborts when the threshold is crossed (this peer or its partner). */
  abortTarget: Peer | null = null;
  abortVictim: Peer | null = null;
  onFinished: ((peer: Peer, now: Instant) => void) | null = null;
  /** Called once the connection is CLOSED. */
  onClosed: ((peer: Peer, now: Instant) => void) | null = null;

  constructor(
    run: Run,
    label: string,
    host: SimHost,
    socket: TcpSocket,
    stream: { sendKey: number; recvKey: number },
    script: Step[],
    options: { expect?: Expect; pacing?: Pacing | null; recvLength?: number } = {},
  ) {
    this.run = run;
    this.label = label;
    this.host = host;
    this.socket = socket;
    this.sendKey = stream.sendKey;
    this.recvKey = stream.recvKey;
    this.script = script;
    this.sendLength = sumOf(script, 'send');
    this.recvLength = options.recvLength ?? sumOf(script, 'recv');
    this.expect = options.expect ?? 'clean';
    this.pacing = options.pacing ?? null;
    this.createdAt = run.net.now;
    run.peers.push(this);
    run.appOf(host).sockets.set(socket, this);
  }

  get finished(): boolean {
    return (this.closed && !this.retrying) || this.pc >= this.script.length;
  }

  /** Starts the script: on `connected` for an active open, at accept for a passive one. */
  start(now: Instant): void {
    if (this.started) return;
    this.started = true;
    if (this.pacing !== null)
      this.run.net.schedule(later(now, this.pacing.interval as Duration), this.tick);
    this.pump(now);
  }

  onTcpEvent(ev: TcpEvent, now: Instant): void {
    if (this.closed) {
      this.run.fail('events', `${this.label}: '${ev.type}' event after 'closed'`);
      return;
    }
    switch (ev.type) {
      case 'connected':
        if (this.connectedSeen) this.run.fail('events', `${this.label}: a second 'connected'`);
        this.connectedSeen = true;
        this.run.log(now, `${this.label} connected`);
        this.start(now);
        return;
      case 'peer-closed':
        if (this.peerClosedSeen) this.run.fail('events', `${this.label}: a second 'peer-closed'`);
        this.peerClosedSeen = true;
        this.finalLength = this.received + this.socket.readableBytes;
        break;
      case 'closed':
        this.closed = true;
        this.closeError = ev.error;
        this.closedAt = now;
        this.run.log(now, `${this.label} closed (${ev.error ?? 'ok'})`);
        if (
          ev.error !== null &&
          !this.connectedSeen &&
          this.onConnectFailed !== null &&
          this.onConnectFailed(this, now)
        )
          return;
        if (this.onClosed !== null) this.onClosed(this, now);
        // An end that never connected never started: its workload still learns it is over.
        this.pump(now);
        this.notifyIfFinished(now);
        return;
      case 'state':
        if (ev.transition.to === TcpState.Closed)
          this.closedBy = { from: ev.transition.from, cause: ev.transition.cause };
        if (this.run.tracing)
          this.run.log(
            now,
            `${this.label} ${ev.transition.from} -> ${ev.transition.to} (${ev.transition.cause})`,
          );
        return;
      case 'readable':
      case 'writable':
        break;
    }
    this.pump(now);
  }

  /** Reads, checks the abort trigger, writes and advances the script as far as it goes. */
  pump(now: Instant): void {
    if (!this.started) return;
    for (let guard = 0; guard < 10_000; guard++) {
      if (this.pacing === null) this.readAvailable(Number.POSITIVE_INFINITY, now);
      if (this.aborted) break;
      this.writeSome();
      if (!this.advance(now)) break;
    }
    this.notifyIfFinished(now);
  }

  /** A paced reader's timer. */
  private readonly tick = (now: Instant): void => {
    const pacing = this.pacing!;
    this.readAvailable(pacing.bytes, now);
    this.pump(now);
    const drained = this.socket.readableBytes === 0;
    if ((this.closed || this.received >= this.recvLength) && drained) return;
    this.run.net.schedule(later(now, pacing.interval as Duration), this.tick);
  };

  private readAvailable(limit: number, now: Instant): void {
    let total = 0;
    while (total < limit) {
      const want = Math.min(READ_SCRATCH.length, limit - total);
      const n = this.socket.read(READ_SCRATCH.subarray(0, want));
      if (n <= 0) break;
      this.verify(READ_SCRATCH, n);
      total += n;
      this.maybeAbort(now);
    }
  }

  private verify(buf: Uint8Array, n: number): void {
    if (!this.dataFailed) {
      if (this.received + n > this.recvLength) {
        this.dataFailed = true;
        this.run.fail(
          'data',
          `${this.label}: read ${this.received + n} bytes, more than the ${this.recvLength} sent`,
        );
      } else {
        fillStream(this.recvKey, this.received, EXPECT_SCRATCH, n);
        for (let i = 0; i < n; i++) {
          if (buf[i] !== EXPECT_SCRATCH[i]) {
            this.dataFailed = true;
            this.run.fail(
              'data',
              `${this.label}: byte ${this.received + i} of the stream is ${buf[i]}, ` +
                `expected ${EXPECT_SCRATCH[i]} (out of order, duplicated or corrupted)`,
            );
            break;
          }
        }
      }
    }
    this.received += n;
  }

  /** Abort once the bytes read cross the threshold, while the stream is still incomplete. */
  private maybeAbort(now: Instant): void {
    if (this.abortAfterRecv < 0 || this.abortTarget === null) return;
    if (this.received < this.abortAfterRecv || this.received >= this.recvLength) return;
    const target = this.abortTarget;
    const victim = this.abortVictim!;
    this.abortAfterRecv = -1;
    if (target.closed) return;
    target.aborted = true;
    target.expect = 'aborted';
    victim.expect = 'reset';
    this.run.log(now, `${target.label} aborts after ${this.received} bytes read by the receiver`);
    target.socket.abort(now);
  }

  private writeSome(): void {
    while (this.written < this.sendTarget) {
      // Offer one byte more than fits: a write that falls short is what
      // arms the `writable` event for when acknowledgements free space.
      const room = this.socket.writableBytes;
      const n = Math.min(room + 1, this.sendTarget - this.written, WRITE_SCRATCH.length);
      const state = this.socket.state;
      // write() throws outside these states (API misuse); a reset connection just stops.
      if (state !== TcpState.Established && state !== TcpState.CloseWait) return;
      fillStream(this.sendKey, this.written, WRITE_SCRATCH, n);
      const taken = this.socket.write(WRITE_SCRATCH.subarray(0, n));
      this.written += taken;
      if (taken < n) return;
    }
  }

  /** Enters or completes the current step; true if a step completed. */
  private advance(now: Instant): boolean {
    if (this.pc >= this.script.length) return false;
    const step = this.script[this.pc]!;
    if (!this.entered) {
      this.entered = true;
      switch (step.op) {
        case 'send':
          this.sendTarget += step.bytes;
          this.writeSome();
          break;
        case 'recv':
          this.recvTarget += step.bytes;
          break;
        case 'shutdown':
          this.socket.shutdown(now);
          break;
        case 'close':
          this.socket.close(now);
          break;
        case 'barrier':
          step.barrier.arrive(this, now);
          break;
        case 'sleep':
          this.awake = step.duration === 0;
          if (!this.awake)
            this.run.net.schedule(later(now, step.duration as Duration), (at) => {
              this.awake = true;
              this.pump(at);
            });
          break;
        case 'waitPeerClose':
          break;
      }
    }
    let complete: boolean;
    switch (step.op) {
      case 'send':
        complete = this.written >= this.sendTarget;
        break;
      case 'recv':
        complete = this.received >= this.recvTarget;
        break;
      case 'waitPeerClose':
        // The property, not the event: a FIN may come before the listener hands the socket over.
        complete = this.socket.conn.peerClosed;
        break;
      case 'barrier':
        complete = step.barrier.released;
        break;
      case 'sleep':
        complete = this.awake;
        break;
      case 'shutdown':
      case 'close':
        complete = true;
        break;
    }
    if (!complete) return false;
    this.pc++;
    this.entered = false;
    return true;
  }

  private notifyIfFinished(now: Instant): void {
    if (this.finishedNotified || !this.finished) return;
    this.finishedNotified = true;
    if (this.onFinished !== null) this.onFinished(this, now);
  }

  /**
   * This connection may have been made from a SYN cookie: its listener's
   * host sent cookies, and it negotiated none of the options a cookie
   * cannot carry (timestamps, SACK, window scaling).
   */
  cookieSuspect(): boolean {
    if (this.run.hosts.get('b')!.stack.stats().synCookiesSent === 0) return false;
    const s = this.socket.stats();
    return (
      !s.timestamps && !s.sackPermitted && s.sendWindowScale === 0 && s.receiveWindowScale === 0
    );
  }
}
