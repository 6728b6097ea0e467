/**
 * The socket layer's vocabulary: a call's outcome, a blocked call, the
 * interpreter as the socket layer sees it, and one descriptor's record with
 * its socket options.
 */
import { TcpError } from '../tcp/index.js';
import type { TcpConfig } from '../tcp/index.js';
import type { Stack, TcpListener, TcpSocket } from '../stack/index.js';
/** A call that finished: its return value, errno name, and anything an out-argument got wrong. */
export interface CallOutcome {
  ret: number;
  errno: string | null;
  /** Mismatches between expected and actual out-values (getsockopt, poll, ioctl). */
  mismatches: string[];
}

/** A call that would block: `retry` returns the outcome once it can finish. */
export interface Blocked {
  retry(): CallOutcome | null;
  /** A time at which the call finishes on its own (a poll timeout), or +Infinity. */
  wakeAt: number;
}

/** The interpreter, as the socket layer needs it. */
export interface SocketHost {
  /** Virtual time in microseconds. */
  now(): number;
  /** The stack, created on first use with the TCP defaults merged with `overrides`. */
  stack(overrides: Partial<TcpConfig> | null): Stack;
  /** The TCP defaults in force (profile plus sysctls). */
  tcpDefaults(): TcpConfig;
  /** What sysctls changed since the stack was created: they apply to sockets created from now on. */
  tcpChanges(): Partial<TcpConfig>;
  readonly family: 4 | 6;
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** Port `bind(fd, ..., ...)` binds (packetdrill's --bind_port, 8080). */
  readonly bindPort: number;
  /** Port `connect(fd, ..., ...)` connects to (--connect_port, 8080). */
  readonly connectPort: number;
  /** A connection became the one the script's packets belong to. */
  useSocket(socket: TcpSocket): void;
  /** A listener became the one inbound SYNs go to. */
  useListener(port: number): void;
  /** Ends the run as SKIPPED. */
  skip(reason: string): never;
  /** Ends the run as FAILED: the script used a call wrongly. */
  scriptError(message: string): never;
  /** The stack needs polling after a command. */
  touched(): void;
}

/** Options set with setsockopt, kept per descriptor and applied when they can be. */
export interface SocketOptions {
  noDelay: boolean | null;
  keepAlive: boolean | null;
  keepIdle: number | null;
  keepInterval: number | null;
  keepCount: number | null;
  userTimeout: number | null;
  receiveBuffer: number | null;
  sendBuffer: number | null;
  maxSegment: number | null;
  reuseAddress: boolean;
  linger: { onoff: number; linger: number } | null;
  /** TCP_CONGESTION: the controller's registry name. */
  congestionControl: string | null;
}

/** One open file descriptor: a TCP socket in some stage of its life. */
export interface SocketFd {
  fd: number;
  family: 4 | 6;
  nonblocking: boolean;
  boundPort: number | null;
  listener: TcpListener | null;
  conn: TcpSocket | null;
  options: SocketOptions;
  /** sk_err: an error not yet reported (an errno name). */
  pendingError: string | null;
  /** The connection's closing error was already turned into pendingError. */
  errorNoted: boolean;
  /** connect() has returned success (a second connect then says EISCONN). */
  connectReported: boolean;
  shutRead: boolean;
  shutWrite: boolean;
}

export const OK: CallOutcome = { ret: 0, errno: null, mismatches: [] };

export function ok(ret: number, mismatches: string[] = []): CallOutcome {
  return { ret, errno: null, mismatches };
}

export function fail(errno: string): CallOutcome {
  return { ret: -1, errno, mismatches: [] };
}

export function isBlocked(result: CallOutcome | Blocked): result is Blocked {
  return 'retry' in result;
}

/** The errno Linux reports for the way a connection ended. */
export function errnoFor(error: TcpError, state: 'connecting' | 'connected'): string {
  switch (error) {
    case TcpError.Refused:
      return 'ECONNREFUSED';
    case TcpError.Reset:
      return state === 'connecting' ? 'ECONNREFUSED' : 'ECONNRESET';
    case TcpError.TimedOut:
      return 'ETIMEDOUT';
    case TcpError.Aborted:
      return 'ECONNABORTED';
    case TcpError.Unreachable:
      return 'EHOSTUNREACH';
  }
  return 'EIO';
}
