/**
 * The classic libpcap file format (pcapng is ./pcapng.ts), sans-IO: the writer hands out
 * bytes and the reader takes bytes; opening and writing files is the caller's
 * business. The format is the one described in the IETF draft
 * "PCAP Capture File Format" (draft-ietf-opsawg-pcap): a 24-byte file header
 * followed by records, each a 16-byte record header and the captured bytes.
 * Link-type numbers are the LINKTYPE_ registry of the same draft / tcpdump.org.
 */
import type { Instant } from '../base/index.js';

/** Link types (LINKTYPE_* numbers) this module reads; the writer emits any of them. */
export const LinkType = {
  /** LINKTYPE_ETHERNET: IEEE 802.3 frames without the FCS. */
  Ethernet: 1,
  /** LINKTYPE_RAW: bare IPv4 or IPv6 packets; the version nibble says which. */
  Raw: 101,
  /** LINKTYPE_LINUX_SLL: Linux "cooked" v1 header, as `tcpdump -i any -y LINUX_SLL` writes. */
  LinuxSll: 113,
  /** LINKTYPE_IPV4: bare IPv4 packets. */
  Ipv4: 228,
  /** LINKTYPE_IPV6: bare IPv6 packets. */
  Ipv6: 229,
  /** LINKTYPE_LINUX_SLL2: Linux "cooked" v2 header, what `tcpdump -i any` writes since 4.99. */
  LinuxSll2: 276,
} as const;

/** One of the link types in {@link LinkType}. */
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

/** Why a capture file (or its tail) could not be read. Reading never throws. */
export const PcapError = {
  /** Fewer than 24 bytes: not even a file header. */
  TruncatedHeader: 'pcap-truncated-header',
  /** The first four bytes are neither a pcap magic number nor a pcapng section header. */
  BadMagic: 'pcap-bad-magic',
  /** A major version other than 2 (pcap) or 1 (a pcapng section). */
  BadVersion: 'pcap-bad-version',
  /** A link type outside {@link LinkType}. */
  UnsupportedLinkType: 'pcap-unsupported-link-type',
  /** The file ends inside a record header or before the captured bytes it announces. */
  TruncatedRecord: 'pcap-truncated-record',
  /** A record claims more captured bytes than any sane capture holds. */
  BadRecordLength: 'pcap-bad-record-length',
  /** pcapng: the file ends inside a block. */
  TruncatedBlock: 'pcapng-truncated-block',
  /** pcapng: a block length that is too short, not a multiple of 4, or differs from the trailing copy. */
  BadBlockLength: 'pcapng-bad-block-length',
  /** pcapng: a section header whose byte-order magic is neither order of 0x1A2B3C4D. */
  BadByteOrder: 'pcapng-bad-byte-order',
  /** pcapng: a packet block names an interface no Interface Description Block declared. */
  UnknownInterface: 'pcapng-unknown-interface',
} as const;

/** A value of {@link PcapError}. */
export type PcapError = (typeof PcapError)[keyof typeof PcapError];

/** The snapshot length tcpdump uses by default, and the one we write. */
export const DEFAULT_SNAPLEN = 262144;

const FILE_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;
const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const MAGIC_MICROS_SWAPPED = 0xd4c3b2a1;
const MAGIC_NANOS_SWAPPED = 0x4d3cb2a1;
// File header offsets (draft-ietf-opsawg-pcap §4).
const OFF_MAGIC = 0;
const OFF_VERSION_MAJOR = 4;
const OFF_VERSION_MINOR = 6;
const OFF_SNAPLEN = 16;
const OFF_LINKTYPE = 20;
// Record header offsets (§5).
const REC_SECONDS = 0;
const REC_FRACTION = 4;
const REC_CAPLEN = 8;
const REC_ORIGLEN = 12;
/**
 * libpcap refuses records larger than this whatever the header's snaplen says
 * (its MAXIMUM_SNAPLEN); a bigger caplen means a corrupt file, not a big packet.
 */
const MAX_RECORD_LENGTH = 262144;

/** True for the link types this module reads (the values of {@link LinkType}). */
export function isLinkType(value: number): value is LinkType {
  return (
    value === LinkType.Ethernet ||
    value === LinkType.Raw ||
    value === LinkType.LinuxSll ||
    value === LinkType.Ipv4 ||
    value === LinkType.Ipv6 ||
    value === LinkType.LinuxSll2
  );
}

