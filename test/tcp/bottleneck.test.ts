/**
 * Congestion control over a shared bottleneck (test/tcp/bottleneck.ts):
 * two CUBIC flows converge to a fair share (RFC 9438 §5.1's fairness, fast
 * convergence §4.7), CUBIC and NewReno coexist, HyStart++ (RFC 9406) leaves
 * slow start on the rising RTT before the queue overflows, and ECN flows
 * behind a marking queue share it without a loss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dumbbell } from './bottleneck.js';

const SECOND = 1000;
/** 10 Mbit/s, 40 ms base RTT: a BDP of 50 kB, and a buffer of one BDP. */
const LINK = { rateBps: 10e6, bufferBytes: 50_000, delayMs: 20 };

/** Goodput (Mbit/s) of each flow over [from, to) seconds. */
function shares(d: Dumbbell, from: number, to: number): number[] {
  return d.flows.map((f) => f.goodputBps(from * SECOND, to * SECOND, 100) / 1e6);
}

test('two CUBIC flows sharing a bottleneck converge within 20% over a minute', () => {
  const d = new Dumbbell(LINK, [
    { config: { congestionControl: 'cubic' } },
    { config: { congestionControl: 'cubic' }, startMs: 2 * SECOND },
  ]);
  d.run(62 * SECOND);
  const [a, b] = shares(d, 32, 62);
  assert.ok(
    Math.min(a!, b!) / Math.max(a!, b!) >= 0.8,
    `${a!.toFixed(2)} vs ${b!.toFixed(2)} Mbit/s`,
  );
  assert.ok(a! + b! > 0.9 * 10, `the link is used: ${(a! + b!).toFixed(2)} Mbit/s`);
  for (const f of d.flows) {
    const s = f.client.stats();
    assert.equal(s.congestionControl, 'cubic');
    assert.equal(s.retransmitTimeouts, 0, 'losses repaired without timeouts');
    assert.ok(f.drops > 0 && s.fastRetransmits > 0);
  }
});

test('CUBIC and NewReno coexist: neither starves, the link stays full', () => {
  const d = new Dumbbell(LINK, [
    { config: { congestionControl: 'cubic' } },
    { config: { congestionControl: 'newreno' }, startMs: 2 * SECOND },
  ]);
  d.run(42 * SECOND);
  const [cubic, reno] = shares(d, 12, 42);
  assert.ok(cubic! + reno! > 0.9 * 10, `${(cubic! + reno!).toFixed(2)} Mbit/s`);
  // CUBIC's gentler decrease (0.7) takes the larger share; Reno keeps a fair part of it.
  assert.ok(reno! >= 0.25 * 10, `NewReno ${reno!.toFixed(2)} Mbit/s`);
  assert.ok(cubic! >= reno!, `CUBIC ${cubic!.toFixed(2)} Mbit/s`);
  for (const f of d.flows) assert.equal(f.client.stats().retransmitTimeouts, 0);
});

test('HyStart++ leaves slow start on the rising RTT before the queue overflows (RFC 9406)', () => {
  // 20 Mbit/s, 50 ms RTT (a BDP of 125 kB) and a deep 1.5 MB buffer.
  const run = (hystart: boolean) => {
    const d = new Dumbbell({ rateBps: 20e6, bufferBytes: 1_500_000, delayMs: 25 }, [
      { config: { hystart, receiveBufferSize: 16 << 20, sendBufferSize: 16 << 20 } },
    ]);
    let exitedAt = -1;
    let lostBeforeExit = -1;
    for (let t = 20; t <= 3 * SECOND; t += 20) {
      d.run(t);
      const s = d.flows[0]!.client.stats();
      if (exitedAt < 0 && s.ssthresh < 0x7fffffff) {
        exitedAt = t;
        lostBeforeExit = s.lostSegments;
      }
    }
    return { exitedAt, lostBeforeExit, drops: d.flows[0]!.drops };
  };
  const plus = run(true);
  const plain = run(false);
  assert.ok(plus.exitedAt > 0, 'slow start ended');
  assert.equal(plus.lostBeforeExit, 0, 'without a loss: on the RTT');
  assert.equal(plus.drops, 0, 'and the queue never overflowed');
  assert.ok(plain.lostBeforeExit > 0, 'plain slow start ends on a loss');
  assert.ok(plain.drops > 1000, `overshooting by ${plain.drops} drops`);
});

test('ECN flows behind a marking queue share it without losing a packet', () => {
  // A deep buffer (200 kB) that marks from 20 kB on: ECN keeps it short.
  const d = new Dumbbell({ ...LINK, bufferBytes: 200_000, markAboveBytes: 20_000 }, [
    { config: { ecn: 1 } },
    { config: { ecn: 1 }, startMs: SECOND },
  ]);
  d.run(31 * SECOND);
  const [a, b] = shares(d, 11, 31);
  assert.ok(a! + b! > 0.85 * 10, `${(a! + b!).toFixed(2)} Mbit/s`);
  assert.ok(Math.min(a!, b!) / Math.max(a!, b!) >= 0.7, `${a!.toFixed(2)} vs ${b!.toFixed(2)}`);
  for (const f of d.flows) {
    const s = f.client.stats();
    assert.ok(s.ecn);
    assert.equal(f.drops, 0);
    assert.equal(s.segmentsRetransmitted, 0);
    assert.ok(f.marks > 0 && s.ecnReductions > 0);
  }
  assert.ok(d.maxQueueBytes < 100_000, `the queue stays short: ${d.maxQueueBytes}`);
});
