import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ARP_LENGTH,
  ArpOperation,
  ETHERNET_HEADER_LENGTH,
  EtherType,
  MAC_BROADCAST,
  WireDropReason,
  emitArp,
  emitEthernet,
  ethernetDst,
  ethernetLength,
  ethernetSrc,
  ethernetType,
  formatMacAddress,
  ipv6MulticastMac,
  macEqual,
  macIsBroadcast,
  macIsMulticast,
  parseArp,
  parseEthernet,
  parseIpv4Address,
  parseIpv6Address,
  parseMacAddress,
  type ArpRepr,
  type EthernetRepr,
} from '../../src/wire/index.js';
import { arpReply, arpRequest, icmpv4EchoRequest } from './captured.js';
import { hex, ok } from './support.js';
import { ipv4Arb, macArb, payloadArb } from './arbitraries.js';

test('a captured Ethernet II frame parses field by field', () => {
  const frame = ok(parseEthernet(icmpv4EchoRequest));
  assert.equal(formatMacAddress(frame.dst), '02:00:00:00:00:0b');
  assert.equal(formatMacAddress(frame.src), '02:00:00:00:00:0a');
  assert.equal(frame.ethertype, EtherType.Ipv4);
  assert.equal(frame.payload.length, icmpv4EchoRequest.length - ETHERNET_HEADER_LENGTH);
  assert.equal(frame.payload[0], 0x45, 'the payload starts with the IPv4 header');
  // Views, not copies: they share the captured buffer.
  assert.equal(frame.payload.buffer, icmpv4EchoRequest.buffer);
  assert.equal(frame.payload.byteOffset, icmpv4EchoRequest.byteOffset + ETHERNET_HEADER_LENGTH);
  // The accessors agree with the repr.
  assert.ok(macEqual(ethernetDst(icmpv4EchoRequest), frame.dst));
  assert.ok(macEqual(ethernetSrc(icmpv4EchoRequest), frame.src));
  assert.equal(ethernetType(icmpv4EchoRequest), 0x0800);
});

test('Ethernet: parse -> emit gives back the captured bytes', () => {
  for (const captured of [icmpv4EchoRequest, arpRequest, arpReply]) {
    const repr = ok(parseEthernet(captured));
    const out = new Uint8Array(ethernetLength(repr));
    assert.equal(emitEthernet(repr, out), captured.length);
    assert.deepEqual(out, captured);
  }
});

test('Ethernet: emit -> parse round-trips generated frames', () => {
  const ethertypeArb = fc.constantFrom(EtherType.Ipv4, EtherType.Arp, EtherType.Ipv6, 0x88cc);
  fc.assert(
    fc.property(macArb, macArb, ethertypeArb, payloadArb, (dst, src, ethertype, payload) => {
      const repr: EthernetRepr = { dst, src, ethertype, payload };
      const out = new Uint8Array(ethernetLength(repr) + 3);
      const length = emitEthernet(repr, out);
      assert.deepEqual(ok(parseEthernet(out.subarray(0, length))), repr);
    }),
  );
});

test('Ethernet: emit leaves a payload already built in place untouched', () => {
  const out = new Uint8Array(ETHERNET_HEADER_LENGTH + 4);
  out.set([1, 2, 3, 4], ETHERNET_HEADER_LENGTH);
  const payload = out.subarray(ETHERNET_HEADER_LENGTH);
  const repr: EthernetRepr = {
    dst: MAC_BROADCAST,
    src: hex('020000000001'),
    ethertype: EtherType.Arp,
    payload,
  };
  emitEthernet(repr, out);
  assert.deepEqual(out, hex('ffffffffffff 020000000001 0806 01020304'));
});

test('Ethernet: short frames, 802.3 length frames and VLAN tags are refused by name', () => {
  assert.equal(parseEthernet(new Uint8Array(13)), WireDropReason.Truncated);
  assert.equal(parseEthernet(new Uint8Array(0)), WireDropReason.Truncated);
  const llc = hex('ffffffffffff 020000000001 0026 aaaa03');
  assert.equal(parseEthernet(llc), WireDropReason.Unsupported);
  const vlan = hex('ffffffffffff 020000000001 8100 0064 0800');
  assert.equal(parseEthernet(vlan), WireDropReason.Unsupported);
  const qinq = hex('ffffffffffff 020000000001 88a8 0064 8100');
  assert.equal(parseEthernet(qinq), WireDropReason.Unsupported);
});

test('Ethernet: emit refuses an output buffer that is too small', () => {
  const repr: EthernetRepr = {
    dst: MAC_BROADCAST,
    src: MAC_BROADCAST,
    ethertype: EtherType.Ipv4,
    payload: new Uint8Array(10),
  };
  assert.throws(() => emitEthernet(repr, new Uint8Array(23)), /ethernetLength/);
  assert.throws(
    () => emitEthernet({ ...repr, dst: new Uint8Array(4) }, new Uint8Array(24)),
    /6-byte/,
  );
});

