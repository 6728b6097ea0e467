import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ETHERNET_HEADER_LENGTH,
  ICMPV6_MAX_ERROR_QUOTE,
  Icmpv6ParameterProblemCode,
  Icmpv6TimeExceededCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  IpProtocol,
  NeighborAdvertFlags,
  PrefixInfoFlags,
  RouterAdvertFlags,
  WireDropReason,
  checksumAdd,
  checksumFinish,
  emitIcmpv6,
  formatIpv6Address,
  formatMacAddress,
  icmpv6Code,
  icmpv6Length,
  icmpv6Type,
  ipv6Dst,
  ipv6HopLimit,
  isDropReason,
  parseIcmpv6,
  parseIpv6,
  parseIpv6Address,
  pseudoHeaderSumV6,
  udpDstPort,
  type Icmpv6Repr,
  type Ipv6Repr,
} from '../../src/wire/index.js';
import {
  icmpv6EchoReply,
  icmpv6EchoRequest,
  icmpv6PacketTooBig,
  icmpv6PortUnreachable,
  icmpv6TimeExceeded,
  mldReportHopByHop,
  ndpDadSolicitation,
  ndpNeighborAdvertisement,
  ndpNeighborSolicitation,
  ndpRouterSolicitation,
} from './captured.js';
import { ipv6UnicastArb, junkArb, macArb, payloadArb } from './arbitraries.js';
import { hex, ok } from './support.js';

function addr(text: string): Uint8Array {
  return parseIpv6Address(text)!;
}

/** The IPv6 repr of a captured frame; its payload is the ICMPv6 message. */
function ip(frame: Uint8Array): Ipv6Repr {
  return ok(parseIpv6(frame.subarray(ETHERNET_HEADER_LENGTH)));
}

/** Parses the ICMPv6 message of a captured frame with that frame's addresses. */
function parseCaptured(frame: Uint8Array): Icmpv6Repr | WireDropReason {
  const packet = ip(frame);
  return parseIcmpv6(packet.payload, packet.src, packet.dst);
}

/** Sets the ICMPv6 checksum of `bytes` for `src` -> `dst`, in place. */
function fixChecksum(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array): Uint8Array {
  bytes[2] = 0;
  bytes[3] = 0;
  const sum = checksumFinish(
    checksumAdd(pseudoHeaderSumV6(src, dst, IpProtocol.Icmpv6, bytes.length), bytes),
  );
  bytes[2] = sum >>> 8;
  bytes[3] = sum & 0xff;
  return bytes;
}

const LINK_LOCAL = addr('fe80::1');
const ROUTER = addr('fe80::ff:fe00:1');
const ALL_NODES = addr('ff02::1');
const ALL_ROUTERS = addr('ff02::2');
const SOLICITED = addr('ff02::1:ff00:2');
const GLOBAL_A = addr('2001:db8::1');
const GLOBAL_B = addr('2001:db8::2');

/**
 * A hand-written router advertisement (RFC 4861 §4.2) from fe80::ff:fe00:1 to ff02::1:
 * hop limit 64, M and O set, router lifetime 1800 s, reachable 30000 ms,
 * retrans 1000 ms; source link-layer 02:00:00:00:00:01; MTU 1500; prefix
 * 2001:db8:0:1::/64 with L and A, valid 86400 s, preferred 14400 s.
 */
const RA = hex(
  '8600 0000 40c0 0708 00007530 000003e8' +
    '0101 020000000001' +
    '0501 0000 000005dc' +
    '0304 40c0 00015180 00003840 00000000 20010db8000000010000000000000000',
);

test('ICMPv6: a captured echo request and its reply parse field by field', () => {
  const bytes = ip(icmpv6EchoRequest).payload;
  assert.equal(icmpv6Type(bytes), 128);
  assert.equal(icmpv6Code(bytes), 0);
  const request = ok(parseCaptured(icmpv6EchoRequest));
  assert.equal(request.type, Icmpv6Type.EchoRequest);
  if (request.type !== Icmpv6Type.EchoRequest) return;
  assert.equal(request.identifier, 0x1234);
  assert.equal(request.sequence, 1);
  assert.equal(new TextDecoder().decode(request.data), 'tcpts ping data!');
  const reply = ok(parseCaptured(icmpv6EchoReply));
  assert.deepEqual(reply, { ...request, type: Icmpv6Type.EchoReply });
  // The checksum covers the pseudo-header: other addresses fail it (swapping
  // source and destination would not: the sum commutes).
  assert.equal(parseIcmpv6(bytes, GLOBAL_A, ALL_NODES), WireDropReason.BadChecksum);
});

