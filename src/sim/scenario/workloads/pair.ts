/**
 * One client and one server, each running its own script over one
 * connection: the runner behind bulk, request-response, half-close,
 * simultaneous-close and abort, which differ only in their scripts.
 */
import type { Duration, Instant } from '../../../base/index.js';
import { Peer, sumOf, type Step } from '../peer.js';
import type { Pacing } from '../plan.js';
import type { Run } from '../run.js';
import { TcpWorkload, type Endpoints } from './workload.js';

/** One client, one server, a script each: bulk, request/response, half-close, simultaneous close, abort. */
export class PairWorkload extends TcpWorkload {
  private readonly port: number;
  private readonly clientScript: Step[];
  private readonly serverScript: Step[];
  private readonly clientPacing: Pacing | null;
  private readonly serverPacing: Pacing | null;
  private readonly keepAliveIdle: number;
  private readonly abort: { senderAborts: boolean; clientSends: boolean; after: number } | null;
  private readonly keys: { c2s: number; s2c: number };
  private client: Peer | null = null;
  private server: Peer | null = null;

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    spec: {
      port: number;
      clientScript: Step[];
      serverScript: Step[];
      clientPacing?: Pacing | null;
      serverPacing?: Pacing | null;
      keepAliveIdle?: number;
      abort?: { senderAborts: boolean; clientSends: boolean; after: number } | null;
    },
  ) {
    super(run, name, ends);
    this.port = spec.port;
    this.clientScript = spec.clientScript;
    this.serverScript = spec.serverScript;
    this.clientPacing = spec.clientPacing ?? null;
    this.serverPacing = spec.serverPacing ?? null;
    this.keepAliveIdle = spec.keepAliveIdle ?? 0;
    this.abort = spec.abort ?? null;
    this.keys = { c2s: run.nextKey(), s2c: run.nextKey() };
  }

  start(now: Instant): void {
    this.listen(this.port, 16, (s, at) => {
      if (this.server !== null) {
        this.stray(s, at, this.keys.c2s, sumOf(this.clientScript, 'send'));
        return;
      }
      this.server = new Peer(
        this.run,
        `${this.name} server`,
        this.ends.b,
        s,
        { sendKey: this.keys.s2c, recvKey: this.keys.c2s },
        this.serverScript,
        { pacing: this.serverPacing },
      );
      this.peers.push(this.server);
      if (this.keepAliveIdle > 0) s.setKeepAlive(at, true, this.keepAliveIdle as Duration);
      this.wireAbort();
      this.server.start(at);
    });
    this.dial(now, 0);
  }

  /** Connects the client (again, for a later attempt) and runs its script once connected. */
  private dial(now: Instant, attempt: number): Peer {
    const socket = this.connect(this.ends.a, this.ends.bAddress, this.port);
    if (this.keepAliveIdle > 0) socket.setKeepAlive(now, true, this.keepAliveIdle as Duration);
    const client = new Peer(
      this.run,
      PairWorkload.attemptLabel(`${this.name} client`, attempt),
      this.ends.a,
      socket,
      { sendKey: this.keys.c2s, recvKey: this.keys.s2c },
      this.clientScript,
      { pacing: this.clientPacing },
    );
    this.client = client;
    this.peers.push(client);
    client.onFinished = (p) => {
      // A client that failed before the server accepted leaves nobody to wait for.
      if (p.closed && p.closeError !== null && this.server === null) this.closeListener();
    };
    this.retryConnect(client, (at, n) => this.dial(at, n));
    return client;
  }

  private wireAbort(): void {
    const abort = this.abort;
    if (abort === null || this.client === null || this.server === null) return;
    const receiver = abort.clientSends ? this.server : this.client;
    const sender = abort.clientSends ? this.client : this.server;
    receiver.abortAfterRecv = abort.after;
    receiver.abortTarget = abort.senderAborts ? sender : receiver;
    receiver.abortVictim = abort.senderAborts ? receiver : sender;
  }

  protected override moreDone(): boolean {
    return this.server !== null || (this.client !== null && this.client.closed);
  }
}
