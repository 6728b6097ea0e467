/**
 * The socket API of a packetdrill script mapped onto tcpts: file descriptors
 * (socket() returns 3, the next free number after that), Linux's return
 * values and errno names, blocking and non-blocking behaviour. Each call
 * either completes at once or returns a `Blocked` record whose `retry` the
 * interpreter runs again whenever the stack changes, as a blocked thread
 * would wake up.
 *
 * The errors follow Linux's tcp_sendmsg / tcp_recvmsg / inet_stream_connect:
 * a connection that ends with an error leaves it pending (sk_err) until one
 * read, write, connect or getsockopt(SO_ERROR) reports it; after that reads
 * return 0 and writes fail with EPIPE.
 */
import { millis, seconds, type Instant } from '../base/index.js';
import { TcpError, TcpState, type TcpConfig } from '../tcp/index.js';
import type { Stack, TcpSocket } from '../stack/index.js';
import { ERRNO, LINUX_CA_STATE, LINUX_TCP_STATE, SYMBOLS } from './constants.js';
import type { Expr } from './script.js';
import { getSocketOption, setSocketOption } from './sockopt.js';

import {
  OK,
  errnoFor,
  fail,
  isBlocked,
  ok,
  type Blocked,
  type CallOutcome,
  type SocketFd,
  type SocketHost,
  type SocketOptions,
} from './socket-fd.js';

export type { Blocked, CallOutcome, SocketHost };
/** The socket layer: a table of descriptors over one stack. */
export class SocketLayer {
  readonly host: SocketHost;
  private readonly fds = new Map<number, SocketFd>();
  /** The descriptor the script expects the current call to return, if it names one. */
  private wantedFd: number | null = null;
  /** Connections already seen, so options inherited from a listener are applied once. */
  private readonly adopted = new WeakSet<TcpSocket>();

  constructor(host: SocketHost) {
    this.host = host;
  }

  /** The socket of the highest-numbered descriptor holding a connection (for TCP_INFO in %{ }%). */
  lastConnection(): TcpSocket | null {
    let best: SocketFd | null = null;
    for (const f of this.fds.values())
      if (f.conn !== null && (best === null || f.fd > best.fd)) best = f;
    return best?.conn ?? null;
  }

  /** Listeners still open (for `ss state listening`). */
  openListeners(): number {
    let n = 0;
    for (const f of this.fds.values()) if (f.listener !== null && !f.listener.closed) n++;
    return n;
  }

  /**
   * Applies a listener's socket options to connections it spawned, as Linux
   * children inherit them. Called after every packet the stack takes in.
   */
  adoptChildren(stack: Stack): void {
    for (const f of this.fds.values()) {
      if (f.listener === null) continue;
      for (const s of stack.tcpSockets()) {
        if (s.listener !== f.listener || this.adopted.has(s)) continue;
        this.adopted.add(s);
        this.applyLiveOptions(f.options, s);
      }
    }
  }

  /** Runs one system call. */
  call(name: string, args: Expr[], expected: Expr | null = null): CallOutcome | Blocked {
    // packetdrill maps the script's descriptor numbers onto live ones: a new
    // socket takes the number the script expects for it, when that is free.
    this.wantedFd =
      expected !== null && expected.type === 'int' && expected.value >= 0 ? expected.value : null;
    switch (name) {
      case 'socket':
        return this.socket(args);
      case 'bind':
        return this.bind(args);
      case 'listen':
        return this.listen(args);
      case 'accept':
      case 'accept4':
        return this.accept(args, name === 'accept4');
      case 'connect':
        return this.connect(args);
      case 'read':
        return this.read(args, 2, null);
      case 'recv':
      case 'recvfrom':
        return this.read(args, 2, args[3] ?? null);
      case 'write':
        return this.write(args, 2, null);
      case 'send':
      case 'sendto':
        return this.write(args, 2, args[3] ?? null);
      case 'writev':
        return this.writev(args);
      case 'sendmsg':
      case 'recvmsg':
        return this.message(name, args);
      case 'close':
        return this.close(args);
      case 'shutdown':
        return this.shutdown(args);
      case 'setsockopt':
        return this.setsockopt(args);
      case 'getsockopt':
        return this.getsockopt(args);
      case 'fcntl':
        return this.fcntl(args);
      case 'ioctl':
        return this.ioctl(args);
      case 'poll':
        return this.poll(args);
      default:
        return this.host.skip(`system call ${name}() is not supported by the tcpts socket layer`);
    }
  }

