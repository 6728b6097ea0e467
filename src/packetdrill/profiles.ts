/**
 * Profiles (the stack defaults a script is written for) and the shell lines
 * a script may contain. Every knob a profile sets is an ordinary TcpConfig
 * field, listed explicitly so that a script's expectations do not move when
 * the library's defaults do. Shell lines are never run: a whitelist of
 * `sysctl` names (and `ip route` metrics) maps onto the same fields, a state
 * count reads the stack, and anything else skips the script with the reason.
 */
import { seconds, type Duration } from '../base/index.js';
import { TcpState, congestionControls, linuxProfile, type TcpConfig } from '../tcp/index.js';

/** What a profile gives a run. */
export interface Profile {
  name: string;
  /** One line for `--help`. */
  description: string;
  /** Every TCP tunable, explicitly. */
  tcp: () => TcpConfig;
}

/**
 * Linux as tcpts models it: the core's own `linuxProfile()` (timestamps, SACK
 * and window scaling offered, IW10, minimum RTO 200 ms, initial RTO 1 s,
 * delayed ACK 40 ms with 16 quick ACKs, RACK-TLP, PRR, F-RTO, RFC 5961),
 * with two differences our scripts were written for: a 6 MiB maximum
 * receive buffer, which implies window scale 7 (a Linux 6.x kernel with its
 * 32 MiB default advertises 10), and NewReno, whose halving the scripts'
 * cwnd/ssthresh expectations assume (a script asks for CUBIC with
 * tcp_congestion_control=cubic). Where Linux departs from the RFC that the
 * core's defaults follow, a named switch turns Linux's behaviour on here.
 */
function linuxTcp(): TcpConfig {
  return {
    ...linuxProfile(),
    maxReceiveBufferSize: 6 * 1024 * 1024,
    congestionControl: 'newreno',
    // Where Linux and the RFC differ, the profile does what Linux does.
    resetDataAfterCloseAsReply: true,
    cwndGrowsByDelivered: true,
  };
}

/** Profiles by name. A `freebsd` profile joins here with its own explicit knobs. */
export const PROFILES: Readonly<Record<string, Profile>> = {
  linux: {
    name: 'linux',
    description:
      'Linux defaults: TS, SACK, wscale 7, IW10, RTO 1 s (min 200 ms), delayed ACK 40 ms',
    tcp: linuxTcp,
  },
};

/** Stack-level knobs a shell line may set (not part of TcpConfig). */
export interface StackTunables {
  maxSynBacklog: number | null;
}

/** What a shell line did. */
export type ShellOutcome =
  { kind: 'ok' } | { kind: 'fail'; message: string } | { kind: 'skip'; reason: string };

/** What shell lines can see and change. */
export interface ShellContext {
  /** The TCP defaults in force (mutable: sysctls change them). */
  tcp: TcpConfig;
  stack: StackTunables;
  /** False once the stack exists: later sysctls cannot reach connections already made. */
  canConfigure: boolean;
  /** Connections (and listeners, for `listening`) in a state. */
  countState(state: TcpState): number;
  /** `-D` definitions, for `$NAME` in commands. */
  defines: ReadonlyMap<string, string>;
}

type Setter = (value: string, ctx: ShellContext) => string | null;

function int(value: string): number | null {
  const v = value.trim();
  return /^-?[0-9]+$/.test(v) ? Number(v) : null;
}

