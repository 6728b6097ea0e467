// The committed kernel captures (fixtures/pcap, made by
// scripts/capture-fixtures.sh) read without root, hold what fixtures/README.md
// says they hold, and are valid test vectors for wire/: every frame the
// kernel sent parses with the strict parsers, checksums included (the capture
// script turns checksum offload off), except the kinds a host ignores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LinkType, parseSll, rawIpEtherType, readPcap } from '../../src/link/index.js';
import type { PcapFile, PcapRecord } from '../../src/link/index.js';
import {
  EtherType,
  IpProtocol,
  WireDropReason,
  parseArp,
  parseEthernet,
  parseIcmpv4,
  parseIcmpv6,
  parseIpv4,
  parseIpv6,
  parseTcp,
  parseUdp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
} from '../../src/wire/index.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pcap');

function load(name: string): PcapFile {
  const file = readPcap(readFileSync(join(FIXTURES, name)));
  assert.notEqual(typeof file, 'string', `${name}: ${String(file)}`);
  return file as PcapFile;
}

const EXPECTED_LINK_TYPES: Readonly<Record<string, number>> = {
  'handshake-data-close.pcap': LinkType.Ethernet,
  'tcp-sack.pcap': LinkType.Ethernet,
  'icmp-errors.pcap': LinkType.Ethernet,
  'ipv4-fragment.pcap': LinkType.Ethernet,
  'ipv6-fragment.pcap': LinkType.Ethernet,
  'arp-ndp.pcap': LinkType.Ethernet,
  'tcp-ipv6-rst.pcap': LinkType.Ethernet,
  'udp-raw-tun.pcap': LinkType.Raw,
  'udp-any-sll.pcap': LinkType.LinuxSll,
};

test('every fixture reads completely, with the link type and size the README gives', () => {
  const names = readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.pcap'))
    .sort();
  assert.deepEqual(names, Object.keys(EXPECTED_LINK_TYPES).sort());
  for (const name of names) {
    const bytes = readFileSync(join(FIXTURES, name));
    assert.ok(bytes.length < 100 * 1024, `${name} is ${bytes.length} bytes`);
    const file = load(name);
    assert.equal(file.error, null, name);
    assert.equal(file.header.linkType, EXPECTED_LINK_TYPES[name], name);
    assert.equal(file.header.snaplen, 262144, name);
    assert.ok(file.records.length > 0, name);
    for (let i = 1; i < file.records.length; i++) {
      assert.ok(
        file.records[i]!.time >= file.records[i - 1]!.time,
        `${name}: time goes back at ${i}`,
      );
    }
    for (const record of file.records)
      assert.equal(record.data.length, record.originalLength, name);
  }
});

