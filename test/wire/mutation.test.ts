import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EtherType,
  IpProtocol,
  WireDropReason,
  isDropReason,
  parseArp,
  parseEthernet,
  parseIcmpv4,
  parseIcmpv6,
  parseIpv4,
  parseIpv6,
  parseUdp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
} from '../../src/wire/index.js';
import * as captured from './captured.js';

const FRAMES: Uint8Array[] = Object.values(captured);
const REASONS: readonly string[] = Object.values(WireDropReason);

/**
 * Decodes a frame the way the stack will: Ethernet, then ARP or IP, then
 * ICMP or UDP. Returns the drop reason, or null when every layer parsed.
 */
function decode(frame: Uint8Array): WireDropReason | null {
  const eth = parseEthernet(frame);
  if (isDropReason(eth)) return eth;
  if (eth.ethertype === EtherType.Arp) {
    const arp = parseArp(eth.payload);
    return isDropReason(arp) ? arp : null;
  }
  if (eth.ethertype === EtherType.Ipv4) {
    const ip = parseIpv4(eth.payload);
    if (isDropReason(ip)) return ip;
    if (ip.moreFragments || ip.fragmentOffset !== 0) return null;
    if (ip.protocol === IpProtocol.Icmp) {
      const icmp = parseIcmpv4(ip.payload);
      return isDropReason(icmp) ? icmp : null;
    }
    if (ip.protocol === IpProtocol.Udp) {
      const pseudo = pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Udp, 0);
      const udp = parseUdp(ip.payload, pseudo, true);
      return isDropReason(udp) ? udp : null;
    }
    return null;
  }
  if (eth.ethertype === EtherType.Ipv6) {
    const ip = parseIpv6(eth.payload);
    if (isDropReason(ip)) return ip;
    if (ip.fragment !== null) return null;
    if (ip.protocol === IpProtocol.Icmpv6) {
      const icmp = parseIcmpv6(ip.payload, ip.src, ip.dst);
      return isDropReason(icmp) ? icmp : null;
    }
    if (ip.protocol === IpProtocol.Udp) {
      const pseudo = pseudoHeaderSumV6(ip.src, ip.dst, IpProtocol.Udp, 0);
      const udp = parseUdp(ip.payload, pseudo, false);
      return isDropReason(udp) ? udp : null;
    }
  }
  return null;
}

test('every captured frame decodes through all layers, except the MLD report', () => {
  for (const [name, frame] of Object.entries(captured)) {
    const expected = name === 'mldReportHopByHop' ? WireDropReason.Unsupported : null;
    assert.equal(decode(frame), expected, name);
  }
});

test('captured frames with random byte edits, truncations and extensions never throw', () => {
  const editArb = fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), {
    minLength: 1,
    maxLength: 4,
  });
  fc.assert(
    fc.property(
      fc.constantFrom(...FRAMES),
      editArb,
      fc.integer({ min: -64, max: 16 }),
      (original, edits, resize) => {
        const length = Math.max(0, original.length + resize);
        const frame = new Uint8Array(length);
        frame.set(original.subarray(0, Math.min(length, original.length)));
        for (const [at, value] of edits) if (length > 0) frame[at % length] = value;
        const result = decode(frame);
        assert.ok(result === null || REASONS.includes(result), `unknown reason ${result}`);
      },
    ),
    { numRuns: 2000 },
  );
});
