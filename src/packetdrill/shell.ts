/**
 * The shell lines a script may contain, in backticks. They are never run:
 * each command is read and mapped onto the stack. `sysctl` (and `echo V >
 * /proc/sys/...`, and google's set_sysctls.py) set the sysctls of the table
 * in sysctls.ts; `ip route` metrics set the same TcpConfig fields; a state
 * count (`ss ... | wc -l`) reads the stack; a script file the line runs
 * (`../common/defaults.sh`) is read and its commands taken the same way;
 * commands about machinery tcpts does not have and that cannot change what
 * a script sees are accepted; anything else skips the script with the
 * reason.
 */
import { type Duration } from '../base/index.js';
import { TcpState, congestionControls, type TcpConfig } from '../tcp/index.js';
import { PROFILES } from './profiles.js';
import { applySysctl, type SysctlOutcome, type SysctlTarget } from './sysctls.js';

/** How deep script files may run script files. */
const MAX_SCRIPT_DEPTH = 4;

function int(value: string): number | null {
  const v = value.trim();
  return /^-?[0-9]+$/.test(v) ? Number(v) : null;
}

/** What a shell line did. */
export type ShellOutcome = SysctlOutcome;

/** What shell lines can see and change. */
export interface ShellContext extends SysctlTarget {
  /** Connections (and listeners, for `listening`) in a state. */
  countState(state: TcpState): number;
  /** `-D` definitions, for `$NAME` in commands. */
  defines: ReadonlyMap<string, string>;
  /** Reads a script file a line runs (a path as written), or null; null: such lines skip. */
  readFile?: ((path: string) => string | null) | null;
  /** The TCP defaults before set_sysctls.py first ran, for its restore script (mutable). */
  saved?: TcpConfig | null;
}

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
  const defaults = PROFILES.linux!.tcp() as unknown as Record<string, unknown>;
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

