import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ETHERNET_HEADER_LENGTH,
  IpProtocol,
  UDP_HEADER_LENGTH,
  WireDropReason,
  checksumAdd,
  checksumFold,
  emitUdp,
  isDropReason,
  parseIpv4,
  parseIpv6,
  parseUdp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  udpDstPort,
  udpLength,
  udpSrcPort,
  type UdpRepr,
} from '../../src/wire/index.js';
import {
  ipv4FirstFragment,
  ipv4LastFragment,
  ipv6FirstFragment,
  ipv6LastFragment,
  udpv4NoChecksum,
} from './captured.js';
import { ipv4Arb, ipv6Arb, junkArb, payloadArb } from './arbitraries.js';
import { ok } from './support.js';

/** The 2000-byte payload the capture script sent: 0..255 seven times, then 208 zeros. */
function capturedPayload(): Uint8Array {
  const out = new Uint8Array(2000);
  for (let i = 0; i < 7 * 256; i++) out[i] = i & 0xff;
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const reprArb: fc.Arbitrary<UdpRepr> = fc
  .record({
    srcPort: fc.nat({ max: 0xffff }),
    dstPort: fc.nat({ max: 0xffff }),
    payload: payloadArb,
  })
  .map((r) => ({ ...r }));

test('UDP: a captured IPv4 datagram sent without a checksum parses field by field', () => {
  const ip = ok(parseIpv4(udpv4NoChecksum.subarray(ETHERNET_HEADER_LENGTH)));
  const bytes = ip.payload;
  // bf60 0009 0013 0000: ports 48992 -> 9, length 19, checksum 0 ("none").
  assert.equal(udpSrcPort(bytes), 48992);
  assert.equal(udpDstPort(bytes), 9);
  const pseudo = pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Udp, 0);
  const udp = ok(parseUdp(bytes, pseudo, true));
  assert.equal(udp.srcPort, 48992);
  assert.equal(udp.dstPort, 9);
  assert.equal(new TextDecoder().decode(udp.payload), 'no checksum');
  assert.equal(udp.payload.buffer, bytes.buffer, 'the payload is a view');
  // Over IPv6 a zero checksum is invalid (RFC 8200 §8.1).
  assert.equal(parseUdp(bytes, pseudo, false), WireDropReason.BadChecksum);
});

test('UDP: the kernel checksum of a reassembled IPv4 datagram verifies; emit reproduces it', () => {
  const first = ok(parseIpv4(ipv4FirstFragment.subarray(ETHERNET_HEADER_LENGTH)));
  const last = ok(parseIpv4(ipv4LastFragment.subarray(ETHERNET_HEADER_LENGTH)));
  const datagram = concat(first.payload, last.payload);
  const pseudo = pseudoHeaderSumV4(first.src, first.dst, IpProtocol.Udp, 0);
  const udp = ok(parseUdp(datagram, pseudo, true));
  assert.equal(udp.srcPort, 46896);
  assert.equal(udp.dstPort, 7);
  assert.deepEqual(udp.payload, capturedPayload());
  const out = new Uint8Array(udpLength(udp));
  assert.equal(emitUdp(udp, out, pseudo), 2008);
  assert.deepEqual(out, datagram);
});

test('UDP: the kernel checksum of a reassembled IPv6 datagram verifies; emit reproduces it', () => {
  const first = ok(parseIpv6(ipv6FirstFragment.subarray(ETHERNET_HEADER_LENGTH)));
  const last = ok(parseIpv6(ipv6LastFragment.subarray(ETHERNET_HEADER_LENGTH)));
  const datagram = concat(first.payload, last.payload);
  const pseudo = pseudoHeaderSumV6(first.src, first.dst, IpProtocol.Udp, 0);
  const udp = ok(parseUdp(datagram, pseudo, false));
  assert.equal(udp.srcPort, 50594);
  assert.equal(udp.dstPort, 7);
  assert.deepEqual(udp.payload, capturedPayload());
  const out = new Uint8Array(udpLength(udp));
  emitUdp(udp, out, pseudo);
  assert.deepEqual(out, datagram);
  // The same bytes claimed by another source address do not verify.
  const other = pseudoHeaderSumV6(first.dst, first.dst, IpProtocol.Udp, 0);
  assert.equal(parseUdp(datagram, other, false), WireDropReason.BadChecksum);
});

