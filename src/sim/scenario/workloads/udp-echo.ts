/**
 * UDP echo: bursts of datagrams from a to an echo server on b. Every
 * datagram echoed must be one that was sent, unchanged, and when nothing
 * was lost anywhere every datagram must come back (the udp invariant).
 */
import { later, type Duration, type Instant } from '../../../base/index.js';
import { IpAddr, type UdpSocket } from '../../../stack/index.js';
import { nothingLost } from '../invariants.js';
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { EXPECT_SCRATCH, fillStream, onesSum, streamWord } from '../streams.js';
import type { Endpoints, Workload } from './workload.js';

/** Sends the planned bursts from a, echoes them on b, and checks every datagram both ways. */
export class UdpEcho implements Workload {
  readonly name: string;
  private readonly run: Run;
  private readonly ends: Endpoints;
  private readonly plan: Extract<WorkloadPlan, { kind: 'udp-echo' }>;
  private readonly key: number;
  private server: UdpSocket | null = null;
  private client: UdpSocket | null = null;
  private readonly sizes: number[] = [];
  private readonly echoed: number[] = [];
  private readonly served: number[] = [];
  private burstsSent = 0;
  private settled = false;
  bad = 0;
  /** Datagrams damaged in a way the UDP checksum cannot catch (see verify). */
  undetectable = 0;

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    plan: Extract<WorkloadPlan, { kind: 'udp-echo' }>,
  ) {
    this.run = run;
    this.name = name;
    this.ends = ends;
    this.plan = plan;
    this.key = run.nextKey();
  }

  start(now: Instant): void {
    const server = this.ends.b.stack.bindUdp({ port: this.plan.port });
    const client = this.ends.a.stack.bindUdp({});
    this.server = server;
    this.client = client;
    this.run.appOf(this.ends.b).udp.set(server, (at) => {
      for (let d = server.receive(); d !== null; d = server.receive()) {
        const id = this.verify(d.data, 'server');
        if (id >= 0) this.served[id] = (this.served[id] ?? 0) + 1;
        server.sendTo(at, d.data, d.address, d.port);
      }
    });
    this.run.appOf(this.ends.a).udp.set(client, () => {
      for (let d = client.receive(); d !== null; d = client.receive()) {
        const id = this.verify(d.data, 'client');
        if (id >= 0) this.echoed[id] = (this.echoed[id] ?? 0) + 1;
      }
    });
    const to = IpAddr.parseOrThrow(this.ends.bAddress);
    let last = 0;
    for (const burst of this.plan.bursts) {
      last = Math.max(last, burst.after);
      this.run.net.schedule(later(now, burst.after as Duration), (at) => {
        for (const size of burst.sizes) {
          const id = this.sizes.length;
          this.sizes.push(size);
          client.sendTo(at, this.datagram(id, size), to, this.plan.port);
        }
        this.burstsSent++;
      });
    }
    // Echoes come back within a second on these links; five is generous.
    this.run.net.schedule(later(now, (last + 5_000_000) as Duration), () => {
      this.settled = true;
    });
  }

  private datagram(id: number, size: number): Uint8Array {
    const d = new Uint8Array(Math.max(size, 4));
    d[0] = id >>> 24;
    d[1] = (id >>> 16) & 0xff;
    d[2] = (id >>> 8) & 0xff;
    d[3] = id & 0xff;
    fillStream(streamWord(this.key, id), 0, EXPECT_SCRATCH, d.length - 4);
    d.set(EXPECT_SCRATCH.subarray(0, d.length - 4), 4);
    return d;
  }

  /** The datagram's id if it is exactly one that was sent, else -1 (and a failure). */
  private verify(data: Uint8Array, who: string): number {
    const id =
      data.length >= 4
        ? ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0
        : -1;
    const ok = id >= 0 && id < this.sizes.length && data.length === Math.max(this.sizes[id]!, 4);
    let detail = '';
    if (ok) {
      fillStream(streamWord(this.key, id), 0, EXPECT_SCRATCH, data.length - 4);
      let first = -1;
      let differ = 0;
      for (let i = 4; i < data.length; i++) {
        if (data[i] === EXPECT_SCRATCH[i - 4]) continue;
        if (first < 0) first = i;
        differ++;
      }
      if (first < 0) return id;
      if (onesSum(data, 4) === onesSum(EXPECT_SCRATCH.subarray(0, data.length - 4), 0)) {
        // Damage the Internet checksum cannot see (RFC 1071: errors that
        // cancel in the ones' complement sum), possible only when several
        // fragments were each damaged on the way: the UDP layer is not at fault.
        this.undetectable++;
        this.run.log(
          this.run.net.now,
          `${this.name}: datagram ${id} damaged past the UDP checksum`,
        );
        return -1;
      }
      detail = `: ${differ} bytes differ from offset ${first}`;
    }
    this.bad++;
    if (this.bad <= 3)
      this.run.fail(
        'udp',
        `${this.name}: the ${who} received a ${data.length}-byte datagram that was never sent (id ${id})${detail}`,
      );
    return -1;
  }

  done(): boolean {
    return this.settled && this.burstsSent === this.plan.bursts.length;
  }

  finish(_now: Instant): void {
    for (const [host, socket] of [
      [this.ends.b, this.server],
      [this.ends.a, this.client],
    ] as const) {
      if (socket === null) continue;
      this.run.appOf(host).udp.delete(socket);
      socket.close();
    }
    this.server = null;
    this.client = null;
  }

  get datagramsEchoed(): number {
    let n = 0;
    for (const c of this.echoed) if (c !== undefined && c > 0) n++;
    return n;
  }

  check(): void {
    if (!nothingLost(this.run)) return;
    for (let id = 0; id < this.sizes.length; id++) {
      if ((this.echoed[id] ?? 0) === 0) {
        this.run.fail(
          'udp',
          `${this.name}: datagram ${id} (${this.sizes[id]} bytes) was never echoed although nothing was lost ` +
            `(server got it ${this.served[id] ?? 0} times)`,
        );
        return;
      }
    }
  }

  describe(): string {
    return (
      `${this.name}: ${this.sizes.length} datagrams sent, ${this.datagramsEchoed} echoed` +
      (this.bad > 0 ? `, ${this.bad} bad` : '') +
      (this.undetectable > 0 ? `, ${this.undetectable} damaged past the checksum` : '')
    );
  }
}
