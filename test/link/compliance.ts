// The contract every link pair keeps (src/link/link.ts): frames arrive
// intact and in order when nothing impairs them, the MTU is enforced, send
// copies and receive hands over, pollTimeout is honest (nothing becomes
// receivable before it, and after a drain it lies in the future), and the
// stats add up. Memory pairs, impairment and taps run it (compliance.test.ts);
// a TUN/TAP link will too.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NEVER, SeededRng, instant, randomInt } from '../../src/base/index.js';
import type { Instant } from '../../src/base/index.js';
import {
  LINK_DROP_REASONS,
  LinkDropReason,
  LinkKind,
  MAX_MTU,
  MIN_MTU,
  maxFrameLength,
} from '../../src/link/index.js';
import type { LinkEndpoint, LinkPair, LinkStats } from '../../src/link/index.js';
import { lengthFor, minFrameLength, minTaggedLength, tagOf, taggedFrame } from './frames.js';
import type { Arrival } from './frames.js';

/** Makes a fresh pair; a link that cannot honour `mtu` may give another (the MTU tests then skip). */
export type MakePair = (config: { kind: LinkKind; mtu: number }) => LinkPair;

/** What the compliance run may assume about a link. */
export interface ComplianceOptions {
  /**
   * A frame sent at `t` is receivable at the peer at `t` (a memory pair and
   * wrappers that add no delay). Links with delay, and host devices, say false.
   */
  instantaneous: boolean;
  /** The kinds to test; default both. */
  kinds?: LinkKind[];
}

/** Both endpoints' arrivals, and where time stopped. */
export interface DriveResult {
  now: Instant;
  atA: Arrival[];
  atB: Arrival[];
}

/**
 * Drives a pair as a driver with one timer would: drain both ends at `now`,
 * sleep to the earliest pollTimeout, repeat, up to `until` (NEVER: until
 * idle), then drain at `until`. Checks honesty on the way: after a drain,
 * every pollTimeout lies after `now` (no spinning); and one microsecond
 * before a wake-up nothing is receivable yet (the wake-up was not late).
 */
export function drive(
  pair: LinkPair,
  from: Instant,
  until: Instant,
  into?: DriveResult,
): DriveResult {
  const [a, b] = pair;
  const result: DriveResult = into ?? { now: from, atA: [], atB: [] };
  let now = from;
  for (let wakes = 0; ; wakes++) {
    assert.ok(wakes < 10_000_000, 'drive: too many wake-ups; does pollTimeout move forward?');
    settle(a, b, now, result);
    const t = a.pollTimeout() < b.pollTimeout() ? a.pollTimeout() : b.pollTimeout();
    if (t === NEVER || t > until) break;
    if (t - 1 > now) {
      assert.equal(a.receive(instant(t - 1)), null, `a frame at A before pollTimeout ${t}`);
      assert.equal(b.receive(instant(t - 1)), null, `a frame at B before pollTimeout ${t}`);
    }
    now = t;
  }
  if (until !== NEVER && until > now) {
    now = until;
    settle(a, b, now, result);
  }
  result.now = now;
  return result;
}

/** Receives at both ends at `now` until neither has anything, then checks pollTimeout is in the future. */
function settle(a: LinkEndpoint, b: LinkEndpoint, now: Instant, result: DriveResult): void {
  // A drain at one end may release frames (held by a wrapper) towards the
  // other, so go round until a pass finds nothing and nothing is due.
  for (let pass = 0; ; pass++) {
    let got = 0;
    for (let f = a.receive(now); f !== null; f = a.receive(now)) {
      result.atA.push({ at: now, frame: f });
      got++;
    }
    for (let f = b.receive(now); f !== null; f = b.receive(now)) {
      result.atB.push({ at: now, frame: f });
      got++;
    }
    if (got === 0 && a.pollTimeout() > now && b.pollTimeout() > now) return;
    assert.ok(
      pass < 1000,
      `pollTimeout stays at or before ${now} although nothing arrives: a driver would spin`,
    );
  }
}

function sumDrops(stats: LinkStats): number {
  let n = 0;
  for (const reason of LINK_DROP_REASONS) n += stats.drops[reason];
  return n;
}

/** Checks the identities every LinkStats keeps on its own. */
export function assertStatsConsistent(stats: LinkStats, who: string): void {
  assert.equal(
    sumDrops(stats),
    stats.txDropped + stats.rxDropped,
    `${who}: drops by reason sum to tx+rx dropped`,
  );
  for (const key of [
    'txFrames',
    'txBytes',
    'txDropped',
    'rxFrames',
    'rxBytes',
    'rxDropped',
  ] as const) {
    assert.ok(Number.isInteger(stats[key]) && stats[key] >= 0, `${who}: ${key} = ${stats[key]}`);
  }
}

