import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { instant } from '../../src/base/index.js';
import type { Instant } from '../../src/base/index.js';
import {
  checksumAdd,
  checksumFinish,
  internetChecksum,
  pseudoHeaderSumV4,
} from '../../src/wire/index.js';
import {
  DEFAULT_SNAPLEN,
  LinkType,
  PcapError,
  PcapReader,
  PcapWriter,
  parseSll,
  parseSll2,
  pcapFileHeader,
  rawIpEtherType,
  readPcap,
} from '../../src/link/index.js';
import type { PcapFile } from '../../src/link/index.js';
import { missingTool, runTool } from '../helpers/tools.js';

const MAC_A = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const MAC_B = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/** A well-formed IPv4/UDP packet (checksums right, so tshark shows no complaints). */
function udpPacket(src: number, dst: number, srcPort: number, dstPort: number, text: string) {
  const payload = new TextEncoder().encode(text);
  const udpLength = 8 + payload.length;
  const packet = new Uint8Array(20 + udpLength);
  packet.set([0x45, 0, (20 + udpLength) >> 8, (20 + udpLength) & 0xff, 0, 1, 0x40, 0, 64, 17]);
  packet.set([src >>> 24, (src >>> 16) & 0xff, (src >>> 8) & 0xff, src & 0xff], 12);
  packet.set([dst >>> 24, (dst >>> 16) & 0xff, (dst >>> 8) & 0xff, dst & 0xff], 16);
  const ipSum = internetChecksum(packet.subarray(0, 20));
  packet[10] = ipSum >> 8;
  packet[11] = ipSum & 0xff;
  packet.set([srcPort >> 8, srcPort & 0xff, dstPort >> 8, dstPort & 0xff], 20);
  packet.set([udpLength >> 8, udpLength & 0xff], 24);
  packet.set(payload, 28);
  const udpSum = checksumFinish(
    checksumAdd(pseudoHeaderSumV4(src, dst, 17, udpLength), packet.subarray(20)),
  );
  packet[26] = udpSum >> 8;
  packet[27] = udpSum & 0xff;
  return packet;
}

function ethernetFrame(ipPacket: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + ipPacket.length);
  frame.set(MAC_B, 0);
  frame.set(MAC_A, 6);
  frame.set([0x08, 0x00], 12);
  frame.set(ipPacket, 14);
  return frame;
}

const A = 0x0a4d0001; // 10.77.0.1
const B = 0x0a4d0002; // 10.77.0.2

function mustRead(bytes: Uint8Array): PcapFile {
  const file = readPcap(bytes);
  assert.notEqual(typeof file, 'string', `readPcap failed: ${String(file)}`);
  return file as PcapFile;
}

/** A pcap built by hand in either byte order and resolution, to test the reader against. */
function handMadePcap(
  littleEndian: boolean,
  nanosecond: boolean,
  linkType: number,
  records: { seconds: number; fraction: number; data: number[]; originalLength?: number }[],
): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number) => {
    const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    parts.push(...(littleEndian ? b.reverse() : b));
  };
  const u16 = (v: number) => {
    const b = [(v >>> 8) & 0xff, v & 0xff];
    parts.push(...(littleEndian ? b.reverse() : b));
  };
  u32(nanosecond ? 0xa1b23c4d : 0xa1b2c3d4);
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(65535);
  u32(linkType);
  for (const r of records) {
    u32(r.seconds);
    u32(r.fraction);
    u32(r.data.length);
    u32(r.originalLength ?? r.data.length);
    parts.push(...r.data);
  }
  return Uint8Array.from(parts);
}

test('a capture we write reads back record for record, as views into the input', () => {
  const writer = new PcapWriter({ linkType: LinkType.Ethernet });
  const frames = [
    ethernetFrame(udpPacket(A, B, 40000, 40001, 'hello')),
    ethernetFrame(udpPacket(B, A, 40001, 40000, 'world!')),
    ethernetFrame(udpPacket(A, B, 40000, 40001, '')),
  ];
  const times = [instant(0), instant(1_000_001), instant(86_400_000_000 + 999_999)];
  for (let i = 0; i < frames.length; i++) writer.write(times[i]!, frames[i]!);
  assert.equal(writer.count, 3);
  const bytes = writer.bytes();
  assert.equal(bytes.length, 24 + frames.reduce((n, f) => n + 16 + f.length, 0));
  const file = mustRead(bytes);
  assert.deepEqual(file.header, {
    littleEndian: true,
    nanosecond: false,
    versionMajor: 2,
    versionMinor: 4,
    snaplen: DEFAULT_SNAPLEN,
    linkType: LinkType.Ethernet,
  });
  assert.equal(file.error, null);
  assert.equal(file.records.length, 3);
  for (let i = 0; i < 3; i++) {
    const record = file.records[i]!;
    assert.equal(record.time, times[i]);
    assert.equal(record.linkType, LinkType.Ethernet);
    assert.deepEqual(record.data, frames[i]);
    assert.equal(record.originalLength, frames[i]!.length);
    // data is a subarray of the input, not a copy.
    assert.equal(record.data.buffer, bytes.buffer);
  }
});

