import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ETHERNET_HEADER_LENGTH,
  Icmpv4TimeExceededCode,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  IpProtocol,
  WireDropReason,
  emitIcmpv4,
  formatIpv4Address,
  icmpv4Code,
  icmpv4Length,
  icmpv4Type,
  internetChecksum,
  ipv4Dst,
  ipv4TotalLength,
  ipv4Ttl,
  isDropReason,
  parseIcmpv4,
  parseIpv4,
  udpDstPort,
  type Icmpv4Repr,
} from '../../src/wire/index.js';
import {
  icmpv4EchoReply,
  icmpv4EchoRequest,
  icmpv4FragmentationNeeded,
  icmpv4PortUnreachable,
  icmpv4TimeExceeded,
} from './captured.js';
import { junkArb, payloadArb } from './arbitraries.js';
import { hex, ok } from './support.js';

/** The ICMP message inside a captured frame (after a 20-byte IPv4 header). */
function icmp(frame: Uint8Array): Uint8Array {
  return ok(parseIpv4(frame.subarray(ETHERNET_HEADER_LENGTH))).payload;
}

/** Sets the ICMP checksum of `bytes` in place. */
function fixChecksum(bytes: Uint8Array): Uint8Array {
  bytes[2] = 0;
  bytes[3] = 0;
  const sum = internetChecksum(bytes);
  bytes[2] = sum >>> 8;
  bytes[3] = sum & 0xff;
  return bytes;
}

/** A quoted datagram: a 20-byte IPv4 header plus 8 bytes of UDP header, as RFC 792 asks. */
const QUOTE = hex('4500 0024 0001 4000 0111 0000 c0000201 c6336407 8000 829a 0010 0000');
const quoteArb = fc.uint8Array({ maxLength: 40 }).map((tail) => {
  const out = new Uint8Array(QUOTE.length + tail.length);
  out.set(QUOTE);
  out.set(tail, QUOTE.length);
  return out;
});

const reprArb: fc.Arbitrary<Icmpv4Repr> = fc
  .oneof(
    fc.record({
      type: fc.constantFrom(Icmpv4Type.EchoRequest, Icmpv4Type.EchoReply),
      identifier: fc.nat({ max: 0xffff }),
      sequence: fc.nat({ max: 0xffff }),
      data: payloadArb,
    }),
    fc.record({
      type: fc.constant(Icmpv4Type.DestinationUnreachable),
      code: fc.nat({ max: 15 }),
      nextHopMtu: fc.nat({ max: 0xffff }),
      original: quoteArb,
    }),
    fc.record({
      type: fc.constant(Icmpv4Type.TimeExceeded),
      code: fc.nat({ max: 1 }),
      original: quoteArb,
    }),
    fc.record({
      type: fc.constant(Icmpv4Type.ParameterProblem),
      code: fc.nat({ max: 2 }),
      pointer: fc.nat({ max: 255 }),
      original: quoteArb,
    }),
  )
  .map((r) => ({ ...r }) as Icmpv4Repr);

test('ICMPv4: a captured echo request and its reply parse field by field', () => {
  const bytes = icmp(icmpv4EchoRequest);
  // 0800 xxxx 1234 0001 "tcpts ping data!"
  assert.equal(icmpv4Type(bytes), 8);
  assert.equal(icmpv4Code(bytes), 0);
  const request = ok(parseIcmpv4(bytes));
  assert.equal(request.type, Icmpv4Type.EchoRequest);
  if (request.type !== Icmpv4Type.EchoRequest) return;
  assert.equal(request.identifier, 0x1234);
  assert.equal(request.sequence, 1);
  assert.equal(new TextDecoder().decode(request.data), 'tcpts ping data!');
  const reply = ok(parseIcmpv4(icmp(icmpv4EchoReply)));
  assert.deepEqual(reply, { ...request, type: Icmpv4Type.EchoReply });
});

test('ICMPv4: a captured port unreachable quotes the whole UDP datagram', () => {
  const repr = ok(parseIcmpv4(icmp(icmpv4PortUnreachable)));
  assert.equal(repr.type, Icmpv4Type.DestinationUnreachable);
  if (repr.type !== Icmpv4Type.DestinationUnreachable) return;
  assert.equal(repr.code, Icmpv4UnreachableCode.PortUnreachable);
  assert.equal(repr.nextHopMtu, 0);
  // The quote is short enough to be complete: it parses as a datagram.
  const quoted = ok(parseIpv4(repr.original));
  assert.equal(quoted.protocol, IpProtocol.Udp);
  assert.equal(formatIpv4Address(quoted.dst), '192.0.2.2');
  assert.equal(udpDstPort(quoted.payload), 9);
  assert.equal(quoted.payload.length, 8 + 11);
});

test('ICMPv4: a captured fragmentation needed carries the RFC 1191 next-hop MTU', () => {
  const repr = ok(parseIcmpv4(icmp(icmpv4FragmentationNeeded)));
  assert.equal(repr.type, Icmpv4Type.DestinationUnreachable);
  if (repr.type !== Icmpv4Type.DestinationUnreachable) return;
  assert.equal(repr.code, Icmpv4UnreachableCode.FragmentationNeeded);
  assert.equal(repr.nextHopMtu, 1280);
  // Linux quotes up to 576 bytes in all: 576 - 20 - 8 = 548 of a 1428-byte datagram.
  assert.equal(repr.original.length, 548);
  assert.equal(ipv4TotalLength(repr.original), 1428);
  assert.equal(formatIpv4Address(ipv4Dst(repr.original)), '203.0.113.7');
  assert.equal(parseIpv4(repr.original), WireDropReason.BadLength, 'the quote is cut short');
});

