// The impairment wrapper, measured: loss rates against their binomial
// spread, Gilbert–Elliott bursts against their geometric mean, the rate
// limiter against the bytes a link of that speed carries, delay and jitter
// against their bounds, reordering, duplication, corruption, determinism,
// cuts and run-time changes. Every run goes through drive() (compliance.ts),
// which also checks at each wake-up that pollTimeout was neither late nor stuck.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, SeededRng, instant, millis, seconds } from '../../src/base/index.js';
import { LinkDropReason, LinkKind, impair, memoryPair } from '../../src/link/index.js';
import type { ImpairOptions, ImpairedLink, LinkEndpoint, LinkPair } from '../../src/link/index.js';
import { drive } from './compliance.js';
import type { DriveResult } from './compliance.js';
import {
  IP_A,
  IP_B,
  MAC_A,
  MAC_B,
  bitsDiffering,
  inEthernet,
  ipv4UdpIntact,
  tagOf,
  taggedFrame,
  udpPacket,
} from './frames.js';

interface Send {
  at: number;
  fromA: boolean;
  frame: Uint8Array;
}

interface Run extends DriveResult {
  /** What send() returned, per scheduled send. */
  accepted: boolean[];
}

/** Sends on schedule (sorted by time) while driving the pair, then runs until idle. */
function play(pair: LinkPair, sends: Send[]): Run {
  const run: Run = { now: instant(0), atA: [], atB: [], accepted: [] };
  let now = instant(0);
  for (const s of sends) {
    if (s.at > now) {
      drive(pair, now, instant(s.at), run);
      now = instant(s.at);
    }
    run.accepted.push((s.fromA ? pair[0] : pair[1]).send(now, s.frame));
  }
  drive(pair, now, NEVER, run);
  return run;
}

/** `count` tagged frames of `length` bytes from A, one every `spacing` µs from `start`. */
function stream(kind: LinkKind, count: number, length: number, spacing: number, start = 0): Send[] {
  const sends: Send[] = [];
  for (let i = 0; i < count; i++) {
    sends.push({ at: start + i * spacing, fromA: true, frame: taggedFrame(kind, length, i) });
  }
  return sends;
}

/** A pair whose A end is impaired with `options`; B is the bare memory end. */
function impairedPair(
  options: ImpairOptions,
  kind: LinkKind = LinkKind.Ip,
): [ImpairedLink, LinkEndpoint] {
  const [a, b] = memoryPair({ kind, queueFrames: Infinity });
  return [impair(a, options), b];
}

/** Lengths of the runs of consecutive lost tags among 0..count-1, given the tags received. */
function lossRuns(received: Arrival[], count: number, kind: LinkKind): number[] {
  const got = new Uint8Array(count);
  for (const r of received) got[tagOf(kind, r.frame)] = 1;
  const runs: number[] = [];
  let current = 0;
  for (let i = 0; i < count; i++) {
    if (got[i] === 0) current++;
    else if (current > 0) {
      runs.push(current);
      current = 0;
    }
  }
  if (current > 0) runs.push(current);
  return runs;
}

type Arrival = DriveResult['atA'][number];

