// buildTcpPacket against frames the Linux kernel sent: each TCP frame of two
// captured connections (IPv4 and IPv6, over Ethernet) is parsed into reprs
// and built again, and must come out byte for byte as captured (headers,
// option layout, both checksums). Then the bare-IP form and the size check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seq } from '../../src/base/index.js';
import { readPcap } from '../../src/link/index.js';
import {
  EtherType,
  IpProtocol,
  TcpFlags,
  buildTcpPacket,
  emitTcpPacket,
  noTcpOptions,
  parseEthernet,
  parseIpv4,
  parseIpv6,
  parseTcp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  tcpPacketLength,
  type TcpPacketRepr,
} from '../../src/wire/index.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pcap');

/** The repr of a captured Ethernet frame carrying TCP, read with wire/'s strict parsers. */
function reprOf(frame: Uint8Array): TcpPacketRepr {
  const eth = parseEthernet(frame);
  assert.ok(typeof eth !== 'string', String(eth));
  const ethernet = { src: eth.src, dst: eth.dst };
  if (eth.ethertype === EtherType.Ipv4) {
    const ip = parseIpv4(eth.payload);
    assert.ok(typeof ip !== 'string', String(ip));
    assert.equal(ip.protocol, IpProtocol.Tcp);
    const tcp = parseTcp(
      ip.payload,
      pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Tcp, ip.payload.length),
    );
    assert.ok(typeof tcp !== 'string', String(tcp));
    const { src, dst, ttl, dscp, ecn, identification, dontFragment } = ip;
    return {
      ethernet,
      ip: { version: 4, src, dst, ttl, dscp, ecn, identification, dontFragment },
      tcp,
    };
  }
  const ip = parseIpv6(eth.payload);
  assert.ok(typeof ip !== 'string', String(ip));
  assert.equal(ip.protocol, IpProtocol.Tcp);
  const tcp = parseTcp(
    ip.payload,
    pseudoHeaderSumV6(ip.src, ip.dst, IpProtocol.Tcp, ip.payload.length),
  );
  assert.ok(typeof tcp !== 'string', String(tcp));
  const { src, dst, hopLimit, dscp, ecn, flowLabel } = ip;
  return { ethernet, ip: { version: 6, src, dst, hopLimit, dscp, ecn, flowLabel }, tcp };
}

for (const name of ['handshake-data-close.pcap', 'tcp-ipv6-rst.pcap']) {
  test(`buildTcpPacket rebuilds every TCP frame of ${name} byte for byte`, () => {
    const file = readPcap(readFileSync(join(FIXTURES, name)));
    assert.ok(typeof file !== 'string', String(file));
    let rebuilt = 0;
    for (const record of file.records) {
      const eth = parseEthernet(record.data);
      if (typeof eth === 'string') continue;
      if (eth.ethertype !== EtherType.Ipv4 && eth.ethertype !== EtherType.Ipv6) continue;
      const repr = reprOf(record.data);
      // Ethernet padding of short frames is the link's, not the packet's.
      const length = tcpPacketLength(repr);
      assert.deepEqual(
        buildTcpPacket(repr),
        Uint8Array.from(record.data.subarray(0, length)),
        `record ${rebuilt}`,
      );
      rebuilt++;
    }
    assert.ok(rebuilt >= 4, `${name} has a whole connection (${rebuilt} TCP frames)`);
  });
}

test('without Ethernet the frame is the bare IP packet, checksums valid', () => {
  const options = noTcpOptions();
  options.mss = 1460;
  const repr: TcpPacketRepr = {
    ethernet: null,
    ip: {
      version: 4,
      src: 0x0a000001,
      dst: 0x0a000002,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      identification: 7,
      dontFragment: true,
    },
    tcp: {
      srcPort: 40000,
      dstPort: 80,
      seq: seq(1000),
      ack: seq(0),
      flags: TcpFlags.SYN,
      window: 65535,
      urgent: 0,
      options,
      payload: new Uint8Array([1, 2, 3]),
    },
  };
  const packet = buildTcpPacket(repr);
  assert.equal(packet.length, 20 + 24 + 3);
  const ip = parseIpv4(packet);
  assert.ok(typeof ip !== 'string', String(ip));
  assert.equal(ip.identification, 7);
  const tcp = parseTcp(ip.payload, pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Tcp, 27));
  assert.ok(typeof tcp !== 'string', String(tcp));
  assert.equal(tcp.options.mss, 1460);
  assert.deepEqual([...tcp.payload], [1, 2, 3]);
});

test('emitTcpPacket refuses an output too short, saying how to size it', () => {
  const repr: TcpPacketRepr = {
    ethernet: null,
    ip: {
      version: 6,
      src: new Uint8Array(16),
      dst: new Uint8Array(16),
      hopLimit: 64,
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
    },
    tcp: {
      srcPort: 1,
      dstPort: 2,
      seq: seq(0),
      ack: seq(0),
      flags: TcpFlags.ACK,
      window: 0,
      urgent: 0,
      options: noTcpOptions(),
      payload: new Uint8Array(0),
    },
  };
  assert.equal(tcpPacketLength(repr), 60);
  assert.throws(() => emitTcpPacket(repr, new Uint8Array(59)), /tcpPacketLength/);
});
