/**
 * The packetdrill language, the subset real scripts use: a preprocessor
 * (`--option=value` and `-D NAME=value` header lines, `#ifdef`/`#ifndef`/
 * `#else`/`#endif`, `//` and `/* *\/` comments), a lexer and a
 * recursive-descent parser that turns a script into a list of timed events.
 *
 * The grammar follows packetdrill's parser.y: an event is a time followed by
 * an action; an action is a packet (`<` injected, `>` expected), a system
 * call, a shell command in backticks or a code block in `%{ }%`. Nothing here
 * runs anything; see runner.ts.
 */
import { seq as toSeq } from '../base/index.js';
import type { SackBlock, TcpOptionEntry } from '../wire/index.js';
import { Failure, lex, preprocess, type Token } from './script-lexer.js';

// ---------------------------------------------------------------------------
// The script as data

/** When an event happens, in microseconds of script time. */
export type EventTime =
  | { kind: 'absolute'; start: number }
  | { kind: 'relative'; start: number }
  | { kind: 'any' }
  | { kind: 'absolute-range'; start: number; end: number }
  | { kind: 'relative-range'; start: number; end: number };

/** IP-level details of a packet line: `[ect0]`, `(tos 0x10)`, `[noecn]`, `(ttl 64)`. */
export interface IpInfo {
  /** ECN codepoint 0..3, `ect01` (outbound: either ECT), or null when the line says nothing. */
  ecn: number | 'ect01' | null;
  /** The whole TOS / traffic-class byte, or null. */
  tos: number | null;
  /** TTL / hop limit, or null. */
  ttl: number | null;
}

/** `<` or `>` and a TCP segment. */
export interface TcpPacketSpec {
  kind: 'tcp';
  direction: 'inbound' | 'outbound';
  ip: IpInfo;
  /** Explicit `src>dst` ports, or null for the flow's own. */
  ports: { src: number; dst: number } | null;
  /** TcpFlags bits. */
  flags: number;
  /** The flags as written, for messages. */
  flagsText: string;
  seq: number;
  length: number;
  ack: number;
  /** Window field, or -1 when the line gives none (outbound: not checked). */
  window: number;
  urgent: number;
  /** Options in order, or null for `<...>` (do not check). An absent list is `[]`. */
  options: TcpOptionEntry[] | null;
}

/** `< icmp unreachable port_unreachable [1:1(0)]` and friends. */
export interface IcmpPacketSpec {
  kind: 'icmp';
  direction: 'inbound' | 'outbound';
  ip: IpInfo;
  type: string;
  code: string | null;
  /** Next-hop MTU (`mtu N`) or -1. */
  mtu: number;
  /** The quoted TCP segment's sequence number (script space) and length. */
  echoed: { seq: number; length: number };
}

/** A packet line. */
export type PacketSpec = TcpPacketSpec | IcmpPacketSpec;

/** An argument or result of a system call. */
export type Expr =
  | { type: 'int'; value: number }
  | { type: 'ellipsis' }
  | { type: 'word'; name: string }
  | { type: 'string'; value: string }
  | { type: 'list'; items: Expr[] }
  | { type: 'struct'; items: Expr[] }
  | { type: 'or'; left: Expr; right: Expr }
  /** `name=value`, or `name(args)=value` as in a msghdr's `msg_iov(1)=[...]` (args null without parentheses). */
  | { type: 'assign'; name: string; args: Expr[] | null; value: Expr }
  | { type: 'call'; name: string; args: Expr[] };

/** `name(args) = result [ERRNO (note)]`. */
export interface SyscallSpec {
  name: string;
  args: Expr[];
  result: Expr;
  errno: string | null;
  note: string | null;
}

/** What an event does. */
export type Action =
  | { type: 'packet'; packet: PacketSpec }
  | { type: 'syscall'; call: SyscallSpec; blockingEnd: number | null }
  | { type: 'shell'; command: string }
  | { type: 'code'; code: string };

/** One line of the script. */
export interface ScriptEvent {
  line: number;
  time: EventTime;
  action: Action;
}

/** A parsed script. */
export interface Script {
  /** `--name=value` header lines (value '' for a bare `--flag`). */
  options: Map<string, string>;
  /** `-D NAME=value` definitions (header lines and the caller's). */
  defines: Map<string, string>;
  events: ScriptEvent[];
  /**
   * packetdrill's opt_cleanup_command: a `command` with no time after the
   * last event, run when the script ends, or null.
   */
  cleanup: { line: number; command: string } | null;
  /** The reason of a `// KNOWN-FAIL: reason` line, or null. */
  knownFailure: string | null;
}

