/**
 * The pcapng capture format (draft-ietf-opsawg-pcapng), read-only and
 * sans-IO: bytes in, records out, the same {@link PcapRecord}s the classic
 * reader gives. A file is a sequence of blocks, each `type, total length,
 * body, total length again`. A Section Header Block starts a section and
 * sets its byte order; Interface Description Blocks give each interface its
 * link type and timestamp resolution; Enhanced (and Simple, and the obsolete
 * plain) Packet Blocks carry the packets. Every other block (name
 * resolution, statistics, decryption secrets, custom) is skipped, as
 * readers must skip blocks they do not know (§3.1).
 */
import type { Instant } from '../base/index.js';
import {
  isLinkType,
  PcapError,
  type LinkType,
  type PcapFile,
  type PcapHeader,
  type PcapRecord,
} from './pcap.js';

// Block types (§4 and §11.1 of the draft).
const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
const BLOCK_INTERFACE_DESCRIPTION = 0x00000001;
const BLOCK_PACKET_OBSOLETE = 0x00000002;
const BLOCK_SIMPLE_PACKET = 0x00000003;
const BLOCK_ENHANCED_PACKET = 0x00000006;
/** The Section Header's byte-order magic, as written by the writer's own byte order (§4.1). */
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
/** Type, total length, and the trailing total length: the smallest block is 12 bytes. */
const BLOCK_OVERHEAD = 12;
const SECTION_HEADER_MIN = 28;
// Interface Description Block options (§4.2).
const OPT_END = 0;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
/** No interface option says otherwise: microseconds (§4.2, if_tsresol default 6). */
const DEFAULT_UNITS_PER_SECOND = 1_000_000;
/**
 * Records larger than this are damage, not packets: libpcap's limit for
 * pcapng blocks is 16 MiB, which also keeps a corrupt length from making
 * the reader walk megabytes of nonsense as one packet.
 */
const MAX_BLOCK_LENGTH = 16 * 1024 * 1024;

/** The first four bytes of every pcapng file: a Section Header Block's type. */
export function isPcapng(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x0a &&
    bytes[1] === 0x0d &&
    bytes[2] === 0x0d &&
    bytes[3] === 0x0a
  );
}

interface Interface {
  linkType: LinkType;
  snaplen: number;
  /** Timestamp units per second: 10^n or 2^n as if_tsresol says. */
  unitsPerSecond: number;
  /** if_tsoffset: seconds added to every timestamp of the interface. */
  offsetSeconds: number;
}

