import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ETHERNET_HEADER_LENGTH,
  IPV4_HEADER_LENGTH,
  IpProtocol,
  WireDropReason,
  emitIpv4,
  formatIpv4Address,
  internetChecksum,
  ipVersion,
  ipv4Dst,
  ipv4HeaderLength,
  ipv4IsFragment,
  ipv4IsMulticast,
  ipv4Length,
  ipv4Protocol,
  ipv4Src,
  ipv4TotalLength,
  ipv4Ttl,
  isDropReason,
  parseIpv4,
  parseIpv4Address,
  type Ipv4Repr,
} from '../../src/wire/index.js';
import {
  icmpv4EchoReply,
  icmpv4EchoRequest,
  icmpv4PortUnreachable,
  ipv4FirstFragment,
  ipv4LastFragment,
} from './captured.js';
import { ipv4Arb, junkArb, payloadArb } from './arbitraries.js';
import { hex, ok } from './support.js';

/** The IP datagram inside a captured Ethernet frame (a view). */
function ip(frame: Uint8Array): Uint8Array {
  return frame.subarray(ETHERNET_HEADER_LENGTH);
}

/** Rewrites the header checksum of `bytes` (header length from its IHL) in place. */
function fixChecksum(bytes: Uint8Array): Uint8Array {
  const headerLength = (bytes[0]! & 0x0f) * 4;
  bytes[10] = 0;
  bytes[11] = 0;
  const sum = internetChecksum(bytes.subarray(0, headerLength));
  bytes[10] = sum >>> 8;
  bytes[11] = sum & 0xff;
  return bytes;
}

const reprArb: fc.Arbitrary<Ipv4Repr> = fc
  .record({
    src: ipv4Arb,
    dst: ipv4Arb,
    protocol: fc.nat({ max: 255 }),
    ttl: fc.nat({ max: 255 }),
    dscp: fc.nat({ max: 63 }),
    ecn: fc.nat({ max: 3 }),
    identification: fc.nat({ max: 0xffff }),
    dontFragment: fc.boolean(),
    moreFragments: fc.boolean(),
    fragmentOffset: fc.nat({ max: 0x1fff }).map((units) => units * 8),
    payload: payloadArb,
  })
  .map((repr) => ({ ...repr })); // fc.record builds null-prototype objects

test('IPv4: a captured echo request parses field by field', () => {
  const bytes = ip(icmpv4EchoRequest);
  // 4500 002c 69d9 4000 4001 ....: version 4, IHL 5, tos 0, length 44,
  // id 27097, DF, offset 0, TTL 64, protocol 1 (ICMP).
  const repr = ok(parseIpv4(bytes));
  assert.equal(repr.dscp, 0);
  assert.equal(repr.ecn, 0);
  assert.equal(repr.identification, 27097);
  assert.equal(repr.dontFragment, true);
  assert.equal(repr.moreFragments, false);
  assert.equal(repr.fragmentOffset, 0);
  assert.equal(repr.ttl, 64);
  assert.equal(repr.protocol, IpProtocol.Icmp);
  assert.equal(formatIpv4Address(repr.src), '192.0.2.1');
  assert.equal(formatIpv4Address(repr.dst), '192.0.2.2');
  assert.equal(repr.payload.length, 44 - 20);
  assert.equal(repr.payload[0], 8, 'the payload is the ICMP echo request');
  assert.equal(repr.payload.buffer, bytes.buffer, 'the payload is a view');
  // The accessors read the same fields without a repr.
  assert.equal(ipVersion(bytes), 4);
  assert.equal(ipv4HeaderLength(bytes), 20);
  assert.equal(ipv4TotalLength(bytes), 44);
  assert.equal(ipv4Protocol(bytes), 1);
  assert.equal(ipv4Ttl(bytes), 64);
  assert.equal(ipv4Src(bytes), parseIpv4Address('192.0.2.1'));
  assert.equal(ipv4Dst(bytes), parseIpv4Address('192.0.2.2'));
  assert.equal(ipv4IsFragment(bytes), false);
});

test('IPv4: the DS field splits into DSCP and ECN (kernel ICMP errors use tos 0xc0)', () => {
  const repr = ok(parseIpv4(ip(icmpv4PortUnreachable)));
  assert.equal(repr.dscp, 48, 'CS6');
  assert.equal(repr.ecn, 0);
  assert.equal(repr.dontFragment, false);
  assert.equal(repr.identification, 31332);
});

test('IPv4: captured fragments report MF and the offset in bytes', () => {
  const first = ok(parseIpv4(ip(ipv4FirstFragment)));
  assert.equal(first.moreFragments, true);
  assert.equal(first.fragmentOffset, 0);
  assert.equal(first.identification, 23574);
  assert.equal(first.protocol, IpProtocol.Udp);
  assert.equal(first.payload.length, 1480);
  assert.ok(ipv4IsFragment(ip(ipv4FirstFragment)));
  const last = ok(parseIpv4(ip(ipv4LastFragment)));
  assert.equal(last.moreFragments, false);
  assert.equal(last.fragmentOffset, 1480);
  assert.equal(last.identification, 23574);
  assert.equal(last.payload.length, 548 - 20);
  assert.ok(ipv4IsFragment(ip(ipv4LastFragment)));
});

test('IPv4: parse -> emit gives back the captured bytes', () => {
  for (const frame of [
    icmpv4EchoRequest,
    icmpv4EchoReply,
    icmpv4PortUnreachable,
    ipv4FirstFragment,
    ipv4LastFragment,
  ]) {
    const bytes = ip(frame);
    const repr = ok(parseIpv4(bytes));
    const out = new Uint8Array(ipv4Length(repr));
    assert.equal(emitIpv4(repr, out), bytes.length);
    assert.deepEqual(out, bytes);
  }
});

