import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NEVER, instant, seconds } from '../../src/base/index.js';
import type { Instant } from '../../src/base/index.js';
import {
  DATAGRAM_OVERHEAD,
  DEFAULT_REASSEMBLY_CONFIG,
  FRAGMENT_OVERHEAD,
  Reassembler,
} from '../../src/stack/reassembly.js';
import type { ReassemblyConfig } from '../../src/stack/reassembly.js';

const CONFIG: ReassemblyConfig = {
  timeout: seconds(30),
  maxDatagramSize: 65535,
  maxBytes: 4 * 1024 * 1024,
};
const T0 = instant(5_000_000);
const KEY = '4/10.0.0.1/10.0.0.2/1234/17';

function payload(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

/** Cuts `p` into pieces at the given byte offsets (multiples of 8). */
function cut(
  p: Uint8Array,
  at: number[],
): Array<{ offset: number; more: boolean; data: Uint8Array }> {
  const bounds = [0, ...at, p.length];
  const out = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    out.push({
      offset: bounds[i]!,
      more: i + 2 < bounds.length,
      data: p.subarray(bounds[i]!, bounds[i + 1]!), // a view, as the stack would pass
    });
  }
  return out;
}

function t(us: number): Instant {
  return instant(us);
}

test('defaults are Linux\u2019s', () => {
  assert.equal(DEFAULT_REASSEMBLY_CONFIG.timeout, seconds(30));
  assert.equal(DEFAULT_REASSEMBLY_CONFIG.maxDatagramSize, 65535);
  assert.equal(DEFAULT_REASSEMBLY_CONFIG.maxBytes, 4 * 1024 * 1024);
});

test('in-order fragments reassemble to the exact payload', () => {
  const r = new Reassembler(CONFIG);
  const p = payload(3000);
  const frags = cut(p, [1480, 2960]);
  assert.equal(r.add(T0, KEY, frags[0]!.offset, true, frags[0]!.data), null);
  assert.equal(r.pendingDatagrams, 1);
  assert.equal(r.pendingBytes, DATAGRAM_OVERHEAD + FRAGMENT_OVERHEAD + 1480);
  assert.equal(r.pollTimeout(), T0 + seconds(30));
  assert.equal(r.add(T0, KEY, frags[1]!.offset, true, frags[1]!.data), null);
  const out = r.add(T0, KEY, frags[2]!.offset, false, frags[2]!.data);
  assert.ok(out instanceof Uint8Array);
  assert.deepEqual(out, p);
  assert.notEqual(out.buffer, p.buffer, 'a fresh array');
  assert.equal(r.pendingDatagrams, 0);
  assert.equal(r.pendingBytes, 0);
  assert.equal(r.pollTimeout(), NEVER);
});

test('out-of-order fragments, last first, and the inputs are copied', () => {
  const r = new Reassembler(CONFIG);
  const p = payload(100);
  const frags = cut(p, [24, 48, 80]);
  const source = p.slice(); // keep the truth before we scribble on the views
  for (const i of [3, 1, 0]) {
    assert.equal(r.add(T0, KEY, frags[i]!.offset, frags[i]!.more, frags[i]!.data), null);
  }
  p.fill(0); // the caller reuses its receive buffer: the stored fragments must not change
  const last = source.subarray(48, 80);
  assert.deepEqual(r.add(T0, KEY, 48, true, last), source);
});

test('exact duplicates are ignored and the payload is still exact', () => {
  const r = new Reassembler(CONFIG);
  const p = payload(64);
  const frags = cut(p, [16, 40]);
  assert.equal(r.add(T0, KEY, 0, true, frags[0]!.data), null);
  const before = r.pendingBytes;
  assert.equal(r.add(T0, KEY, 0, true, frags[0]!.data.slice()), null, 'duplicate accepted');
  assert.equal(r.pendingBytes, before, 'and not stored twice');
  assert.equal(r.add(T0, KEY, 40, false, frags[2]!.data), null);
  assert.equal(r.add(T0, KEY, 40, false, frags[2]!.data), null, 'a duplicate last fragment too');
  assert.deepEqual(r.add(T0, KEY, 16, true, frags[1]!.data), p);
});

