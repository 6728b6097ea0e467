/**
 * The interpreter's run loop: runs a parsed script against a fresh tcpts Stack on a
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
 * This file is the run loop: the clock, the stack's output queue, blocking
 * calls, and the order of events. Inbound lines are built in inject.ts,
 * outbound lines matched in expect.ts, the script <-> live number mapping
 * both use is flow.ts, and the settings come from settings.ts.
 */
import { NEVER, SeededRng, type Instant } from '../base/index.js';
import { Stack, type TcpSocket } from '../stack/index.js';
import { TcpState, type TcpConfig } from '../tcp/index.js';
import { parseIpv4Address, parseIpv6Address } from '../wire/index.js';
import { runCode } from './code.js';
import { ERRNO, STRERROR, errnoName } from './constants.js';
import { OutboundMatcher, type Outbound } from './expect.js';
import { REMOTE_EPHEMERAL_PORT, newFlow, type Flow } from './flow.js';
import { injectIcmp, injectTcp, type InboundContext } from './inject.js';
import { readPacket, type Endpoints } from './packets.js';
import { runShell, type ShellContext } from './shell.js';
import { seconds6 } from './report.js';
import { Stop, type ScriptResult } from './result.js';
import { resolveSettings, type RunOptions, type Settings } from './settings.js';
import {
  isParseError,
  parseScript,
  type EventTime,
  type Expr,
  type Script,
  type ScriptEvent,
  type SyscallSpec,
} from './script.js';
import {
  SocketLayer,
  isBlocked,
  type Blocked,
  type CallOutcome,
  type SocketHost,
} from './syscalls.js';
import { applySysctl, type StackTunables } from './sysctls.js';
import { codeConstant, tcpInfoValue } from './tcpinfo.js';

