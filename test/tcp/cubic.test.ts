import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { instant, micros, millis } from '../../src/base/index.js';
import {
  CUBIC_BETA,
  CUBIC_C,
  Cubic,
  HystartPhase,
  INFINITE_SSTHRESH,
  NewReno,
  congestionControls,
} from '../../src/tcp/congestion/index.js';

const MSS = 1000;
const T0 = instant(0);
const NO_RTT = micros(-1);

function cubic(hystart = false): Cubic {
  return new Cubic({ mss: MSS, initialWindowSegments: 10, hystart });
}

/** Acknowledges one window, one segment per ACK spread over the RTT; returns the time after. */
function oneRound(cc: Cubic, start: number, rttUs: number): number {
  const n = Math.max(1, Math.floor(cc.cwnd / MSS));
  for (let i = 0; i < n; i++) {
    // The sender uses the window it has: the flight is cwnd (not application-limited).
    cc.onAck(instant(start + Math.round((i * rttUs) / n)), MSS, cc.cwnd, micros(rttUs));
  }
  return start + rttUs;
}

test('the registry has CUBIC, the Linux default, next to NewReno', () => {
  const cc = congestionControls['cubic']!({ mss: 1460, initialWindowSegments: 10 });
  assert.equal(cc.name, 'cubic');
  assert.equal(cc.cwnd, 14_600);
  assert.equal(cc.ssthresh, INFINITE_SSTHRESH);
  assert.equal(cc.pacingRate(), -1);
});

test('CUBIC: a loss sets W_max = cwnd and ssthresh = 0.7 * FlightSize (RFC 9438 §4.6)', () => {
  const cc = cubic();
  cc.cwnd = 100 * MSS;
  cc.onCongestionEvent(T0, 100 * MSS);
  assert.equal(cc.maxWindow, 100 * MSS);
  assert.equal(cc.ssthresh, Math.floor(100 * MSS * CUBIC_BETA));
  assert.equal(cc.cwnd, 100 * MSS, 'left to the recovery algorithm');
  // Fast convergence (§4.7): a loss below the last W_max lowers W_max further.
  cc.cwnd = 80 * MSS;
  cc.onCongestionEvent(T0, 80 * MSS);
  assert.equal(cc.maxWindow, (80 * MSS * (1 + CUBIC_BETA)) / 2);
  // A tiny flight: ssthresh floor 2 MSS.
  cc.onCongestionEvent(T0, MSS);
  assert.equal(cc.ssthresh, 2 * MSS);
  // An unacknowledged range far beyond cwnd (SACKed and lost data after lost
  // retransmissions) is bounded by cwnd, as Linux: ssthresh never exceeds it.
  cc.cwnd = 50 * MSS;
  cc.onCongestionEvent(T0, 200 * MSS);
  assert.equal(cc.ssthresh, Math.floor(50 * MSS * CUBIC_BETA));
});

test('CUBIC: the window follows W_cubic(t) = C(t - K)^3 + W_max through concave and convex regions', () => {
  const cc = cubic();
  cc.cwnd = 100 * MSS;
  cc.onCongestionEvent(T0, 100 * MSS);
  cc.cwnd = cc.ssthresh; // where PRR leaves it
  const rtt = 100_000;
  const k = Math.cbrt((100 - 70) / CUBIC_C); // RFC 9438 eq. 2 with cwnd_epoch = 70 segments
  let now = 1_000_000;
  now = oneRound(cc, now, rtt); // the first ACK starts the epoch
  const epoch = cc.epoch;
  assert.equal(epoch, 1_000_000);
  assert.ok(Math.abs(cc.k - k) < 1e-9, `K ${cc.k} vs ${k}`);
  const formula = (t: number) => (CUBIC_C * (t - k) ** 3 + 100) * MSS;
  for (const t of [1, 2, 3, k, 5]) {
    while (now - epoch < t * 1_000_000 - 1) now = oneRound(cc, now, rtt);
    const elapsed = (now - epoch) / 1_000_000;
    // RFC 9438 §4.2: cwnd aims at W_cubic(t + RTT) each ACK; after a round it is there, within a segment or two.
    const expected = formula(elapsed);
    assert.ok(
      Math.abs(cc.cwnd - expected) < 0.025 * expected,
      `t = ${elapsed.toFixed(2)} s: cwnd ${cc.cwnd} vs W_cubic ${expected.toFixed(0)}`,
    );
    assert.ok(Math.abs(cc.windowAt(elapsed) - expected) < 1e-6, 'windowAt is eq. 1');
  }
  // At K the window is back at W_max (within the ACK clock's lag).
  assert.ok(Math.abs(formula(k) - 100 * MSS) < 1e-6);
});

