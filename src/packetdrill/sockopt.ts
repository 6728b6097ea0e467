/**
 * setsockopt and getsockopt for the socket layer: the SOL_SOCKET and
 * IPPROTO_TCP options tcpts models, each kept on the descriptor and applied
 * to the connection when Linux would apply it (at creation for buffer sizes
 * and the MSS, at once for the rest), and TCP_INFO read back field by field.
 */
import { congestionControls, TcpState, type TcpStats } from '../tcp/index.js';
import type { TcpSocket } from '../stack/index.js';
import { ERRNO, SYMBOLS, errnoName } from './constants.js';
import type { Expr } from './script.js';
import {
  OK,
  fail,
  ok,
  type CallOutcome,
  type SocketFd,
  type SocketHost,
  type SocketOptions,
} from './socket-fd.js';
import { tcpInfoValue } from './tcpinfo.js';

/** What the option calls need from the socket layer. */
export interface OptionContext {
  readonly host: SocketHost;
  intOf(e: Expr | undefined, what: string): number | null;
  /** Reports and clears the descriptor's pending error (SO_ERROR). */
  takeError(f: SocketFd): string | null;
  /** Applies options that can change on a live connection. */
  applyLiveOptions(o: SocketOptions, s: TcpSocket): void;
}

function optionName(level: number, name: number): string {
  const wanted = level === SYMBOLS.SOL_SOCKET ? 'SO_' : 'TCP_';
  for (const [k, v] of Object.entries(SYMBOLS)) if (v === name && k.startsWith(wanted)) return k;
  return `${level}/${name}`;
}

/** setsockopt(2) on descriptor `f`: records the option, and applies it now when it can change on a live connection. */
export function setSocketOption(ctx: OptionContext, f: SocketFd, args: Expr[]): CallOutcome {
  const level = ctx.intOf(args[1], 'level');
  const name = ctx.intOf(args[2], 'option name');
  if (level === null || name === null)
    return ctx.host.scriptError('setsockopt needs a level and a name');
  const option = optionName(level, name);
  const valueExpr = args[3];
  const o = f.options;
  const live = f.conn;
  if (option === 'SO_LINGER') {
    if (valueExpr === undefined || valueExpr.type !== 'struct')
      return ctx.host.scriptError('SO_LINGER takes {onoff=..., linger=...}');
    let onoff = 0;
    let linger = 0;
    for (const item of valueExpr.items) {
      if (item.type !== 'assign') continue;
      if (item.name === 'onoff' || item.name === 'l_onoff')
        onoff = ctx.intOf(item.value, 'onoff') ?? 0;
      if (item.name === 'linger' || item.name === 'l_linger')
        linger = ctx.intOf(item.value, 'linger') ?? 0;
    }
    o.linger = { onoff, linger };
    return OK;
  }
  if (option === 'TCP_CONGESTION') return setCongestion(ctx, f, valueExpr);
  const v = ctx.intOf(valueExpr, option);
  if (v === null) return ctx.host.scriptError(`setsockopt ${option} needs a value`);
  switch (option) {
    case 'SO_REUSEADDR':
    case 'SO_REUSEPORT':
      o.reuseAddress = v !== 0;
      return OK;
    case 'SO_KEEPALIVE':
      o.keepAlive = v !== 0;
      break;
    case 'TCP_NODELAY':
      o.noDelay = v !== 0;
      break;
    case 'TCP_KEEPIDLE':
      if (v < 1) return fail('EINVAL');
      o.keepIdle = v;
      break;
    case 'TCP_KEEPINTVL':
      if (v < 1) return fail('EINVAL');
      o.keepInterval = v;
      break;
    case 'TCP_KEEPCNT':
      if (v < 1) return fail('EINVAL');
      o.keepCount = v;
      break;
    case 'TCP_USER_TIMEOUT':
      if (v < 0) return fail('EINVAL');
      o.userTimeout = v;
      break;
    case 'SO_RCVBUF':
    case 'SO_SNDBUF':
    case 'TCP_MAXSEG': {
      if (live !== null)
        return ctx.host.skip(
          `${option} on an open connection: tcpts sizes buffers and the MSS when it creates the connection`,
        );
      if (f.listener !== null)
        return ctx.host.skip(
          `${option} on a listening socket after listen(): set it before listen()`,
        );
      // Linux's floors: TCP_MIN_MSS-ish for TCP_MAXSEG (88), and about 2 KiB
      // and 4.5 KiB for the buffers (SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF). tcpts
      // does not double the value the way Linux's SO_RCVBUF does.
      if (option === 'TCP_MAXSEG') {
        if (v < 88 || v > 65495) return fail('EINVAL');
        o.maxSegment = v;
      } else if (option === 'SO_RCVBUF') {
        o.receiveBuffer = Math.max(v, 2048);
      } else {
        o.sendBuffer = Math.max(v, 4608);
      }
      return OK;
    }
    default:
      return ctx.host.skip(`setsockopt ${option} is not supported by the tcpts socket layer`);
  }
  if (live !== null) ctx.applyLiveOptions(o, live);
  return OK;
}

