/**
 * The error codes of tcpts sockets, whichever face they wear: the
 * `node:net`-shaped sockets (net/) and the web-stream sockets (web/) report
 * a connection's end with the same `code`s, so this table is shared by both
 * and needs no host API. Each face adds what its host expects on top
 * (net/errors.ts: libuv's errno and message; web/errors.ts: a plain Error).
 */
import type { TcpError } from '../tcp/index.js';

/** The error codes tcpts sockets and servers produce. */
export type NetErrorCode =
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'ECONNABORTED'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EPIPE'
  | 'ENOTFOUND';

/** The system call Node names in its socket errors. */
export type NetSyscall = 'connect' | 'read' | 'write' | 'listen' | 'getaddrinfo';

/**
 * How each way a connection can end in error looks in Node. The one table
 * from the core's vocabulary to Node's codes.
 *
 * `aborted` is ours: the application (or closing with unread data) reset the
 * connection. Locally Node reports nothing for that (the socket is already
 * destroyed); the peer sees ECONNRESET through `reset`.
 */
export const TCP_ERROR_CODES: Readonly<Record<TcpError, NetErrorCode>> = {
  refused: 'ECONNREFUSED',
  reset: 'ECONNRESET',
  'timed-out': 'ETIMEDOUT',
  aborted: 'ECONNABORTED',
  unreachable: 'EHOSTUNREACH',
};

const NET_ERROR_CODES: ReadonlySet<string> = new Set<NetErrorCode>([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'EPIPE',
  'ENOTFOUND',
]);

/** Whether `code` is one of the {@link NetErrorCode}s (the stack throws some of them on API calls). */
export function isNetErrorCode(code: unknown): code is NetErrorCode {
  return typeof code === 'string' && NET_ERROR_CODES.has(code);
}