function u32(bytes: Uint8Array, offset: number, le: boolean): number {
  const a = bytes[offset]!;
  const b = bytes[offset + 1]!;
  const c = bytes[offset + 2]!;
  const d = bytes[offset + 3]!;
  return le
    ? ((d << 24) | (c << 16) | (b << 8) | a) >>> 0
    : ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function u16(bytes: Uint8Array, offset: number, le: boolean): number {
  const a = bytes[offset]!;
  const b = bytes[offset + 1]!;
  return le ? (b << 8) | a : (a << 8) | b;
}

/** A signed 64-bit value as a number (exact up to 2^53, which any sane offset is). */
function i64(bytes: Uint8Array, offset: number, le: boolean): number {
  const high = le ? u32(bytes, offset + 4, le) : u32(bytes, offset, le);
  const low = le ? u32(bytes, offset, le) : u32(bytes, offset + 4, le);
  const signedHigh = high | 0;
  return signedHigh * 0x1_0000_0000 + low;
}

/**
 * if_tsresol (§4.2): the low 7 bits are an exponent, of 10 when the top bit
 * is clear, of 2 when it is set. Null for a resolution no timestamp can
 * have (finer than 10^-15 s or 2^-52 s would overflow a number).
 */
function unitsPerSecond(tsresol: number): number | null {
  const exponent = tsresol & 0x7f;
  if ((tsresol & 0x80) === 0) return exponent <= 15 ? 10 ** exponent : null;
  return exponent <= 52 ? 2 ** exponent : null;
}

/**
 * Microseconds since 1970 of a 64-bit timestamp counted in `units` per
 * second. Fractions finer than a microsecond are cut, as libpcap does when
 * tcpdump reads a nanosecond file at its default precision. Numbers are
 * exact below 2^53; a nanosecond count of today is above that, so the
 * division goes through BigInt then (once per record, on a file reader).
 */
function toMicros(high: number, low: number, iface: Interface): Instant {
  const units = iface.unitsPerSecond;
  let seconds: number;
  let micros: number;
  if (high < 0x200000) {
    const t = high * 0x1_0000_0000 + low;
    seconds = Math.floor(t / units);
    micros = Math.floor(((t - seconds * units) * 1_000_000) / units);
  } else {
    const t = (BigInt(high) << 32n) | BigInt(low);
    const perSecond = BigInt(units);
    seconds = Number(t / perSecond);
    micros = Number(((t % perSecond) * 1_000_000n) / perSecond);
  }
  return ((seconds + iface.offsetSeconds) * 1_000_000 + micros) as Instant;
}

/**
 * Reads the options of an Interface Description Block (from `start` to
 * `end`) into `iface`. Returns false when an option runs past the block.
 */
function readInterfaceOptions(
  bytes: Uint8Array,
  start: number,
  end: number,
  le: boolean,
  iface: Interface,
): boolean {
  let at = start;
  while (end - at >= 4) {
    const code = u16(bytes, at, le);
    const length = u16(bytes, at + 2, le);
    if (code === OPT_END) return true;
    const value = at + 4;
    if (value + length > end) return false;
    if (code === IF_TSRESOL && length >= 1) {
      const units = unitsPerSecond(bytes[value]!);
      if (units === null) return false;
      iface.unitsPerSecond = units;
    } else if (code === IF_TSOFFSET && length >= 8) {
      iface.offsetSeconds = i64(bytes, value, le);
    }
    // Option values are padded to 32 bits (§3.5).
    at = value + ((length + 3) & ~3);
  }
  return true;
}

/**
 * Reads a whole pcapng capture held in memory (check {@link isPcapng}
 * first). Packets keep their interface's link type, so one file may mix
 * Ethernet, raw IP and Linux cooked records. The header describes the first
 * interface (with none at all, there are no records and its link type says
 * nothing). A block that cannot be read ends the reading: the records
 * before it are kept and `error` says why.
 */
export function readPcapng(bytes: Uint8Array): PcapFile | PcapError {
  const records: PcapRecord[] = [];
  let interfaces: Interface[] = [];
  let header: PcapHeader | null = null;
  let le = true;
  let offset = 0;
  let sections = 0;
  const done = (error: PcapError | null): PcapFile | PcapError => {
    if (sections === 0) return error ?? PcapError.TruncatedHeader;
    const first: PcapHeader = header ?? {
      littleEndian: le,
      nanosecond: false,
      versionMajor: 1,
      versionMinor: 0,
      snaplen: 0,
      linkType: 1,
    };
    return { header: first, records, error };
  };
  while (offset < bytes.length) {
    if (bytes.length - offset < BLOCK_OVERHEAD) return done(PcapError.TruncatedBlock);
    const type = u32(bytes, offset, le);
    if (type === BLOCK_SECTION_HEADER) {
      // A new section may change the byte order: its magic says which (§4.1).
      if (bytes.length - offset < SECTION_HEADER_MIN) return done(PcapError.TruncatedBlock);
      const magic = u32(bytes, offset + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (magic === BYTE_ORDER_MAGIC_SWAPPED) le = false;
      else return done(PcapError.BadByteOrder);
      if (u16(bytes, offset + 12, le) !== 1) return done(PcapError.BadVersion);
      interfaces = [];
      sections++;
    } else if (sections === 0) {
      return PcapError.BadMagic;
    }
    const length = u32(bytes, offset + 4, le);
    if (length < BLOCK_OVERHEAD || length % 4 !== 0 || length > MAX_BLOCK_LENGTH) {
      return done(PcapError.BadBlockLength);
    }
    if (bytes.length - offset < length) return done(PcapError.TruncatedBlock);
    if (u32(bytes, offset + length - 4, le) !== length) return done(PcapError.BadBlockLength);
    const body = offset + 8;
    const end = offset + length - 4;
    switch (type) {
      case BLOCK_INTERFACE_DESCRIPTION: {
        if (end - body < 8) return done(PcapError.BadBlockLength);
        const linkType = u16(bytes, body, le);
        if (!isLinkType(linkType)) return done(PcapError.UnsupportedLinkType);
        const iface: Interface = {
          linkType,
          snaplen: u32(bytes, body + 4, le),
          unitsPerSecond: DEFAULT_UNITS_PER_SECOND,
          offsetSeconds: 0,
        };
        if (!readInterfaceOptions(bytes, body + 8, end, le, iface)) {
          return done(PcapError.BadBlockLength);
        }
        interfaces.push(iface);
        header ??= {
          littleEndian: le,
          nanosecond: iface.unitsPerSecond > DEFAULT_UNITS_PER_SECOND,
          versionMajor: 1,
          versionMinor: 0,
          snaplen: iface.snaplen,
          linkType,
        };
        break;
      }
      case BLOCK_ENHANCED_PACKET:
      case BLOCK_PACKET_OBSOLETE: {
        // EPB (§4.3): interface id (32 bits), timestamp high and low, captured
        // and original lengths, data. The obsolete Packet Block (Appendix A)
        // has the same layout but a 16-bit interface id and a drops count.
        if (end - body < 20) return done(PcapError.BadBlockLength);
        const id = type === BLOCK_ENHANCED_PACKET ? u32(bytes, body, le) : u16(bytes, body, le);
        const iface = interfaces[id];
        if (iface === undefined) return done(PcapError.UnknownInterface);
        const caplen = u32(bytes, body + 12, le);
        const data = body + 20;
        if (caplen > end - data) return done(PcapError.BadRecordLength);
        records.push({
          time: toMicros(u32(bytes, body + 4, le), u32(bytes, body + 8, le), iface),
          linkType: iface.linkType,
          data: bytes.subarray(data, data + caplen),
          originalLength: u32(bytes, body + 16, le),
        });
        break;
      }
      case BLOCK_SIMPLE_PACKET: {
        // SPB (§4.4): original length and data, on interface 0, no timestamp;
        // the captured length is what the block and the snaplen leave.
        if (end - body < 4) return done(PcapError.BadBlockLength);
        const iface = interfaces[0];
        if (iface === undefined) return done(PcapError.UnknownInterface);
        const originalLength = u32(bytes, body, le);
        const data = body + 4;
        let caplen = originalLength < end - data ? originalLength : end - data;
        if (iface.snaplen !== 0 && caplen > iface.snaplen) caplen = iface.snaplen;
        records.push({
          time: 0 as Instant,
          linkType: iface.linkType,
          data: bytes.subarray(data, data + caplen),
          originalLength,
        });
        break;
      }
      default:
        // Section headers were handled above; other blocks carry no packets.
        break;
    }
    offset += length;
  }
  return done(null);
}
