/**
 * The interpreter: runs a parsed script against a fresh tcpts Stack on a
 * virtual clock. The stack has one bare-IP interface (as packetdrill's TUN
 * device); inbound lines are built into packets and handed to
 * `receiveFrame`, outbound lines are compared with what `pollTransmit`
 * gives, system calls go through the socket layer, and time only moves when
 * the script or a stack timer says so, so a script that covers minutes of
 * TCP time runs in milliseconds and the same way every time.
 *
 * Timing follows packetdrill (run.c): an event's relative time counts from
 * the actual time of the previous one, except that consecutive inbound
 * packets count from script time; the tolerance is max(tolerance_usecs,
 * tolerance_percent of the interval since the previous event).
 *
 * Sequence numbers follow packetdrill (run_packet.c): inbound sequence
 * numbers are absolute in the script's own space, inbound ACKs and SACK
 * blocks are relative to the stack's ISN, outbound sequence numbers are
 * relative to the stack's ISN. An inbound TS ecr is rewritten to the live TS
 * val the stack sent for the script TS val it names.
 */
import { NEVER, SeededRng, seqAdd, type Instant } from '../base/index.js';
import { Stack, type TcpSocket } from '../stack/index.js';
import { TcpState, type TcpConfig } from '../tcp/index.js';
import {
  parseIpv4Address,
  parseIpv6Address,
  type SackBlock,
  type TcpOptionEntry,
} from '../wire/index.js';
import { runCode } from './code.js';
import { ERRNO, STRERROR, errnoName } from './constants.js';
import {
  buildInboundIcmp,
  buildInboundTcp,
  formatTcp,
  icmpCodes,
  readPacket,
  type Endpoints,
  type WirePacket,
  type WireTcp,
} from './packets.js';
import { PROFILES, runShell, type Profile, type StackTunables } from './profiles.js';
import {
  isParseError,
  parseScript,
  type EventTime,
  type Expr,
  type IcmpPacketSpec,
  type Script,
  type ScriptEvent,
  type SyscallSpec,
  type TcpPacketSpec,
} from './script.js';
import {
  SocketLayer,
  isBlocked,
  type Blocked,
  type CallOutcome,
  type SocketHost,
} from './syscalls.js';
import { codeConstant, tcpInfoValue } from './tcpinfo.js';

/** How to run a script (the command line's options). */
export interface RunOptions {
  /** Profile name when the script does not say (`--profile=`); default `linux`. */
  profile?: string;
  /** Exact timing: no tolerance at all. */
  strict?: boolean;
  /** Let consecutive equal-size segments match one larger expected line (default true; --strict_segments turns it off). */
  coalesce?: boolean;
  /** `-D NAME=value` definitions. */
  defines?: ReadonlyMap<string, string>;
  /** Seed of the stack's random numbers (ISNs, timestamp offsets, ports). */
  seed?: number;
  /** Receives one line per packet both ways and per system call. */
  verbose?: ((line: string) => void) | null;
}

/** The outcome of one script. */
export interface ScriptResult {
  status: 'pass' | 'fail' | 'skip';
  /** The script line the failure or skip refers to, or null. */
  line: number | null;
  /** Why it failed or was skipped ('' on a pass). */
  message: string;
  /** Expected and actual packets or values, one per line. */
  details: string[];
  /** Virtual time of the failure in microseconds, or null. */
  time: number | null;
  /** A `// KNOWN-FAIL: reason` line of the script, or null. */
  knownFailure: string | null;
}

/** packetdrill's default addresses (its own test runners use these). */
export const DEFAULT_ADDRESSES = {
  ipv4: { local: '192.168.0.1', remote: '192.0.2.1' },
  ipv6: { local: 'fd3d:a0b:17d6::1', remote: 'fd3d:fa7b:d17d::1' },
} as const;

/** The port the script's remote end uses when it opens connections to us (packetdrill picks an ephemeral one). */
const REMOTE_EPHEMERAL_PORT = 48879;
/** How far past its deadline a missing packet is looked for, to report when it did come. */
const LATE_PACKET_HORIZON = 600_000_000;
/** How far a `*` outbound line waits, at most. */
const ANY_TIME_HORIZON = 3_600_000_000;
const ACK = 0x10;
const SYN = 0x02;
const FIN = 0x01;
const PSH = 0x08;

class Stop {
  readonly result: ScriptResult;
  constructor(result: ScriptResult) {
    this.result = result;
  }
}

interface Settings {
  family: 4 | 6;
  localAddress: string;
  remoteAddress: string;
  bindPort: number;
  connectPort: number;
  toleranceUsecs: number;
  tolerancePercent: number;
  coalesce: boolean;
  mtu: number;
  tsTickUsecs: number;
  tsEcrScaled: boolean;
  profile: Profile;
}

interface Outbound {
  time: number;
  bytes: Uint8Array;
  /** Index of the event during which the stack sent it. */
  cause: number;
}

interface Flow {
  localPort: number;
  remotePort: number;
  haveIsn: boolean;
  scriptIsn: number;
  liveIsn: number;
  isnSocket: TcpSocket | null;
  /** Script TS val -> live TS val, from outbound lines (packetdrill's ts_val_map). */
  tsMap: Map<number, number>;
  firstTs: { script: number; live: number } | null;
}

interface PendingCall {
  event: ScriptEvent;
  call: SyscallSpec;
  blocked: Blocked;
  start: number;
  end: number;
  tolerance: number;
}

/** Parses `text` and runs it. Never throws on a bad script: it fails or skips with the reason. */
export function runScript(text: string, options: RunOptions = {}): ScriptResult {
  const parsed = parseScript(text, options.defines ?? new Map());
  if (isParseError(parsed)) {
    return {
      status: parsed.unsupported ? 'skip' : 'fail',
      line: parsed.line,
      message: parsed.unsupported ? parsed.error : `parse error: ${parsed.error}`,
      details: [],
      time: null,
      knownFailure: null,
    };
  }
  const settings = resolveSettings(parsed, options);
  if (typeof settings === 'string') {
    return {
      status: 'skip',
      line: null,
      message: settings,
      details: [],
      time: null,
      knownFailure: parsed.knownFailure,
    };
  }
  const interpreter = new Interpreter(parsed, settings, options);
  return interpreter.run();
}

