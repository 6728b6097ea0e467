/**
 * The virtual-clock driver: stacks of the simulator's {@link Network} driven
 * in virtual time, interleaved with the host event loop so that ordinary
 * asynchronous code (streams, `node:http`, promises) runs on top of them.
 * Time jumps straight to the next deadline whenever the application has
 * nothing left to do, so a test of a 60-second TIME-WAIT or a 2-hour
 * keepalive takes milliseconds, and a run with the same seed repeats.
 */
import { NEVER, type Instant } from '../base/index.js';
import type { LinkEndpoint } from '../link/index.js';
import { Network, type SimHost } from '../sim/index.js';
import type { Stack, StackOptions } from '../stack/index.js';
import {
  dispatchStackEvent,
  subscribe,
  type AttachOptions,
  type Driver,
  type DriverTimer,
  type StackEventListener,
} from './driver.js';
import { hostTimers, refHandle, unrefHandle, type HostTimerHandle } from './host.js';

/** Options of a {@link VirtualLoop}. */
export interface VirtualLoopOptions {
  /**
   * Simulation steps in one turn of the host event loop before yielding, so
   * that a long quiet stretch of virtual time (retransmissions, keepalive
   * probes nobody reacts to) cannot block the process. Default 1000.
   */
  maxStepsPerTurn?: number;
}

/** setTimeout's largest delay (2^31 - 1 ms). */
const MAX_TIMEOUT_MS = 0x7fffffff;

function noop(): void {}

class VirtualTimer implements DriverTimer {
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
  }
}

/**
 * Runs a {@link Network} alongside the host event loop, one turn per
 * host "immediate" (`setImmediate` in Node, a `MessageChannel` message in a
 * browser: see ./host.ts). A turn settles everything due at the current virtual
 * instant and stops as soon as an event has been handed to the application
 * (or the application changed a stack), so that the application reacts —
 * in the callbacks, `process.nextTick`s and promise jobs that run before the
 * next turn — at the same virtual instant. Only when a turn finds nothing
 * for the application does virtual time move on to the next deadline.
 *
 * Virtual time does not wait for real time: an application that waits on a
 * real `setTimeout` sees virtual time run ahead meanwhile. Use the drivers'
 * {@link Driver.setTimer} for delays that should be virtual.
 */
export class VirtualLoop {
  readonly network: Network;
  private readonly maxSteps: number;
  private readonly drivers: VirtualDriver[] = [];
  private immediate: HostTimerHandle | null = null;
  private keepAlive: HostTimerHandle | null = null;
  private totalRefs = 0;
  private kicked = false;
  private dispatched = false;
  private closedFlag = false;
  private idleWaiters: Array<() => void> = [];
  /** Turns run (for tests and diagnostics). */
  turns = 0;

