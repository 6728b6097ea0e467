/**
 * ICMP for IPv4 (RFC 792): echo, and the error messages a transport reacts
 * to (destination unreachable incl. RFC 1191 fragmentation needed, time
 * exceeded, parameter problem). Other types (redirect, timestamp, router
 * discovery, ...) are reported as `unsupported`: a host acts on none of them.
 * RFC 4884 extension structures in error messages are not interpreted: they
 * stay at the end of `original`.
 */
import { assertNever } from '../base/index.js';
import { checksumAdd, checksumFinish } from './checksum.js';
import { WireDropReason } from './drop.js';

/** Offset of the type. */
export const ICMPV4_TYPE = 0;
/** Offset of the code. */
export const ICMPV4_CODE = 1;
/** Offset of the checksum (over the whole ICMP message). */
export const ICMPV4_CHECKSUM = 2;
/** Echo: offset of the identifier. */
export const ICMPV4_IDENTIFIER = 4;
/** Echo: offset of the sequence number. */
export const ICMPV4_SEQUENCE = 6;
/** Parameter problem: offset of the pointer (RFC 792). */
export const ICMPV4_POINTER = 4;
/** Destination unreachable, code 4: offset of the next-hop MTU (RFC 1191 §4). */
export const ICMPV4_NEXT_HOP_MTU = 6;
/** Offset of the echo data or the quoted datagram. */
export const ICMPV4_DATA = 8;
/** Length of the header every ICMPv4 message tcpts handles has. */
export const ICMPV4_HEADER_LENGTH = 8;

/** ICMPv4 message types (RFC 792). */
export const Icmpv4Type = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  Redirect: 5,
  EchoRequest: 8,
  TimeExceeded: 11,
  ParameterProblem: 12,
} as const;

/** Destination unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1). */
export const Icmpv4UnreachableCode = {
  NetUnreachable: 0,
  HostUnreachable: 1,
  ProtocolUnreachable: 2,
  PortUnreachable: 3,
  /** Fragmentation needed and DF set; carries the next-hop MTU (RFC 1191). */
  FragmentationNeeded: 4,
  SourceRouteFailed: 5,
  NetUnknown: 6,
  HostUnknown: 7,
  SourceHostIsolated: 8,
  NetProhibited: 9,
  HostProhibited: 10,
  NetUnreachableForTos: 11,
  HostUnreachableForTos: 12,
  CommunicationProhibited: 13,
  HostPrecedenceViolation: 14,
  PrecedenceCutoff: 15,
} as const;

/** Time exceeded codes (RFC 792). */
export const Icmpv4TimeExceededCode = {
  TtlExceeded: 0,
  FragmentReassembly: 1,
} as const;

/** Echo request or reply (RFC 792). The code is always 0 on emit and not checked on parse, like Linux. */
export interface Icmpv4EchoRepr {
  type: typeof Icmpv4Type.EchoRequest | typeof Icmpv4Type.EchoReply;
  identifier: number;
  sequence: number;
  /** The echo data; a reply must return the request's data unchanged. */
  data: Uint8Array;
}

/** Destination unreachable (RFC 792; RFC 1191 for the MTU). */
export interface Icmpv4DestinationUnreachableRepr {
  type: typeof Icmpv4Type.DestinationUnreachable;
  /** See {@link Icmpv4UnreachableCode}. */
  code: number;
  /**
   * The next-hop MTU, meaningful for code 4 (RFC 1191 §4). Read from and
   * written to the low 16 bits of the otherwise unused word whatever the code;
   * 0 from an old router that predates RFC 1191.
   */
  nextHopMtu: number;
  /** The invoking datagram: its IP header and at least 8 bytes after it. */
  original: Uint8Array;
}

/** Time exceeded (RFC 792). */
export interface Icmpv4TimeExceededRepr {
  type: typeof Icmpv4Type.TimeExceeded;
  /** See {@link Icmpv4TimeExceededCode}. */
  code: number;
  /** The invoking datagram: its IP header and at least 8 bytes after it. */
  original: Uint8Array;
}

/** Parameter problem (RFC 792). */
export interface Icmpv4ParameterProblemRepr {
  type: typeof Icmpv4Type.ParameterProblem;
  code: number;
  /** The byte of the invoking header where the problem lies. */
  pointer: number;
  /** The invoking datagram: its IP header and at least 8 bytes after it. */
  original: Uint8Array;
}

/**
 * An ICMPv4 message as plain data, discriminated by `type`.
 *
 * After {@link parseIcmpv4}, `data` and `original` are `subarray` views of
 * the input: copy (`slice`) what you keep.
 */
export type Icmpv4Repr =
  | Icmpv4EchoRepr
  | Icmpv4DestinationUnreachableRepr
  | Icmpv4TimeExceededRepr
  | Icmpv4ParameterProblemRepr;

/** The type byte. Valid for `bytes.length >= 1`. */
export function icmpv4Type(bytes: Uint8Array): number {
  return bytes[ICMPV4_TYPE]!;
}

/** The code byte. Valid for `bytes.length >= 2`. */
export function icmpv4Code(bytes: Uint8Array): number {
  return bytes[ICMPV4_CODE]!;
}

/**
 * RFC 792: an error quotes the invoking datagram's IP header plus its first
 * 64 bits, which is what a transport needs to find its connection (ports,
 * TCP sequence number). Like Linux's icmp_unreach and icmp_socket_deliver, a
 * mangled quote is dropped rather than passed up.
 */
function checkQuoted(original: Uint8Array): WireDropReason | null {
  if (original.length < 20) return WireDropReason.Truncated;
  if (original[0]! >>> 4 !== 4) return WireDropReason.BadVersion;
  const headerLength = (original[0]! & 0x0f) * 4;
  if (headerLength < 20) return WireDropReason.BadHeaderLength;
  if (original.length < headerLength + 8) return WireDropReason.Truncated;
  return null;
}

