/**
 * Every frame in fixtures/pcap (real Linux captures, see fixtures/README.md)
 * through the codecs below TCP. The files may be regenerated with other
 * addresses and timings, so nothing here hard-codes their contents: the
 * checks are that each layer parses, re-emits byte for byte where the repr is
 * lossless, and that fragmented datagrams reassemble into messages whose
 * checksums verify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { LinkType, parseSll, rawIpEtherType, readPcap } from '../../src/link/index.js';
import {
  EtherType,
  Icmpv6Type,
  IpProtocol,
  WireDropReason,
  checksumFold,
  emitArp,
  emitEthernet,
  emitIcmpv4,
  emitIcmpv6,
  emitIpv4,
  emitIpv6,
  ethernetLength,
  formatIpv6Address,
  icmpv4Length,
  icmpv6Length,
  ipv4HeaderLength,
  ipv4Length,
  ipv6IsUnspecified,
  ipv6Length,
  parseArp,
  parseEthernet,
  parseIcmpv4,
  parseIcmpv6,
  parseIpv4,
  parseIpv6,
  parseUdp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  type Ipv6Address,
} from '../../src/wire/index.js';
import { ok } from './support.js';

const DIR = new URL('../../fixtures/pcap/', import.meta.url);

interface Counts {
  arp: number;
  icmpv4: number;
  icmpv6: number;
  ndp: number;
  udp: number;
  reassembled: number;
}

/** One fragment, copied out of the capture buffer. */
interface Piece {
  offset: number;
  more: boolean;
  data: Uint8Array;
}

/** Fragments of one datagram, keyed by source, destination, protocol and identification. */
interface Pending {
  family: 4 | 6;
  src: number | Ipv6Address;
  dst: number | Ipv6Address;
  protocol: number;
  pieces: Piece[];
}

function reemits(bytes: Uint8Array, out: Uint8Array, what: string): void {
  assert.deepEqual(out, bytes, `${what} re-emits byte for byte`);
}

/**
 * UDP checks: the checksum verifies, or the datagram was captured on the
 * sending host before checksum offload filled it in. Linux then leaves the
 * folded pseudo-header sum in the field (CHECKSUM_PARTIAL), which is what we
 * recognise here.
 */
function checkUdp(bytes: Uint8Array, pseudo: number, zeroMeansNone: boolean, what: string): void {
  const result = parseUdp(bytes, pseudo, zeroMeansNone);
  if (result === WireDropReason.BadChecksum) {
    const length = (bytes[4]! << 8) | bytes[5]!;
    const field = (bytes[6]! << 8) | bytes[7]!;
    assert.equal(
      field,
      checksumFold(pseudo + length),
      `${what}: a bad checksum that is not a partial one`,
    );
    return;
  }
  ok(result);
}

function checkIcmpv4(bytes: Uint8Array, counts: Counts, what: string): void {
  const repr = ok(parseIcmpv4(bytes));
  const out = new Uint8Array(icmpv4Length(repr));
  emitIcmpv4(repr, out);
  reemits(bytes, out, what);
  counts.icmpv4++;
}

function checkIcmpv6(
  bytes: Uint8Array,
  src: Ipv6Address,
  dst: Ipv6Address,
  counts: Counts,
  what: string,
): void {
  const result = parseIcmpv6(bytes, src, dst);
  if (bytes[0] === 143 || bytes[0] === 130 || bytes[0] === 131 || bytes[0] === 132) {
    assert.equal(result, WireDropReason.Unsupported, `${what}: MLD is not ours`);
    return;
  }
  const repr = ok(result);
  counts.icmpv6++;
  const ndp =
    repr.type === Icmpv6Type.NeighborSolicitation ||
    repr.type === Icmpv6Type.NeighborAdvertisement ||
    repr.type === Icmpv6Type.RouterSolicitation ||
    repr.type === Icmpv6Type.RouterAdvertisement;
  if (ndp) counts.ndp++;
  // Linux adds an RFC 7527 nonce option to duplicate address detection
  // probes; the repr does not carry unknown options, so those cannot re-emit.
  if (repr.type === Icmpv6Type.NeighborSolicitation && ipv6IsUnspecified(src)) return;
  const out = new Uint8Array(icmpv6Length(repr));
  emitIcmpv6(repr, src, dst, out);
  reemits(bytes, out, what);
}

function checkIpv4(
  bytes: Uint8Array,
  counts: Counts,
  pending: Map<string, Pending>,
  what: string,
): void {
  const ip = ok(parseIpv4(bytes));
  if (ipv4HeaderLength(bytes) === 20) {
    const out = new Uint8Array(ipv4Length(ip));
    emitIpv4(ip, out);
    reemits(bytes.subarray(0, out.length), out, `${what} IPv4`);
  }
  if (ip.moreFragments || ip.fragmentOffset !== 0) {
    const key = `4 ${ip.src} ${ip.dst} ${ip.protocol} ${ip.identification}`;
    const entry = pending.get(key) ?? {
      family: 4,
      src: ip.src,
      dst: ip.dst,
      protocol: ip.protocol,
      pieces: [],
    };
    entry.pieces.push({
      offset: ip.fragmentOffset,
      more: ip.moreFragments,
      data: ip.payload.slice(),
    });
    pending.set(key, entry);
    return;
  }
  if (ip.protocol === IpProtocol.Icmp) checkIcmpv4(ip.payload, counts, `${what} ICMPv4`);
  if (ip.protocol === IpProtocol.Udp) {
    checkUdp(ip.payload, pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Udp, 0), true, `${what} UDP`);
    counts.udp++;
  }
}

