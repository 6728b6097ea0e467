import { assertNever, seq, type SeqNum } from '../base/index.js';
import { checksumAdd, checksumFinish, checksumFold } from './checksum.js';
import { WireDropReason } from './drop.js';
import { TcpOptionCursor, TcpOptionStep } from './tcp-option-cursor.js';

/**
 * The TCP segment codec (RFC 9293 §3.1): a plain {@link TcpRepr} with parse
 * and emit, a few zero-copy accessors for demultiplexing, and tcpdump-style
 * formatting for decoders.
 */

/** TCP header flag bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR). */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** One SACK block (RFC 2018): bytes [left, right) held by the receiver. */
export interface SackBlock {
  left: SeqNum;
  right: SeqNum;
}

/** The timestamps option (RFC 7323 §3). */
export interface TcpTimestamp {
  value: number;
  echo: number;
}

/**
 * The TCP options tcpts understands. Absent options use sentinels rather than
 * optional fields so every repr has the same shape.
 */
export interface TcpOptions {
  /** Maximum segment size (RFC 9293 §3.7.1); 0 when absent. */
  mss: number;
  /** Window scale shift (RFC 7323 §2); -1 when absent. */
  windowScale: number;
  /** SACK-permitted (RFC 2018). */
  sackPermitted: boolean;
  /** SACK blocks, at most 4 on the wire (3 with timestamps). */
  sackBlocks: SackBlock[];
  /** Timestamps, or null when absent. */
  timestamp: TcpTimestamp | null;
}

/** A TCP segment as plain data. `window` is the raw 16-bit header field (unscaled). */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: SeqNum;
  ack: SeqNum;
  flags: number;
  window: number;
  urgent: number;
  options: TcpOptions;
  payload: Uint8Array;
}

/** Options with nothing set. */
export function noTcpOptions(): TcpOptions {
  return { mss: 0, windowScale: -1, sackPermitted: false, sackBlocks: [], timestamp: null };
}

// ---------------------------------------------------------------------------
// Layout (RFC 9293 §3.1, Figure 1). Byte offsets into the TCP header.

/** Length of a TCP header without options (data offset 5). */
export const TCP_HEADER_LENGTH = 20;
/** Longest TCP header: the 4-bit data offset counts at most 15 words. */
export const TCP_MAX_HEADER_LENGTH = 60;
/** Room for options: 60 - 20 bytes. */
export const TCP_MAX_OPTIONS_LENGTH = TCP_MAX_HEADER_LENGTH - TCP_HEADER_LENGTH;
/**
 * RFC 7323 §2.3: a received shift count above 14 is used as 14 (a window
 * larger than 2^30 would break the sequence-space comparisons).
 */
export const TCP_MAX_WINDOW_SCALE = 14;

const SRC_PORT = 0;
const DST_PORT = 2;
const SEQ = 4;
const ACK = 8;
/** High nibble: data offset in 32-bit words; low nibble: reserved bits (ignored on receive, RFC 9293 §3.1). */
const DATA_OFFSET = 12;
const FLAGS = 13;
const WINDOW = 14;
const CHECKSUM = 16;
const URGENT = 18;

/** Option kinds tcpts reads and writes (IANA "TCP Option Kind Numbers"). */
export const TcpOptionKind = {
  /** RFC 9293 §3.2: end of option list, one byte. */
  EOL: 0,
  /** RFC 9293 §3.2: no-operation, one byte, used to align later options. */
  NOP: 1,
  /** RFC 9293 §3.7.1: maximum segment size. */
  MSS: 2,
  /** RFC 7323 §2: window scale. */
  WS: 3,
  /** RFC 2018 §2: SACK permitted. */
  SACK_PERMITTED: 4,
  /** RFC 2018 §3: selective acknowledgment blocks. */
  SACK: 5,
  /** RFC 7323 §3: timestamps. */
  TIMESTAMP: 8,
  /** RFC 7413 §4.1.1: TCP Fast Open cookie (empty: a cookie request). */
  FAST_OPEN: 34,
  /** RFC 6994: the shared experimental kind; Fast Open used it with magic 0xF989 before kind 34. */
  EXPERIMENTAL: 254,
} as const;