  // --- argument helpers ----------------------------------------------------

  /** An integer argument: a number, a symbol, or symbols joined with |. Null for `...`. */
  intOf(e: Expr | undefined, what: string): number | null {
    if (e === undefined) return this.host.scriptError(`missing argument: ${what}`);
    switch (e.type) {
      case 'int':
        return e.value;
      case 'ellipsis':
        return null;
      case 'word': {
        const v =
          SYMBOLS[e.name] ?? ERRNO[e.name] ?? LINUX_TCP_STATE[e.name] ?? LINUX_CA_STATE[e.name];
        if (v === undefined) {
          if (
            /^(TCP|SO|IP|IPV6|MSG|O|F|SOCK|POLL|SIOC|FION)_/.test(e.name) ||
            e.name.startsWith('SIOC')
          )
            return this.host.skip(`symbol ${e.name} is not supported`);
          return this.host.scriptError(`unknown symbol ${e.name} for ${what}`);
        }
        return v;
      }
      case 'or': {
        const l = this.intOf(e.left, what);
        const r = this.intOf(e.right, what);
        if (l === null || r === null) return this.host.scriptError(`'...' inside | for ${what}`);
        return l | r;
      }
      case 'list':
        if (e.items.length === 1) return this.intOf(e.items[0], what);
        return this.host.scriptError(`expected [value] for ${what}`);
      case 'call':
        if (e.name === 'htons' && e.args.length === 1) return this.intOf(e.args[0], what);
        return this.host.scriptError(`unexpected ${e.name}(...) for ${what}`);
      default:
        return this.host.scriptError(`expected an integer for ${what}`);
    }
  }

  private fdOf(e: Expr | undefined): SocketFd | CallOutcome {
    const n = this.intOf(e, 'file descriptor');
    if (n === null) return this.host.scriptError('a file descriptor cannot be ...');
    const f = this.fds.get(n);
    return f ?? fail('EBADF');
  }

  private nextFd(): number {
    const wanted = this.wantedFd;
    if (wanted !== null && !this.fds.has(wanted)) return wanted;
    let n = 3;
    while (this.fds.has(n)) n++;
    return n;
  }

  private newFd(family: 4 | 6, nonblocking: boolean): SocketFd {
    const f: SocketFd = {
      fd: this.nextFd(),
      family,
      nonblocking,
      boundPort: null,
      listener: null,
      conn: null,
      options: {
        noDelay: null,
        congestionControl: null,
        keepAlive: null,
        keepIdle: null,
        keepInterval: null,
        keepCount: null,
        userTimeout: null,
        receiveBuffer: null,
        sendBuffer: null,
        maxSegment: null,
        reuseAddress: false,
        linger: null,
      },
      pendingError: null,
      errorNoted: false,
      connectReported: false,
      shutRead: false,
      shutWrite: false,
    };
    this.fds.set(f.fd, f);
    return f;
  }

  /** Turns a connection's closing error into sk_err, once. */
  private noteError(f: SocketFd): void {
    const c = f.conn;
    if (c === null || f.errorNoted || c.state !== TcpState.Closed) return;
    f.errorNoted = true;
    const error = c.conn.closeError;
    if (error === null || error === TcpError.Aborted) return;
    const wasConnected = c.conn.transitions.some((t) => t.to === TcpState.Established);
    const last = c.conn.transitions[c.conn.transitions.length - 1];
    // Linux's tcp_reset: a RST in CLOSE-WAIT is reported as EPIPE.
    if (error === TcpError.Reset && last?.from === TcpState.CloseWait) f.pendingError = 'EPIPE';
    else f.pendingError = errnoFor(error, wasConnected ? 'connected' : 'connecting');
  }

