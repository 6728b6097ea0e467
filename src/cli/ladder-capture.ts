/**
 * The ladder of one connection in a capture: finds the TCP connections in a
 * pcap file and lays one out, estimating the far end of each arrow and
 * inferring the states from the flags. Pure (no host API), so the web page
 * draws a dropped file with the same code as `tcpts ladder`.
 */
import { readPcap } from '../link/index.js';
import { describeDamage, describeFileError, describeNoTcp } from './capture-errors.js';
import { TcpFlags } from '../wire/index.js';
import {
  Side,
  StateInference,
  buildPackets,
  connectionKey,
  segmentOf,
  segmentSpace,
  type ArrowInput,
  type CapturedSegment,
  type LadderDiagram,
} from './ladder-model.js';
import { analyseSegments, roleInputOfSegment, type SegmentAnalysis } from './segment-roles.js';

/** "10.0.0.1:80", or "[fd00::1]:80" for IPv6. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** One TCP connection found in a capture. */
export interface CaptureConnection {
  /** 1-based, in the order of each connection's first packet. */
  number: number;
  client: string;
  server: string;
  packets: number;
  /** Time of its first packet, µs since 1970. */
  firstTime: number;
}

/** What {@link ladderFromCapture} returns on success. */
export interface CaptureLadder {
  diagram: LadderDiagram;
  connections: CaptureConnection[];
  /** The number of the connection drawn. */
  chosen: number;
  /** Capture records that are not TCP (ARP, UDP, ICMP ...), left out. */
  otherRecords: number;
  /** What each packet of the diagram is for (same order as `diagram.packets`), named as Wireshark's analysis would. */
  roles: SegmentAnalysis[];
  /** The capture record (0-based; frame number - 1) of each packet of the diagram. */
  records: number[];
  /** Null when the whole file was read; else what is wrong with its tail (the packets before it are drawn). */
  fileError: string | null;
}

/** Options of {@link ladderFromCapture}. */
export interface CaptureLadderOptions {
  /** Which connection to draw, 1-based. Default 1. */
  connection?: number;
  /** Label absolute sequence numbers. */
  absolute?: boolean;
}

interface Endpoint {
  address: string;
  port: number;
}

/** Which end is the client: the sender of the first SYN, else the receiver of the first SYN-ACK, else the higher port. */
function clientOf(segments: readonly CapturedSegment[]): Endpoint {
  for (const s of segments) {
    if ((s.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN)
      return { address: s.src, port: s.srcPort };
  }
  for (const s of segments) {
    if ((s.flags & TcpFlags.SYN) !== 0) return { address: s.dst, port: s.dstPort };
  }
  const s = segments[0]!;
  return s.srcPort > s.dstPort
    ? { address: s.src, port: s.srcPort }
    : { address: s.dst, port: s.dstPort };
}

/**
 * Finds the TCP connections in a capture and lays out one of them. Each
 * packet was seen at one point only (where the capture was taken), so the
 * other end of its arrow is estimated: half the handshake's round trip, as
 * seen from the side the capture was taken on (the side whose SYN or SYN-ACK
 * waited longest for its answer). States are inferred from the flags.
 * Returns a one-line error for a file that holds no usable connection.
 */
export function ladderFromCapture(
  bytes: Uint8Array,
  options: CaptureLadderOptions = {},
): CaptureLadder | string {
  const file = readPcap(bytes);
  if (typeof file === 'string') return describeFileError(file);
  const groups = new Map<string, CapturedSegment[]>();
  let other = 0;
  file.records.forEach((record, i) => {
    const segment = segmentOf(record, i);
    if (segment === null) {
      other++;
      return;
    }
    const key = connectionKey(segment);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [segment]);
    else list.push(segment);
  });
  if (groups.size === 0) return describeNoTcp(file.error);
  const connections: CaptureConnection[] = [];
  const lists = [...groups.values()];
  lists.forEach((segments, i) => {
    const client = clientOf(segments);
    const first = segments[0]!;
    const server =
      first.src === client.address && first.srcPort === client.port
        ? { address: first.dst, port: first.dstPort }
        : { address: first.src, port: first.srcPort };
    connections.push({
      number: i + 1,
      client: hostPort(client.address, client.port),
      server: hostPort(server.address, server.port),
      packets: segments.length,
      firstTime: first.time,
    });
  });
  const chosen = options.connection ?? 1;
  if (!Number.isInteger(chosen) || chosen < 1 || chosen > lists.length) {
    return `no connection ${chosen}: the capture holds ${lists.length} TCP connection(s)`;
  }
  const segments = lists[chosen - 1]!;
  const diagram = diagramOfSegments(segments, options.absolute ?? false);
  // diagramOfSegments keeps the capture's order, so packet i is segment i.
  const roles = analyseSegments(
    segments.map((s, i) => roleInputOfSegment(s, diagram.packets[i]!.from)),
  );
  const fileError = file.error === null ? null : describeDamage(file.error, file.records.length);
  return {
    diagram,
    connections,
    chosen,
    roles,
    records: segments.map((s) => s.record),
    otherRecords: other,
    fileError,
  };
}