/** RFC 7413 §4.1.1 and RFC 6994: the experiment identifier that marks Fast Open inside kind 254. */
export const TCP_FAST_OPEN_EXPERIMENT_MAGIC = 0xf989;
/** RFC 7413 §4.1.1: a cookie is 4 to 16 bytes (Linux also requires an even length). */
export const TCP_FAST_OPEN_COOKIE_MIN = 4;
export const TCP_FAST_OPEN_COOKIE_MAX = 16;

/** A Fast Open cookie length Linux accepts: 0 (a request), or even within [4, 16]. */
export function isValidFastOpenCookieLength(length: number): boolean {
  return (
    length === 0 ||
    (length >= TCP_FAST_OPEN_COOKIE_MIN && length <= TCP_FAST_OPEN_COOKIE_MAX && length % 2 === 0)
  );
}

/** One of the option kind numbers in {@link TcpOptionKind}. */
export type TcpOptionKind = (typeof TcpOptionKind)[keyof typeof TcpOptionKind];

/** The only valid total lengths (kind and length bytes included) of the options tcpts knows. */
export const TcpOptionLength = {
  MSS: 4,
  WS: 3,
  SACK_PERMITTED: 2,
  /** Kind and length; each block adds SACK_BLOCK. */
  SACK_BASE: 2,
  SACK_BLOCK: 8,
  TIMESTAMP: 10,
} as const;

/** RFC 2018 §3: a SACK option holds at most 4 blocks (2 + 8n must fit in 40 option bytes). */
export const TCP_MAX_SACK_BLOCKS = 4;
/** With the 12 bytes of `nop,nop,TS` in front, only 3 blocks fit (RFC 2018 §3). */
export const TCP_MAX_SACK_BLOCKS_WITH_TIMESTAMP = 3;

const { FIN, SYN, RST } = TcpFlags;

function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
  );
}

function writeU16(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 8;
  out[at + 1] = value;
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = value >>> 16;
  out[at + 2] = value >>> 8;
  out[at + 3] = value;
}

// ---------------------------------------------------------------------------
// Zero-copy accessors: for demultiplexing before (or instead of) a full parse.
// They read fixed offsets and are valid only once the caller has checked that
// `bytes` holds at least TCP_HEADER_LENGTH bytes; on a shorter array they
// return meaningless numbers but never throw.

/** Source port of the segment in `bytes`. */
export function tcpSrcPort(bytes: Uint8Array): number {
  return readU16(bytes, SRC_PORT);
}

/** Destination port of the segment in `bytes`. */
export function tcpDstPort(bytes: Uint8Array): number {
  return readU16(bytes, DST_PORT);
}

/** The 8 flag bits of the segment in `bytes` (see {@link TcpFlags}). */
export function tcpFlagsOf(bytes: Uint8Array): number {
  return bytes[FLAGS]! | 0;
}

/** Sequence number of the segment in `bytes`. */
export function tcpSeqOf(bytes: Uint8Array): SeqNum {
  return seq(readU32(bytes, SEQ));
}

/** Acknowledgment number of the segment in `bytes` (meaningful only with ACK set). */
export function tcpAckOf(bytes: Uint8Array): SeqNum {
  return seq(readU32(bytes, ACK));
}

// ---------------------------------------------------------------------------
// Parsing

/**
 * Checks the length byte of a known option; `length` already lies within
 * [2, bytes left in the header].
 */
