import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ETHERNET_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  IpProtocol,
  WireDropReason,
  emitIpv6,
  formatIpv6Address,
  ipv6Dst,
  ipv6HopLimit,
  ipv6IsMulticast,
  ipv6IsUnspecified,
  ipv6Length,
  ipv6NextHeader,
  ipv6PayloadLength,
  ipv6SolicitedNode,
  ipv6Src,
  isDropReason,
  parseIpv6,
  parseIpv6Address,
  walkIpv6Extensions,
  type Ipv6Chain,
  type Ipv6Repr,
} from '../../src/wire/index.js';
import {
  icmpv6EchoReply,
  icmpv6EchoRequest,
  icmpv6PortUnreachable,
  ipv6FirstFragment,
  ipv6LastFragment,
  mldReportHopByHop,
  ndpNeighborAdvertisement,
} from './captured.js';
import { ipv6Arb, junkArb, payloadArb } from './arbitraries.js';
import { hex, ok } from './support.js';

function ip(frame: Uint8Array): Uint8Array {
  return frame.subarray(ETHERNET_HEADER_LENGTH);
}

const A = parseIpv6Address('2001:db8::1')!;
const B = parseIpv6Address('2001:db8::2')!;

/** A packet: fixed header with `nextHeader` from A to B, then `rest`. */
function packet(nextHeader: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(IPV6_HEADER_LENGTH + rest.length);
  out[0] = 0x60;
  out[4] = rest.length >>> 8;
  out[5] = rest.length & 0xff;
  out[6] = nextHeader;
  out[7] = 64;
  out.set(A, 8);
  out.set(B, 24);
  out.set(rest, IPV6_HEADER_LENGTH);
  return out;
}

const fragmentArb = fc.option(
  fc.record({
    offset: fc.nat({ max: 0x1fff }).map((units) => units * 8),
    moreFragments: fc.boolean(),
    identification: fc.nat({ max: 0xffffffff }),
  }),
  { nil: null },
);

const reprArb: fc.Arbitrary<Ipv6Repr> = fc
  .record({
    src: ipv6Arb,
    dst: ipv6Arb,
    protocol: fc.constantFrom(IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmpv6, 253),
    hopLimit: fc.nat({ max: 255 }),
    dscp: fc.nat({ max: 63 }),
    ecn: fc.nat({ max: 3 }),
    flowLabel: fc.nat({ max: 0xfffff }),
    fragment: fragmentArb,
    payload: payloadArb,
  })
  .map((r) => ({
    ...r,
    fragment: r.fragment === null ? null : { ...r.fragment },
    headerLength: r.fragment === null ? 40 : 48,
  }));

test('IPv6: a captured echo request parses field by field', () => {
  const bytes = ip(icmpv6EchoRequest);
  // 6008 1911 0018 3a40: version 6, traffic class 0, flow label 0x81911,
  // payload length 24, next header 58 (ICMPv6), hop limit 64.
  const repr = ok(parseIpv6(bytes));
  assert.equal(repr.dscp, 0);
  assert.equal(repr.ecn, 0);
  assert.equal(repr.flowLabel, 0x81911);
  assert.equal(repr.hopLimit, 64);
  assert.equal(repr.protocol, IpProtocol.Icmpv6);
  assert.equal(repr.headerLength, 40);
  assert.equal(repr.fragment, null);
  assert.equal(formatIpv6Address(repr.src), '2001:db8::1');
  assert.equal(formatIpv6Address(repr.dst), '2001:db8::2');
  assert.equal(repr.payload.length, 24);
  assert.equal(repr.payload[0], 128, 'ICMPv6 echo request');
  assert.equal(repr.src.buffer, bytes.buffer, 'addresses are views');
  assert.equal(ipv6PayloadLength(bytes), 24);
  assert.equal(ipv6NextHeader(bytes), 58);
  assert.equal(ipv6HopLimit(bytes), 64);
  assert.deepEqual(ipv6Src(bytes), A);
  assert.deepEqual(ipv6Dst(bytes), B);
});

