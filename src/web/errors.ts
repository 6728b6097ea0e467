/**
 * Errors of the web-stream sockets. They carry the same `code` and
 * `syscall` as the node:net face's (the table is runtime/socket-errors.ts),
 * so code written against either can test `error.code === 'ECONNRESET'`.
 * There is no `errno` here: libuv's numbers are Node's, not the web's.
 */
import {
  TCP_ERROR_CODES,
  isNetErrorCode,
  type NetErrorCode,
  type NetSyscall,
} from '../runtime/index.js';
import type { TcpError } from '../tcp/index.js';

/** An error of a tcpts/web socket or listener. */
export interface SocketError extends Error {
  code: NetErrorCode;
  syscall: NetSyscall;
  /** The peer's (connect) or our own (listen, bind) address, where one applies. */
  address?: string;
  port?: number;
}

/**
 * Builds a {@link SocketError}. The message reads as Node's does
 * (`connect ECONNREFUSED 10.0.0.2:80`), so logs look the same from both faces.
 */
export function socketError(
  code: NetErrorCode,
  syscall: NetSyscall,
  address?: string,
  port?: number,
  hint?: string,
): SocketError {
  let details = '';
  if (address !== undefined) details = port !== undefined ? ` ${address}:${port}` : ` ${address}`;
  const error = new Error(
    `${syscall} ${code}${details}${hint !== undefined ? ` (${hint})` : ''}`,
  ) as SocketError;
  error.name = 'Error';
  error.code = code;
  error.syscall = syscall;
  if (address !== undefined) error.address = address;
  if (port !== undefined) error.port = port;
  return error;
}

/** The error a connection that ended with `error` reports; the peer's address only on connect errors, as Node. */
export function connectionError(
  error: TcpError,
  syscall: 'connect' | 'read' | 'write',
  address: string,
  port: number,
): SocketError {
  const code = TCP_ERROR_CODES[error];
  return syscall === 'connect'
    ? socketError(code, syscall, address, port)
    : socketError(code, syscall);
}

/**
 * Turns an error the stack threw on an API call (connect, listen, bind)
 * into a {@link SocketError} when it carries one of our codes; anything else
 * (a TypeError about an argument) is returned as it is.
 */
export function fromStackError(
  thrown: unknown,
  syscall: 'connect' | 'listen',
  address: string,
  port: number,
): unknown {
  const code = (thrown as { code?: unknown } | null)?.code;
  if (isNetErrorCode(code)) {
    return socketError(code, syscall, address, port);
  }
  return thrown;
}