function knownOptionLengthOk(kind: number, length: number): boolean {
  switch (kind) {
    case TcpOptionKind.MSS:
      return length === TcpOptionLength.MSS;
    case TcpOptionKind.WS:
      return length === TcpOptionLength.WS;
    case TcpOptionKind.SACK_PERMITTED:
      return length === TcpOptionLength.SACK_PERMITTED;
    case TcpOptionKind.SACK: {
      const body = length - TcpOptionLength.SACK_BASE;
      return (
        body >= TcpOptionLength.SACK_BLOCK &&
        body <= TCP_MAX_SACK_BLOCKS * TcpOptionLength.SACK_BLOCK &&
        body % TcpOptionLength.SACK_BLOCK === 0
      );
    }
    case TcpOptionKind.TIMESTAMP:
      return length === TcpOptionLength.TIMESTAMP;
    default:
      return true;
  }
}

/**
 * Checks the fixed header of `bytes` and returns its header length in bytes,
 * or why it is unusable.
 */
function checkedHeaderLength(bytes: Uint8Array): number | WireDropReason {
  if (bytes.length < TCP_HEADER_LENGTH) return WireDropReason.Truncated;
  const headerLength = (bytes[DATA_OFFSET]! >>> 4) << 2;
  // RFC 9293 §3.1: the data offset counts 32-bit words and the fixed header alone is 5.
  if (headerLength < TCP_HEADER_LENGTH) return WireDropReason.BadHeaderLength;
  if (headerLength > bytes.length) return WireDropReason.BadLength;
  return headerLength;
}

/** The cursor of {@link parseTcp}: one for every segment, so a parse allocates nothing per option. */
const parseCursor = new TcpOptionCursor();

/**
 * Reads the options in bytes [TCP_HEADER_LENGTH, end) into `options`.
 * Returns null when they are well formed.
 */
function parseOptionsInto(
  bytes: Uint8Array,
  end: number,
  options: TcpOptions,
): WireDropReason | null {
  const cursor = parseCursor;
  cursor.reset(bytes, TCP_HEADER_LENGTH, end);
  let step = cursor.next();
  for (; step === TcpOptionStep.Option; step = cursor.next()) {
    const kind = cursor.kind;
    const at = cursor.offset;
    const length = cursor.length;
    // EOL ends the list and NOP only aligns; the cursor steps over both.
    if (length === 1) continue;
    if (!knownOptionLengthOk(kind, length)) break;
    // A repeated option overwrites the earlier one: the last occurrence wins
    // (as in Linux's tcp_parse_options, which simply reassigns).
    switch (kind) {
      case TcpOptionKind.MSS:
        options.mss = readU16(bytes, at + 2);
        break;
      case TcpOptionKind.WS: {
        const shift = bytes[at + 2]!;
        options.windowScale = shift > TCP_MAX_WINDOW_SCALE ? TCP_MAX_WINDOW_SCALE : shift;
        break;
      }
      case TcpOptionKind.SACK_PERMITTED:
        options.sackPermitted = true;
        break;
      case TcpOptionKind.SACK:
        options.sackBlocks = readSackBlocks(bytes, at, length);
        break;
      case TcpOptionKind.TIMESTAMP:
        options.timestamp = { value: readU32(bytes, at + 2), echo: readU32(bytes, at + 6) };
        break;
      default:
        // RFC 9293 §3.2 / RFC 1122 §4.2.2.5: ignore options we do not
        // implement, stepping over them by their length.
        break;
    }
  }
  cursor.clear();
  // Anything but the end of the list (a known kind with the wrong length
  // breaks out as an Option) leaves options that cannot be delimited.
  return step === TcpOptionStep.End ? null : WireDropReason.BadOption;
}

/** The blocks of the (already length-checked) SACK option at `at`. */
function readSackBlocks(bytes: Uint8Array, at: number, length: number): SackBlock[] {
  const blocks: SackBlock[] = [];
  for (let b = at + TcpOptionLength.SACK_BASE; b < at + length; b += TcpOptionLength.SACK_BLOCK) {
    blocks.push({ left: seq(readU32(bytes, b)), right: seq(readU32(bytes, b + 4)) });
  }
  return blocks;
}