function boolSetter(field: 'timestamps' | 'sack' | 'dsack' | 'windowScaling'): Setter {
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

/** The sysctl whitelist: Linux names mapped onto TcpConfig fields. */
const SYSCTLS: Readonly<Record<string, Setter>> = {
  'net.ipv4.tcp_timestamps': boolSetter('timestamps'),
  'net.ipv4.tcp_sack': boolSetter('sack'),
  'net.ipv4.tcp_dsack': boolSetter('dsack'),
  'net.ipv4.tcp_window_scaling': boolSetter('windowScaling'),
  'net.ipv4.tcp_syn_retries': countSetter('synRetries'),
  'net.ipv4.tcp_synack_retries': countSetter('synAckRetries'),
  'net.ipv4.tcp_retries2': countSetter('maxRetransmits'),
  'net.ipv4.tcp_keepalive_probes': countSetter('keepAliveCount'),
  'net.ipv4.tcp_challenge_ack_limit': countSetter('challengeAckLimit'),
  'net.ipv4.tcp_fin_timeout': secondsSetter('finTimeout'),
  'net.ipv4.tcp_keepalive_time': secondsSetter('keepAliveIdle'),
  'net.ipv4.tcp_keepalive_intvl': secondsSetter('keepAliveInterval'),
  'net.ipv4.tcp_rto_min_us': (value, ctx) => {
    const n = int(value);
    if (n === null || n <= 0) return `expected microseconds, got '${value}'`;
    ctx.tcp.minRto = n as Duration;
    return null;
  },
  'net.ipv4.tcp_rmem': (value, ctx) => {
    const parts = value.trim().split(/\s+/).map(int);
    if (parts.length !== 3 || parts.some((p) => p === null || p <= 0))
      return `expected "min default max", got '${value}'`;
    ctx.tcp.receiveBufferSize = parts[1]!;
    ctx.tcp.maxReceiveBufferSize = parts[2]!;
    return null;
  },
  'net.ipv4.tcp_wmem': (value, ctx) => {
    const parts = value.trim().split(/\s+/).map(int);
    if (parts.length !== 3 || parts.some((p) => p === null || p <= 0))
      return `expected "min default max", got '${value}'`;
    ctx.tcp.sendBufferSize = parts[1]!;
    return null;
  },
  'net.ipv4.tcp_congestion_control': (value, ctx) => {
    const name = value.trim() === 'reno' ? 'newreno' : value.trim();
    if (congestionControls[name] === undefined)
      return `SKIP:congestion control '${value.trim()}' is not available in tcpts (known: ${Object.keys(congestionControls).join(', ')})`;
    ctx.tcp.congestionControl = name;
    return null;
  },
  'net.ipv4.tcp_max_syn_backlog': (value, ctx) => {
    const n = int(value);
    if (n === null || n <= 0) return `expected a count, got '${value}'`;
    ctx.stack.maxSynBacklog = n;
    return null;
  },
  'net.ipv4.tcp_ecn': (value, ctx) => {
    // 0 off, 1 request and accept, 2 accept only (Linux's default): config.ecn as is.
    const n = int(value);
    if (n === null || n < 0 || n > 2) return `expected 0, 1 or 2, got '${value}'`;
    ctx.tcp.ecn = n;
    return null;
  },
  'net.ipv4.tcp_fastopen': fixed(0, 'tcpts has no TCP Fast Open (only tcp_fastopen=0)'),
  'net.ipv4.tcp_early_retrans': (value, ctx) => {
    // Linux: 0 off; 1 and 2 were RFC 5827 early retransmit (delayed or not),
    // which RACK replaced (since 4.18 they only disable TLP); 3 (default) and
    // 4 enable TLP, 4 being the same TLP in current kernels. tcpts has no
    // separate early retransmit (RACK's reordering window covers it), so
    // 0, 1, 2 turn TLP off and 3, 4 turn it on.
    const n = int(value);
    if (n === null || n < 0 || n > 4) return `expected 0 to 4, got '${value}'`;
    ctx.tcp.tlp = n >= 3;
    return null;
  },
  'net.ipv4.tcp_recovery': (value, ctx) => {
    // A bit mask: 0x1 RACK loss detection (TCP_RACK_LOSS_DETECTION); 0x2 is a
    // static reordering window and 0x4 turns off the lost-retransmit
    // detection; tcpts models neither, so those bits are refused.
    const n = int(value);
    if (n === null || n < 0) return `expected a bit mask, got '${value}'`;
    if ((n & ~1) !== 0)
      return `SKIP:tcpts models only RACK's bit (1) of net.ipv4.tcp_recovery, got ${n}`;
    ctx.tcp.rack = (n & 1) !== 0;
    return null;
  },
  'net.ipv4.tcp_frto': (value, ctx) => {
    // 0 off; 1 (basic RFC 5682) and 2 (SACK-enhanced, the default): tcpts has
    // one F-RTO, used with and without SACK, so any non-zero value turns it on.
    const n = int(value);
    if (n === null || n < 0 || n > 2) return `expected 0, 1 or 2, got '${value}'`;
    ctx.tcp.frto = n !== 0;
    return null;
  },
  'net.ipv4.tcp_slow_start_after_idle': fixed(
    1,
    'tcpts always restarts from the initial window after idle (only tcp_slow_start_after_idle=1)',
  ),
  'net.ipv4.tcp_mtu_probing': fixed(
    0,
    'tcpts has no packetization-layer PMTU probing (only tcp_mtu_probing=0)',
  ),
  'net.ipv4.tcp_autocorking': fixed(0, 'tcpts has no autocorking (only tcp_autocorking=0)'),
  'net.ipv4.tcp_syncookies': fixed(
    1,
    'tcpts sends SYN cookies when the SYN queue overflows (only tcp_syncookies=1)',
  ),
  'net.ipv4.tcp_no_metrics_save': fixed(
    1,
    'tcpts keeps no per-destination metrics (only tcp_no_metrics_save=1)',
  ),
  'net.ipv4.tcp_reordering': fixed(
    3,
    'tcpts uses a fixed duplicate-ACK threshold of 3 (only tcp_reordering=3)',
  ),
  'net.ipv4.tcp_moderate_rcvbuf': (value, ctx) => {
    const n = int(value);
    if (n === null || n < 0) return `expected 0 or 1, got '${value}'`;
    ctx.tcp.receiveBufferAutotuning = n !== 0;
    return null;
  },
  'net.ipv4.tcp_rfc1337': fixed(0, 'tcpts lets a RST end TIME-WAIT (only tcp_rfc1337=0)'),
  'net.ipv4.tcp_tw_reuse': fixed(
    0,
    'tcpts never reuses a TIME-WAIT port for connect (only tcp_tw_reuse=0)',
  ),
  'net.ipv4.tcp_abort_on_overflow': fixed(
    0,
    'tcpts drops, not resets, on accept-queue overflow (only tcp_abort_on_overflow=0)',
  ),
};

/** Parses a duration in microseconds, or with a unit: "200ms", "1s", "40000us". */
function duration(value: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)(us|ms|s)?$/.exec(value.trim());
  if (m === null) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 'us';
  return Math.round(unit === 's' ? n * 1e6 : unit === 'ms' ? n * 1e3 : n);
}