function resolveSettings(script: Script, options: RunOptions): Settings | string {
  const o = script.options;
  const known = new Set([
    'ip_version',
    'local_ip',
    'remote_ip',
    'gateway_ip',
    'netmask_ip',
    'bind_port',
    'connect_port',
    'tolerance_usecs',
    'tolerance_percent',
    'mtu',
    'mss',
    'strict_segments',
    'tcp_ts_tick_usecs',
    'tcp_ts_ecr_scaled',
    'profile',
    'verbose',
  ]);
  for (const name of o.keys()) if (!known.has(name)) return `option --${name} is not supported`;
  const version = o.get('ip_version') ?? 'ipv4';
  if (version !== 'ipv4' && version !== 'ipv6')
    return `--ip_version=${version} is not supported (ipv4 or ipv6)`;
  const family = version === 'ipv4' ? 4 : 6;
  const defaults = family === 4 ? DEFAULT_ADDRESSES.ipv4 : DEFAULT_ADDRESSES.ipv6;
  const profileName = o.get('profile') ?? options.profile ?? 'linux';
  const profile = PROFILES[profileName];
  if (profile === undefined)
    return `profile '${profileName}' is not defined (known: ${Object.keys(PROFILES).join(', ')})`;
  const num = (name: string, fallback: number): number => {
    const v = o.get(name);
    return v === undefined || v === '' ? fallback : Number(v);
  };
  const strict = options.strict === true;
  const settings: Settings = {
    family,
    localAddress: o.get('local_ip') ?? defaults.local,
    remoteAddress: o.get('remote_ip') ?? defaults.remote,
    bindPort: num('bind_port', 8080),
    connectPort: num('connect_port', 8080),
    toleranceUsecs: strict ? 0 : num('tolerance_usecs', 4000),
    tolerancePercent: strict ? 0 : num('tolerance_percent', 12.5),
    coalesce: options.coalesce ?? !o.has('strict_segments'),
    mtu: num('mtu', 1500),
    tsTickUsecs: num('tcp_ts_tick_usecs', 0),
    tsEcrScaled: o.has('tcp_ts_ecr_scaled'),
    profile,
  };
  for (const [k, v] of Object.entries(settings)) {
    if (typeof v === 'number' && !Number.isFinite(v)) return `bad value for an option (${k})`;
  }
  // The stack takes the MSS from the MTU less the IP and TCP headers, and a
  // TcpConfig refuses an MSS below 64 bytes (validateTcpConfig): say so here,
  // instead of the connection throwing when the first SYN arrives.
  const headers = (family === 4 ? 20 : 40) + 20;
  if (settings.mtu < headers + 64)
    return `--mtu=${settings.mtu} leaves an MSS of ${settings.mtu - headers} bytes; tcpts needs at least 64, so an MTU of at least ${headers + 64}`;
  const parse = family === 4 ? parseIpv4Address : parseIpv6Address;
  if (parse(settings.localAddress) === null || parse(settings.remoteAddress) === null)
    return `bad --local_ip or --remote_ip for IPv${family}`;
  return settings;
}

function seconds6(micros: number): string {
  return (micros / 1e6).toFixed(6);
}

function exprText(e: Expr): string {
  switch (e.type) {
    case 'int':
      return String(e.value);
    case 'ellipsis':
      return '...';
    case 'word':
      return e.name;
    case 'string':
      return JSON.stringify(e.value);
    case 'list':
      return `[${e.items.map(exprText).join(', ')}]`;
    case 'struct':
      return `{${e.items.map(exprText).join(', ')}}`;
    case 'or':
      return `${exprText(e.left)}|${exprText(e.right)}`;
    case 'assign':
      return `${e.name}=${exprText(e.value)}`;
    case 'call':
      return `${e.name}(${e.args.map(exprText).join(', ')})`;
  }
  return '?';
}

function callText(call: SyscallSpec): string {
  return `${call.name}(${call.args.map(exprText).join(', ')})`;
}

function outcomeText(o: CallOutcome): string {
  if (o.errno === null) return String(o.ret);
  return `${o.ret} ${o.errno} (${STRERROR[o.errno] ?? errnoName(ERRNO[o.errno] ?? 0)})`;
}

class Interpreter implements SocketHost {
  readonly family: 4 | 6;
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly bindPort: number;
  readonly connectPort: number;
  private readonly script: Script;
  private readonly settings: Settings;
  private readonly verbose: ((line: string) => void) | null;
  private readonly seed: number;
  private readonly tcp: TcpConfig;
  private readonly stackTunables: StackTunables = { maxSynBacklog: null };
  private readonly ends: Endpoints;
  private readonly sockets: SocketLayer;
  private stackValue: Stack | null = null;
  /** The TCP defaults the stack was created with. */
  private tcpInStack: TcpConfig | null = null;
  private ifIndex = 0;
  private clock = 0;
  private readonly queue: Outbound[] = [];
  private queueHead = 0;
  private readonly flow: Flow;
  private pending: PendingCall | null = null;
  private last: { scriptTime: number; inbound: boolean } | null = null;
  private eventIndex = -1;
  private needsDrain = false;

