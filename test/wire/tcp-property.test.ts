import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seq } from '../../src/base/index.js';
import {
  TCP_MAX_OPTIONS_LENGTH,
  TcpFlags,
  WireDropReason,
  checksumAdd,
  checksumFinish,
  emitTcp,
  listTcpOptions,
  noTcpOptions,
  parseTcp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  tcpHeaderLength,
  tcpOptionsLength,
  type TcpOptions,
  type TcpRepr,
} from '../../src/wire/index.js';

const PROTO_TCP = 6;
const REASONS = new Set<string>(Object.values(WireDropReason));

/** fc.record with ordinary prototypes, so deepStrictEqual compares like with like. */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const seqNum = u32.map(seq);
const timestamp = fc.option(rec({ value: u32, echo: u32 }), { nil: null });
const sackBlock = rec({ left: seqNum, right: seqNum });

/** Any 8-bit flag set that parseTcp accepts (no SYN with FIN or RST). */
const validFlags = fc
  .integer({ min: 0, max: 0xff })
  .filter((f) => !((f & TcpFlags.SYN) !== 0 && (f & (TcpFlags.FIN | TcpFlags.RST)) !== 0));

/**
 * Options that survive emit -> parse unchanged: on a SYN, what a SYN carries;
 * otherwise timestamps and as many SACK blocks as fit. (Fields that do not
 * belong to the segment kind are left out on emit; that is tested elsewhere.)
 */
function optionsFor(flags: number): fc.Arbitrary<TcpOptions> {
  if ((flags & TcpFlags.SYN) !== 0) {
    return rec({
      mss: u16,
      windowScale: fc.integer({ min: -1, max: 14 }),
      sackPermitted: fc.boolean(),
      sackBlocks: fc.constant([]),
      timestamp,
    });
  }
  return timestamp.chain((ts) =>
    rec({
      mss: fc.constant(0),
      windowScale: fc.constant(-1),
      sackPermitted: fc.constant(false),
      sackBlocks: fc.array(sackBlock, { maxLength: ts === null ? 4 : 3 }),
      timestamp: fc.constant(ts),
    }),
  );
}

const reprArb: fc.Arbitrary<TcpRepr> = validFlags.chain((flags) =>
  rec({
    srcPort: u16,
    dstPort: u16,
    seq: seqNum,
    ack: seqNum,
    flags: fc.constant(flags),
    window: u16,
    urgent: u16,
    options: optionsFor(flags),
    payload: fc.uint8Array({ maxLength: 200 }),
  }),
);

/** The pseudo-header sum for a segment of `length` bytes, from either family. */
const pseudoArb = fc.oneof(
  rec({ src: u32, dst: u32 }).map(
    ({ src, dst }) =>
      (length: number) =>
        pseudoHeaderSumV4(src, dst, PROTO_TCP, length),
  ),
  fc
    .record({
      src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    })
    .map(
      ({ src, dst }) =>
        (length: number) =>
          pseudoHeaderSumV6(src, dst, PROTO_TCP, length),
    ),
);

function plain(r: TcpRepr): unknown {
  return { ...r, payload: Array.from(r.payload) };
}

test('random reprs round-trip through emit and parse with the checksum verified (v4 and v6)', () => {
  fc.assert(
    fc.property(reprArb, pseudoArb, fc.nat({ max: 16 }), (repr, pseudoFor, slack) => {
      const length = tcpHeaderLength(repr) + repr.payload.length;
      const out = new Uint8Array(length + slack);
      const pseudo = pseudoFor(length);
      assert.equal(emitTcp(repr, out, pseudo), length);
      const segment = out.subarray(0, length);
      const back = parseTcp(segment, pseudo);
      if (typeof back === 'string') return assert.fail(`dropped: ${back}`);
      // An MSS of 0 is the "absent" sentinel, so it is neither sent nor read back.
      assert.deepEqual(plain(back), plain(repr));
      assert.equal(tcpOptionsLength(repr.options, repr.flags) % 4, 0);
      assert.ok(tcpOptionsLength(repr.options, repr.flags) <= TCP_MAX_OPTIONS_LENGTH);
      // A single flipped bit anywhere is caught by the checksum.
      const bit = (repr.srcPort + repr.window) % (length * 8);
      segment[bit >>> 3] ^= 1 << (bit & 7);
      const corrupted = parseTcp(segment, pseudo);
      assert.ok(typeof corrupted === 'string', 'a corrupted segment is dropped');
    }),
    { numRuns: 500 },
  );
});

test('any options object emits a header of exactly tcpHeaderLength that parses back', () => {
  const anyOptions = rec({
    mss: u16,
    windowScale: fc.integer({ min: -1, max: 14 }),
    sackPermitted: fc.boolean(),
    sackBlocks: fc.array(sackBlock, { maxLength: 8 }),
    timestamp,
  });
  fc.assert(
    fc.property(validFlags, anyOptions, (flags, options) => {
      const repr: TcpRepr = {
        srcPort: 1,
        dstPort: 2,
        seq: seq(3),
        ack: seq(4),
        flags,
        window: 5,
        urgent: 0,
        options,
        payload: new Uint8Array(0),
      };
      const out = new Uint8Array(60);
      const n = emitTcp(repr, out, 0);
      assert.equal(n, tcpHeaderLength(repr));
      assert.equal((out[12]! >>> 4) * 4, n);
      const back = parseTcp(out.subarray(0, n), 0);
      if (typeof back === 'string') return assert.fail(`dropped: ${back}`);
      const syn = (flags & TcpFlags.SYN) !== 0;
      assert.equal(back.options.mss, syn ? options.mss : 0);
      assert.equal(back.options.windowScale, syn ? options.windowScale : -1);
      assert.equal(back.options.sackPermitted, syn && options.sackPermitted);
      assert.deepEqual(back.options.timestamp, options.timestamp);
      const fit = options.timestamp === null ? 4 : 3;
      assert.deepEqual(back.options.sackBlocks, syn ? [] : options.sackBlocks.slice(0, fit));
    }),
    { numRuns: 300 },
  );
});

