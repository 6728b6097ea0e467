/**
 * Packets as the interpreter sees them: inbound TCP segments and ICMP errors
 * built byte by byte from script lines (options exactly in the order and
 * layout the script wrote, which the stack's own emitter would not do), and
 * outbound IP packets read back into fields for comparison, plus the
 * packetdrill-style text of both.
 */
import {
  IpProtocol,
  checksumAdd,
  checksumFinish,
  emitIcmpv4,
  emitIcmpv6,
  emitIpv4,
  emitIpv6,
  formatIpv4Address,
  formatIpv6Address,
  icmpv4Length,
  icmpv6Length,
  isDropReason,
  listTcpOptions,
  parseIpv4,
  parseIpv6,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  type Icmpv4Repr,
  type Icmpv6Repr,
  type TcpOptionEntry,
} from '../wire/index.js';

/** The two ends of the connection under test. */
export interface Endpoints {
  family: 4 | 6;
  /** IPv4 addresses as uint32; 0 for IPv6. */
  local4: number;
  remote4: number;
  /** IPv6 addresses; empty for IPv4. */
  local6: Uint8Array;
  remote6: Uint8Array;
}

/** Fields of a TCP segment to build. Sequence numbers are already live values. */
export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  options: readonly TcpOptionEntry[];
  payloadLength: number;
  /** The whole TOS / traffic class byte. */
  tos: number;
  ttl: number;
}

const TCP_FLAG_ORDER: ReadonlyArray<[number, string]> = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

/** Flag letters in packetdrill's order ("S.", "P.", "F.", "R", "-" for none). */
export function formatFlags(flags: number): string {
  let s = '';
  for (const [bit, ch] of TCP_FLAG_ORDER) if ((flags & bit) !== 0) s += ch;
  return s === '' ? '-' : s;
}

/** Options as a script writes them: `<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>`. */
export function formatOptions(options: readonly TcpOptionEntry[] | null): string {
  if (options === null) return '<...>';
  if (options.length === 0) return '';
  const parts = options.map((o) => {
    switch (o.kind) {
      case 'nop':
      case 'eol':
      case 'sackOK':
        return o.kind;
      case 'mss':
        return `mss ${o.value}`;
      case 'wscale':
        return `wscale ${o.shift}`;
      case 'sack':
        return `sack ${o.blocks.map((b) => `${b.left}:${b.right}`).join(' ')}`;
      case 'TS':
        return `TS val ${o.value} ecr ${o.echo}`;
      case 'fastOpen': {
        const name = o.experimental ? 'FOEXP' : 'FO';
        return o.cookie.length === 0 ? name : `${name} ${hexOf(o.cookie)}`;
      }
      case 'unknown':
        return `kind ${o.code} len ${o.length}`;
    }
    return '?';
  });
  return `<${parts.join(',')}>`;
}

/** An ECN mark as a script writes it, or '' for none. */
export function formatEcn(ecn: number | 'ect01' | null): string {
  if (ecn === null) return '';
  if (ecn === 'ect01') return '[ect01] ';
  return `[${['noecn', 'ect1', 'ect0', 'ce'][ecn]}] `;
}

/** A TCP segment in script syntax (without direction and time). */
export function formatTcp(view: {
  flags: number;
  seq: number;
  length: number;
  ack: number;
  window: number;
  urgent: number;
  options: readonly TcpOptionEntry[] | null;
  ecn: number | 'ect01' | null;
}): string {
  let s = `${formatEcn(view.ecn)}${formatFlags(view.flags)} ${view.seq}:${(view.seq + view.length) >>> 0}(${view.length})`;
  if ((view.flags & 0x10) !== 0 || view.ack !== 0) s += ` ack ${view.ack}`;
  if (view.window >= 0) s += ` win ${view.window}`;
  if (view.urgent !== 0) s += ` urg ${view.urgent}`;
  const options = formatOptions(view.options);
  if (options !== '') s += ` ${options}`;
  return s;
}