test('ICMPv6: captured errors carry their code, MTU and quoted packet', () => {
  const unreachable = ok(parseCaptured(icmpv6PortUnreachable));
  assert.equal(unreachable.type, Icmpv6Type.DestinationUnreachable);
  if (unreachable.type !== Icmpv6Type.DestinationUnreachable) return;
  assert.equal(unreachable.code, Icmpv6UnreachableCode.PortUnreachable);
  const quoted = ok(parseIpv6(unreachable.original));
  assert.equal(quoted.protocol, IpProtocol.Udp);
  assert.equal(udpDstPort(quoted.payload), 9);

  const exceeded = ok(parseCaptured(icmpv6TimeExceeded));
  assert.equal(exceeded.type, Icmpv6Type.TimeExceeded);
  if (exceeded.type !== Icmpv6Type.TimeExceeded) return;
  assert.equal(exceeded.code, Icmpv6TimeExceededCode.HopLimitExceeded);
  assert.equal(formatIpv6Address(ipv6Dst(exceeded.original)), '2001:db8:1::7');
  assert.equal(ipv6HopLimit(exceeded.original), 1);

  const tooBig = ok(parseCaptured(icmpv6PacketTooBig));
  assert.equal(tooBig.type, Icmpv6Type.PacketTooBig);
  if (tooBig.type !== Icmpv6Type.PacketTooBig) return;
  assert.equal(tooBig.mtu, 1280);
  // RFC 4443 §2.4 (c): the quote fills the message up to the minimum MTU.
  assert.equal(tooBig.original.length, ICMPV6_MAX_ERROR_QUOTE);
  assert.equal(formatIpv6Address(ipv6Dst(tooBig.original)), '2001:db8:2::7');
});

test('NDP: a captured neighbor solicitation and advertisement parse field by field', () => {
  const ns = ok(parseCaptured(ndpNeighborSolicitation));
  assert.equal(ns.type, Icmpv6Type.NeighborSolicitation);
  if (ns.type !== Icmpv6Type.NeighborSolicitation) return;
  assert.equal(formatIpv6Address(ns.target), '2001:db8::2');
  assert.equal(formatMacAddress(ns.sourceLinkLayer!), '02:00:00:00:00:0a');
  assert.equal(ip(ndpNeighborSolicitation).hopLimit, 255);

  const na = ok(parseCaptured(ndpNeighborAdvertisement));
  assert.equal(na.type, Icmpv6Type.NeighborAdvertisement);
  if (na.type !== Icmpv6Type.NeighborAdvertisement) return;
  // The peer forwards, so it advertises itself as a router: R, S and O.
  assert.equal(
    na.flags,
    NeighborAdvertFlags.Router | NeighborAdvertFlags.Solicited | NeighborAdvertFlags.Override,
  );
  assert.equal(formatIpv6Address(na.target), '2001:db8::2');
  assert.equal(formatMacAddress(na.targetLinkLayer!), '02:00:00:00:00:0b');
});

test('NDP: a captured duplicate address detection probe skips the nonce option', () => {
  const packet = ip(ndpDadSolicitation);
  assert.equal(formatIpv6Address(packet.src), '::');
  assert.equal(formatIpv6Address(packet.dst), 'ff02::1:ff00:a');
  const ns = ok(parseIcmpv6(packet.payload, packet.src, packet.dst));
  assert.deepEqual(ns, {
    type: Icmpv6Type.NeighborSolicitation,
    target: addr('fe80::ff:fe00:a'),
    sourceLinkLayer: null,
  });
});

test('NDP: a captured router solicitation carries its source link-layer address', () => {
  const rs = ok(parseCaptured(ndpRouterSolicitation));
  assert.equal(rs.type, Icmpv6Type.RouterSolicitation);
  if (rs.type !== Icmpv6Type.RouterSolicitation) return;
  assert.equal(formatMacAddress(rs.sourceLinkLayer!), '02:00:00:00:00:0a');
});

