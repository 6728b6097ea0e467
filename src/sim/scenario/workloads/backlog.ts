/**
 * A listener with a small backlog whose application accepts a few
 * connections, then stops calling accept() and later closes the listener:
 * the clients left over are refused, reset or time out.
 */
import { later, type Duration, type Instant } from '../../../base/index.js';
import type { TcpSocket } from '../../../stack/index.js';
import { Peer } from '../peer.js';
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { TcpWorkload, type Endpoints } from './workload.js';

/** Opens the planned clients against a listener that accepts only some of them. */
export class Backlog extends TcpWorkload {
  private readonly plan: Extract<WorkloadPlan, { kind: 'backlog' }>;
  private readonly clients = new Map<string, { index: number; client: Peer; served: boolean }>();
  private readonly keys: number[] = [];
  private accepted = 0;
  private started = 0;
  private listenerClosed = false;

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    plan: Extract<WorkloadPlan, { kind: 'backlog' }>,
  ) {
    super(run, name, ends);
    this.plan = plan;
  }

  start(now: Instant): void {
    const p = this.plan;
    const listener = this.ends.b.stack.listen({ port: p.port, backlog: p.backlog });
    this.listener = listener;
    this.run.appOf(this.ends.b).listeners.set(listener, (at) => {
      // After acceptCount the application stops calling accept(): the queue fills.
      while (this.accepted < p.acceptCount) {
        const s = listener.accept();
        if (s === null) return;
        this.accepted++;
        this.serve(s, at);
      }
    });
    this.run.net.schedule(later(now, p.closeListenerAfter as Duration), (at) => {
      this.run.log(at, `${this.name}: the listener closes`);
      this.listenerClosed = true;
      this.closeListener();
    });
    for (let i = 0; i < p.clients.length; i++) {
      const c = p.clients[i]!;
      this.run.net.schedule(later(now, c.delay as Duration), (at) => this.open(i, at));
    }
  }

  private open(index: number, now: Instant): void {
    const c = this.plan.clients[index]!;
    const c2s = this.run.nextKey();
    const s2c = this.run.nextKey();
    this.keys[index * 2] = c2s;
    this.keys[index * 2 + 1] = s2c;
    const socket = this.connect(this.ends.a, this.ends.bAddress, this.plan.port);
    // Keepalive: a client whose connection sits unaccepted learns of the
    // listener's RST even when that RST is lost.
    socket.setKeepAlive(now, true, this.plan.keepAliveIdle as Duration);
    const client = new Peer(
      this.run,
      `${this.name} #${index} client`,
      this.ends.a,
      socket,
      { sendKey: c2s, recvKey: s2c },
      [
        { op: 'send', bytes: c.request },
        { op: 'recv', bytes: c.response },
        { op: 'shutdown' },
        { op: 'waitPeerClose' },
      ],
      { expect: 'any' },
    );
    this.peers.push(client);
    this.clients.set(`${socket.localAddress.text}|${socket.localPort}`, {
      index,
      client,
      served: false,
    });
    this.started++;
  }

  private serve(s: TcpSocket, now: Instant): void {
    const key = `${s.remoteAddress.text}|${s.remotePort}`;
    const entry = this.clients.get(key);
    if (entry === undefined || entry.served) {
      if (entry === undefined)
        this.run.fail(
          'events',
          `${this.name}: accepted a connection from ${key} no client ever opened`,
        );
      const index = entry?.index ?? -1;
      this.stray(
        s,
        now,
        index < 0 ? 0 : this.keys[index * 2]!,
        index < 0 ? 0 : this.plan.clients[index]!.request,
      );
      return;
    }
    entry.served = true;
    const c = this.plan.clients[entry.index]!;
    entry.client.expect = 'clean';
    const server = new Peer(
      this.run,
      `${this.name} #${entry.index} server`,
      this.ends.b,
      s,
      { sendKey: this.keys[entry.index * 2 + 1]!, recvKey: this.keys[entry.index * 2]! },
      [
        { op: 'recv', bytes: c.request },
        { op: 'send', bytes: c.response },
        { op: 'waitPeerClose' },
        { op: 'shutdown' },
      ],
    );
    this.peers.push(server);
    server.start(now);
  }

  protected override moreDone(): boolean {
    return this.listenerClosed && this.started === this.plan.clients.length;
  }

  override check(): void {
    if (this.accepted > this.plan.acceptCount)
      this.run.fail(
        'outcome',
        `${this.name}: ${this.accepted} accepted, more than ${this.plan.acceptCount}`,
      );
  }
}
