/**
 * The TCP ledger of one end host: reads every TCP segment the host puts on
 * the wire and counts payload, new bytes and new-data segments per
 * connection, to compare with the connections' own counters at the end
 * (the counters-tcp-wire invariant), and flags data segments too big for
 * the path by their SACK option (oversize).
 */
import { seqDiff, type SeqNum } from '../../base/index.js';
import type { LinkKind } from '../../link/index.js';

/** Bytes [start, end) as a string, one character per byte: a map key for addresses and ports. */
function bytesKey(frame: Uint8Array, start: number, end: number): string {
  let key = '';
  for (let i = start; i < end; i++) key += String.fromCharCode(frame[i]!);
  return key;
}

/** One connection's send side as seen on the wire: its ISS and the highest stream offset sent. */
interface WireFlow {
  iss: number;
  highest: number;
}

/**
 * What one end host's TCP put on the wire: payload bytes, new bytes (above
 * the highest offset sent before in that connection) and segments carrying
 * new bytes. A connection is known by its 4-tuple and the ISS of its SYN.
 */
export class TcpWireLedger {
  segments = 0;
  payloadBytes = 0;
  newBytes = 0;
  newSegments = 0;
  /** Data segments that exceed the path MTU only because of their SACK option (see KNOWN_ISSUES.oversize). */
  sackOversize = 0;
  sackOversizeExample = '';
  readonly anomalies: string[] = [];
  private readonly flows = new Map<string, WireFlow>();
  /** The smallest MTU between the two end hosts. */
  private readonly pathMtu: number;

  constructor(pathMtu: number) {
    this.pathMtu = pathMtu;
  }

  /** Reads the TCP header of a frame the stack emits (well formed: it is ours, before any impairment). */
  observe(kind: LinkKind, frame: Uint8Array): void {
    let off = 0;
    if (kind === 'ethernet') {
      if (frame.length < 14) return;
      const ethertype = (frame[12]! << 8) | frame[13]!;
      if (ethertype !== 0x0800 && ethertype !== 0x86dd) return;
      off = 14;
    }
    if (frame.length < off + 20) return;
    const version = frame[off]! >> 4;
    let tcp: number;
    let tcpLength: number;
    let key: string;
    if (version === 4) {
      const ihl = (frame[off]! & 0x0f) * 4;
      if (frame[off + 9] !== 6) return;
      // TCP is never fragmented (DF, MSS follows the path MTU); ignore anything else.
      if (((frame[off + 6]! & 0x3f) | frame[off + 7]!) !== 0) return;
      const total = (frame[off + 2]! << 8) | frame[off + 3]!;
      tcp = off + ihl;
      tcpLength = total - ihl;
      key = bytesKey(frame, off + 12, off + 20);
    } else if (version === 6) {
      if (frame.length < off + 40 || frame[off + 6] !== 6) return;
      tcp = off + 40;
      tcpLength = (frame[off + 4]! << 8) | frame[off + 5]!;
      key = bytesKey(frame, off + 8, off + 40);
    } else {
      return;
    }
    if (frame.length < tcp + 20) return;
    key += bytesKey(frame, tcp, tcp + 4);
    const seqNumber =
      ((frame[tcp + 4]! << 24) |
        (frame[tcp + 5]! << 16) |
        (frame[tcp + 6]! << 8) |
        frame[tcp + 7]!) >>>
      0;
    const dataOffset = (frame[tcp + 12]! >> 4) * 4;
    const flags = frame[tcp + 13]!;
    const payload = tcpLength - dataOffset;
    this.segments++;
    if (payload > 0) this.checkSackSize(frame, tcp, dataOffset, tcpLength + (tcp - off), payload);
    if ((flags & 0x04) !== 0) return; // RST: carries no data of ours
    if ((flags & 0x02) !== 0) {
      // A SYN after data on this 4-tuple opens a new connection even with the
      // same ISS (on a zero-delay link one can live and die within one tick
      // of the 4 µs ISN clock); before any data it may be a retransmission.
      const flow = this.flows.get(key);
      if (flow === undefined || flow.iss !== seqNumber || flow.highest > 0)
        this.flows.set(key, { iss: seqNumber, highest: 0 });
    }
    if (payload <= 0) return;
    const flow = this.flows.get(key);
    if (flow === undefined) {
      if (this.anomalies.length < 5)
        this.anomalies.push('a data segment of a connection whose SYN was never sent');
      return;
    }
    const start = seqDiff(seqNumber as SeqNum, ((flow.iss + 1) >>> 0) as SeqNum);
    const end = start + payload;
    this.payloadBytes += payload;
    if (end <= flow.highest) return;
    if (start !== flow.highest && this.anomalies.length < 5) {
      this.anomalies.push(
        `a segment at stream offset ${start}..${end} while the highest sent was ${flow.highest}` +
          ' (new data must start where the last new data ended)',
      );
    }
    this.newBytes += end - flow.highest;
    this.newSegments++;
    flow.highest = end;
  }

  /**
   * Flags a data segment that is too big for the path only by its SACK
   * option: the sender sized the payload to the MSS and forgot the option.
   */
  private checkSackSize(
    frame: Uint8Array,
    tcp: number,
    dataOffset: number,
    ipLength: number,
    payload: number,
  ): void {
    if (ipLength <= this.pathMtu) return;
    let sack = 0;
    for (let i = tcp + 20; i < tcp + dataOffset;) {
      const kind = frame[i]!;
      if (kind === 0) break;
      if (kind === 1) {
        i++;
        continue;
      }
      const length = frame[i + 1] ?? 0;
      if (length < 2) break;
      if (kind === 5) sack = length + 2; // the option and its two NOPs of alignment
      i += length;
    }
    if (sack === 0 || ipLength - sack > this.pathMtu) return;
    this.sackOversize++;
    if (this.sackOversizeExample === '')
      this.sackOversizeExample = `a ${ipLength}-byte packet (${payload} bytes of data, ${sack} of SACK) on a path of MTU ${this.pathMtu}`;
  }
}
