/**
 * The real-clock driver: a stack running live (in Node, a browser page or a
 * Worker), on the monotonic clock, with the host's `setTimeout` and its
 * best "immediate" (./host.ts) as its one host timer.
 */
import { NEVER, type Instant, type Rng } from '../base/index.js';
import { RELEASE_MIN_FRAME, type LinkEndpoint } from '../link/index.js';
import { Stack, type StackOptions } from '../stack/index.js';
import { CryptoRng, realClock, type Clock } from './clock.js';
import {
  dispatchStackEvent,
  subscribe,
  type AttachOptions,
  type Driver,
  type DriverTimer,
  type StackEventListener,
} from './driver.js';
import {
  hostTimers,
  refHandle,
  unrefHandle,
  type HostTimerHandle,
  type HostTimers,
} from './host.js';
import { TimerList } from './timers.js';

/** Options of a {@link RealDriver}. */
export interface RealDriverOptions {
  /**
   * The stack to drive, or the options of a new one. A new stack draws its
   * randomness from {@link CryptoRng} unless `rng` is given.
   */
  stack?: Stack | (Omit<StackOptions, 'rng'> & { rng?: Rng });
  /** Default {@link realClock}. */
  clock?: Clock;
  /** Default {@link hostTimers}: the host's own. */
  timers?: HostTimers;
  /**
   * Rounds of input/output/events in one service pass before the driver
   * yields to the event loop (other I/O and timers run, then it continues).
   * Default 64.
   */
  maxRounds?: number;
}

/** Which kind of host timer a {@link RealDriver} holds. */
export type HostTimerKind = 'none' | 'immediate' | 'timeout';

interface Attachment {
  ifIndex: number;
  endpoint: LinkEndpoint;
}

/**
 * Node's timers fire on the event loop's cached millisecond clock, so one may
 * run up to a millisecond before the microsecond deadline it was armed for.
 * Treating such a deadline as reached avoids a second wake-up for the same
 * timer (the clock given to the stack still never goes backwards).
 */
const TIMER_SLACK = 1000;
/** setTimeout's largest delay (2^31 - 1 ms); later deadlines are re-armed on the way. */
const MAX_TIMEOUT_MS = 0x7fffffff;

/**
 * Runs one stack on a real clock. Each service pass: drain every link
 * endpoint into the stack, run due timers, poll every frame out into the
 * links, dispatch events to socket owners, and repeat while that made new
 * work; then arm exactly one host timer at the earliest deadline of the
 * stack, its links and the driver's own timers (DESIGN.md: batch input, then
 * output, then one timer). API calls in between ask for a pass with
 * {@link kick}, which turns the timer into a `setImmediate`.
 */
export class RealDriver implements Driver {
  readonly stack: Stack;
  private readonly clock: Clock;
  private readonly timers: HostTimers;
  private readonly maxRounds: number;
  private readonly attachments: Attachment[] = [];
  private readonly byIndex: (Attachment | undefined)[] = [];
  private readonly listeners: StackEventListener[] = [];
  private readonly appTimers = new TimerList();
  private lastNow: Instant;
  private refCount = 0;
  private servicing = false;
  private closedFlag = false;
  private handle: HostTimerHandle | null = null;
  private handleKind: HostTimerKind = 'none';
  /**
   * The deadline the current handle was armed for: -Infinity for an
   * immediate, NEVER for the keep-alive timer of a driver with references
   * and nothing to do.
   */
  private handleAt: Instant = NEVER;
  /** Service passes run (for tests and diagnostics). */
  passes = 0;
  /** Whether the stack has sent a frame its link may give back (see RELEASE_MIN_FRAME). */
  private sentLarge = false;

  /** One bound callback for every host timer (no closure per arm). */
  private readonly fire = (): void => {
    const target = this.handleAt;
    this.handle = null;
    this.handleKind = 'none';
    this.handleAt = NEVER;
    this.service(target);
  };

  constructor(options: RealDriverOptions = {}) {
    const stack = options.stack;
    if (stack instanceof Stack) {
      this.stack = stack;
    } else {
      this.stack = new Stack({ ...stack, rng: stack?.rng ?? new CryptoRng() });
    }
    this.clock = options.clock ?? realClock;
    this.timers = options.timers ?? hostTimers;
    this.maxRounds = options.maxRounds ?? 64;
    this.lastNow = this.clock.now();
  }