test('the writer copies the packet, so the caller may reuse its buffer', () => {
  const chunks: Uint8Array[] = [];
  const writer = new PcapWriter({ linkType: LinkType.Raw, sink: (c) => chunks.push(c) });
  assert.equal(chunks.length, 1, 'the file header goes to the sink at construction');
  assert.deepEqual(chunks[0], pcapFileHeader(LinkType.Raw));
  const buffer = udpPacket(A, B, 1, 2, 'abc');
  const expected = buffer.slice(); // a copy to compare with later
  writer.write(instant(5), buffer);
  buffer.fill(0);
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[1]!.subarray(16), expected);
  assert.throws(() => writer.bytes(), /sink/);
});

test('snaplen cuts long packets and keeps their original length', () => {
  const writer = new PcapWriter({ linkType: LinkType.Raw, snaplen: 40 });
  const packet = udpPacket(A, B, 40000, 40001, 'x'.repeat(100));
  writer.write(instant(7), packet);
  const file = mustRead(writer.bytes());
  assert.equal(file.header.snaplen, 40);
  assert.equal(file.records[0]!.data.length, 40);
  assert.equal(file.records[0]!.originalLength, packet.length);
  assert.deepEqual(file.records[0]!.data, packet.subarray(0, 40));
});

test('epochMicros moves core instants onto the calendar', () => {
  const epoch = Date.UTC(2024, 0, 2, 3, 4, 5) * 1000;
  const writer = new PcapWriter({ linkType: LinkType.Raw, epochMicros: epoch });
  writer.write(instant(123), udpPacket(A, B, 1, 2, ''));
  assert.equal(mustRead(writer.bytes()).records[0]!.time, epoch + 123);
});

test('the writer refuses misuse with a message that says what to do', () => {
  const writer = new PcapWriter({ linkType: LinkType.Ethernet });
  assert.throws(() => writer.write(instant(-1), new Uint8Array(14)), /epochMicros/);
  assert.throws(() => writer.write(instant(0.5), new Uint8Array(14)), /whole number/);
  assert.throws(() => new PcapWriter({ linkType: LinkType.Raw, snaplen: 0 }), /snaplen/);
  assert.throws(() => new PcapWriter({ linkType: 42 as LinkType }), /linkType/);
});

test('reads both byte orders and both timestamp resolutions', () => {
  const data = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
  for (const littleEndian of [false, true]) {
    for (const nanosecond of [false, true]) {
      const bytes = handMadePcap(littleEndian, nanosecond, LinkType.Ipv4, [
        { seconds: 1_700_000_000, fraction: nanosecond ? 123_456_789 : 123_456, data },
        { seconds: 1_700_000_001, fraction: nanosecond ? 999 : 0, data, originalLength: 1500 },
      ]);
      const file = mustRead(bytes);
      const label = `${littleEndian ? 'LE' : 'BE'} ${nanosecond ? 'ns' : 'µs'}`;
      assert.equal(file.header.littleEndian, littleEndian, label);
      assert.equal(file.header.nanosecond, nanosecond, label);
      assert.equal(file.header.snaplen, 65535, label);
      assert.equal(file.header.linkType, LinkType.Ipv4, label);
      assert.equal(file.records.length, 2, label);
      // Nanoseconds are truncated to microseconds, as libpcap does for tcpdump.
      assert.equal(file.records[0]!.time, 1_700_000_000_123_456, label);
      assert.equal(file.records[1]!.time, 1_700_000_001_000_000, label);
      assert.equal(file.records[1]!.originalLength, 1500, label);
      assert.deepEqual(Array.from(file.records[0]!.data), data, label);
    }
  }
});

test('reads every link type it promises and refuses the others by name', () => {
  for (const linkType of [1, 101, 113, 228, 229, 276]) {
    const file = mustRead(handMadePcap(true, false, linkType, []));
    assert.equal(file.header.linkType, linkType);
    assert.equal(file.records.length, 0);
    assert.equal(file.error, null);
  }
  assert.equal(readPcap(handMadePcap(true, false, 105, [])), PcapError.UnsupportedLinkType);
  // The upper bits carry FCS information (draft-ietf-opsawg-pcap §4); the type is the low 16.
  const withFcsBits = handMadePcap(false, false, 0x1000_0000 | 1, []);
  assert.equal(mustRead(withFcsBits).header.linkType, LinkType.Ethernet);
});