function checkIpv6(
  bytes: Uint8Array,
  counts: Counts,
  pending: Map<string, Pending>,
  what: string,
): void {
  const ip = ok(parseIpv6(bytes));
  if (ip.headerLength === (ip.fragment === null ? 40 : 48)) {
    const out = new Uint8Array(ipv6Length(ip));
    emitIpv6(ip, out);
    reemits(bytes.subarray(0, out.length), out, `${what} IPv6`);
  }
  if (ip.fragment !== null) {
    const key = `6 ${formatIpv6Address(ip.src)} ${formatIpv6Address(ip.dst)} ${ip.fragment.identification}`;
    const entry = pending.get(key) ?? {
      family: 6,
      src: ip.src.slice(),
      dst: ip.dst.slice(),
      protocol: ip.protocol,
      pieces: [],
    };
    entry.pieces.push({
      offset: ip.fragment.offset,
      more: ip.fragment.moreFragments,
      data: ip.payload.slice(),
    });
    pending.set(key, entry);
    return;
  }
  if (ip.protocol === IpProtocol.Icmpv6)
    checkIcmpv6(ip.payload, ip.src, ip.dst, counts, `${what} ICMPv6`);
  if (ip.protocol === IpProtocol.Udp) {
    checkUdp(
      ip.payload,
      pseudoHeaderSumV6(ip.src, ip.dst, IpProtocol.Udp, 0),
      false,
      `${what} UDP`,
    );
    counts.udp++;
  }
}

/** Puts fragments in order and checks the datagram they make; the upper layer must verify. */
function reassemble(entry: Pending, counts: Counts, what: string): void {
  const pieces = entry.pieces.sort((a, b) => a.offset - b.offset);
  let length = 0;
  for (const piece of pieces) {
    assert.equal(piece.offset, length, `${what}: fragments are contiguous`);
    length += piece.data.length;
  }
  assert.equal(
    pieces[pieces.length - 1]!.more,
    false,
    `${what}: the last fragment ends the datagram`,
  );
  const datagram = new Uint8Array(length);
  for (const piece of pieces) datagram.set(piece.data, piece.offset);
  if (entry.family === 4) {
    const src = entry.src as number;
    const dst = entry.dst as number;
    if (entry.protocol === IpProtocol.Icmp) checkIcmpv4(datagram, counts, what);
    if (entry.protocol === IpProtocol.Udp) {
      ok(parseUdp(datagram, pseudoHeaderSumV4(src, dst, IpProtocol.Udp, 0), true));
    }
  } else {
    const src = entry.src as Ipv6Address;
    const dst = entry.dst as Ipv6Address;
    if (entry.protocol === IpProtocol.Icmpv6) checkIcmpv6(datagram, src, dst, counts, what);
    if (entry.protocol === IpProtocol.Udp) {
      ok(parseUdp(datagram, pseudoHeaderSumV6(src, dst, IpProtocol.Udp, 0), false));
    }
  }
  counts.reassembled++;
}

const files = existsSync(DIR) ? readdirSync(DIR).filter((name) => name.endsWith('.pcap')) : [];

test(
  'fixture captures decode through Ethernet, ARP, IP, ICMP and UDP',
  { skip: files.length === 0 && 'no fixtures/pcap' },
  () => {
    const counts: Counts = { arp: 0, icmpv4: 0, icmpv6: 0, ndp: 0, udp: 0, reassembled: 0 };
    for (const name of files) {
      const file = readPcap(new Uint8Array(readFileSync(new URL(name, DIR))));
      if (typeof file === 'string') return assert.fail(`${name}: ${file}`);
      assert.equal(file.error, null, `${name} reads to the end`);
      const pending = new Map<string, Pending>();
      file.records.forEach((record, index) => {
        const what = `${name} #${index + 1}`;
        let ethertype: number;
        let payload: Uint8Array;
        if (record.linkType === LinkType.Ethernet) {
          const frame = ok(parseEthernet(record.data));
          const out = new Uint8Array(ethernetLength(frame));
          emitEthernet(frame, out);
          reemits(record.data, out, `${what} Ethernet`);
          ethertype = frame.ethertype;
          payload = frame.payload;
        } else if (record.linkType === LinkType.Raw) {
          ethertype = rawIpEtherType(record.data);
          payload = record.data;
        } else if (record.linkType === LinkType.LinuxSll) {
          const sll = parseSll(record.data);
          assert.ok(sll !== null, `${what}: cooked header`);
          ethertype = sll.protocol;
          payload = sll.payload;
        } else {
          return;
        }
        if (ethertype === EtherType.Arp) {
          const arp = ok(parseArp(payload));
          const out = new Uint8Array(28);
          emitArp(arp, out);
          reemits(payload.subarray(0, 28), out, `${what} ARP`);
          counts.arp++;
        } else if (ethertype === EtherType.Ipv4) {
          checkIpv4(payload, counts, pending, what);
        } else if (ethertype === EtherType.Ipv6) {
          checkIpv6(payload, counts, pending, what);
        }
      });
      for (const [key, entry] of pending) reassemble(entry, counts, `${name} datagram ${key}`);
    }
    // The fixtures README promises each of these; a regenerated set that lost
    // one would make this test silently weaker.
    assert.ok(counts.arp >= 2, `ARP packets: ${counts.arp}`);
    assert.ok(counts.icmpv4 >= 4, `ICMPv4 messages: ${counts.icmpv4}`);
    assert.ok(counts.icmpv6 >= 4, `ICMPv6 messages: ${counts.icmpv6}`);
    assert.ok(counts.ndp >= 2, `NDP messages: ${counts.ndp}`);
    assert.ok(counts.udp >= 4, `UDP datagrams: ${counts.udp}`);
    assert.ok(counts.reassembled >= 4, `reassembled datagrams: ${counts.reassembled}`);
  },
);