test('MAC helpers: multicast, broadcast, and the RFC 2464 IPv6 multicast mapping', () => {
  assert.ok(macIsBroadcast(MAC_BROADCAST) && macIsMulticast(MAC_BROADCAST));
  assert.ok(macIsMulticast(parseMacAddress('33:33:00:00:00:01')!));
  assert.ok(!macIsMulticast(parseMacAddress('02:00:00:00:00:0a')!));
  assert.ok(!macIsBroadcast(parseMacAddress('ff:ff:ff:ff:ff:fe')!));
  const mac = ipv6MulticastMac(parseIpv6Address('ff02::1:ff00:2')!, new Uint8Array(6));
  assert.equal(formatMacAddress(mac), '33:33:ff:00:00:02');
});

test('ARP: the captured request parses field by field', () => {
  const frame = ok(parseEthernet(arpRequest));
  assert.ok(macIsBroadcast(frame.dst));
  assert.equal(frame.ethertype, EtherType.Arp);
  // 42-byte frame: veth does not pad to 60, so the ARP packet is exactly 28 bytes.
  assert.equal(frame.payload.length, ARP_LENGTH);
  const arp = ok(parseArp(frame.payload));
  assert.equal(arp.operation, ArpOperation.Request);
  assert.equal(formatMacAddress(arp.senderHardware), '02:00:00:00:00:0a');
  assert.equal(arp.senderProtocol, parseIpv4Address('192.0.2.1'));
  assert.equal(formatMacAddress(arp.targetHardware), '00:00:00:00:00:00');
  assert.equal(arp.targetProtocol, parseIpv4Address('192.0.2.2'));
});

test('ARP: the captured reply parses, and parse -> emit gives back its bytes', () => {
  const payload = arpReply.subarray(ETHERNET_HEADER_LENGTH);
  const arp = ok(parseArp(payload));
  assert.equal(arp.operation, ArpOperation.Reply);
  assert.equal(formatMacAddress(arp.senderHardware), '02:00:00:00:00:0b');
  assert.equal(arp.senderProtocol, parseIpv4Address('192.0.2.2'));
  assert.equal(formatMacAddress(arp.targetHardware), '02:00:00:00:00:0a');
  assert.equal(arp.targetProtocol, parseIpv4Address('192.0.2.1'));
  const out = new Uint8Array(ARP_LENGTH);
  assert.equal(emitArp(arp, out), ARP_LENGTH);
  assert.deepEqual(out, payload);
});

test('ARP: Ethernet padding after the 28 bytes is ignored', () => {
  const padded = new Uint8Array(46);
  padded.set(arpReply.subarray(ETHERNET_HEADER_LENGTH));
  padded.fill(0xee, ARP_LENGTH);
  const arp = ok(parseArp(padded));
  assert.equal(arp.targetProtocol, parseIpv4Address('192.0.2.1'));
});

test('ARP: emit -> parse round-trips generated packets', () => {
  const opArb = fc.constantFrom(ArpOperation.Request, ArpOperation.Reply);
  fc.assert(
    fc.property(opArb, macArb, ipv4Arb, macArb, ipv4Arb, (operation, sha, spa, tha, tpa) => {
      const repr: ArpRepr = {
        operation,
        senderHardware: sha,
        senderProtocol: spa,
        targetHardware: tha,
        targetProtocol: tpa,
      };
      const out = new Uint8Array(ARP_LENGTH);
      emitArp(repr, out);
      assert.deepEqual(ok(parseArp(out)), repr);
    }),
  );
});

test('ARP: wrong hardware/protocol types and lengths are bad-field; other operations unsupported', () => {
  const good = arpRequest.subarray(ETHERNET_HEADER_LENGTH);
  const mutate = (offset: number, value: number): Uint8Array => {
    const copy = good.slice();
    copy[offset] = value;
    return copy;
  };
  assert.equal(parseArp(good.subarray(0, 27)), WireDropReason.Truncated);
  assert.equal(parseArp(mutate(1, 6)), WireDropReason.BadField, 'htype 6 (IEEE 802)');
  assert.equal(parseArp(mutate(2, 0x86)), WireDropReason.BadField, 'ptype 0x86dd');
  assert.equal(parseArp(mutate(4, 8)), WireDropReason.BadField, 'hlen 8');
  assert.equal(parseArp(mutate(5, 16)), WireDropReason.BadField, 'plen 16');
  assert.equal(parseArp(mutate(7, 3)), WireDropReason.Unsupported, 'RARP request');
  assert.equal(parseArp(mutate(6, 1)), WireDropReason.Unsupported, 'operation 0x0101');
});