function runIpRoute(args: string[], ctx: ShellContext): ShellOutcome {
  if (args[0] !== 'route' || !['change', 'replace', 'add'].includes(args[1] ?? ''))
    return {
      kind: 'skip',
      reason: `'ip ${args.join(' ')}' is not supported (only ip route change/replace/add with metrics)`,
    };
  if (ctx.stackCreated)
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
    // A read changes nothing.
    if (eq < 0) continue;
    const value = a.slice(eq + 1).replace(/^["'](.*)["']$/, '$1');
    if (name.startsWith('tcpts.')) {
      const error = setTcptsField(name.slice('tcpts.'.length), value, ctx);
      if (error === null) continue;
      if (error.startsWith('SKIP:')) return { kind: 'skip', reason: error.slice(5) };
      return { kind: 'fail', message: `sysctl ${name}: ${error}` };
    }
    const outcome = applySysctl(name, value, ctx);
    if (outcome.kind !== 'ok') return outcome;
  }
  return { kind: 'ok' };
}

/** `/proc/sys/net/ipv4/tcp_x=value` (set_sysctls.py's arguments, echo's target) as `net.ipv4.tcp_x=value`. */
function procAssignment(text: string): string | null {
  const m = /^\/proc\/sys\/([^=\s]+)=(.*)$/.exec(text);
  if (m === null) return null;
  return `${m[1]!.replace(/\//g, '.')}=${m[2]!}`;
}

/**
 * google/packetdrill's set_sysctls.py: sets each `/proc/sys/...=value` and
 * writes a script that puts the old values back. The old values are the
 * TCP defaults before its first run; restoreSysctls puts them back.
 */
function runSetSysctls(args: string[], ctx: ShellContext): ShellOutcome {
  const assignments: string[] = [];
  for (const a of args) {
    const assignment = procAssignment(a.replace(/^["'](.*)["']$/, '$1'));
    if (assignment === null)
      return { kind: 'skip', reason: `set_sysctls.py argument '${a}' is not /proc/sys/NAME=VALUE` };
    assignments.push(assignment);
  }
  if (ctx.saved === undefined || ctx.saved === null) ctx.saved = { ...ctx.tcp };
  return runSysctl(assignments, ctx);
}

function restoreSysctls(ctx: ShellContext): ShellOutcome {
  if (ctx.saved !== undefined && ctx.saved !== null) Object.assign(ctx.tcp, ctx.saved);
  return { kind: 'ok' };
}

/** `$((15*1024*1024))`: integer arithmetic of + - * / and parentheses. */
function arithmetic(text: string): number | null {
  const tokens = text.match(/\d+|[-+*/()]|\S/g) ?? [];
  let i = 0;
  const primary = (): number | null => {
    const t = tokens[i++];
    if (t === undefined) return null;
    if (/^\d+$/.test(t)) return Number(t);
    if (t === '-') {
      const v = primary();
      return v === null ? null : -v;
    }
    if (t === '(') {
      const v = sum();
      return tokens[i++] === ')' ? v : null;
    }
    return null;
  };
  const product = (): number | null => {
    let v = primary();
    while (v !== null && (tokens[i] === '*' || tokens[i] === '/')) {
      const op = tokens[i++];
      const r = primary();
      if (r === null || (op === '/' && r === 0)) return null;
      v = op === '*' ? v * r : Math.trunc(v / r);
    }
    return v;
  };
  const sum = (): number | null => {
    let v = product();
    while (v !== null && (tokens[i] === '+' || tokens[i] === '-')) {
      const op = tokens[i++];
      const r = product();
      if (r === null) return null;
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  const v = sum();
  return v !== null && i === tokens.length ? v : null;
}

function expand(command: string, defines: ReadonlyMap<string, string>): string {
  const substituted = substitute(command, defines);
  return substituted.replace(/\$\(\(([^()]*(?:\([^()]*\)[^()]*)*)\)\)/g, (all, expr: string) => {
    const v = arithmetic(expr);
    return v === null ? all : String(v);
  });
}

/** Output redirections change nothing tcpts models. */
function dropRedirections(line: string): string {
  return line
    .replace(/\s*[0-9]?>&[0-9]/g, '')
    .replace(/\s*[0-9]?>\s*\/dev\/null/g, '')
    .trim();
}

/** Commands about host machinery tcpts does not have, that cannot change what a script sees. */
function acceptedNoOp(words: string[]): boolean {
  // `ip tcp_metrics flush`: tcpts keeps no per-destination metrics, so there is nothing to flush.
  if (words[0] === 'ip' && words[1] === 'tcp_metrics' && words[2] === 'flush') return true;
  // A plain pfifo root qdisc on the tun device (defaults.sh): no pacing,
  // no queue limit that a script could reach, as tcpts hands packets straight on.
  // `limit N` could drop packets and is not accepted.
  if (
    words[0] === 'tc' &&
    words[1] === 'qdisc' &&
    (words[2] === 'add' || words[2] === 'replace') &&
    words.slice(3).join(' ') === 'dev tun0 root pfifo'
  )
    return true;
  if (words[0] === 'tc' && words[1] === 'qdisc' && words[2] === 'delete') return true;
  // Turning segmentation offloads off: tcpts sends MSS-sized segments anyway.
  if (
    words[0] === 'ethtool' &&
    words[1] === '-K' &&
    words[2] === 'tun0' &&
    words.length > 3 &&
    words.length % 2 === 1 &&
    words.slice(3).every((w, i) => (i % 2 === 0 ? /^(tso|gso|gro|lro)$/.test(w) : w === 'off'))
  )
    return true;
  return false;
}

/**
 * Runs one backtick line. Commands separated by `;`, `&&` or newlines run in
 * order (a backslash at a line's end continues it); the first failure or skip
 * ends the line.
 */
export function runShell(command: string, ctx: ShellContext, depth = 0): ShellOutcome {
  const text = command.replace(/\\\r?\n/g, ' ');
  // Comment lines go first, so that a ';' in one splits nothing.
  const commands = text
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  for (const piece of commands.split(/;|&&|\n/)) {
    const raw = piece.trim();
    // A comment after a command (`sysctl -q x=1  # on`), when no quote follows.
    const uncommented = raw.replace(/\s+#[^"']*$/, '');
    const line = dropRedirections(expand(uncommented, ctx.defines));
    if (line === '' || line === 'true' || line === ':') continue;
    const count = runStateCount(line, ctx);
    if (count !== null) {
      if (count.kind !== 'ok') return count;
      continue;
    }
    const words = line.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
    const first = words[0] ?? '';
    const echo = /^echo\s+("[^"]*"|'[^']*'|\S+)\s*>\s*(\/proc\/sys\/\S+)$/.exec(line);
    let outcome: ShellOutcome;
    if (echo !== null) {
      const value = echo[1]!.replace(/^["'](.*)["']$/, '$1');
      outcome = runSysctl([procAssignment(`${echo[2]!}=${value}`)!], ctx);
    } else if (first === 'sysctl') {
      // `sysctl -q name="a b c"` arrives as several words; glue quoted values back.
      outcome = runSysctl(glueAssignments(words.slice(1)), ctx);
    } else if (acceptedNoOp(words)) {
      outcome = { kind: 'ok' };
    } else if (first === 'ip') {
      outcome = runIpRoute(words.slice(1), ctx);
    } else if (/(^|\/)set_sysctls\.py$/.test(first)) {
      outcome = runSetSysctls(glueAssignments(words.slice(1)), ctx);
    } else if (/^\/tmp\/sysctl_restore_[^/]*\.sh$/.test(first) && words.length === 1) {
      outcome = restoreSysctls(ctx);
    } else if (first.includes('/') && first.endsWith('.sh') && words.length === 1) {
      outcome = runScriptFile(first, ctx, depth);
    } else {
      outcome = {
        kind: 'skip',
        reason: `shell command '${line}' is not in the whitelist (sysctl, set_sysctls.py, script files, ip route metrics, ss state counts)`,
      };
    }
    if (outcome.kind !== 'ok') return outcome;
  }
  return { kind: 'ok' };
}

/** A script file a line runs (`../common/defaults.sh`): its commands, taken as a backtick line's. */
function runScriptFile(path: string, ctx: ShellContext, depth: number): ShellOutcome {
  if (depth >= MAX_SCRIPT_DEPTH)
    return { kind: 'fail', message: `${path}: script files nest deeper than ${MAX_SCRIPT_DEPTH}` };
  const read = ctx.readFile ?? null;
  const text = read === null ? null : read(path);
  if (text === null)
    return {
      kind: 'skip',
      reason:
        read === null
          ? `shell command '${path}' runs a script file, and this run reads no files`
          : `cannot read the script file '${path}'`,
    };
  const outcome = runShell(text, ctx, depth + 1);
  if (outcome.kind === 'fail') return { kind: 'fail', message: `${path}: ${outcome.message}` };
  if (outcome.kind === 'skip') return { kind: 'skip', reason: `${path}: ${outcome.reason}` };
  return outcome;
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
