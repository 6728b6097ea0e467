/**
 * The data behind a ladder diagram, shared by `tcpts demo` and `tcpts ladder`
 * and by both pictures (text in ./ladder.ts, SVG in ./svg.ts): the TCP
 * segments of one connection read from capture records, each an arrow from
 * the side that sent it to the side that received it, labelled like tcpdump,
 * and the state each side was in after it. The layout at the end turns the
 * arrows into rows (one per send or arrival, in time order) so that an arrow
 * spans the rows between its two ends and slants by its one-way delay.
 */
import {
  EtherType,
  IpProtocol,
  TcpFlags,
  formatIpv4Address,
  formatIpv6Address,
  formatTcpOptions,
  listTcpOptions,
  readIpv4Address,
  walkIpv6Extensions,
  type Ipv6Chain,
  type TcpOptionEntry,
} from '../wire/index.js';
import { seq } from '../base/index.js';
import { LinkType, parseSll, parseSll2, rawIpEtherType, type PcapRecord } from '../link/index.js';

// ---------------------------------------------------------------- segments

/** One TCP segment read from a capture record; fields the capture cut off read as 0 / empty. */
export interface CapturedSegment {
  /** Index of the record in its capture (0-based). */
  record: number;
  /** Capture time, µs (since 1970 for a file, virtual time for the simulator). */
  time: number;
  family: 4 | 6;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** Absolute sequence and acknowledgment numbers, as on the wire. */
  seq: number;
  ack: number;
  /** The flag byte ({@link TcpFlags} bits). */
  flags: number;
  /** The raw 16-bit window field (unscaled, as tcpdump prints it). */
  window: number;
  /** Options in wire order; empty when the capture cut the header short. */
  options: TcpOptionEntry[];
  /** Payload bytes on the wire (from the IP length, so a short snaplen does not shrink it). */
  length: number;
  /** The captured IP packet: a view into the record. */
  ip: Uint8Array;
}

const ETHERNET_HEADER = 14;
const VLAN_TAG = 4;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const TCP_MIN_HEADER = 20;

/** The IP packet inside a record (a view), with its EtherType, or null when it carries no IP. */
function ipOf(record: PcapRecord): { etherType: number; packet: Uint8Array } | null {
  const data = record.data;
  switch (record.linkType) {
    case LinkType.Ethernet: {
      if (data.length < ETHERNET_HEADER) return null;
      let offset = ETHERNET_HEADER;
      let etherType = (data[12]! << 8) | data[13]!;
      // IEEE 802.1Q / 802.1ad tags: the inner EtherType follows each tag.
      while (
        (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ) &&
        data.length >= offset + VLAN_TAG
      ) {
        etherType = (data[offset + 2]! << 8) | data[offset + 3]!;
        offset += VLAN_TAG;
      }
      return { etherType, packet: data.subarray(offset) };
    }
    case LinkType.Raw:
      return { etherType: rawIpEtherType(data), packet: data };
    case LinkType.Ipv4:
      return { etherType: EtherType.Ipv4, packet: data };
    case LinkType.Ipv6:
      return { etherType: EtherType.Ipv6, packet: data };
    case LinkType.LinuxSll:
    case LinkType.LinuxSll2: {
      const sll = record.linkType === LinkType.LinuxSll ? parseSll(data) : parseSll2(data);
      return sll === null ? null : { etherType: sll.protocol, packet: sll.payload };
    }
    default:
      return null;
  }
}

/**
 * The TCP segment in a capture record, or null for anything else (ARP,
 * UDP, ICMP, fragments after the first, packets cut before the TCP ports).
 * Lenient where a decoder should be: checksums are not verified (a capture
 * taken on the sending host often holds offloaded, unfinished ones) and a
 * short snapshot keeps what it has. Never throws.
 */
