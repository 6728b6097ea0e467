/**
 * Many short connections, a few at a time (or one at a time from one
 * client port, each SYN meeting the server's TIME-WAIT of the one before),
 * either side closing first.
 */
import type { Instant } from '../../../base/index.js';
import type { TcpSocket } from '../../../stack/index.js';
import { Peer, type Step } from '../peer.js';
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { TcpWorkload, type Endpoints } from './workload.js';

/** Opens the planned connections a few at a time and serves each accepted one its script. */
export class ManyShort extends TcpWorkload {
  private readonly plan: Extract<WorkloadPlan, { kind: 'many-short' }>;
  private nextIndex = 0;
  private readonly pending = new Map<string, { index: number; client: Peer }>();
  /** Connections already accepted, by the client's address and port: which one (for strays). */
  private readonly served = new Map<string, number>();
  /** The server end of each accepted connection, by the client's address and port. */
  private readonly servers = new Map<string, Peer>();
  private readonly keys: number[] = [];

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    plan: Extract<WorkloadPlan, { kind: 'many-short' }>,
  ) {
    super(run, name, ends);
    this.plan = plan;
  }

  start(now: Instant): void {
    this.listen(this.plan.port, 64, (s, at) => this.accepted(s, at));
    for (let i = 0; i < this.plan.concurrency; i++) this.startNext(now);
  }

  private startNext(now: Instant): void {
    if (this.nextIndex >= this.plan.connections.length) return;
    const index = this.nextIndex++;
    this.keys[index * 2] = this.run.nextKey();
    this.keys[index * 2 + 1] = this.run.nextKey();
    this.dial(index, now, 0);
  }

  /** Opens connection `index` (again, for a later attempt) and runs its client's script. */
  private dial(index: number, now: Instant, attempt: number): Peer | null {
    const c = this.plan.connections[index]!;
    const c2s = this.keys[index * 2]!;
    const s2c = this.keys[index * 2 + 1]!;
    const reuse = this.plan.clientPort > 0;
    let socket: TcpSocket;
    try {
      socket = this.connect(
        this.ends.a,
        this.ends.bAddress,
        this.plan.port,
        reuse ? this.plan.clientPort : undefined,
      );
    } catch (e) {
      this.run.fail('outcome', `${this.name} #${index}: connect failed: ${String(e)}`);
      this.nextIndex = this.plan.connections.length;
      return null;
    }
    const script: Step[] =
      c.closer === 'client'
        ? [
            { op: 'send', bytes: c.request },
            { op: 'recv', bytes: c.response },
            { op: 'shutdown' },
            { op: 'waitPeerClose' },
          ]
        : [
            { op: 'send', bytes: c.request },
            { op: 'recv', bytes: c.response },
            { op: 'waitPeerClose' },
            { op: 'shutdown' },
          ];
    const client = new Peer(
      this.run,
      ManyShort.attemptLabel(`${this.name} #${index} client`, attempt),
      this.ends.a,
      socket,
      { sendKey: c2s, recvKey: s2c },
      script,
    );
    this.peers.push(client);
    this.pending.set(`${socket.localAddress.text}|${socket.localPort}`, { index, client });
    // With one client port, the next connection waits for this one to be
    // CLOSED (the tuple is in use until then), not just for its script.
    client.onClosed = (p, at) => {
      if (p.closeError === 'reset' && p.cookieSuspect()) this.giveUp(p, at);
      if (reuse) this.startNext(at);
    };
    if (!reuse) client.onFinished = (_p, at) => this.startNext(at);
    this.retryConnect(client, (at, n) => {
      this.pending.delete(`${socket.localAddress.text}|${socket.localPort}`);
      const next = this.dial(index, at, n);
      if (next === null) throw new Error(`${this.name} #${index}: could not connect again`);
      return next;
    });
    void now;
    return client;
  }

  private accepted(s: TcpSocket, now: Instant): void {
    const key = `${s.remoteAddress.text}|${s.remotePort}`;
    const entry = this.pending.get(key);
    if (entry === undefined || entry.client.closed) {
      // A client already reset (a failed SYN cookie) has nobody to serve.
      const old = entry?.index ?? this.served.get(key);
      if (entry !== undefined) this.pending.delete(key);
      if (old === undefined)
        this.run.fail(
          'events',
          `${this.name}: accepted a connection from ${key} no client ever opened`,
        );
      this.stray(
        s,
        now,
        old === undefined ? 0 : this.keys[old * 2]!,
        old === undefined ? 0 : this.plan.connections[old]!.request,
      );
      return;
    }
    this.pending.delete(key);
    this.served.set(key, entry.index);
    const c = this.plan.connections[entry.index]!;
    const script: Step[] =
      c.closer === 'client'
        ? [
            { op: 'recv', bytes: c.request },
            { op: 'send', bytes: c.response },
            { op: 'waitPeerClose' },
            { op: 'shutdown' },
          ]
        : [
            { op: 'recv', bytes: c.request },
            { op: 'send', bytes: c.response },
            { op: 'shutdown' },
            { op: 'waitPeerClose' },
          ];
    const server = new Peer(
      this.run,
      `${this.name} #${entry.index} server`,
      this.ends.b,
      s,
      { sendKey: this.keys[entry.index * 2 + 1]!, recvKey: this.keys[entry.index * 2]! },
      script,
    );
    this.peers.push(server);
    this.servers.set(key, server);
    server.start(now);
  }

  /**
   * The client was reset by a failed SYN cookie while the listener may have
   * built the connection from a later segment: that server would wait for a
   * request for ever. Its application gives up, as a real server times out.
   */
  private giveUp(client: Peer, now: Instant): void {
    const key = `${client.socket.localAddress.text}|${client.socket.localPort}`;
    const server = this.servers.get(key);
    if (server === undefined || server.closed || server.finished) return;
    server.expect = 'stray';
    this.run.log(now, `${server.label} gives up: its client was reset`);
    server.socket.abort(now);
  }

  protected override moreDone(): boolean {
    return this.nextIndex >= this.plan.connections.length;
  }
}