test('ICMPv6: parse -> emit gives back the captured bytes', () => {
  for (const frame of [
    icmpv6EchoRequest,
    icmpv6EchoReply,
    icmpv6PortUnreachable,
    icmpv6TimeExceeded,
    icmpv6PacketTooBig,
    ndpNeighborSolicitation,
    ndpNeighborAdvertisement,
    ndpRouterSolicitation,
  ]) {
    const packet = ip(frame);
    const repr = ok(parseIcmpv6(packet.payload, packet.src, packet.dst));
    const out = new Uint8Array(icmpv6Length(repr));
    assert.equal(emitIcmpv6(repr, packet.src, packet.dst, out), packet.payload.length);
    assert.deepEqual(out, packet.payload);
  }
});

test('NDP: a hand-written router advertisement parses field by field and re-emits', () => {
  const bytes = fixChecksum(RA.slice(), ROUTER, ALL_NODES);
  const ra = ok(parseIcmpv6(bytes, ROUTER, ALL_NODES));
  assert.equal(ra.type, Icmpv6Type.RouterAdvertisement);
  if (ra.type !== Icmpv6Type.RouterAdvertisement) return;
  assert.equal(ra.hopLimit, 64);
  assert.equal(ra.flags, RouterAdvertFlags.Managed | RouterAdvertFlags.Other);
  assert.equal(ra.routerLifetime, 1800);
  assert.equal(ra.reachableTime, 30000);
  assert.equal(ra.retransTimer, 1000);
  assert.equal(formatMacAddress(ra.sourceLinkLayer!), '02:00:00:00:00:01');
  assert.equal(ra.mtu, 1500);
  assert.equal(ra.prefixes.length, 1);
  const prefix = ra.prefixes[0]!;
  assert.equal(prefix.prefixLength, 64);
  assert.equal(prefix.flags, PrefixInfoFlags.OnLink | PrefixInfoFlags.Autonomous);
  assert.equal(prefix.validLifetime, 86400);
  assert.equal(prefix.preferredLifetime, 14400);
  assert.equal(formatIpv6Address(prefix.prefix), '2001:db8:0:1::');
  const out = new Uint8Array(icmpv6Length(ra));
  emitIcmpv6(ra, ROUTER, ALL_NODES, out);
  assert.deepEqual(out, bytes);
});

test('NDP: unknown options are skipped and several prefixes are all kept', () => {
  // RA with an RDNSS option (type 25, RFC 8106; 3 units) and two prefixes, no SLLA.
  const bytes = fixChecksum(
    hex(
      '8600 0000 4000 0000 00000000 00000000' +
        '1903 0000 00000e10 20010db8000000000000000000000053' +
        '0304 40c0 ffffffff ffffffff 00000000 20010db8000000010000000000000000' +
        '0304 3080 00000e10 00000000 00000000 20010db8000100000000000000000000',
    ),
    ROUTER,
    ALL_NODES,
  );
  const ra = ok(parseIcmpv6(bytes, ROUTER, ALL_NODES));
  if (ra.type !== Icmpv6Type.RouterAdvertisement) return assert.fail('expected an RA');
  assert.equal(ra.sourceLinkLayer, null);
  assert.equal(ra.mtu, 0);
  assert.deepEqual(
    ra.prefixes.map((p) => [formatIpv6Address(p.prefix), p.prefixLength, p.validLifetime]),
    [
      ['2001:db8:0:1::', 64, 0xffffffff],
      ['2001:db8:1::', 48, 3600],
    ],
  );
});

type Addressed = [Icmpv6Repr, Uint8Array, Uint8Array];

/** A repr with the source and destination its validity rules need. */
function addressed(repr: Icmpv6Repr, src: Uint8Array, dst: Uint8Array): Addressed {
  return [repr, src, dst];
}

