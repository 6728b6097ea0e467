/**
 * Simultaneous open: a and b connect to each other from fixed ports in the
 * same instant, so each SYN meets a connection in SYN-SENT.
 */
import type { Instant } from '../../../base/index.js';
import { Peer, type Step } from '../peer.js';
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { TcpWorkload, type Endpoints } from './workload.js';

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
    const p = this.plan;
    const ab = this.run.nextKey();
    const ba = this.run.nextKey();
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
    this.peers.push(
      new Peer(
        this.run,
        `${this.name} a`,
        this.ends.a,
        sa,
        { sendKey: ab, recvKey: ba },
        script(p.aBytes, p.bBytes),
      ),
      new Peer(
        this.run,
        `${this.name} b`,
        this.ends.b,
        sb,
        { sendKey: ba, recvKey: ab },
        script(p.bBytes, p.aBytes),
      ),
    );
  }
}
