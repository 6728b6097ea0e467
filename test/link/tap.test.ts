// The pcap tap: a short exchange captured through a tapped endpoint reads
// back with readPcap record for record (direction, time, bytes) and opens in
// tcpdump; refused frames are not recorded; a tap under an impairment sees
// the wire at exact due times even when its driver comes late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NEVER, instant, millis } from '../../src/base/index.js';
import {
  LinkKind,
  LinkType,
  PcapWriter,
  impair,
  memoryPair,
  pcapLinkType,
  pcapTap,
  readPcap,
} from '../../src/link/index.js';
import type { LinkEndpoint, PcapFile } from '../../src/link/index.js';
import { missingTool, runTool } from '../helpers/tools.js';
import { IP_A, IP_B, MAC_A, MAC_B, inEthernet, taggedFrame, udpPacket } from './frames.js';

const encoder = new TextEncoder();

function mustRead(bytes: Uint8Array): PcapFile {
  const file = readPcap(bytes);
  if (typeof file === 'string') assert.fail(`readPcap: ${file}`);
  assert.equal(file.error, null);
  return file;
}

interface Step {
  at: number;
  fromA: boolean;
  text: string;
}

/** A little request/response exchange over UDP. */
const EXCHANGE: Step[] = [
  { at: 1_000_000, fromA: true, text: 'hello' },
  { at: 1_000_250, fromA: false, text: 'hello yourself' },
  { at: 1_500_000, fromA: true, text: 'how are you?' },
  { at: 2_000_125, fromA: false, text: 'fine' },
];

function frameFor(kind: LinkKind, step: Step): Uint8Array {
  const packet = step.fromA
    ? udpPacket(IP_A, IP_B, 40000, 5000, encoder.encode(step.text))
    : udpPacket(IP_B, IP_A, 5000, 40000, encoder.encode(step.text));
  if (kind === LinkKind.Ip) return packet;
  return step.fromA ? inEthernet(packet, MAC_B, MAC_A) : inEthernet(packet, MAC_A, MAC_B);
}

/** Plays the exchange: each frame is sent at its instant and received by the peer at that instant. */
function playExchange(kind: LinkKind, a: LinkEndpoint, b: LinkEndpoint): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const step of EXCHANGE) {
    const frame = frameFor(kind, step);
    frames.push(frame);
    const now = instant(step.at);
    assert.equal((step.fromA ? a : b).send(now, frame), true);
    assert.deepEqual((step.fromA ? b : a).receive(now), frame);
  }
  return frames;
}

