// Frames for the link tests: well-formed IPv4 packets (protocol 253, RFC 3692
// "for experimentation"; or UDP when a capture should decode), bare or in an
// Ethernet frame, each carrying a 32-bit tag so that order can be checked.
import { SeededRng, randomBytes } from '../../src/base/index.js';
import type { Instant } from '../../src/base/index.js';
import {
  checksumAdd,
  checksumFinish,
  internetChecksum,
  pseudoHeaderSumV4,
} from '../../src/wire/index.js';
import { LinkKind, maxFrameLength, minFrameLength } from '../../src/link/index.js';
import type { LinkEndpoint } from '../../src/link/index.js';

export const MAC_A = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
export const MAC_B = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0b];
export const IP_A = 0x0a4c0001; // 10.76.0.1
export const IP_B = 0x0a4c0002; // 10.76.0.2

const IPV4_HEADER = 20;

function putU32(bytes: Uint8Array, offset: number, v: number): void {
  bytes[offset] = v >>> 24;
  bytes[offset + 1] = (v >>> 16) & 0xff;
  bytes[offset + 2] = (v >>> 8) & 0xff;
  bytes[offset + 3] = v & 0xff;
}

/** Writes an IPv4 header (no options, DF, TTL 64) with a right checksum at `at`. */
function ipv4Header(
  out: Uint8Array,
  at: number,
  total: number,
  protocol: number,
  src: number,
  dst: number,
) {
  out[at] = 0x45;
  out[at + 2] = total >> 8;
  out[at + 3] = total & 0xff;
  out[at + 6] = 0x40;
  out[at + 8] = 64;
  out[at + 9] = protocol;
  putU32(out, at + 12, src);
  putU32(out, at + 16, dst);
  const sum = internetChecksum(out.subarray(at, at + IPV4_HEADER));
  out[at + 10] = sum >> 8;
  out[at + 11] = sum & 0xff;
}

/**
 * A frame of exactly `length` bytes for a link of `kind`: an IPv4 packet of
 * protocol 253 whose payload starts with `tag` and continues with bytes drawn
 * from the tag, inside an Ethernet header on an Ethernet link. Lengths below
 * a full IPv4 header give a frame that is only the first bytes of one (the
 * link must not care).
 */
export function taggedFrame(kind: LinkKind, length: number, tag: number, fromA = true): Uint8Array {
  const frame = new Uint8Array(length);
  let at = 0;
  if (kind === LinkKind.Ethernet) {
    frame.set((fromA ? MAC_B : MAC_A).slice(0, Math.min(6, length)), 0);
    if (length >= 12) frame.set(fromA ? MAC_A : MAC_B, 6);
    if (length >= 14) frame.set([0x08, 0x00], 12);
    at = 14;
  }
  const ipLength = length - at;
  if (ipLength >= IPV4_HEADER + 4) {
    ipv4Header(frame, at, ipLength, 253, fromA ? IP_A : IP_B, fromA ? IP_B : IP_A);
    putU32(frame, at + IPV4_HEADER, tag);
    randomBytes(new SeededRng(tag), frame.subarray(at + IPV4_HEADER + 4));
  } else if (ipLength > 0) {
    const head = new Uint8Array(IPV4_HEADER + 4);
    ipv4Header(head, 0, ipLength, 253, IP_A, IP_B);
    frame.set(head.subarray(0, ipLength), at);
  }
  return frame;
}

/** The tag `taggedFrame` put in a frame of at least the minimal tagged length. */
export function tagOf(kind: LinkKind, frame: Uint8Array): number {
  const at = (kind === LinkKind.Ethernet ? 14 : 0) + IPV4_HEADER;
  return (
    ((frame[at]! << 24) | (frame[at + 1]! << 16) | (frame[at + 2]! << 8) | frame[at + 3]!) >>> 0
  );
}

/** The shortest frame that carries a tag. */
export function minTaggedLength(kind: LinkKind): number {
  return (kind === LinkKind.Ethernet ? 14 : 0) + IPV4_HEADER + 4;
}

/** A frame length in [minTaggedLength, max] that walks through small, large and edge sizes. */
export function lengthFor(endpoint: LinkEndpoint, i: number): number {
  const min = minTaggedLength(endpoint.kind);
  const max = maxFrameLength(endpoint.kind, endpoint.mtu);
  const pick = i % 5;
  if (pick === 0) return min;
  if (pick === 1) return max;
  return min + ((i * 7919) % (max - min + 1));
}

/** The shortest frame a link of this kind accepts (re-exported for the tests). */
export { minFrameLength };

/** A well-formed IPv4/UDP packet (both checksums right) so that tcpdump decodes it fully. */
export function udpPacket(
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
) {
  const udpLength = 8 + payload.length;
  const packet = new Uint8Array(IPV4_HEADER + udpLength);
  ipv4Header(packet, 0, packet.length, 17, src, dst);
  packet.set([srcPort >> 8, srcPort & 0xff, dstPort >> 8, dstPort & 0xff], 20);
  packet.set([udpLength >> 8, udpLength & 0xff], 24);
  packet.set(payload, 28);
  let sum = checksumFinish(
    checksumAdd(pseudoHeaderSumV4(src, dst, 17, udpLength), packet.subarray(20)),
  );
  if (sum === 0) sum = 0xffff; // RFC 768: a computed zero is sent as all ones
  packet[26] = sum >> 8;
  packet[27] = sum & 0xff;
  return packet;
}

/** `packet` inside an Ethernet II header (IPv4 EtherType). */
export function inEthernet(packet: Uint8Array, dst: number[], src: number[]): Uint8Array {
  const frame = new Uint8Array(14 + packet.length);
  frame.set(dst, 0);
  frame.set(src, 6);
  frame.set([0x08, 0x00], 12);
  frame.set(packet, 14);
  return frame;
}

/**
 * True when the IPv4 header checksum and, for UDP, the UDP checksum over
 * the pseudo-header both verify, and the lengths agree with the bytes: what
 * a receiving stack checks before it believes a packet.
 */
export function ipv4UdpIntact(packet: Uint8Array): boolean {
  if (packet.length < 28 || packet[0] !== 0x45) return false;
  if (internetChecksum(packet.subarray(0, 20)) !== 0) return false;
  const total = (packet[2]! << 8) | packet[3]!;
  if (total !== packet.length) return false;
  if (packet[9] !== 17) return false;
  const udpLength = (packet[24]! << 8) | packet[25]!;
  if (udpLength !== total - 20) return false;
  const src = ((packet[12]! << 24) | (packet[13]! << 16) | (packet[14]! << 8) | packet[15]!) >>> 0;
  const dst = ((packet[16]! << 24) | (packet[17]! << 16) | (packet[18]! << 8) | packet[19]!) >>> 0;
  // RFC 768: a zero checksum field means the sender computed none, and a
  // receiver takes the datagram as is.
  if (packet[26] === 0 && packet[27] === 0) return true;
  return (
    checksumFinish(checksumAdd(pseudoHeaderSumV4(src, dst, 17, udpLength), packet.subarray(20))) ===
    0
  );
}

/** Number of bits that differ between two arrays of the same length. */
export function bitsDiffering(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    while (x !== 0) {
      n += x & 1;
      x >>>= 1;
    }
  }
  return n;
}

/** A received frame and the instant it was received. */
export interface Arrival {
  at: Instant;
  frame: Uint8Array;
}