  takeError(f: SocketFd): string | null {
    this.noteError(f);
    const e = f.pendingError;
    f.pendingError = null;
    return e;
  }

  /** TCP defaults for a new connection of `f`: socket options on top of the stack defaults. */
  private overrides(f: SocketFd): Partial<TcpConfig> {
    const o = f.options;
    const t: Partial<TcpConfig> = { ...this.host.tcpChanges() };
    if (o.noDelay !== null) t.noDelay = o.noDelay;
    if (o.congestionControl !== null) t.congestionControl = o.congestionControl;
    if (o.keepAlive !== null) t.keepAlive = o.keepAlive;
    if (o.keepIdle !== null) t.keepAliveIdle = seconds(o.keepIdle);
    if (o.keepInterval !== null) t.keepAliveInterval = seconds(o.keepInterval);
    if (o.keepCount !== null) t.keepAliveCount = o.keepCount;
    if (o.userTimeout !== null) t.userTimeout = millis(o.userTimeout);
    if (o.receiveBuffer !== null) {
      // Linux sizes the window scale from a locked SO_RCVBUF (tcp_select_initial_window).
      t.receiveBufferSize = o.receiveBuffer;
      t.maxReceiveBufferSize = o.receiveBuffer;
      // Linux sets SOCK_RCVBUF_LOCK with SO_RCVBUF, and tcp_rcv_space_adjust then
      // leaves the buffer alone: no autotuning on this socket.
      t.receiveBufferAutotuning = false;
    }
    if (o.sendBuffer !== null) t.sendBufferSize = o.sendBuffer;
    if (o.maxSegment !== null) t.mss = o.maxSegment;
    return t;
  }

  /** Options that can change on a live connection. */
  applyLiveOptions(o: SocketOptions, s: TcpSocket): void {
    const now = this.host.now() as Instant;
    const config = s.conn.config;
    if (o.noDelay !== null) s.setNoDelay(o.noDelay);
    if (o.keepInterval !== null) config.keepAliveInterval = seconds(o.keepInterval);
    if (o.keepCount !== null) config.keepAliveCount = o.keepCount;
    if (o.userTimeout !== null) s.conn.setUserTimeout(millis(o.userTimeout));
    if (o.keepAlive !== null || o.keepIdle !== null) {
      s.setKeepAlive(
        now,
        o.keepAlive ?? config.keepAlive,
        o.keepIdle !== null ? seconds(o.keepIdle) : undefined,
      );
    }
    this.host.touched();
  }

  // --- the calls -----------------------------------------------------------

  private socket(args: Expr[]): CallOutcome {
    const domain = this.intOf(args[0], 'domain');
    const type = this.intOf(args[1], 'type') ?? SYMBOLS.SOCK_STREAM!;
    const protocol = this.intOf(args[2], 'protocol');
    let family = this.host.family;
    if (domain === SYMBOLS.AF_INET) family = 4;
    else if (domain === SYMBOLS.AF_INET6) family = 6;
    else if (domain !== null) return fail('EAFNOSUPPORT');
    if (family !== this.host.family)
      return this.host.skip(`an IPv${family} socket in an IPv${this.host.family} script`);
    const base = type & ~(SYMBOLS.SOCK_NONBLOCK! | SYMBOLS.SOCK_CLOEXEC!);
    if (base !== SYMBOLS.SOCK_STREAM)
      return this.host.skip('only SOCK_STREAM sockets are supported (tcpts runs TCP scripts)');
    if (protocol !== null && protocol !== 0 && protocol !== SYMBOLS.IPPROTO_TCP)
      return fail('EPROTONOSUPPORT');
    const f = this.newFd(family, (type & SYMBOLS.SOCK_NONBLOCK!) !== 0);
    return ok(f.fd);
  }

