/**
 * BBR (draft-ietf-ccwg-bbr) on its own, driven ACK by ACK through a
 * simulated bottleneck (bbr-driver.ts): Startup, Drain, the ProbeBW cycle,
 * ProbeRTT, the loss and ECN responses, and application-limited samples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instant } from '../../src/base/index.js';
import {
  Bbr,
  BbrState,
  Cubic,
  NewReno,
  congestionControls,
  type CongestionControl,
} from '../../src/tcp/congestion/index.js';
import { BottleneckDriver, type PathOptions } from './bbr-driver.js';
import { Dumbbell } from './bottleneck.js';

const R = 1_250_000; // 10 Mbit/s
const MSS = 1460;
const SECOND = 1_000_000;

function deepPath(extra: Partial<PathOptions> = {}): PathOptions {
  return { rate: R, rttUs: 40_000, queueBytes: 400_000, ...extra };
}

/** The BDP the driver's path has: the propagation RTT plus one packet's serialization. */
function bdpOf(path: PathOptions): number {
  return (path.rate * (path.rttUs + (MSS * SECOND) / path.rate)) / SECOND;
}

function firstTime(d: BottleneckDriver, state: BbrState, after = 0): number {
  const hit = d.transitions.find(([t, s]) => s === state && t >= after);
  return hit === undefined ? -1 : hit[0];
}

test('the registry has BBR; CUBIC and NewReno keep their window-based interface', () => {
  const cc = congestionControls['bbr']!({ mss: MSS, initialWindowSegments: 10 });
  assert.ok(cc instanceof Bbr);
  assert.equal(cc.name, 'bbr');
  assert.equal(cc.modelBased, true);
  assert.equal(cc.cwnd, 10 * MSS);
  assert.ok(cc.pacingRate() > 0, 'BBR always paces');
  const cubic: CongestionControl = new Cubic({ mss: MSS, initialWindowSegments: 10 });
  const reno: CongestionControl = new NewReno({ mss: MSS, initialWindowSegments: 10 });
  for (const other of [cubic, reno]) {
    assert.equal(other.modelBased, undefined);
    assert.equal(other.onRateSample, undefined);
    assert.equal(other.pacingRate(), -1);
  }
});

test('Startup doubles per round and exits after three rounds without 25 % bandwidth growth', () => {
  const path = deepPath();
  const d = new BottleneckDriver(path);
  d.runUntil(2 * SECOND);
  const drainAt = firstTime(d, BbrState.Drain);
  assert.ok(drainAt > 0, 'Startup ended');
  // Replay the rounds from the trace: max_bw on the ACK that starts each round.
  const perRound = new Map<number, number>();
  for (const s of d.snapshots)
    if (s.t <= drainAt && !perRound.has(s.roundCount)) perRound.set(s.roundCount, s.maxBw);
  const exitRound = d.snapshots.find((s) => s.t === drainAt)!.roundCount;
  let reference = 0;
  let flat = 0;
  let expectedExit = -1;
  for (let r = 1; r <= exitRound && expectedExit < 0; r++) {
    const bw = perRound.get(r) ?? 0;
    if (bw >= reference * 1.25) {
      reference = bw;
      flat = 0;
    } else if (++flat === 3) {
      expectedExit = r;
    }
  }
  assert.equal(exitRound, expectedExit, 'exit at the third round without 25 % growth');
  const bw = d.cc.maxBw;
  assert.ok(Math.abs(bw - R) / R < 0.05, `bandwidth estimate ${bw} vs ${R}`);
  // It got there by growing: the estimate roughly doubled per round early on.
  assert.ok((perRound.get(3) ?? 0) > 1.8 * (perRound.get(2) ?? Infinity));
  assert.ok(exitRound >= 6 && exitRound <= 9, `exit at round ${exitRound}`);
  assert.equal(d.drops, 0, 'a deep queue: no loss');
});

test('Drain empties the Startup queue: ProbeBW begins with about one BDP in flight', () => {
  const path = deepPath();
  const d = new BottleneckDriver(path);
  d.runUntil(2 * SECOND);
  const bdp = bdpOf(path);
  const drainAt = firstTime(d, BbrState.Drain);
  const startupQueue = Math.max(...d.snapshots.filter((s) => s.t <= drainAt).map((s) => s.queue));
  assert.ok(startupQueue > 0.5 * bdp, `Startup built a queue (${startupQueue} B)`);
  const first = d.snapshots.find((s) => s.t > drainAt && s.state !== BbrState.Drain)!;
  assert.ok(first.state.startsWith('probe-bw'), first.state);
  // Drain stops at BBRInflight(1.0): the BDP, or three send quanta when larger.
  assert.ok(first.inFlight <= bdp + 3 * 2 * MSS, `inflight ${first.inFlight} vs BDP ${bdp}`);
  assert.ok(first.inFlight >= 0.8 * bdp, `inflight ${first.inFlight} vs BDP ${bdp}`);
  assert.ok(first.queue < 0.1 * bdp, `queue ${first.queue}`);
  assert.equal(d.cc.pacingGain === 0.35, false, 'Drain is over');
});