/**
 * Parses one TCP segment.
 *
 * `bytes` must be exactly the segment: the IP layer has already cut it to the
 * length its header gives. `pseudoSum` is the running sum of the pseudo-header
 * from {@link pseudoHeaderSumV4} / {@link pseudoHeaderSumV6}, built with
 * `bytes.length` as the upper-layer length. Pass `verifyChecksum = false` when
 * the checksum was already verified (offload, or a trusted in-memory link).
 *
 * Drops, in the order they are checked: `truncated` (under 20 bytes),
 * `bad-header-length` (data offset below 5), `bad-length` (data offset past the
 * end), `bad-checksum`, `bad-flags` (SYN with FIN or RST: no conforming
 * sender produces them, scanners do; Linux discards both at a listener in
 * tcp_rcv_state_process, and tcpts drops them in every state), `bad-option`
 * (an option whose length is below 2, runs past the header, or is wrong for a
 * known kind: MSS 4, WS 3, SACK-permitted 2, SACK 2+8n with 1 <= n <= 4,
 * timestamps 10). RFC 9293 §3.2 (MUST-7) requires surviving an illegal option
 * length and suggests treating the segment as an error; tcpts drops it. This
 * is stricter than Linux, whose tcp_parse_options stops at a too-short or
 * overlong option and ignores a known kind with the wrong length, keeping
 * the segment.
 *
 * Options are reported as they appear, whatever the flags: MSS, window scale
 * and SACK-permitted are only meaningful on a SYN, and the connection must
 * ignore them elsewhere (RFC 7323 §2.2, RFC 2018 §2). Unknown kinds are
 * skipped by their length, EOL ends the list, and when an option appears twice
 * the last one wins. A window scale above 14 is clamped to 14 (RFC 7323
 * §2.3). An MSS option with value 0 reads as absent (0 is the "absent"
 * sentinel; Linux likewise ignores an MSS of 0). The reserved header bits are
 * ignored (RFC 9293 §3.1).
 *
 * `payload` is a subarray VIEW of `bytes`, not a copy: it is valid only as
 * long as the caller's receive buffer is; copy what must be kept.
 *
 * Never throws.
 */
export function parseTcp(
  bytes: Uint8Array,
  pseudoSum: number,
  verifyChecksum = true,
): TcpRepr | WireDropReason {
  const headerLength = checkedHeaderLength(bytes);
  if (typeof headerLength === 'string') return headerLength;
  // RFC 9293 §3.1: the checksum covers pseudo-header, header and data; a
  // correct segment sums to all ones.
  if (verifyChecksum && checksumFold(checksumAdd(pseudoSum, bytes)) !== 0xffff) {
    return WireDropReason.BadChecksum;
  }
  const flags = bytes[FLAGS]!;
  if ((flags & SYN) !== 0 && (flags & (FIN | RST)) !== 0) return WireDropReason.BadFlags;
  const options = noTcpOptions();
  if (headerLength > TCP_HEADER_LENGTH) {
    const bad = parseOptionsInto(bytes, headerLength, options);
    if (bad !== null) return bad;
  }
  return {
    srcPort: readU16(bytes, SRC_PORT),
    dstPort: readU16(bytes, DST_PORT),
    seq: seq(readU32(bytes, SEQ)),
    ack: seq(readU32(bytes, ACK)),
    flags,
    window: readU16(bytes, WINDOW),
    urgent: readU16(bytes, URGENT),
    options,
    payload: bytes.subarray(headerLength),
  };
}

// ---------------------------------------------------------------------------
// Option list in wire order (for decoders and packetdrill; not the hot path)

/** One option as it appears on the wire, for printing and exact-order checks. */
export type TcpOptionEntry =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  /** `shift` is the raw byte, not clamped to 14, so decoders show what was sent. */
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: SackBlock[] }
  | { kind: 'TS'; value: number; echo: number }
  /**
   * Fast Open (RFC 7413): an empty `cookie` is a cookie request. `experimental`
   * marks the pre-RFC form, kind 254 with magic 0xF989. The cookie is a copy;
   * its length is as received, valid or not (see {@link isValidFastOpenCookieLength}).
   */
  | { kind: 'fastOpen'; cookie: Uint8Array; experimental: boolean }
  /** An option kind tcpts does not interpret. `length` is the wire length byte; `data` is a copy of the bytes after it. */
  | { kind: 'unknown'; code: number; length: number; data: Uint8Array };