  private bind(args: Expr[]): CallOutcome {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    if (f.boundPort !== null || f.conn !== null || f.listener !== null) return fail('EINVAL');
    let port = this.host.bindPort;
    const addr = args[1];
    if (addr !== undefined && addr.type === 'struct') {
      for (const item of addr.items) {
        if (item.type === 'assign' && item.name === 'sin_port') {
          port = this.intOf(item.value, 'sin_port') ?? port;
        }
      }
    }
    f.boundPort = port;
    return OK;
  }

  private listen(args: Expr[]): CallOutcome {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    const backlog = this.intOf(args[1], 'backlog') ?? 128;
    if (f.conn !== null) return fail('EINVAL');
    if (f.listener !== null) {
      f.listener.backlog = Math.max(backlog, 1);
      return OK;
    }
    const stack = this.host.stack(this.overrides(f));
    try {
      f.listener = stack.listen({
        port: f.boundPort ?? 0,
        backlog: Math.max(backlog, 1),
        family: f.family,
      });
    } catch (error) {
      if ((error as { code?: string }).code === 'EADDRINUSE') return fail('EADDRINUSE');
      throw error;
    }
    f.boundPort = f.listener.port;
    this.host.useListener(f.listener.port);
    return OK;
  }

  private accept(args: Expr[], hasFlags: boolean): CallOutcome | Blocked {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    const listener = f.listener;
    if (listener === null) return fail('EINVAL');
    const flags = hasFlags ? (this.intOf(args[3], 'flags') ?? 0) : 0;
    const attempt = (): CallOutcome | null => {
      if (listener.closed) return fail('EINVAL');
      const s = listener.accept();
      if (s === null) return null;
      const child = this.newFd(f.family, (flags & SYMBOLS.SOCK_NONBLOCK!) !== 0);
      child.conn = s;
      child.connectReported = true;
      child.options = { ...f.options };
      this.host.useSocket(s);
      return ok(child.fd);
    };
    return this.blockUnless(f, attempt);
  }

  private blockUnless(f: SocketFd, attempt: () => CallOutcome | null): CallOutcome | Blocked {
    const first = attempt();
    if (first !== null) return first;
    if (f.nonblocking) return fail('EAGAIN');
    return { retry: attempt, wakeAt: Number.POSITIVE_INFINITY };
  }