export function segmentOf(record: PcapRecord, index: number): CapturedSegment | null {
  const inner = ipOf(record);
  if (inner === null) return null;
  const packet = inner.packet;
  let family: 4 | 6;
  let src: string;
  let dst: string;
  let tcpStart: number;
  let tcpLength: number;
  if (inner.etherType === EtherType.Ipv4) {
    if (packet.length < 20 || packet[0]! >>> 4 !== 4) return null;
    const headerLength = (packet[0]! & 0x0f) * 4;
    const totalLength = (packet[2]! << 8) | packet[3]!;
    // RFC 791: only the first fragment (offset 0) carries the TCP header.
    const fragmentOffset = ((packet[6]! << 8) | packet[7]!) & 0x1fff;
    if (packet[9] !== IpProtocol.Tcp || fragmentOffset !== 0 || headerLength < 20) return null;
    family = 4;
    src = formatIpv4Address(readIpv4Address(packet, 12));
    dst = formatIpv4Address(readIpv4Address(packet, 16));
    tcpStart = headerLength;
    tcpLength = totalLength - headerLength;
  } else if (inner.etherType === EtherType.Ipv6) {
    if (packet.length < 40 || packet[0]! >>> 4 !== 6) return null;
    const payloadLength = (packet[4]! << 8) | packet[5]!;
    const chain: Ipv6Chain = { protocol: 0, headerLength: 40, fragment: null };
    const problem = walkIpv6Extensions(packet, packet[6]!, 40, 40 + payloadLength, chain);
    if (problem !== null || chain.protocol !== IpProtocol.Tcp) return null;
    if (chain.fragment !== null && chain.fragment.offset !== 0) return null;
    family = 6;
    src = formatIpv6Address(packet.subarray(8, 24));
    dst = formatIpv6Address(packet.subarray(24, 40));
    tcpStart = chain.headerLength;
    tcpLength = 40 + payloadLength - chain.headerLength;
  } else {
    return null;
  }
  const tcp = packet.subarray(tcpStart);
  if (tcp.length < TCP_MIN_HEADER) return null;
  const dataOffset = (tcp[12]! >>> 4) * 4;
  if (dataOffset < TCP_MIN_HEADER) return null;
  const listed = tcp.length >= dataOffset ? listTcpOptions(tcp.subarray(0, dataOffset)) : [];
  return {
    record: index,
    time: record.time,
    family,
    src,
    dst,
    srcPort: (tcp[0]! << 8) | tcp[1]!,
    dstPort: (tcp[2]! << 8) | tcp[3]!,
    seq: ((tcp[4]! << 24) | (tcp[5]! << 16) | (tcp[6]! << 8) | tcp[7]!) >>> 0,
    ack: ((tcp[8]! << 24) | (tcp[9]! << 16) | (tcp[10]! << 8) | tcp[11]!) >>> 0,
    flags: tcp[13]!,
    window: (tcp[14]! << 8) | tcp[15]!,
    options: typeof listed === 'string' ? [] : listed,
    length: Math.max(0, tcpLength - dataOffset),
    ip: packet,
  };
}

