// The pcapng reader on files built here block by block: both byte orders,
// several sections and interfaces with different link types, timestamp
// resolutions (default micro, 10^-9, 2^-n) and offsets, Simple and obsolete
// Packet Blocks, skipped blocks, and damage reported with the records before
// it kept. Files written by tshark are checked in test/cli/pcapng.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LinkType, PcapError, readPcap, type PcapFile } from '../../src/link/index.js';

/** Little helpers writing one block in either byte order. */
class Builder {
  readonly le: boolean;
  private readonly parts: number[] = [];
  constructor(le: boolean) {
    this.le = le;
  }
  private u16(out: number[], v: number): void {
    if (this.le) out.push(v & 0xff, (v >>> 8) & 0xff);
    else out.push((v >>> 8) & 0xff, v & 0xff);
  }
  private u32(out: number[], v: number): void {
    const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    out.push(...(this.le ? b.reverse() : b));
  }
  private option(out: number[], code: number, value: number[]): void {
    this.u16(out, code);
    this.u16(out, value.length);
    out.push(...value);
    while (out.length % 4 !== 0) out.push(0);
  }
  block(type: number, body: number[]): this {
    const padded = [...body];
    while (padded.length % 4 !== 0) padded.push(0);
    const length = padded.length + 12;
    const out: number[] = [];
    this.u32(out, type);
    this.u32(out, length);
    out.push(...padded);
    this.u32(out, length);
    this.parts.push(...out);
    return this;
  }
  section(): this {
    const body: number[] = [];
    this.u32(body, 0x1a2b3c4d);
    this.u16(body, 1);
    this.u16(body, 0);
    body.push(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff); // section length unknown
    return this.block(0x0a0d0d0a, body);
  }
  iface(linkType: number, snaplen: number, tsresol?: number, tsoffset?: number): this {
    const body: number[] = [];
    this.u16(body, linkType);
    this.u16(body, 0);
    this.u32(body, snaplen);
    this.option(body, 2, [...new TextEncoder().encode('eth0')]); // if_name: skipped
    if (tsresol !== undefined) this.option(body, 9, [tsresol]);
    if (tsoffset !== undefined) {
      const v: number[] = [];
      this.u32(v, this.le ? tsoffset : 0);
      this.u32(v, this.le ? 0 : tsoffset);
      this.option(body, 14, v);
    }
    this.option(body, 0, []);
    return this.block(1, body);
  }
  epb(id: number, high: number, low: number, data: number[], origlen = data.length): this {
    const body: number[] = [];
    this.u32(body, id);
    this.u32(body, high);
    this.u32(body, low);
    this.u32(body, data.length);
    this.u32(body, origlen);
    body.push(...data);
    while (body.length % 4 !== 0) body.push(0);
    this.option(body, 1, [...new TextEncoder().encode('a comment')]);
    return this.block(6, body);
  }
  spb(data: number[]): this {
    const body: number[] = [];
    this.u32(body, data.length);
    body.push(...data);
    return this.block(3, body);
  }
  obsoletePacket(id: number, high: number, low: number, data: number[]): this {
    const body: number[] = [];
    this.u16(body, id);
    this.u16(body, 0);
    this.u32(body, high);
    this.u32(body, low);
    this.u32(body, data.length);
    this.u32(body, data.length);
    body.push(...data);
    return this.block(2, body);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function read(bytes: Uint8Array): PcapFile {
  const file = readPcap(bytes);
  assert.notEqual(typeof file, 'string', `readPcap: ${String(file)}`);
  return file as PcapFile;
}

const IP = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
const FRAME = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00, ...IP];

test('both byte orders, EPB timestamps in the default microseconds, options skipped', () => {
  for (const le of [true, false]) {
    const file = read(
      new Builder(le)
        .section()
        .iface(LinkType.Ethernet, 65535)
        .block(4, [0, 0, 0, 0]) // a name resolution block: skipped
        .epb(0, 0x5f5e1, 0x00000000 + 7, FRAME)
        .bytes(),
    );
    assert.equal(file.error, null);
    assert.equal(file.header.littleEndian, le);
    assert.equal(file.header.linkType, LinkType.Ethernet);
    assert.equal(file.records.length, 1);
    const r = file.records[0]!;
    assert.equal(r.time, 0x5f5e1 * 2 ** 32 + 7);
    assert.equal(r.linkType, LinkType.Ethernet);
    assert.deepEqual([...r.data], FRAME);
    assert.equal(r.originalLength, FRAME.length);
  }
});

test('if_tsresol (10^-9 and 2^-10) and if_tsoffset put timestamps on microseconds', () => {
  // 1_733_000_000.123456789 s in nanoseconds: beyond 2^53, so the exact path.
  const nanos = 1_733_000_000_123_456_789n;
  const high = Number(nanos >> 32n);
  const low = Number(nanos & 0xffffffffn);
  const file = read(
    new Builder(true)
      .section()
      .iface(LinkType.Raw, 0, 9)
      .iface(LinkType.Raw, 0, 0x80 | 10, 100)
      .epb(0, high, low, IP)
      .epb(1, 0, 1024 * 5 + 512, IP) // 5.5 s in 1/1024 s, plus 100 s of offset
      .bytes(),
  );
  assert.equal(file.error, null);
  assert.equal(file.header.nanosecond, true);
  assert.equal(file.records[0]!.time, 1_733_000_000_123_456);
  assert.equal(file.records[1]!.time, 105_500_000);
});

test('interfaces of different link types; a second section starts its own interfaces', () => {
  const sll2 = [0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...IP];
  const first = new Builder(true)
    .section()
    .iface(LinkType.Ethernet, 0)
    .iface(LinkType.Raw, 0)
    .epb(1, 0, 1, IP)
    .epb(0, 0, 2, FRAME)
    .bytes();
  const second = new Builder(false)
    .section()
    .iface(LinkType.LinuxSll2, 0)
    .epb(0, 0, 3, sll2)
    .bytes();
  const file = read(Uint8Array.from([...first, ...second]));
  assert.equal(file.error, null);
  assert.deepEqual(
    file.records.map((r) => [r.time, r.linkType]),
    [
      [1, LinkType.Raw],
      [2, LinkType.Ethernet],
      [3, LinkType.LinuxSll2],
    ],
  );
});

test('Simple Packet Blocks (interface 0, cut at its snaplen) and the obsolete Packet Block', () => {
  const file = read(
    new Builder(true)
      .section()
      .iface(LinkType.Ethernet, 20)
      .spb(FRAME)
      .obsoletePacket(0, 0, 9, FRAME)
      .bytes(),
  );
  assert.equal(file.error, null);
  assert.equal(file.records.length, 2);
  assert.equal(file.records[0]!.data.length, 20);
  assert.equal(file.records[0]!.originalLength, FRAME.length);
  assert.equal(file.records[1]!.time, 9);
  assert.deepEqual([...file.records[1]!.data], FRAME);
});

test('damage is a named error; the packets before it are kept', () => {
  const good = new Builder(true).section().iface(LinkType.Raw, 0).epb(0, 0, 1, IP).bytes();
  const withTail = (tail: Uint8Array) => read(Uint8Array.from([...good, ...tail]));
  // The file ends inside the next block.
  const next = new Builder(true).epb(0, 0, 2, IP).bytes();
  const file = withTail(next.subarray(0, 20));
  assert.equal(file.error, PcapError.TruncatedBlock);
  assert.equal(file.records.length, 1);
  // A trailing length that does not match.
  const mismatched = next.slice();
  mismatched[mismatched.length - 4] ^= 4;
  assert.equal(withTail(mismatched).error, PcapError.BadBlockLength);
  // A packet on an interface nobody described.
  assert.equal(
    withTail(new Builder(true).epb(5, 0, 2, IP).bytes()).error,
    PcapError.UnknownInterface,
  );
  // A captured length past the block.
  const long = next.slice();
  long[8 + 12] = 200;
  assert.equal(withTail(long).error, PcapError.BadRecordLength);
  // An interface of a link type tcpts does not read.
  assert.equal(
    withTail(new Builder(true).iface(147, 0).bytes()).error,
    PcapError.UnsupportedLinkType,
  );
  // A section of another major version.
  const v2 = new Builder(true).section().bytes();
  v2[12] = 2;
  assert.equal(withTail(v2).error, PcapError.BadVersion);
});

test('any bytes after a section header: records or a named error, never an exception', () => {
  const head = new Builder(true).section().iface(LinkType.Ethernet, 0).bytes();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
      const file = readPcap(Uint8Array.from([...head, ...tail]));
      assert.ok(typeof file === 'string' || Array.isArray(file.records));
    }),
  );
});