  constructor(script: Script, settings: Settings, options: RunOptions) {
    this.script = script;
    this.settings = settings;
    this.family = settings.family;
    this.localAddress = settings.localAddress;
    this.remoteAddress = settings.remoteAddress;
    this.bindPort = settings.bindPort;
    this.connectPort = settings.connectPort;
    this.verbose = options.verbose ?? null;
    this.seed = options.seed ?? 1;
    this.tcp = settings.profile.tcp();
    this.ends =
      settings.family === 4
        ? {
            family: 4,
            local4: parseIpv4Address(settings.localAddress)!,
            remote4: parseIpv4Address(settings.remoteAddress)!,
            local6: new Uint8Array(0),
            remote6: new Uint8Array(0),
          }
        : {
            family: 6,
            local4: 0,
            remote4: 0,
            local6: parseIpv6Address(settings.localAddress)!,
            remote6: parseIpv6Address(settings.remoteAddress)!,
          };
    this.flow = {
      localPort: settings.bindPort,
      remotePort: REMOTE_EPHEMERAL_PORT,
      haveIsn: false,
      scriptIsn: 0,
      liveIsn: 0,
      isnSocket: null,
      tsMap: new Map(),
      firstTs: null,
    };
    this.sockets = new SocketLayer(this);
  }

  run(): ScriptResult {
    try {
      const events = this.script.events;
      for (let i = 0; i < events.length; i++) {
        this.eventIndex = i;
        this.runEvent(events[i]!);
      }
      this.finish();
      return this.result('pass', null, '', [], null);
    } catch (error) {
      if (error instanceof Stop) return error.result;
      throw error;
    }
  }

  private result(
    status: ScriptResult['status'],
    line: number | null,
    message: string,
    details: string[],
    time: number | null,
  ): ScriptResult {
    return { status, line, message, details, time, knownFailure: this.script.knownFailure };
  }

  private failAt(line: number | null, message: string, details: string[] = []): never {
    throw new Stop(this.result('fail', line, message, details, this.clock));
  }

  private currentLine(): number | null {
    return this.script.events[this.eventIndex]?.line ?? null;
  }

  // --- SocketHost ----------------------------------------------------------

  now(): number {
    return this.clock;
  }

  stack(overrides: Partial<TcpConfig> | null): Stack {
    if (this.stackValue === null) {
      const tcp: TcpConfig = { ...this.tcp, ...(overrides ?? {}) };
      const stack = new Stack({
        rng: new SeededRng(this.seed),
        tcp,
        ...(this.stackTunables.maxSynBacklog !== null
          ? { maxSynBacklog: this.stackTunables.maxSynBacklog }
          : {}),
      });
      const prefix = this.family === 4 ? 16 : 64;
      this.ifIndex = stack.addInterface({
        name: 'tun0',
        kind: 'ip',
        mtu: this.settings.mtu,
        addresses: [`${this.localAddress}/${prefix}`],
      });
      stack.addRoute(this.family === 4 ? '0.0.0.0/0' : '::/0', { ifIndex: this.ifIndex });
      this.stackValue = stack;
      this.tcpInStack = tcp;
      return stack;
    }
    if (overrides !== null) {
      for (const key of [
        'receiveBufferSize',
        'maxReceiveBufferSize',
        'sendBufferSize',
        'mss',
      ] as const) {
        const v = overrides[key];
        if (v !== undefined && v !== this.tcpInStack![key]) {
          this.skip(
            `${key} on a listener opened after the stack was created: Stack.listen takes no per-listener TcpConfig, so buffer and MSS options reach passive connections only through the stack's defaults`,
          );
        }
      }
    }
    return this.stackValue;
  }

  tcpDefaults(): TcpConfig {
    return this.tcpInStack ?? this.tcp;
  }

  useSocket(socket: TcpSocket): void {
    this.flow.localPort = socket.localPort;
    this.flow.remotePort = socket.remotePort;
  }

  useListener(port: number): void {
    this.flow.localPort = port;
    this.flow.remotePort = REMOTE_EPHEMERAL_PORT;
  }

  skip(reason: string): never {
    throw new Stop(this.result('skip', this.currentLine(), reason, [], this.clock));
  }

  scriptError(message: string): never {
    this.failAt(this.currentLine(), `script error: ${message}`);
  }

  touched(): void {
    this.needsDrain = true;
  }

  // --- the clock and the stack's output ------------------------------------

  private drain(): void {
    const stack = this.stackValue;
    this.needsDrain = false;
    if (stack === null) return;
    const now = this.clock as Instant;
    for (let f = stack.pollTransmit(now); f !== null; f = stack.pollTransmit(now)) {
      // slice: a copy, so later output cannot touch what we compare.
      this.queue.push({ time: this.clock, bytes: f.frame.slice(), cause: this.eventIndex });
    }
    while (stack.pollEvent() !== null) {
      // Events are read from the handles directly (accept queues, states).
    }
  }

  private queued(): number {
    return this.queue.length - this.queueHead;
  }

  private nextWakeup(): number {
    let t: number = this.stackValue === null ? NEVER : this.stackValue.pollTimeout();
    const p = this.pending;
    if (p !== null) {
      t = Math.min(t, p.blocked.wakeAt, p.end + p.tolerance + 1);
    }
    return t;
  }

  /**
   * Runs timers up to `target`, stopping early at the first queued packet
   * (`until` 'packet') or when the blocked call has returned ('call').
   */
  private advance(target: number, until: 'packet' | 'call' | null): void {
    let guard = 0;
    for (;;) {
      if (this.needsDrain) this.drain();
      if (until === 'packet' && this.queued() > 0) return;
      if (until === 'call' && this.pending === null) return;
      const next = this.nextWakeup();
      if (next > target) break;
      if (++guard > 1_000_000)
        this.failAt(
          this.currentLine(),
          `the stack keeps a timer due at ${seconds6(next)} s without progress`,
        );
      if (next > this.clock) this.clock = next;
      this.stackValue?.handleTimeout(this.clock as Instant);
      this.drain();
      this.retryPending();
    }
    if (target > this.clock && target !== NEVER) this.clock = target;
    this.retryPending();
  }