/** A key naming a connection whichever way a segment travels: the two ends, sorted. */
export function connectionKey(s: CapturedSegment): string {
  const a = `${s.src}|${s.srcPort}`;
  const b = `${s.dst}|${s.dstPort}`;
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

// ---------------------------------------------------------------- the diagram

/** The two hosts of a diagram: the client on the left line, the server on the right. */
export const Side = {
  Client: 'client',
  Server: 'server',
} as const;
/** One of {@link Side}. */
export type Side = (typeof Side)[keyof typeof Side];

/** The other side. */
export function otherSide(side: Side): Side {
  return side === Side.Client ? Side.Server : Side.Client;
}

/** One end of the connection. */
export interface LadderHost {
  /** "client" or "server". */
  name: string;
  address: string;
  port: number;
}

/** A state change as a connection recorded it (`Connection.transitions`), times in µs from the diagram's start. */
export interface TransitionRecord {
  at: number;
  from: string;
  to: string;
  cause: string;
  /** Its position in the connection's record (0 for the first change). */
  index: number;
}

/** The state one side is shown in after an event. */
export interface StateNote {
  /** The RFC 9293 state name shown on the diagram. */
  state: string;
  /** Which of the side's connections (the stack's socket id); null when inferred. */
  connection: number | null;
  /** The recorded transitions this event caused, in order; empty when none or when inferred. */
  transitions: TransitionRecord[];
}

/** One arrow: a TCP segment from one side to the other. */
export interface LadderPacket {
  /** 1-based, in the order the diagram lists packets (first seen first). */
  number: number;
  from: Side;
  /** When it left the sender, µs from the start; null when the sender's side was not seen. */
  sentAt: number | null;
  /** When it reached the receiver; null when it was lost (or that side was not seen). */
  arrivedAt: number | null;
  /** True when one of the two times is an estimate (a capture taken at one point). */
  estimated: boolean;
  /** Sent and never delivered (seen leaving, never arriving). */
  lost: boolean;
  /** True when it repeats sequence space the sender had already sent on the same connection instance (same ISN). */
  retransmission: boolean;
  /** A remark shown with the label ("old duplicate", "lost"), or null. */
  note: string | null;
  /** Flag names, comma-separated: "SYN", "SYN,ACK", "PSH,ACK", "RST". */
  flags: string;
  /** The flags as tcpdump prints them: "S", "S.", "P.", "R". */
  tcpdumpFlags: string;
  /** Absolute numbers, as on the wire. */
  seq: number;
  ack: number;
  /** Relative to each direction's initial sequence number (signed), as labels show them unless absolute. */
  relativeSeq: number;
  relativeAck: number;
  /** Payload bytes. */
  length: number;
  /** The raw window field. */
  window: number;
  /** Options in tcpdump's words without the NOP padding; SACK edges relative like seq. */
  options: string;
  /** The text on the arrow. */
  label: string;
  /** The sender's state after sending, and the receiver's after receiving (null when unknown). */
  senderState: StateNote | null;
  receiverState: StateNote | null;
  /** Tie-breakers for events at the same instant: smaller happened first. */
  sendOrder: number;
  arriveOrder: number;
}

/** A state change not tied to any packet (a timer, such as the end of TIME-WAIT). */
export interface StateRow {
  at: number;
  side: Side;
  state: string;
  /** The stack's socket id of the connection that changed. */
  connection: number;
  transitions: TransitionRecord[];
  order: number;
}

/** Everything a picture of one connection needs. */
export interface LadderDiagram {
  client: LadderHost;
  server: LadderHost;
  /** What time 0 is, in the capture's µs (the first packet's time for a file). */
  start: number;
  /** The states before the first packet. */
  initialStates: { client: string; server: string };
  packets: LadderPacket[];
  stateRows: StateRow[];
  /** True when the states come from the flags seen, not from a connection's own record. */
  statesInferred: boolean;
  /** True when labels show absolute sequence numbers. */
  absolute: boolean;
}

// ---------------------------------------------------------------- labels

const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [TcpFlags.SYN, 'SYN'],
  [TcpFlags.FIN, 'FIN'],
  [TcpFlags.RST, 'RST'],
  [TcpFlags.PSH, 'PSH'],
  [TcpFlags.ACK, 'ACK'],
  [TcpFlags.URG, 'URG'],
  [TcpFlags.ECE, 'ECE'],
  [TcpFlags.CWR, 'CWR'],
];

const TCPDUMP_LETTERS: ReadonlyArray<readonly [number, string]> = [
  [TcpFlags.FIN, 'F'],
  [TcpFlags.SYN, 'S'],
  [TcpFlags.RST, 'R'],
  [TcpFlags.PSH, 'P'],
  [TcpFlags.URG, 'U'],
  [TcpFlags.ECE, 'E'],
  [TcpFlags.CWR, 'W'],
  [TcpFlags.ACK, '.'],
];

/** "SYN,ACK" for the flag byte; "none" when no flag is set. */
export function flagNames(flags: number): string {
  const names: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if ((flags & bit) !== 0) names.push(name);
  return names.length === 0 ? 'none' : names.join(',');
}

/** The flags as tcpdump prints them between `Flags [` and `]`. */
export function tcpdumpFlags(flags: number): string {
  let text = '';
  for (const [bit, letter] of TCPDUMP_LETTERS) if ((flags & bit) !== 0) text += letter;
  return text === '' ? 'none' : text;
}