test('ICMPv4: a captured time exceeded quotes the datagram whose TTL ran out', () => {
  const repr = ok(parseIcmpv4(icmp(icmpv4TimeExceeded)));
  assert.equal(repr.type, Icmpv4Type.TimeExceeded);
  if (repr.type !== Icmpv4Type.TimeExceeded) return;
  assert.equal(repr.code, Icmpv4TimeExceededCode.TtlExceeded);
  assert.equal(ipv4Ttl(repr.original), 1);
  assert.equal(formatIpv4Address(ipv4Dst(repr.original)), '198.51.100.7');
  assert.equal(udpDstPort(repr.original.subarray(20)), 33434);
});

test('ICMPv4: parse -> emit gives back the captured bytes', () => {
  for (const frame of [
    icmpv4EchoRequest,
    icmpv4EchoReply,
    icmpv4PortUnreachable,
    icmpv4FragmentationNeeded,
    icmpv4TimeExceeded,
  ]) {
    const bytes = icmp(frame);
    const repr = ok(parseIcmpv4(bytes));
    const out = new Uint8Array(icmpv4Length(repr));
    assert.equal(emitIcmpv4(repr, out), bytes.length);
    assert.deepEqual(out, bytes);
  }
});

test('ICMPv4: a hand-built parameter problem parses and re-emits', () => {
  // Type 12 code 0, pointer 1 (the TOS byte), then the quote.
  const bytes = fixChecksum(
    hex(
      '0c00 0000 01000000' + '4500 0024 0001 4000 0111 0000 c0000201 c6336407 8000 829a 0010 0000',
    ),
  );
  const repr = ok(parseIcmpv4(bytes));
  assert.deepEqual(repr, {
    type: Icmpv4Type.ParameterProblem,
    code: 0,
    pointer: 1,
    original: QUOTE,
  });
  const out = new Uint8Array(icmpv4Length(repr));
  emitIcmpv4(repr, out);
  assert.deepEqual(out, bytes);
});

test('ICMPv4: emit -> parse round-trips generated messages', () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const out = new Uint8Array(icmpv4Length(repr));
      emitIcmpv4(repr, out);
      assert.equal(internetChecksum(out), 0);
      assert.deepEqual(ok(parseIcmpv4(out)), repr);
    }),
  );
});

test('ICMPv4: each malformed message returns its named reason', () => {
  const echo = icmp(icmpv4EchoRequest);
  assert.equal(parseIcmpv4(echo.subarray(0, 7)), WireDropReason.Truncated);
  const flipped = echo.slice();
  flipped[10] ^= 0x20;
  assert.equal(parseIcmpv4(flipped), WireDropReason.BadChecksum);
  // Timestamp request (13) and redirect (5): not handled.
  assert.equal(
    parseIcmpv4(fixChecksum(hex('0d00 0000 00010001 00000000 00000000 00000000'))),
    WireDropReason.Unsupported,
  );
  assert.equal(
    parseIcmpv4(fixChecksum(hex('0501 0000 c0000201').slice())),
    WireDropReason.Unsupported,
  );
  // Errors must quote an IPv4 header and 8 bytes.
  const unreachable = (quote: string): Uint8Array => fixChecksum(hex('0303 0000 00000000' + quote));
  assert.equal(
    parseIcmpv4(unreachable('4500 0024 0001 4000 0111 0000 c0000201')),
    WireDropReason.Truncated,
  );
  assert.equal(
    parseIcmpv4(unreachable('4500 0024 0001 4000 0111 0000 c0000201 c6336407 8000 829a')),
    WireDropReason.Truncated,
    'only 4 bytes after the header',
  );
  assert.equal(
    parseIcmpv4(unreachable('6500 0024 0001 4000 0111 0000 c0000201 c6336407 8000 829a 0010 0000')),
    WireDropReason.BadVersion,
  );
  assert.equal(
    parseIcmpv4(unreachable('4400 0024 0001 4000 0111 0000 c0000201 c6336407 8000 829a 0010 0000')),
    WireDropReason.BadHeaderLength,
  );
  assert.equal(
    parseIcmpv4(
      fixChecksum(
        hex(
          '0b00 0000 00000000 4600 0024 0001 4000 0111 0000 c0000201 c6336407 8000 829a 0010 0000',
        ),
      ),
    ),
    WireDropReason.Truncated,
    'IHL 6 needs 24 + 8 quoted bytes',
  );
});

test('ICMPv4: random bytes never throw, with or without a valid checksum', () => {
  fc.assert(
    fc.property(junkArb(64), (bytes) => {
      assert.ok(isDropReason(parseIcmpv4(bytes)) || bytes.length >= 8);
      if (bytes.length >= 4) {
        bytes[0] = [0, 3, 5, 8, 11, 12][bytes[0]! % 6]!;
        const result = parseIcmpv4(fixChecksum(bytes));
        assert.notEqual(result, WireDropReason.BadChecksum);
      }
    }),
  );
});

test('ICMPv4: emit refuses a buffer that is too small', () => {
  const repr: Icmpv4Repr = {
    type: Icmpv4Type.EchoRequest,
    identifier: 1,
    sequence: 2,
    data: new Uint8Array(4),
  };
  assert.throws(() => emitIcmpv4(repr, new Uint8Array(11)), /icmpv4Length/);
});
