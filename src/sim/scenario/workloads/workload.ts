/**
 * What every workload is to the run (start, done, finish, check, describe),
 * the two hosts it runs between, and the base of the TCP workloads: a
 * listener on b, connections from a, and accepted connections nobody opened.
 */
import { later, type Duration, type Instant } from '../../../base/index.js';
import type { TcpListener, TcpSocket } from '../../../stack/index.js';
import type { SimHost } from '../../network.js';
import { Peer } from '../peer.js';
import type { Run } from '../run.js';
import { unreachableCause } from '../unreachable.js';

/**
 * An application's reconnect loop after a connect failed with
 * `unreachable`: 1 s, doubling up to 16 s, for at most 12 attempts. Every
 * planned cut heals within 20 s, so the attempts outlast any cut; running
 * out of them is a failure.
 */
export const RETRY_ATTEMPTS = 12;

/** The back-off before attempt `failedAttempt + 1`, in µs. */
export function retryWait(failedAttempt: number): number {
  return Math.min(1_000_000 * 2 ** failedAttempt, 16_000_000);
}

/** One workload as the run drives it. */
export interface Workload {
  readonly name: string;
  start(now: Instant): void;
  /** The application has nothing more to do (connections may still sit in TIME-WAIT). */
  done(): boolean;
  /** Closes listeners and UDP sockets once every workload is done. */
  finish(now: Instant): void;
  /** Workload-specific end checks. */
  check(): void;
  /** One line: what happened. */
  describe(): string;
}

/** The two end hosts and the addresses (of the workload's family) they reach each other at. */
export interface Endpoints {
  a: SimHost;
  b: SimHost;
  aAddress: string;
  bAddress: string;
}

/** How the connection ends finished, counted: "3 ok, 1 reset". */
export function describePeers(peers: Peer[]): string {
  const counts = new Map<string, number>();
  for (const p of peers) {
    const k = p.closed ? (p.closeError ?? 'ok') : `open:${p.socket.state}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

/** The base of the TCP workloads: its peers, its listener on b, and the helpers to connect and listen. */
export abstract class TcpWorkload implements Workload {
  readonly name: string;
  protected readonly run: Run;
  protected readonly ends: Endpoints;
  protected readonly peers: Peer[] = [];
  protected listener: TcpListener | null = null;

  constructor(run: Run, name: string, ends: Endpoints) {
    this.run = run;
    this.name = name;
    this.ends = ends;
  }

  abstract start(now: Instant): void;

  done(): boolean {
    for (const p of this.peers) if (!p.finished) return false;
    return this.moreDone();
  }

  protected moreDone(): boolean {
    return true;
  }

  finish(_now: Instant): void {
    this.closeListener();
  }

  protected closeListener(): void {
    if (this.listener === null) return;
    this.run.appOf(this.ends.b).listeners.delete(this.listener);
    this.listener.close();
    this.listener = null;
  }

  check(): void {}

  describe(): string {
    let bytes = 0;
    for (const p of this.peers) bytes += p.received;
    return `${this.name}: ${this.peers.length} ends (${describePeers(this.peers)}), ${bytes} bytes delivered`;
  }

  /** Listens on b and hands each accepted socket to `onAccepted`. */
  protected listen(
    port: number,
    backlog: number,
    onAccepted: (s: TcpSocket, now: Instant) => void,
  ): TcpListener {
    const listener = this.ends.b.stack.listen({ port, backlog });
    this.listener = listener;
    this.run.appOf(this.ends.b).listeners.set(listener, () => {
      for (let s = listener.accept(); s !== null; s = listener.accept())
        onAccepted(s, this.run.net.now);
    });
    return listener;
  }

  /**
   * An accepted connection that no client opened now: an old duplicate of a
   * handshake's last ACK (seq ISN+1, ack cookie+1) that arrives after its
   * connection closed still carries a valid SYN cookie for up to 128 s and
   * builds a new connection (RFC 4987 §3.6 limits; Linux only checks cookies
   * while the SYN queue recently overflowed, but the same duplicate would
   * pass then). The application closes it; whatever it received must be a
   * prefix of the stream the old connection carried (`recvKey`).
   */
  protected stray(s: TcpSocket, now: Instant, recvKey: number, recvLength: number): void {
    this.run.strays++;
    this.run.log(
      now,
      `${this.name}: accepted a stray connection from ${s.remoteAddress.text}:${s.remotePort}`,
    );
    const peer = new Peer(
      this.run,
      `${this.name} stray from ${s.remotePort}`,
      this.ends.b,
      s,
      { sendKey: 0, recvKey },
      [{ op: 'close' }],
      { expect: 'stray', recvLength },
    );
    this.peers.push(peer);
    peer.start(now);
  }

  /**
   * When the connect of `peer` fails with an `unreachable` that the plan's
   * cut accounts for (see unreachable.ts), the application connects again
   * after a back-off, with the same script and streams (nothing was
   * exchanged), through `redial`, until the cut has healed: the new
   * attempt is then held to every invariant, so the data must still get
   * through. Any other failure of the connect is left to the oracle.
   */
  protected retryConnect(peer: Peer, redial: (now: Instant, attempt: number) => Peer): void {
    peer.onConnectFailed = (failed, now) => {
      if (unreachableCause(failed) === null) return false;
      const attempt = failed.attempt + 1;
      if (attempt >= RETRY_ATTEMPTS) {
        this.run.fail(
          'outcome',
          `${failed.label}: still unreachable after ${RETRY_ATTEMPTS} attempts to connect`,
        );
        return false;
      }
      failed.retrying = true;
      const wait = retryWait(failed.attempt);
      this.run.log(now, `${failed.label}: unreachable; connects again in ${wait / 1e6} s`);
      this.run.net.schedule(later(now, wait as Duration), (at) => {
        const next = redial(at, attempt);
        next.attempt = attempt;
        failed.supersededBy = next;
        failed.retrying = false;
        this.retryConnect(next, redial);
      });
      return true;
    };
  }

  /** A peer's label with its attempt, when it is not the first. */
  protected static attemptLabel(label: string, attempt: number): string {
    return attempt === 0 ? label : `${label} (attempt ${attempt + 1})`;
  }

  protected connect(from: SimHost, to: string, port: number, localPort?: number): TcpSocket {
    return from.stack.connect(this.run.net.now, {
      host: to,
      port,
      ...(localPort !== undefined ? { localPort } : {}),
    });
  }
}
