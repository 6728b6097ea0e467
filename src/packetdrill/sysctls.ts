/**
 * The sysctls a script may set, in one table. Each Linux name is one of
 * three kinds:
 *
 * - modelled: it maps onto a TcpConfig field (or a stack tunable), so the
 *   script runs with the value it asks for; some are modelled at one value
 *   only (what tcpts does), and any other value skips the script;
 * - no-op: tcpts has no such mechanism, and the value cannot change what a
 *   script observes (reasons in the table), so the setting is accepted and
 *   ignored; where one value would be observable after all (tcp_fastopen
 *   with 0x200), that value skips;
 * - unsupported: the value would change what the script observes and tcpts
 *   cannot follow it, so the script is SKIPPED naming the sysctl. A name
 *   missing from the table counts as unsupported.
 *
 * A TcpConfig sysctl applies to sockets created after it (Linux reads most
 * of them when a connection is made); stack-level ones only before the
 * stack exists.
 */
import { seconds, type Duration } from '../base/index.js';
import { congestionControls, type TcpConfig } from '../tcp/index.js';

/** Stack-level knobs a sysctl may set (not part of TcpConfig). */
export interface StackTunables {
  maxSynBacklog: number | null;
  /** net.ipv4.tcp_fastopen's bits (Linux's default 0x1: client only); tcpts reads them to know when to skip. */
  fastOpen: number;
}

/** tcp_fastopen bits a script's server side depends on (Linux's TFO_SERVER_ENABLE, TFO_SERVER_WO_SOCKOPT1). */
export const TFO_SERVER_ENABLE = 0x2;
export const TFO_SERVER_EVERY_LISTENER = 0x400;

/** What a sysctl changes. */
export interface SysctlTarget {
  /** The TCP defaults for sockets created from now on (mutable). */
  tcp: TcpConfig;
  stack: StackTunables;
  /** True once the stack exists: stack-level knobs can no longer change. */
  stackCreated: boolean;
}

/** What setting a sysctl did. */
export type SysctlOutcome =
  { kind: 'ok' } | { kind: 'fail'; message: string } | { kind: 'skip'; reason: string };

/** The three kinds of sysctl. */
export type SysctlKind = 'modelled' | 'no-op' | 'unsupported';

/** One row of the table. */
export type SysctlEntry =
  | { kind: 'modelled'; set: Setter; stackLevel: boolean }
  | {
      kind: 'no-op';
      why: string;
      /** A value for which the setting is observable after all: why, or null. */
      unless: ((value: string) => string | null) | null;
    }
  | { kind: 'unsupported'; why: string };

/**
 * Sets a modelled sysctl: null when done, an error message for a bad value,
 * or `SKIP:reason` for a value tcpts does not model.
 */
type Setter = (value: string, ctx: SysctlTarget) => string | null;

function int(value: string): number | null {
  const v = value.trim();
  return /^-?[0-9]+$/.test(v) ? Number(v) : null;
}

function boolSetter(
  field: 'timestamps' | 'sack' | 'dsack' | 'windowScaling' | 'slowStartAfterIdle',
): Setter {
  return (value, ctx) => {
    const n = int(value);
    if (n === null || n < 0) return `expected 0 or 1, got '${value}'`;
    ctx.tcp[field] = n !== 0;
    return null;
  };
}

function countSetter(
  field: 'synRetries' | 'synAckRetries' | 'maxRetransmits' | 'keepAliveCount' | 'challengeAckLimit',
): Setter {
  return (value, ctx) => {
    const n = int(value);
    if (n === null || n < 0) return `expected a count, got '${value}'`;
    ctx.tcp[field] = n;
    return null;
  };
}

function secondsSetter(field: 'finTimeout' | 'keepAliveIdle' | 'keepAliveInterval'): Setter {
  return (value, ctx) => {
    const n = int(value);
    if (n === null || n <= 0) return `expected seconds, got '${value}'`;
    ctx.tcp[field] = seconds(n);
    return null;
  };
}

/** A sysctl tcpts accepts only at the value that describes what it already does. */
function fixed(expected: number, what: string): Setter {
  return (value) => {
    const n = int(value);
    if (n === expected) return null;
    return `SKIP:${what}`;
  };
}

function modelled(set: Setter): SysctlEntry {
  return { kind: 'modelled', set, stackLevel: false };
}