const ndpReprArb: fc.Arbitrary<Addressed> = fc.oneof(
  fc
    .record({ sourceLinkLayer: fc.option(macArb, { nil: null }) })
    .map((r) => addressed({ type: Icmpv6Type.RouterSolicitation, ...r }, LINK_LOCAL, ALL_ROUTERS)),
  fc
    .record({
      hopLimit: fc.nat({ max: 255 }),
      flags: fc.nat({ max: 255 }),
      routerLifetime: fc.nat({ max: 0xffff }),
      reachableTime: fc.nat({ max: 0xffffffff }),
      retransTimer: fc.nat({ max: 0xffffffff }),
      sourceLinkLayer: fc.option(macArb, { nil: null }),
      mtu: fc.nat({ max: 0xffffffff }),
      prefixes: fc.array(
        fc
          .record({
            prefixLength: fc.nat({ max: 128 }),
            flags: fc.nat({ max: 255 }),
            validLifetime: fc.nat({ max: 0xffffffff }),
            preferredLifetime: fc.nat({ max: 0xffffffff }),
            prefix: ipv6UnicastArb,
          })
          .map((p) => ({ ...p })),
        { maxLength: 3 },
      ),
    })
    .map((r) => addressed({ type: Icmpv6Type.RouterAdvertisement, ...r }, ROUTER, ALL_NODES)),
  fc
    .record({ target: ipv6UnicastArb, sourceLinkLayer: fc.option(macArb, { nil: null }) })
    .map((r) => addressed({ type: Icmpv6Type.NeighborSolicitation, ...r }, GLOBAL_A, SOLICITED)),
  fc
    .record({
      flags: fc.nat({ max: 7 }).map((f) => f << 5),
      target: ipv6UnicastArb,
      targetLinkLayer: fc.option(macArb, { nil: null }),
    })
    .map((r) => addressed({ type: Icmpv6Type.NeighborAdvertisement, ...r }, GLOBAL_B, GLOBAL_A)),
);

const QUOTE = ip(icmpv6PortUnreachable).payload.subarray(8);

const otherReprArb: fc.Arbitrary<Icmpv6Repr> = fc
  .oneof(
    fc.record({
      type: fc.constantFrom(Icmpv6Type.EchoRequest, Icmpv6Type.EchoReply),
      identifier: fc.nat({ max: 0xffff }),
      sequence: fc.nat({ max: 0xffff }),
      data: payloadArb,
    }),
    fc.record({
      type: fc.constant(Icmpv6Type.DestinationUnreachable),
      code: fc.nat({ max: 6 }),
      original: fc.constant(QUOTE),
    }),
    fc.record({
      type: fc.constant(Icmpv6Type.PacketTooBig),
      mtu: fc.nat({ max: 0xffffffff }),
      original: fc.constant(QUOTE),
    }),
    fc.record({
      type: fc.constant(Icmpv6Type.TimeExceeded),
      code: fc.nat({ max: 1 }),
      original: fc.constant(QUOTE),
    }),
    fc.record({
      type: fc.constant(Icmpv6Type.ParameterProblem),
      code: fc.nat({ max: 2 }),
      pointer: fc.nat({ max: 0xffffffff }),
      original: fc.constant(QUOTE),
    }),
  )
  .map((r) => ({ ...r }) as Icmpv6Repr);

test('ICMPv6: emit -> parse round-trips generated messages of every kind', () => {
  fc.assert(
    fc.property(ndpReprArb, ([repr, src, dst]) => {
      const out = new Uint8Array(icmpv6Length(repr));
      emitIcmpv6(repr, src, dst, out);
      assert.deepEqual(ok(parseIcmpv6(out, src, dst)), repr);
    }),
  );
  fc.assert(
    fc.property(otherReprArb, ipv6UnicastArb, ipv6UnicastArb, (repr, src, dst) => {
      const out = new Uint8Array(icmpv6Length(repr));
      emitIcmpv6(repr, src, dst, out);
      assert.deepEqual(ok(parseIcmpv6(out, src, dst)), repr);
    }),
  );
});

test('ICMPv6: a hand-built parameter problem keeps its 32-bit pointer', () => {
  const repr: Icmpv6Repr = {
    type: Icmpv6Type.ParameterProblem,
    code: Icmpv6ParameterProblemCode.UnrecognizedNextHeader,
    pointer: 6,
    original: QUOTE,
  };
  const out = new Uint8Array(icmpv6Length(repr));
  emitIcmpv6(repr, GLOBAL_B, GLOBAL_A, out);
  assert.deepEqual(out.subarray(0, 2), hex('0401'));
  assert.deepEqual(out.subarray(4, 8), hex('00000006'));
  assert.deepEqual(out.subarray(8), QUOTE);
});