  now(): Instant {
    const t = this.clock.now();
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  get refs(): number {
    return this.refCount;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The host timer held right now: what kind, and for which deadline. */
  get hostTimer(): { kind: HostTimerKind; at: Instant } {
    return { kind: this.handleKind, at: this.handleAt };
  }

  attach(endpoint: LinkEndpoint, options: AttachOptions = {}): number {
    const ifIndex = this.stack.addInterface({
      ...options,
      kind: endpoint.kind,
      mtu: endpoint.mtu,
      checksumOffload: endpoint.checksumOffload === true,
    });
    const attachment = { ifIndex, endpoint };
    this.attachments.push(attachment);
    this.byIndex[ifIndex] = attachment;
    this.kick();
    return ifIndex;
  }

  kick(): void {
    if (this.servicing || this.closedFlag || this.handleKind === 'immediate') return;
    this.arm(-Infinity as Instant, 'immediate');
  }

  wake(): void {
    this.kick();
  }

  ref(): void {
    this.refCount++;
    if (this.refCount !== 1 || this.closedFlag) return;
    if (this.handleKind === 'timeout') refHandle(this.handle!);
    else if (this.handle === null) this.arm(NEVER, 'timeout', this.now());
  }

  unref(): void {
    if (this.refCount === 0) throw new Error('RealDriver.unref: no reference is held');
    this.refCount--;
    if (this.refCount !== 0 || this.handleKind !== 'timeout') return;
    // A keep-alive timer with no deadline behind it has no reason to stay.
    if (this.handleAt === NEVER) this.disarm();
    else unrefHandle(this.handle!);
  }

  setTimer(at: Instant, callback: () => void): DriverTimer {
    const timer = this.appTimers.add(at, callback);
    if (!this.servicing && !this.closedFlag) this.rearm(this.now());
    return timer;
  }

  onEvent(listener: StackEventListener): () => void {
    return subscribe(this.listeners, listener);
  }

  close(): void {
    this.closedFlag = true;
    this.disarm();
  }

  /** One service pass (see the class comment). `target` is the deadline the firing timer was for. */
  private service(target: Instant): void {
    if (this.closedFlag) return;
    this.passes++;
    this.servicing = true;
    let now = this.now();
    if (target > now && target - now <= TIMER_SLACK) {
      now = target;
      this.lastNow = target;
    }
    const stack = this.stack;
    const attachments = this.attachments;
    let yielded = false;
    for (let round = 0; ; round++) {
      let work = false;
      for (let i = 0; i < attachments.length; i++) {
        const endpoint = attachments[i]!.endpoint;
        const ifIndex = attachments[i]!.ifIndex;
        for (let f = endpoint.receive(now); f !== null; f = endpoint.receive(now)) {
          stack.receiveFrame(now, ifIndex, f);
          // The stack kept nothing of it: its storage may go back to its sender.
          if (f.length >= RELEASE_MIN_FRAME && endpoint.release !== undefined) endpoint.release(f);
          work = true;
        }
        // Storage of frames we handed over that the receiver is done with
        // (only large ones come back: no need to ask before we sent one).
        if (this.sentLarge && endpoint.reclaim !== undefined)
          for (let r = endpoint.reclaim(); r !== null; r = endpoint.reclaim())
            stack.recycleFrame(r);
      }
      if (stack.pollTimeout() <= now) stack.handleTimeout(now);
      for (let out = stack.pollTransmit(now); out !== null; out = stack.pollTransmit(now)) {
        const a = this.byIndex[out.ifIndex];
        // A frame for an interface nobody attached a link to has nowhere to go.
        // The stack never writes a frame it emitted again: handed over, not copied.
        if (a !== undefined) a.endpoint.send(now, out.frame, true);
        if (out.frame.length >= RELEASE_MIN_FRAME) this.sentLarge = true;
        work = true;
      }
      for (let e = stack.pollEvent(); e !== null; e = stack.pollEvent()) {
        dispatchStackEvent(e, now, this.listeners);
        work = true;
      }
      if (this.appTimers.runDue(now)) work = true;
      if (!work && this.nextDeadline() > now) break;
      if (round + 1 >= this.maxRounds) {
        yielded = true;
        break;
      }
      now = this.now();
    }
    this.servicing = false;
    if (this.closedFlag) return;
    if (yielded) this.arm(-Infinity as Instant, 'immediate');
    else this.rearm(now);
  }

  /** The earliest instant anything here needs attention. */
  private nextDeadline(): Instant {
    let t = this.stack.pollTimeout();
    const attachments = this.attachments;
    for (let i = 0; i < attachments.length; i++) {
      const d = attachments[i]!.endpoint.pollTimeout();
      if (d < t) t = d;
    }
    const a = this.appTimers.next();
    return a < t ? a : t;
  }

  /** Makes the one host timer cover the earliest deadline. */
  private rearm(now: Instant): void {
    const at = this.nextDeadline();
    if (at === NEVER) {
      // Nothing to wake up for. A held reference still keeps the process
      // alive, as a listening socket's handle does in Node: with one, the
      // timer stays, at the longest delay the host allows.
      if (this.refCount === 0) this.disarm();
      else if (this.handle === null) this.arm(NEVER, 'timeout', now);
      return;
    }
    // A timer already due no later than `at` will do: it wakes us, we find
    // nothing or little to do, and arm again (a spurious wake is harmless).
    if (this.handle !== null && this.handleAt <= at) return;
    if (at <= now) this.arm(-Infinity as Instant, 'immediate');
    else this.arm(at, 'timeout', now);
  }

  private arm(at: Instant, kind: 'immediate' | 'timeout', now: Instant = at): void {
    this.disarm();
    const handle =
      kind === 'immediate'
        ? this.timers.setImmediate(this.fire)
        : this.timers.setTimeout(
            this.fire,
            Math.min(MAX_TIMEOUT_MS, Math.max(1, Math.ceil((at - now) / 1000))),
          );
    // Only a timeout is unref'd (where the host has unref: Node): an immediate is work due now (output to
    // send, events to hand out), and Node runs an unref'd immediate only when
    // something else wakes the event loop, so it could wait behind a
    // far-away timer of another handle.
    if (kind === 'timeout' && this.refCount === 0) unrefHandle(handle);
    this.handle = handle;
    this.handleKind = kind;
    this.handleAt = at;
  }

  private disarm(): void {
    const handle = this.handle;
    if (handle === null) return;
    if (this.handleKind === 'immediate') this.timers.clearImmediate(handle);
    else this.timers.clearTimeout(handle);
    this.handle = null;
    this.handleKind = 'none';
    this.handleAt = NEVER;
  }
}
