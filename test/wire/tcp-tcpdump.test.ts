// Cross-checks the codec against tcpdump itself: segments we emit or build
// are wrapped in IPv4/IPv6 headers, written to a pcap, and read back with
// `tcpdump -nn -S -v`. tcpdump must call every checksum correct and print
// exactly the flag and option text that formatTcpFlags/formatTcpOptions give.
// Skipped (with the reason) when tcpdump is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { seq } from '../../src/base/index.js';
import {
  TcpFlags,
  checksumAdd,
  checksumFinish,
  emitTcp,
  formatTcpFlags,
  formatTcpOptions,
  internetChecksum,
  listTcpOptions,
  noTcpOptions,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  tcpHeaderLength,
  type TcpRepr,
} from '../../src/wire/index.js';

const hasTcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const skip = hasTcpdump ? false : 'tcpdump is not installed (scripts/ensure-tools.sh installs it)';

const PROTO_TCP = 6;
const SRC_V4 = 0xc0000201; // 192.0.2.1
const DST_V4 = 0xc0000202;
const SRC_V6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1]);
const DST_V6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 2]);

function wrapV4(tcp: Uint8Array): Uint8Array {
  const ip = new Uint8Array(20 + tcp.length);
  const total = ip.length;
  ip.set([0x45, 0, total >>> 8, total & 0xff, 0, 0, 0, 0, 64, PROTO_TCP]);
  ip.set([SRC_V4 >>> 24, (SRC_V4 >>> 16) & 0xff, (SRC_V4 >>> 8) & 0xff, SRC_V4 & 0xff], 12);
  ip.set([DST_V4 >>> 24, (DST_V4 >>> 16) & 0xff, (DST_V4 >>> 8) & 0xff, DST_V4 & 0xff], 16);
  const c = internetChecksum(ip.subarray(0, 20));
  ip[10] = c >>> 8;
  ip[11] = c & 0xff;
  ip.set(tcp, 20);
  return ip;
}

function wrapV6(tcp: Uint8Array): Uint8Array {
  const ip = new Uint8Array(40 + tcp.length);
  ip.set([0x60, 0, 0, 0, tcp.length >>> 8, tcp.length & 0xff, PROTO_TCP, 64]);
  ip.set(SRC_V6, 8);
  ip.set(DST_V6, 24);
  ip.set(tcp, 40);
  return ip;
}

/** A classic pcap file, LINKTYPE_RAW (101): each record is a bare IPv4 or IPv6 packet. */
function pcap(packets: Uint8Array[]): Uint8Array {
  const size = 24 + packets.reduce((n, p) => n + 16 + p.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, 101, true);
  let at = 24;
  packets.forEach((p, i) => {
    view.setUint32(at, i, true);
    view.setUint32(at + 8, p.length, true);
    view.setUint32(at + 12, p.length, true);
    out.set(p, at + 16);
    at += 16 + p.length;
  });
  return out;
}

interface Seen {
  flags: string;
  options: string;
  checksumOk: boolean;
}