test('CUBIC: the AIMD-friendly region keeps it at least as fast as Reno on a short path', () => {
  const cc = cubic();
  cc.cwnd = 20 * MSS;
  cc.onCongestionEvent(T0, 20 * MSS);
  cc.cwnd = cc.ssthresh; // 14 segments
  // 1 ms RTT: W_cubic barely moves in 100 rounds, W_est grows by alpha per round.
  let now = 1_000_000;
  for (let r = 0; r < 100; r++) now = oneRound(cc, now, 1000);
  const t = (now - cc.epoch) / 1e6;
  assert.ok(cc.windowAt(t) < cc.cwnd, 'cwnd is above W_cubic: W_est rules');
  // W_est: alpha = 3(1 - 0.7)/(1 + 0.7) per round until cwnd_prior (20), 1 after: about 14 + 6/0.53 rounds ... > 20 + 80.
  assert.ok(cc.cwnd >= 80 * MSS, `cwnd ${cc.cwnd / MSS} segments after 100 rounds`);
});

test('CUBIC: a timeout gives one segment, a new epoch with K = 0 (RFC 9438 §4.8)', () => {
  const cc = cubic();
  cc.cwnd = 60 * MSS;
  cc.onRetransmitTimeout(T0, 60 * MSS);
  assert.equal(cc.cwnd, MSS);
  assert.equal(cc.ssthresh, 42 * MSS);
  cc.onRetransmitTimeout(T0, MSS);
  assert.equal(cc.ssthresh, 42 * MSS, 'a repeated timeout keeps ssthresh (RFC 5681 §3.1)');
  cc.cwnd = cc.ssthresh;
  oneRound(cc, 1_000_000, 50_000);
  assert.equal(cc.k, 0);
  assert.equal(cc.maxWindow, 42 * MSS, 'W_max = cwnd at the start of congestion avoidance');
});

test('CUBIC: an idle spell moves the epoch forward (Linux CA_EVENT_TX_START)', () => {
  const cc = cubic();
  cc.cwnd = 50 * MSS;
  cc.onCongestionEvent(T0, 50 * MSS);
  cc.cwnd = cc.ssthresh;
  cc.onPacketSent(instant(900_000), MSS, 10 * MSS);
  oneRound(cc, 1_000_000, 100_000);
  const epoch = cc.epoch;
  cc.onPacketSent(instant(1_100_000), MSS, 10 * MSS);
  // Nothing in flight for 2 s, then sending again.
  cc.onPacketSent(instant(3_100_000), MSS, 0);
  assert.equal(cc.epoch, epoch + 2_000_000);
});

test('undo restores the window from before a spurious reduction (RFC 9438 §4.9, Linux undo_cwnd)', () => {
  const c = cubic();
  c.cwnd = 80 * MSS;
  c.onCongestionEvent(T0, 80 * MSS);
  c.cwnd = c.ssthresh;
  c.onUndo(T0);
  assert.equal(c.cwnd, 80 * MSS);
  assert.equal(c.ssthresh, INFINITE_SSTHRESH);
  assert.equal(c.maxWindow, 0, 'W_max as it was before');
  const r = new NewReno({ mss: MSS, initialWindowSegments: 10 });
  r.cwnd = 40 * MSS;
  r.onRetransmitTimeout(T0, 40 * MSS);
  assert.equal(r.cwnd, MSS);
  r.onUndo(T0);
  assert.equal(r.cwnd, 40 * MSS);
  assert.equal(r.ssthresh, INFINITE_SSTHRESH);
  r.onUndo(T0);
  assert.equal(r.cwnd, 40 * MSS, 'a second undo changes nothing');
});