test('an overlap discards the datagram (RFC 5722) and later fragments do not resurrect it', () => {
  const r = new Reassembler(CONFIG);
  const p = payload(48);
  assert.equal(r.add(T0, KEY, 0, true, p.subarray(0, 24)), null);
  // Overlaps [16, 24).
  assert.equal(r.add(t(T0 + 1), KEY, 16, true, p.subarray(16, 32)), 'fragment-overlap');
  assert.equal(r.pendingDatagrams, 0);
  assert.equal(r.discardedDatagrams, 1);
  assert.equal(r.pendingBytes, DATAGRAM_OVERHEAD, 'the fragments are freed; only the tombstone');
  // The fragments that would have completed it are refused.
  assert.equal(r.add(t(T0 + 2), KEY, 24, false, p.subarray(24, 48)), 'fragment-overlap');
  assert.equal(r.add(t(T0 + 3), KEY, 0, true, p.subarray(0, 24)), 'fragment-overlap');
  // Other datagrams are unaffected.
  assert.deepEqual(r.add(t(T0 + 3), 'other', 0, false, p), p);
  // The tombstone ends with the datagram's timer; then the key is free again.
  assert.equal(r.pollTimeout(), T0 + seconds(30));
  assert.equal(r.handleTimeout(t(T0 + seconds(30))), 0, 'a tombstone is not a timed-out datagram');
  assert.equal(r.discardedDatagrams, 0);
  assert.equal(r.pendingBytes, 0);
  assert.equal(r.add(t(T0 + seconds(31)), KEY, 0, true, p.subarray(0, 24)), null);
  assert.deepEqual(r.add(t(T0 + seconds(31)), KEY, 24, false, p.subarray(24, 48)), p);
});

test('overlap in every shape is caught', () => {
  const p = payload(64);
  const cases: Array<[string, number, number, number, number]> = [
    ['new covers old', 16, 32, 8, 40],
    ['old covers new', 8, 40, 16, 32],
    ['same range, different bytes', 16, 32, 16, 32],
    ['reaches into the next', 24, 40, 16, 32],
    ['starts inside the previous', 16, 32, 24, 40],
  ];
  for (const [what, a0, a1, b0, b1] of cases) {
    const r = new Reassembler(CONFIG);
    assert.equal(r.add(T0, KEY, a0, true, p.subarray(a0, a1)), null, what);
    const second = p.slice(b0, b1);
    if (a0 === b0 && a1 === b1) second[0] ^= 0xff;
    assert.equal(r.add(T0, KEY, b0, true, second), 'fragment-overlap', what);
  }
  // Adjacent is not overlapping.
  const r = new Reassembler(CONFIG);
  assert.equal(r.add(T0, KEY, 8, true, p.subarray(8, 16)), null);
  assert.equal(r.add(T0, KEY, 16, true, p.subarray(16, 24)), null);
  assert.equal(r.add(T0, KEY, 0, true, p.subarray(0, 8)), null);
  assert.equal(r.pendingDatagrams, 1);
});

test('malformed fragments are fragment-bad and leave the datagram waiting', () => {
  const r = new Reassembler(CONFIG);
  const p = payload(64);
  assert.equal(r.add(T0, KEY, 0, true, p.subarray(0, 12)), 'fragment-bad', 'not a multiple of 8');
  assert.equal(r.add(T0, KEY, 0, true, p.subarray(0, 0)), 'fragment-bad', 'empty');
  assert.equal(r.add(T0, KEY, 4, true, p.subarray(0, 8)), 'fragment-bad', 'offset not in 8s');
  assert.equal(r.add(T0, KEY, -8, true, p.subarray(0, 8)), 'fragment-bad', 'negative offset');
  assert.equal(r.pendingDatagrams, 0, 'none of those made an entry');

  assert.equal(r.add(T0, KEY, 0, true, p.subarray(0, 16)), null);
  assert.equal(r.add(T0, KEY, 32, true, p.subarray(32, 48)), null);
  assert.equal(r.add(T0, KEY, 40, false, p.subarray(40, 45)), 'fragment-bad', 'ends before data');
  assert.equal(r.add(T0, KEY, 48, false, p.subarray(48, 64)), null);
  assert.equal(
    r.add(T0, KEY, 56, false, p.subarray(56, 60)),
    'fragment-bad',
    'a second, other end',
  );
  assert.equal(r.add(T0, KEY, 64, true, p.subarray(0, 8)), 'fragment-bad', 'past the known end');
  assert.equal(r.pendingDatagrams, 1, 'the datagram still waits');
  assert.deepEqual(r.add(T0, KEY, 16, true, p.subarray(16, 32)), p);
});

