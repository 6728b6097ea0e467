/**
 * The host's timers, found at run time rather than assumed: the runtime runs
 * in Node, in a browser page, in a Worker, and in other JavaScript hosts
 * (Deno, Bun, workerd). Node has `setImmediate` and handles that can be
 * unref'd; a browser has neither, so an "immediate" there is a
 * `MessageChannel` message (a task of its own, not subject to the ≥ 4 ms
 * clamp HTML puts on nested `setTimeout(0)`), and a handle is unref'd only
 * where the host's handle has `unref`.
 */

/**
 * What the driver needs of a host timer handle. Node's Timeout and Immediate
 * have `ref`/`unref` (they decide whether the process may exit); a browser's
 * timer ids have nothing, so both are optional and called only where they
 * exist.
 */
export interface HostTimerHandle {
  ref?(): unknown;
  unref?(): unknown;
}

/**
 * The host's timer functions. The default ({@link hostTimers}) is the
 * host's own; tests pass their own to watch how many timers the driver holds.
 */
export interface HostTimers {
  setTimeout(callback: () => void, ms: number): HostTimerHandle;
  clearTimeout(handle: HostTimerHandle): void;
  /** Runs `callback` soon, after the I/O and tasks already queued, before any later timeout. */
  setImmediate(callback: () => void): HostTimerHandle;
  clearImmediate(handle: HostTimerHandle): void;
}

/** Calls `handle.ref()` where the host's handle has it (Node). */
export function refHandle(handle: HostTimerHandle): void {
  if (typeof handle.ref === 'function') handle.ref();
}

/** Calls `handle.unref()` where the host's handle has it (Node). */
export function unrefHandle(handle: HostTimerHandle): void {
  if (typeof handle.unref === 'function') handle.unref();
}

/** The timer functions a host may have, none assumed (a browser has no `setImmediate`). */
interface GlobalTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  setImmediate?: (callback: () => void) => unknown;
  clearImmediate?: (id: unknown) => void;
  MessageChannel?: new () => {
    port1: { onmessage: ((event: unknown) => void) | null };
    port2: { postMessage(message: unknown): void };
  };
}

const host = globalThis as unknown as GlobalTimers;

/**
 * A host's timer id wrapped as a handle: browsers return numbers, which have
 * no `ref`/`unref`, and Node returns objects that do. Keeping Node's object
 * itself (no wrapper) keeps its `ref`/`unref` reachable.
 */
class IdHandle implements HostTimerHandle {
  readonly id: unknown;
  constructor(id: unknown) {
    this.id = id;
  }
  /** Nothing to do: such a host has no process for a timer to hold alive. */
  ref(): void {}
  /** Nothing to do (see {@link IdHandle.ref}). */
  unref(): void {}
}

function wrapId(id: unknown): HostTimerHandle {
  return typeof id === 'object' && id !== null ? (id as HostTimerHandle) : new IdHandle(id);
}

function unwrapId(handle: HostTimerHandle): unknown {
  return handle instanceof IdHandle ? handle.id : handle;
}

/** One queued callback of {@link MessageChannelImmediates}. */
class ImmediateTask implements HostTimerHandle {
  readonly callback: () => void;
  cancelled = false;
  constructor(callback: () => void) {
    this.callback = callback;
  }
  /** Nothing to do: a page or Worker has no process for a task to hold alive. */
  ref(): void {}
  /** Nothing to do (see {@link ImmediateTask.ref}). */
  unref(): void {}
}

/**
 * `setImmediate` made of one `MessageChannel`: callbacks queue up and one
 * message runs all that were queued before it was delivered (the callbacks
 * they queue wait for the next message, so other tasks, I/O and rendering
 * get their turn in between, as with Node's immediates).
 */
class MessageChannelImmediates {
  private queue: ImmediateTask[] = [];
  private posted = false;
  private readonly post: () => void;

  constructor(Channel: NonNullable<GlobalTimers['MessageChannel']>) {
    const channel = new Channel();
    channel.port1.onmessage = () => this.run();
    const port = channel.port2;
    this.post = () => port.postMessage(null);
  }

  set(callback: () => void): ImmediateTask {
    const task = new ImmediateTask(callback);
    this.queue.push(task);
    if (!this.posted) {
      this.posted = true;
      this.post();
    }
    return task;
  }

  private run(): void {
    this.posted = false;
    const tasks = this.queue;
    this.queue = [];
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!;
      if (!task.cancelled) task.callback();
    }
  }
}

let channelImmediates: MessageChannelImmediates | null = null;

/**
 * The best "soon" the host has: `setImmediate` (Node, Bun), else a
 * `MessageChannel` message (browsers, Workers, Deno), else `setTimeout(0)`.
 */
function makeImmediate(): Pick<HostTimers, 'setImmediate' | 'clearImmediate'> {
  const setImmediateFn = host.setImmediate;
  const clearImmediateFn = host.clearImmediate;
  if (typeof setImmediateFn === 'function' && typeof clearImmediateFn === 'function') {
    return {
      setImmediate: (callback) => wrapId(setImmediateFn(callback)),
      clearImmediate: (handle) => clearImmediateFn(unwrapId(handle)),
    };
  }
  const Channel = host.MessageChannel;
  if (typeof Channel === 'function') {
    return {
      setImmediate: (callback) => {
        channelImmediates ??= new MessageChannelImmediates(Channel);
        return channelImmediates.set(callback);
      },
      clearImmediate: (handle) => {
        (handle as ImmediateTask).cancelled = true;
      },
    };
  }
  return {
    setImmediate: (callback) => wrapId(host.setTimeout(callback, 0)),
    clearImmediate: (handle) => host.clearTimeout(unwrapId(handle)),
  };
}

/** The host's own timers, whichever host this is (see the file comment). */
export const hostTimers: HostTimers = {
  setTimeout: (callback, ms) => wrapId(host.setTimeout(callback, ms)),
  clearTimeout: (handle) => host.clearTimeout(unwrapId(handle)),
  ...makeImmediate(),
};

/** The former name of {@link hostTimers}, from when the runtime ran only in Node. */
export const nodeTimers: HostTimers = hostTimers;