test('a bad file header is a named error, never an exception', () => {
  assert.equal(readPcap(new Uint8Array(0)), PcapError.TruncatedHeader);
  assert.equal(readPcap(new Uint8Array(23)), PcapError.TruncatedHeader);
  assert.equal(readPcap(new Uint8Array(24)), PcapError.BadMagic);
  // A pcapng section header block without its byte-order magic.
  const pcapng = new Uint8Array(28);
  pcapng.set([0x0a, 0x0d, 0x0d, 0x0a]);
  assert.equal(readPcap(pcapng), PcapError.BadByteOrder);
  const badVersion = handMadePcap(false, false, 1, []);
  badVersion[5] = 3;
  assert.equal(readPcap(badVersion), PcapError.BadVersion);
  assert.equal(PcapReader.open(new Uint8Array(3)), PcapError.TruncatedHeader);
});

test('a truncated last record is reported and the records before it are kept', () => {
  const writer = new PcapWriter({ linkType: LinkType.Raw });
  writer.write(instant(1), udpPacket(A, B, 1, 2, 'one'));
  writer.write(instant(2), udpPacket(A, B, 1, 2, 'two'));
  const whole = writer.bytes();
  // Cut inside the second record's data, then inside its header.
  for (const cut of [whole.length - 1, whole.length - 31 - 16 + 8]) {
    const file = mustRead(whole.subarray(0, cut));
    assert.equal(file.records.length, 1, `cut at ${cut}`);
    assert.equal(file.error, PcapError.TruncatedRecord, `cut at ${cut}`);
  }
  const reader = PcapReader.open(whole.subarray(0, whole.length - 1));
  assert.ok(reader instanceof PcapReader);
  assert.notEqual(reader.next(), null);
  assert.equal(reader.next(), null);
  assert.equal(reader.error, PcapError.TruncatedRecord);
  assert.equal(reader.next(), null, 'a failed reader stays stopped');
});

test('a record claiming an absurd length is a named error', () => {
  const bytes = handMadePcap(true, false, 1, [{ seconds: 0, fraction: 0, data: [1, 2, 3] }]);
  // caplen = 2^31: more than libpcap's maximum whatever the snaplen.
  bytes[24 + 8 + 3] = 0x80;
  const file = mustRead(bytes);
  assert.equal(file.records.length, 0);
  assert.equal(file.error, PcapError.BadRecordLength);
});

test('property: any records round-trip through writer and reader', () => {
  const recordArb = fc.record({
    time: fc.integer({ min: 0, max: 2 ** 32 * 1_000_000 - 1 }),
    data: fc.uint8Array({ minLength: 0, maxLength: 300 }),
    extra: fc.nat({ max: 5000 }),
  });
  fc.assert(
    fc.property(
      fc.array(recordArb, { maxLength: 20 }),
      fc.constantFrom(LinkType.Ethernet, LinkType.Raw),
      (records, linkType) => {
        const writer = new PcapWriter({ linkType });
        for (const r of records) writer.write(r.time as Instant, r.data, r.data.length + r.extra);
        const file = mustRead(writer.bytes());
        assert.equal(file.error, null);
        assert.equal(file.records.length, records.length);
        for (let i = 0; i < records.length; i++) {
          assert.equal(file.records[i]!.time, records[i]!.time);
          assert.deepEqual(file.records[i]!.data, records[i]!.data);
          assert.equal(
            file.records[i]!.originalLength,
            records[i]!.data.length + records[i]!.extra,
          );
        }
      },
    ),
  );
});

test('property: garbage never throws, and a damaged tail never loses earlier records', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (garbage) => {
      const result = readPcap(garbage);
      if (typeof result === 'string') assert.ok(Object.values(PcapError).includes(result));
    }),
  );
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 60 }), { minLength: 1, maxLength: 8 }),
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      (packets, junk) => {
        const writer = new PcapWriter({ linkType: LinkType.Raw });
        for (const p of packets) writer.write(instant(0), p);
        const good = writer.bytes();
        const bytes = new Uint8Array(good.length + junk.length);
        bytes.set(good);
        bytes.set(junk, good.length);
        const file = mustRead(bytes);
        assert.ok(file.records.length >= packets.length);
        for (let i = 0; i < packets.length; i++)
          assert.deepEqual(file.records[i]!.data, packets[i]);
      },
    ),
  );
});

