/**
 * Outbound lines: takes what the stack sent and compares it, field by
 * field, with what a `>` line expects (packetdrill's checks of a live
 * outbound packet), mapping live numbers into script space to say what was
 * sent; packetdrill's coalescing of equal-size segments into one larger
 * line lives here too.
 */
import type { TcpSocket } from '../stack/index.js';
import type { TcpOptionEntry } from '../wire/index.js';
import { localOffset, remoteOffset, type Flow } from './flow.js';
import { formatTcp, icmpCodes, readPacket, type WirePacket, type WireTcp } from './packets.js';
import { seconds6 } from './report.js';
import { Stop } from './result.js';
import type { IcmpPacketSpec, ScriptEvent, TcpPacketSpec } from './script.js';
import type { Settings } from './settings.js';

/** How far past its deadline a missing packet is looked for, to report when it did come. */
const LATE_PACKET_HORIZON = 600_000_000;
const SYN = 0x02;
const FIN = 0x01;
const PSH = 0x08;

/** A packet the stack sent. */
export interface Outbound {
  time: number;
  bytes: Uint8Array;
  /** Index of the event during which the stack sent it. */
  cause: number;
}

/** What matching needs from the run. */
export interface OutboundContext {
  readonly settings: Settings;
  readonly flow: Flow;
  readonly verbose: ((line: string) => void) | null;
  now(): number;
  /** Moves the clock (to report a failure at the time the packet was due). */
  setClock(time: number): void;
  /** Runs the stack up to `deadline` and takes the next packet it sent, or null. */
  takePacket(deadline: number): Outbound | null;
  /** True when the stack has no timer armed and no call waits: nothing more will be sent. */
  idle(): boolean;
  /** packetdrill's tolerance for an interval. */
  tolerance(interval: number): number;
  tcpSockets(): Iterable<TcpSocket>;
  failAt(line: number | null, message: string, details?: string[]): never;
}

/** Matches outbound lines against what the stack sent. */
export class OutboundMatcher {
  private readonly ctx: OutboundContext;

  constructor(ctx: OutboundContext) {
    this.ctx = ctx;
  }