function stackLevel(set: Setter): SysctlEntry {
  return { kind: 'modelled', set, stackLevel: true };
}

function noOp(why: string): SysctlEntry {
  return { kind: 'no-op', why, unless: null };
}

function unsupported(why: string): SysctlEntry {
  return { kind: 'unsupported', why };
}

/** TCP Fast Open is observable only through what makes a script skip on its own. */
const TFO_NO_OP =
  'tcpts has no TCP Fast Open; a script sees it only through the FO option, MSG_FASTOPEN or TCP_FASTOPEN*, each of which makes the script SKIPPED by itself (a SYN with data and no cookie is handled as without TFO)';

/** Every sysctl tcpts knows, by its Linux name. */
export const SYSCTLS: Readonly<Record<string, SysctlEntry>> = {
  'net.ipv4.tcp_timestamps': modelled(boolSetter('timestamps')),
  'net.ipv4.tcp_sack': modelled(boolSetter('sack')),
  'net.ipv4.tcp_dsack': modelled(boolSetter('dsack')),
  'net.ipv4.tcp_window_scaling': modelled(boolSetter('windowScaling')),
  'net.ipv4.tcp_syn_retries': modelled(countSetter('synRetries')),
  'net.ipv4.tcp_synack_retries': modelled(countSetter('synAckRetries')),
  'net.ipv4.tcp_retries2': modelled(countSetter('maxRetransmits')),
  'net.ipv4.tcp_keepalive_probes': modelled(countSetter('keepAliveCount')),
  'net.ipv4.tcp_challenge_ack_limit': modelled(countSetter('challengeAckLimit')),
  'net.ipv4.tcp_fin_timeout': modelled(secondsSetter('finTimeout')),
  'net.ipv4.tcp_keepalive_time': modelled(secondsSetter('keepAliveIdle')),
  'net.ipv4.tcp_keepalive_intvl': modelled(secondsSetter('keepAliveInterval')),
  'net.ipv4.tcp_rto_min_us': modelled((value, ctx) => {
    const n = int(value);
    if (n === null || n <= 0) return `expected microseconds, got '${value}'`;
    ctx.tcp.minRto = n as Duration;
    return null;
  }),
  'net.ipv4.tcp_rmem': modelled((value, ctx) => {
    const parts = value.trim().split(/\s+/).map(int);
    if (parts.length !== 3 || parts.some((p) => p === null || p <= 0))
      return `expected "min default max", got '${value}'`;
    ctx.tcp.receiveBufferSize = parts[1]!;
    ctx.tcp.maxReceiveBufferSize = parts[2]!;
    return null;
  }),
  'net.ipv4.tcp_wmem': modelled((value, ctx) => {
    const parts = value.trim().split(/\s+/).map(int);
    if (parts.length !== 3 || parts.some((p) => p === null || p <= 0))
      return `expected "min default max", got '${value}'`;
    ctx.tcp.sendBufferSize = parts[1]!;
    return null;
  }),
  'net.ipv4.tcp_congestion_control': modelled((value, ctx) => {
    const name = value.trim() === 'reno' ? 'newreno' : value.trim();
    if (congestionControls[name] === undefined)
      return `SKIP:congestion control '${value.trim()}' is not available in tcpts (known: ${Object.keys(congestionControls).join(', ')})`;
    ctx.tcp.congestionControl = name;
    return null;
  }),
  'net.ipv4.tcp_max_syn_backlog': stackLevel((value, ctx) => {
    const n = int(value);
    if (n === null || n <= 0) return `expected a count, got '${value}'`;
    ctx.stack.maxSynBacklog = n;
    return null;
  }),
  'net.ipv4.tcp_ecn': modelled((value, ctx) => {
    // 0 off, 1 request and accept, 2 accept only (Linux's default): config.ecn as is.
    // 3 to 5 are Accurate ECN (Linux 6.18), which tcpts does not model.
    const n = int(value);
    if (n !== null && n >= 3 && n <= 5)
      return `SKIP:tcpts has no Accurate ECN (net.ipv4.tcp_ecn=${n}; only 0, 1 and 2)`;
    if (n === null || n < 0 || n > 2) return `expected 0, 1 or 2, got '${value}'`;
    ctx.tcp.ecn = n;
    return null;
  }),
  'net.ipv4.tcp_early_retrans': modelled((value, ctx) => {
    // Linux: 0 off; 1 and 2 were RFC 5827 early retransmit (delayed or not),
    // which RACK replaced (since 4.18 they only disable TLP); 3 (default) and
    // 4 enable TLP, 4 being the same TLP in current kernels. tcpts has no
    // separate early retransmit (RACK's reordering window covers it), so
    // 0, 1, 2 turn TLP off and 3, 4 turn it on.
    const n = int(value);
    if (n === null || n < 0 || n > 4) return `expected 0 to 4, got '${value}'`;
    ctx.tcp.tlp = n >= 3;
    return null;
  }),
  'net.ipv4.tcp_recovery': modelled((value, ctx) => {
    // A bit mask: 0x1 RACK loss detection (TCP_RACK_LOSS_DETECTION); 0x2 is a
    // static reordering window and 0x4 turns off the lost-retransmit
    // detection; tcpts models neither, so those bits are refused.
    const n = int(value);
    if (n === null || n < 0) return `expected a bit mask, got '${value}'`;
    if ((n & ~1) !== 0)
      return `SKIP:tcpts models only RACK's bit (1) of net.ipv4.tcp_recovery, got ${n}`;
    ctx.tcp.rack = (n & 1) !== 0;
    return null;
  }),
  'net.ipv4.tcp_frto': modelled((value, ctx) => {
    // 0 off; 1 (basic RFC 5682) and 2 (SACK-enhanced, the default): tcpts has
    // one F-RTO, used with and without SACK, so any non-zero value turns it on.
    const n = int(value);
    if (n === null || n < 0 || n > 2) return `expected 0, 1 or 2, got '${value}'`;
    ctx.tcp.frto = n !== 0;
    return null;
  }),
  'net.ipv4.tcp_slow_start_after_idle': modelled(boolSetter('slowStartAfterIdle')),
  'net.ipv4.tcp_mtu_probing': modelled(
    fixed(0, 'tcpts has no packetization-layer PMTU probing (only tcp_mtu_probing=0)'),
  ),
  'net.ipv4.tcp_autocorking': modelled(
    fixed(0, 'tcpts has no autocorking (only tcp_autocorking=0)'),
  ),
  'net.ipv4.tcp_syncookies': modelled(
    fixed(1, 'tcpts sends SYN cookies when the SYN queue overflows (only tcp_syncookies=1)'),
  ),
  'net.ipv4.tcp_no_metrics_save': modelled(
    fixed(1, 'tcpts keeps no per-destination metrics (only tcp_no_metrics_save=1)'),
  ),
  'net.ipv4.tcp_reordering': modelled(
    fixed(3, 'tcpts uses a fixed duplicate-ACK threshold of 3 (only tcp_reordering=3)'),
  ),
  'net.ipv4.tcp_moderate_rcvbuf': modelled((value, ctx) => {
    const n = int(value);
    if (n === null || n < 0) return `expected 0 or 1, got '${value}'`;
    ctx.tcp.receiveBufferAutotuning = n !== 0;
    return null;
  }),
  'net.ipv4.tcp_rfc1337': modelled(fixed(0, 'tcpts lets a RST end TIME-WAIT (only tcp_rfc1337=0)')),
  'net.ipv4.tcp_tw_reuse': modelled(
    fixed(0, 'tcpts never reuses a TIME-WAIT port for connect (only tcp_tw_reuse=0)'),
  ),
  'net.ipv4.tcp_abort_on_overflow': modelled(
    fixed(0, 'tcpts drops, not resets, on accept-queue overflow (only tcp_abort_on_overflow=0)'),
  ),
  'net.ipv4.tcp_notsent_lowat': modelled(
    fixed(
      4294967295,
      'tcpts has no TCP_NOTSENT_LOWAT limit (only tcp_notsent_lowat=4294967295, no limit)',
    ),
  ),
  'net.ipv4.tcp_fastopen': modelled((value, ctx) => {
    const text = value.trim();
    const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : int(text);
    if (n === null || n < 0) return `expected a number of bits, got '${value}'`;
    // Kept so that a SYN with an FO option towards a listener Linux would
    // treat as Fast Open skips the script (see inject.ts).
    ctx.stack.fastOpen = n;
    // With 0x200 (TFO_SERVER_COOKIE_NOT_REQD) and the server bit 0x2, a server
    // takes data from a SYN that carries no FO option: a script sees that.
    if ((n & 0x200) !== 0 && (n & TFO_SERVER_ENABLE) !== 0)
      return 'SKIP:tcpts has no TCP Fast Open, and with 0x200 a server takes data from a SYN without a cookie';
    return null;
  }),
  'net.ipv4.tcp_fastopen_key': noOp(TFO_NO_OP),
  'net.ipv4.tcp_fastopen_cookies': noOp(TFO_NO_OP),
  'net.ipv4.tcp_fastopen_blackhole_timeout_sec': noOp(TFO_NO_OP),
  'net.ipv4.tcp_tso_win_divisor': noOp(
    'tcpts has no TSO: it sends MSS-sized segments at once, and a line for a larger TSO segment matches a run of them',
  ),
  'net.ipv4.tcp_min_tso_segs': noOp(
    'tcpts has no TSO: it sends MSS-sized segments, and a line for a larger TSO segment matches a run of them',
  ),
  'net.ipv4.tcp_fack': noOp('Linux removed FACK in 4.15; the knob has done nothing since'),
  'net.ipv4.tcp_ecn_option': noOp(
    'it controls the Accurate ECN option, sent only on AccECN connections, which tcp_ecn 3-5 would ask for and which skip',
  ),
  'net.ipv4.tcp_pacing_ss_ratio': noOp(
    'pacing rates matter only when a connection paces; Linux paces CUBIC and Reno only under the fq qdisc, and packetdrill runs use pfifo (defaults.sh)',
  ),
  'net.ipv4.tcp_pacing_ca_ratio': noOp(
    'pacing rates matter only when a connection paces; Linux paces CUBIC and Reno only under the fq qdisc, and packetdrill runs use pfifo (defaults.sh)',
  ),
  'net.ipv4.tcp_base_mss': noOp(
    'the starting MSS of MTU probing, which is off (tcp_mtu_probing other than 0 skips)',
  ),
  'net.ipv4.tcp_adv_win_scale': unsupported(
    'tcpts sizes its window from the buffer as Linux does at its default, and cannot follow another split',
  ),
  'net.ipv4.tcp_limit_output_bytes': unsupported(
    'tcpts has no TCP small queues: nothing limits how much a connection hands the device',
  ),
  'net.ipv4.tcp_comp_sack_nr': unsupported('tcpts does not compress SACKs'),
  'net.ipv4.tcp_comp_sack_delay_ns': unsupported('tcpts does not compress SACKs'),
  'net.ipv4.tcp_thin_linear_timeouts': unsupported('tcpts has no thin-stream timeouts'),
};

