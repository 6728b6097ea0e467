/**
 * Simultaneous open: a and b connect to each other from fixed ports in the
 * same instant, so each SYN meets a connection in SYN-SENT.
 */
import { later, type Duration, type Instant } from '../../../base/index.js';
import { Peer, type Step } from '../peer.js';
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { unreachableCause } from '../unreachable.js';
import { RETRY_ATTEMPTS, TcpWorkload, retryWait, type Endpoints } from './workload.js';

/** Both ends connect to each other; each then sends, shuts down and reads to the end. */
export class SimultaneousOpen extends TcpWorkload {
  private readonly plan: Extract<WorkloadPlan, { kind: 'simultaneous-open' }>;

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    plan: Extract<WorkloadPlan, { kind: 'simultaneous-open' }>,
  ) {
    super(run, name, ends);
    this.plan = plan;
  }

  start(_now: Instant): void {
    this.keys = { ab: this.run.nextKey(), ba: this.run.nextKey() };
    this.dialBoth(0);
  }

  private keys = { ab: 0, ba: 0 };

  /** Both ends connect to each other (again, for a later attempt). */
  private dialBoth(attempt: number): void {
    const p = this.plan;
    // Both connect in the same instant, before either SYN can arrive: each
    // side's SYN meets a connection in SYN-SENT (RFC 9293 §3.5, figure 8).
    const sa = this.connect(this.ends.a, this.ends.bAddress, p.portB, p.portA);
    const sb = this.connect(this.ends.b, this.ends.aAddress, p.portA, p.portB);
    const script = (out: number, inn: number): Step[] => [
      { op: 'send', bytes: out },
      { op: 'shutdown' },
      { op: 'recv', bytes: inn },
      { op: 'waitPeerClose' },
    ];
    const a = new Peer(
      this.run,
      SimultaneousOpen.attemptLabel(`${this.name} a`, attempt),
      this.ends.a,
      sa,
      { sendKey: this.keys.ab, recvKey: this.keys.ba },
      script(p.aBytes, p.bBytes),
    );
    const b = new Peer(
      this.run,
      SimultaneousOpen.attemptLabel(`${this.name} b`, attempt),
      this.ends.b,
      sb,
      { sendKey: this.keys.ba, recvKey: this.keys.ab },
      script(p.bBytes, p.aBytes),
    );
    a.attempt = attempt;
    b.attempt = attempt;
    this.peers.push(a, b);
    a.onConnectFailed = (failed, now) => this.endFailed(failed, b, now);
    b.onConnectFailed = (failed, now) => this.endFailed(failed, a, now);
  }

  /**
   * One end's connect failed. The pair connects again only together, in
   * one instant, as the plan's simultaneous open asks (one end alone would
   * meet a closed port and be refused): once both ends have failed and at
   * least one with an `unreachable` the plan's cut accounts for (see
   * unreachable.ts). The other end then met the cut, or the port its
   * partner had already closed (refused), and is judged as `any`.
   */
  private endFailed(failed: Peer, partner: Peer, now: Instant): boolean {
    const explained = unreachableCause(failed) !== null;
    if (!partner.closed) {
      if (!explained) return false;
      failed.retrying = true; // until the partner's connect fails too
      return true;
    }
    if (!partner.retrying) return false;
    const attempt = failed.attempt + 1;
    if (attempt >= RETRY_ATTEMPTS) {
      partner.retrying = false;
      this.run.fail(
        'outcome',
        `${failed.label}: still unreachable after ${RETRY_ATTEMPTS} attempts to connect`,
      );
      return false;
    }
    if (!explained) failed.expect = 'any';
    failed.retrying = true;
    const wait = retryWait(failed.attempt);
    this.run.log(now, `${this.name}: both ends failed to connect; both again in ${wait / 1e6} s`);
    this.run.net.schedule(later(now, wait as Duration), () => {
      this.dialBoth(attempt);
      const [nextA, nextB] = this.peers.slice(-2);
      for (const [old, next] of [
        [failed.host === this.ends.a ? failed : partner, nextA!],
        [failed.host === this.ends.a ? partner : failed, nextB!],
      ] as const) {
        old.supersededBy = next;
        old.retrying = false;
      }
    });
    return true;
  }
}