  /** Waits for the packet an outbound line describes and compares it; returns when it was sent, or fails. */
  expectPacket(e: ScriptEvent, start: number, end: number, tolerance: number): number {
    const spec = (e.action as { packet: TcpPacketSpec | IcmpPacketSpec }).packet;
    const any = e.time.kind === 'any';
    const deadline = any ? end : end + tolerance;
    const expectedText = this.expectedText(spec);
    let first = this.ctx.takePacket(deadline);
    let late = false;
    if (first === null && !any) {
      // Too late already; look further ahead only to say when it did come
      // (packetdrill sniffs until a packet arrives, then checks its time).
      first = this.ctx.takePacket(deadline + LATE_PACKET_HORIZON);
      late = first !== null;
    }
    if (first === null) {
      const why = this.ctx.idle()
        ? ' (nothing else will be sent: the stack has no timer armed)'
        : '';
      this.ctx.setClock(Math.min(this.ctx.now(), deadline));
      this.ctx.failAt(
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
        this.ctx.setClock(deadline);
        return this.ctx.failAt(
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
      this.ctx.failAt(
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
        this.ctx.settings.coalesce &&
        packet.tcp !== null &&
        packet.tcp.payload.length > 0 &&
        packet.tcp.payload.length < spec.length
      ) {
        packet = this.coalesce(e, spec, packet, deadline, expectedText, time);
      }
      this.compareTcp(e, spec, packet, time, expectedText);
    }
    this.ctx.verbose?.(`${seconds6(time)} > ${this.describe(packet)}`);
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
      const next = this.ctx.takePacket(deadline);
      const prev = parts[parts.length - 1]!;
      if (next === null) {
        this.ctx.failAt(
          e.line,
          `live packet payload: expected ${spec.length} bytes vs actual ${total} bytes (segments of ${parts[0]!.payload.length} bytes, then nothing more by ${seconds6(this.ctx.now())} s)`,
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
        this.ctx.failAt(
          e.line,
          'aggregate candidate packet does not continue the previous segment',
          [
            `script: ${seconds6(time)} > ${expectedText}`,
            `actual: ${seconds6(next.time)} > ${this.describe(p)}`,
          ],
        );
      }
      if (
        prev.payload.length !== parts[0]!.payload.length ||
        t.payload.length > parts[0]!.payload.length
      ) {
        this.ctx.failAt(
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
    const flow = this.ctx.flow;
    if (flow.haveIsn && tcp.seq === flow.liveIsn) return;
    let owner: TcpSocket | null = null;
    for (const s of this.ctx.tcpSockets()) {
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
  describe(p: WirePacket): string {
    if (p.problem !== null) return `(unreadable: ${p.problem})`;
    if (p.icmp !== null)
      return `icmp type ${p.icmp.type} code ${p.icmp.code} (${p.src} > ${p.dst})`;
    const t = p.tcp;
    if (t === null) return `(IP protocol ${p.protocol}, ${p.src} > ${p.dst})`;
    const view = this.scriptView(t);
    const ports =
      t.srcPort !== this.ctx.flow.localPort || t.dstPort !== this.ctx.flow.remotePort
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
    const offset = localOffset(this.ctx.flow, (t.flags & SYN) !== 0);
    const first = this.ctx.flow.firstTs;
    // The remote end's numbers (ACK, SACK blocks) count from its ISN, except in a SYN.
    const remote = (t.flags & SYN) !== 0 ? 0 : remoteOffset(this.ctx.flow);
    const options = t.options.map((o): TcpOptionEntry => {
      if (o.kind === 'TS' && first !== null)
        return { kind: 'TS', value: (first.script + (o.value - first.live)) >>> 0, echo: o.echo };
      if (o.kind === 'sack' && remote !== 0)
        return {
          kind: 'sack',
          blocks: o.blocks.map((b) => ({
            left: ((b.left as number) - remote) >>> 0,
            right: ((b.right as number) - remote) >>> 0,
          })) as typeof o.blocks,
        };
      return o;
    });
    return {
      flags: t.flags,
      seq: (t.seq - offset) >>> 0,
      length: t.payload.length,
      ack: (t.ack - remote) >>> 0,
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
    const codes = icmpCodes(this.ctx.settings.family, spec.type, spec.code);
    if (typeof codes === 'string') this.ctx.failAt(e.line, `script error: ${codes}`);
    const details = [
      `script: > ${expectedText}`,
      `actual: ${seconds6(time)} > ${this.describe(p)}`,
    ];
    if (p.icmp === null) this.ctx.failAt(e.line, 'expected an ICMP packet', details);
    if (p.icmp.type !== codes.type || (spec.code !== null && p.icmp.code !== codes.code))
      this.ctx.failAt(
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
      this.ctx.failAt(
        e.line,
        `live packet field ${field}: expected ${expected} vs actual ${actual}`,
        details(),
      );
    if (p.problem !== null)
      this.ctx.failAt(e.line, `the stack sent an unreadable packet: ${p.problem}`, details());
    const t = p.tcp;
    if (t === null) return this.ctx.failAt(e.line, 'expected a TCP packet', details());
    if (p.src !== this.ctx.settings.localAddress || p.dst !== this.ctx.settings.remoteAddress)
      mismatch(
        'addresses',
        `${this.ctx.settings.localAddress} > ${this.ctx.settings.remoteAddress}`,
        `${p.src} > ${p.dst}`,
      );
    const srcPort = spec.ports?.src ?? this.ctx.flow.localPort;
    const dstPort = spec.ports?.dst ?? this.ctx.flow.remotePort;
    if (t.srcPort !== srcPort || t.dstPort !== dstPort)
      mismatch('ports', `${srcPort}>${dstPort}`, `${t.srcPort}>${t.dstPort}`);
    if (!t.checksumOk) this.ctx.failAt(e.line, 'bad outbound TCP checksum', details());
    // The first outbound timestamp fixes the script <-> live TS val mapping
    // (packetdrill's first_script_ts_val); set it before anything is shown.
    const scriptTs = spec.options?.find((o) => o.kind === 'TS');
    const liveTs = t.options.find((o) => o.kind === 'TS');
    if (this.ctx.flow.firstTs === null && scriptTs?.kind === 'TS' && liveTs?.kind === 'TS')
      this.ctx.flow.firstTs = { script: scriptTs.value, live: liveTs.value };
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
      this.ctx.failAt(
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
        this.ctx.failAt(
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
      this.ctx.failAt(e.line, `bad outbound TCP options: ${what}`, details());
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
        // SACK blocks are the remote end's numbers, counted from its ISN.
        const remote = remoteOffset(this.ctx.flow);
        const as = a.blocks
          .map((b) => `${(b.left - remote) >>> 0}:${(b.right - remote) >>> 0}`)
          .join(' ');
        if (xs !== as) bad(`sack blocks: expected ${xs}, actual ${as}`);
      }
      if (x.kind === 'fastOpen' && a.kind === 'fastOpen') {
        const hex = (c: Uint8Array): string =>
          Array.from(c, (b) => b.toString(16).padStart(2, '0')).join('');
        if (x.experimental !== a.experimental)
          bad(
            `Fast Open: expected ${x.experimental ? 'FOEXP' : 'FO'}, actual ${a.experimental ? 'FOEXP' : 'FO'}`,
          );
        if (hex(x.cookie) !== hex(a.cookie))
          bad(`Fast Open cookie: expected '${hex(x.cookie)}', actual '${hex(a.cookie)}'`);
      }
      if (x.kind === 'TS' && a.kind === 'TS') {
        // The TS val clock is the stack's (randomly offset); packetdrill checks it
        // only with --tcp_ts_tick_usecs, against the first mapping. The echo is
        // the script's own value and must match exactly.
        if (x.echo !== a.echo) bad(`TS ecr: expected ${x.echo}, actual ${a.echo}`);
        const flow = this.ctx.flow;
        if (flow.firstTs === null) flow.firstTs = { script: x.value, live: a.value };
        flow.tsMap.set(x.value, a.value);
        const tick = this.ctx.settings.tsTickUsecs;
        if (tick > 0) {
          const expectedLive = (flow.firstTs.live + (x.value - flow.firstTs.script)) >>> 0;
          const drift = Math.abs(((a.value - expectedLive) | 0) * tick);
          const allowed = this.ctx.tolerance(time);
          if (drift > allowed)
            bad(
              `TS val: expected ${x.value} vs actual ${(flow.firstTs.script + (a.value - flow.firstTs.live)) >>> 0} (${drift} µs off, tolerance ${allowed} µs)`,
            );
        }
      }
    }
  }
}