/** Runs tcpdump over the packets and pulls flags, options and the checksum verdict from each. */
function tcpdump(packets: Uint8Array[]): Seen[] {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-tcpdump-'));
  try {
    const file = join(dir, 'segments.pcap');
    writeFileSync(file, pcap(packets));
    const run = spawnSync('tcpdump', ['-nn', '-S', '-v', '-r', file], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    // With -v each packet is an IP line followed by an indented TCP line.
    const lines = run.stdout.split('\n').filter((l) => l.includes(' Flags ['));
    return lines.map((line) => ({
      flags: /Flags \[([^\]]*)\]/.exec(line)![1]!,
      options: /options \[(.*)\], length/.exec(line)?.[1] ?? '',
      checksumOk: /cksum 0x[0-9a-f]{4} \(correct\)/.test(line),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ours(tcp: Uint8Array): Seen {
  const list = listTcpOptions(tcp);
  if (typeof list === 'string') assert.fail(`our own segment did not list: ${list}`);
  return { flags: formatTcpFlags(tcp[13]!), options: formatTcpOptions(list), checksumOk: true };
}

/** Fixes up the TCP checksum of a hand-built segment for the IPv4 pseudo-header. */
function withChecksumV4(tcp: Uint8Array): Uint8Array {
  tcp[16] = 0;
  tcp[17] = 0;
  const c = checksumFinish(
    checksumAdd(pseudoHeaderSumV4(SRC_V4, DST_V4, PROTO_TCP, tcp.length), tcp),
  );
  tcp[16] = c >>> 8;
  tcp[17] = c & 0xff;
  return tcp;
}

// Reprs laid out by emitTcp, the same kinds the stack sends.
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const reprArb: fc.Arbitrary<TcpRepr> = fc
  .record(
    {
      syn: fc.boolean(),
      extra: fc.constantFrom(
        0,
        TcpFlags.ACK,
        TcpFlags.PSH | TcpFlags.ACK,
        TcpFlags.FIN | TcpFlags.ACK,
      ),
      mss: fc.integer({ min: 0, max: 0xffff }),
      ws: fc.integer({ min: -1, max: 14 }),
      sackOK: fc.boolean(),
      ts: fc.option(fc.record({ value: u32, echo: u32 }, { noNullPrototype: true }), { nil: null }),
      blocks: fc.array(fc.tuple(u32, u32), { maxLength: 4 }),
      payload: fc.uint8Array({ maxLength: 33 }),
      seq: u32,
      ack: u32,
    },
    { noNullPrototype: true },
  )
  .map((g) => {
    const options = noTcpOptions();
    const flags = g.syn ? TcpFlags.SYN | (g.extra & TcpFlags.ACK) : g.extra | TcpFlags.ACK;
    options.timestamp = g.ts;
    if (g.syn) {
      options.mss = g.mss;
      options.windowScale = g.ws;
      options.sackPermitted = g.sackOK;
    } else {
      options.sackBlocks = g.blocks.map(([l, r]) => ({ left: seq(l), right: seq(r) }));
    }
    return {
      srcPort: 40000,
      dstPort: 8080,
      seq: seq(g.seq),
      ack: seq(g.ack),
      flags,
      window: 1000,
      urgent: 0,
      options,
      payload: g.syn ? new Uint8Array(0) : g.payload,
    };
  });

test(
  'tcpdump agrees with emitTcp: checksums (IPv4 and IPv6), flags and option text',
  { skip },
  () => {
    const reprs = fc.sample(reprArb, { seed: 20240601, numRuns: 300 });
    const packets: Uint8Array[] = [];
    const expected: Seen[] = [];
    reprs.forEach((r, i) => {
      const v6 = i % 2 === 1;
      const length = tcpHeaderLength(r) + r.payload.length;
      const tcp = new Uint8Array(length);
      const pseudo = v6
        ? pseudoHeaderSumV6(SRC_V6, DST_V6, PROTO_TCP, length)
        : pseudoHeaderSumV4(SRC_V4, DST_V4, PROTO_TCP, length);
      emitTcp(r, tcp, pseudo);
      packets.push(v6 ? wrapV6(tcp) : wrapV4(tcp));
      expected.push(ours(tcp));
    });
    const seen = tcpdump(packets);
    assert.equal(seen.length, packets.length);
    seen.forEach((s, i) => assert.deepEqual(s, expected[i], `segment ${i}`));
  },
);

test('tcpdump agrees with formatTcpFlags on all 256 flag bytes', { skip }, () => {
  const packets: Uint8Array[] = [];
  for (let flags = 0; flags < 256; flags++) {
    const tcp = new Uint8Array(20);
    tcp.set([0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, flags, 0x10, 0]);
    packets.push(wrapV4(withChecksumV4(tcp)));
  }
  const seen = tcpdump(packets);
  assert.equal(seen.length, 256);
  seen.forEach((s, flags) =>
    assert.equal(formatTcpFlags(flags), s.flags, `flags 0x${flags.toString(16)}`),
  );
});

// Option areas no Linux would send: any order, repeats, EOL, unknown kinds.
// Unknown kinds come from numbers tcpdump has no decoder for (it names
// md5, mptcp, uto, tcp-ao, ... itself).
const word = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const chunk: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([1]),
  fc.integer({ min: 0, max: 0xffff }).map((v) => [2, 4, v >>> 8, v & 0xff]),
  fc.integer({ min: 0, max: 255 }).map((v) => [3, 3, v]),
  fc.constant<number[]>([4, 2]),
  fc
    .array(fc.tuple(u32, u32), { minLength: 1, maxLength: 4 })
    .map((bs) => [5, 2 + 8 * bs.length, ...bs.flatMap(([l, r]) => [...word(l), ...word(r)])]),
  fc.tuple(u32, u32).map(([v, e]) => [8, 10, ...word(v), ...word(e)]),
  fc
    .tuple(fc.constantFrom(42, 99, 123, 200), fc.uint8Array({ maxLength: 6 }))
    .map(([kind, data]) => [kind, 2 + data.length, ...data]),
  // Fast Open (RFC 7413): requests, valid and invalid cookie lengths, the
  // experimental form with its magic, and kind 254 carrying another experiment.
  fc.uint8Array({ maxLength: 18 }).map((cookie) => [34, 2 + cookie.length, ...cookie]),
  fc.uint8Array({ maxLength: 10 }).map((cookie) => [254, 4 + cookie.length, 0xf9, 0x89, ...cookie]),
  fc
    .tuple(fc.integer({ min: 0, max: 0xf988 }), fc.uint8Array({ maxLength: 4 }))
    .map(([magic, data]) => [254, 4 + data.length, magic >>> 8, magic & 0xff, ...data]),
);
const area = fc
  .tuple(fc.array(chunk, { minLength: 1, maxLength: 8 }), fc.boolean())
  .map(([chunks, endWithEol]) => {
    // Keep whole options only, so every area is well formed, then maybe an EOL.
    const out: number[] = [];
    for (const c of chunks) if (out.length + c.length <= 39) out.push(...c);
    if (endWithEol) out.push(0);
    return out;
  });

test(
  'tcpdump agrees with listTcpOptions + formatTcpOptions on arbitrary option areas',
  { skip },
  () => {
    const areas = fc.sample(area, { seed: 7, numRuns: 300 });
    const packets: Uint8Array[] = [];
    const expected: Seen[] = [];
    for (const opts of areas) {
      const headerLength = 20 + Math.ceil(opts.length / 4) * 4;
      const tcp = new Uint8Array(headerLength);
      tcp.set([
        0x9c,
        0x40,
        0x1f,
        0x90,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        2,
        (headerLength / 4) << 4,
        0x10,
        0x10,
        0,
      ]);
      tcp.set(opts, 20);
      withChecksumV4(tcp);
      packets.push(wrapV4(tcp));
      expected.push(ours(tcp));
    }
    const seen = tcpdump(packets);
    assert.equal(seen.length, packets.length);
    seen.forEach((s, i) => assert.deepEqual(s, expected[i], `area ${i}: ${areas[i]!.join(' ')}`));
  },
);
