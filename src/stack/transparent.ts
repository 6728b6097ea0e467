/**
 * Transparent termination, for a user-mode NAT gateway (slirp4netns, passt):
 * the stack takes TCP connections and UDP datagrams for any destination, not
 * only its own addresses, and answers them from that destination, since the
 * guest's kernel matches replies by the whole 4-tuple.
 *
 * A SYN nobody listens for is not answered at once: it is held as a
 * {@link SynRequest} and reported (a 'syn' event) so that the gateway can
 * first open the matching host connection, then accept (the SYN-ACK goes out)
 * or refuse (a RST: the guest sees ECONNREFUSED). That is what slirp4netns
 * and passt do too: the guest's handshake completes only when the host's
 * did. Datagrams nobody is bound to go to one catch-all queue, each with the
 * destination it was sent to.
 */
import type { TcpRepr } from '../wire/index.js';
import type { IpAddr } from './address.js';
import type { NetInterface } from './routes.js';

/** A held SYN to some destination, waiting for the application's answer (Stack.answerSyn). */
export interface SynRequest {
  /** The guest's address and port: the remote end of the connection-to-be. */
  readonly remoteAddress: IpAddr;
  readonly remotePort: number;
  /** The destination the guest asked for: the local end, whatever address it is. */
  readonly localAddress: IpAddr;
  readonly localPort: number;
}

/** A held SYN with what accepting it needs. */
export interface HeldSyn extends SynRequest {
  readonly iface: NetInterface;
  readonly segment: TcpRepr;
}

/** What became of a SYN offered to the held table. */
export type SynOffer = 'held' | 'duplicate' | 'full';

/** SYNs held for the application, by 4-tuple, at most `limit` at once. */
export class HeldSyns {
  private readonly byTuple = new Map<string, HeldSyn>();
  private readonly limit: number;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`held SYN limit must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  get size(): number {
    return this.byTuple.size;
  }

  /**
   * Holds a SYN (its payload copied out of the borrowed packet). A
   * retransmitted SYN of a held tuple is a duplicate: the answer is still
   * being prepared, as in SYN-RECEIVED.
   */
  offer(iface: NetInterface, src: IpAddr, dst: IpAddr, segment: TcpRepr): SynOffer {
    const key = heldKey(src, segment.srcPort, dst, segment.dstPort);
    if (this.byTuple.has(key)) return 'duplicate';
    if (this.byTuple.size >= this.limit) return 'full';
    const held: HeldSyn = {
      remoteAddress: src,
      remotePort: segment.srcPort,
      localAddress: dst,
      localPort: segment.dstPort,
      iface,
      segment: { ...segment, payload: segment.payload.slice() },
    };
    this.byTuple.set(key, held);
    return 'held';
  }

  /** Takes a request out of the table; null if it was answered already. */
  take(request: SynRequest): HeldSyn | null {
    const key = heldKey(
      request.remoteAddress,
      request.remotePort,
      request.localAddress,
      request.localPort,
    );
    const held = this.byTuple.get(key);
    if (held === undefined) return null;
    this.byTuple.delete(key);
    return held;
  }
}

function heldKey(remote: IpAddr, remotePort: number, local: IpAddr, localPort: number): string {
  return `${remote.text}|${remotePort}|${local.text}|${localPort}`;
}

/** A datagram taken by the catch-all, with the destination the sender gave it. */
export interface InterceptedDatagram {
  readonly data: Uint8Array;
  readonly sourceAddress: IpAddr;
  readonly sourcePort: number;
  readonly destinationAddress: IpAddr;
  readonly destinationPort: number;
}

/**
 * Decides, for a datagram no socket is bound to, whether the catch-all takes
 * it (true) or the stack answers ICMP port unreachable as usual (false).
 */
export type InterceptFilter = (
  sourceAddress: IpAddr,
  sourcePort: number,
  destinationAddress: IpAddr,
  destinationPort: number,
) => boolean;

/** What became of a datagram offered to the catch-all. */
export type DatagramOffer = 'queued' | 'refused' | 'full';

/** The catch-all UDP queue: bounded in bytes, as a socket's receive buffer. */
export class InterceptedDatagrams {
  private readonly queue: InterceptedDatagram[] = [];
  private head = 0;
  private queuedBytes = 0;
  private readonly maxQueuedBytes: number;
  private readonly filter: InterceptFilter;

  constructor(filter: InterceptFilter, maxQueuedBytes: number) {
    this.filter = filter;
    this.maxQueuedBytes = maxQueuedBytes;
  }

  offer(
    src: IpAddr,
    srcPort: number,
    dst: IpAddr,
    dstPort: number,
    payload: Uint8Array,
  ): DatagramOffer {
    if (!this.filter(src, srcPort, dst, dstPort)) return 'refused';
    if (this.queuedBytes + payload.length > this.maxQueuedBytes) return 'full';
    this.queue.push({
      data: payload.slice(),
      sourceAddress: src,
      sourcePort: srcPort,
      destinationAddress: dst,
      destinationPort: dstPort,
    });
    this.queuedBytes += payload.length;
    return 'queued';
  }

  /** The oldest datagram, or null. */
  next(): InterceptedDatagram | null {
    if (this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      return null;
    }
    const d = this.queue[this.head++]!;
    this.queuedBytes -= d.data.length;
    return d;
  }
}