/** A 32-bit difference as a signed number: sequence space before the base reads negative. */
function signed32(value: number): number {
  return value | 0;
}

/** Options in tcpdump's words, without NOP and EOL padding; SACK edges shifted by `sackBase`. */
export function optionsText(entries: readonly TcpOptionEntry[], sackBase: number): string {
  const shown: TcpOptionEntry[] = [];
  for (const entry of entries) {
    if (entry.kind === 'nop' || entry.kind === 'eol') continue;
    if (entry.kind === 'sack' && sackBase !== 0) {
      shown.push({
        kind: 'sack',
        blocks: entry.blocks.map((b) => ({
          left: seq(signed32(b.left - sackBase) >>> 0),
          right: seq(signed32(b.right - sackBase) >>> 0),
        })),
      });
      continue;
    }
    shown.push(entry);
  }
  // formatTcpOptions prints SACK edges unsigned; relative ones read better signed.
  return formatTcpOptions(shown).replace(/\{(\d+):(\d+)\}/g, (_m, l: string, r: string) => {
    return sackBase === 0 ? `{${l}:${r}}` : `{${signed32(Number(l))}:${signed32(Number(r))}}`;
  });
}

/** The label of an arrow: flags, seq, ack, window, length and options. */
export function labelOf(p: {
  flags: number;
  seq: number;
  ack: number;
  window: number;
  length: number;
  options: string;
}): string {
  let text = `${flagNames(p.flags)} seq ${p.seq}`;
  if (p.length > 0) text += `:${p.seq + p.length}`;
  if ((p.flags & TcpFlags.ACK) !== 0) text += ` ack ${p.ack}`;
  text += ` win ${p.window}`;
  if (p.length > 0) text += ` len ${p.length}`;
  if (p.options !== '') text += ` <${p.options}>`;
  return text;
}

/** Sequence space a segment occupies: its payload plus one for SYN and one for FIN (RFC 9293 §3.4). */
export function segmentSpace(flags: number, length: number): number {
  return length + ((flags & TcpFlags.SYN) !== 0 ? 1 : 0) + ((flags & TcpFlags.FIN) !== 0 ? 1 : 0);
}

/** A segment as the diagram builder takes it: which side sent it, the fields, and its two times. */
export interface ArrowInput {
  from: Side;
  segment: CapturedSegment;
  sentAt: number | null;
  arrivedAt: number | null;
  estimated: boolean;
  lost: boolean;
  note: string | null;
  senderState: StateNote | null;
  receiverState: StateNote | null;
  sendOrder: number;
  arriveOrder: number;
}

/**
 * Numbers and labels the arrows. Each direction counts from its initial
 * sequence number: the first SYN it sent, or (a capture that starts in the
 * middle) its first sequence number seen, so labels read as the relative
 * numbers tcpdump and Wireshark print. Retransmissions are segments that
 * start before the highest sequence number their sender had already sent
 * on the same connection instance: a SYN is one only when an earlier SYN
 * had the same flags and ISN.
 * `inputs` must be in diagram order.
 */