/** `tcpts.<TcpConfig field>=value`: any tunable, named as the library names it. */
function setTcptsField(field: string, value: string, ctx: ShellContext): string | null {
  const defaults = linuxTcp() as unknown as Record<string, unknown>;
  if (!Object.hasOwn(defaults, field) || field === 'recordTransitions')
    return `unknown tcpts tunable '${field}' (known: ${Object.keys(defaults).join(', ')})`;
  const target = ctx.tcp as unknown as Record<string, unknown>;
  const current = defaults[field];
  if (typeof current === 'boolean') {
    const v = value.trim();
    if (v !== '0' && v !== '1' && v !== 'true' && v !== 'false')
      return `tcpts.${field} takes 0 or 1, got '${value}'`;
    target[field] = v === '1' || v === 'true';
    return null;
  }
  if (typeof current === 'string') {
    if (field === 'congestionControl' && congestionControls[value.trim()] === undefined)
      return `SKIP:congestion control '${value.trim()}' is not available in tcpts`;
    target[field] = value.trim();
    return null;
  }
  const isDuration = /Rto$|Timeout$|msl$|Idle$|Interval$/.test(field);
  const n = isDuration ? duration(value) : int(value);
  if (n === null || n < 0)
    return `tcpts.${field} takes a number${isDuration ? ' (µs, or with ms/s)' : ''}, got '${value}'`;
  target[field] = n;
  return null;
}

