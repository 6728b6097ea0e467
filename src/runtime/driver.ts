/**
 * The driver: what turns a sans-IO {@link Stack} into something that runs.
 * It binds the stack to link endpoints and a clock, feeds it frames and time,
 * moves its output into the links, hands its events to the sockets that own
 * them, and keeps one host timer at the earliest deadline (docs/architecture.md, "How
 * the core is driven"). Two implementations share this interface: a real
 * clock (./real.ts) and the simulator's virtual time (./virtual.ts).
 */
import type { Instant } from '../base/index.js';
import type { LinkEndpoint } from '../link/index.js';
import type { InterfaceOptions, Stack, StackEvent } from '../stack/index.js';
import type { TcpEvent } from '../tcp/index.js';

/** Interface options for {@link Driver.attach}: kind and MTU come from the endpoint. */
export type AttachOptions = Omit<InterfaceOptions, 'kind' | 'mtu' | 'checksumOffload'>;

/** A timer on a driver's clock (real or virtual). */
export interface DriverTimer {
  /** Stops the timer; harmless if it already fired or was cancelled. */
  cancel(): void;
}

/**
 * What the owner of a stack `TcpSocket` implements (kept in `socket.owner`):
 * the driver hands it the connection's events, with the instant they were
 * seen.
 */
export interface TcpSocketOwner {
  onTcpEvent(event: TcpEvent, now: Instant): void;
}

/** What the owner of a stack `TcpListener` implements: connections are waiting in `accept()`. */
export interface TcpListenerOwner {
  onAccept(now: Instant): void;
}

/** Listener for every stack event a driver sees (for tracing and for events no socket owns). */
export type StackEventListener = (event: StackEvent, now: Instant) => void;

/**
 * A stack in motion. Whoever changes the stack outside an event (a socket
 * write, a read that opens the window, a close) calls {@link Driver.kick} so
 * that the output goes out; events are dispatched to `owner` objects of
 * sockets and listeners.
 */
export interface Driver {
  /** The stack this driver runs. */
  readonly stack: Stack;
  /** The current instant on this driver's clock. */
  now(): Instant;
  /**
   * Plugs a link endpoint into the stack as a new interface; returns its
   * index. The driver polls the endpoint from then on.
   */
  attach(endpoint: LinkEndpoint, options?: AttachOptions): number;
  /**
   * Asks for a service pass soon: the stack has new work from an API call.
   * Calls in the same turn of the host event loop share one pass.
   */
  kick(): void;
  /**
   * A link says frames are waiting (a TUN/TAP device became readable, or the
   * other end of an in-memory link sent). Same effect as {@link kick}.
   */
  wake(): void;
  /**
   * Holds the process alive (like an active Node handle). A listening server
   * or an open socket holds one; with none held the host timer is unref'd,
   * so a process whose sockets are all closed exits even while TCP timers
   * such as TIME-WAIT are still pending.
   */
  ref(): void;
  /** Releases one {@link ref}. */
  unref(): void;
  /** References held now. */
  readonly refs: number;
  /** Runs `callback` once at `at` on this driver's clock (socket idle timeouts use it). */
  setTimer(at: Instant, callback: () => void): DriverTimer;
  /** Subscribes to every stack event; returns the unsubscribe function. */
  onEvent(listener: StackEventListener): () => void;
  /** Stops the driver: the host timer is cleared and nothing runs any more. */
  close(): void;
  /** Whether {@link close} was called. */
  readonly closed: boolean;
}

function isSocketOwner(owner: unknown): owner is TcpSocketOwner {
  return (
    typeof owner === 'object' &&
    owner !== null &&
    typeof (owner as { onTcpEvent?: unknown }).onTcpEvent === 'function'
  );
}

function isListenerOwner(owner: unknown): owner is TcpListenerOwner {
  return (
    typeof owner === 'object' &&
    owner !== null &&
    typeof (owner as { onAccept?: unknown }).onAccept === 'function'
  );
}

/**
 * Hands one stack event to the owner of its socket or listener, after the
 * subscribed listeners. Events of sockets nobody owns (not yet accepted, or
 * given up by their owner) go to the listeners only.
 */
export function dispatchStackEvent(
  event: StackEvent,
  now: Instant,
  listeners: readonly StackEventListener[],
): void {
  for (let i = 0; i < listeners.length; i++) listeners[i]!(event, now);
  if (event.type === 'tcp') {
    const owner = event.socket.owner;
    if (isSocketOwner(owner)) owner.onTcpEvent(event.event, now);
  } else if (event.type === 'accept') {
    const owner = event.listener.owner;
    if (isListenerOwner(owner)) owner.onAccept(now);
  }
}

/** Adds `listener` to `list` and returns the function that removes it again. */
export function subscribe(list: StackEventListener[], listener: StackEventListener): () => void {
  list.push(listener);
  return () => {
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  };
}