/** A script that cannot be parsed, with the line it broke on. */
export interface ParseError {
  error: string;
  line: number;
  /** True when the script is valid packetdrill but uses something tcpts does not support. */
  unsupported: boolean;
}

/** TCP flag letters as packetdrill writes them. */
const FLAG_BITS: Readonly<Record<string, number>> = {
  F: 0x01,
  S: 0x02,
  R: 0x04,
  P: 0x08,
  '.': 0x10,
  U: 0x20,
  E: 0x40,
  W: 0x80,
  C: 0x80,
};

/** Converts seconds written as text ("0.100", "2", ".5") to whole microseconds, exactly. */
export function secondsTextToMicros(text: string): number {
  const dot = text.indexOf('.');
  const whole = dot < 0 ? text : text.slice(0, dot);
  const frac = dot < 0 ? '' : text.slice(dot + 1);
  const micros = (frac + '000000').slice(0, 6);
  return (whole === '' ? 0 : Number(whole)) * 1_000_000 + Number(micros);
}

// ---------------------------------------------------------------------------
// Parser

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  /** The trailing command with no time, once events() has read it. */
  cleanup: { line: number; command: string } | null = null;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  peek(k = 0): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)]!;
  }

  next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  isPunct(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.text === text;
  }

  isWord(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'word' && t.text === text;
  }

  /**
   * The cookie after `FO` or `FOEXP`: hex digits, possibly lexed as several
   * adjacent number and word tokens ("3021b9d8" is 3021 then b9d8); none for
   * a cookie request.
   */
  cookie(): Uint8Array {
    let digits = '';
    for (;;) {
      const t = this.peek();
      if ((t.kind !== 'num' && t.kind !== 'word') || !/^[0-9a-fA-F]+$/.test(t.text)) break;
      digits += t.text;
      this.next();
    }
    if (digits.length % 2 !== 0) this.fail('a Fast Open cookie needs an even number of hex digits');
    // packetdrill's limit is the option space, not RFC 7413's 16 bytes: scripts
    // send oversized cookies to check that a stack ignores them.
    if (digits.length > 2 * 38) this.fail('a Fast Open cookie is at most 38 bytes');
    const cookie = new Uint8Array(digits.length / 2);
    for (let i = 0; i < cookie.length; i++)
      cookie[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
    return cookie;
  }

  fail(message: string, token: Token = this.peek()): never {
    const near = token.kind === 'eof' ? 'end of script' : `'${token.text}'`;
    throw new Failure(`${message} (near ${near})`, token.line);
  }

  expectPunct(text: string): Token {
    if (!this.isPunct(text)) this.fail(`expected '${text}'`);
    return this.next();
  }

  expectWord(text: string): Token {
    if (!this.isWord(text)) this.fail(`expected '${text}'`);
    return this.next();
  }

  integer(what: string): number {
    const t = this.peek();
    if (t.kind === 'num' && !t.text.includes('.')) {
      this.next();
      return Number(t.text);
    }
    if (t.kind === 'hex') {
      this.next();
      return Number.parseInt(t.text, 16);
    }
    return this.fail(`expected ${what} (an integer)`);
  }

  seconds(): number {
    const t = this.peek();
    if (t.kind !== 'num') this.fail('expected a time in seconds');
    this.next();
    return secondsTextToMicros(t.text);
  }

  events(): ScriptEvent[] {
    const events: ScriptEvent[] = [];
    // packetdrill's opt_init_command: a `command` before the first event runs at time 0.
    const init = this.peek();
    if (init.kind === 'shell') {
      this.next();
      events.push({
        line: init.line,
        time: { kind: 'absolute', start: 0 },
        action: { type: 'shell', command: init.text },
      });
    }
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      if (t.kind === 'shell' && this.peek(1).kind === 'eof') {
        this.next();
        this.cleanup = { line: t.line, command: t.text };
        break;
      }
      events.push(this.event());
    }
    return events;
  }

  event(): ScriptEvent {
    const first = this.peek();
    const time = this.time();
    let blockingEnd: number | null = null;
    if (this.isPunct('...')) {
      this.next();
      blockingEnd = this.seconds();
      if (time.kind !== 'absolute' && time.kind !== 'relative')
        this.fail('a blocking call needs a plain start time');
      if (blockingEnd < time.start) this.fail('the end of a blocking call is before its start');
    }
    const action = this.action(blockingEnd);
    if (action.type !== 'packet' || action.packet.direction !== 'outbound') {
      if (time.kind === 'any')
        throw new Failure('event time * can only be used with outbound packets', first.line);
      if (time.kind === 'absolute-range' || time.kind === 'relative-range')
        throw new Failure('a time range can only be used with outbound packets', first.line);
    }
    if (blockingEnd !== null && action.type !== 'syscall')
      throw new Failure('only a system call can block (start...end)', first.line);
    return { line: first.line, time, action };
  }

  time(): EventTime {
    if (this.isPunct('*')) {
      this.next();
      return { kind: 'any' };
    }
    if (this.isPunct('+')) {
      this.next();
      const start = this.seconds();
      if (this.isPunct('~')) {
        this.next();
        this.expectPunct('+');
        const end = this.seconds();
        if (end < start) this.fail('time range is backwards');
        return { kind: 'relative-range', start, end };
      }
      return { kind: 'relative', start };
    }
    if (this.peek().kind === 'num') {
      const start = this.seconds();
      if (this.isPunct('~')) {
        this.next();
        const end = this.seconds();
        if (end < start) this.fail('time range is backwards');
        return { kind: 'absolute-range', start, end };
      }
      return { kind: 'absolute', start };
    }
    return this.fail('expected an event time (0.100, +.1, * or a range)');
  }

  action(blockingEnd: number | null): Action {
    const t = this.peek();
    if (t.kind === 'punct' && (t.text === '<' || t.text === '>'))
      return { type: 'packet', packet: this.packet() };
    if (t.kind === 'shell') {
      this.next();
      return { type: 'shell', command: t.text };
    }
    if (t.kind === 'code') {
      this.next();
      return { type: 'code', code: t.text };
    }
    if (t.kind === 'word' && this.isPunct('(', 1)) {
      return { type: 'syscall', call: this.syscall(), blockingEnd };
    }
    return this.fail('expected a packet (< or >), a system call, a `command` or a %{ }% block');
  }

  // --- packets -------------------------------------------------------------

  packet(): PacketSpec {
    const direction = this.next().text === '<' ? 'inbound' : 'outbound';
    let ip: IpInfo = { ecn: null, tos: null, ttl: null };
    if (this.isPunct('[') && this.peek(1).kind === 'num') {
      // packetdrill's first ICMP grammar: `< [1:1(0)] icmp unreachable ...`.
      const quoted = this.icmpQuoted();
      if (!this.isWord('icmp')) this.fail("expected 'icmp' after a quoted segment");
      return this.icmp(direction, ip, quoted);
    }
    if (this.isPunct('(') || this.isPunct('[')) ip = this.ipInfo();
    let ports: { src: number; dst: number } | null = null;
    if (this.peek().kind === 'num' && this.isPunct('>', 1)) {
      const src = this.integer('source port');
      this.next();
      const dst = this.integer('destination port');
      ports = { src, dst };
    }
    if (this.isWord('icmp')) return this.icmp(direction, ip, null);
    if (this.isWord('udp'))
      throw new Failure(
        'UDP packets are not supported (tcpts runs TCP scripts)',
        this.peek().line,
        true,
      );
    if (this.isWord('ipv4') || this.isWord('ipv6') || this.isWord('gre') || this.isWord('mpls'))
      throw new Failure(
        `encapsulated packets (${this.peek().text}) are not supported`,
        this.peek().line,
        true,
      );
    if (direction === 'inbound' && ip.ecn === 'ect01')
      this.fail('[ect01] can only be used with outbound packets');
    // Flags: a word of flag letters, optionally followed by '.', or '.' alone, or '-' for none.
    let flagsText = '';
    if (this.isPunct('.')) {
      this.next();
      flagsText = '.';
    } else if (this.isPunct('-')) {
      this.next();
      flagsText = '-';
    } else if (this.peek().kind === 'word') {
      flagsText = this.next().text;
      if (this.isPunct('.')) {
        this.next();
        flagsText += '.';
      }
    } else {
      this.fail('expected TCP flags (S, S., ., P., F., R, R., -, ...)');
    }
    let flags = 0;
    if (flagsText !== '-') {
      for (const ch of flagsText) {
        const bit = FLAG_BITS[ch];
        if (bit === undefined) this.fail(`invalid TCP flag '${ch}' (valid: F S R P . U E W)`);
        flags |= bit;
      }
    }
    const seqToken = this.peek();
    const seq = this.integer('start sequence number');
    this.expectPunct(':');
    const end = this.integer('end sequence number');
    this.expectPunct('(');
    const length = this.integer('payload length');
    this.expectPunct(')');
    if (seq > 0xffffffff || end > 0xffffffff) this.fail('sequence number out of range');
    if (length > 0xffff) this.fail('payload size out of range');
    if ((seq + length) >>> 0 !== end >>> 0)
      throw new Failure(
        `inconsistent TCP sequence numbers and payload size: ${seq}:${end}(${length})`,
        seqToken.line,
      );
    let ack = 0;
    let window = -1;
    let urgent = 0;
    for (;;) {
      if (this.isWord('ack')) {
        this.next();
        ack = this.integer('ack number');
        if (ack > 0xffffffff) this.fail('ack number out of range');
      } else if (this.isWord('win')) {
        this.next();
        window = this.integer('window');
        if (window > 0xffff) this.fail('window value out of range');
      } else if (this.isWord('urg')) {
        this.next();
        urgent = this.integer('urgent pointer');
        if (urgent > 0xffff) this.fail('urg_ptr value out of range');
      } else {
        break;
      }
    }
    let options: TcpOptionEntry[] | null = [];
    if (this.isPunct('<')) options = this.tcpOptions();
    if (direction === 'inbound') {
      if (options === null)
        this.fail('<...> for TCP options can only be used with outbound packets');
      if (window < 0)
        throw new Failure('window must be specified for inbound packets', seqToken.line);
      const bytes = optionBytes(options);
      if (bytes % 4 !== 0)
        throw new Failure(
          `TCP options are not padded to a multiple of 4 bytes: ${bytes % 4} excess bytes`,
          seqToken.line,
        );
      if (bytes > 40) throw new Failure('TCP option list too long (over 40 bytes)', seqToken.line);
    }
    return {
      kind: 'tcp',
      direction,
      ip,
      ports,
      flags,
      flagsText,
      seq: seq >>> 0,
      length,
      ack: ack >>> 0,
      window,
      urgent,
      options,
    };
  }

  ipInfo(): IpInfo {
    const close = this.next().text === '(' ? ')' : ']';
    const info: IpInfo = { ecn: null, tos: null, ttl: null };
    for (;;) {
      const t = this.next();
      if (t.kind !== 'word') this.fail('expected ect0, ect1, ce, noecn, ect01, tos, ttl', t);
      switch (t.text) {
        case 'noecn':
        case 'no_ecn':
          info.ecn = 0;
          break;
        case 'ect1':
          info.ecn = 1;
          break;
        case 'ect0':
          info.ecn = 2;
          break;
        case 'ce':
          info.ecn = 3;
          break;
        case 'ect01':
          info.ecn = 'ect01';
          break;
        case 'tos':
          info.tos = this.integer('tos byte');
          if (info.tos > 0xff) this.fail('tos out of range for 8 bits');
          break;
        case 'ttl':
        case 'hlim':
          info.ttl = this.integer('ttl');
          break;
        case 'flowlabel':
          throw new Failure('IPv6 flow labels are not supported', t.line, true);
        default:
          this.fail(`unknown IP detail '${t.text}'`, t);
      }
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      break;
    }
    this.expectPunct(close);
    return info;
  }

  tcpOptions(): TcpOptionEntry[] | null {
    this.expectPunct('<');
    if (this.isPunct('...')) {
      this.next();
      this.expectPunct('>');
      return null;
    }
    const list: TcpOptionEntry[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind !== 'word') this.fail('expected a TCP option', t);
      switch (t.text) {
        case 'nop':
          list.push({ kind: 'nop' });
          break;
        case 'eol':
          list.push({ kind: 'eol' });
          break;
        case 'mss': {
          const value = this.integer('mss value');
          if (value > 0xffff) this.fail('mss value out of range');
          list.push({ kind: 'mss', value });
          break;
        }
        case 'wscale': {
          const shift = this.integer('window scale shift');
          if (shift > 0xff) this.fail('window scale shift count out of range');
          list.push({ kind: 'wscale', shift });
          break;
        }
        case 'sackOK':
          list.push({ kind: 'sackOK' });
          break;
        case 'sack': {
          const blocks: SackBlock[] = [];
          while (this.peek().kind === 'num') {
            const left = this.integer('SACK left edge');
            this.expectPunct(':');
            const right = this.integer('SACK right edge');
            blocks.push({ left: toSeq(left), right: toSeq(right) });
          }
          if (blocks.length === 0) this.fail('a SACK option needs blocks (left:right)');
          if (blocks.length > 4) this.fail('at most 4 SACK blocks fit in a TCP header');
          list.push({ kind: 'sack', blocks });
          break;
        }
        case 'TS': {
          this.expectWord('val');
          const value = this.integer('TS val');
          this.expectWord('ecr');
          const echo = this.integer('TS ecr');
          list.push({ kind: 'TS', value: value >>> 0, echo: echo >>> 0 });
          break;
        }
        case 'FO':
        case 'FOEXP':
          list.push({ kind: 'fastOpen', cookie: this.cookie(), experimental: t.text === 'FOEXP' });
          break;
        case 'md5':
          throw new Failure(`TCP option '${t.text}' is not supported by tcpts`, t.line, true);
        default:
          this.fail(`unknown TCP option '${t.text}'`, t);
      }
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      break;
    }
    this.expectPunct('>');
    return list;
  }

  /**
   * `icmp TYPE [CODE] [mtu N] [id N] [[seq:end(len)]]`; packetdrill's first
   * grammar put the quoted segment before `icmp` (`< [1:1(0)] icmp
   * unreachable port_unreachable`), which `quoted` carries when it did.
   */
  icmp(
    direction: 'inbound' | 'outbound',
    ip: IpInfo,
    quoted: { seq: number; length: number } | null,
  ): IcmpPacketSpec {
    this.expectWord('icmp');
    const typeToken = this.next();
    if (typeToken.kind !== 'word') this.fail('expected an ICMP type', typeToken);
    let code: string | null = null;
    if (this.peek().kind === 'word' && !this.isWord('mtu') && !this.isWord('id'))
      code = this.next().text;
    let mtu = -1;
    if (this.isWord('mtu')) {
      this.next();
      mtu = this.integer('MTU');
    }
    if (this.isWord('id')) {
      this.next();
      this.integer('ICMP id');
    }
    let echoed = quoted ?? { seq: 0, length: 0 };
    if (this.isPunct('[')) {
      if (quoted !== null) this.fail('the quoted segment is given twice');
      echoed = this.icmpQuoted();
    }
    return { kind: 'icmp', direction, ip, type: typeToken.text, code, mtu, echoed };
  }

  /** `[seq:end(len)]`: the segment an ICMP error quotes. */
  icmpQuoted(): { seq: number; length: number } {
    this.expectPunct('[');
    if (this.isWord('udp') || this.isWord('raw'))
      throw new Failure(
        'ICMP errors quoting UDP or raw packets are not supported',
        this.peek().line,
        true,
      );
    const seq = this.integer('quoted sequence number');
    this.expectPunct(':');
    const end = this.integer('quoted end sequence number');
    this.expectPunct('(');
    const length = this.integer('quoted payload length');
    this.expectPunct(')');
    if ((seq + length) >>> 0 !== end >>> 0)
      this.fail('inconsistent quoted sequence numbers and payload size');
    this.expectPunct(']');
    return { seq: seq >>> 0, length };
  }

  // --- system calls --------------------------------------------------------

  syscall(): SyscallSpec {
    const name = this.next().text;
    this.expectPunct('(');
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      args.push(this.expr());
      while (this.isPunct(',')) {
        this.next();
        args.push(this.expr());
      }
    }
    this.expectPunct(')');
    this.expectPunct('=');
    const result = this.expr();
    let errno: string | null = null;
    let note: string | null = null;
    if (this.peek().kind === 'word') errno = this.next().text;
    if (this.isPunct('(')) note = this.note();
    return { name, args, result, errno, note };
  }

  note(): string {
    this.expectPunct('(');
    const words: string[] = [];
    let depth = 1;
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') this.fail('unterminated (note)');
      if (t.kind === 'punct' && t.text === '(') depth++;
      if (t.kind === 'punct' && t.text === ')' && --depth === 0) break;
      words.push(t.text);
    }
    return words.join(' ');
  }

  expr(): Expr {
    let left = this.unary();
    while (this.isPunct('|')) {
      this.next();
      left = { type: 'or', left, right: this.unary() };
    }
    return left;
  }

  unary(): Expr {
    if (this.isPunct('-')) {
      this.next();
      return { type: 'int', value: -this.integer('number') };
    }
    return this.primary();
  }

  primary(): Expr {
    const t = this.peek();
    if (t.kind === 'num' || t.kind === 'hex') return { type: 'int', value: this.integer('number') };
    if (t.kind === 'punct' && t.text === '...') {
      this.next();
      return { type: 'ellipsis' };
    }
    if (t.kind === 'string') {
      this.next();
      if (this.isPunct('...')) this.next();
      return { type: 'string', value: t.text };
    }
    if (t.kind === 'word') {
      this.next();
      if (this.isPunct('=')) {
        this.next();
        return { type: 'assign', name: t.text, args: null, value: this.expr() };
      }
      if (this.isPunct('(')) {
        this.next();
        const args: Expr[] = [];
        if (!this.isPunct(')')) {
          args.push(this.expr());
          while (this.isPunct(',')) {
            this.next();
            args.push(this.expr());
          }
        }
        this.expectPunct(')');
        if (this.isPunct('=')) {
          // A msghdr field with its length: `msg_iov(1)=[{..., 100}]`, `msg_name(...)=...`.
          this.next();
          return { type: 'assign', name: t.text, args, value: this.expr() };
        }
        return { type: 'call', name: t.text, args };
      }
      return { type: 'word', name: t.text };
    }
    if (t.kind === 'punct' && (t.text === '[' || t.text === '{')) {
      this.next();
      const close = t.text === '[' ? ']' : '}';
      const items: Expr[] = [];
      if (!this.isPunct(close)) {
        items.push(this.expr());
        while (this.isPunct(',')) {
          this.next();
          items.push(this.expr());
        }
      }
      this.expectPunct(close);
      return t.text === '[' ? { type: 'list', items } : { type: 'struct', items };
    }
    return this.fail('expected an expression');
  }
}