for (const kind of [LinkKind.Ethernet, LinkKind.Ip]) {
  test(`a tapped ${kind} endpoint records both directions with their instants, in order`, () => {
    const [a, b] = memoryPair({ kind });
    const tap = pcapTap(a);
    const frames = playExchange(kind, tap, b);
    assert.equal(tap.count, 4);
    const file = mustRead(tap.bytes());
    assert.equal(
      file.header.linkType,
      kind === LinkKind.Ethernet ? LinkType.Ethernet : LinkType.Raw,
    );
    assert.equal(file.header.versionMajor, 2);
    assert.deepEqual(
      file.records.map((r) => r.time),
      EXCHANGE.map((s) => s.at),
    );
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(file.records[i]!.data, frames[i]);
      assert.equal(file.records[i]!.originalLength, frames[i]!.length);
    }
    // The tap changes nothing about the traffic or the counters.
    assert.deepEqual(tap.stats(), a.stats());
    assert.equal(tap.kind, kind);
    assert.equal(tap.mtu, a.mtu);
  });

  test(
    `tcpdump reads a ${kind} capture and sees the exchange`,
    { skip: missingTool('tcpdump') },
    () => {
      const [a, b] = memoryPair({ kind });
      // 2024-01-01T00:00:00Z as the capture's epoch.
      const tap = pcapTap(a, { epochMicros: 1_704_067_200_000_000 });
      playExchange(kind, tap, b);
      const dir = mkdtempSync(join(tmpdir(), 'tcpts-tap-'));
      try {
        const path = join(dir, 'exchange.pcap');
        writeFileSync(path, tap.bytes());
        const { stdout } = runTool('tcpdump', ['-nn', '-e', '-tttt', '-r', path]);
        const lines = stdout.trim().split('\n');
        assert.equal(lines.length, 4, stdout);
        const expected = [
          ['2024-01-01 00:00:01.000000', '10.76.0.1.40000 > 10.76.0.2.5000: UDP, length 5'],
          ['2024-01-01 00:00:01.000250', '10.76.0.2.5000 > 10.76.0.1.40000: UDP, length 14'],
          ['2024-01-01 00:00:01.500000', '10.76.0.1.40000 > 10.76.0.2.5000: UDP, length 12'],
          ['2024-01-01 00:00:02.000125', '10.76.0.2.5000 > 10.76.0.1.40000: UDP, length 4'],
        ];
        for (let i = 0; i < 4; i++) {
          assert.ok(lines[i]!.startsWith(expected[i]![0]!), lines[i]);
          assert.ok(lines[i]!.endsWith(expected[i]![1]!), lines[i]);
          if (kind === LinkKind.Ethernet) {
            const macs =
              i % 2 === 0
                ? '02:00:00:00:00:0a > 02:00:00:00:00:0b'
                : '02:00:00:00:00:0b > 02:00:00:00:00:0a';
            assert.ok(lines[i]!.includes(macs), lines[i]);
          }
        }
        // -v makes tcpdump verify the IP checksums it decodes.
        const verbose = runTool('tcpdump', ['-nn', '-v', '-r', path]).stdout;
        assert.ok(!verbose.includes('bad cksum'), verbose);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

test('frames the link refuses are not recorded', () => {
  const [a] = memoryPair({ kind: LinkKind.Ip, mtu: 576 });
  const tap = pcapTap(a);
  assert.equal(tap.send(instant(0), taggedFrame(LinkKind.Ip, 577, 1)), false);
  assert.equal(tap.send(instant(0), new Uint8Array(0)), false);
  assert.equal(tap.send(instant(5), taggedFrame(LinkKind.Ip, 576, 2)), true);
  const file = mustRead(tap.bytes());
  assert.equal(file.records.length, 1);
  assert.equal(file.records[0]!.data.length, 576);
  assert.equal(file.records[0]!.time, 5);
});

test('a writer of the wrong link type is refused at once', () => {
  const [a] = memoryPair({ kind: LinkKind.Ethernet });
  assert.throws(() => pcapTap(a, new PcapWriter({ linkType: LinkType.Raw })), /linkType 1/);
  const [c] = memoryPair({ kind: LinkKind.Ip });
  assert.throws(() => pcapTap(c, new PcapWriter({ linkType: LinkType.Ipv4 })), /pcapLinkType/);
  assert.equal(pcapLinkType(LinkKind.Ip), LinkType.Raw);
});

test('with a sink the chunks make the same file the collecting tap makes; snaplen cuts records', () => {
  const chunks: Uint8Array[] = [];
  const [a1, b1] = memoryPair({ kind: LinkKind.Ethernet });
  const streaming = pcapTap(a1, { sink: (chunk) => chunks.push(chunk) });
  playExchange(LinkKind.Ethernet, streaming, b1);
  const [a2, b2] = memoryPair({ kind: LinkKind.Ethernet });
  const collecting = pcapTap(a2);
  playExchange(LinkKind.Ethernet, collecting, b2);
  const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    joined.set(c, offset);
    offset += c.length;
  }
  assert.deepEqual(joined, collecting.bytes());
  assert.throws(() => streaming.bytes(), /sink/);

  const [a3, b3] = memoryPair({ kind: LinkKind.Ethernet });
  const cut = pcapTap(a3, { snaplen: 40 });
  const frames = playExchange(LinkKind.Ethernet, cut, b3);
  const file = mustRead(cut.bytes());
  assert.deepEqual(file.records[0]!.data, frames[0]!.subarray(0, 40));
  assert.equal(file.records[0]!.originalLength, frames[0]!.length);
});

test('a tap over an impairment records what the stack sent, lost frames included', () => {
  const [a, b] = memoryPair({ kind: LinkKind.Ip });
  const sender = pcapTap(impair(a, { seed: 1, outgoing: { loss: 1 } }));
  const receiver = pcapTap(b);
  for (let i = 0; i < 5; i++)
    assert.equal(sender.send(instant(i * 10), taggedFrame(LinkKind.Ip, 60, i)), true);
  assert.equal(receiver.receive(instant(100)), null);
  assert.equal(mustRead(sender.bytes()).records.length, 5);
  assert.equal(mustRead(receiver.bytes()).records.length, 0);
});

test('a tap under an impairment records the wire at exact due instants, even for a late driver', () => {
  const [a, b] = memoryPair({ kind: LinkKind.Ip });
  const wire = pcapTap(a);
  const link = impair(wire, { seed: 2, outgoing: { delay: millis(5) } });
  const sent = [0, 1000, 1500];
  for (const t of sent) assert.equal(link.send(instant(t), taggedFrame(LinkKind.Ip, 60, t)), true);
  assert.equal(link.pollTimeout(), 5000);
  // The driver wakes up 3 ms late; the frames still go out stamped when due.
  assert.equal(link.receive(instant(9000)), null);
  assert.equal(link.pollTimeout(), NEVER, 'everything has left');
  assert.deepEqual(
    mustRead(wire.bytes()).records.map((r) => r.time),
    [5000, 6000, 6500],
  );
  const times: number[] = [];
  for (let t = b.pollTimeout(); t !== NEVER; t = b.pollTimeout()) {
    b.receive(instant(9000));
    times.push(t);
  }
  assert.deepEqual(times, [5000, 6000, 6500]);
});