  private connect(args: Expr[]): CallOutcome | Blocked {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    if (f.listener !== null) return fail('EISCONN');
    const waitEstablished = (): CallOutcome | null => {
      const c = f.conn!;
      const state = c.state;
      if (state === TcpState.SynSent || state === TcpState.SynReceived) return null;
      if (state === TcpState.Closed) {
        const e = this.takeError(f);
        return fail(e ?? 'ECONNABORTED');
      }
      f.connectReported = true;
      return OK;
    };
    if (f.conn !== null) {
      const state = f.conn.state;
      if (state === TcpState.SynSent || state === TcpState.SynReceived) {
        if (f.nonblocking) return fail('EALREADY');
        return { retry: waitEstablished, wakeAt: Number.POSITIVE_INFINITY };
      }
      if (state === TcpState.Closed) {
        const e = this.takeError(f);
        return fail(e ?? 'ECONNABORTED');
      }
      if (f.connectReported) return fail('EISCONN');
      f.connectReported = true;
      return OK;
    }
    let host = this.host.remoteAddress;
    let port = this.host.connectPort;
    const addr = args[1];
    if (addr !== undefined && addr.type === 'struct') {
      for (const item of addr.items) {
        if (item.type !== 'assign') continue;
        if (item.name === 'sin_port' || item.name === 'sin6_port')
          port = this.intOf(item.value, item.name) ?? port;
        if (
          (item.name === 'sin_addr' || item.name === 'sin6_addr') &&
          item.value.type === 'call' &&
          item.value.args[0]?.type === 'string'
        )
          host = item.value.args[0].value;
      }
    }
    const stack = this.host.stack(null);
    let socket: TcpSocket;
    try {
      socket = stack.connect(this.host.now() as Instant, {
        host,
        port,
        localPort: f.boundPort ?? 0,
        tcp: this.overrides(f),
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== undefined && ERRNO[code] !== undefined) return fail(code);
      throw error;
    }
    this.adopted.add(socket);
    f.conn = socket;
    f.boundPort = socket.localPort;
    this.host.useSocket(socket);
    this.host.touched();
    if (f.nonblocking) return fail('EINPROGRESS');
    return { retry: waitEstablished, wakeAt: Number.POSITIVE_INFINITY };
  }

  private flagsOf(e: Expr | null): number {
    if (e === null) return 0;
    return this.intOf(e, 'flags') ?? 0;
  }

  private read(args: Expr[], countIndex: number, flagsExpr: Expr | null): CallOutcome | Blocked {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    const count = this.intOf(args[countIndex], 'count');
    if (count === null) return this.host.scriptError('read needs a byte count');
    const flags = this.flagsOf(flagsExpr);
    const unmodelled = flags & ~(SYMBOLS.MSG_PEEK! | SYMBOLS.MSG_DONTWAIT!);
    if (unmodelled !== 0)
      return this.host.skip(
        `receive flags 0x${unmodelled.toString(16)} are not modelled (only MSG_PEEK and MSG_DONTWAIT)`,
      );
    const peek = (flags & SYMBOLS.MSG_PEEK!) !== 0;
    const dontWait = (flags & SYMBOLS.MSG_DONTWAIT!) !== 0;
    if (f.listener !== null || f.conn === null) return fail('ENOTCONN');
    const c = f.conn;
    const nullBuffer = isNullPointer(args[1]);
    const attempt = (): CallOutcome | null => {
      if (f.shutRead && c.readableBytes === 0) return ok(0);
      const available = c.readableBytes;
      // Linux's copy to a NULL buffer faults, and the data stays queued.
      if (available > 0 && count > 0 && nullBuffer) return fail('EFAULT');
      if (available > 0 && count > 0) {
        const buffer = new Uint8Array(Math.min(available, count));
        const n = peek ? c.conn.peek(buffer) : c.read(buffer);
        if (!peek) this.host.touched();
        return ok(n);
      }
      if (count === 0) return ok(0);
      this.noteError(f);
      if (f.pendingError !== null) return fail(this.takeError(f)!);
      if (c.conn.peerClosed || c.state === TcpState.Closed) return ok(0);
      if (c.state === TcpState.Listen) return fail('ENOTCONN');
      return null;
    };
    const first = attempt();
    if (first !== null) return first;
    if (f.nonblocking || dontWait) return fail('EAGAIN');
    return { retry: attempt, wakeAt: Number.POSITIVE_INFINITY };
  }

  private write(args: Expr[], countIndex: number, flagsExpr: Expr | null): CallOutcome | Blocked {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    const count = this.intOf(args[countIndex], 'count');
    if (count === null) return this.host.scriptError('write needs a byte count');
    const flags = this.flagsOf(flagsExpr);
    // MSG_MORE corks and MSG_EOR, MSG_OOB, MSG_ZEROCOPY ... change what is
    // sent; MSG_NOSIGNAL only spares the signal, which scripts never see.
    const unmodelled = flags & ~(SYMBOLS.MSG_DONTWAIT! | SYMBOLS.MSG_NOSIGNAL!);
    if (unmodelled !== 0)
      return this.host.skip(
        `send flags 0x${unmodelled.toString(16)} are not modelled (only MSG_DONTWAIT and MSG_NOSIGNAL)`,
      );
    // Linux's copy from a NULL buffer faults before anything is queued.
    if (count > 0 && isNullPointer(args[1]) && f.conn !== null) return fail('EFAULT');
    return this.writeBytes(f, count, (flags & SYMBOLS.MSG_DONTWAIT!) !== 0);
  }

  private writev(args: Expr[]): CallOutcome | Blocked {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    const iov = args[1];
    if (iov === undefined || iov.type !== 'list')
      return this.host.scriptError('writev needs [{..., len}, ...]');
    let total = 0;
    for (const v of iov.items) {
      if (v.type !== 'struct' || v.items.length !== 2)
        return this.host.scriptError('each iovec is {..., length}');
      total += this.intOf(v.items[1], 'iov_len') ?? 0;
    }
    return this.writeBytes(f, total, false);
  }

  /**
   * sendmsg / recvmsg with a `{msg_name(...)=..., msg_iov(1)=[{..., N}],
   * msg_flags=0}` msghdr: the bytes of the iovecs go as write or read would
   * move them. Ancillary data and returned message flags are not modelled.
   */
  private message(name: string, args: Expr[]): CallOutcome | Blocked {
    const header = args[1];
    if (header === undefined || header.type !== 'struct')
      return this.host.scriptError(
        `${name} needs a msghdr {msg_name(...)=..., msg_iov(1)=[...], msg_flags=0}`,
      );
    let total: number | null = null;
    for (const field of header.items) {
      if (field.type !== 'assign')
        return this.host.scriptError(`${name}: each msghdr field is name=value`);
      switch (field.name) {
        case 'msg_name':
          break;
        case 'msg_iov': {
          if (field.value.type !== 'list')
            return this.host.scriptError(`${name}: msg_iov is a list of {..., length}`);
          total = 0;
          for (const v of field.value.items) {
            if (v.type !== 'struct' || v.items.length !== 2)
              return this.host.scriptError(`${name}: each iovec is {..., length}`);
            total += this.intOf(v.items[1], 'iov_len') ?? 0;
          }
          break;
        }
        case 'msg_control':
          if (
            field.value.type !== 'ellipsis' &&
            !(field.value.type === 'list' && field.value.items.length === 0)
          )
            return this.host.skip(`${name} with ancillary data (msg_control) is not supported`);
          break;
        case 'msg_flags': {
          const flags = this.intOf(field.value, 'msg_flags');
          if (flags !== null && flags !== 0)
            return this.host.skip(
              `${name} msg_flags=${flags}: returned message flags are not modelled`,
            );
          break;
        }
        default:
          return this.host.scriptError(`${name}: unknown msghdr field ${field.name}`);
      }
    }
    if (total === null) return this.host.scriptError(`${name}: the msghdr has no msg_iov`);
    const count: Expr = { type: 'int', value: total };
    const flags = args[2] ?? null;
    return name === 'sendmsg'
      ? this.write([args[0]!, header, count], 2, flags)
      : this.read([args[0]!, header, count], 2, flags);
  }

  private writeBytes(f: SocketFd, count: number, dontWait: boolean): CallOutcome | Blocked {
    if (f.listener !== null) return fail('EPIPE');
    if (f.conn === null) return fail('EPIPE');
    const c = f.conn;
    let written = 0;
    const nonblocking = f.nonblocking || dontWait;
    const attempt = (): CallOutcome | null => {
      this.noteError(f);
      if (f.pendingError !== null) {
        if (written > 0) return ok(written);
        return fail(this.takeError(f)!);
      }
      const state = c.state;
      if (state === TcpState.SynSent || state === TcpState.SynReceived) return null;
      if (f.shutWrite || (state !== TcpState.Established && state !== TcpState.CloseWait)) {
        if (written > 0) return ok(written);
        return fail('EPIPE');
      }
      if (count === 0) return ok(0);
      const room = c.writableBytes;
      if (room > 0) {
        written += c.write(new Uint8Array(Math.min(room, count - written)));
        this.host.touched();
      }
      if (written === count) return ok(written);
      if (nonblocking) return written > 0 ? ok(written) : fail('EAGAIN');
      return null;
    };
    const first = attempt();
    if (first !== null) return first;
    if (nonblocking) return fail('EAGAIN');
    return { retry: attempt, wakeAt: Number.POSITIVE_INFINITY };
  }

  private close(args: Expr[]): CallOutcome {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    this.fds.delete(f.fd);
    const now = this.host.now() as Instant;
    if (f.listener !== null) f.listener.close();
    if (f.conn !== null) {
      if (
        f.options.linger !== null &&
        f.options.linger.onoff !== 0 &&
        f.options.linger.linger === 0
      )
        f.conn.abort(now);
      else f.conn.close(now);
    }
    this.host.touched();
    return OK;
  }

  private shutdown(args: Expr[]): CallOutcome {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    const how = this.intOf(args[1], 'how');
    if (how === null || how < 0 || how > 2) return fail('EINVAL');
    if (f.conn === null) return fail('ENOTCONN');
    const state = f.conn.state;
    if (state === TcpState.Closed || state === TcpState.Listen) return fail('ENOTCONN');
    if (how === SYMBOLS.SHUT_RD || how === SYMBOLS.SHUT_RDWR) f.shutRead = true;
    if (how === SYMBOLS.SHUT_WR || how === SYMBOLS.SHUT_RDWR) {
      if (!f.shutWrite) f.conn.shutdown(this.host.now() as Instant);
      f.shutWrite = true;
    }
    this.host.touched();
    return OK;
  }

  private setsockopt(args: Expr[]): CallOutcome {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    return setSocketOption(this, f, args);
  }

  private getsockopt(args: Expr[]): CallOutcome {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    return getSocketOption(this, f, args);
  }

  private fcntl(args: Expr[]): CallOutcome {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    const cmd = this.intOf(args[1], 'command');
    if (cmd === SYMBOLS.F_GETFL)
      return ok(SYMBOLS.O_RDWR! | (f.nonblocking ? SYMBOLS.O_NONBLOCK! : 0));
    if (cmd === SYMBOLS.F_SETFL) {
      const flags = this.intOf(args[2], 'flags') ?? 0;
      f.nonblocking = (flags & SYMBOLS.O_NONBLOCK!) !== 0;
      return OK;
    }
    if (cmd === SYMBOLS.F_GETFD || cmd === SYMBOLS.F_SETFD) return OK;
    return this.host.skip(`fcntl command ${cmd} is not supported`);
  }

  private ioctl(args: Expr[]): CallOutcome {
    const f = this.fdOf(args[0]);
    if ('ret' in f) return f;
    const request = args[1];
    const name = request?.type === 'word' ? request.name : '';
    let value: number;
    if (name === 'SIOCINQ' || name === 'FIONREAD') {
      if (f.listener !== null) return fail('EINVAL');
      value = f.conn?.readableBytes ?? 0;
    } else if (name === 'SIOCOUTQ' || name === 'TIOCOUTQ') {
      if (f.listener !== null) return fail('EINVAL');
      value = f.conn?.conn.sendBuffered ?? 0;
    } else {
      return this.host.skip(`ioctl ${name || '?'} is not supported`);
    }
    const expected = args[2];
    const mismatches: string[] = [];
    if (expected !== undefined && expected.type !== 'ellipsis') {
      const want = this.intOf(expected, name);
      if (want !== null && want !== value)
        mismatches.push(`${name}: expected [${want}], actual [${value}]`);
    }
    return ok(0, mismatches);
  }

  /** Linux's tcp_poll mask for a descriptor (before masking with the requested events). */
  private pollMask(f: SocketFd): number {
    const S = SYMBOLS;
    if (f.listener !== null)
      return f.listener.acceptQueue.length > 0 ? S.POLLIN! | S.POLLRDNORM! : 0;
    this.noteError(f);
    const c = f.conn;
    const state = c === null ? TcpState.Closed : c.state;
    const closed = state === TcpState.Closed;
    const rcvShutdown = closed || f.shutRead || (c !== null && c.conn.peerClosed);
    const sndShutdown = closed || f.shutWrite;
    let mask = 0;
    if ((rcvShutdown && sndShutdown) || closed) mask |= S.POLLHUP!;
    if (rcvShutdown) mask |= S.POLLIN! | S.POLLRDNORM! | S.POLLRDHUP!;
    if (state !== TcpState.SynSent && state !== TcpState.SynReceived) {
      if (c !== null && c.readableBytes > 0) mask |= S.POLLIN! | S.POLLRDNORM!;
      if (!sndShutdown) {
        if (c !== null && c.writableBytes > 0) mask |= S.POLLOUT! | S.POLLWRNORM!;
      } else {
        mask |= S.POLLOUT! | S.POLLWRNORM!;
      }
    }
    if (f.pendingError !== null) mask |= S.POLLERR!;
    return mask;
  }

  private poll(args: Expr[]): CallOutcome | Blocked {
    const list = args[0];
    if (list === undefined || list.type !== 'list')
      return this.host.scriptError('poll takes [{fd=..., events=..., revents=...}, ...]');
    const timeout = this.intOf(args[2], 'timeout') ?? 0;
    const entries = list.items.map((item) => {
      if (item.type !== 'struct')
        return this.host.scriptError('each pollfd is {fd=..., events=...}');
      let fd: number | null = null;
      let events = 0;
      let revents: number | null = null;
      for (const field of item.items) {
        if (field.type !== 'assign') continue;
        if (field.name === 'fd') fd = this.intOf(field.value, 'fd');
        else if (field.name === 'events') events = this.intOf(field.value, 'events') ?? 0;
        else if (field.name === 'revents') revents = this.intOf(field.value, 'revents');
      }
      return { fd, events, revents };
    });
    const always = SYMBOLS.POLLERR! | SYMBOLS.POLLHUP! | SYMBOLS.POLLNVAL!;
    const start = this.host.now();
    const evaluate = (final: boolean): CallOutcome | null => {
      let ready = 0;
      const got: number[] = [];
      for (const e of entries) {
        const f = e.fd === null ? undefined : this.fds.get(e.fd);
        const mask = f === undefined ? SYMBOLS.POLLNVAL! : this.pollMask(f) & (e.events | always);
        got.push(mask);
        if (mask !== 0) ready++;
      }
      if (ready === 0 && !final) return null;
      const mismatches: string[] = [];
      entries.forEach((e, i) => {
        if (e.revents !== null && e.revents !== got[i])
          mismatches.push(
            `fd ${e.fd} revents: expected ${pollNames(e.revents)}, actual ${pollNames(got[i]!)}`,
          );
      });
      return ok(ready, mismatches);
    };
    const first = evaluate(timeout === 0);
    if (first !== null) return first;
    const wakeAt = timeout < 0 ? Number.POSITIVE_INFINITY : start + timeout * 1000;
    return {
      retry: () => evaluate(this.host.now() >= wakeAt),
      wakeAt,
    };
  }
}

/** poll event bits by name ("POLLIN|POLLOUT", "0"). */
export function pollNames(mask: number): string {
  if (mask === 0) return '0';
  const names: string[] = [];
  for (const name of [
    'POLLIN',
    'POLLPRI',
    'POLLOUT',
    'POLLERR',
    'POLLHUP',
    'POLLNVAL',
    'POLLRDNORM',
    'POLLRDBAND',
    'POLLWRNORM',
    'POLLWRBAND',
    'POLLRDHUP',
  ]) {
    const bit = SYMBOLS[name]!;
    if ((mask & bit) !== 0) names.push(name);
  }
  return names.join('|');
}

export { isBlocked };

/** A buffer argument written as NULL. */
function isNullPointer(e: Expr | undefined): boolean {
  return (
    e !== undefined &&
    ((e.type === 'word' && e.name === 'NULL') || (e.type === 'int' && e.value === 0))
  );
}