/** getsockopt(2) on descriptor `f`: compares the option's value with the one the script expects. */
/** TCP_CONGESTION by name, as Linux's tcp_set_congestion_control (ENOENT for an unknown one). */
function setCongestion(ctx: OptionContext, f: SocketFd, value: Expr | undefined): CallOutcome {
  if (value === undefined || value.type !== 'string')
    return ctx.host.scriptError('TCP_CONGESTION takes a name, e.g. "bbr"');
  const name = value.value === 'reno' ? 'newreno' : value.value;
  if (congestionControls[name] === undefined) return fail('ENOENT');
  if (f.conn !== null || f.listener !== null)
    return ctx.host.skip(
      'TCP_CONGESTION after connect() or listen(): tcpts picks the controller when it creates the connection',
    );
  f.options.congestionControl = name;
  return OK;
}

export function getSocketOption(ctx: OptionContext, f: SocketFd, args: Expr[]): CallOutcome {
  const level = ctx.intOf(args[1], 'level');
  const name = ctx.intOf(args[2], 'option name');
  if (level === null || name === null)
    return ctx.host.scriptError('getsockopt needs a level and a name');
  const option = optionName(level, name);
  const expected = args[3];
  const mismatches: string[] = [];
  if (option === 'TCP_INFO') {
    if (f.conn === null) return fail('ENOTCONN');
    if (expected !== undefined && expected.type === 'struct') {
      const stats = f.conn.stats();
      for (const item of expected.items) {
        if (item.type !== 'assign') continue;
        const want = ctx.intOf(item.value, item.name);
        if (want === null) continue;
        const got = tcpInfo(ctx, stats, item.name);
        if (got !== want) mismatches.push(`${item.name}: expected ${want}, actual ${got}`);
      }
    }
    return ok(0, mismatches);
  }
  if (option === 'SO_LINGER') {
    const l = f.options.linger ?? { onoff: 0, linger: 0 };
    if (expected !== undefined && expected.type === 'struct') {
      for (const item of expected.items) {
        if (item.type !== 'assign') continue;
        const want = ctx.intOf(item.value, item.name);
        const got = item.name.endsWith('onoff') ? l.onoff : l.linger;
        if (want !== null && want !== got)
          mismatches.push(`${item.name}: expected ${want}, actual ${got}`);
      }
    }
    return ok(0, mismatches);
  }
  const defaults = f.conn?.conn.config ?? ctx.host.tcpDefaults();
  if (option === 'TCP_CONGESTION') {
    const name =
      f.conn?.conn.config.congestionControl ??
      f.options.congestionControl ??
      defaults.congestionControl;
    const shown = name === 'newreno' ? 'reno' : name;
    if (expected !== undefined && expected.type === 'string' && expected.value !== shown)
      mismatches.push(`TCP_CONGESTION: expected "${expected.value}", actual "${shown}"`);
    return ok(0, mismatches);
  }
  let value: number;
  switch (option) {
    case 'SO_ERROR': {
      const e = ctx.takeError(f);
      value = e === null ? 0 : ERRNO[e]!;
      break;
    }
    case 'SO_TYPE':
      value = SYMBOLS.SOCK_STREAM!;
      break;
    case 'SO_REUSEADDR':
    case 'SO_REUSEPORT':
      value = f.options.reuseAddress ? 1 : 0;
      break;
    case 'SO_KEEPALIVE':
      value = (f.options.keepAlive ?? defaults.keepAlive) ? 1 : 0;
      break;
    case 'SO_RCVBUF':
      value = f.options.receiveBuffer ?? defaults.receiveBufferSize;
      break;
    case 'SO_SNDBUF':
      value = f.options.sendBuffer ?? defaults.sendBufferSize;
      break;
    case 'TCP_NODELAY':
      value = (f.options.noDelay ?? defaults.noDelay) ? 1 : 0;
      break;
    case 'TCP_MAXSEG':
      value =
        f.conn !== null && f.conn.state !== TcpState.SynSent
          ? f.conn.conn.mss
          : (f.options.maxSegment ?? defaults.mss);
      break;
    case 'TCP_KEEPIDLE':
      value = f.options.keepIdle ?? Math.floor(defaults.keepAliveIdle / 1e6);
      break;
    case 'TCP_KEEPINTVL':
      value = f.options.keepInterval ?? Math.floor(defaults.keepAliveInterval / 1e6);
      break;
    case 'TCP_KEEPCNT':
      value = f.options.keepCount ?? defaults.keepAliveCount;
      break;
    case 'TCP_USER_TIMEOUT':
      value = f.options.userTimeout ?? Math.floor(defaults.userTimeout / 1000);
      break;
    default:
      return ctx.host.skip(`getsockopt ${option} is not supported by the tcpts socket layer`);
  }
  if (expected !== undefined && expected.type !== 'ellipsis') {
    const want = ctx.intOf(expected, option);
    if (want !== null && want !== value) {
      const show = (n: number): string =>
        option === 'SO_ERROR' && n !== 0 ? `${errnoName(n)} (${n})` : String(n);
      mismatches.push(`${option}: expected [${show(want)}], actual [${show(value)}]`);
    }
  }
  return ok(0, mismatches);
}

/** A tcpi_* field by name (skip if tcpts cannot report it). */
function tcpInfo(ctx: OptionContext, stats: TcpStats, name: string): number {
  const v = tcpInfoValue(stats, name);
  if (typeof v === 'string') return ctx.host.skip(v);
  return v;
}
