/**
 * A dumbbell for congestion-control tests: several connections whose data
 * share one bottleneck (a FIFO with a rate and a buffer, dropping at the
 * tail or marking CE above a threshold), their ACKs coming back on an
 * uncongested path. Virtual time; each flow's client sends for ever from a
 * given start time, each server reads everything at once.
 */
import { NEVER, SeededRng, instant, seq, type Instant, type Rng } from '../../src/base/index.js';
import type { TcpRepr } from '../../src/wire/index.js';
import { Connection, TcpState, tcpConfig, type TcpConfig } from '../../src/tcp/index.js';

/** The shared link. */
export interface BottleneckSpec {
  /** Bottleneck rate in bits per second. */
  rateBps: number;
  /** Queue capacity in bytes (drop-tail beyond it). */
  bufferBytes: number;
  /** One-way propagation delay, ms (half before the bottleneck, half after); the base RTT is twice it. */
  delayMs: number;
  /** With ECN flows: mark CE instead of dropping while the queue holds more than this many bytes; -1 never marks. */
  markAboveBytes?: number;
  /** Random loss before the bottleneck (0..1, seeded), on data only; default none. */
  lossRate?: number;
}

export interface FlowSpec {
  config?: Partial<TcpConfig>;
  /** When the client connects, ms. */
  startMs?: number;
  /** When the client stops sending new data, ms (default: never). */
  stopMs?: number;
}

interface Packet {
  at: number;
  order: number;
  flow: number;
  toServer: boolean;
  seg: TcpRepr;
  ecn: number;
  /** Still has to cross the bottleneck. */
  queued: boolean;
}

/** One flow's two ends and counters. */
export class Flow {
  readonly client: Connection;
  readonly server: Connection;
  readonly startMs: number;
  readonly stopMs: number;
  started = false;
  /** Bytes the server read, and when (cumulative samples every `sampleMs`). */
  received = 0;
  readonly samples: number[] = [];
  drops = 0;
  marks = 0;
  constructor(client: Connection, server: Connection, startMs: number, stopMs: number) {
    this.client = client;
    this.server = server;
    this.startMs = startMs;
    this.stopMs = stopMs;
  }

  /** Goodput in bits per second over [fromMs, toMs), from the samples. */
  goodputBps(fromMs: number, toMs: number, sampleMs: number): number {
    const a = this.samples[Math.floor(fromMs / sampleMs)] ?? 0;
    const b = this.samples[Math.floor(toMs / sampleMs)] ?? this.received;
    return ((b - a) * 8 * 1000) / (toMs - fromMs);
  }
}

const CHUNK = new Uint8Array(64 * 1024);
const HEADER_BYTES = 40;

/** The dumbbell: run() for a time, then read the flows. */
export class Dumbbell {
  readonly flows: Flow[] = [];
  now = 0;
  /** The bottleneck queue's occupancy in bytes, and its largest. */
  queueBytes = 0;
  maxQueueBytes = 0;
  /** Per packet that joined the queue: when (µs) and how long it waited there (µs). */
  readonly queueDelays: number[] = [];
  private readonly spec: BottleneckSpec;
  private readonly wire: Packet[] = [];
  private order = 0;
  private linkFreeAt = 0;
  private readonly sampleMs: number;
  private nextSample = 0;
  private readonly rng: Rng;
  /** Random loss has its own stream, so that asking for it changes nothing else. */
  private readonly lossRng: Rng;
  private readonly buf = new Uint8Array(256 * 1024);

  constructor(spec: BottleneckSpec, flows: FlowSpec[], sampleMs = 100, seed = 1) {
    this.spec = spec;
    this.sampleMs = sampleMs;
    this.rng = new SeededRng(seed);
    this.lossRng = new SeededRng(seed + 0x5eed);
    flows.forEach((f, i) => {
      const config = tcpConfig({ ...f.config });
      const client = Connection.connect(instant((f.startMs ?? 0) * 1000), {
        iss: seq(this.rng.nextU32()),
        config,
        timestampOffset: this.rng.nextU32(),
      });
      const server = Connection.listen({
        iss: seq(this.rng.nextU32()),
        config: tcpConfig({ ...f.config }),
        timestampOffset: this.rng.nextU32(),
      });
      this.flows.push(new Flow(client, server, f.startMs ?? 0, f.stopMs ?? Infinity));
      void i;
    });
  }