test('IPv4: emit -> parse round-trips generated datagrams', () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const out = new Uint8Array(ipv4Length(repr));
      emitIpv4(repr, out);
      assert.equal(internetChecksum(out.subarray(0, IPV4_HEADER_LENGTH)), 0);
      assert.deepEqual(ok(parseIpv4(out)), repr);
    }),
  );
});

test('IPv4: trailing Ethernet padding beyond the total length is ignored', () => {
  // A 44-byte datagram in a minimum-size frame carries 2 bytes of padding.
  const padded = new Uint8Array(46);
  padded.set(ip(icmpv4EchoRequest));
  padded[44] = 0xaa;
  padded[45] = 0xbb;
  const repr = ok(parseIpv4(padded));
  assert.equal(repr.payload.length, 24);
  assert.equal(repr.payload[repr.payload.length - 1], ip(icmpv4EchoRequest)[43]);
});

test('IPv4: options are skipped; emit writes a 20-byte header without them', () => {
  // IHL 6: a Router Alert option (RFC 2113: 94 04 0000) before 4 payload bytes.
  const bytes = fixChecksum(
    hex('4600 001c 0001 0000 4011 0000 c0000201 c0000202 94040000 deadbeef'),
  );
  const repr = ok(parseIpv4(bytes));
  assert.deepEqual(repr.payload, hex('deadbeef'));
  assert.equal(repr.protocol, IpProtocol.Udp);
  const out = new Uint8Array(ipv4Length(repr));
  assert.equal(emitIpv4(repr, out), 24);
  assert.equal(out[0], 0x45);
  assert.deepEqual(ok(parseIpv4(out)), repr);
});

test('IPv4: each malformed header returns its named reason', () => {
  const good = ip(icmpv4EchoRequest);
  const mutated = (edit: (b: Uint8Array) => void, fix = true): Uint8Array => {
    const copy = good.slice();
    edit(copy);
    return fix ? fixChecksum(copy) : copy;
  };
  assert.equal(parseIpv4(good.subarray(0, 19)), WireDropReason.Truncated);
  assert.equal(parseIpv4(new Uint8Array(0)), WireDropReason.Truncated);
  assert.equal(parseIpv4(mutated((b) => (b[0] = 0x65))), WireDropReason.BadVersion);
  assert.equal(parseIpv4(mutated((b) => (b[0] = 0x44), false)), WireDropReason.BadHeaderLength);
  assert.equal(parseIpv4(mutated((b) => (b[0] = 0x40), false)), WireDropReason.BadHeaderLength);
  // IHL 15 claims a 60-byte header in a 44-byte datagram.
  assert.equal(parseIpv4(mutated((b) => (b[0] = 0x4f), false)), WireDropReason.Truncated);
  // Total length 45 in 44 bytes: a lying length field.
  assert.equal(parseIpv4(mutated((b) => (b[3] = 45))), WireDropReason.BadLength);
  // Total length 19: shorter than the header itself.
  assert.equal(parseIpv4(mutated((b) => (b[3] = 19))), WireDropReason.BadLength);
  assert.equal(parseIpv4(mutated((b) => (b[8] = 63), false)), WireDropReason.BadChecksum);
  assert.equal(parseIpv4(mutated((b) => (b[11] ^= 1), false)), WireDropReason.BadChecksum);
});

test('IPv4: random bytes never throw, and a fixed-up header always parses', () => {
  fc.assert(
    fc.property(junkArb(80), (bytes) => {
      const result = parseIpv4(bytes);
      assert.ok(isDropReason(result) || result.payload.length <= bytes.length);
    }),
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 60, maxLength: 120 }),
      fc.nat({ max: 10 }),
      (bytes, ihl) => {
        const headerLength = (5 + ihl) * 4;
        bytes[0] = 0x40 | (5 + ihl);
        const total = headerLength + (bytes[2]! % (bytes.length - headerLength + 1));
        bytes[2] = total >>> 8;
        bytes[3] = total & 0xff;
        const repr = ok(parseIpv4(fixChecksum(bytes)));
        assert.equal(repr.payload.length, total - headerLength);
      },
    ),
  );
});

test('IPv4: emit refuses reprs it cannot encode and buffers that are too small', () => {
  const repr: Ipv4Repr = {
    src: 1,
    dst: 2,
    protocol: IpProtocol.Udp,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    identification: 0,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    payload: new Uint8Array(8),
  };
  assert.throws(() => emitIpv4(repr, new Uint8Array(27)), /ipv4Length/);
  assert.throws(
    () => emitIpv4({ ...repr, fragmentOffset: 12 }, new Uint8Array(28)),
    /multiple of 8/,
  );
  assert.throws(
    () => emitIpv4({ ...repr, fragmentOffset: 65536 }, new Uint8Array(28)),
    /multiple of 8/,
  );
  const huge = { ...repr, payload: new Uint8Array(65516) };
  assert.throws(() => emitIpv4(huge, new Uint8Array(70000)), /65535/);
});

test('IPv4: multicast is 224.0.0.0/4', () => {
  assert.ok(ipv4IsMulticast(parseIpv4Address('224.0.0.1')!));
  assert.ok(ipv4IsMulticast(parseIpv4Address('239.255.255.255')!));
  assert.ok(!ipv4IsMulticast(parseIpv4Address('240.0.0.1')!));
  assert.ok(!ipv4IsMulticast(parseIpv4Address('192.0.2.1')!));
});
