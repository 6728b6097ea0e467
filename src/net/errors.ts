/**
 * Node-shaped errors. The core speaks one closed vocabulary (`TcpError`:
 * refused, reset, timed-out, aborted, unreachable) plus a few codes the
 * stack throws on API calls (EADDRINUSE, ENETUNREACH, EADDRNOTAVAIL); this
 * is the one place they become what `node:net` users expect: an `Error` with
 * `code`, `errno` (negative, as libuv reports it), `syscall`, and `address`
 * and `port` where Node gives them (DESIGN.md convention 7). Which code each
 * end gets is the table in runtime/socket-errors.ts, shared with web/.
 */
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import type { TcpError } from '../tcp/index.js';
import {
  TCP_ERROR_CODES,
  isNetErrorCode,
  type NetErrorCode,
  type NetSyscall,
} from '../runtime/index.js';

export { TCP_ERROR_CODES, type NetErrorCode, type NetSyscall } from '../runtime/index.js';

/** An error as Node's `net` module shapes it. */
export interface NetError extends Error {
  code: NetErrorCode;
  errno: number;
  syscall: NetSyscall;
  address?: string;
  port?: number;
  /** The name that did not resolve (`getaddrinfo` errors, as Node's dns errors). */
  hostname?: string;
}

/** libuv's errno for a code: the negated OS errno (libuv's UV__ERR on Unix). */
export function errnoOf(code: NetErrorCode): number {
  if (code === 'ENOTFOUND') return -3008; // UV_EAI_NONAME: not an OS errno
  const errnos = osConstants.errno as Record<string, number | undefined>;
  const value = errnos[code];
  return value === undefined ? 0 : -value;
}

/** libuv's text for a code ("address already in use"), as `listen` errors show it. */
function describe(code: NetErrorCode): string {
  const entry = getSystemErrorMap().get(errnoOf(code));
  return entry !== undefined ? entry[1] : code;
}

/**
 * Builds a Node-shaped error. The message follows Node's two forms:
 * `connect ECONNREFUSED 10.0.0.2:80` (exceptionWithHostPort) and, for
 * `listen`, `listen EADDRINUSE: address already in use :::80`
 * (uvExceptionWithHostPort).
 */
export function netError(
  code: NetErrorCode,
  syscall: NetSyscall,
  address?: string,
  port?: number,
): NetError {
  let details = '';
  if (address !== undefined)
    details = port !== undefined && port > 0 ? ` ${address}:${port}` : ` ${address}`;
  const message =
    syscall === 'listen'
      ? `${syscall} ${code}: ${describe(code)}${details}`
      : syscall === 'getaddrinfo'
        ? `getaddrinfo ${code}${address !== undefined ? ` ${address}` : ''}`
        : `${syscall} ${code}${details}`;
  const error = new Error(message) as NetError;
  error.errno = errnoOf(code);
  error.code = code;
  error.syscall = syscall;
  if (syscall === 'getaddrinfo') {
    if (address !== undefined) error.hostname = address;
  } else {
    if (address !== undefined) error.address = address;
    if (port !== undefined) error.port = port;
  }
  return error;
}

/** The error a socket reports when its connection ended with `error` during `syscall`. */
export function tcpError(
  error: TcpError,
  syscall: 'connect' | 'read' | 'write',
  address?: string,
  port?: number,
): NetError {
  // Node puts the peer's address and port only on connect errors.
  return syscall === 'connect'
    ? netError(TCP_ERROR_CODES[error], syscall, address, port)
    : netError(TCP_ERROR_CODES[error], syscall);
}

/**
 * Turns an error the stack threw on an API call (listen, connect) into a
 * Node-shaped one; anything else (a TypeError about an argument) is
 * returned unchanged, since Node throws those synchronously too.
 */
export function fromStackError(
  thrown: unknown,
  syscall: 'connect' | 'listen',
  address: string,
  port: number,
): unknown {
  const code = (thrown as { code?: unknown } | null)?.code;
  if (isNetErrorCode(code)) {
    return netError(code, syscall, address, port);
  }
  return thrown;
}

/**
 * What Node's socket reports for a write after the peer's FIN when
 * `allowHalfOpen` is false: EPIPE, "This socket has been ended by the other
 * party" (lib/net.js writeAfterFIN). `errno` and `syscall` are added so every
 * tcpts socket error has the same fields.
 */
export function endedByPeerError(): NetError {
  const error = new Error('This socket has been ended by the other party') as NetError;
  error.errno = errnoOf('EPIPE');
  error.code = 'EPIPE';
  error.syscall = 'write';
  return error;
}