test('ICMPv6: truncation, checksum, unsupported types and bad quotes are named', () => {
  const echo = ip(icmpv6EchoRequest).payload;
  assert.equal(parseIcmpv6(echo.subarray(0, 7), GLOBAL_A, GLOBAL_B), WireDropReason.Truncated);
  const flipped = echo.slice();
  flipped[9] ^= 1;
  assert.equal(parseIcmpv6(flipped, GLOBAL_A, GLOBAL_B), WireDropReason.BadChecksum);
  // MLDv2 report (143), captured; redirect (137); an unassigned type.
  assert.equal(parseCaptured(mldReportHopByHop), WireDropReason.Unsupported);
  const redirect = fixChecksum(
    hex(
      '8900 0000 00000000' +
        '20010db8000000000000000000000001' +
        '20010db8000000000000000000000002',
    ),
    ROUTER,
    GLOBAL_A,
  );
  assert.equal(parseIcmpv6(redirect, ROUTER, GLOBAL_A), WireDropReason.Unsupported);
  const unknown = fixChecksum(hex('c800 0000 00000000'), GLOBAL_A, GLOBAL_B);
  assert.equal(parseIcmpv6(unknown, GLOBAL_A, GLOBAL_B), WireDropReason.Unsupported);
  // Errors must quote at least an IPv6 header.
  const shortQuote = fixChecksum(hex('0104 0000 00000000').slice(), GLOBAL_B, GLOBAL_A);
  assert.equal(parseIcmpv6(shortQuote, GLOBAL_B, GLOBAL_A), WireDropReason.Truncated);
  const v4Quote = new Uint8Array(8 + 40);
  v4Quote.set(hex('0300 0000 00000000 4500'));
  assert.equal(
    parseIcmpv6(fixChecksum(v4Quote, GLOBAL_B, GLOBAL_A), GLOBAL_B, GLOBAL_A),
    WireDropReason.BadVersion,
  );
  const ns = ip(ndpNeighborSolicitation);
  const short = fixChecksum(ns.payload.slice(0, 23), ns.src, ns.dst);
  assert.equal(
    parseIcmpv6(short, ns.src, ns.dst),
    WireDropReason.Truncated,
    'an NS needs 24 bytes before its options',
  );
});

test('NDP: option length errors are bad-option', () => {
  const ns = (options: string): Uint8Array =>
    fixChecksum(
      hex('8700 0000 00000000 20010db8000000000000000000000002' + options),
      GLOBAL_A,
      SOLICITED,
    );
  const parse = (bytes: Uint8Array) => parseIcmpv6(bytes, GLOBAL_A, SOLICITED);
  assert.equal(parse(ns('0100 02000000000a')), WireDropReason.BadOption, 'length 0');
  assert.equal(parse(ns('0102 02000000000a')), WireDropReason.BadOption, 'runs past the end');
  assert.equal(parse(ns('01')), WireDropReason.BadOption, 'a lone type byte');
  assert.equal(
    parse(ns('0102 02000000000a 0000000000000000')),
    WireDropReason.BadOption,
    'not an Ethernet address',
  );
  assert.equal(
    parse(ns('0e00 0000000000000000')),
    WireDropReason.BadOption,
    'unknown option, length 0',
  );
  const ra = (options: string): Uint8Array =>
    fixChecksum(hex('8600 0000 4000 0708 00000000 00000000' + options), ROUTER, ALL_NODES);
  assert.equal(
    parseIcmpv6(ra('0502 0000 000005dc 0000000000000000'), ROUTER, ALL_NODES),
    WireDropReason.BadOption,
    'MTU option of 2 units',
  );
  assert.equal(
    parseIcmpv6(ra('0301 4000 00000000'), ROUTER, ALL_NODES),
    WireDropReason.BadOption,
    'prefix option of 1 unit',
  );
  assert.equal(
    parseIcmpv6(
      ra('0304 81c0 00015180 00003840 00000000 20010db8000000010000000000000000'),
      ROUTER,
      ALL_NODES,
    ),
    WireDropReason.BadOption,
    'prefix length 129',
  );
  assert.ok(!isDropReason(parse(ns('0e01 000000000000'))), 'unknown option skipped');
});