test('a datagram past maxDatagramSize is fragment-too-big and discarded', () => {
  const r = new Reassembler({ ...CONFIG, maxDatagramSize: 1000 });
  const p = payload(1200);
  assert.equal(r.add(T0, 'a', 992, false, p.subarray(992, 1008)), 'fragment-too-big');
  assert.equal(r.pendingDatagrams, 0);
  assert.equal(r.add(T0, KEY, 0, true, p.subarray(0, 496)), null);
  assert.equal(r.add(T0, KEY, 496, true, p.subarray(496, 1008)), 'fragment-too-big');
  assert.equal(r.pendingDatagrams, 0, 'the partial datagram is gone');
  assert.equal(r.pendingBytes, DATAGRAM_OVERHEAD);
  assert.equal(r.add(T0, KEY, 496, false, p.subarray(496, 1000)), 'fragment-too-big', 'tombstoned');
  // Exactly at the limit is fine.
  assert.deepEqual(r.add(T0, 'b', 0, false, p.subarray(0, 1000)), p.subarray(0, 1000));
});

test('the timeout drops a partial datagram and frees its memory', () => {
  const r = new Reassembler(CONFIG);
  const p = payload(4000);
  assert.equal(r.add(T0, 'a', 0, true, p.subarray(0, 1000)), null);
  assert.equal(r.add(t(T0 + seconds(10)), 'b', 0, true, p.subarray(0, 2000)), null);
  // A later fragment does not extend a's timer.
  assert.equal(r.add(t(T0 + seconds(20)), 'a', 1000, true, p.subarray(1000, 1504)), null);
  assert.equal(r.pendingDatagrams, 2);
  assert.equal(r.pollTimeout(), T0 + seconds(30));
  assert.equal(r.handleTimeout(t(T0 + seconds(30) - 1)), 0, 'not yet');
  assert.equal(r.handleTimeout(t(T0 + seconds(30))), 1);
  assert.equal(r.pendingDatagrams, 1);
  assert.equal(r.pendingBytes, DATAGRAM_OVERHEAD + FRAGMENT_OVERHEAD + 2000);
  assert.equal(r.pollTimeout(), T0 + seconds(40));
  assert.equal(r.handleTimeout(t(T0 + seconds(100))), 1);
  assert.equal(r.pendingBytes, 0);
  assert.equal(r.pollTimeout(), NEVER);
  // A's last fragment arriving now starts afresh and cannot complete.
  assert.equal(r.add(t(T0 + seconds(101)), 'a', 1504, false, p.subarray(1504, 1600)), null);
});

test('the memory cap refuses fragments and frees the datagram they belonged to', () => {
  const perFragment = 1000 + FRAGMENT_OVERHEAD;
  const cap = 2 * DATAGRAM_OVERHEAD + 3 * perFragment;
  const r = new Reassembler({ ...CONFIG, maxBytes: cap });
  const p = payload(4000);
  assert.equal(r.add(T0, 'a', 0, true, p.subarray(0, 1000)), null);
  assert.equal(r.add(T0, 'a', 1000, true, p.subarray(1000, 2000)), null);
  assert.equal(r.add(T0, 'b', 0, true, p.subarray(0, 1000)), null);
  assert.equal(r.pendingBytes, cap);
  assert.equal(
    r.add(T0, 'c', 0, true, p.subarray(0, 8)),
    'fragment-memory',
    'no room for a new one',
  );
  assert.equal(r.pendingDatagrams, 2);
  assert.equal(r.add(T0, 'a', 2000, true, p.subarray(2000, 3000)), 'fragment-memory');
  assert.equal(r.pendingDatagrams, 1, 'a can no longer complete, so it was freed');
  assert.equal(r.pendingBytes, 2 * DATAGRAM_OVERHEAD + perFragment);
  assert.equal(
    r.add(T0, 'a', 3000, false, p.subarray(3000, 3100)),
    'fragment-memory',
    'tombstoned',
  );
  // b can use the room.
  assert.equal(r.add(T0, 'b', 1000, true, p.subarray(1000, 2000)), null);
  assert.deepEqual(r.add(T0, 'b', 2000, false, p.subarray(2000, 2100)), p.subarray(0, 2100));
  assert.equal(r.pendingBytes, DATAGRAM_OVERHEAD, 'only a\u2019s tombstone left');
  assert.ok(r.pendingBytes <= cap);
});