test('the ProbeBW cycle visits DOWN, CRUISE, REFILL, UP and back to DOWN with the draft gains', () => {
  const d = new BottleneckDriver(deepPath());
  const gains = new Map<BbrState, [number, number]>();
  for (let t = 0; t < 12 * SECOND; t += 10_000) {
    d.runUntil(t);
    gains.set(d.cc.state, [d.cc.pacingGain, d.cc.cwndGain]);
  }
  const visited = d.cc.cycle.visited;
  const order = [
    BbrState.ProbeBwDown,
    BbrState.ProbeBwCruise,
    BbrState.ProbeBwRefill,
    BbrState.ProbeBwUp,
    BbrState.ProbeBwDown,
  ];
  let next = 0;
  for (const s of visited) if (s === order[next]) next++;
  assert.equal(next, order.length, `visited ${visited.join(' ')}`);
  // Every REFILL leads to UP, every UP to DOWN (ProbeRTT may cut in only from elsewhere).
  for (let i = 0; i + 1 < visited.length; i++) {
    if (visited[i] === BbrState.ProbeBwRefill)
      assert.equal(visited[i + 1], BbrState.ProbeBwUp, `at ${i}`);
    if (visited[i] === BbrState.ProbeBwUp)
      assert.equal(visited[i + 1], BbrState.ProbeBwDown, `at ${i}`);
  }
  assert.deepEqual(gains.get(BbrState.ProbeBwUp), [1.25, 2.25]);
  assert.deepEqual(gains.get(BbrState.ProbeBwCruise), [1, 2]);
  // Probes come every 2-3 s of wall clock at most (BBRPickProbeWait).
  const ups = d.transitions.filter(([, s]) => s === BbrState.ProbeBwUp).map(([t]) => t);
  assert.ok(ups.length >= 3, `${ups.length} probes in 12 s`);
  assert.ok(d.cc.maxBw > 0.95 * R && d.cc.maxBw <= R * 1.0001, `max_bw ${d.cc.maxBw}`);
});

test('ProbeRTT: entered once min_rtt went 5 s without a lower sample; 4 segments for at least 200 ms', () => {
  // A small BDP (10 kB), so that ProbeRTT's half BDP is below the 4-segment floor.
  const path: PathOptions = { rate: R, rttUs: 8_000, queueBytes: 400_000 };
  const d = new BottleneckDriver(path);
  d.runUntil(7 * SECOND);
  // The base RTT never changes: the lowest sample came with the first ACK.
  const minRttSetAt = d.snapshots.find((s) => s.minRtt > 0)!.t;
  const enter = firstTime(d, BbrState.ProbeRtt);
  assert.ok(enter > 0, 'ProbeRTT happened');
  // draft-ietf-ccwg-bbr: ProbeRTTInterval = 5 s (BBRv1 used the 10 s min_rtt window).
  assert.ok(enter - minRttSetAt > 5 * SECOND, `entered ${enter - minRttSetAt} µs after`);
  assert.ok(enter - minRttSetAt < 5 * SECOND + 100_000, `entered ${enter - minRttSetAt} µs after`);
  const exit = d.transitions.find(([t, s]) => t > enter && s !== BbrState.ProbeRtt)![0];
  const inProbe = d.snapshots.filter((s) => s.t >= enter && s.t < exit);
  assert.ok(inProbe.length > 0);
  for (const s of inProbe) assert.equal(s.cwnd, 4 * MSS, `cwnd at ${s.t}`);
  // The 200 ms start once inflight is down to the ProbeRTT cwnd, so the whole stay is longer.
  assert.ok(exit - enter >= 200_000, `ProbeRTT lasted ${exit - enter} µs`);
  assert.ok(exit - enter < 200_000 + 5 * path.rttUs, `ProbeRTT lasted ${exit - enter} µs`);
  // Then back to the cycle (CRUISE) with the saved window.
  const after = d.snapshots.find((s) => s.t >= exit)!;
  assert.equal(after.state, BbrState.ProbeBwCruise);
  assert.ok(after.cwnd > 4 * MSS);
});