const SS_STATES: Readonly<Record<string, TcpState>> = {
  established: TcpState.Established,
  'syn-sent': TcpState.SynSent,
  'syn-recv': TcpState.SynReceived,
  'fin-wait-1': TcpState.FinWait1,
  'fin-wait-2': TcpState.FinWait2,
  'time-wait': TcpState.TimeWait,
  closed: TcpState.Closed,
  'close-wait': TcpState.CloseWait,
  'last-ack': TcpState.LastAck,
  listening: TcpState.Listen,
  closing: TcpState.Closing,
};

const TEST_OPS: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
};

function substitute(command: string, defines: ReadonlyMap<string, string>): string {
  return command.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (all, a, b) => {
      const name = (a ?? b) as string;
      return defines.get(name) ?? all;
    },
  );
}

function runSysctl(args: string[], ctx: ShellContext): ShellOutcome {
  const assignments = args.filter((a) => !a.startsWith('-'));
  const flags = args.filter((a) => a.startsWith('-'));
  for (const f of flags) {
    if (!/^-[qwen]+$/.test(f))
      return { kind: 'skip', reason: `sysctl option '${f}' is not supported` };
  }
  if (assignments.length === 0) return { kind: 'skip', reason: 'sysctl without a name' };
  for (const a of assignments) {
    const eq = a.indexOf('=');
    const name = (eq < 0 ? a : a.slice(0, eq)).replace(/\//g, '.');
    if (eq < 0) {
      // A read: fine if we know the name, and it changes nothing.
      if (SYSCTLS[name] === undefined && !name.startsWith('tcpts.'))
        return { kind: 'skip', reason: `sysctl ${name} is not one tcpts models` };
      continue;
    }
    if (!ctx.canConfigure)
      return {
        kind: 'skip',
        reason: `sysctl ${name} after the first socket was opened: tcpts reads its tunables when it creates the stack`,
      };
    const value = a.slice(eq + 1).replace(/^["'](.*)["']$/, '$1');
    const error = name.startsWith('tcpts.')
      ? setTcptsField(name.slice('tcpts.'.length), value, ctx)
      : SYSCTLS[name] !== undefined
        ? SYSCTLS[name](value, ctx)
        : `SKIP:sysctl ${name} is not one tcpts models (see src/packetdrill/profiles.ts for the list)`;
    if (error !== null) {
      if (error.startsWith('SKIP:')) return { kind: 'skip', reason: error.slice(5) };
      return { kind: 'fail', message: `sysctl ${name}: ${error}` };
    }
  }
  return { kind: 'ok' };
}

function runIpRoute(args: string[], ctx: ShellContext): ShellOutcome {
  if (args[0] !== 'route' || !['change', 'replace', 'add'].includes(args[1] ?? ''))
    return {
      kind: 'skip',
      reason: `'ip ${args.join(' ')}' is not supported (only ip route change/replace/add with metrics)`,
    };
  if (!ctx.canConfigure)
    return { kind: 'skip', reason: 'ip route after the first socket was opened' };
  let sawMetric = false;
  for (let i = 2; i < args.length; i++) {
    const key = args[i]!;
    const value = args[i + 1] ?? '';
    switch (key) {
      case 'initcwnd': {
        const n = int(value);
        if (n === null || n <= 0)
          return { kind: 'fail', message: `ip route initcwnd: bad value '${value}'` };
        ctx.tcp.initialCwndSegments = n;
        break;
      }
      case 'rto_min': {
        const d = duration(value);
        if (d === null || d <= 0)
          return { kind: 'fail', message: `ip route rto_min: bad value '${value}'` };
        ctx.tcp.minRto = d as Duration;
        break;
      }
      case 'quickack':
        ctx.tcp.delayedAck = int(value) !== 1;
        break;
      case 'congctl': {
        const name = value === 'reno' ? 'newreno' : value;
        if (congestionControls[name] === undefined)
          return {
            kind: 'skip',
            reason: `congestion control '${value}' is not available in tcpts`,
          };
        ctx.tcp.congestionControl = name;
        break;
      }
      case 'dev':
      case 'via':
      case 'proto':
      case 'scope':
      case 'src':
      case 'metric':
        i++;
        continue;
      default:
        if (i === 2) continue; // the destination prefix ("default", "192.0.2.0/24")
        return { kind: 'skip', reason: `ip route attribute '${key}' is not supported` };
    }
    sawMetric = true;
    i++;
  }
  if (!sawMetric)
    return { kind: 'skip', reason: 'ip route without initcwnd, rto_min, quickack or congctl' };
  return { kind: 'ok' };
}

/** `[ $(ss -Htan state time-wait | wc -l) -eq 1 ]` and `test $(...) -eq 1`. */
function runStateCount(text: string, ctx: ShellContext): ShellOutcome | null {
  const m =
    /^(?:\[|test)\s+"?\$\(\s*ss\s+-([Htan]+)\s+state\s+([a-z0-9-]+)\s*\|\s*wc\s+-l\s*\)"?\s+-(eq|ne|gt|ge|lt|le)\s+([0-9]+)\s*\]?$/.exec(
      text,
    );
  if (m === null) return null;
  if (!m[1]!.includes('t')) return { kind: 'skip', reason: 'ss without -t (only TCP is modelled)' };
  const state = SS_STATES[m[2]!];
  if (state === undefined)
    return {
      kind: 'skip',
      reason: `ss state '${m[2]}' is not supported (known: ${Object.keys(SS_STATES).join(', ')})`,
    };
  const count = ctx.countState(state);
  const expected = Number(m[4]);
  if (TEST_OPS[m[3]!]!(count, expected)) return { kind: 'ok' };
  return {
    kind: 'fail',
    message: `${m[2]} sockets: expected ${m[3]} ${expected}, found ${count}`,
  };
}

/**
 * Runs one backtick line. Commands separated by `;`, `&&` or newlines run in
 * order; the first failure or skip ends the line.
 */
export function runShell(command: string, ctx: ShellContext): ShellOutcome {
  const text = substitute(command, ctx.defines);
  for (const piece of text.split(/;|&&|\n/)) {
    const line = piece.trim();
    if (line === '' || line === 'true' || line === ':') continue;
    const count = runStateCount(line, ctx);
    if (count !== null) {
      if (count.kind !== 'ok') return count;
      continue;
    }
    const words = line.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
    const echo = /^echo\s+("[^"]*"|\S+)\s*>\s*\/proc\/sys\/(\S+)$/.exec(line);
    let outcome: ShellOutcome;
    if (echo !== null) {
      outcome = runSysctl([`${echo[2]!.replace(/\//g, '.')}=${echo[1]!}`], ctx);
    } else if (words[0] === 'sysctl') {
      // `sysctl -q name="a b c"` arrives as several words; glue quoted values back.
      outcome = runSysctl(glueAssignments(words.slice(1)), ctx);
    } else if (words[0] === 'ip') {
      outcome = runIpRoute(words.slice(1), ctx);
    } else {
      outcome = {
        kind: 'skip',
        reason: `shell command '${line}' is not in the whitelist (sysctl, ip route metrics, ss state counts)`,
      };
    }
    if (outcome.kind !== 'ok') return outcome;
  }
  return { kind: 'ok' };
}

function glueAssignments(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const last = out[out.length - 1];
    if (last !== undefined && /=["'][^"']*$/.test(last)) out[out.length - 1] = `${last} ${w}`;
    else out.push(w);
  }
  return out.map((w) => w.replace(/=["'](.*)["']$/, '=$1'));
}