/** The cursor of {@link listTcpOptions}. */
const listCursor = new TcpOptionCursor();

/**
 * The options of the segment in `bytes`, in wire order, NOPs and EOL included
 * (the list stops at EOL, as RFC 9293 §3.2 and tcpdump do).
 *
 * Applies the same header and option checks as {@link parseTcp} (but not the
 * checksum or the flag checks) and returns the same drop reasons. Allocates
 * one object per option: meant for decoders and test scripts, not for the
 * receive path. Never throws.
 */
export function listTcpOptions(bytes: Uint8Array): TcpOptionEntry[] | WireDropReason {
  const end = checkedHeaderLength(bytes);
  if (typeof end === 'string') return end;
  const entries: TcpOptionEntry[] = [];
  const cursor = listCursor;
  cursor.reset(bytes, TCP_HEADER_LENGTH, end);
  let step = cursor.next();
  for (; step === TcpOptionStep.Option; step = cursor.next()) {
    const kind = cursor.kind;
    const at = cursor.offset;
    const length = cursor.length;
    if (length > 1 && !knownOptionLengthOk(kind, length)) break;
    switch (kind) {
      case TcpOptionKind.EOL:
        entries.push({ kind: 'eol' });
        break;
      case TcpOptionKind.NOP:
        entries.push({ kind: 'nop' });
        break;
      case TcpOptionKind.MSS:
        entries.push({ kind: 'mss', value: readU16(bytes, at + 2) });
        break;
      case TcpOptionKind.WS:
        entries.push({ kind: 'wscale', shift: bytes[at + 2]! });
        break;
      case TcpOptionKind.SACK_PERMITTED:
        entries.push({ kind: 'sackOK' });
        break;
      case TcpOptionKind.SACK:
        entries.push({ kind: 'sack', blocks: readSackBlocks(bytes, at, length) });
        break;
      case TcpOptionKind.TIMESTAMP:
        entries.push({ kind: 'TS', value: readU32(bytes, at + 2), echo: readU32(bytes, at + 6) });
        break;
      case TcpOptionKind.FAST_OPEN:
        entries.push({
          kind: 'fastOpen',
          cookie: bytes.slice(at + 2, at + length),
          experimental: false,
        });
        break;
      case TcpOptionKind.EXPERIMENTAL:
        if (length >= 4 && readU16(bytes, at + 2) === TCP_FAST_OPEN_EXPERIMENT_MAGIC) {
          entries.push({
            kind: 'fastOpen',
            cookie: bytes.slice(at + 4, at + length),
            experimental: true,
          });
          break;
        }
        entries.push({
          kind: 'unknown',
          code: kind,
          length,
          data: bytes.slice(at + 2, at + length),
        });
        break;
      default:
        // slice: a copy, so the entry does not pin the receive buffer.
        entries.push({
          kind: 'unknown',
          code: kind,
          length,
          data: bytes.slice(at + 2, at + length),
        });
        break;
    }
  }
  cursor.clear();
  return step === TcpOptionStep.End ? entries : WireDropReason.BadOption;
}

// ---------------------------------------------------------------------------
// Emitting

/**
 * How many SACK blocks a non-SYN segment carries: as many of `available` as fit
 * in the option space, first blocks first (RFC 2018 §4: the first block is the
 * most recent and must be included; Linux caps the count the same way).
 */
function sackBlocksToSend(options: TcpOptions): number {
  const max = options.timestamp !== null ? TCP_MAX_SACK_BLOCKS_WITH_TIMESTAMP : TCP_MAX_SACK_BLOCKS;
  const available = options.sackBlocks.length;
  return available < max ? available : max;
}