function readU32(bytes: Uint8Array, offset: number, littleEndian: boolean): number {
  const a = bytes[offset]!;
  const b = bytes[offset + 1]!;
  const c = bytes[offset + 2]!;
  const d = bytes[offset + 3]!;
  return littleEndian
    ? ((d << 24) | (c << 16) | (b << 8) | a) >>> 0
    : ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function readU16(bytes: Uint8Array, offset: number, littleEndian: boolean): number {
  const a = bytes[offset]!;
  const b = bytes[offset + 1]!;
  return littleEndian ? (b << 8) | a : (a << 8) | b;
}

function writeU32Le(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

// ---------------------------------------------------------------- writing

/** Options of {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** The link type of every record: Ethernet frames or bare IP packets (LINKTYPE_RAW). */
  linkType: LinkType;
  /** Bytes kept of each packet; longer packets are cut (their original length is kept). */
  snaplen?: number;
  /**
   * Receives the file header (at construction) and then one chunk per record.
   * The writer never reuses a chunk, so the sink may keep it. Without a sink
   * the chunks are collected and {@link PcapWriter.bytes} joins them.
   */
  sink?: (chunk: Uint8Array) => void;
  /**
   * Added to every `Instant` before it is written, in microseconds since
   * 1970-01-01 UTC. The core's instants count from an arbitrary epoch (a
   * simulation starts at 0); this puts them on the calendar. Default 0.
   */
  epochMicros?: number;
}

/**
 * Writes a classic pcap capture: little-endian, microsecond timestamps,
 * version 2.4, as tcpdump writes on x86. Give it packets with their
 * `Instant`; it produces bytes.
 */
export class PcapWriter {
  /** The link type written in the file header. */
  readonly linkType: LinkType;
  /** The snapshot length written in the file header. */
  readonly snaplen: number;
  /** Number of records written so far. */
  count: number;
  private readonly sink: ((chunk: Uint8Array) => void) | null;
  private readonly chunks: Uint8Array[];
  private readonly epochMicros: number;

  constructor(options: PcapWriterOptions) {
    const snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) {
      throw new RangeError(`PcapWriter: snaplen must be a positive integer, got ${snaplen}`);
    }
    if (!isLinkType(options.linkType)) {
      throw new RangeError(
        `PcapWriter: linkType ${String(options.linkType)} is not one of LinkType's values`,
      );
    }
    this.linkType = options.linkType;
    this.snaplen = snaplen;
    this.count = 0;
    this.sink = options.sink ?? null;
    this.chunks = [];
    this.epochMicros = options.epochMicros ?? 0;
    this.emit(pcapFileHeader(this.linkType, snaplen));
  }

  /**
   * Appends one record. `packet` is copied (the caller may reuse its buffer);
   * bytes past the snaplen are left out and `originalLength` (default: the
   * packet's length) records how long the packet really was.
   */
  write(time: Instant, packet: Uint8Array, originalLength: number = packet.length): void {
    const micros = time + this.epochMicros;
    if (!Number.isSafeInteger(micros) || micros < 0 || micros >= 0x1_0000_0000 * 1_000_000) {
      throw new RangeError(
        `PcapWriter.write: time ${micros} µs is not a whole number of microseconds in the ` +
          'pcap range (1970 to 2106); pass epochMicros to move core instants onto the calendar',
      );
    }
    const seconds = Math.floor(micros / 1_000_000);
    const fraction = micros - seconds * 1_000_000;
    const caplen = packet.length < this.snaplen ? packet.length : this.snaplen;
    const chunk = new Uint8Array(RECORD_HEADER_LENGTH + caplen);
    writeU32Le(chunk, REC_SECONDS, seconds);
    writeU32Le(chunk, REC_FRACTION, fraction);
    writeU32Le(chunk, REC_CAPLEN, caplen);
    writeU32Le(chunk, REC_ORIGLEN, originalLength > caplen ? originalLength : caplen);
    chunk.set(packet.subarray(0, caplen), RECORD_HEADER_LENGTH);
    this.count++;
    this.emit(chunk);
  }

  /**
   * The whole capture so far as one new array (a copy). Only for a writer
   * built without a sink: with a sink the bytes have already gone there.
   */
  bytes(): Uint8Array {
    if (this.sink !== null) {
      throw new Error('PcapWriter.bytes: this writer sends its chunks to a sink; read them there');
    }
    let total = 0;
    for (const chunk of this.chunks) total += chunk.length;
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  private emit(chunk: Uint8Array): void {
    if (this.sink !== null) this.sink(chunk);
    else this.chunks.push(chunk);
  }
}

/** The 24-byte file header the writer emits (little-endian, microseconds, v2.4). */
export function pcapFileHeader(linkType: LinkType, snaplen: number = DEFAULT_SNAPLEN): Uint8Array {
  const header = new Uint8Array(FILE_HEADER_LENGTH);
  writeU32Le(header, OFF_MAGIC, MAGIC_MICROS);
  header[OFF_VERSION_MAJOR] = 2;
  header[OFF_VERSION_MINOR] = 4;
  // Bytes 8..15 (thiszone, sigfigs) stay zero, as every writer since libpcap 1.0 leaves them.
  writeU32Le(header, OFF_SNAPLEN, snaplen);
  writeU32Le(header, OFF_LINKTYPE, linkType);
  return header;
}

// ---------------------------------------------------------------- reading

/** What the file header says. */
export interface PcapHeader {
  /** True when the file was written little-endian (the magic reads swapped on a big-endian view). */
  littleEndian: boolean;
  /** True for the nanosecond-resolution magic 0xa1b23c4d. */
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: LinkType;
}

/** One captured packet. */
export interface PcapRecord {
  /**
   * Capture time in microseconds since 1970-01-01 UTC. Nanosecond files are
   * truncated to microseconds, as libpcap does when tcpdump reads them.
   */
  time: Instant;
  linkType: LinkType;
  /** The captured bytes: a view (subarray) into the input, not a copy. */
  data: Uint8Array;
  /** The packet's length on the wire; more than `data.length` when the capture cut it. */
  originalLength: number;
}

/**
 * Reads records one at a time from a capture held in memory. Open with
 * {@link PcapReader.open}; call {@link PcapReader.next} until it returns
 * null, then look at {@link PcapReader.error} to tell a clean end from a
 * damaged tail.
 */
export class PcapReader {
  /** The parsed file header. */
  readonly header: PcapHeader;
  /** Why reading stopped early, or null while records keep coming or after a clean end. */
  error: PcapError | null;
  private readonly bytes: Uint8Array;
  private offset: number;
  private readonly fractionDivisor: number;

  private constructor(bytes: Uint8Array, header: PcapHeader) {
    this.bytes = bytes;
    this.header = header;
    this.error = null;
    this.offset = FILE_HEADER_LENGTH;
    this.fractionDivisor = header.nanosecond ? 1000 : 1;
  }

  /** Parses the file header; returns a {@link PcapError} when there is no usable one. */
  static open(bytes: Uint8Array): PcapReader | PcapError {
    if (bytes.length < FILE_HEADER_LENGTH) return PcapError.TruncatedHeader;
    const magic = readU32(bytes, OFF_MAGIC, false);
    let littleEndian: boolean;
    let nanosecond: boolean;
    if (magic === MAGIC_MICROS || magic === MAGIC_NANOS) {
      littleEndian = false;
      nanosecond = magic === MAGIC_NANOS;
    } else if (magic === MAGIC_MICROS_SWAPPED || magic === MAGIC_NANOS_SWAPPED) {
      littleEndian = true;
      nanosecond = magic === MAGIC_NANOS_SWAPPED;
    } else {
      return PcapError.BadMagic;
    }
    const versionMajor = readU16(bytes, OFF_VERSION_MAJOR, littleEndian);
    const versionMinor = readU16(bytes, OFF_VERSION_MINOR, littleEndian);
    if (versionMajor !== 2) return PcapError.BadVersion;
    const snaplen = readU32(bytes, OFF_SNAPLEN, littleEndian);
    // The draft (§4) puts FCS length and flags in the upper bits of this
    // field; the link type proper is the low 16 bits.
    const linkType = readU32(bytes, OFF_LINKTYPE, littleEndian) & 0xffff;
    if (!isLinkType(linkType)) return PcapError.UnsupportedLinkType;
    return new PcapReader(bytes, {
      littleEndian,
      nanosecond,
      versionMajor,
      versionMinor,
      snaplen,
      linkType,
    });
  }

  /** The next record, or null at the end of the input or at the first damaged record. */
  next(): PcapRecord | null {
    const bytes = this.bytes;
    const offset = this.offset;
    if (this.error !== null || offset === bytes.length) return null;
    if (bytes.length - offset < RECORD_HEADER_LENGTH) return this.fail(PcapError.TruncatedRecord);
    const le = this.header.littleEndian;
    const seconds = readU32(bytes, offset + REC_SECONDS, le);
    const fraction = readU32(bytes, offset + REC_FRACTION, le);
    const caplen = readU32(bytes, offset + REC_CAPLEN, le);
    const origlen = readU32(bytes, offset + REC_ORIGLEN, le);
    const limit = this.header.snaplen > MAX_RECORD_LENGTH ? this.header.snaplen : MAX_RECORD_LENGTH;
    if (caplen > limit) return this.fail(PcapError.BadRecordLength);
    const start = offset + RECORD_HEADER_LENGTH;
    if (bytes.length - start < caplen) return this.fail(PcapError.TruncatedRecord);
    this.offset = start + caplen;
    return {
      time: (seconds * 1_000_000 + Math.floor(fraction / this.fractionDivisor)) as Instant,
      linkType: this.header.linkType,
      data: bytes.subarray(start, start + caplen),
      originalLength: origlen,
    };
  }

  private fail(error: PcapError): null {
    this.error = error;
    return null;
  }
}

/** A whole capture: the header, every readable record, and why reading stopped early (if it did). */
export interface PcapFile {
  header: PcapHeader;
  records: PcapRecord[];
  /**
   * Null when the file ended cleanly after the last record; otherwise what was
   * wrong with the record that could not be read (the ones before it are in `records`).
   */
  error: PcapError | null;
}

/**
 * Reads a whole classic pcap capture ({@link readPcap} takes pcapng too).
 * Returns a {@link PcapError} when the file header is unusable; a damaged
 * tail keeps the records before it and sets `error`.
 */
export function readClassicPcap(bytes: Uint8Array): PcapFile | PcapError {
  const reader = PcapReader.open(bytes);
  if (typeof reader === 'string') return reader;
  const records: PcapRecord[] = [];
  for (let record = reader.next(); record !== null; record = reader.next()) records.push(record);
  return { header: reader.header, records, error: reader.error };
}

// ---------------------------------------------------------------- link headers

/** Linux cooked-capture packet types (the `sll_pkttype` of packet(7)). */
export const SllPacketType = {
  Host: 0,
  Broadcast: 1,
  Multicast: 2,
  OtherHost: 3,
  Outgoing: 4,
} as const;

/** A Linux cooked-capture header (v1 or v2), with what follows it. */
export interface SllHeader {
  /** One of {@link SllPacketType}: to us, broadcast, multicast, to another host, sent by us. */
  packetType: number;
  /** ARPHRD_* type of the interface (1 Ethernet, 772 loopback, 65534 none/tun). */
  hardwareType: number;
  /** The link-layer source address (its first `min(halen, 8)` bytes): a view. */
  address: Uint8Array;
  /** EtherType of the payload (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP). */
  protocol: number;
  /** Interface index (v2 only; -1 for v1). */
  interfaceIndex: number;
  /** The packet after the cooked header: a view. */
  payload: Uint8Array;
}

const SLL_HEADER_LENGTH = 16;
const SLL2_HEADER_LENGTH = 20;

/**
 * Parses a LINKTYPE_LINUX_SLL header (tcpdump.org's linktypes/LINKTYPE_LINUX_SLL):
 * packet type, ARPHRD type, address length, 8 address bytes, protocol.
 * Returns null when the record is shorter than the header.
 */
export function parseSll(data: Uint8Array): SllHeader | null {
  if (data.length < SLL_HEADER_LENGTH) return null;
  const addressLength = readU16(data, 4, false);
  return {
    packetType: readU16(data, 0, false),
    hardwareType: readU16(data, 2, false),
    address: data.subarray(6, 6 + (addressLength < 8 ? addressLength : 8)),
    protocol: readU16(data, 14, false),
    interfaceIndex: -1,
    payload: data.subarray(SLL_HEADER_LENGTH),
  };
}

/**
 * Parses a LINKTYPE_LINUX_SLL2 header: protocol, reserved, interface index,
 * ARPHRD type, packet type, address length, 8 address bytes. Null when short.
 */
export function parseSll2(data: Uint8Array): SllHeader | null {
  if (data.length < SLL2_HEADER_LENGTH) return null;
  const addressLength = data[11]!;
  return {
    packetType: data[10]!,
    hardwareType: readU16(data, 8, false),
    address: data.subarray(12, 12 + (addressLength < 8 ? addressLength : 8)),
    protocol: readU16(data, 0, false),
    interfaceIndex: readU32(data, 4, false),
    payload: data.subarray(SLL2_HEADER_LENGTH),
  };
}

/**
 * The EtherType of a bare IP packet from its version nibble (LINKTYPE_RAW
 * carries both families): 0x0800 for 4, 0x86dd for 6, -1 for anything else.
 */
export function rawIpEtherType(packet: Uint8Array): number {
  if (packet.length === 0) return -1;
  const version = packet[0]! >>> 4;
  if (version === 4) return 0x0800;
  if (version === 6) return 0x86dd;
  return -1;
}