/** How far ahead to look for the ACK that answers a segment. */
const ANSWER_WINDOW = 2000;

/**
 * The shortest time between a segment sent from the capture point (one that
 * takes sequence space) and the first segment from the other side that
 * acknowledges all of it, or null when none is answered.
 */
function fastestRoundTrip(
  segments: readonly CapturedSegment[],
  fromHere: (s: CapturedSegment) => boolean,
): number | null {
  let best = Number.POSITIVE_INFINITY;
  segments.forEach((s, i) => {
    const space = segmentSpace(s.flags, s.length);
    if (!fromHere(s) || space === 0) return;
    const end = (s.seq + space) >>> 0;
    const last = Math.min(segments.length, i + 1 + ANSWER_WINDOW);
    for (let j = i + 1; j < last; j++) {
      const r = segments[j]!;
      if (fromHere(r) || (r.flags & TcpFlags.ACK) === 0) continue;
      // Sequence comparison modulo 2^32 (RFC 9293 §3.4).
      if (((r.ack - end) | 0) >= 0) {
        if (r.time - s.time < best) best = r.time - s.time;
        break;
      }
    }
  });
  return Number.isFinite(best) ? best : null;
}

/** The diagram of one connection's segments, all seen at one capture point. */
function diagramOfSegments(segments: readonly CapturedSegment[], absolute: boolean): LadderDiagram {
  const client = clientOf(segments);
  const isClient = (s: CapturedSegment): boolean =>
    s.src === client.address && s.srcPort === client.port;
  const first = segments[0]!;
  const server = isClient(first)
    ? { address: first.dst, port: first.dstPort }
    : { address: first.src, port: first.srcPort };

  // Where was the capture taken, and how long does a packet take one way?
  // With a handshake SYN (t0), SYN-ACK (t1), ACK (t2): a capture at the
  // client sees t1 - t0 = RTT and t2 - t1 small; at the server, the reverse.
  let vantage: Side = Side.Client;
  let oneWay = 0;
  const syn = segments.find((s) => (s.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN);
  const synAck = segments.find(
    (s) => (s.flags & (TcpFlags.SYN | TcpFlags.ACK)) === (TcpFlags.SYN | TcpFlags.ACK),
  );
  if (syn !== undefined && synAck !== undefined && synAck.time >= syn.time) {
    const ack = segments.find(
      (s) =>
        s.time >= synAck.time &&
        s !== synAck &&
        s.src === syn.src &&
        s.srcPort === syn.srcPort &&
        (s.flags & TcpFlags.ACK) !== 0,
    );
    const g1 = synAck.time - syn.time;
    const g2 = ack === undefined ? 0 : ack.time - synAck.time;
    vantage =
      g1 >= g2
        ? isClient(syn)
          ? Side.Client
          : Side.Server
        : isClient(syn)
          ? Side.Server
          : Side.Client;
    oneWay = Math.max(g1, g2) / 2;
  }
  // The handshake's round trip includes the time the far end took to answer
  // a SYN, which is often the slowest answer of all. Half the quickest round
  // trip seen from the capture point (a segment and the first ACK covering
  // it) keeps every estimated departure after the arrival that caused it.
  const fastest = fastestRoundTrip(
    segments,
    (s) => (isClient(s) ? Side.Client : Side.Server) === vantage,
  );
  if (fastest !== null) oneWay = fastest / 2;

  // Initial states: a connection opened in the capture starts CLOSED / LISTEN
  // (or CLOSED when the answer to the SYN was RST or another SYN); one caught
  // in the middle is assumed ESTABLISHED.
  let initial = { client: 'ESTABLISHED', server: 'ESTABLISHED' };
  if (syn !== undefined) {
    const answer = segments.find((s) => s.time >= syn.time && !isClient(s));
    const refused =
      answer !== undefined &&
      ((answer.flags & TcpFlags.RST) !== 0 ||
        (answer.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN);
    initial = { client: 'CLOSED', server: refused ? 'CLOSED' : 'LISTEN' };
  }

  interface Pending {
    segment: CapturedSegment;
    from: Side;
    sentAt: number;
    arrivedAt: number;
    sendOrder: number;
    arriveOrder: number;
  }
  const pending: Pending[] = segments.map((segment, i) => {
    const from = isClient(segment) ? Side.Client : Side.Server;
    const t = segment.time;
    const observed = 4 * i + 2;
    return from === vantage
      ? {
          segment,
          from,
          sentAt: t,
          arrivedAt: t + oneWay,
          sendOrder: observed,
          arriveOrder: observed + 1,
        }
      : {
          segment,
          from,
          sentAt: t - oneWay,
          arrivedAt: t,
          sendOrder: observed - 1,
          arriveOrder: observed,
        };
  });
  const start = Math.min(...pending.map((p) => p.sentAt));

  // Replay the flags in event order to infer each side's state.
  const inference = new StateInference(initial);
  const events: Array<{ time: number; order: number; pending: Pending; send: boolean }> = [];
  for (const p of pending) {
    events.push({ time: p.sentAt, order: p.sendOrder, pending: p, send: true });
    events.push({ time: p.arrivedAt, order: p.arriveOrder, pending: p, send: false });
  }
  events.sort((a, b) => a.time - b.time || a.order - b.order);
  const senderStates = new Map<Pending, string>();
  const receiverStates = new Map<Pending, string>();
  for (const e of events) {
    if (e.send) senderStates.set(e.pending, inference.send(e.pending.from, e.pending.segment));
    else {
      const to = e.pending.from === Side.Client ? Side.Server : Side.Client;
      receiverStates.set(e.pending, inference.receive(to, e.pending.segment));
    }
  }
  const inputs: ArrowInput[] = pending.map((p) => ({
    from: p.from,
    segment: p.segment,
    sentAt: p.sentAt - start,
    arrivedAt: p.arrivedAt - start,
    estimated: oneWay > 0,
    lost: false,
    note: null,
    senderState: { state: senderStates.get(p)!, connection: null, transitions: [] },
    receiverState: { state: receiverStates.get(p)!, connection: null, transitions: [] },
    sendOrder: p.sendOrder,
    arriveOrder: p.arriveOrder,
  }));
  return {
    client: { name: 'client', address: client.address, port: client.port },
    server: { name: 'server', address: server.address, port: server.port },
    start,
    initialStates: initial,
    packets: buildPackets(inputs, absolute),
    stateRows: [],
    statesInferred: true,
    absolute,
  };
}