/** What wire/'s strict parsers say about one captured frame: "ok <what>" or "<layer>:<drop reason>". */
function strictParse(record: PcapRecord): string {
  let etherType: number;
  let payload: Uint8Array;
  if (record.linkType === LinkType.Ethernet) {
    const frame = parseEthernet(record.data);
    if (typeof frame === 'string') return `ethernet:${frame}`;
    etherType = frame.ethertype;
    payload = frame.payload;
  } else if (record.linkType === LinkType.Raw) {
    etherType = rawIpEtherType(record.data);
    payload = record.data;
  } else {
    const cooked = parseSll(record.data);
    if (cooked === null) return 'sll:truncated';
    etherType = cooked.protocol;
    payload = cooked.payload;
  }
  if (etherType === EtherType.Arp) {
    const arp = parseArp(payload);
    return typeof arp === 'string' ? `arp:${arp}` : 'ok arp';
  }
  if (etherType === EtherType.Ipv4) {
    const ip = parseIpv4(payload);
    if (typeof ip === 'string') return `ipv4:${ip}`;
    if (ip.moreFragments || ip.fragmentOffset !== 0) return 'ok ipv4 fragment';
    switch (ip.protocol) {
      case IpProtocol.Tcp: {
        const sum = pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Tcp, ip.payload.length);
        const tcp = parseTcp(ip.payload, sum);
        return typeof tcp === 'string' ? `tcp:${tcp}` : 'ok tcp';
      }
      case IpProtocol.Udp: {
        const udp = parseUdp(
          ip.payload,
          pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Udp, 0),
          true,
        );
        return typeof udp === 'string' ? `udp:${udp}` : 'ok udp';
      }
      case IpProtocol.Icmp: {
        const icmp = parseIcmpv4(ip.payload);
        return typeof icmp === 'string' ? `icmp:${icmp}` : `ok icmp ${icmp.type}`;
      }
      default:
        return `ipv4 protocol ${ip.protocol}`;
    }
  }
  if (etherType === EtherType.Ipv6) {
    const ip = parseIpv6(payload);
    if (typeof ip === 'string') return `ipv6:${ip}`;
    if (ip.fragment !== null) return 'ok ipv6 fragment';
    switch (ip.protocol) {
      case IpProtocol.Tcp: {
        const sum = pseudoHeaderSumV6(ip.src, ip.dst, IpProtocol.Tcp, ip.payload.length);
        const tcp = parseTcp(ip.payload, sum);
        return typeof tcp === 'string' ? `tcp:${tcp}` : 'ok tcp';
      }
      case IpProtocol.Udp: {
        const udp = parseUdp(
          ip.payload,
          pseudoHeaderSumV6(ip.src, ip.dst, IpProtocol.Udp, 0),
          false,
        );
        return typeof udp === 'string' ? `udp:${udp}` : 'ok udp';
      }
      case IpProtocol.Icmpv6: {
        const icmp = parseIcmpv6(ip.payload, ip.src, ip.dst);
        // MLDv2 reports (type 143) are for routers; a host's wire/ need not parse them.
        if (icmp === WireDropReason.Unsupported && ip.payload[0] === 143)
          return 'ok mldv2 report (unsupported)';
        return typeof icmp === 'string' ? `icmpv6:${icmp}` : `ok icmpv6 ${icmp.type}`;
      }
      default:
        return `ipv6 protocol ${ip.protocol}`;
    }
  }
  return `ethertype 0x${etherType.toString(16)}`;
}

test("every kernel frame in the fixtures passes wire/'s strict parsers, checksums included", () => {
  const seen = new Set<string>();
  for (const name of Object.keys(EXPECTED_LINK_TYPES)) {
    load(name).records.forEach((record, i) => {
      const verdict = strictParse(record);
      assert.match(verdict, /^ok /, `${name} packet ${i + 1}: ${verdict}`);
      seen.add(verdict);
    });
  }
  // The fixtures cover what the README promises.
  for (const kind of [
    'ok tcp',
    'ok udp',
    'ok arp',
    'ok icmp 0',
    'ok icmp 3',
    'ok icmp 8',
    'ok icmp 11',
    'ok icmpv6 1',
    'ok icmpv6 2',
    'ok icmpv6 3',
    'ok icmpv6 128',
    'ok icmpv6 129',
    'ok icmpv6 135',
    'ok icmpv6 136',
    'ok ipv4 fragment',
    'ok ipv6 fragment',
  ]) {
    assert.ok(seen.has(kind), `no fixture packet is ${kind}`);
  }
});

test('tcp-sack: the kernel SACKs the held blocks', () => {
  // Each ACK from the listener, with its SACK option parsed by wire/.
  const records = load('tcp-sack.pcap').records;
  const blocks: string[] = [];
  let clientIsn = -1;
  for (const record of records) {
    const frame = parseEthernet(record.data);
    assert.ok(typeof frame !== 'string');
    const ip = parseIpv4(frame.payload);
    assert.ok(typeof ip !== 'string');
    const tcp = parseTcp(
      ip.payload,
      pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Tcp, ip.payload.length),
    );
    assert.ok(typeof tcp !== 'string');
    if (clientIsn === -1) clientIsn = tcp.seq;
    if (tcp.options.sackBlocks.length > 0) {
      blocks.push(
        tcp.options.sackBlocks
          .map((b) => `${(b.left - clientIsn) >>> 0}-${(b.right - clientIsn) >>> 0}`)
          .join(' '),
      );
    }
  }
  assert.deepEqual(blocks, ['801-1201', '1601-2001 801-1201', '1601-2401 801-1201', '1601-2401']);
});