test('a complete datagram in one fragment comes back at once', () => {
  const r = new Reassembler(CONFIG);
  const p = payload(40);
  assert.deepEqual(r.add(T0, KEY, 0, false, p), p);
  assert.equal(r.pendingDatagrams, 0);
  assert.equal(r.pendingBytes, 0);
});

test('bad configuration throws', () => {
  assert.throws(() => new Reassembler({ ...CONFIG, timeout: seconds(0) }), /timeout/);
  assert.throws(() => new Reassembler({ ...CONFIG, maxDatagramSize: 0 }), /maxDatagramSize/);
  assert.throws(() => new Reassembler({ ...CONFIG, maxBytes: -1 }), /maxBytes/);
});

test('property: any fragmentation in any order, with duplicates, reassembles exactly', () => {
  const arb = fc
    .record({
      units: fc.integer({ min: 1, max: 600 }), // payload up to 4800 bytes, in 8-byte units
      tail: fc.integer({ min: 0, max: 7 }),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: 599 }), { maxLength: 40 }),
      seed: fc.integer({ min: 0, max: 255 }),
      order: fc.array(fc.nat(), { maxLength: 80 }),
      dups: fc.array(fc.nat(), { maxLength: 5 }),
    })
    .filter((x) => x.units * 8 + x.tail > 0);
  fc.assert(
    fc.property(arb, ({ units, tail, cuts, seed, order, dups }) => {
      const length = units * 8 + tail;
      const p = payload(length, seed);
      const at = cuts
        .filter((c) => c * 8 < length)
        .map((c) => c * 8)
        .sort((a, b) => a - b);
      const frags = cut(p, at);
      // A permutation of the fragments driven by `order`, plus some duplicates.
      const seq = frags.slice();
      for (let i = seq.length - 1; i > 0; i--) {
        const j = (order[i % Math.max(order.length, 1)] ?? i) % (i + 1);
        [seq[i], seq[j]] = [seq[j]!, seq[i]!];
      }
      for (const d of dups) seq.splice(d % (seq.length + 1), 0, frags[d % frags.length]!);

      const r = new Reassembler(CONFIG);
      let done: Uint8Array | null = null;
      let seen = 0;
      for (const f of seq) {
        const res = r.add(T0, KEY, f.offset, f.more, f.data);
        assert.ok(typeof res !== 'string', `no drop expected, got ${String(res)}`);
        if (res !== null) {
          assert.equal(done, null, 'completes exactly once');
          done = res;
          seen = new Set(seq.slice(0, seq.indexOf(f) + 1).map((g) => g.offset)).size;
          break;
        }
      }
      assert.ok(done !== null, 'completed');
      assert.equal(seen, frags.length, 'completed only when every fragment had arrived');
      assert.deepEqual(done, p);
      assert.equal(r.pendingBytes, 0);
      assert.equal(r.pendingDatagrams, 0);
    }),
    { numRuns: 300 },
  );
});

test('property: interleaved datagrams stay apart, and memory is always within the cap', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 0, max: 20_000 }),
      (sizes, picks, cap) => {
        const r = new Reassembler({ ...CONFIG, maxBytes: cap });
        const datagrams = sizes.map((units, k) => {
          const p = payload(units * 8 + (k % 8), k);
          const at: number[] = [];
          for (let o = 64; o < p.length; o += 64) at.push(o);
          return { key: `d${k}`, p, frags: cut(p, at), next: 0 };
        });
        // Feed fragments in order within each datagram, interleaving datagrams.
        for (const pick of picks) {
          const d = datagrams[pick % datagrams.length]!;
          if (d.next >= d.frags.length) continue;
          const f = d.frags[d.next++]!;
          const res = r.add(T0, d.key, f.offset, f.more, f.data);
          assert.ok(r.pendingBytes <= cap);
          if (res instanceof Uint8Array) assert.deepEqual(res, d.p);
          else if (res !== null) assert.equal(res, 'fragment-memory');
        }
        r.handleTimeout(t(T0 + seconds(30)));
        assert.equal(r.pendingBytes, 0);
      },
    ),
    { numRuns: 200 },
  );
});