export function buildPackets(inputs: readonly ArrowInput[], absolute: boolean): LadderPacket[] {
  const base = new Map<Side, number>();
  for (const input of inputs) {
    if ((input.segment.flags & TcpFlags.SYN) !== 0 && !base.has(input.from)) {
      base.set(input.from, input.segment.seq);
    }
  }
  for (const input of inputs) {
    if (!base.has(input.from)) base.set(input.from, input.segment.seq);
  }
  for (const input of inputs) {
    const other = otherSide(input.from);
    if (!base.has(other) && (input.segment.flags & TcpFlags.ACK) !== 0) {
      base.set(other, (input.segment.ack - 1) >>> 0);
    }
  }
  const highest = new Map<Side, number>();
  // Per side, the SYNs sent so far as "flags/ISN": only a SYN with the same
  // flags and the same ISN repeats one (RFC 9293 §3.4: a new ISN starts a
  // new connection instance, whose sequence space nothing has used yet).
  const synsSent = new Map<Side, Set<string>>();
  const packets: LadderPacket[] = [];
  for (const input of inputs) {
    const s = input.segment;
    const own = base.get(input.from) ?? s.seq;
    const peer = base.get(otherSide(input.from)) ?? 0;
    const relativeSeq = signed32(s.seq - own);
    const relativeAck = (s.flags & TcpFlags.ACK) !== 0 ? signed32(s.ack - peer) : 0;
    const space = segmentSpace(s.flags, s.length);
    let retransmission = false;
    if ((s.flags & TcpFlags.SYN) !== 0) {
      // A SYN is sent again with the same flags and ISN; a SYN,ACK after our
      // own SYN (simultaneous open) repeats the SYN's number but is the next
      // step; a SYN,ACK with a new ISN answers a new SYN (old-duplicate-syn).
      const seen = synsSent.get(input.from) ?? new Set<string>();
      const key = `${s.flags}/${s.seq}`;
      retransmission = seen.has(key);
      const newInstance = ![...seen].some((k) => k.endsWith(`/${s.seq}`));
      seen.add(key);
      synsSent.set(input.from, seen);
      const top = highest.get(input.from);
      // A new instance starts its own sequence space (an old duplicate the
      // sender was not seen sending, with its note, does not).
      if (top === undefined || relativeSeq + space > top || (newInstance && input.note === null))
        highest.set(input.from, relativeSeq + space);
    } else if (space > 0 && (s.flags & TcpFlags.RST) === 0) {
      const top = highest.get(input.from);
      const end = relativeSeq + space;
      if (top !== undefined && relativeSeq < top) retransmission = true;
      if (top === undefined || end > top) highest.set(input.from, end);
    }
    const options = optionsText(s.options, absolute ? 0 : peer);
    const shownSeq = absolute ? s.seq : relativeSeq;
    const shownAck = absolute ? s.ack : relativeAck;
    packets.push({
      number: packets.length + 1,
      from: input.from,
      sentAt: input.sentAt,
      arrivedAt: input.arrivedAt,
      estimated: input.estimated,
      lost: input.lost,
      retransmission,
      note: input.note ?? (retransmission ? 'retransmission' : null),
      flags: flagNames(s.flags),
      tcpdumpFlags: tcpdumpFlags(s.flags),
      seq: s.seq,
      ack: s.ack,
      relativeSeq,
      relativeAck,
      length: s.length,
      window: s.window,
      options,
      label: labelOf({
        flags: s.flags,
        seq: shownSeq,
        ack: shownAck,
        window: s.window,
        length: s.length,
        options,
      }),
      senderState: input.senderState,
      receiverState: input.receiverState,
      sendOrder: input.sendOrder,
      arriveOrder: input.arriveOrder,
    });
  }
  return packets;
}

// ---------------------------------------------------------------- inferred states

interface InferredSide {
  state: string;
  /** Our sequence number after our FIN (FIN seq + 1), or -1 before we sent one. */
  finEnd: number;
  /** True for the side that listened (a reset half-open connection goes back to LISTEN). */
  passive: boolean;
}

/**
 * Replays the RFC 9293 state machine on both sides from the flags alone, for
 * captures that come without a connection's own record. It sees what a
 * capture sees, so it assumes every segment was acceptable; the diagram says
 * "inferred".
 */
export class StateInference {
  private readonly sides: Record<Side, InferredSide>;

  constructor(initial: { client: string; server: string }) {
    this.sides = {
      client: { state: initial.client, finEnd: -1, passive: false },
      server: { state: initial.server, finEnd: -1, passive: initial.server === 'LISTEN' },
    };
  }

  /** The state after `side` sends segment `s`. */
  send(side: Side, s: CapturedSegment): string {
    const me = this.sides[side];
    const flags = s.flags;
    if ((flags & TcpFlags.RST) !== 0) {
      me.state = 'CLOSED';
      return me.state;
    }
    if ((flags & TcpFlags.SYN) !== 0 && (flags & TcpFlags.ACK) === 0) {
      if (me.state === 'CLOSED' || me.state === 'LISTEN') me.state = 'SYN-SENT';
    }
    if ((flags & TcpFlags.FIN) !== 0) {
      me.finEnd = (s.seq + segmentSpace(flags, s.length)) >>> 0;
      if (me.state === 'ESTABLISHED' || me.state === 'SYN-RECEIVED') me.state = 'FIN-WAIT-1';
      else if (me.state === 'CLOSE-WAIT') me.state = 'LAST-ACK';
    }
    return me.state;
  }