test('IPv6: the traffic class splits into DSCP and ECN around the nibble boundary', () => {
  // Traffic class 0xe1 (DSCP 56, ECT(1)), flow label 0xfffff.
  const bytes = packet(IpProtocol.Udp, new Uint8Array(0));
  bytes.set(hex('6e1fffff'), 0);
  const repr = ok(parseIpv6(bytes));
  assert.equal(repr.dscp, 56);
  assert.equal(repr.ecn, 1);
  assert.equal(repr.flowLabel, 0xfffff);
  const out = new Uint8Array(ipv6Length(repr));
  emitIpv6(repr, out);
  assert.deepEqual(out, bytes);
});

test('IPv6: a captured MLD report walks past its Hop-by-Hop header', () => {
  const bytes = ip(mldReportHopByHop);
  // Next header 0; HBH: next 58, length 0, Router Alert (05 02 0000), PadN (01 00).
  const repr = ok(parseIpv6(bytes));
  assert.equal(ipv6NextHeader(bytes), IpProtocol.HopByHop);
  assert.equal(repr.protocol, IpProtocol.Icmpv6);
  assert.equal(repr.headerLength, 48);
  assert.equal(repr.fragment, null);
  assert.equal(repr.hopLimit, 1);
  assert.ok(ipv6IsUnspecified(repr.src));
  assert.equal(formatIpv6Address(repr.dst), 'ff02::16');
  assert.equal(repr.payload.length, 56 - 8);
  assert.equal(repr.payload[0], 143, 'MLDv2 report');
});

test('IPv6: captured fragments stop the walk at the Fragment header', () => {
  const first = ok(parseIpv6(ip(ipv6FirstFragment)));
  assert.deepEqual(first.fragment, { offset: 0, moreFragments: true, identification: 0x6f63222a });
  assert.equal(first.protocol, IpProtocol.Udp);
  assert.equal(first.headerLength, 48);
  assert.equal(first.payload.length, 1448);
  const last = ok(parseIpv6(ip(ipv6LastFragment)));
  assert.deepEqual(last.fragment, {
    offset: 1448,
    moreFragments: false,
    identification: 0x6f63222a,
  });
  assert.equal(last.protocol, IpProtocol.Udp);
  assert.equal(last.payload.length, 560);
});

test('IPv6: parse -> emit gives back the captured bytes (fixed header, with or without fragment)', () => {
  for (const frame of [
    icmpv6EchoRequest,
    icmpv6EchoReply,
    icmpv6PortUnreachable,
    ndpNeighborAdvertisement,
    ipv6FirstFragment,
    ipv6LastFragment,
  ]) {
    const bytes = ip(frame);
    const repr = ok(parseIpv6(bytes));
    const out = new Uint8Array(ipv6Length(repr));
    assert.equal(emitIpv6(repr, out), bytes.length);
    assert.deepEqual(out, bytes);
  }
});

test('IPv6: emit drops extension headers other than Fragment', () => {
  const repr = ok(parseIpv6(ip(mldReportHopByHop)));
  const out = new Uint8Array(ipv6Length(repr));
  assert.equal(emitIpv6(repr, out), 40 + 48);
  assert.equal(ipv6NextHeader(out), IpProtocol.Icmpv6);
  assert.deepEqual(out.subarray(40), repr.payload);
});

test('IPv6: emit -> parse round-trips generated packets', () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const out = new Uint8Array(ipv6Length(repr) + 5);
      const length = emitIpv6(repr, out);
      assert.deepEqual(ok(parseIpv6(out.subarray(0, length))), repr);
      // Link padding after the payload changes nothing.
      assert.deepEqual(ok(parseIpv6(out)), repr);
    }),
  );
});

test('IPv6: an extension header chain is walked to the upper layer', () => {
  const chain = hex(
    // Hop-by-Hop: next 60, length 0, PadN with 4 bytes.
    '3c00 0104 00000000' +
      // Destination Options: next 43, length 1 (16 bytes), an unknown skippable
      // option (type 0x1e: high bits 00), Pad1, PadN.
      '2b01 1e03 aabbcc 00 0106 000000000000' +
      // Routing: next 44, length 0, type 4 (SRH), Segments Left 0.
      '2c00 0400 00000000' +
      // Fragment: next 17, offset 0x100 units, M set, id 0x01020304.
      '1100 0801 01020304' +
      // UDP payload.
      'cafe',
  );
  const repr = ok(parseIpv6(packet(IpProtocol.HopByHop, chain)));
  assert.equal(repr.protocol, IpProtocol.Udp);
  assert.equal(repr.headerLength, 40 + 8 + 16 + 8 + 8);
  assert.deepEqual(repr.fragment, {
    offset: 2048,
    moreFragments: true,
    identification: 0x01020304,
  });
  assert.deepEqual(repr.payload, hex('cafe'));
});

