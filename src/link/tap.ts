/**
 * A capture tap: wraps an endpoint and records every frame that passes
 * through it, both ways, into a pcap file (./pcap.ts), stamped with the
 * `now` at which it passed. Like tcpdump on an interface, it sees outgoing
 * frames the link accepted (a frame `send()` refuses never left) and
 * incoming frames as the stack receives them. Under an impairment wrapper
 * (`impair(pcapTap(a), ...)`) it records the wire after the impairment;
 * over one (`pcapTap(impair(a, ...))`) it records what the stack sent,
 * including frames the impairment then loses.
 */
import type { Instant } from '../base/index.js';
import { LinkKind, checkWrappable } from './link.js';
import type { LinkEndpoint, LinkStats } from './link.js';
import { LinkType, PcapWriter } from './pcap.js';

/** Options for the writer {@link pcapTap} makes when it is not given one. */
export interface PcapTapOptions {
  /** Bytes kept of each frame; as PcapWriterOptions.snaplen. */
  snaplen?: number;
  /** Microseconds since 1970 added to every instant; as PcapWriterOptions.epochMicros. Default 0. */
  epochMicros?: number;
  /** Receives the file in chunks instead of collecting it; as PcapWriterOptions.sink. */
  sink?: (chunk: Uint8Array) => void;
}

/** The pcap link type for a link kind: Ethernet, or LINKTYPE_RAW for bare IPv4 and IPv6 packets. */
export function pcapLinkType(kind: LinkKind): LinkType {
  return kind === LinkKind.Ethernet ? LinkType.Ethernet : LinkType.Raw;
}

/** A {@link LinkEndpoint} that records what passes through the endpoint it wraps; make it with {@link pcapTap}. */
export class PcapTap implements LinkEndpoint {
  readonly kind: LinkKind;
  /** The endpoint underneath. */
  readonly inner: LinkEndpoint;
  /** Where the records go. */
  readonly writer: PcapWriter;

  constructor(inner: LinkEndpoint, writer: PcapWriter) {
    // A capture of checksum-less frames would show every segment as corrupt.
    checkWrappable('pcapTap', inner);
    const expected = pcapLinkType(inner.kind);
    if (writer.linkType !== expected) {
      throw new RangeError(
        `pcapTap: a ${inner.kind} link needs a PcapWriter with linkType ${expected}` +
          ` (pcapLinkType(kind) gives it), got ${writer.linkType}`,
      );
    }
    this.kind = inner.kind;
    this.inner = inner;
    this.writer = writer;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  send(now: Instant, frame: Uint8Array): boolean {
    const accepted = this.inner.send(now, frame);
    // The writer copies the frame into its record.
    if (accepted) this.writer.write(now, frame);
    return accepted;
  }

  receive(now: Instant): Uint8Array | null {
    const frame = this.inner.receive(now);
    if (frame !== null) this.writer.write(now, frame);
    return frame;
  }

  pollTimeout(): Instant {
    return this.inner.pollTimeout();
  }

  /** The wrapped endpoint's stats: a tap neither adds nor drops frames. */
  stats(): LinkStats {
    return this.inner.stats();
  }

  /** Records written so far. */
  get count(): number {
    return this.writer.count;
  }

  /**
   * The whole capture so far as one pcap file (a new array). Only when the
   * tap collects its records (no `sink`).
   */
  bytes(): Uint8Array {
    return this.writer.bytes();
  }
}

/**
 * Records everything `endpoint` sends and receives. Give a {@link PcapWriter}
 * of the right link type ({@link pcapLinkType}), or options for one that the
 * tap makes; `tap.bytes()` then returns the capture as one pcap file.
 *
 * @example
 * const [a, b] = memoryPair({ kind: 'ethernet' });
 * const tapped = pcapTap(a);
 * // ... run traffic through `tapped` ...
 * writeFileSync('run.pcap', tapped.bytes()); // in a host-side caller
 */
export function pcapTap(endpoint: LinkEndpoint, writer?: PcapWriter | PcapTapOptions): PcapTap {
  if (writer instanceof PcapWriter) return new PcapTap(endpoint, writer);
  const options: PcapTapOptions = writer ?? {};
  const made = new PcapWriter({
    linkType: pcapLinkType(endpoint.kind),
    snaplen: options.snaplen,
    epochMicros: options.epochMicros,
    sink: options.sink,
  });
  return new PcapTap(endpoint, made);
}