test('UDP: emit -> parse round-trips generated datagrams over both families', () => {
  fc.assert(
    fc.property(reprArb, ipv4Arb, ipv4Arb, (repr, src, dst) => {
      const pseudo = pseudoHeaderSumV4(src, dst, IpProtocol.Udp, 0);
      const out = new Uint8Array(udpLength(repr));
      emitUdp(repr, out, pseudo);
      assert.notEqual((out[6]! << 8) | out[7]!, 0, 'a computed checksum is never sent as 0');
      assert.deepEqual(ok(parseUdp(out, pseudo, true)), repr);
    }),
  );
  fc.assert(
    fc.property(reprArb, ipv6Arb, ipv6Arb, (repr, src, dst) => {
      const pseudo = pseudoHeaderSumV6(src, dst, IpProtocol.Udp, 0);
      const out = new Uint8Array(udpLength(repr));
      emitUdp(repr, out, pseudo);
      assert.deepEqual(ok(parseUdp(out, pseudo, false)), repr);
    }),
  );
});

test('UDP: a checksum that computes to zero is sent as 0xffff and still verifies', () => {
  // Choose the two payload bytes so that the whole sum is 0xffff (RFC 768).
  const repr: UdpRepr = { srcPort: 1000, dstPort: 2000, payload: new Uint8Array(2) };
  const pseudo = pseudoHeaderSumV4(0x0a000001, 0x0a000002, IpProtocol.Udp, 0);
  const header = new Uint8Array([0x03, 0xe8, 0x07, 0xd0, 0, 10, 0, 0]);
  const rest = checksumFold(checksumAdd(pseudo + 10, header));
  const word = 0xffff - rest;
  repr.payload[0] = word >>> 8;
  repr.payload[1] = word & 0xff;
  const out = new Uint8Array(udpLength(repr));
  emitUdp(repr, out, pseudo);
  assert.equal((out[6]! << 8) | out[7]!, 0xffff);
  assert.deepEqual(ok(parseUdp(out, pseudo, true)), repr);
});

test('UDP: bytes beyond the length field are ignored', () => {
  const repr: UdpRepr = { srcPort: 53, dstPort: 5353, payload: new Uint8Array([1, 2, 3]) };
  const pseudo = pseudoHeaderSumV4(1, 2, IpProtocol.Udp, 0);
  const out = new Uint8Array(udpLength(repr) + 4).fill(0x99);
  emitUdp(repr, out, pseudo);
  assert.deepEqual(ok(parseUdp(out, pseudo, true)), repr);
});

test('UDP: each malformed datagram returns its named reason', () => {
  const repr: UdpRepr = { srcPort: 53, dstPort: 5353, payload: new Uint8Array([1, 2, 3, 4]) };
  const pseudo = pseudoHeaderSumV4(1, 2, IpProtocol.Udp, 0);
  const good = new Uint8Array(udpLength(repr));
  emitUdp(repr, good, pseudo);
  const edit = (offset: number, value: number): Uint8Array => {
    const copy = good.slice();
    copy[offset] = value;
    return copy;
  };
  assert.equal(parseUdp(good.subarray(0, 7), pseudo, true), WireDropReason.Truncated);
  assert.equal(parseUdp(edit(5, 7), pseudo, true), WireDropReason.BadLength, 'length 7 < 8');
  assert.equal(parseUdp(edit(5, 13), pseudo, true), WireDropReason.BadLength, 'length 13 > 12');
  assert.equal(parseUdp(edit(11, 5), pseudo, true), WireDropReason.BadChecksum);
  assert.equal(parseUdp(good, pseudo + 1, true), WireDropReason.BadChecksum, 'wrong pseudo-header');
  const noSum = edit(6, 0);
  noSum[7] = 0;
  assert.deepEqual(ok(parseUdp(noSum, pseudo, true)), repr);
  assert.equal(parseUdp(noSum, pseudo, false), WireDropReason.BadChecksum);
});

test('UDP: random bytes never throw', () => {
  fc.assert(
    fc.property(junkArb(40), fc.nat(), fc.boolean(), (bytes, pseudo, zeroOk) => {
      const result = parseUdp(bytes, pseudo, zeroOk);
      assert.ok(isDropReason(result) || result.payload.length + UDP_HEADER_LENGTH <= bytes.length);
    }),
  );
});

test('UDP: emit refuses oversized datagrams and small buffers', () => {
  const repr: UdpRepr = { srcPort: 1, dstPort: 2, payload: new Uint8Array(4) };
  assert.throws(() => emitUdp(repr, new Uint8Array(11), 0), /udpLength/);
  const huge = { ...repr, payload: new Uint8Array(65528) };
  assert.throws(() => emitUdp(huge, new Uint8Array(70000), 0), /65535/);
});