test('HyStart++: a rising RTT leaves slow start through CSS before any loss (RFC 9406)', () => {
  const cc = cubic(true);
  assert.equal(cc.hystartPhase, HystartPhase.SlowStart);
  let now = 0;
  const round = (rttMs: number, acks: number) => {
    cc.onRoundStart(instant(now));
    for (let i = 0; i < acks; i++) cc.onAck(instant(now++), MSS, cc.cwnd, millis(rttMs));
  };
  round(10, 8);
  round(10, 8);
  const before = cc.cwnd;
  assert.equal(before, 26 * MSS, 'slow start: one MSS per MSS acknowledged');
  // 16 ms >= 10 ms + max(4 ms, min(10/8 ms, 16 ms)): after 8 samples, CSS.
  round(16, 8);
  assert.equal(cc.hystartPhase, HystartPhase.Css);
  const inCss = cc.cwnd;
  cc.onAck(instant(now++), 4 * MSS, cc.cwnd, millis(16));
  assert.equal(cc.cwnd - inCss, MSS, 'CSS grows a quarter as fast');
  for (let r = 0; r < 4; r++) round(16, 8);
  assert.ok(cc.inSlowStart);
  cc.onRoundStart(instant(now)); // the fifth CSS round is over
  assert.equal(cc.hystartPhase, HystartPhase.Done);
  assert.equal(cc.ssthresh, cc.cwnd, 'congestion avoidance without a loss');
  assert.equal(cc.inSlowStart, false);
});

test('HyStart++: an RTT that falls back below the baseline in CSS resumes slow start', () => {
  const cc = cubic(true);
  let now = 0;
  const round = (rttMs: number) => {
    cc.onRoundStart(instant(now));
    for (let i = 0; i < 8; i++) cc.onAck(instant(now++), MSS, cc.cwnd, millis(rttMs));
  };
  round(20);
  round(20);
  round(30);
  assert.equal(cc.hystartPhase, HystartPhase.Css);
  round(20); // below the 30 ms baseline: the rise was spurious
  assert.equal(cc.hystartPhase, HystartPhase.SlowStart);
  // A loss ends HyStart++ for good (§4.2: only the first slow start).
  cc.onCongestionEvent(instant(now), cc.cwnd);
  assert.equal(cc.hystartPhase, HystartPhase.Done);
});

test('CUBIC: no growth while application-limited; HyStart++ still samples', () => {
  const cc = cubic();
  cc.onAck(T0, MSS, 2 * MSS, NO_RTT);
  assert.equal(cc.cwnd, 10 * MSS);
  cc.ssthresh = cc.cwnd;
  for (let i = 0; i < 30; i++) cc.onAck(instant(i), MSS, 5 * MSS, millis(10));
  assert.equal(cc.cwnd, 10 * MSS);
});

test('property: CUBIC keeps cwnd >= 1 MSS, ssthresh >= 2 MSS, both whole bytes', () => {
  const event = fc.oneof(
    fc.record({ k: fc.constant('ack' as const), n: fc.integer({ min: 0, max: 50 * MSS }) }),
    fc.record({ k: fc.constant('loss' as const), n: fc.integer({ min: 0, max: 200 * MSS }) }),
    fc.record({ k: fc.constant('end' as const), n: fc.integer({ min: 0, max: 200 * MSS }) }),
    fc.record({ k: fc.constant('rto' as const), n: fc.integer({ min: 0, max: 200 * MSS }) }),
    fc.record({ k: fc.constant('round' as const), n: fc.constant(0) }),
    fc.record({ k: fc.constant('undo' as const), n: fc.constant(0) }),
    fc.record({ k: fc.constant('idle' as const), n: fc.constant(0) }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 80 }), fc.boolean(), (events, hystart) => {
      const cc = cubic(hystart);
      let now = 0;
      for (const e of events) {
        now += 7000;
        const t = instant(now);
        if (e.k === 'ack') cc.onAck(t, e.n, cc.cwnd, millis(10 + (now % 13)));
        else if (e.k === 'loss') cc.onCongestionEvent(t, e.n);
        else if (e.k === 'end') cc.onRecoveryEnd(t, e.n);
        else if (e.k === 'rto') cc.onRetransmitTimeout(t, e.n);
        else if (e.k === 'round') cc.onRoundStart(t);
        else if (e.k === 'undo') cc.onUndo(t);
        else cc.onIdleRestart(t);
        assert.ok(cc.cwnd >= MSS, `cwnd ${cc.cwnd}`);
        assert.ok(cc.ssthresh >= 2 * MSS, `ssthresh ${cc.ssthresh}`);
        assert.ok(Number.isInteger(cc.cwnd) && Number.isInteger(cc.ssthresh));
      }
    }),
  );
});