test('ProbeRTT on a larger BDP holds cwnd at half the BDP', () => {
  const path = deepPath();
  const d = new BottleneckDriver(path);
  d.runUntil(6 * SECOND);
  const enter = firstTime(d, BbrState.ProbeRtt);
  assert.ok(enter > 5 * SECOND);
  const inProbe = d.snapshots.filter((s) => s.state === BbrState.ProbeRtt);
  const half = (d.cc.bw * d.cc.minRtt) / SECOND / 2;
  for (const s of inProbe) assert.ok(Math.abs(s.cwnd - half) <= 1, `cwnd ${s.cwnd} vs ${half}`);
});

test('loss response: a flight that lost more than 2 % sets inflight_hi and ends the probe', () => {
  const d = new BottleneckDriver(deepPath());
  while (d.cc.state !== BbrState.ProbeBwUp && d.now < 10 * SECOND) d.runUntil(d.now + 1000);
  assert.equal(d.cc.state, BbrState.ProbeBwUp);
  const cc = d.cc;
  assert.equal(cc.inflightHi, Infinity, 'no loss yet');
  const flight = 100 * MSS;
  // 1 % of the flight lost: below BBRLossThresh, nothing changes.
  cc.onPacketLost(MSS, flight, MSS, false);
  assert.equal(cc.inflightHi, Infinity);
  assert.equal(cc.state, BbrState.ProbeBwUp);
  // 3 %: inflight_hi comes down to where the loss rate crossed 2 %, and UP ends.
  cc.onPacketLost(MSS, flight, 3 * MSS, false);
  const inflightPrev = flight - MSS;
  const crossing = inflightPrev + (0.02 * inflightPrev - 2 * MSS) / 0.98;
  const expected = Math.max(crossing, 0.7 * cc.targetInflight(), 4 * MSS);
  assert.ok(Math.abs(cc.inflightHi - expected) < 1e-6, `${cc.inflightHi} vs ${expected}`);
  assert.equal(cc.state, BbrState.ProbeBwDown);
});

test('loss response on a shallow buffer: inflight_hi is learned and bounds cwnd while probing', () => {
  const path: PathOptions = { rate: R, rttUs: 40_000, queueBytes: 15_000 };
  const d = new BottleneckDriver(path);
  d.runUntil(10 * SECOND);
  assert.ok(d.drops > 0);
  assert.ok(d.cc.inflightHi < Infinity, 'inflight_hi set');
  const bdp = bdpOf(path);
  // The bound sits between the BDP-ish target and BDP plus the buffer, about.
  assert.ok(d.cc.inflightHi > 0.6 * bdp && d.cc.inflightHi < 1.6 * (bdp + path.queueBytes));
  for (const s of d.snapshots) {
    if (
      s.inflightHi < Infinity &&
      (s.state === BbrState.ProbeBwDown || s.state === BbrState.ProbeBwRefill)
    )
      assert.ok(
        s.cwnd <= Math.max(s.inflightHi, 4 * MSS) + 1e-6,
        `cwnd ${s.cwnd} > ${s.inflightHi}`,
      );
  }
  // Most of the link is still used: loss is a bound, not a collapse.
  const delivered = d.estimator.delivered;
  assert.ok(delivered > 0.8 * R * 10, `delivered ${delivered}`);
  // Loss well under 2 %.
  assert.ok(d.drops / d.sent < 0.02, `loss ${d.drops}/${d.sent}`);
});

test('application-limited samples do not lower the bandwidth estimate', () => {
  const path = deepPath();
  let limitedFrom = -1;
  const d: BottleneckDriver = new BottleneckDriver({
    ...path,
    appWritten: (t) => {
      if (t < 3 * SECOND) return Number.POSITIVE_INFINITY;
      if (limitedFrom < 0) limitedFrom = d.sndNxt;
      // A tenth of the link, from 3 s on.
      return limitedFrom + (0.1 * R * (t - 3 * SECOND)) / SECOND;
    },
  });
  d.runUntil(3 * SECOND);
  const before = d.cc.maxBw;
  assert.ok(before > 0.95 * R);
  d.runUntil(4.8 * SECOND);
  const during = d.snapshots.filter((s) => s.t > 3.2 * SECOND);
  for (const s of during) assert.ok(s.maxBw >= before * 0.999, `max_bw ${s.maxBw} at ${s.t}`);
  const lowLimited = d.samples.filter(
    ([t, rate, limited]) => t > 3.2 * SECOND && limited && rate < 0.5 * R,
  );
  assert.ok(lowLimited.length > 20, 'the low samples were there, marked application-limited');
  assert.ok(
    d.samples.filter(([t, , limited]) => t > 3.5 * SECOND && !limited).length === 0,
    'no sample escaped the marking',
  );
});