/**
 * Bytes the options of a segment with `flags` take in the layout
 * {@link emitTcp} writes (always a multiple of 4, at most 40). Use it to size
 * buffers and to compute the effective send MSS (RFC 9293 §3.7.1: the MSS
 * excludes TCP options, so the payload room is the MSS minus this).
 *
 * On a SYN: MSS (if `mss > 0`), SACK-permitted and timestamps, window scale
 * (if `windowScale >= 0`). Otherwise: timestamps, then SACK blocks. Fields that
 * do not belong to the segment kind are ignored (RFC 9293 §3.7.1, RFC 2018 §2,
 * RFC 7323 §2.2 restrict MSS, SACK-permitted and window scale to SYNs; SACK
 * blocks never ride on a SYN).
 */
export function tcpOptionsLength(options: TcpOptions, flags: number): number {
  let n = 0;
  const hasTs = options.timestamp !== null;
  if ((flags & SYN) !== 0) {
    if (options.mss > 0) n += TcpOptionLength.MSS;
    // `sackOK,TS` and `nop,nop,TS` are both 12 bytes; `nop,nop,sackOK` is 4.
    if (hasTs) n += 2 + TcpOptionLength.TIMESTAMP;
    else if (options.sackPermitted) n += 2 + TcpOptionLength.SACK_PERMITTED;
    if (options.windowScale >= 0) n += 1 + TcpOptionLength.WS;
  } else {
    if (hasTs) n += 2 + TcpOptionLength.TIMESTAMP;
    const blocks = sackBlocksToSend(options);
    if (blocks > 0) n += 2 + TcpOptionLength.SACK_BASE + blocks * TcpOptionLength.SACK_BLOCK;
  }
  // Every layout above is already word-aligned; round up anyway so a future
  // option cannot yield a data offset that cuts the options short.
  return (n + 3) & ~3;
}

/** Header length (fixed header plus options) {@link emitTcp} writes for `repr`. */
export function tcpHeaderLength(repr: TcpRepr): number {
  return TCP_HEADER_LENGTH + tcpOptionsLength(repr.options, repr.flags);
}

/**
 * Writes `repr` (header, options, payload) into `out` from offset 0 and
 * returns the number of bytes written, `tcpHeaderLength(repr) +
 * repr.payload.length`. `pseudoSum` is the pseudo-header sum for that length
 * (see {@link pseudoHeaderSumV4} / {@link pseudoHeaderSumV6}); the checksum is
 * computed here, unless `computeChecksum` is false (checksum offload: a link
 * whose receiver verifies nothing, as Linux's loopback), when the field is 0.
 *
 * Options follow the byte layout Linux's tcp_options_write produces, because
 * packetdrill scripts and peers' tests expect it:
 * - SYN and SYN-ACK: `mss N`, then `sackOK,TS val ecr` (SACK-permitted
 *   immediately before TS, no padding) or `nop,nop,TS val ecr` or
 *   `nop,nop,sackOK`, then `nop,wscale N`; Linux's own SYN prints as
 *   `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`.
 * - other segments: `nop,nop,TS val ecr`, then `nop,nop,sack N` with as many
 *   blocks as fit (4, or 3 after timestamps); extra blocks are left out.
 * See {@link tcpOptionsLength} for the fields each kind of segment ignores.
 * Numeric fields are truncated to their wire width; reserved bits are zero.
 *
 * `repr.payload` may already sit at its place in `out` (a subarray of `out`
 * at the header length): the copy is then a no-op move.
 *
 * @throws RangeError when `out` is too short (API misuse: size it with
 *   `tcpHeaderLength(repr) + repr.payload.length`).
 */