/** The kind of a sysctl by name (`net.ipv4.x` or `net/ipv4/x`). */
export function sysctlKind(name: string): SysctlKind {
  return SYSCTLS[name.replace(/\//g, '.')]?.kind ?? 'unsupported';
}

/** Applies `name=value` to `target` by the table. */
export function applySysctl(name: string, value: string, target: SysctlTarget): SysctlOutcome {
  const entry = SYSCTLS[name];
  if (entry === undefined)
    return {
      kind: 'skip',
      reason: `sysctl ${name} is not one tcpts models (see the table in src/packetdrill/sysctls.ts)`,
    };
  switch (entry.kind) {
    case 'no-op': {
      const observable = entry.unless?.(value) ?? null;
      if (observable !== null)
        return { kind: 'skip', reason: `sysctl ${name}=${value}: ${observable}` };
      return { kind: 'ok' };
    }
    case 'unsupported':
      return { kind: 'skip', reason: `sysctl ${name} is not supported: ${entry.why}` };
    case 'modelled': {
      if (entry.stackLevel && target.stackCreated)
        return {
          kind: 'skip',
          reason: `sysctl ${name} after the first socket was opened: tcpts reads it when it creates the stack`,
        };
      const error = entry.set(value, target);
      if (error === null) return { kind: 'ok' };
      if (error.startsWith('SKIP:'))
        return { kind: 'skip', reason: `sysctl ${name}=${value}: ${error.slice(5)}` };
      return { kind: 'fail', message: `sysctl ${name}: ${error}` };
    }
  }
  return { kind: 'skip', reason: `sysctl ${name}` };
}