  /** The state after `side` receives segment `s`. */
  receive(side: Side, s: CapturedSegment): string {
    const me = this.sides[side];
    const flags = s.flags;
    const hasAck = (flags & TcpFlags.ACK) !== 0;
    if ((flags & TcpFlags.RST) !== 0) {
      // RFC 9293 §3.10.7.4: a reset half-open passive connection returns to LISTEN.
      if (me.state === 'SYN-RECEIVED' && me.passive) me.state = 'LISTEN';
      else if (me.state !== 'LISTEN') me.state = 'CLOSED';
      return me.state;
    }
    if ((flags & TcpFlags.SYN) !== 0) {
      if (me.state === 'LISTEN' || me.state === 'CLOSED') me.state = 'SYN-RECEIVED';
      else if (me.state === 'SYN-SENT') me.state = hasAck ? 'ESTABLISHED' : 'SYN-RECEIVED';
      return me.state;
    }
    const ackedFin = hasAck && me.finEnd !== -1 && ((s.ack - me.finEnd) | 0) >= 0;
    if (hasAck && me.state === 'SYN-RECEIVED') me.state = 'ESTABLISHED';
    if (ackedFin) {
      if (me.state === 'FIN-WAIT-1') me.state = 'FIN-WAIT-2';
      else if (me.state === 'CLOSING') me.state = 'TIME-WAIT';
      else if (me.state === 'LAST-ACK') me.state = 'CLOSED';
    }
    if ((flags & TcpFlags.FIN) !== 0) {
      if (me.state === 'ESTABLISHED') me.state = 'CLOSE-WAIT';
      else if (me.state === 'FIN-WAIT-1') me.state = 'CLOSING';
      else if (me.state === 'FIN-WAIT-2') me.state = 'TIME-WAIT';
    }
    return me.state;
  }
}

// ---------------------------------------------------------------- layout

/** What one row of a laid-out ladder holds. */
export const RowKind = {
  /** A packet leaves or arrives, or a state changes: the row has a time. */
  Event: 'event',
  /** Time passes: a blank row that lets arrows slant by their delay. */
  Filler: 'filler',
  /** A long quiet time, shown as one row that says how long. */
  Gap: 'gap',
  /** Packets left out of a long diagram, shown as one row that says how many. */
  Skip: 'skip',
} as const;
/** One of {@link RowKind}. */
export type RowKind = (typeof RowKind)[keyof typeof RowKind];

/** One row of a laid-out ladder. */
export interface LadderRow {
  kind: RowKind;
  /** µs from the start, for event rows; null otherwise. */
  time: number | null;
  /** States shown on this row (only where they change), or null. */
  clientState: string | null;
  serverState: string | null;
  /** The text beside the row: a packet's label, a state change's cause, a gap's length. */
  text: string | null;
  /** The packet labelled on this row, if any. */
  packet: LadderPacket | null;
}

/** An arrow placed on rows. */
export interface LadderArrow {
  packet: LadderPacket;
  /** Row where it starts (at the sender's line) and row where it ends (at the receiver's). */
  fromRow: number;
  toRow: number;
  /** `right`: client to server. */
  direction: 'right' | 'left';
  /** Ends halfway with a cross: lost. */
  lost: boolean;
  /** Drawn dashed: the sender's end was not seen (an old duplicate). */
  dashed: boolean;
}

/** A ladder turned into rows and arrows, ready to draw. */
export interface LadderLayout {
  rows: LadderRow[];
  arrows: LadderArrow[];
  /** Packets left out in the middle (0 when all are shown). */
  skipped: number;
}

/** Options of {@link layoutLadder}. */
export interface LayoutOptions {
  /** Show only the first `head` and last `tail` packets when there are more than `head + tail + 4`. */
  head?: number;
  tail?: number;
}