test('Linux cooked headers (SLL v1 and v2) give the protocol and payload', () => {
  const payload = [0x45, 0, 0, 20];
  const sll = Uint8Array.from([0, 4, 0, 1, 0, 6, ...MAC_A, 0, 0, 0x08, 0x00, ...payload]);
  const v1 = parseSll(sll);
  assert.ok(v1 !== null);
  assert.equal(v1.packetType, 4);
  assert.equal(v1.hardwareType, 1);
  assert.deepEqual(Array.from(v1.address), MAC_A);
  assert.equal(v1.protocol, 0x0800);
  assert.equal(v1.interfaceIndex, -1);
  assert.deepEqual(Array.from(v1.payload), payload);
  const sll2 = Uint8Array.from([
    0x86,
    0xdd,
    0,
    0,
    0,
    0,
    0,
    7,
    0,
    1,
    0,
    6,
    ...MAC_B,
    0,
    0,
    0x60,
    0,
    0,
    0,
  ]);
  const v2 = parseSll2(sll2);
  assert.ok(v2 !== null);
  assert.equal(v2.protocol, 0x86dd);
  assert.equal(v2.interfaceIndex, 7);
  assert.equal(v2.packetType, 0);
  assert.deepEqual(Array.from(v2.address), MAC_B);
  assert.deepEqual(Array.from(v2.payload), [0x60, 0, 0, 0]);
  assert.equal(parseSll(sll.subarray(0, 15)), null);
  assert.equal(parseSll2(sll2.subarray(0, 19)), null);
  assert.equal(rawIpEtherType(Uint8Array.of(0x45)), 0x0800);
  assert.equal(rawIpEtherType(Uint8Array.of(0x60)), 0x86dd);
  assert.equal(rawIpEtherType(Uint8Array.of(0x10)), -1);
  assert.equal(rawIpEtherType(new Uint8Array(0)), -1);
});

/** Writes the same two UDP packets as an Ethernet capture and a LINKTYPE_RAW capture. */
function writeSamples(dir: string): { ethernet: string; raw: string } {
  const t0 = Date.UTC(2024, 4, 6, 7, 8, 9) * 1000 + 123_456;
  const packets = [udpPacket(A, B, 40000, 40001, 'hello'), udpPacket(B, A, 40001, 40000, 'hi!')];
  const eth = new PcapWriter({ linkType: LinkType.Ethernet, epochMicros: t0 });
  const raw = new PcapWriter({ linkType: LinkType.Raw, epochMicros: t0 });
  for (let i = 0; i < packets.length; i++) {
    eth.write(instant(i * 1_500_001), ethernetFrame(packets[i]!));
    raw.write(instant(i * 1_500_001), packets[i]!);
  }
  const paths = { ethernet: join(dir, 'eth.pcap'), raw: join(dir, 'raw.pcap') };
  writeFileSync(paths.ethernet, eth.bytes());
  writeFileSync(paths.raw, raw.bytes());
  return paths;
}

const EXPECTED_TCPDUMP = [
  '07:08:09.123456 IP 10.77.0.1.40000 > 10.77.0.2.40001: UDP, length 5',
  '07:08:10.623457 IP 10.77.0.2.40001 > 10.77.0.1.40000: UDP, length 3',
];

test('tcpdump -r reads the captures we write', { skip: missingTool('tcpdump') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-pcap-'));
  try {
    const paths = writeSamples(dir);
    for (const path of [paths.ethernet, paths.raw]) {
      const { stdout, stderr } = runTool('tcpdump', ['-n', '-r', path]);
      assert.deepEqual(stdout.trimEnd().split('\n'), EXPECTED_TCPDUMP, path);
      const linkName = path === paths.ethernet ? 'EN10MB' : 'RAW';
      assert.match(stderr, new RegExp(`link-type ${linkName}`));
    }
    // -e shows the Ethernet header, so tcpdump really parsed our link layer.
    const { stdout } = runTool('tcpdump', ['-n', '-e', '-r', paths.ethernet]);
    assert.match(stdout, /02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 \(0x0800\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tshark -r reads the captures we write', { skip: missingTool('tshark') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-pcap-'));
  try {
    const paths = writeSamples(dir);
    for (const path of [paths.ethernet, paths.raw]) {
      const { stdout } = runTool('tshark', [
        '-n',
        '-r',
        path,
        '-o',
        'udp.check_checksum:TRUE',
        '-T',
        'fields',
        '-E',
        'separator=,',
        '-e',
        'frame.time_epoch',
        '-e',
        'ip.src',
        '-e',
        'udp.dstport',
        '-e',
        'udp.length',
        '-e',
        'udp.checksum.status',
      ]);
      const lines = stdout.trimEnd().split('\n');
      assert.equal(lines.length, 2, path);
      // Checksum status 1 = good: tshark agrees with the bytes we wrote.
      assert.match(lines[0]!, /^1714979289\.123456000,10\.77\.0\.1,40001,13,1$/);
      assert.match(lines[1]!, /^1714979290\.623457000,10\.77\.0\.2,40000,11,1$/);
    }
    const { stdout } = runTool('capinfos', ['-c', '-E', '-M', paths.raw]);
    assert.match(stdout, /Number of packets:\s+2/);
    assert.match(stdout, /encapsulation:\s+rawip/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