/** How far a `*` outbound line waits, at most. */
const ANY_TIME_HORIZON = 3_600_000_000;

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
      return `${e.name}${e.args !== null ? `(${e.args.map(exprText).join(', ')})` : ''}=${exprText(e.value)}`;
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
  private readonly stackTunables: StackTunables = { maxSynBacklog: null, fastOpen: 0x1 };
  private readonly ends: Endpoints;
  private readonly sockets: SocketLayer;
  private stackValue: Stack | null = null;
  /** The TCP defaults the stack was created with. */
  private tcpInStack: TcpConfig | null = null;
  /** The sysctl-set TCP defaults when the stack was created (tcpInStack without the first socket's options). */
  private sysctlsInStack: TcpConfig | null = null;
  private ifIndex = 0;
  private clock = 0;
  private readonly queue: Outbound[] = [];
  private queueHead = 0;
  private readonly flow: Flow;
  private readonly inbound: InboundContext;
  private readonly shell: ShellContext;
  private readonly commandLineSysctls: ReadonlyMap<string, string>;
  /** Fail on packets no `>` line took (RunOptions.unexpectedPackets 'strict'). */
  private readonly strictUnexpected: boolean;
  private readonly outbound: OutboundMatcher;
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
    this.commandLineSysctls = options.sysctls ?? new Map();
    this.strictUnexpected = options.unexpectedPackets === 'strict';
    this.seed = options.seed ?? 1;
    this.tcp = settings.profile.tcp();
    if (settings.mtu > 1500) {
      // The profile's MSS (1460) is Ethernet's; a larger --mtu raises it, as
      // Linux advertises MTU - 40 (IPv4) or MTU - 60 (IPv6).
      const mtuMss = settings.mtu - (settings.family === 4 ? 40 : 60);
      this.tcp.mss = Math.min(65495, Math.max(this.tcp.mss, mtuMss));
    }
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
    this.flow = newFlow(settings.bindPort);
    this.inbound = {
      family: this.family,
      ends: this.ends,
      flow: this.flow,
      tsEcrScaled: settings.tsEcrScaled,
      verbose: this.verbose,
      now: () => this.clock,
      fail: (message) => this.failAt(this.currentLine(), message),
      skip: (reason) => this.skip(reason),
      fastOpenBits: () => this.stackTunables.fastOpen,
      deliver: (frame, adoptChildren) => {
        const stack = this.stack(null);
        stack.receiveFrame(this.clock as Instant, this.ifIndex, frame);
        if (adoptChildren) this.sockets.adoptChildren(stack);
        this.drain();
        this.retryPending();
      },
    };
    this.outbound = new OutboundMatcher({
      settings,
      flow: this.flow,
      verbose: this.verbose,
      now: () => this.clock,
      setClock: (time) => {
        this.clock = time;
      },
      takePacket: (deadline) => this.takePacket(deadline),
      idle: () => this.nextWakeup() === NEVER,
      tolerance: (interval) => this.tolerance(interval),
      tcpSockets: () => this.stackValue?.tcpSockets() ?? [],
      failAt: (line, message, details) => this.failAt(line, message, details),
    });
    this.sockets = new SocketLayer(this);
    const stackCreated = (): boolean => this.stackValue !== null;
    this.shell = {
      tcp: this.tcp,
      stack: this.stackTunables,
      get stackCreated(): boolean {
        return stackCreated();
      },
      readFile: options.readFile ?? null,
      saved: null,
      countState: (state) => {
        if (state === TcpState.Listen) return this.sockets.openListeners();
        let n = 0;
        for (const s of this.stackValue?.tcpSockets() ?? []) if (s.state === state) n++;
        return n;
      },
      defines: script.defines,
    };
  }

  run(): ScriptResult {
    try {
      this.applyCommandLineSysctls();
      const events = this.script.events;
      for (let i = 0; i < events.length; i++) {
        this.eventIndex = i;
        this.runEvent(events[i]!);
      }
      this.finish();
      const cleanup = this.script.cleanup;
      if (cleanup !== null) this.runShellLine(cleanup.line, cleanup.command);
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
      this.sysctlsInStack = { ...this.tcp };
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
      for (const key of Object.keys(this.tcpChanges()) as Array<keyof TcpConfig>) {
        if (overrides[key] !== this.tcpInStack![key]) {
          this.skip(
            `a sysctl changed ${key} after the stack was created, and this listener would need it: Stack.listen takes no per-listener TcpConfig (sockets that connect get it)`,
          );
        }
      }
    }
    return this.stackValue;
  }

  tcpDefaults(): TcpConfig {
    return this.tcp;
  }

  tcpChanges(): Partial<TcpConfig> {
    const changes: Record<string, unknown> = {};
    const inStack = this.sysctlsInStack as Record<string, unknown> | null;
    if (inStack === null) return {};
    for (const [key, value] of Object.entries(this.tcp)) {
      if (inStack[key] !== value) changes[key] = value;
    }
    return changes as Partial<TcpConfig>;
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
    // packetdrill: a leftover packet meets the next `>` line instead.
    if (!this.strictUnexpected || this.queued() === 0) return;
    const first = this.queue[this.queueHead]!;
    if (first.time < t - tolerance) {
      this.failAt(line, 'unexpected outbound packet: the stack sent a packet no > line expects', [
        `actual: ${seconds6(first.time)} > ${this.outbound.describe(readPacket(first.bytes))}`,
      ]);
    }
  }

  private finish(): void {
    this.eventIndex = this.script.events.length;
    this.waitPending();
    // packetdrill looks at what the stack sent only when a `>` line asks:
    // nothing checks for leftovers at the end.
    if (!this.strictUnexpected) return;
    const lastIndex = this.script.events.length - 1;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const q = this.queue[i]!;
      if (q.cause < lastIndex) {
        this.failAt(
          this.script.events[q.cause]?.line ?? null,
          'unexpected outbound packet: the stack sent a packet no > line expects before the script ended',
          [`actual: ${seconds6(q.time)} > ${this.outbound.describe(readPacket(q.bytes))}`],
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
      const actualTime = this.outbound.expectPacket(e, start, end, tolerance);
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
        if (action.packet.kind === 'tcp') injectTcp(this.inbound, action.packet);
        else injectIcmp(this.inbound, action.packet);
        break;
      case 'syscall':
        this.runSyscall(e, action.call, action.blockingEnd, start, tolerance);
        break;
      case 'shell':
        this.runShellLine(e.line, action.command);
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

  // --- outbound --------------------------------------------------------------

  /** Waits for the next packet the stack sends, up to `deadline`. */
  private takePacket(deadline: number): Outbound | null {
    this.advance(deadline, 'packet');
    if (this.queued() === 0) return null;
    return this.queue[this.queueHead++]!;
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
    const result = this.sockets.call(call.name, call.args, call.result);
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

  /** `--sysctl NAME=VALUE` from the command line, before the first line. */
  private applyCommandLineSysctls(): void {
    for (const [name, value] of this.commandLineSysctls) {
      const outcome = applySysctl(name.replace(/\//g, '.'), value, this.shell);
      if (outcome.kind === 'skip') this.skip(outcome.reason);
      if (outcome.kind === 'fail') this.failAt(null, `--sysctl: ${outcome.message}`);
    }
  }

  private runShellLine(line: number, command: string): void {
    const outcome = runShell(command, this.shell);
    this.verbose?.(`${seconds6(this.clock)} \`${command.trim()}\` ${outcome.kind}`);
    if (outcome.kind === 'skip') this.skip(outcome.reason);
    if (outcome.kind === 'fail') this.failAt(line, `command failed: ${outcome.message}`);
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