test('IPv6: unknown next headers end the walk as the upper-layer protocol', () => {
  const esp = ok(parseIpv6(packet(IpProtocol.Esp, hex('0000000100000001'))));
  assert.equal(esp.protocol, IpProtocol.Esp);
  assert.equal(esp.headerLength, 40);
  const none = ok(parseIpv6(packet(IpProtocol.Ipv6NoNext, hex('ffff'))));
  assert.equal(none.protocol, IpProtocol.Ipv6NoNext);
});

test('IPv6: malformed extension header chains are bad-extension-header', () => {
  const bad = (nextHeader: number, rest: string, why: string): void => {
    assert.equal(parseIpv6(packet(nextHeader, hex(rest))), WireDropReason.BadExtensionHeader, why);
  };
  bad(
    IpProtocol.HopByHop,
    '3c00 0104 00000000 0000 0104 00000000',
    'Hop-by-Hop after Destination Options',
  );
  bad(IpProtocol.Ipv6DestOptions, '1101 0104 00000000', 'Hdr Ext Len 1 needs 16 bytes, 8 present');
  bad(IpProtocol.Ipv6DestOptions, '1100 01', 'fewer than 8 bytes for the header');
  bad(IpProtocol.Ipv6DestOptions, '1100 0105 00000000', 'PadN runs past the header');
  bad(
    IpProtocol.Ipv6DestOptions,
    '1100 00000000 0001',
    'an option type with no room for its length',
  );
  bad(IpProtocol.Ipv6Route, '1100 0000', 'truncated Routing header');
  bad(IpProtocol.Ipv6Fragment, '1100 0000 0000', 'truncated Fragment header');
  bad(
    IpProtocol.Ipv6DestOptions,
    '2c00 0104 00000000 1100 0000',
    'truncated Fragment header after options',
  );
});

test('IPv6: options or routing that demand action we cannot take are unsupported', () => {
  // Jumbo Payload (0xc2, RFC 2675): action bits 11.
  const jumbo = packet(IpProtocol.HopByHop, hex('1100 c204 00010000'));
  assert.equal(parseIpv6(jumbo), WireDropReason.Unsupported);
  // Unknown option 0x7f: action bits 01, discard.
  const discard = packet(IpProtocol.Ipv6DestOptions, hex('1100 7f04 00000000'));
  assert.equal(parseIpv6(discard), WireDropReason.Unsupported);
  // Routing header with Segments Left 1: we would have to forward it.
  const route = packet(IpProtocol.Ipv6Route, hex('1100 0401 00000000'));
  assert.equal(parseIpv6(route), WireDropReason.Unsupported);
});

test('IPv6: truncation, version and lying payload length are named', () => {
  const good = ip(icmpv6EchoRequest);
  assert.equal(parseIpv6(good.subarray(0, 39)), WireDropReason.Truncated);
  const v4 = good.slice();
  v4[0] = 0x45;
  assert.equal(parseIpv6(v4), WireDropReason.BadVersion);
  assert.equal(parseIpv6(good.subarray(0, good.length - 1)), WireDropReason.BadLength);
  const padded = new Uint8Array(good.length + 6);
  padded.set(good);
  padded.fill(0xee, good.length);
  assert.equal(ok(parseIpv6(padded)).payload.length, 24, 'padding is not payload');
});