export function emitTcp(
  repr: TcpRepr,
  out: Uint8Array,
  pseudoSum: number,
  computeChecksum = true,
): number {
  const options = repr.options;
  const flags = repr.flags & 0xff;
  const headerLength = TCP_HEADER_LENGTH + tcpOptionsLength(options, flags);
  const payload = repr.payload;
  const total = headerLength + payload.length;
  if (out.length < total) {
    throw new RangeError(
      `emitTcp: out holds ${out.length} bytes but the segment needs ${total}; ` +
        'size it with tcpHeaderLength(repr) + repr.payload.length',
    );
  }
  writeU16(out, SRC_PORT, repr.srcPort);
  writeU16(out, DST_PORT, repr.dstPort);
  writeU32(out, SEQ, repr.seq);
  writeU32(out, ACK, repr.ack);
  out[DATA_OFFSET] = (headerLength >>> 2) << 4;
  out[FLAGS] = flags;
  writeU16(out, WINDOW, repr.window);
  writeU16(out, CHECKSUM, 0);
  writeU16(out, URGENT, repr.urgent);

  let i = TCP_HEADER_LENGTH;
  const ts = options.timestamp;
  if ((flags & SYN) !== 0) {
    if (options.mss > 0) {
      out[i] = TcpOptionKind.MSS;
      out[i + 1] = TcpOptionLength.MSS;
      writeU16(out, i + 2, options.mss);
      i += TcpOptionLength.MSS;
    }
    if (ts !== null) {
      // Linux puts SACK-permitted in the two bytes that would otherwise be
      // `nop,nop` in front of the timestamps.
      if (options.sackPermitted) {
        out[i] = TcpOptionKind.SACK_PERMITTED;
        out[i + 1] = TcpOptionLength.SACK_PERMITTED;
      } else {
        out[i] = TcpOptionKind.NOP;
        out[i + 1] = TcpOptionKind.NOP;
      }
      i = writeTimestamp(out, i + 2, ts);
    } else if (options.sackPermitted) {
      out[i] = TcpOptionKind.NOP;
      out[i + 1] = TcpOptionKind.NOP;
      out[i + 2] = TcpOptionKind.SACK_PERMITTED;
      out[i + 3] = TcpOptionLength.SACK_PERMITTED;
      i += 4;
    }
    if (options.windowScale >= 0) {
      out[i] = TcpOptionKind.NOP;
      out[i + 1] = TcpOptionKind.WS;
      out[i + 2] = TcpOptionLength.WS;
      out[i + 3] = options.windowScale;
      i += 4;
    }
  } else {
    if (ts !== null) {
      out[i] = TcpOptionKind.NOP;
      out[i + 1] = TcpOptionKind.NOP;
      i = writeTimestamp(out, i + 2, ts);
    }
    const blocks = sackBlocksToSend(options);
    if (blocks > 0) {
      out[i] = TcpOptionKind.NOP;
      out[i + 1] = TcpOptionKind.NOP;
      out[i + 2] = TcpOptionKind.SACK;
      out[i + 3] = TcpOptionLength.SACK_BASE + blocks * TcpOptionLength.SACK_BLOCK;
      i += 4;
      const list = options.sackBlocks;
      for (let b = 0; b < blocks; b++) {
        const block = list[b]!;
        writeU32(out, i, block.left);
        writeU32(out, i + 4, block.right);
        i += TcpOptionLength.SACK_BLOCK;
      }
    }
  }
  // RFC 9293 §3.2: pad to the data offset with zeros (EOL).
  while (i < headerLength) out[i++] = TcpOptionKind.EOL;

  out.set(payload, headerLength);
  if (computeChecksum) {
    const segment = total === out.length ? out : out.subarray(0, total);
    writeU16(out, CHECKSUM, checksumFinish(checksumAdd(pseudoSum, segment)));
  }
  return total;
}

/** Writes the 10-byte timestamps option at `at`; returns the offset after it. */
function writeTimestamp(out: Uint8Array, at: number, ts: TcpTimestamp): number {
  out[at] = TcpOptionKind.TIMESTAMP;
  out[at + 1] = TcpOptionLength.TIMESTAMP;
  writeU32(out, at + 2, ts.value);
  writeU32(out, at + 6, ts.echo);
  return at + TcpOptionLength.TIMESTAMP;
}

