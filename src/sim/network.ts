import { NEVER, SeededRng, instant, type Instant } from '../base/index.js';
import type { LinkEndpoint } from '../link/index.js';
import {
  Stack,
  type InterfaceOptions,
  type StackEvent,
  type StackOptions,
} from '../stack/index.js';

/** One simulated host: a name and its stack. */
export interface SimHost {
  readonly name: string;
  readonly stack: Stack;
  /** Called for every event of this host's stack, in virtual time (the host's "application"). */
  onEvent: ((event: StackEvent, now: Instant) => void) | null;
}

interface Attachment {
  host: SimHost;
  ifIndex: number;
  endpoint: LinkEndpoint;
}

interface Scheduled {
  at: Instant;
  order: number;
  action: (now: Instant) => void;
}

/** Options of a simulated network. */
export interface NetworkOptions {
  /** Every random choice (ISNs, ports, link impairments built from `rng()`) follows from this. */
  seed: number;
}

/**
 * A network of stacks joined by links, in virtual time. Time jumps straight
 * to the next deadline of any stack, link or scheduled event, so minutes of
 * TCP run in milliseconds, and a run with the same seed repeats exactly
 * (nothing here reads a clock or a global random source).
 */
export class Network {
  private nowValue: Instant = instant(0);
  private readonly hosts: SimHost[] = [];
  private readonly attachments: Attachment[] = [];
  private readonly scheduled: Scheduled[] = [];
  private order = 0;
  private readonly seedRng: SeededRng;
  /** Steps taken (for diagnostics and runaway protection). */
  steps = 0;

  constructor(options: NetworkOptions) {
    this.seedRng = new SeededRng(options.seed);
  }

  get now(): Instant {
    return this.nowValue;
  }

  /** A new seeded generator for a component (a host, a link's impairment), derived from the network seed. */
  rng(): SeededRng {
    return this.seedRng.fork();
  }

  /** Adds a host with its own stack. */
  addHost(name: string, options: Omit<StackOptions, 'rng'> = {}): SimHost {
    const host: SimHost = {
      name,
      stack: new Stack({ ...options, rng: this.rng() }),
      onEvent: null,
    };
    this.hosts.push(host);
    return host;
  }

  /** Plugs a link endpoint into a host as a new interface (kind and MTU come from the endpoint). */
  attach(
    host: SimHost,
    endpoint: LinkEndpoint,
    options: Omit<InterfaceOptions, 'kind' | 'mtu' | 'checksumOffload'> = {},
  ): number {
    const ifIndex = host.stack.addInterface({
      ...options,
      kind: endpoint.kind,
      mtu: endpoint.mtu,
      checksumOffload: endpoint.checksumOffload === true,
    });
    this.attachments.push({ host, ifIndex, endpoint });
    return ifIndex;
  }

  /** Runs `action` at virtual time `at` (e.g. cut a link, change its loss). */
  schedule(at: Instant, action: (now: Instant) => void): void {
    this.scheduled.push({ at, order: this.order++, action });
    this.scheduled.sort((a, b) => a.at - b.at || a.order - b.order);
  }

  /**
   * Does everything due at the current time, then moves time to the next
   * deadline. Returns false when nothing at all is pending (the network is
   * quiet forever).
   */
  step(): boolean {
    this.steps++;
    this.settle();
    const next = this.nextDeadline();
    if (next === NEVER) return false;
    if (next > this.nowValue) this.nowValue = next;
    return true;
  }

  /** Steps until `done()` holds or virtual time passes `limit`; returns whether `done()` held. */
  runUntil(done: () => boolean, limit: Instant): boolean {
    for (;;) {
      this.settle();
      if (done()) return true;
      const next = this.nextDeadline();
      if (next === NEVER || next > limit) return done();
      if (next > this.nowValue) this.nowValue = next;
      this.steps++;
    }
  }

  /** Runs until virtual time reaches `until` (or nothing is left to do). */
  runUntilTime(until: Instant): void {
    this.runUntil(() => false, until);
    if (this.nowValue < until) this.nowValue = until;
    this.settle();
  }

  /** Processes everything due now, repeating while work at this instant keeps appearing. */
  private settle(): void {
    const now = this.nowValue;
    for (let round = 0; round < 10_000; round++) {
      let work = false;
      while (this.scheduled.length > 0 && this.scheduled[0]!.at <= now) {
        this.scheduled.shift()!.action(now);
        work = true;
      }
      for (const a of this.attachments) {
        for (let frame = a.endpoint.receive(now); frame !== null; frame = a.endpoint.receive(now)) {
          a.host.stack.receiveFrame(now, a.ifIndex, frame);
          work = true;
        }
      }
      for (const host of this.hosts) {
        const stack = host.stack;
        if (stack.pollTimeout() <= now) stack.handleTimeout(now);
        for (let out = stack.pollTransmit(now); out !== null; out = stack.pollTransmit(now)) {
          const attachment = this.attachmentOf(host, out.ifIndex);
          // A stack never writes a frame it emitted again: handed over, not copied.
          if (attachment !== null) attachment.endpoint.send(now, out.frame, true);
          work = true;
        }
        for (let e = stack.pollEvent(); e !== null; e = stack.pollEvent()) {
          work = true;
          if (host.onEvent !== null) host.onEvent(e, now);
        }
      }
      if (!work && this.nextDeadline() > now) return;
    }
    throw new Error(`simulation made no progress at t=${now} µs after 10000 rounds (a livelock)`);
  }

  private nextDeadline(): Instant {
    let t: Instant = this.scheduled.length > 0 ? this.scheduled[0]!.at : NEVER;
    for (const a of this.attachments) {
      const d = a.endpoint.pollTimeout();
      if (d < t) t = d;
    }
    for (const h of this.hosts) {
      const d = h.stack.pollTimeout();
      if (d < t) t = d;
    }
    return t;
  }

  private attachmentOf(host: SimHost, ifIndex: number): Attachment | null {
    for (const a of this.attachments) if (a.host === host && a.ifIndex === ifIndex) return a;
    return null;
  }
}