/** Serialises options in the given order (the caller checked the 4-byte padding). */
export function optionsToBytes(options: readonly TcpOptionEntry[]): Uint8Array {
  const bytes: number[] = [];
  for (const o of options) {
    switch (o.kind) {
      case 'eol':
        bytes.push(0);
        break;
      case 'nop':
        bytes.push(1);
        break;
      case 'mss':
        bytes.push(2, 4, (o.value >>> 8) & 0xff, o.value & 0xff);
        break;
      case 'wscale':
        bytes.push(3, 3, o.shift & 0xff);
        break;
      case 'sackOK':
        bytes.push(4, 2);
        break;
      case 'sack':
        bytes.push(5, 2 + 8 * o.blocks.length);
        for (const b of o.blocks) {
          pushU32(bytes, b.left);
          pushU32(bytes, b.right);
        }
        break;
      case 'TS':
        bytes.push(8, 10);
        pushU32(bytes, o.value);
        pushU32(bytes, o.echo);
        break;
      case 'fastOpen':
        if (o.experimental) bytes.push(254, 4 + o.cookie.length, 0xf9, 0x89, ...o.cookie);
        else bytes.push(34, 2 + o.cookie.length, ...o.cookie);
        break;
      case 'unknown':
        bytes.push(o.code, o.length, ...o.data);
        break;
    }
  }
  return Uint8Array.from(bytes);
}