  private readonly turn = (): void => {
    this.immediate = null;
    if (this.closedFlag) return;
    this.turns++;
    this.kicked = false;
    this.dispatched = false;
    const network = this.network;
    const start = network.steps;
    const busy = network.runUntil(
      () => this.kicked || this.dispatched || network.steps - start >= this.maxSteps,
      NEVER,
    );
    if (busy) {
      this.schedule();
      return;
    }
    // Nothing is pending anywhere: stay idle until the application does
    // something (with a reference held, keep the process alive meanwhile).
    this.updateKeepAlive();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  constructor(network: Network, options: VirtualLoopOptions = {}) {
    this.network = network;
    this.maxSteps = options.maxStepsPerTurn ?? 1000;
  }

  /** A new loop over a new network with this seed. */
  static create(seed: number, options: VirtualLoopOptions = {}): VirtualLoop {
    return new VirtualLoop(new Network({ seed }), options);
  }

  /** Adds a host to the network and returns its driver. */
  addHost(name: string, options: Omit<StackOptions, 'rng'> = {}): VirtualDriver {
    return this.driverFor(this.network.addHost(name, options));
  }

  /** The driver of a host already on the network (one per host). */
  driverFor(host: SimHost): VirtualDriver {
    for (const d of this.drivers) if (d.host === host) return d;
    const driver = new VirtualDriver(this, host);
    this.drivers.push(driver);
    return driver;
  }

  /** The current virtual instant. */
  get now(): Instant {
    return this.network.now;
  }

  /** References held by all drivers of this loop. */
  get refs(): number {
    return this.totalRefs;
  }

  /** Asks for a turn soon. */
  kick(): void {
    this.kicked = true;
    if (!this.closedFlag && this.immediate === null) this.schedule();
  }

  /** Resolves once nothing at all is pending on the network (it is quiet forever). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.kick();
    });
  }

  /** Stops the loop for good. */
  close(): void {
    this.closedFlag = true;
    if (this.immediate !== null) hostTimers.clearImmediate(this.immediate);
    this.immediate = null;
    this.updateKeepAlive();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** @internal an event was handed to the application: end the turn after this settle. */
  noteDispatch(): void {
    this.dispatched = true;
  }

  /** @internal */
  addRef(delta: 1 | -1): void {
    this.totalRefs += delta;
    const immediate = this.immediate;
    if (immediate === null) {
      this.updateKeepAlive();
      return;
    }
    if (this.totalRefs === 1 && delta === 1) refHandle(immediate);
    else if (this.totalRefs === 0 && !this.urgent) unrefHandle(immediate);
  }

  /**
   * The next turn is ref'd while a handle holds the process, and also when
   * the application has just been given something or changed something:
   * Node runs an unref'd immediate only when something else wakes the event
   * loop, and the application must get its reaction through. Only turns that
   * merely advance virtual time with nothing held may let the process exit.
   */
  private get urgent(): boolean {
    return this.kicked || this.dispatched;
  }

  /**
   * While the loop is idle (no turn scheduled), a held reference keeps the
   * process alive the way a listening socket's handle does in Node: with a
   * timer at the longest delay the host allows.
   */
  private updateKeepAlive(): void {
    const want = this.totalRefs > 0 && this.immediate === null && !this.closedFlag;
    if (want && this.keepAlive === null)
      this.keepAlive = hostTimers.setTimeout(noop, MAX_TIMEOUT_MS);
    else if (!want && this.keepAlive !== null) {
      hostTimers.clearTimeout(this.keepAlive);
      this.keepAlive = null;
    }
  }

  private schedule(): void {
    if (this.keepAlive !== null) {
      hostTimers.clearTimeout(this.keepAlive);
      this.keepAlive = null;
    }
    const immediate = hostTimers.setImmediate(this.turn);
    if (this.totalRefs === 0 && !this.urgent) unrefHandle(immediate);
    this.immediate = immediate;
  }
}

/** The {@link Driver} of one simulated host, run by its {@link VirtualLoop}. */
export class VirtualDriver implements Driver {
  readonly loop: VirtualLoop;
  readonly host: SimHost;
  private readonly listeners: StackEventListener[] = [];
  private refCount = 0;
  private closedFlag = false;

  /** Use {@link VirtualLoop.addHost} or {@link VirtualLoop.driverFor}. */
  constructor(loop: VirtualLoop, host: SimHost) {
    this.loop = loop;
    this.host = host;
    const previous = host.onEvent;
    if (previous !== null) this.listeners.push(previous);
    host.onEvent = (event, now) => {
      if (this.closedFlag) return;
      loop.noteDispatch();
      dispatchStackEvent(event, now, this.listeners);
    };
  }

  get stack(): Stack {
    return this.host.stack;
  }

  now(): Instant {
    return this.loop.network.now;
  }

  get refs(): number {
    return this.refCount;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  attach(endpoint: LinkEndpoint, options: AttachOptions = {}): number {
    const ifIndex = this.loop.network.attach(this.host, endpoint, options);
    this.loop.kick();
    return ifIndex;
  }

  kick(): void {
    if (!this.closedFlag) this.loop.kick();
  }

  wake(): void {
    this.kick();
  }

  ref(): void {
    this.refCount++;
    this.loop.addRef(1);
  }

  unref(): void {
    if (this.refCount === 0) throw new Error('VirtualDriver.unref: no reference is held');
    this.refCount--;
    this.loop.addRef(-1);
  }

  setTimer(at: Instant, callback: () => void): DriverTimer {
    const timer = new VirtualTimer();
    const loop = this.loop;
    loop.network.schedule(at, () => {
      if (timer.cancelled || this.closedFlag) return;
      timer.cancelled = true;
      loop.noteDispatch();
      callback();
    });
    loop.kick();
    return timer;
  }

  onEvent(listener: StackEventListener): () => void {
    return subscribe(this.listeners, listener);
  }

  /** Stops dispatching this host's events; the network itself runs on. */
  close(): void {
    this.closedFlag = true;
  }
}