test('random bytes never throw, and drops are named reasons', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), u32, fc.boolean(), (bytes, pseudo, verify) => {
      const r = parseTcp(bytes, pseudo, verify);
      if (typeof r === 'string') assert.ok(REASONS.has(r), r);
      else assert.ok(r.payload.length <= bytes.length);
      const l = listTcpOptions(bytes);
      if (typeof l === 'string') assert.ok(REASONS.has(l), l);
    }),
    { numRuns: 2000 },
  );
});

const byte = fc.integer({ min: 0, max: 255 });
const word = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
/** One option as bytes: mostly well formed, sometimes damaged or plain garbage. */
const optionChunk: fc.Arbitrary<number[]> = fc.oneof(
  { arbitrary: fc.constant<number[]>([0]), weight: 1 },
  { arbitrary: fc.constant<number[]>([1]), weight: 3 },
  { arbitrary: u16.map((v) => [2, 4, v >>> 8, v & 0xff]), weight: 3 },
  { arbitrary: byte.map((v) => [3, 3, v]), weight: 3 },
  { arbitrary: fc.constant<number[]>([4, 2]), weight: 3 },
  {
    arbitrary: fc
      .array(fc.tuple(u32, u32), { minLength: 1, maxLength: 4 })
      .map((bs) => [5, 2 + 8 * bs.length, ...bs.flatMap(([l, r]) => [...word(l), ...word(r)])]),
    weight: 3,
  },
  { arbitrary: fc.tuple(u32, u32).map(([v, e]) => [8, 10, ...word(v), ...word(e)]), weight: 3 },
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 6, max: 255 }), fc.uint8Array({ maxLength: 6 }))
      .map(([kind, data]) => [kind, 2 + data.length, ...data]),
    weight: 2,
  },
  { arbitrary: fc.array(byte, { minLength: 1, maxLength: 4 }), weight: 1 },
);
/** Up to 40 option bytes made of chunks, with an occasional damaged byte. */
const optionArea = fc
  .tuple(fc.array(optionChunk, { maxLength: 8 }), fc.option(fc.tuple(fc.nat(), byte)))
  .map(([chunks, damage]) => {
    const area = chunks.flat().slice(0, 40);
    if (damage !== null && area.length > 0) area[damage[0] % area.length] = damage[1];
    return area;
  });

/**
 * Random option bytes behind a plausible header, without checksum
 * verification, so the option walker sees every kind of garbage. The parse
 * and the option list must agree on whether (and why) the options are bad,
 * and on what the options say when they are good.
 */
test('random option areas: parse and listTcpOptions agree; last occurrence wins', () => {
  fc.assert(
    fc.property(
      optionArea,
      fc.integer({ min: 0, max: 15 }),
      fc.uint8Array({ maxLength: 8 }),
      fc.integer({ min: 0, max: 9 }),
      (opts, words, tail, mode) => {
        const padded = opts.length + ((4 - (opts.length % 4)) % 4);
        const bytes = new Uint8Array(20 + padded + tail.length);
        // Mostly a data offset that covers the options exactly; sometimes any offset.
        bytes[12] = (mode > 0 ? (20 + padded) / 4 : words) << 4;
        bytes[13] = TcpFlags.ACK;
        bytes.set(opts, 20);
        bytes.set(tail, 20 + padded);
        const r = parseTcp(bytes, 0, false);
        const l = listTcpOptions(bytes);
        if (typeof r === 'string' || typeof l === 'string') {
          assert.equal(r, l);
          return;
        }
        const expected = noTcpOptions();
        for (const e of l) {
          if (e.kind === 'mss') expected.mss = e.value;
          else if (e.kind === 'wscale') expected.windowScale = Math.min(e.shift, 14);
          else if (e.kind === 'sackOK') expected.sackPermitted = true;
          else if (e.kind === 'sack') expected.sackBlocks = e.blocks;
          else if (e.kind === 'TS') expected.timestamp = { value: e.value, echo: e.echo };
        }
        assert.deepEqual(r.options, expected);
        assert.equal(r.payload.length, bytes.length - (bytes[12]! >>> 4) * 4);
      },
    ),
    { numRuns: 2000 },
  );
});

test('the checksum emitTcp writes equals the one computed over the finished segment', () => {
  fc.assert(
    fc.property(reprArb, u32, (repr, pseudo) => {
      const out = new Uint8Array(tcpHeaderLength(repr) + repr.payload.length);
      emitTcp(repr, out, pseudo);
      const written = (out[16]! << 8) | out[17]!;
      out[16] = 0;
      out[17] = 0;
      assert.equal(written, checksumFinish(checksumAdd(pseudo, out)));
    }),
    { numRuns: 200 },
  );
});