function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function pushU32(out: number[], v: number): void {
  out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** An IP packet from the remote end to the local one carrying `payload`. */
function wrapInbound(
  ends: Endpoints,
  protocol: number,
  payload: Uint8Array,
  tos: number,
  ttl: number,
): Uint8Array {
  if (ends.family === 4) {
    const out = new Uint8Array(20 + payload.length);
    emitIpv4(
      {
        src: ends.remote4,
        dst: ends.local4,
        protocol,
        ttl,
        dscp: tos >>> 2,
        ecn: tos & 3,
        identification: 0,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        payload,
      },
      out,
    );
    return out;
  }
  const out = new Uint8Array(40 + payload.length);
  emitIpv6(
    {
      src: ends.remote6,
      dst: ends.local6,
      hopLimit: ttl,
      dscp: tos >>> 2,
      ecn: tos & 3,
      flowLabel: 0,
      protocol,
      headerLength: 40,
      fragment: null,
      payload,
    },
    out,
  );
  return out;
}

/** An inbound TCP segment (remote to local) in an IP packet, checksummed; the payload is zeros. */
export function buildInboundTcp(ends: Endpoints, f: TcpFields): Uint8Array {
  const opts = optionsToBytes(f.options);
  const headerLength = 20 + opts.length;
  const seg = new Uint8Array(headerLength + f.payloadLength);
  writeU16(seg, 0, f.srcPort);
  writeU16(seg, 2, f.dstPort);
  writeU32(seg, 4, f.seq);
  writeU32(seg, 8, f.ack);
  seg[12] = (headerLength / 4) << 4;
  seg[13] = f.flags & 0xff;
  writeU16(seg, 14, f.window);
  writeU16(seg, 18, f.urgent);
  seg.set(opts, 20);
  const pseudo =
    ends.family === 4
      ? pseudoHeaderSumV4(ends.remote4, ends.local4, IpProtocol.Tcp, seg.length)
      : pseudoHeaderSumV6(ends.remote6, ends.local6, IpProtocol.Tcp, seg.length);
  writeU16(seg, 16, checksumFinish(checksumAdd(pseudo, seg)));
  return wrapInbound(ends, IpProtocol.Tcp, seg, f.tos, f.ttl);
}

/** ICMP type/code names packetdrill scripts use, per family. */
/** An ICMP type by name, with the names of its codes (packetdrill's icmp_packet.c tables, and a few aliases). */
interface IcmpType {
  type: number;
  codes: Readonly<Record<string, number>>;
}

const ICMP4_UNREACHABLE_CODES: Readonly<Record<string, number>> = {
  net_unreachable: 0,
  network_unreachable: 0,
  host_unreachable: 1,
  protocol_unreachable: 2,
  port_unreachable: 3,
  frag_needed: 4,
  fragmentation_needed: 4,
  source_route_failed: 5,
  net_unknown: 6,
  host_unknown: 7,
  source_host_isolated: 8,
  net_prohibited: 9,
  host_prohibited: 10,
  net_unreachable_for_tos: 11,
  net_tos_unreachable: 11,
  host_unreachable_for_tos: 12,
  host_tos_unreachable: 12,
  packet_filtered: 13,
  precedence_violation: 14,
  precedence_cutoff: 15,
};

const NO_CODES: Readonly<Record<string, number>> = {};

const ICMP4_TYPES: Readonly<Record<string, IcmpType>> = {
  echo_reply: { type: 0, codes: NO_CODES },
  unreachable: { type: 3, codes: ICMP4_UNREACHABLE_CODES },
  dest_unreachable: { type: 3, codes: ICMP4_UNREACHABLE_CODES },
  destination_unreachable: { type: 3, codes: ICMP4_UNREACHABLE_CODES },
  source_quench: { type: 4, codes: NO_CODES },
  redirect: { type: 5, codes: NO_CODES },
  echo_request: { type: 8, codes: NO_CODES },
  time_exceeded: {
    type: 11,
    codes: { ttl_exceeded: 0, exceeded_in_transit: 0, frag_reassembly_exceeded: 1 },
  },
  parameter_problem: { type: 12, codes: NO_CODES },
  timestamp_request: { type: 13, codes: NO_CODES },
  timestamp_reply: { type: 14, codes: NO_CODES },
  information_request: { type: 15, codes: NO_CODES },
  information_reply: { type: 16, codes: NO_CODES },
  address_mask_request: { type: 17, codes: NO_CODES },
  address_mask_reply: { type: 18, codes: NO_CODES },
};

const ICMP6_UNREACHABLE_CODES: Readonly<Record<string, number>> = {
  net_unreachable: 0,
  no_route: 0,
  admin_prohibited: 1,
  not_neighbour: 2,
  beyond_scope: 2,
  address_unreachable: 3,
  port_unreachable: 4,
  source_address_failed: 5,
  reject_route: 6,
};

const ICMP6_TYPES: Readonly<Record<string, IcmpType>> = {
  unreachable: { type: 1, codes: ICMP6_UNREACHABLE_CODES },
  dest_unreachable: { type: 1, codes: ICMP6_UNREACHABLE_CODES },
  destination_unreachable: { type: 1, codes: ICMP6_UNREACHABLE_CODES },
  packet_too_big: { type: 2, codes: NO_CODES },
  time_exceeded: {
    type: 3,
    codes: {
      exceeded_hop_limit: 0,
      hop_limit_exceeded: 0,
      exceeded_frag_time: 1,
      fragment_reassembly_time_exceeded: 1,
    },
  },
  parameter_problem: {
    type: 4,
    codes: { header_field: 0, unknown_next_header: 1, unknown_option: 2 },
  },
  echo_request: { type: 128, codes: NO_CODES },
  echo_reply: { type: 129, codes: NO_CODES },
};

/** `type_N` / `code_N`: a number by itself, as packetdrill takes it (0..255). */
function numbered(prefix: 'type_' | 'code_', name: string): number | null {
  if (!name.startsWith(prefix)) return null;
  const digits = name.slice(prefix.length);
  if (!/^[0-9]{1,3}$/.test(digits)) return null;
  const n = Number(digits);
  return n <= 255 ? n : null;
}

/** Numeric ICMP type and code for a script's names, or a message saying what is wrong. */
export function icmpCodes(
  family: 4 | 6,
  type: string,
  code: string | null,
): { type: number; code: number } | string {
  const types = family === 4 ? ICMP4_TYPES : ICMP6_TYPES;
  const version = family === 6 ? 'v6' : '';
  const named = types[type];
  const t = named?.type ?? numbered('type_', type);
  if (t === null)
    return `unknown ICMP${version} type '${type}' (known: ${Object.keys(types).join(', ')}, or type_N)`;
  if (code === null) return { type: t, code: 0 };
  const codes = named?.codes ?? NO_CODES;
  const c = codes[code] ?? numbered('code_', code);
  if (c === null) {
    const known = Object.keys(codes);
    return `unknown ICMP${version} code '${code}' for type ${type} (known: ${known.length > 0 ? `${known.join(', ')}, or code_N` : 'code_N'})`;
  }
  return { type: t, code: c };
}

/**
 * An inbound ICMP error quoting a segment the local end sent: its IP header
 * and the first 8 bytes of TCP (ports and the live sequence number).
 */
export function buildInboundIcmp(
  ends: Endpoints,
  type: number,
  code: number,
  mtu: number,
  quoted: { srcPort: number; dstPort: number; seq: number; length: number },
  tos: number,
  ttl: number,
): Uint8Array {
  const tcp8 = new Uint8Array(8);
  writeU16(tcp8, 0, quoted.srcPort);
  writeU16(tcp8, 2, quoted.dstPort);
  writeU32(tcp8, 4, quoted.seq);
  if (ends.family === 4) {
    const original = new Uint8Array(28);
    emitIpv4(
      {
        src: ends.local4,
        dst: ends.remote4,
        protocol: IpProtocol.Tcp,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        identification: 0,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        payload: tcp8,
      },
      original,
    );
    // The quoted header says how long the original datagram was.
    writeU16(original, 2, 20 + 32 + quoted.length);
    const repr: Icmpv4Repr =
      type === 11
        ? { type: 11, code, original }
        : { type: 3, code, nextHopMtu: mtu > 0 ? mtu : 0, original };
    const body = new Uint8Array(icmpv4Length(repr));
    emitIcmpv4(repr, body);
    return wrapInbound(ends, IpProtocol.Icmp, body, tos, ttl);
  }
  const original = new Uint8Array(48);
  emitIpv6(
    {
      src: ends.local6,
      dst: ends.remote6,
      hopLimit: 64,
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      protocol: IpProtocol.Tcp,
      headerLength: 40,
      fragment: null,
      payload: tcp8,
    },
    original,
  );
  writeU16(original, 4, 32 + quoted.length);
  let repr: Icmpv6Repr;
  if (type === 2) repr = { type: 2, mtu: mtu > 0 ? mtu : 1280, original };
  else if (type === 3) repr = { type: 3, code, original };
  else repr = { type: 1, code, original };
  const body = new Uint8Array(icmpv6Length(repr));
  emitIcmpv6(repr, ends.remote6, ends.local6, body);
  return wrapInbound(ends, IpProtocol.Icmpv6, body, tos, ttl);
}

/** A TCP segment read from an outbound packet; sequence numbers are live values. */
export interface WireTcp {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  headerLength: number;
  options: TcpOptionEntry[];
  payload: Uint8Array;
  checksumOk: boolean;
}

/** An outbound IP packet read back. */
export interface WirePacket {
  family: 4 | 6;
  src: string;
  dst: string;
  /** The TOS / traffic class byte. */
  tos: number;
  ttl: number;
  protocol: number;
  tcp: WireTcp | null;
  icmp: { type: number; code: number } | null;
  /** Why the packet could not be read, or null. */
  problem: string | null;
}

/** Reads an IP packet the stack sent. Never throws. */
export function readPacket(bytes: Uint8Array): WirePacket {
  const base: WirePacket = {
    family: 4,
    src: '?',
    dst: '?',
    tos: 0,
    ttl: 0,
    protocol: -1,
    tcp: null,
    icmp: null,
    problem: null,
  };
  if (bytes.length < 1) return { ...base, problem: 'empty packet' };
  const version = bytes[0]! >>> 4;
  let payload: Uint8Array;
  let pseudo: number;
  if (version === 4) {
    const ip = parseIpv4(bytes);
    if (isDropReason(ip)) return { ...base, problem: `bad IPv4 packet: ${ip}` };
    base.src = formatIpv4Address(ip.src);
    base.dst = formatIpv4Address(ip.dst);
    base.tos = (ip.dscp << 2) | ip.ecn;
    base.ttl = ip.ttl;
    base.protocol = ip.protocol;
    payload = ip.payload;
    pseudo = pseudoHeaderSumV4(ip.src, ip.dst, ip.protocol, payload.length);
  } else if (version === 6) {
    const ip = parseIpv6(bytes);
    if (isDropReason(ip)) return { ...base, family: 6, problem: `bad IPv6 packet: ${ip}` };
    base.family = 6;
    base.src = formatIpv6Address(ip.src);
    base.dst = formatIpv6Address(ip.dst);
    base.tos = (ip.dscp << 2) | ip.ecn;
    base.ttl = ip.hopLimit;
    base.protocol = ip.protocol;
    payload = ip.payload;
    pseudo = pseudoHeaderSumV6(ip.src, ip.dst, ip.protocol, payload.length);
  } else {
    return { ...base, problem: `IP version ${version}` };
  }
  if (base.protocol === IpProtocol.Icmp || base.protocol === IpProtocol.Icmpv6) {
    if (payload.length < 4) return { ...base, problem: 'truncated ICMP message' };
    return { ...base, icmp: { type: payload[0]!, code: payload[1]! } };
  }
  if (base.protocol !== IpProtocol.Tcp) return base;
  if (payload.length < 20) return { ...base, problem: 'truncated TCP header' };
  const headerLength = (payload[12]! >>> 4) * 4;
  const options = listTcpOptions(payload);
  if (isDropReason(options)) return { ...base, problem: `bad TCP header: ${options}` };
  return {
    ...base,
    tcp: {
      srcPort: readU16(payload, 0),
      dstPort: readU16(payload, 2),
      seq: readU32(payload, 4),
      ack: readU32(payload, 8),
      flags: payload[13]!,
      window: readU16(payload, 14),
      urgent: readU16(payload, 18),
      headerLength,
      options,
      // slice: a copy, the packet buffer is the stack's.
      payload: payload.slice(headerLength),
      checksumOk: checksumFinish(checksumAdd(pseudo, payload)) === 0,
    },
  };
}