function mean(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

describe('impair: loss', () => {
  // n = 100 000 Bernoulli trials: the lost count has mean np and standard
  // deviation sqrt(np(1-p)). A 5-sigma band fails for a correct
  // implementation with probability below 1e-6 whatever the seed, yet it is
  // tight: at p = 0.1 it is ±475 frames, ±0.5 % of the rate.
  for (const p of [0.01, 0.1, 0.5]) {
    test(`measured loss over 100k frames is ${p} within 5 standard deviations`, () => {
      const n = 100_000;
      const pair = impairedPair({ seed: 1000 + p * 100, loss: p });
      const run = play(pair, stream(LinkKind.Ip, n, 40, 10));
      const lost = n - run.atB.length;
      const sigma = Math.sqrt(n * p * (1 - p));
      assert.ok(
        Math.abs(lost - n * p) <= 5 * sigma,
        `lost ${lost}, expected ${n * p} ± ${5 * sigma}`,
      );
      // Loss is silent: send() accepted every frame; the drop is counted.
      assert.ok(run.accepted.every((x) => x));
      const s = pair[0].stats();
      assert.equal(s.txFrames, n);
      assert.equal(s.drops[LinkDropReason.Loss], lost);
      assert.equal(s.txDropped, lost);
      assert.equal(pair[1].stats().rxFrames, n - lost);
    });
  }

  test('independent loss does not come in bursts: mean run of losses ≈ 1/(1-p)', () => {
    const n = 100_000;
    const p = 0.04;
    const run = play(impairedPair({ seed: 5, loss: p }), stream(LinkKind.Ip, n, 40, 10));
    const runs = lossRuns(run.atB, n, LinkKind.Ip);
    // Geometric with mean 1/(1-p) = 1.042; ~3800 runs give it to ±0.01.
    assert.ok(Math.abs(mean(runs) - 1 / (1 - p)) < 0.03, `mean run ${mean(runs)}`);
  });
});

describe('impair: Gilbert–Elliott burst loss', () => {
  const n = 100_000;
  const p = 0.01;
  const r = 0.25;

  test('bursts have mean length 1/r and the loss rate is p/(p+r)', () => {
    const pair = impairedPair({ seed: 77, burst: { pGoodToBad: p, pBadToGood: r } });
    const run = play(pair, stream(LinkKind.Ip, n, 40, 10));
    const runs = lossRuns(run.atB, n, LinkKind.Ip);
    const lost = n - run.atB.length;
    // Stationary loss rate p/(p+r) = 3.85 %: 3846 frames in about 960 bursts.
    // Each burst is geometric with mean 1/r = 4 and variance (1-r)/r^2 = 12,
    // so the mean of ~960 has a standard deviation of 0.11: ±0.5 is over 4
    // sigma. The total is a sum of a random number of bursts, relative
    // standard deviation about 4.3 %: ±20 % is over 4 sigma.
    assert.ok(Math.abs(mean(runs) - 1 / r) < 0.5, `mean burst ${mean(runs)}, expected ${1 / r}`);
    const expected = (n * p) / (p + r);
    assert.ok(Math.abs(lost - expected) < 0.2 * expected, `lost ${lost}, expected ≈ ${expected}`);
    assert.ok(
      runs.some((x) => x >= 15),
      'no long burst at all in 100k frames',
    );
    assert.equal(pair[0].stats().drops[LinkDropReason.BurstLoss], lost);
    assert.equal(pair[0].stats().drops[LinkDropReason.Loss], 0);
  });

  test('loss inside the bad state (h < 1) and in the good state (1-k > 0) scale the rate', () => {
    const run = play(
      impairedPair({
        seed: 78,
        burst: { pGoodToBad: p, pBadToGood: r, lossBad: 0.5, lossGood: 0.01 },
      }),
      stream(LinkKind.Ip, n, 40, 10),
    );
    const lost = n - run.atB.length;
    const bad = p / (p + r);
    const expected = n * (bad * 0.5 + (1 - bad) * 0.01);
    assert.ok(Math.abs(lost - expected) < 0.2 * expected, `lost ${lost}, expected ≈ ${expected}`);
  });
});

describe('impair: rate limit and drop-tail queue', () => {
  test('a burst is paced at exactly the serialisation time, and the queue drops its tail', () => {
    // 1000 bytes at 1 Mbit/s take 8 ms. The queue holds 5000 bytes counting
    // the frame on the wire, so 5 of 10 frames offered at once get in.
    const pair = impairedPair({ seed: 1, rate: 1e6, queueBytes: 5000 });
    const run = play(pair, stream(LinkKind.Ip, 10, 1000, 0));
    assert.deepEqual(run.accepted, [
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    assert.deepEqual(
      run.atB.map((x) => x.at),
      [8000, 16000, 24000, 32000, 40000],
    );
    assert.deepEqual(
      run.atB.map((x) => tagOf(LinkKind.Ip, x.frame)),
      [0, 1, 2, 3, 4],
    );
    assert.equal(pair[0].stats().drops[LinkDropReason.QueueFull], 5);
    // Refused frames are not counted as sent.
    assert.equal(pair[0].stats().txFrames, 5);
  });

  test('1 Mbit/s offered 2 Mbit/s delivers 125 000 bytes per virtual second and drops the excess', () => {
    const pair = impairedPair({ seed: 2, rate: 1e6, queueBytes: 20_000 });
    // One 1000-byte frame every 4 ms for 10 s: 2 Mbit/s.
    const run = play(pair, stream(LinkKind.Ip, 2500, 1000, 4000));
    const perSecond = new Array<number>(11).fill(0);
    for (const x of run.atB) perSecond[Math.floor((x.at - 1) / seconds(1))]! += x.frame.length;
    // Full seconds once the queue has filled (it takes 40 ms): exactly 125
    // frames fit in each, give or take the one straddling the boundary.
    for (let s = 1; s < 10; s++) {
      assert.ok(Math.abs(perSecond[s]! - 125_000) <= 1000, `second ${s}: ${perSecond[s]} bytes`);
    }
    const refused = run.accepted.filter((x) => !x).length;
    // 10 s at 1 Mbit/s carry 1250 frames; 2500 were offered; about 20 wait in the queue at the end.
    assert.ok(refused >= 1225 && refused <= 1250, `refused ${refused}`);
    assert.equal(run.atB.length, 2500 - refused);
    assert.equal(pair[0].stats().drops[LinkDropReason.QueueFull], refused);
  });

  test('below the rate nothing is dropped and each frame waits only its own serialisation', () => {
    const run = play(
      impairedPair({ seed: 3, rate: 1e6, delay: millis(10) }),
      stream(LinkKind.Ip, 100, 500, 10_000),
    );
    assert.equal(run.atB.length, 100);
    for (let i = 0; i < 100; i++) assert.equal(run.atB[i]!.at, i * 10_000 + 4000 + 10_000);
  });

  test('fractional serialisation times accumulate without drift', () => {
    // 100 bytes at 3 Mbit/s: 266.67 µs each; after 3000 frames exactly 800 ms.
    const run = play(
      impairedPair({ seed: 4, rate: 3e6, queueBytes: Infinity }),
      stream(LinkKind.Ip, 3000, 100, 0),
    );
    assert.equal(run.atB.length, 3000);
    assert.equal(run.atB[2999]!.at, 800_000);
    assert.equal(run.atB[0]!.at, 267);
  });
});

describe('impair: delay, jitter, reordering', () => {
  test('a fixed delay is exact', () => {
    const run = play(
      impairedPair({ seed: 1, delay: millis(20) }),
      stream(LinkKind.Ip, 100, 60, 333),
    );
    for (let i = 0; i < 100; i++) assert.equal(run.atB[i]!.at, i * 333 + 20_000);
  });

  test('jitter keeps every delay within [delay - jitter, delay + jitter] and keeps order', () => {
    const n = 5000;
    const sends = stream(LinkKind.Ip, n, 60, 1000);
    const run = play(impairedPair({ seed: 9, delay: millis(20), jitter: millis(5) }), sends);
    assert.equal(run.atB.length, n);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const arrival = run.atB[i]!;
      assert.equal(tagOf(LinkKind.Ip, arrival.frame), i, 'jitter reordered frames');
      const d = arrival.at - sends[i]!.at;
      assert.ok(d >= 15_000 && d <= 25_000, `frame ${i} delayed ${d} µs`);
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    // Keeping order lifts a low draw to the previous frame's deadline, so the
    // low end is rarely reached at 1 ms spacing; the high end is.
    assert.ok(min < 17_000 && max > 24_500, `delays only span [${min}, ${max}]`);
  });

  test('spaced wider than the jitter, delays are uniform around the mean', () => {
    // Uniform on ±5 ms: sd 2.89 ms; the mean of 5000 is within ±0.04 ms (1 sigma).
    const n = 5000;
    const sends = stream(LinkKind.Ip, n, 60, 20_000);
    const run = play(impairedPair({ seed: 10, delay: millis(20), jitter: millis(5) }), sends);
    const delays = run.atB.map((x, i) => x.at - sends[i]!.at);
    assert.ok(Math.abs(mean(delays) - 20_000) < 200, `mean delay ${mean(delays)}`);
    const low = delays.filter((d) => d < 20_000).length;
    assert.ok(Math.abs(low / n - 0.5) < 0.05, `${low} of ${n} below the mean`);
  });

  test('reordering holds back the configured fraction, which later frames overtake', () => {
    const n = 20_000;
    const rate = 0.1;
    const sends = stream(LinkKind.Ip, n, 60, 1000);
    const pair = impairedPair({
      seed: 11,
      delay: millis(10),
      reorder: rate,
      reorderDelay: millis(5),
    });
    const run = play(pair, sends);
    assert.equal(run.atB.length, n, 'reordering lost frames');
    // A frame is late when one sent after it arrived first. A held-back frame
    // is overtaken by the next five unless all of them are held back too
    // (probability 1e-5). Binomial sd at n = 20 000: 0.0021; ±0.01 is ~5 sigma.
    let highest = -1;
    let late = 0;
    for (const x of run.atB) {
      const tag = tagOf(LinkKind.Ip, x.frame);
      if (tag < highest) {
        late++;
        assert.equal(
          x.at - sends[tag]!.at,
          15_000,
          'a late frame was held for delay + reorderDelay',
        );
      } else highest = tag;
    }
    assert.ok(Math.abs(late / n - rate) < 0.01, `late fraction ${late / n}`);
    const held = pair[0].impairStats().outgoing.reordered;
    assert.ok(Math.abs(held - late) <= 2, `held back ${held}, late ${late}`);
  });
});

describe('impair: duplication and corruption', () => {
  test('duplication delivers about the configured fraction twice, byte for byte', () => {
    const n = 20_000;
    const p = 0.05;
    const sends = stream(LinkKind.Ethernet, n, 100, 100);
    const pair = impairedPair({ seed: 12, duplicate: p }, LinkKind.Ethernet);
    const run = play(pair, sends);
    const copies = new Uint8Array(n);
    for (const x of run.atB) {
      const tag = tagOf(LinkKind.Ethernet, x.frame);
      copies[tag]!++;
      assert.deepEqual(x.frame, sends[tag]!.frame);
    }
    const dups = run.atB.length - n;
    // Binomial sd sqrt(20000 * 0.05 * 0.95) = 30.8; 5 sigma = 154.
    assert.ok(Math.abs(dups - n * p) <= 154, `${dups} duplicates`);
    assert.ok(copies.every((c) => c === 1 || c === 2));
    assert.equal(pair[0].impairStats().outgoing.duplicated, dups);
    // The copies are separate bytes: no two delivered frames overlap in
    // memory (they may be carved from one block).
    const byBuffer = new Map<ArrayBufferLike, Uint8Array[]>();
    for (const x of run.atB) {
      const list = byBuffer.get(x.frame.buffer) ?? [];
      list.push(x.frame);
      byBuffer.set(x.frame.buffer, list);
    }
    for (const list of byBuffer.values()) {
      list.sort((u, v) => u.byteOffset - v.byteOffset);
      for (let i = 1; i < list.length; i++) {
        const before = list[i - 1]!;
        assert.ok(
          before.byteOffset + before.length <= list[i]!.byteOffset,
          'two frames share bytes',
        );
      }
    }
  });

  test('corruption flips exactly one bit, past the Ethernet header, and the IP/UDP checksums catch it', () => {
    const n = 3000;
    const sends: Send[] = [];
    for (let i = 0; i < n; i++) {
      const payload = taggedFrame(LinkKind.Ip, 24 + (i % 200), i).subarray(20);
      const packet = udpPacket(IP_A, IP_B, 40000, 5000 + (i % 7), payload);
      sends.push({ at: i * 10, fromA: true, frame: inEthernet(packet, MAC_B, MAC_A) });
    }
    const pair = impairedPair({ seed: 13, corrupt: 1 }, LinkKind.Ethernet);
    const run = play(pair, sends);
    assert.equal(run.atB.length, n);
    for (let i = 0; i < n; i++) {
      const sent = sends[i]!.frame;
      const got = run.atB[i]!.frame;
      assert.equal(bitsDiffering(sent, got), 1, `frame ${i}`);
      assert.deepEqual(got.subarray(0, 14), sent.subarray(0, 14), 'the Ethernet header was hit');
      assert.equal(ipv4UdpIntact(sent.subarray(14)), true);
      // RFC 768: a flip that turns the checksum field into zero would mean
      // "no checksum"; it takes a field with one bit set, which none here has.
      assert.equal(
        ipv4UdpIntact(got.subarray(14)),
        false,
        `a corrupted frame ${i} passes the checksums`,
      );
    }
    assert.equal(pair[0].impairStats().outgoing.corrupted, n);
  });

  test('on an IP link corruption hits any bit, at the configured rate', () => {
    const n = 20_000;
    const p = 0.1;
    const sends = stream(LinkKind.Ip, n, 60, 10);
    const run = play(impairedPair({ seed: 14, corrupt: p }), sends);
    const hitBytes = new Uint8Array(60);
    let corrupted = 0;
    for (let i = 0; i < n; i++) {
      const diff = bitsDiffering(sends[i]!.frame, run.atB[i]!.frame);
      assert.ok(diff === 0 || diff === 1);
      if (diff === 1) {
        corrupted++;
        for (let k = 0; k < 60; k++)
          if (sends[i]!.frame[k] !== run.atB[i]!.frame[k]) hitBytes[k] = 1;
      }
    }
    // Binomial sd 42; 5 sigma = 212.
    assert.ok(Math.abs(corrupted - n * p) <= 212, `${corrupted} corrupted`);
    assert.ok(
      hitBytes.every((x) => x === 1),
      'some byte offset never corrupted in 2000 flips',
    );
  });

  test('a duplicate and its original are corrupted independently', () => {
    const n = 4000;
    const sends = stream(LinkKind.Ip, n, 60, 10);
    const run = play(impairedPair({ seed: 15, duplicate: 1, corrupt: 0.5 }), sends);
    assert.equal(run.atB.length, 2 * n);
    let differ = 0;
    for (let i = 0; i < n; i++)
      if (bitsDiffering(run.atB[2 * i]!.frame, run.atB[2 * i + 1]!.frame) > 0) differ++;
    // Different with probability 1/2 (one corrupted) + 1/4 (both, elsewhere): about 3000.
    assert.ok(differ > 2800 && differ < 3200, `${differ} pairs differ`);
  });
});

describe('impair: determinism', () => {
  function scenario(seed: number): Run {
    const [a, b] = memoryPair({ kind: LinkKind.Ethernet });
    const options: ImpairOptions = {
      seed,
      loss: 0.02,
      burst: { pGoodToBad: 0.01, pBadToGood: 0.3 },
      delay: millis(15),
      jitter: millis(4),
      reorder: 0.05,
      reorderDelay: millis(7),
      duplicate: 0.03,
      corrupt: 0.02,
      rate: 20e6,
      queueBytes: 30_000,
    };
    const pair: LinkPair = [impair(a, options), impair(b, { ...options, seed: seed + 1 })];
    const sends: Send[] = [];
    const rng = new SeededRng(99); // the traffic is the same in every run
    for (let i = 0; i < 2000; i++) {
      const fromA = rng.nextU32() % 3 !== 0;
      sends.push({
        at: i * 200,
        fromA,
        frame: taggedFrame(LinkKind.Ethernet, 60 + (rng.nextU32() % 1400), i, fromA),
      });
    }
    return play(pair, sends);
  }

  test('the same seed gives the identical sequence of (time, frame) at both ends', () => {
    const one = scenario(42);
    const two = scenario(42);
    assert.ok(one.atB.length > 1000);
    assert.deepEqual(two.atB, one.atB);
    assert.deepEqual(two.atA, one.atA);
    assert.deepEqual(two.accepted, one.accepted);
  });

  test('another seed gives another sequence', () => {
    const one = scenario(42);
    const other = scenario(43);
    assert.notDeepEqual(other.atB, one.atB);
  });
});

describe('impair: cut, heal and run-time changes', () => {
  test('a cut link delivers nothing, either way, until healed; frames in flight at the cut are lost', () => {
    const [a, b] = memoryPair({ kind: LinkKind.Ip });
    const link = impair(a, { seed: 1, delay: millis(10) });
    const pair: LinkPair = [link, b];
    const run: DriveResult = { now: instant(0), atA: [], atB: [] };
    let now = instant(0);
    for (let ms = 0; ms < 100; ms++) {
      drive(pair, now, instant(ms * 1000), run);
      now = instant(ms * 1000);
      if (ms === 50) link.cut(now);
      if (ms === 80) link.heal();
      assert.equal(link.isDown, ms >= 50 && ms < 80);
      assert.equal(link.send(now, taggedFrame(LinkKind.Ip, 60, ms)), true, 'a cut is silent');
      assert.equal(b.send(now, taggedFrame(LinkKind.Ip, 60, 1000 + ms, false)), true);
    }
    drive(pair, now, NEVER, run);
    const toB = run.atB.map((x) => tagOf(LinkKind.Ip, x.frame));
    const toA = run.atA.map((x) => tagOf(LinkKind.Ip, x.frame) - 1000);
    // Sent by 40 ms: due by the cut at 50 ms, delivered. 41..49 were in
    // flight, 50..79 sent while cut: lost. From 80 ms on: delivered.
    const expected = [...Array(41).keys(), ...Array.from({ length: 20 }, (_, i) => 80 + i)];
    assert.deepEqual(toB, expected);
    // The delay is top-level, so B to A has it too and fares the same.
    assert.deepEqual(toA, expected);
    for (const x of [...run.atA, ...run.atB]) assert.equal(x.at % 1000, 0);
    const s = link.stats();
    assert.equal(s.drops[LinkDropReason.Cut], 2 * (9 + 30));
    assert.equal(s.txDropped, 39);
    assert.equal(s.rxDropped, 39);
  });

  test('setOptions changes conditions from now on, field by field, and rejects bad values whole', () => {
    const [a, b] = memoryPair({ kind: LinkKind.Ip });
    const link = impair(a, { seed: 2, delay: millis(5) });
    const pair: LinkPair = [link, b];
    const run: DriveResult = { now: instant(0), atA: [], atB: [] };
    let now = instant(0);
    for (let i = 0; i < 300; i++) {
      if (i === 100) link.setOptions({ loss: 1 });
      if (i === 200) link.setOptions({ outgoing: { loss: 0 } });
      assert.equal(link.send(now, taggedFrame(LinkKind.Ip, 60, i)), true);
      drive(pair, now, instant(now + 1000), run);
      now = instant(now + 1000);
    }
    drive(pair, now, NEVER, run);
    const tags = run.atB.map((x) => tagOf(LinkKind.Ip, x.frame));
    assert.deepEqual(tags, [
      ...Array(100).keys(),
      ...Array.from({ length: 100 }, (_, i) => 200 + i),
    ]);
    for (const x of run.atB) assert.equal(x.at % 1000, 0);
    // The delay survived both changes; incoming kept the loss of the first.
    assert.equal(link.conditions().outgoing.delay, 5000);
    assert.equal(link.conditions().outgoing.loss, 0);
    assert.equal(link.conditions().incoming.loss, 1);
    assert.throws(() => link.setOptions({ delay: millis(1), loss: 2 }), RangeError);
    assert.equal(link.conditions().outgoing.delay, 5000, 'a rejected change applied in part');
    assert.throws(
      () => link.setOptions({ jitter: 0.5 as never }),
      /whole, non-negative number of microseconds/,
    );
    assert.throws(
      () => link.setOptions({ burst: { pGoodToBad: -1, pBadToGood: 0.5 } }),
      RangeError,
    );
    assert.throws(() => link.setOptions({ rate: Infinity }), RangeError);
    assert.throws(() => link.setOptions({ mtu: 20 }), RangeError);
  });

  test('outgoing and incoming conditions are separate', () => {
    const [a, b] = memoryPair({ kind: LinkKind.Ip });
    const link = impair(a, { seed: 3, outgoing: { loss: 1 }, incoming: { delay: millis(2) } });
    const pair: LinkPair = [link, b];
    const sends: Send[] = [];
    for (let i = 0; i < 50; i++) {
      sends.push({ at: i * 100, fromA: true, frame: taggedFrame(LinkKind.Ip, 60, i) });
      sends.push({
        at: i * 100,
        fromA: false,
        frame: taggedFrame(LinkKind.Ip, 60, 100 + i, false),
      });
    }
    const run = play(pair, sends);
    assert.equal(run.atB.length, 0);
    assert.equal(run.atA.length, 50);
    for (let i = 0; i < 50; i++) assert.equal(run.atA[i]!.at, i * 100 + 2000);
    assert.equal(link.stats().drops[LinkDropReason.Loss], 50);
    assert.equal(link.stats().txDropped, 50);
    assert.equal(link.stats().rxDropped, 0);
  });

  test('top-level conditions apply both ways', () => {
    const [a, b] = memoryPair({ kind: LinkKind.Ip });
    const link = impair(a, { seed: 4, loss: 1 });
    const run = play(
      [link, b],
      [
        { at: 0, fromA: true, frame: taggedFrame(LinkKind.Ip, 60, 1) },
        { at: 0, fromA: false, frame: taggedFrame(LinkKind.Ip, 60, 2, false) },
      ],
    );
    assert.equal(run.atA.length + run.atB.length, 0);
    assert.deepEqual(link.conditions().incoming, link.conditions().outgoing);
  });

  test('a narrower hop (mtu option) drops bigger frames silently; the endpoint MTU stays', () => {
    const link = impairedPair({ seed: 5, mtu: 576 }, LinkKind.Ethernet);
    assert.equal(link[0].mtu, 1500);
    const run = play(link, [
      { at: 0, fromA: true, frame: taggedFrame(LinkKind.Ethernet, 576 + 14, 1) },
      { at: 0, fromA: true, frame: taggedFrame(LinkKind.Ethernet, 576 + 15, 2) },
      { at: 0, fromA: true, frame: taggedFrame(LinkKind.Ethernet, 1514, 3) },
    ]);
    assert.deepEqual(run.accepted, [true, true, true]);
    assert.deepEqual(
      run.atB.map((x) => tagOf(LinkKind.Ethernet, x.frame)),
      [1],
    );
    assert.equal(link[0].stats().drops[LinkDropReason.TooBig], 2);
  });

  test('every accepted frame is accounted for: delivered, dropped on the way, or duplicated', () => {
    const pair = impairedPair({
      seed: 6,
      loss: 0.05,
      burst: { pGoodToBad: 0.02, pBadToGood: 0.5 },
      duplicate: 0.05,
      rate: 8e6,
      queueBytes: 8000,
      delay: millis(3),
      jitter: millis(1),
      reorder: 0.05,
    });
    const run = play(pair, stream(LinkKind.Ip, 5000, 500, 300));
    const s = pair[0].stats();
    const refused = run.accepted.filter((x) => !x).length;
    assert.ok(
      refused > 0 && s.drops[LinkDropReason.Loss] > 0 && s.drops[LinkDropReason.BurstLoss] > 0,
    );
    assert.equal(s.txFrames + refused, 5000);
    const lostAfterAccept = s.txDropped - refused;
    const dups = pair[0].impairStats().outgoing.duplicated;
    assert.equal(run.atB.length, s.txFrames - lostAfterAccept + dups);
    assert.equal(pair[0].impairStats().outgoing.held, 0);
  });

  test('a seed (or an rng) is required, so that two links never share losses by accident', () => {
    const [a] = memoryPair({ kind: LinkKind.Ip });
    assert.throws(() => impair(a, { loss: 0.1 }), /pass a seed/);
    assert.doesNotThrow(() => impair(a, { rng: new SeededRng(1) }));
  });
});

describe('impair: ECN marking at the rate limiter (ecnThreshold)', () => {
  /** An IPv4/UDP packet with ECN codepoint `ecn` (header checksum redone), inside Ethernet when asked. */
  function ecnPacket(ecn: number, tag: number, kind: LinkKind): Uint8Array {
    const packet = udpPacket(IP_A, IP_B, 1000 + tag, 2000, new Uint8Array(972));
    packet[1] = ecn;
    packet[10] = 0;
    packet[11] = 0;
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (packet[i]! << 8) | packet[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const checksum = ~sum & 0xffff;
    packet[10] = checksum >> 8;
    packet[11] = checksum & 0xff;
    return kind === LinkKind.Ethernet ? inEthernet(packet, MAC_B, MAC_A) : packet;
  }

  /** An IPv6 header (no payload beyond 8 bytes) with ECN codepoint `ecn`. */
  function ipv6Packet(ecn: number): Uint8Array {
    const packet = new Uint8Array(48);
    // Version 6, traffic class DSCP 0 with the ECN bits, flow label 0.
    packet[0] = 0x60;
    packet[1] = ecn << 4;
    packet[5] = 8; // payload length
    packet[6] = 17;
    packet[7] = 64;
    return packet;
  }

  const ipOf = (kind: LinkKind, frame: Uint8Array) =>
    kind === LinkKind.Ethernet ? frame.subarray(14) : frame;

  for (const kind of [LinkKind.Ip, LinkKind.Ethernet]) {
    test(`${kind}: ECT packets arriving above the threshold are marked CE; Not-ECT ones pass unmarked`, () => {
      // 1000-byte packets (1014 in Ethernet) at 1 Mbit/s, ten offered at once:
      // the backlog each meets is 0, 1, 2, ... packets. The threshold is 2500
      // bytes, so packets 3..9 arrive above it.
      const pair = impairedPair(
        { seed: 5, rate: 1e6, queueBytes: 100_000, ecnThreshold: 2500 },
        kind,
      );
      const codepoints = [2, 1, 0, 2, 1, 0, 2, 1, 3, 2]; // ECT(0), ECT(1), Not-ECT, ..., CE
      const sends: Send[] = codepoints.map((ecn, i) => ({
        at: 0,
        fromA: true,
        frame: ecnPacket(ecn, i, kind),
      }));
      const originals = sends.map((s) => s.frame.slice());
      const run = play(pair, sends);
      assert.equal(run.atB.length, 10, 'marking drops nothing');
      for (const arrival of run.atB) {
        const ip = ipOf(kind, arrival.frame);
        const tag = (((ip[20]! << 8) | ip[21]!) - 1000) as number;
        const sent = codepoints[tag]!;
        const backlogPackets = tag; // all offered at t = 0
        const frameBytes =
          ipOf(kind, originals[tag]!).length + (kind === LinkKind.Ethernet ? 14 : 0);
        const above = backlogPackets * frameBytes > 2500;
        const expected = above && (sent === 1 || sent === 2) ? 3 : sent;
        assert.equal(ip[1]! & 3, expected, `packet ${tag}: sent ${sent}`);
        assert.ok(ipv4UdpIntact(ip), `packet ${tag}: the header checksum still verifies`);
        // Nothing else changed.
        const before = ipOf(kind, originals[tag]!);
        assert.ok(bitsDiffering(ip, before) <= (expected !== sent ? 1 + 16 : 0));
        assert.equal(ip.length, before.length);
      }
      // The sender's buffers were not written to.
      sends.forEach((s, i) => assert.deepEqual(s.frame, originals[i]));
      // Packets 3..9: ECT ones are 3, 4, 6, 7, 9 (8 was CE already).
      assert.equal(pair[0].impairStats().outgoing.ceMarked, 5);
    });
  }

  test('IPv6: the traffic-class ECN bits are marked', () => {
    const pair = impairedPair({ seed: 6, rate: 1e6, queueBytes: 100_000, ecnThreshold: 0 });
    const sends: Send[] = [1, 2, 2, 0].map((ecn) => ({
      at: 0,
      fromA: true,
      frame: ipv6Packet(ecn),
    }));
    sends.forEach((s, i) => (s.frame[40] = i));
    const run = play(pair, sends);
    const byTag = new Map(run.atB.map((a) => [a.frame[40]!, a.frame]));
    // The first packet meets an empty queue (0 bytes is not above 0): unmarked.
    assert.equal((byTag.get(0)![1]! >> 4) & 3, 1);
    assert.equal((byTag.get(1)![1]! >> 4) & 3, 3);
    assert.equal((byTag.get(2)![1]! >> 4) & 3, 3);
    assert.equal((byTag.get(3)![1]! >> 4) & 3, 0, 'Not-ECT stays unmarked');
    assert.equal(byTag.get(1)![0], 0x60, 'the DSCP bits are untouched');
  });

  test('without ecnThreshold nothing is marked; a bad threshold is refused', () => {
    const pair = impairedPair({ seed: 7, rate: 1e6, queueBytes: 100_000 });
    const run = play(
      pair,
      [2, 2, 2, 2].map((ecn, i) => ({ at: 0, fromA: true, frame: ecnPacket(ecn, i, LinkKind.Ip) })),
    );
    assert.ok(run.atB.every((a) => (a.frame[1]! & 3) === 2));
    assert.equal(pair[0].impairStats().outgoing.ceMarked, 0);
    assert.throws(() => impairedPair({ seed: 8, ecnThreshold: -1 }), /ecnThreshold/);
  });
});