test('IPv6: random bytes never throw; random chains never throw and stay in bounds', () => {
  fc.assert(
    fc.property(junkArb(120), (bytes) => {
      const result = parseIpv6(bytes);
      assert.ok(isDropReason(result) || result.headerLength <= bytes.length);
    }),
  );
  const nextArb = fc.constantFrom(0, 43, 44, 60, 6, 17, 58);
  fc.assert(
    fc.property(nextArb, fc.uint8Array({ maxLength: 96 }), (nextHeader, rest) => {
      // Bias the chain towards extension headers: every 8th byte is a Next Header.
      for (let i = 0; i < rest.length; i += 8) rest[i] = [0, 43, 44, 60, 17][rest[i]! % 5]!;
      const bytes = packet(nextHeader, rest);
      const result = parseIpv6(bytes);
      if (!isDropReason(result)) {
        assert.ok(result.headerLength >= 40 && result.headerLength <= bytes.length);
        assert.equal(result.headerLength + result.payload.length, bytes.length);
      }
    }),
  );
});

test('IPv6: walkIpv6Extensions walks a quoted packet for an ICMPv6 error', () => {
  // The captured port unreachable quotes a whole 59-byte UDP/IPv6 datagram at offset 8.
  const quoted = ip(icmpv6PortUnreachable).subarray(40 + 8);
  const chain: Ipv6Chain = { protocol: -1, headerLength: 0, fragment: null };
  const problem = walkIpv6Extensions(quoted, ipv6NextHeader(quoted), 40, quoted.length, chain);
  assert.equal(problem, null);
  assert.equal(chain.protocol, IpProtocol.Udp);
  assert.equal(chain.headerLength, 40);
  // UDP destination port 9 in the quote.
  assert.equal((quoted[42]! << 8) | quoted[43]!, 9);
  // A reassembled fragmentable part is walked from offset 0; Hop-by-Hop may
  // not appear in it, first or after 40 bytes of other headers.
  const part = hex('1104 0124' + '00'.repeat(36) + '1100 0104 00000000');
  assert.equal(walkIpv6Extensions(part, IpProtocol.Ipv6DestOptions, 0, part.length, chain), null);
  assert.equal(chain.protocol, IpProtocol.Udp);
  assert.equal(chain.headerLength, 40);
  assert.equal(
    walkIpv6Extensions(part, IpProtocol.HopByHop, 0, part.length, chain),
    WireDropReason.BadExtensionHeader,
  );
  part[0] = IpProtocol.HopByHop;
  assert.equal(
    walkIpv6Extensions(part, IpProtocol.Ipv6DestOptions, 0, part.length, chain),
    WireDropReason.BadExtensionHeader,
  );
  // A quote cut inside an extension header is refused, even when the caller
  // passes the end the (truncated) payload length claims.
  const cut = packet(IpProtocol.Ipv6DestOptions, hex('1101 0104 00000000')).subarray(0, 48);
  const far = walkIpv6Extensions(cut, IpProtocol.Ipv6DestOptions, 40, 1000, chain);
  assert.equal(far, WireDropReason.BadExtensionHeader);
});

test('IPv6: emit refuses reprs it cannot encode and buffers that are too small', () => {
  const repr: Ipv6Repr = {
    src: A,
    dst: B,
    protocol: IpProtocol.Udp,
    headerLength: 40,
    fragment: null,
    hopLimit: 64,
    dscp: 0,
    ecn: 0,
    flowLabel: 0,
    payload: new Uint8Array(8),
  };
  assert.throws(() => emitIpv6(repr, new Uint8Array(47)), /ipv6Length/);
  assert.throws(() => emitIpv6({ ...repr, src: new Uint8Array(4) }, new Uint8Array(48)), /16-byte/);
  const odd = { ...repr, fragment: { offset: 4, moreFragments: true, identification: 1 } };
  assert.throws(() => emitIpv6(odd, new Uint8Array(56)), /multiple of 8/);
  const huge = { ...repr, payload: new Uint8Array(65536) };
  assert.throws(() => emitIpv6(huge, new Uint8Array(70000)), /65535/);
});

test('IPv6 address helpers: multicast, unspecified, solicited-node', () => {
  assert.ok(ipv6IsMulticast(parseIpv6Address('ff02::1')!));
  assert.ok(!ipv6IsMulticast(A));
  assert.ok(ipv6IsUnspecified(parseIpv6Address('::')!));
  assert.ok(!ipv6IsUnspecified(parseIpv6Address('::1')!));
  const group = ipv6SolicitedNode(parseIpv6Address('2001:db8::abcd:ef12')!, new Uint8Array(16));
  assert.equal(formatIpv6Address(group), 'ff02::1:ffcd:ef12');
});