// ---------------------------------------------------------------------------
// tcpdump-style text

/**
 * tcpdump's flag letters in tcpdump's own order (print-tcp.c's table):
 * F S R P, then `.` for ACK, then U E W. So a SYN-ACK is `S.`, an ECN
 * setup SYN-ACK `S.E`, a data ACK with CWR `P.W`.
 */
const FLAG_LETTERS: readonly (readonly [number, string])[] = [
  [TcpFlags.FIN, 'F'],
  [TcpFlags.SYN, 'S'],
  [TcpFlags.RST, 'R'],
  [TcpFlags.PSH, 'P'],
  [TcpFlags.ACK, '.'],
  [TcpFlags.URG, 'U'],
  [TcpFlags.ECE, 'E'],
  [TcpFlags.CWR, 'W'],
];

/**
 * The flag string tcpdump prints between `Flags [` and `]`: `S`, `S.`, `.`,
 * `P.`, `F.`, `R`, `R.`, `FP.`, `S.E`, ..., and `none` when no flag is set.
 */
export function formatTcpFlags(flags: number): string {
  let text = '';
  for (const [bit, letter] of FLAG_LETTERS) {
    if ((flags & bit) !== 0) text += letter;
  }
  return text === '' ? 'none' : text;
}

function hex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

/** One option in tcpdump's words. */
function formatTcpOption(entry: TcpOptionEntry): string {
  switch (entry.kind) {
    case 'eol':
      return 'eol';
    case 'nop':
      return 'nop';
    case 'mss':
      return `mss ${entry.value}`;
    case 'wscale':
      return `wscale ${entry.shift}`;
    case 'sackOK':
      return 'sackOK';
    case 'sack': {
      let text = `sack ${entry.blocks.length} `;
      for (const block of entry.blocks) text += `{${block.left}:${block.right}}`;
      return text;
    }
    case 'TS':
      return `TS val ${entry.value} ecr ${entry.echo}`;
    case 'fastOpen': {
      // tcpdump's print_tcp_fastopen_option: `tfo` is followed by a blank
      // before the detail's own leading blank, `exp-tfo` is not.
      const name = entry.experimental ? 'exp-tfo' : 'tfo ';
      const cookie = entry.cookie;
      if (cookie.length === 0) return `${name} cookiereq`;
      if (!isValidFastOpenCookieLength(cookie.length)) return `${name} (invalid)`;
      return `${name} cookie ${hex(cookie)}`;
    }
    case 'unknown':
      // tcpdump names an experiment it does not decode by its 16-bit identifier.
      if (entry.code === TcpOptionKind.EXPERIMENTAL && entry.data.length >= 2)
        return `exp-${hex(entry.data.subarray(0, 2))}`;
      return entry.data.length === 0
        ? `unknown-${entry.code}`
        : `unknown-${entry.code} 0x${hex(entry.data)}`;
    default:
      return assertNever(entry, 'TCP option entry');
  }
}

/**
 * The text tcpdump prints between `options [` and `]`, for example
 * `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7` or `nop,nop,sack 1 {3001:4001}`.
 *
 * SACK edges are printed as the raw absolute sequence numbers, which is what
 * `tcpdump -S` shows; without `-S` tcpdump prints them relative to the
 * connection's initial sequence number, which needs per-connection state this
 * function does not have. Unknown kinds print as `unknown-<kind> 0x<hex data>`
 * like tcpdump's default case; Fast Open prints as tcpdump does (`tfo  cookiereq`,
 * `tfo  cookie <hex>`, `exp-tfo ...`); tcpdump decodes a few more kinds (md5,
 * mptcp, uto, ...) by name, which tcpts does not.
 */
export function formatTcpOptions(entries: readonly TcpOptionEntry[]): string {
  let text = '';
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) text += ',';
    text += formatTcpOption(entries[i]!);
  }
  return text;
}
