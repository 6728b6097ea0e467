/**
 * Inbound lines: builds the packet a `<` line describes, mapped from script
 * space into the stack's (packetdrill's map_inbound_packet: a SYN's sequence
 * number is as written and later ones count from it, ACKs and SACK blocks
 * move by our ISN offset, a TS ecr becomes the live TS val it names), and
 * hands it to the stack.
 */
import { seqAdd } from '../base/index.js';
import type { SackBlock, TcpOptionEntry } from '../wire/index.js';
import { localOffset, remoteOffset, type Flow } from './flow.js';
import {
  buildInboundIcmp,
  buildInboundTcp,
  formatTcp,
  icmpCodes,
  type Endpoints,
} from './packets.js';
import { seconds6 } from './report.js';
import type { IcmpPacketSpec, TcpPacketSpec } from './script.js';
import { TFO_SERVER_ENABLE, TFO_SERVER_EVERY_LISTENER } from './sysctls.js';

const ACK = 0x10;
const SYN = 0x02;

/** What injecting needs from the run. */
export interface InboundContext {
  readonly family: 4 | 6;
  readonly ends: Endpoints;
  readonly flow: Flow;
  /** --tcp_ts_ecr_scaled: interpolate a TS ecr no outbound line named. */
  readonly tsEcrScaled: boolean;
  readonly verbose: ((line: string) => void) | null;
  now(): number;
  /** Ends the run with a failure at the current line. */
  fail(message: string): never;
  /** Ends the run as SKIPPED. */
  skip(reason: string): never;
  /** net.ipv4.tcp_fastopen as the script set it. */
  fastOpenBits(): number;
  /** Hands the frame to the stack; `adoptChildren` after a TCP segment (it may complete a handshake). */
  deliver(frame: Uint8Array, adoptChildren: boolean): void;
}

/** Builds and injects a `<` TCP line. */
export function injectTcp(ctx: InboundContext, spec: TcpPacketSpec): void {
  const flow = ctx.flow;
  const hasAck = (spec.flags & ACK) !== 0;
  const isSyn = (spec.flags & SYN) !== 0;
  const offset = localOffset(flow, isSyn);
  // tcpts parses and prints the FO option but has no Fast Open server: a SYN
  // carrying one to a listener Linux treats as TFO-enabled (every listener,
  // with 0x400) would have its cookie answered and its data taken.
  const bits = ctx.fastOpenBits();
  if (
    isSyn &&
    !hasAck &&
    (bits & TFO_SERVER_ENABLE) !== 0 &&
    (bits & TFO_SERVER_EVERY_LISTENER) !== 0 &&
    spec.options?.some((o) => o.kind === 'fastOpen') === true
  )
    ctx.skip('tcpts has no TCP Fast Open server: a SYN with an FO option to a Fast Open listener');
  // packetdrill: a SYN's sequence number is as written and fixes the remote
  // ISN (the first SYN of a connection, or the SYN-ACK answering ours); later
  // segments count from it.
  if (isSyn && (hasAck || flow.remoteIsn === null)) flow.remoteIsn = spec.seq >>> 0;
  const seq = isSyn ? spec.seq : (spec.seq + remoteOffset(flow)) >>> 0;
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
      options.push({ kind: 'TS', value: o.value, echo: liveEcr(ctx, o.echo) });
    } else {
      options.push(o);
    }
  }
  let tos = spec.ip.tos ?? 0;
  if (typeof spec.ip.ecn === 'number') tos = (tos & ~3) | spec.ip.ecn;
  const bytes = buildInboundTcp(ctx.ends, {
    srcPort: spec.ports?.src ?? flow.remotePort,
    dstPort: spec.ports?.dst ?? flow.localPort,
    seq,
    ack: hasAck ? (spec.ack + offset) >>> 0 : spec.ack,
    flags: spec.flags,
    window: spec.window,
    urgent: spec.urgent,
    options,
    payloadLength: spec.length,
    tos,
    ttl: spec.ip.ttl ?? 64,
  });
  ctx.verbose?.(`${seconds6(ctx.now())} < ${formatTcp({ ...spec, ecn: spec.ip.ecn })}`);
  ctx.deliver(bytes, true);
}

/** packetdrill's map_inbound_packet for the TS ecr. */
function liveEcr(ctx: InboundContext, scriptEcr: number): number {
  const flow = ctx.flow;
  const mapped = flow.tsMap.get(scriptEcr);
  if (mapped !== undefined) return mapped;
  if (scriptEcr === 0) return 0;
  const first = flow.firstTs;
  if (ctx.tsEcrScaled && first !== null) return (scriptEcr - first.script + first.live) >>> 0;
  return ctx.fail(
    `unable to infer live TS ecr for script TS ecr ${scriptEcr}: no outbound line had TS val ${scriptEcr} (outbound lines with <...> record no TS val; use --tcp_ts_ecr_scaled to interpolate)`,
  );
}

/** Builds and injects a `<` ICMP line, quoting the connection's segment it names. */
export function injectIcmp(ctx: InboundContext, spec: IcmpPacketSpec): void {
  const codes = icmpCodes(ctx.family, spec.type, spec.code);
  if (typeof codes === 'string') ctx.fail(`script error: ${codes}`);
  let tos = spec.ip.tos ?? 0;
  if (typeof spec.ip.ecn === 'number') tos = (tos & ~3) | spec.ip.ecn;
  const bytes = buildInboundIcmp(
    ctx.ends,
    codes.type,
    codes.code,
    spec.mtu,
    {
      srcPort: ctx.flow.localPort,
      dstPort: ctx.flow.remotePort,
      seq: (spec.echoed.seq + localOffset(ctx.flow, false)) >>> 0,
      length: spec.echoed.length,
    },
    tos,
    spec.ip.ttl ?? 64,
  );
  ctx.verbose?.(
    `${seconds6(ctx.now())} < icmp ${spec.type}${spec.code !== null ? ` ${spec.code}` : ''}${spec.mtu >= 0 ? ` mtu ${spec.mtu}` : ''} [${spec.echoed.seq}:${(spec.echoed.seq + spec.echoed.length) >>> 0}(${spec.echoed.length})]`,
  );
  ctx.deliver(bytes, false);
}