test('NDP: messages RFC 4861 calls invalid are bad-field', () => {
  const nsBody = (target: string, options = ''): Uint8Array =>
    hex('8700 0000 00000000' + target + options);
  const check = (bytes: Uint8Array, src: Uint8Array, dst: Uint8Array, why: string): void => {
    assert.equal(parseIcmpv6(fixChecksum(bytes, src, dst), src, dst), WireDropReason.BadField, why);
  };
  const target = '20010db8000000000000000000000002';
  const code1 = nsBody(target);
  code1[1] = 1;
  check(code1, GLOBAL_A, SOLICITED, 'NDP code must be 0');
  check(nsBody('ff020000000000000000000000000001'), GLOBAL_A, SOLICITED, 'multicast NS target');
  check(nsBody(target, '0101 02000000000a'), addr('::'), SOLICITED, 'DAD probe with SLLA');
  check(nsBody(target), addr('::'), ALL_NODES, 'DAD probe not to a solicited-node group');
  const na = (flags: string): Uint8Array => hex('8800 0000 ' + flags + '000000' + target);
  check(na('40'), GLOBAL_B, ALL_NODES, 'solicited NA to a multicast address');
  check(
    hex('8800 0000 20000000 ff020000000000000000000000000001'),
    GLOBAL_B,
    GLOBAL_A,
    'multicast NA target',
  );
  const ra = hex('8600 0000 4000 0708 00000000 00000000');
  check(ra, GLOBAL_A, ALL_NODES, 'RA from a global address');
  check(
    hex('8500 0000 00000000 0101 02000000000a'),
    addr('::'),
    ALL_ROUTERS,
    'RS from :: with SLLA',
  );
  // The valid counterparts pass.
  const ok1 = fixChecksum(na('20'), GLOBAL_B, ALL_NODES);
  assert.ok(!isDropReason(parseIcmpv6(ok1, GLOBAL_B, ALL_NODES)), 'unsolicited NA to all-nodes');
  const ok2 = fixChecksum(nsBody(target), addr('::'), SOLICITED);
  assert.ok(!isDropReason(parseIcmpv6(ok2, addr('::'), SOLICITED)), 'DAD probe');
});

test('ICMPv6: random bytes never throw, with or without a valid checksum', () => {
  const types = [1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137, 143];
  fc.assert(
    fc.property(junkArb(96), ipv6UnicastArb, fc.boolean(), (bytes, src, multicastDst) => {
      const dst = multicastDst ? SOLICITED : GLOBAL_A;
      assert.ok(isDropReason(parseIcmpv6(bytes, src, dst)) || bytes.length >= 8);
      if (bytes.length >= 4) {
        bytes[0] = types[bytes[0]! % types.length]!;
        if (bytes[1]! < 128) bytes[1] = 0;
        const result = parseIcmpv6(fixChecksum(bytes, src, dst), src, dst);
        assert.notEqual(result, WireDropReason.BadChecksum);
      }
    }),
  );
});

test('ICMPv6: emit refuses a buffer that is too small and malformed addresses', () => {
  const ns: Icmpv6Repr = {
    type: Icmpv6Type.NeighborSolicitation,
    target: GLOBAL_B,
    sourceLinkLayer: hex('02000000000a'),
  };
  assert.throws(() => emitIcmpv6(ns, GLOBAL_A, SOLICITED, new Uint8Array(31)), /icmpv6Length/);
  assert.throws(
    () =>
      emitIcmpv6(
        { ...ns, sourceLinkLayer: new Uint8Array(8) },
        GLOBAL_A,
        SOLICITED,
        new Uint8Array(32),
      ),
    /6-byte/,
  );
  assert.throws(
    () => emitIcmpv6({ ...ns, target: new Uint8Array(4) }, GLOBAL_A, SOLICITED, new Uint8Array(32)),
    /16-byte/,
  );
});