  private retryPending(): void {
    const p = this.pending;
    if (p === null) return;
    if (this.needsDrain) this.drain();
    const outcome = p.blocked.retry();
    if (this.needsDrain) this.drain();
    if (outcome !== null) {
      this.pending = null;
      this.finishCall(p.event, p.call, outcome, p.end, p.tolerance, true);
      return;
    }
    if (this.clock > p.end + p.tolerance) {
      this.failAt(
        p.event.line,
        `${callText(p.call)} was still blocked at ${seconds6(this.clock)} s; the script expects it to return at ${seconds6(p.end)} s (tolerance ${seconds6(p.tolerance)} s)`,
      );
    }
  }

  private waitPending(): void {
    while (this.pending !== null)
      this.advance(this.pending.end + this.pending.tolerance + 1, 'call');
  }

  private tolerance(interval: number): number {
    return Math.max(
      this.settings.toleranceUsecs,
      (this.settings.tolerancePercent / 100) * Math.max(interval, 0),
    );
  }

  /** Fails on a packet the stack sent before `t - tolerance` that no `>` line took. */
  private checkUnexpected(t: number, tolerance: number, line: number): void {
    if (this.queued() === 0) return;
    const first = this.queue[this.queueHead]!;
    if (first.time < t - tolerance) {
      this.failAt(line, 'unexpected outbound packet: the stack sent a packet no > line expects', [
        `actual: ${seconds6(first.time)} > ${this.describe(readPacket(first.bytes))}`,
      ]);
    }
  }