test('ECN: CE marks above a queue threshold cut inflight_lo and keep the queue short, without loss', () => {
  const run = (ecnThreshold: number) => {
    const d = new BottleneckDriver(deepPath({ ecnThreshold }));
    d.runUntil(10 * SECOND);
    const steady = d.snapshots.filter((s) => s.t > 2 * SECOND);
    const meanQueue = steady.reduce((sum, s) => sum + s.queue, 0) / steady.length;
    return { d, meanQueue };
  };
  const plain = run(-1);
  const marked = run(10_000);
  assert.equal(plain.d.ceMarks, 0);
  assert.ok(marked.d.ceMarks > 0);
  assert.equal(marked.d.drops, 0);
  assert.ok(marked.d.cc.ecnAlpha > 0, 'alpha follows the CE share');
  assert.ok(
    marked.d.snapshots.some((s) => s.inflightLo < Infinity),
    'a round with marks cut inflight_lo',
  );
  assert.ok(marked.meanQueue < plain.meanQueue, `${marked.meanQueue} vs ${plain.meanQueue}`);
  assert.ok(marked.d.estimator.delivered > 0.9 * R * 10, 'still fills the link');
});

test('BBR with ECN off ignores CE marks', () => {
  const cc = new Bbr({ mss: MSS, initialWindowSegments: 10 }, { ecn: false });
  const d = new BottleneckDriver(deepPath({ ecnThreshold: 10_000 }), cc);
  d.runUntil(5 * SECOND);
  assert.ok(d.ceMarks > 0);
  assert.equal(cc.ecnAlpha, 0);
  assert.ok(d.snapshots.every((s) => s.inflightLo === Infinity));
});

test('info shows the state, the estimates and the pacing rate', () => {
  const d = new BottleneckDriver(deepPath());
  d.runUntil(3 * SECOND);
  const info = d.cc.info;
  assert.ok(info.state.startsWith('probe-bw') || info.state === BbrState.ProbeRtt);
  assert.equal(info.maxBw, d.cc.maxBw);
  assert.ok(info.minRtt >= 40_000 && info.minRtt < 42_000);
  assert.ok(Math.abs(info.pacingRate - info.pacingGain * info.bw * 0.99) < 1);
  assert.ok(Math.abs(info.bdp - (info.bw * info.minRtt) / SECOND) < 1e-6);
  assert.equal(info.filledPipe, true);
  assert.equal(info.cwnd, d.cc.cwnd);
});

test('a retransmission timeout cuts cwnd to one segment; the end of recovery restores it', () => {
  const d = new BottleneckDriver(deepPath());
  d.runUntil(3 * SECOND);
  const cc = d.cc;
  const before = cc.cwnd;
  cc.onRetransmitTimeout(instant(d.now), d.pipe);
  assert.equal(cc.cwnd, MSS);
  cc.onRecoveryExit(instant(d.now));
  assert.equal(cc.cwnd, before);
  assert.equal(cc.ssthresh, 0x7fffffff, 'no slow-start threshold');
});

test("a connection with 'bbr' is fed rate samples: it fills the link and paces at its bandwidth estimate", () => {
  // 10 Mbit/s, 40 ms RTT and a buffer of one BDP.
  const d = new Dumbbell({ rateBps: 10e6, bufferBytes: 50_000, delayMs: 20 }, [
    { config: { congestionControl: 'bbr' } },
  ]);
  d.run(5000);
  const flow = d.flows[0]!;
  const stats = flow.client.stats();
  assert.equal(stats.congestionControl, 'bbr');
  assert.equal(stats.retransmitTimeouts, 0);
  const goodput = flow.goodputBps(1000, 5000, 100);
  assert.ok(goodput > 0.85 * 10e6 && goodput <= 10e6, `${goodput} bit/s`);
  const info = stats.bbr!;
  assert.notEqual(info.state, BbrState.Startup);
  assert.ok(info.filledPipe);
  assert.ok(Math.abs(info.maxBw * 8 - 10e6 * (stats.sendMss / (stats.sendMss + 40))) < 0.1 * 10e6);
  // Paced at the model's rate (draft §5.6.2), not Linux's cwnd/SRTT ratio.
  assert.equal(stats.pacingRate, Math.round(info.pacingRate));
});