interface LayoutEvent {
  time: number;
  order: number;
  kind: 'send' | 'arrive' | 'state';
  packet: LadderPacket | null;
  stateRow: StateRow | null;
  tail: boolean;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Rows of filler that a gap of `dt` gets: proportional, at most this many, longer ones become one gap row. */
const MAX_FILLER_ROWS = 3;
const GAP_QUANTA = 8;

/** Milliseconds with microsecond digits: the time column of both pictures. */
export function formatMillis(us: number): string {
  return (us / 1000).toFixed(3);
}

/** "1.234 s", "12.3 ms", "45 µs": a duration for a gap or skip row. */
export function formatDuration(us: number): string {
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(3)} s`;
  if (us >= 1000) return `${(us / 1000).toFixed(3)} ms`;
  return `${Math.round(us)} µs`;
}

/**
 * Lays the diagram out in rows: one row per event (a send, an arrival, a
 * state change) in time order, blank rows in proportion to the time between
 * events (a quantum of half the typical one-way delay, so a lone arrow spans
 * about three rows), and one row for any quiet spell much longer than that.
 * A diagram with more packets than `head + tail` (plus a few) shows the first
 * `head` and the last `tail` and one row that counts the others.
 */
export function layoutLadder(diagram: LadderDiagram, options: LayoutOptions = {}): LadderLayout {
  const head = options.head ?? Number.POSITIVE_INFINITY;
  const tail = options.tail ?? 0;
  const all = diagram.packets;
  const eliding = all.length > head + tail + 4;
  const kept = eliding ? [...all.slice(0, head), ...all.slice(all.length - tail)] : [...all];
  const tailStart = eliding ? all[all.length - tail]!.number : Number.POSITIVE_INFINITY;

  const events: LayoutEvent[] = [];
  for (const p of kept) {
    const isTail = p.number >= tailStart;
    if (p.sentAt !== null) {
      events.push({
        time: p.sentAt,
        order: p.sendOrder,
        kind: 'send',
        packet: p,
        stateRow: null,
        tail: isTail,
      });
    }
    if (p.arrivedAt !== null) {
      events.push({
        time: p.arrivedAt,
        order: p.arriveOrder,
        kind: 'arrive',
        packet: p,
        stateRow: null,
        tail: isTail,
      });
    }
  }
  const firstTailTime = eliding
    ? Math.min(
        ...kept.filter((p) => p.number >= tailStart).map((p) => p.sentAt ?? p.arrivedAt ?? 0),
      )
    : Number.POSITIVE_INFINITY;
  for (const s of diagram.stateRows) {
    events.push({
      time: s.at,
      order: s.order,
      kind: 'state',
      packet: null,
      stateRow: s,
      tail: s.at >= firstTailTime,
    });
  }
  events.sort((a, b) => a.time - b.time || a.order - b.order);

  const delays = all
    .filter((p) => p.sentAt !== null && p.arrivedAt !== null && p.arrivedAt > p.sentAt)
    .map((p) => p.arrivedAt! - p.sentAt!);
  // Half the typical one-way delay, so that a lone arrow spans about three
  // rows; but not much finer than the usual spacing of events, or a capture
  // on a fast link would be mostly blank rows.
  const gaps: number[] = [];
  for (let i = 1; i < events.length; i++) {
    const dt = events[i]!.time - events[i - 1]!.time;
    if (dt > 0) gaps.push(dt);
  }
  let quantum = Math.max(median(delays), median(gaps)) / 2;
  if (quantum <= 0) quantum = 1000;

  const rows: LadderRow[] = [];
  const sendRow = new Map<LadderPacket, number>();
  const arriveRow = new Map<LadderPacket, number>();
  let shownClient = diagram.initialStates.client;
  let shownServer = diagram.initialStates.server;
  let previous: LayoutEvent | null = null;
  let skipDone = false;
  const skipped = all.length - kept.length;
  for (const e of events) {
    // A change that leaves the shown state as it was (a discarded half-open
    // connection while the host listens on) needs no row.
    const quiet = e.stateRow;
    if (
      quiet !== null &&
      quiet.state === (quiet.side === Side.Client ? shownClient : shownServer)
    ) {
      continue;
    }
    if (previous !== null) {
      if (eliding && !skipDone && e.tail) {
        skipDone = true;
        const hidden = all.slice(head, all.length - tail);
        const from = hidden[0]!.sentAt ?? hidden[0]!.arrivedAt ?? 0;
        const last = hidden[hidden.length - 1]!;
        const to = last.arrivedAt ?? last.sentAt ?? from;
        rows.push({
          kind: RowKind.Skip,
          time: null,
          clientState: null,
          serverState: null,
          text: `... ${skipped} packets not shown (${describeSkipped(hidden)}, ${formatDuration(to - from)}) ...`,
          packet: null,
        });
      } else {
        const dt = e.time - previous.time;
        if (dt > quantum * GAP_QUANTA) {
          rows.push({
            kind: RowKind.Gap,
            time: null,
            clientState: null,
            serverState: null,
            text: `(${formatDuration(dt)} later)`,
            packet: null,
          });
        } else {
          const fill = Math.min(MAX_FILLER_ROWS, Math.max(0, Math.round(dt / quantum) - 1));
          for (let i = 0; i < fill; i++) {
            rows.push({
              kind: RowKind.Filler,
              time: null,
              clientState: null,
              serverState: null,
              text: null,
              packet: null,
            });
          }
        }
      }
    }
    previous = e;
    const row: LadderRow = {
      kind: RowKind.Event,
      time: e.time,
      clientState: null,
      serverState: null,
      text: null,
      packet: null,
    };
    let side: Side | null = null;
    let state: string | null = null;
    if (e.kind === 'state') {
      const s = e.stateRow!;
      side = s.side;
      state = s.state;
      const cause = s.transitions.length > 0 ? s.transitions[s.transitions.length - 1]!.cause : '';
      row.text = `(${side} ${cause === '' ? 'state change' : cause})`;
    } else {
      const p = e.packet!;
      if (e.kind === 'send') {
        side = p.from;
        state = p.senderState?.state ?? null;
        sendRow.set(p, rows.length);
        row.text = p.note === null ? p.label : `${p.label}  (${p.note})`;
        row.packet = p;
      } else {
        side = otherSide(p.from);
        state = p.receiverState?.state ?? null;
        arriveRow.set(p, rows.length);
        if (p.sentAt === null) {
          row.text = p.note === null ? p.label : `${p.label}  (${p.note})`;
          row.packet = p;
        }
      }
    }
    if (state !== null) {
      if (side === Side.Client && state !== shownClient) {
        row.clientState = state;
        shownClient = state;
      } else if (side === Side.Server && state !== shownServer) {
        row.serverState = state;
        shownServer = state;
      }
    }
    rows.push(row);
  }

  const arrows: LadderArrow[] = [];
  for (const p of kept) {
    const s = sendRow.get(p);
    const a = arriveRow.get(p);
    const direction = p.from === Side.Client ? 'right' : 'left';
    if (s !== undefined && a !== undefined) {
      arrows.push({ packet: p, fromRow: s, toRow: a, direction, lost: false, dashed: false });
    } else if (s !== undefined) {
      arrows.push({ packet: p, fromRow: s, toRow: s, direction, lost: true, dashed: false });
    } else if (a !== undefined) {
      arrows.push({ packet: p, fromRow: a, toRow: a, direction, lost: false, dashed: true });
    }
  }
  return { rows, arrows, skipped };
}

/** "800 data, 400 ACKs, 3 retransmissions" for packets left out of a diagram. */
function describeSkipped(hidden: readonly LadderPacket[]): string {
  let data = 0;
  let acks = 0;
  let retransmissions = 0;
  let lost = 0;
  for (const p of hidden) {
    if (p.length > 0) data++;
    else acks++;
    if (p.retransmission) retransmissions++;
    if (p.lost) lost++;
  }
  const parts = [`${data} with data`, `${acks} without`];
  if (retransmissions > 0) parts.push(`${retransmissions} retransmitted`);
  if (lost > 0) parts.push(`${lost} lost`);
  return parts.join(', ');
}