  /** Runs until `untilMs` of virtual time. */
  run(untilMs: number): void {
    const limit = untilMs * 1000;
    for (let steps = 0; steps < 50_000_000; steps++) {
      for (let i = 0; i < this.flows.length; i++) this.service(i);
      while (this.now >= this.nextSample) {
        for (const f of this.flows) f.samples.push(f.received);
        this.nextSample += this.sampleMs * 1000;
      }
      let t = this.wire.length > 0 ? this.wire[0]!.at : Infinity;
      for (const f of this.flows) {
        if (!f.started) t = Math.min(t, f.startMs * 1000);
        t = Math.min(t, f.client.pollTimeout(), f.server.pollTimeout());
      }
      t = Math.min(t, this.nextSample);
      if (t === NEVER || t > limit) {
        this.now = limit;
        return;
      }
      this.now = Math.max(this.now, t);
      const now = instant(this.now);
      while (this.wire.length > 0 && this.wire[0]!.at <= this.now) this.arrive(this.wire.shift()!);
      for (const f of this.flows) {
        if (f.client.pollTimeout() <= now) f.client.handleTimeout(now);
        if (f.server.pollTimeout() <= now) f.server.handleTimeout(now);
      }
    }
    throw new Error('dumbbell did not settle');
  }

  /** The median time packets waited in the queue (µs) among those that joined it in [fromMs, toMs). */
  medianQueueDelayUs(fromMs: number, toMs: number): number {
    const waits: number[] = [];
    for (let i = 0; i < this.queueDelays.length; i += 2) {
      const at = this.queueDelays[i]!;
      if (at >= fromMs * 1000 && at < toMs * 1000) waits.push(this.queueDelays[i + 1]!);
    }
    if (waits.length === 0) return 0;
    waits.sort((a, b) => a - b);
    return waits[waits.length >> 1]!;
  }

  private service(i: number): void {
    const f = this.flows[i]!;
    const now = instant(this.now);
    if (!f.started) {
      if (this.now < f.startMs * 1000) return;
      f.started = true;
    }
    const c = f.client;
    if (
      this.now < f.stopMs * 1000 &&
      (c.state === TcpState.Established || c.state === TcpState.SynSent)
    ) {
      while (c.writableBytes > 0)
        if (c.write(CHUNK.subarray(0, Math.min(CHUNK.length, c.writableBytes))) === 0) break;
    }
    for (let n = f.server.read(this.buf); n > 0; n = f.server.read(this.buf)) f.received += n;
    for (let e = c.pollEvent(); e !== null; e = c.pollEvent());
    for (let e = f.server.pollEvent(); e !== null; e = f.server.pollEvent());
    for (let seg = c.pollTransmit(now); seg !== null; seg = c.pollTransmit(now)) {
      this.send(i, true, seg, c.transmitEcn, this.now + this.spec.delayMs * 500, true);
    }
    for (let seg = f.server.pollTransmit(now); seg !== null; seg = f.server.pollTransmit(now)) {
      this.send(i, false, seg, 0, this.now + this.spec.delayMs * 1000, false);
    }
  }

  private send(
    flow: number,
    toServer: boolean,
    seg: TcpRepr,
    ecn: number,
    at: number,
    queued: boolean,
  ): void {
    this.push({
      at,
      order: this.order++,
      flow,
      toServer,
      seg: { ...seg, payload: seg.payload.slice() },
      ecn,
      queued,
    });
  }

  private push(p: Packet): void {
    // Sorted by time, then by order of sending.
    let lo = 0;
    let hi = this.wire.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const w = this.wire[mid]!;
      if (w.at < p.at || (w.at === p.at && w.order < p.order)) lo = mid + 1;
      else hi = mid;
    }
    this.wire.splice(lo, 0, p);
  }

  private arrive(p: Packet): void {
    const f = this.flows[p.flow]!;
    if (p.queued) {
      // At the bottleneck: drop-tail, or mark an ECN-capable packet above the threshold.
      const size = p.seg.payload.length + HEADER_BYTES;
      const backlog = Math.max(0, this.linkFreeAt - this.now);
      this.queueBytes = (backlog * this.spec.rateBps) / 8 / 1e6;
      const mark = this.spec.markAboveBytes ?? -1;
      const lossRate = this.spec.lossRate ?? 0;
      if (lossRate > 0 && p.seg.payload.length > 0 && this.lossRng.nextU32() / 2 ** 32 < lossRate) {
        f.drops++;
        return;
      }
      if (this.queueBytes + size > this.spec.bufferBytes) {
        f.drops++;
        return;
      }
      if (p.ecn !== 0 && mark >= 0 && this.queueBytes > mark) {
        p.ecn = 3;
        f.marks++;
      }
      this.queueDelays.push(this.now, backlog);
      const start = Math.max(this.now, this.linkFreeAt);
      this.linkFreeAt = start + (size * 8 * 1e6) / this.spec.rateBps;
      this.maxQueueBytes = Math.max(this.maxQueueBytes, this.queueBytes + size);
      p.queued = false;
      p.at = this.linkFreeAt + this.spec.delayMs * 500;
      p.order = this.order++;
      this.push(p);
      return;
    }
    const now = instant(this.now) as Instant;
    if (p.toServer) f.server.handleSegment(now, p.seg, p.ecn);
    else f.client.handleSegment(now, p.seg, p.ecn);
  }
}