  private finish(): void {
    this.eventIndex = this.script.events.length;
    this.waitPending();
    const lastIndex = this.script.events.length - 1;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const q = this.queue[i]!;
      if (q.cause < lastIndex) {
        this.failAt(
          this.script.events[q.cause]?.line ?? null,
          'unexpected outbound packet: the stack sent a packet no > line expects before the script ended',
          [`actual: ${seconds6(q.time)} > ${this.describe(readPacket(q.bytes))}`],
        );
      }
    }
  }

  // --- events ----------------------------------------------------------------

  private runEvent(e: ScriptEvent): void {
    const action = e.action;
    const inbound = action.type === 'packet' && action.packet.direction === 'inbound';
    const outbound = action.type === 'packet' && action.packet.direction === 'outbound';
    const { start, end } = this.eventTimes(e.time, inbound);
    const previous = this.last?.scriptTime ?? 0;
    if (
      this.last !== null &&
      (e.time.kind === 'absolute' || e.time.kind === 'absolute-range') &&
      start < previous
    ) {
      this.failAt(
        e.line,
        `time goes backward in script from ${seconds6(previous)} s to ${seconds6(start)} s`,
      );
    }
    const tolerance = this.tolerance(start - previous);
    if (action.type === 'syscall') this.waitPending();
    if (outbound) {
      const actualTime = this.expectPacket(e, start, end, tolerance);
      this.last = { scriptTime: e.time.kind === 'any' ? actualTime : start, inbound: false };
      return;
    }
    this.advance(start, null);
    this.checkUnexpected(start, tolerance, e.line);
    if (this.clock > start + tolerance) {
      this.failAt(
        e.line,
        `timing error: expected ${this.describeAction(e)} at ${seconds6(start)} s but the previous event ended at ${seconds6(this.clock)} s; tolerance ${seconds6(tolerance)} s`,
      );
    }
    switch (action.type) {
      case 'packet':
        if (action.packet.kind === 'tcp') this.injectTcp(action.packet);
        else this.injectIcmp(action.packet, e.line);
        break;
      case 'syscall':
        this.runSyscall(e, action.call, action.blockingEnd, start, tolerance);
        break;
      case 'shell':
        this.runShellLine(e, action.command);
        break;
      case 'code':
        this.runCodeBlock(e, action.code);
        break;
    }
    this.last = { scriptTime: start, inbound };
  }

  private eventTimes(time: EventTime, inbound: boolean): { start: number; end: number } {
    const base =
      this.last !== null && this.last.inbound && inbound ? this.last.scriptTime : this.clock;
    switch (time.kind) {
      case 'absolute':
        return { start: time.start, end: time.start };
      case 'relative':
        return { start: base + time.start, end: base + time.start };
      case 'absolute-range':
        return { start: time.start, end: time.end };
      case 'relative-range':
        return { start: base + time.start, end: base + time.end };
      case 'any':
        return { start: this.clock, end: this.clock + ANY_TIME_HORIZON };
    }
    return { start: this.clock, end: this.clock };
  }

  private describeAction(e: ScriptEvent): string {
    const a = e.action;
    if (a.type === 'syscall') return `${a.call.name}()`;
    if (a.type === 'packet')
      return a.packet.direction === 'inbound' ? 'inbound packet' : 'outbound packet';
    return a.type === 'shell' ? 'command' : 'code block';
  }

  // --- inbound ---------------------------------------------------------------

  private localOffset(): number {
    return this.flow.haveIsn ? (this.flow.liveIsn - this.flow.scriptIsn) >>> 0 : 0;
  }

  private injectTcp(spec: TcpPacketSpec): void {
    const stack = this.stack(null);
    const offset = this.localOffset();
    const hasAck = (spec.flags & ACK) !== 0;
    const options: TcpOptionEntry[] = [];
    for (const o of spec.options ?? []) {
      if (o.kind === 'sack') {
        options.push({
          kind: 'sack',
          blocks: o.blocks.map((b): SackBlock => ({
            left: seqAdd(b.left, offset),
            right: seqAdd(b.right, offset),
          })),
        });
      } else if (o.kind === 'TS' && hasAck) {
        options.push({ kind: 'TS', value: o.value, echo: this.liveEcr(o.echo) });
      } else {
        options.push(o);
      }
    }
    let tos = spec.ip.tos ?? 0;
    if (typeof spec.ip.ecn === 'number') tos = (tos & ~3) | spec.ip.ecn;
    const bytes = buildInboundTcp(this.ends, {
      srcPort: spec.ports?.src ?? this.flow.remotePort,
      dstPort: spec.ports?.dst ?? this.flow.localPort,
      seq: spec.seq,
      ack: hasAck ? (spec.ack + offset) >>> 0 : spec.ack,
      flags: spec.flags,
      window: spec.window,
      urgent: spec.urgent,
      options,
      payloadLength: spec.length,
      tos,
      ttl: spec.ip.ttl ?? 64,
    });
    this.verbose?.(`${seconds6(this.clock)} < ${formatTcp({ ...spec, ecn: spec.ip.ecn })}`);
    stack.receiveFrame(this.clock as Instant, this.ifIndex, bytes);
    this.sockets.adoptChildren(stack);
    this.drain();
    this.retryPending();
  }

  /** packetdrill's map_inbound_packet for the TS ecr. */
  private liveEcr(scriptEcr: number): number {
    const mapped = this.flow.tsMap.get(scriptEcr);
    if (mapped !== undefined) return mapped;
    if (scriptEcr === 0) return 0;
    const first = this.flow.firstTs;
    if (this.settings.tsEcrScaled && first !== null)
      return (scriptEcr - first.script + first.live) >>> 0;
    return this.failAt(
      this.currentLine(),
      `unable to infer live TS ecr for script TS ecr ${scriptEcr}: no outbound line had TS val ${scriptEcr} (outbound lines with <...> record no TS val; use --tcp_ts_ecr_scaled to interpolate)`,
    );
  }

  private injectIcmp(spec: IcmpPacketSpec, line: number): void {
    const stack = this.stack(null);
    const codes = icmpCodes(this.family, spec.type, spec.code);
    if (typeof codes === 'string') this.failAt(line, `script error: ${codes}`);
    let tos = spec.ip.tos ?? 0;
    if (typeof spec.ip.ecn === 'number') tos = (tos & ~3) | spec.ip.ecn;
    const bytes = buildInboundIcmp(
      this.ends,
      codes.type,
      codes.code,
      spec.mtu,
      {
        srcPort: this.flow.localPort,
        dstPort: this.flow.remotePort,
        seq: (spec.echoed.seq + this.localOffset()) >>> 0,
        length: spec.echoed.length,
      },
      tos,
      spec.ip.ttl ?? 64,
    );
    this.verbose?.(
      `${seconds6(this.clock)} < icmp ${spec.type}${spec.code !== null ? ` ${spec.code}` : ''}${spec.mtu >= 0 ? ` mtu ${spec.mtu}` : ''} [${spec.echoed.seq}:${(spec.echoed.seq + spec.echoed.length) >>> 0}(${spec.echoed.length})]`,
    );
    stack.receiveFrame(this.clock as Instant, this.ifIndex, bytes);
    this.drain();
    this.retryPending();
  }

  // --- outbound --------------------------------------------------------------

  /** Waits for the next packet the stack sends, up to `deadline`. */
  private takePacket(deadline: number): Outbound | null {
    this.advance(deadline, 'packet');
    if (this.queued() === 0) return null;
    return this.queue[this.queueHead++]!;
  }

  private expectPacket(e: ScriptEvent, start: number, end: number, tolerance: number): number {
    const spec = (e.action as { packet: TcpPacketSpec | IcmpPacketSpec }).packet;
    const any = e.time.kind === 'any';
    const deadline = any ? end : end + tolerance;
    const expectedText = this.expectedText(spec);
    let first = this.takePacket(deadline);
    let late = false;
    if (first === null && !any) {
      // Too late already; look further ahead only to say when it did come
      // (packetdrill sniffs until a packet arrives, then checks its time).
      first = this.takePacket(deadline + LATE_PACKET_HORIZON);
      late = first !== null;
    }
    if (first === null) {
      const why =
        this.nextWakeup() === NEVER
          ? ' (nothing else will be sent: the stack has no timer armed)'
          : '';
      this.clock = Math.min(this.clock, deadline);
      this.failAt(
        e.line,
        `expected outbound packet ${any ? 'at any time' : `at ${seconds6(start)} s`} but none was sent by ${seconds6(deadline)} s${why}`,
        [`script: ${any ? '*' : seconds6(start)} > ${expectedText}`],
      );
    }
    const time = first.time;
    let packet: WirePacket;
    if (late) {
      try {
        packet = this.matchPacket(e, spec, first, deadline + LATE_PACKET_HORIZON, expectedText);
      } catch (error) {
        // A later packet that is not this one: the expected one is missing.
        if (!(error instanceof Stop)) throw error;
        this.clock = deadline;
        return this.failAt(
          e.line,
          `expected outbound packet at ${seconds6(start)} s but none was sent by ${seconds6(deadline)} s`,
          [
            `script: ${seconds6(start)} > ${expectedText}`,
            `next:   ${seconds6(time)} > ${this.describe(readPacket(first.bytes))}`,
          ],
        );
      }
    } else {
      packet = this.matchPacket(e, spec, first, deadline, expectedText);
    }
    if (!any && (time < start - tolerance || time > end + tolerance)) {
      const when =
        start === end
          ? `at ${seconds6(start)} s`
          : `in time range ${seconds6(start)}~${seconds6(end)} s`;
      this.failAt(
        e.line,
        `timing error: expected outbound packet ${when} but it happened at ${seconds6(time)} s; tolerance ${seconds6(tolerance)} s`,
        [
          `script: ${seconds6(start)} > ${expectedText}`,
          `actual: ${seconds6(time)} > ${this.describe(packet)}`,
        ],
      );
    }
    return time;
  }

  /** Compares the packet taken (and, coalescing, the ones after it) with the line; fails on a difference. */
  private matchPacket(
    e: ScriptEvent,
    spec: TcpPacketSpec | IcmpPacketSpec,
    first: Outbound,
    deadline: number,
    expectedText: string,
  ): WirePacket {
    let packet = readPacket(first.bytes);
    const time = first.time;
    if (spec.kind === 'icmp') {
      this.compareIcmp(e, spec, packet, time, expectedText);
    } else {
      if (packet.tcp !== null && (spec.flags & SYN) !== 0 && (packet.tcp.flags & SYN) !== 0)
        this.mapIsn(spec, packet.tcp);
      if (
        this.settings.coalesce &&
        packet.tcp !== null &&
        packet.tcp.payload.length > 0 &&
        packet.tcp.payload.length < spec.length
      ) {
        packet = this.coalesce(e, spec, packet, deadline, expectedText, time);
      }
      this.compareTcp(e, spec, packet, time, expectedText);
    }
    this.verbose?.(`${seconds6(time)} > ${this.describe(packet)}`);
    return packet;
  }

  /** packetdrill lets a run of equal-size segments match one larger expected segment. */
  private coalesce(
    e: ScriptEvent,
    spec: TcpPacketSpec,
    firstPacket: WirePacket,
    deadline: number,
    expectedText: string,
    time: number,
  ): WirePacket {
    const parts: WireTcp[] = [firstPacket.tcp!];
    let total = firstPacket.tcp!.payload.length;
    while (total < spec.length) {
      const next = this.takePacket(deadline);
      const prev = parts[parts.length - 1]!;
      if (next === null) {
        this.failAt(
          e.line,
          `live packet payload: expected ${spec.length} bytes vs actual ${total} bytes (segments of ${parts[0]!.payload.length} bytes, then nothing more by ${seconds6(this.clock)} s)`,
          [`script: ${seconds6(time)} > ${expectedText}`],
        );
      }
      const p = readPacket(next.bytes);
      const t = p.tcp;
      const mask = ~(PSH | FIN) & 0xff;
      if (
        t === null ||
        (t.flags & mask) !== (prev.flags & mask) ||
        t.seq !== (prev.seq + prev.payload.length) >>> 0 ||
        t.ack !== prev.ack ||
        t.window !== prev.window ||
        t.headerLength !== prev.headerLength
      ) {
        this.failAt(e.line, 'aggregate candidate packet does not continue the previous segment', [
          `script: ${seconds6(time)} > ${expectedText}`,
          `actual: ${seconds6(next.time)} > ${this.describe(p)}`,
        ]);
      }
      if (
        prev.payload.length !== parts[0]!.payload.length ||
        t.payload.length > parts[0]!.payload.length
      ) {
        this.failAt(
          e.line,
          `fragment payload: expected ${parts[0]!.payload.length} bytes vs actual ${t.payload.length} bytes; total payload: expected ${spec.length} bytes vs actual ${total + t.payload.length} bytes`,
          [`script: ${seconds6(time)} > ${expectedText}`],
        );
      }
      parts.push(t);
      total += t.payload.length;
    }
    const payload = new Uint8Array(total);
    let at = 0;
    let flags = 0;
    for (const part of parts) {
      payload.set(part.payload, at);
      at += part.payload.length;
      flags |= part.flags;
    }
    const lastPart = parts[parts.length - 1]!;
    return {
      ...firstPacket,
      tcp: {
        ...lastPart,
        seq: parts[0]!.seq,
        flags,
        payload,
        checksumOk: parts.every((p) => p.checksumOk),
      },
    };
  }

  /** An outbound SYN fixes the ISN mapping (again, for a new connection on the same 4-tuple). */
  private mapIsn(spec: TcpPacketSpec, tcp: WireTcp): void {
    const flow = this.flow;
    if (flow.haveIsn && tcp.seq === flow.liveIsn) return;
    let owner: TcpSocket | null = null;
    for (const s of this.stackValue?.tcpSockets() ?? []) {
      if (
        s.conn.initialSendSequence === tcp.seq &&
        s.localPort === tcp.srcPort &&
        s.remotePort === tcp.dstPort
      )
        owner = s;
    }
    if (flow.haveIsn && (owner === null || owner === flow.isnSocket)) return;
    flow.haveIsn = true;
    flow.scriptIsn = spec.seq;
    flow.liveIsn = tcp.seq;
    flow.isnSocket = owner;
  }

  /** The actual packet in script space, as a script line would say it. */
  private describe(p: WirePacket): string {
    if (p.problem !== null) return `(unreadable: ${p.problem})`;
    if (p.icmp !== null)
      return `icmp type ${p.icmp.type} code ${p.icmp.code} (${p.src} > ${p.dst})`;
    const t = p.tcp;
    if (t === null) return `(IP protocol ${p.protocol}, ${p.src} > ${p.dst})`;
    const view = this.scriptView(t);
    const ports =
      t.srcPort !== this.flow.localPort || t.dstPort !== this.flow.remotePort
        ? `${t.srcPort}>${t.dstPort} `
        : '';
    const ecn = p.tos & 3;
    return `${ports}${formatTcp({ ...view, ecn: ecn === 0 ? null : ecn })}`;
  }

  private scriptView(t: WireTcp): {
    flags: number;
    seq: number;
    length: number;
    ack: number;
    window: number;
    urgent: number;
    options: TcpOptionEntry[];
  } {
    const offset = this.localOffset();
    const first = this.flow.firstTs;
    const options = t.options.map((o): TcpOptionEntry => {
      if (o.kind === 'TS' && first !== null)
        return { kind: 'TS', value: (first.script + (o.value - first.live)) >>> 0, echo: o.echo };
      return o;
    });
    return {
      flags: t.flags,
      seq: (t.seq - offset) >>> 0,
      length: t.payload.length,
      ack: t.ack,
      window: t.window,
      urgent: t.urgent,
      options,
    };
  }

  private expectedText(spec: TcpPacketSpec | IcmpPacketSpec): string {
    if (spec.kind === 'icmp')
      return `icmp ${spec.type}${spec.code !== null ? ` ${spec.code}` : ''}`;
    return formatTcp({ ...spec, ecn: spec.ip.ecn });
  }

  private compareIcmp(
    e: ScriptEvent,
    spec: IcmpPacketSpec,
    p: WirePacket,
    time: number,
    expectedText: string,
  ): void {
    const codes = icmpCodes(this.family, spec.type, spec.code);
    if (typeof codes === 'string') this.failAt(e.line, `script error: ${codes}`);
    const details = [
      `script: > ${expectedText}`,
      `actual: ${seconds6(time)} > ${this.describe(p)}`,
    ];
    if (p.icmp === null) this.failAt(e.line, 'expected an ICMP packet', details);
    if (p.icmp.type !== codes.type || (spec.code !== null && p.icmp.code !== codes.code))
      this.failAt(
        e.line,
        `live packet field icmp type/code: expected ${codes.type}/${codes.code} vs actual ${p.icmp.type}/${p.icmp.code}`,
        details,
      );
  }

  private compareTcp(
    e: ScriptEvent,
    spec: TcpPacketSpec,
    p: WirePacket,
    time: number,
    expectedText: string,
  ): void {
    const details = (): string[] => [
      `script: ${seconds6(time)} > ${expectedText}`,
      `actual: ${seconds6(time)} > ${this.describe(p)}`,
    ];
    const mismatch = (field: string, expected: string | number, actual: string | number): never =>
      this.failAt(
        e.line,
        `live packet field ${field}: expected ${expected} vs actual ${actual}`,
        details(),
      );
    if (p.problem !== null)
      this.failAt(e.line, `the stack sent an unreadable packet: ${p.problem}`, details());
    const t = p.tcp;
    if (t === null) return this.failAt(e.line, 'expected a TCP packet', details());
    if (p.src !== this.localAddress || p.dst !== this.remoteAddress)
      mismatch('addresses', `${this.localAddress} > ${this.remoteAddress}`, `${p.src} > ${p.dst}`);
    const srcPort = spec.ports?.src ?? this.flow.localPort;
    const dstPort = spec.ports?.dst ?? this.flow.remotePort;
    if (t.srcPort !== srcPort || t.dstPort !== dstPort)
      mismatch('ports', `${srcPort}>${dstPort}`, `${t.srcPort}>${t.dstPort}`);
    if (!t.checksumOk) this.failAt(e.line, 'bad outbound TCP checksum', details());
    // The first outbound timestamp fixes the script <-> live TS val mapping
    // (packetdrill's first_script_ts_val); set it before anything is shown.
    const scriptTs = spec.options?.find((o) => o.kind === 'TS');
    const liveTs = t.options.find((o) => o.kind === 'TS');
    if (this.flow.firstTs === null && scriptTs?.kind === 'TS' && liveTs?.kind === 'TS')
      this.flow.firstTs = { script: scriptTs.value, live: liveTs.value };
    const view = this.scriptView(t);
    const names: Array<[number, string]> = [
      [0x02, 'tcp_syn'],
      [0x04, 'tcp_rst'],
      [0x10, 'tcp_ack'],
      [0x01, 'tcp_fin'],
      [0x08, 'tcp_psh'],
      [0x20, 'tcp_urg'],
      [0x40, 'tcp_ece'],
      [0x80, 'tcp_cwr'],
    ];
    // The length first, as packetdrill's IP total length check comes first.
    if (t.payload.length !== spec.length)
      this.failAt(
        e.line,
        `live packet payload: expected ${spec.length} bytes vs actual ${t.payload.length} bytes`,
        details(),
      );
    for (const [bit, name] of names) {
      if ((spec.flags & bit) !== (t.flags & bit))
        mismatch(name, (spec.flags & bit) !== 0 ? 1 : 0, (t.flags & bit) !== 0 ? 1 : 0);
    }
    if (view.seq !== spec.seq) mismatch('tcp_seq', spec.seq, view.seq);
    if (view.ack !== spec.ack) mismatch('tcp_ack_seq', spec.ack, view.ack);
    if (spec.window >= 0 && view.window !== spec.window)
      mismatch('tcp_window', spec.window, view.window);
    if (view.urgent !== spec.urgent) mismatch('tcp_urg_ptr', spec.urgent, view.urgent);
    if (spec.options !== null) this.compareOptions(e, spec.options, t.options, time, details);
    for (let i = 0; i < t.payload.length; i++) {
      if (t.payload[i] !== 0)
        this.failAt(
          e.line,
          `incorrect outbound data payload: byte ${i} is ${t.payload[i]}, the script writes zeros`,
          details(),
        );
    }
    const ecn = p.tos & 3;
    if (spec.ip.ecn === 'ect01') {
      if (ecn !== 1 && ecn !== 2) mismatch('ip_ecn', '0x1 or 0x2', `0x${ecn.toString(16)}`);
    } else if (spec.ip.ecn !== null && ecn !== spec.ip.ecn) {
      mismatch('ip_ecn', `0x${spec.ip.ecn.toString(16)}`, `0x${ecn.toString(16)}`);
    }
    if (spec.ip.tos !== null && p.tos !== spec.ip.tos)
      mismatch('tos', `0x${spec.ip.tos.toString(16)}`, `0x${p.tos.toString(16)}`);
    if (spec.ip.ttl !== null && p.ttl !== spec.ip.ttl) mismatch('ttl', spec.ip.ttl, p.ttl);
  }

  private compareOptions(
    e: ScriptEvent,
    expected: readonly TcpOptionEntry[],
    actual: readonly TcpOptionEntry[],
    time: number,
    details: () => string[],
  ): void {
    const bad = (what: string): never =>
      this.failAt(e.line, `bad outbound TCP options: ${what}`, details());
    if (expected.length !== actual.length)
      bad(`expected ${expected.length} options, actual ${actual.length}`);
    for (let i = 0; i < expected.length; i++) {
      const x = expected[i]!;
      const a = actual[i]!;
      if (x.kind !== a.kind) bad(`option ${i + 1}: expected ${x.kind}, actual ${a.kind}`);
      if (x.kind === 'mss' && a.kind === 'mss' && x.value !== a.value)
        bad(`mss: expected ${x.value}, actual ${a.value}`);
      if (x.kind === 'wscale' && a.kind === 'wscale' && x.shift !== a.shift)
        bad(`wscale: expected ${x.shift}, actual ${a.shift}`);
      if (x.kind === 'sack' && a.kind === 'sack') {
        const xs = x.blocks.map((b) => `${b.left}:${b.right}`).join(' ');
        const as = a.blocks.map((b) => `${b.left}:${b.right}`).join(' ');
        if (xs !== as) bad(`sack blocks: expected ${xs}, actual ${as}`);
      }
      if (x.kind === 'TS' && a.kind === 'TS') {
        // The TS val clock is the stack's (randomly offset); packetdrill checks it
        // only with --tcp_ts_tick_usecs, against the first mapping. The echo is
        // the script's own value and must match exactly.
        if (x.echo !== a.echo) bad(`TS ecr: expected ${x.echo}, actual ${a.echo}`);
        const flow = this.flow;
        if (flow.firstTs === null) flow.firstTs = { script: x.value, live: a.value };
        flow.tsMap.set(x.value, a.value);
        const tick = this.settings.tsTickUsecs;
        if (tick > 0) {
          const expectedLive = (flow.firstTs.live + (x.value - flow.firstTs.script)) >>> 0;
          const drift = Math.abs(((a.value - expectedLive) | 0) * tick);
          const allowed = this.tolerance(time);
          if (drift > allowed)
            bad(
              `TS val: expected ${x.value} vs actual ${(flow.firstTs.script + (a.value - flow.firstTs.live)) >>> 0} (${drift} µs off, tolerance ${allowed} µs)`,
            );
        }
      }
    }
  }

  // --- system calls, shell lines, code ---------------------------------------

  private runSyscall(
    e: ScriptEvent,
    call: SyscallSpec,
    blockingEnd: number | null,
    start: number,
    tolerance: number,
  ): void {
    let end = start;
    if (blockingEnd !== null) {
      const relative = e.time.kind === 'relative';
      end = relative ? start - (e.time as { start: number }).start + blockingEnd : blockingEnd;
    }
    const endTolerance = blockingEnd !== null ? this.tolerance(end - start) : tolerance;
    const result = this.sockets.call(call.name, call.args);
    if (this.needsDrain) this.drain();
    if (isBlocked(result)) {
      this.pending = { event: e, call, blocked: result, start, end, tolerance: endTolerance };
      this.retryPending();
      return;
    }
    this.finishCall(e, call, result, end, endTolerance, blockingEnd !== null);
  }

  private finishCall(
    e: ScriptEvent,
    call: SyscallSpec,
    outcome: CallOutcome,
    end: number,
    tolerance: number,
    blocking: boolean,
  ): void {
    this.verbose?.(`${seconds6(this.clock)} ${callText(call)} = ${outcomeText(outcome)}`);
    if (blocking || this.clock !== end) {
      if (this.clock < end - tolerance || this.clock > end + tolerance) {
        this.failAt(
          e.line,
          `timing error: expected ${call.name}() to return at ${seconds6(end)} s but it returned at ${seconds6(this.clock)} s; tolerance ${seconds6(tolerance)} s`,
        );
      }
    }
    const where = `${callText(call)}`;
    const expected = call.result;
    if (expected.type !== 'ellipsis') {
      const want = this.sockets.intOf(expected, 'return value');
      if (want !== null && want !== outcome.ret)
        this.failAt(
          e.line,
          `${where}: expected ${want}${call.errno !== null ? ` ${call.errno}` : ''}, actual ${outcomeText(outcome)}`,
        );
    }
    if (call.errno !== null) {
      const want = ERRNO[call.errno];
      if (want === undefined) this.failAt(e.line, `script error: unknown errno ${call.errno}`);
      const got = outcome.errno === null ? 0 : ERRNO[outcome.errno];
      if (got !== want)
        this.failAt(
          e.line,
          `${where}: expected errno ${call.errno}, actual ${outcomeText(outcome)}`,
        );
    } else if (outcome.errno !== null && expected.type === 'ellipsis') {
      // `= ...` accepts any value, errors included.
    }
    if (outcome.mismatches.length > 0)
      this.failAt(e.line, `${where}: ${outcome.mismatches.join('; ')}`);
  }

  private runShellLine(e: ScriptEvent, command: string): void {
    const outcome = runShell(command, {
      tcp: this.tcp,
      stack: this.stackTunables,
      canConfigure: this.stackValue === null,
      countState: (state) => {
        if (state === TcpState.Listen) return this.sockets.openListeners();
        let n = 0;
        for (const s of this.stackValue?.tcpSockets() ?? []) if (s.state === state) n++;
        return n;
      },
      defines: this.script.defines,
    });
    this.verbose?.(`${seconds6(this.clock)} \`${command.trim()}\` ${outcome.kind}`);
    if (outcome.kind === 'skip') this.skip(outcome.reason);
    if (outcome.kind === 'fail') this.failAt(e.line, `command failed: ${outcome.message}`);
  }

  private runCodeBlock(e: ScriptEvent, code: string): void {
    const socket = this.sockets.lastConnection();
    const stats = socket?.stats() ?? null;
    const result = runCode(code, (name) => {
      if (name.startsWith('tcpi_')) {
        if (stats === null) return 'no connection to read TCP_INFO from';
        return tcpInfoValue(stats, name);
      }
      return codeConstant(name);
    });
    if (result.ok) return;
    if (result.kind === 'unsupported') this.skip(result.message);
    this.failAt(
      e.line,
      result.kind === 'assertion' ? result.message : `code error: ${result.message}`,
    );
  }
}