function assertSameFrames(got: Arrival[], sent: Uint8Array[], what: string): void {
  assert.equal(got.length, sent.length, `${what}: ${got.length} frames arrived of ${sent.length}`);
  for (let i = 0; i < sent.length; i++) {
    assert.deepEqual(got[i]!.frame, sent[i]!, `${what}: frame ${i} differs`);
  }
}

/** Registers the compliance tests for `name`. */
export function linkCompliance(name: string, makePair: MakePair, options: ComplianceOptions): void {
  const kinds = options.kinds ?? [LinkKind.Ethernet, LinkKind.Ip];
  for (const kind of kinds) {
    describe(`link compliance: ${name} (${kind})`, () => {
      const fresh = (mtu = 1500) => makePair({ kind, mtu });

      test('both ends report the kind asked for and the same sane MTU', () => {
        const [a, b] = fresh();
        assert.equal(a.kind, kind);
        assert.equal(b.kind, kind);
        assert.equal(a.mtu, b.mtu);
        assert.ok(Number.isInteger(a.mtu) && a.mtu >= MIN_MTU && a.mtu <= MAX_MTU, `mtu ${a.mtu}`);
      });

      test('idle: receive returns null, pollTimeout is NEVER, the counters are zero', () => {
        const [a, b] = fresh();
        for (const t of [0, 1, 1_000_000]) {
          assert.equal(a.receive(instant(t)), null);
          assert.equal(b.receive(instant(t)), null);
        }
        assert.equal(a.pollTimeout(), NEVER);
        assert.equal(b.pollTimeout(), NEVER);
        for (const e of [a, b]) {
          const s = e.stats();
          assert.deepEqual(
            [s.txFrames, s.txBytes, s.txDropped, s.rxFrames, s.rxBytes, s.rxDropped, sumDrops(s)],
            [0, 0, 0, 0, 0, 0, 0],
          );
        }
      });

      test('frames arrive intact and in order, both ways, sizes from minimal to MTU', () => {
        const pair = fresh();
        const [a, b] = pair;
        const rng = new SeededRng(11);
        const toB: Uint8Array[] = [];
        const toA: Uint8Array[] = [];
        const run: DriveResult = { now: instant(0), atA: [], atB: [] };
        let now = instant(0);
        for (let i = 0; i < 400; i++) {
          const fromA = randomInt(rng, 3) !== 0;
          const sender = fromA ? a : b;
          const frame = taggedFrame(kind, lengthFor(sender, i), i, fromA);
          assert.equal(sender.send(now, frame), true, `frame ${i} refused`);
          (fromA ? toB : toA).push(frame);
          // Sometimes several at one instant, sometimes time passes (up to 3 ms).
          const step = randomInt(rng, 2) === 0 ? 0 : randomInt(rng, 3000);
          drive(pair, now, instant(now + step), run);
          now = instant(now + step);
        }
        drive(pair, now, NEVER, run);
        assertSameFrames(run.atB, toB, 'A to B');
        assertSameFrames(run.atA, toA, 'B to A');
      });

      test('send copies its input; receive hands over a frame the caller owns', () => {
        const pair = fresh();
        const [a] = pair;
        const scratch = new Uint8Array(minTaggedLength(kind) + 100);
        const expected: Uint8Array[] = [];
        for (let i = 0; i < 5; i++) {
          // One scratch buffer for every frame, as a stack builds them.
          scratch.set(taggedFrame(kind, scratch.length, 1000 + i));
          expected.push(scratch.slice());
          assert.equal(a.send(instant(10), scratch), true);
          scratch.fill(0xee); // reuse at once: must not reach the peer
        }
        const got = drive(pair, instant(10), NEVER).atB.map((x) => x.frame);
        assert.equal(got.length, 5);
        for (let i = 0; i < 5; i++) assert.deepEqual(got[i], expected[i]);
        // Each received frame's bytes are its own: changing one changes no
        // other. (They may share an ArrayBuffer, carved from one block: what
        // matters is that no two frames share bytes.)
        got[0]!.fill(0);
        for (let i = 1; i < 5; i++) assert.deepEqual(got[i], expected[i]);
      });

      test('a delivered frame is never written again by the link, however much follows', () => {
        const pair = fresh();
        const [a] = pair;
        const length = minTaggedLength(kind) + 1400;
        const first: Uint8Array[] = [];
        let sent = 0;
        // Enough traffic (several MB) to go round any block or ring a link
        // carves its copies from, sent and drained in rounds below its queue.
        const run: DriveResult = { now: instant(0), atA: [], atB: [] };
        for (let round = 0; round < 40; round++) {
          for (let i = 0; i < 100; i++)
            assert.equal(a.send(run.now, taggedFrame(kind, length, sent++)), true);
          drive(pair, run.now, NEVER, run);
          if (round === 0) for (const x of run.atB) first.push(x.frame);
        }
        assert.equal(run.atB.length, sent, 'every frame arrived');
        assert.equal(first.length, 100);
        for (let i = 0; i < first.length; i++) {
          assert.deepEqual(
            first[i],
            taggedFrame(kind, length, i),
            `frame ${i} changed after delivery`,
          );
        }
      });

      test('a frame handed over (send(now, frame, true)) arrives intact, and copies sent alongside still copy', () => {
        const pair = fresh();
        const [a] = pair;
        const length = minTaggedLength(kind) + 1400;
        const scratch = new Uint8Array(length);
        const expected: Uint8Array[] = [];
        const run: DriveResult = { now: instant(0), atA: [], atB: [] };
        let tag = 0;
        // Enough rounds to go round any block a link carves copies from.
        for (let round = 0; round < 20; round++) {
          for (let i = 0; i < 50; i++) {
            const given = taggedFrame(kind, length, tag);
            expected.push(given.slice());
            assert.equal(a.send(run.now, given, true), true);
            tag++;
            // Interleaved, a frame from a reused scratch buffer, without the promise.
            scratch.set(taggedFrame(kind, length, tag));
            expected.push(scratch.slice());
            assert.equal(a.send(run.now, scratch), true);
            scratch.fill(0xee);
            tag++;
          }
          drive(pair, run.now, NEVER, run);
        }
        const got = run.atB.map((x) => x.frame);
        assert.equal(got.length, expected.length, 'every frame arrived');
        // Nothing delivered early changed later, whichever way it was sent;
        // and no two delivered frames share bytes.
        for (let i = 0; i < got.length; i++) assert.deepEqual(got[i], expected[i], `frame ${i}`);
        got[0]!.fill(0);
        got[1]!.fill(0);
        for (let i = 2; i < got.length; i++) assert.deepEqual(got[i], expected[i], `frame ${i}`);
      });

      for (const mtu of [MIN_MTU, 576, 1500, 9000]) {
        test(`the MTU is enforced (mtu ${mtu}): a maximal frame passes, one byte more is refused and counted`, (t) => {
          const pair = fresh(mtu);
          const [a, b] = pair;
          if (a.mtu !== mtu) {
            t.skip(`this link has MTU ${a.mtu}, not ${mtu}`);
            return;
          }
          const max = maxFrameLength(kind, mtu);
          const big = taggedFrame(kind, max, 1);
          const tooBig = taggedFrame(kind, max + 1, 2);
          assert.equal(a.send(instant(0), big), true);
          assert.equal(
            a.send(instant(0), tooBig),
            false,
            'a frame one byte over the MTU was accepted',
          );
          assert.equal(b.send(instant(0), taggedFrame(kind, max + 1000, 3, false)), false);
          const run = drive(pair, instant(0), NEVER);
          assertSameFrames(run.atB, [big], 'maximal frame');
          assert.equal(run.atA.length, 0);
          const sa = a.stats();
          assert.equal(sa.txFrames, 1);
          assert.equal(sa.txBytes, max);
          assert.equal(sa.txDropped, 1);
          assert.equal(sa.drops[LinkDropReason.TooBig], 1);
          assert.equal(b.stats().drops[LinkDropReason.TooBig], 1);
        });
      }

      test('a frame shorter than a minimal frame is refused and counted, never thrown on', () => {
        const pair = fresh();
        const [a] = pair;
        const min = minFrameLength(kind);
        for (let length = 0; length < min; length++) {
          assert.equal(
            a.send(instant(0), new Uint8Array(length)),
            false,
            `${length}-byte frame accepted`,
          );
        }
        const ok = taggedFrame(kind, min, 0);
        assert.equal(a.send(instant(0), ok), true, 'a minimal frame was refused');
        const run = drive(pair, instant(0), NEVER);
        assertSameFrames(run.atB, [ok], 'minimal frame');
        assert.equal(a.stats().drops[LinkDropReason.TooShort], min);
      });

      test('pollTimeout is honest: nothing is receivable before it, and it is not NEVER while a frame is on its way', () => {
        const pair = fresh();
        const [a, b] = pair;
        const sentAt: number[] = [];
        let now = instant(1000);
        for (let i = 0; i < 50; i++) {
          assert.equal(a.send(now, taggedFrame(kind, 100, i)), true);
          sentAt.push(now);
          if (options.instantaneous) {
            assert.ok(
              b.pollTimeout() <= now,
              `pollTimeout ${b.pollTimeout()} after a send at ${now}`,
            );
          }
          assert.notEqual(
            Math.min(a.pollTimeout(), b.pollTimeout()),
            NEVER,
            'a frame is on its way but no end has a deadline',
          );
          now = instant(now + 777 * (i % 3));
        }
        // drive() checks at every wake-up that nothing arrived earlier.
        const run = drive(pair, now, NEVER);
        assert.equal(run.atB.length, 50);
        for (let i = 0; i < 50; i++) {
          assert.equal(tagOf(kind, run.atB[i]!.frame), i);
          assert.ok(run.atB[i]!.at >= sentAt[i]!, 'received before it was sent');
        }
        assert.equal(a.pollTimeout(), NEVER);
        assert.equal(b.pollTimeout(), NEVER);
      });

      if (options.instantaneous) {
        test('instantaneous: a frame sent at t is received at t', () => {
          const [a, b] = fresh();
          for (let i = 0; i < 20; i++) {
            const t = instant(5000 + i * 10);
            const frame = taggedFrame(kind, 64 + i, i, i % 2 === 0);
            assert.equal((i % 2 === 0 ? a : b).send(t, frame), true);
            assert.deepEqual((i % 2 === 0 ? b : a).receive(t), frame);
            assert.equal((i % 2 === 0 ? b : a).receive(t), null);
          }
        });
      }

      test('stats add up: what one end sent the other received, refusals counted once', () => {
        const pair = fresh();
        const [a, b] = pair;
        let offeredA = 0;
        let refusedA = 0;
        let bytesA = 0;
        let now = instant(0);
        for (let i = 0; i < 200; i++) {
          const length = i % 17 === 0 ? maxFrameLength(kind, a.mtu) + 1 : lengthFor(a, i);
          offeredA++;
          if (a.send(now, taggedFrame(kind, length, i))) bytesA += length;
          else refusedA++;
          if (i % 3 === 0) b.send(now, taggedFrame(kind, lengthFor(b, i + 1), i, false));
          now = instant(now + 100);
        }
        const before = a.stats();
        drive(pair, now, NEVER);
        const sa = a.stats();
        const sb = b.stats();
        assertStatsConsistent(sa, 'A');
        assertStatsConsistent(sb, 'B');
        assert.equal(refusedA, 12);
        assert.equal(sa.txFrames + sa.txDropped, offeredA);
        assert.equal(sa.txDropped, refusedA);
        assert.equal(sa.txBytes, bytesA);
        assert.equal(sb.rxFrames, sa.txFrames);
        assert.equal(sb.rxBytes, sa.txBytes);
        assert.equal(sa.rxFrames, sb.txFrames);
        assert.equal(sa.rxBytes, sb.txBytes);
        assert.equal(sa.rxDropped + sb.rxDropped, 0);
        // A snapshot: later traffic and a caller's edits leave it alone.
        assert.ok(sa.rxFrames > 0);
        assert.equal(before.rxFrames, 0);
        sa.drops[LinkDropReason.TooBig] = 999;
        sa.txFrames = -1;
        assert.equal(a.stats().drops[LinkDropReason.TooBig], refusedA);
        assert.equal(a.stats().txFrames, offeredA - refusedA);
      });

      test('a burst sent at one instant is delivered complete and in order', () => {
        const pair = fresh();
        const [a] = pair;
        const sent: Uint8Array[] = [];
        for (let i = 0; i < 500; i++) {
          const frame = taggedFrame(kind, minTaggedLength(kind) + (i % 50), i);
          assert.equal(a.send(instant(42), frame), true, `frame ${i} refused`);
          sent.push(frame);
        }
        assertSameFrames(drive(pair, instant(42), NEVER).atB, sent, 'burst');
      });

      test('property: any schedule of sends, refusals and waits delivers exactly the accepted frames in order', () => {
        const op = fc.record({
          fromA: fc.boolean(),
          length: fc.integer({ min: 0, max: 1600 }),
          wait: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50_000 })),
          drain: fc.boolean(),
        });
        fc.assert(
          fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
            const pair = fresh();
            const [a, b] = pair;
            const toB: Uint8Array[] = [];
            const toA: Uint8Array[] = [];
            const run: DriveResult = { now: instant(0), atA: [], atB: [] };
            let now = instant(0);
            let tag = 0;
            for (const o of ops) {
              const sender = o.fromA ? a : b;
              const length = Math.min(o.length, maxFrameLength(kind, sender.mtu) + 1);
              const frame = taggedFrame(kind, length, tag++, o.fromA);
              const valid =
                length >= minFrameLength(kind) && length <= maxFrameLength(kind, sender.mtu);
              assert.equal(sender.send(now, frame), valid);
              if (valid) (o.fromA ? toB : toA).push(frame);
              if (o.drain) drive(pair, now, instant(now + o.wait), run);
              now = instant(now + o.wait);
            }
            drive(pair, now, NEVER, run);
            assertSameFrames(run.atB, toB, 'A to B');
            assertSameFrames(run.atA, toA, 'B to A');
            assertStatsConsistent(a.stats(), 'A');
            assertStatsConsistent(b.stats(), 'B');
          }),
          { numRuns: 60, seed: 20240611 },
        );
      });
    });
  }
}