/**
 * Parses an ICMPv4 message (an IPv4 payload). Returns `truncated` below 8
 * bytes, `bad-checksum`, `unsupported` for types other than those of
 * {@link Icmpv4Repr}, and for error messages whose quoted datagram is not an
 * IPv4 header plus 8 bytes: `truncated`, `bad-version` or `bad-header-length`.
 */
export function parseIcmpv4(bytes: Uint8Array): Icmpv4Repr | WireDropReason {
  if (bytes.length < ICMPV4_HEADER_LENGTH) return WireDropReason.Truncated;
  // RFC 792: the checksum covers the whole message; a correct one sums to 0xffff.
  if (checksumFinish(checksumAdd(0, bytes)) !== 0) return WireDropReason.BadChecksum;
  const type = bytes[ICMPV4_TYPE]!;
  const code = bytes[ICMPV4_CODE]!;
  const body = bytes.subarray(ICMPV4_DATA);
  switch (type) {
    case Icmpv4Type.EchoRequest:
    case Icmpv4Type.EchoReply:
      return {
        type,
        identifier: (bytes[ICMPV4_IDENTIFIER]! << 8) | bytes[ICMPV4_IDENTIFIER + 1]!,
        sequence: (bytes[ICMPV4_SEQUENCE]! << 8) | bytes[ICMPV4_SEQUENCE + 1]!,
        data: body,
      };
    case Icmpv4Type.DestinationUnreachable: {
      const problem = checkQuoted(body);
      if (problem !== null) return problem;
      return {
        type,
        code,
        nextHopMtu: (bytes[ICMPV4_NEXT_HOP_MTU]! << 8) | bytes[ICMPV4_NEXT_HOP_MTU + 1]!,
        original: body,
      };
    }
    case Icmpv4Type.TimeExceeded: {
      const problem = checkQuoted(body);
      if (problem !== null) return problem;
      return { type, code, original: body };
    }
    case Icmpv4Type.ParameterProblem: {
      const problem = checkQuoted(body);
      if (problem !== null) return problem;
      return { type, code, pointer: bytes[ICMPV4_POINTER]!, original: body };
    }
    default:
      return WireDropReason.Unsupported;
  }
}

/** Bytes {@link emitIcmpv4} writes: the 8-byte header plus the data or quoted datagram. */
export function icmpv4Length(repr: Icmpv4Repr): number {
  return ICMPV4_HEADER_LENGTH + (isEcho(repr) ? repr.data.length : repr.original.length);
}

function isEcho(repr: Icmpv4Repr): repr is Icmpv4EchoRepr {
  return repr.type === Icmpv4Type.EchoRequest || repr.type === Icmpv4Type.EchoReply;
}

/**
 * Writes the message at the start of `out`, with its checksum, and returns
 * its length. The data or quoted datagram is copied unless already in place
 * at offset 8. For errors, the caller chooses how much of the original to
 * quote (RFC 1812 §4.3.2.3: as much as fits in 576 bytes).
 */
export function emitIcmpv4(repr: Icmpv4Repr, out: Uint8Array): number {
  const length = icmpv4Length(repr);
  if (out.length < length) {
    throw new RangeError(
      `emitIcmpv4: the output holds ${out.length} bytes but the message needs ${length}; size it with icmpv4Length()`,
    );
  }
  out[ICMPV4_TYPE] = repr.type;
  out[ICMPV4_CHECKSUM] = 0;
  out[ICMPV4_CHECKSUM + 1] = 0;
  switch (repr.type) {
    case Icmpv4Type.EchoRequest:
    case Icmpv4Type.EchoReply:
      out[ICMPV4_CODE] = 0;
      writeU16(out, ICMPV4_IDENTIFIER, repr.identifier);
      writeU16(out, ICMPV4_SEQUENCE, repr.sequence);
      placePayload(out, ICMPV4_DATA, repr.data);
      break;
    case Icmpv4Type.DestinationUnreachable:
      out[ICMPV4_CODE] = repr.code & 0xff;
      writeU16(out, 4, 0);
      writeU16(out, ICMPV4_NEXT_HOP_MTU, repr.nextHopMtu);
      placePayload(out, ICMPV4_DATA, repr.original);
      break;
    case Icmpv4Type.TimeExceeded:
      out[ICMPV4_CODE] = repr.code & 0xff;
      writeU16(out, 4, 0);
      writeU16(out, 6, 0);
      placePayload(out, ICMPV4_DATA, repr.original);
      break;
    case Icmpv4Type.ParameterProblem:
      out[ICMPV4_CODE] = repr.code & 0xff;
      out[ICMPV4_POINTER] = repr.pointer & 0xff;
      out[5] = 0;
      writeU16(out, 6, 0);
      placePayload(out, ICMPV4_DATA, repr.original);
      break;
    default:
      assertNever(repr, 'ICMPv4 repr');
  }
  const checksum = checksumFinish(checksumAdd(0, out.subarray(0, length)));
  writeU16(out, ICMPV4_CHECKSUM, checksum);
  return length;
}

function writeU16(out: Uint8Array, offset: number, value: number): void {
  out[offset] = (value >>> 8) & 0xff;
  out[offset + 1] = value & 0xff;
}

/** Copies `payload` to `out[offset..]` unless it is already there (set() would clone an overlapping source first). */
function placePayload(out: Uint8Array, offset: number, payload: Uint8Array): void {
  if (payload.buffer === out.buffer && payload.byteOffset === out.byteOffset + offset) return;
  out.set(payload, offset);
}