/** Bytes an option list takes on the wire. */
export function optionBytes(options: readonly TcpOptionEntry[]): number {
  let n = 0;
  for (const o of options) {
    switch (o.kind) {
      case 'nop':
      case 'eol':
        n += 1;
        break;
      case 'mss':
        n += 4;
        break;
      case 'wscale':
        n += 3;
        break;
      case 'sackOK':
        n += 2;
        break;
      case 'sack':
        n += 2 + 8 * o.blocks.length;
        break;
      case 'TS':
        n += 10;
        break;
      case 'fastOpen':
        // Kind 34: kind, length, cookie; kind 254 adds the 2-byte magic.
        n += (o.experimental ? 4 : 2) + o.cookie.length;
        break;
      case 'unknown':
        n += o.length;
        break;
    }
  }
  return n;
}

/**
 * Parses a script. `defines` are `-D` definitions from outside (the command
 * line); the script's own `-D`/`--define` lines add to them. Returns the
 * script or what is wrong with it.
 */
export function parseScript(
  source: string,
  defines: ReadonlyMap<string, string> = new Map(),
): Script | ParseError {
  let knownFailure: string | null = null;
  try {
    const pre = preprocess(source, defines);
    knownFailure = pre.knownFailure;
    const parser = new Parser(lex(pre.text, pre.defines));
    const events = parser.events();
    return {
      options: pre.options,
      defines: pre.defines,
      events,
      cleanup: parser.cleanup,
      knownFailure,
    };
  } catch (error) {
    if (error instanceof Failure)
      return { error: error.message, line: error.line, unsupported: error.unsupported };
    throw error;
  }
}

/** Narrows a parse result. */
export function isParseError(result: Script | ParseError): result is ParseError {
  return 'error' in result;
}

/** Reads a `// KNOWN-FAIL: reason` line without parsing the script (for runners that list scripts). */
export function knownFailureOf(source: string): string | null {
  const m = /^\s*\/\/\s*KNOWN-FAIL:\s*(.*)$/m.exec(source);
  return m === null ? null : m[1]!.trim();
}
