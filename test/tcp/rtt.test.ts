import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { micros, millis, seconds } from '../../src/base/index.js';
import { LINUX_RTT_CONFIG, RFC6298_RTT_CONFIG, RttEstimator } from '../../src/tcp/rtt.js';

/** Small floor so the RFC formula shows through the clamp. */
function loose(): RttEstimator {
  return new RttEstimator({
    initialRto: seconds(1),
    minRto: millis(10),
    maxRto: seconds(60),
    minRtoOnVariance: false,
  });
}

test('before any sample: RTO is the initial 1 s, estimates are 0, minRtt is -1', () => {
  const rtt = new RttEstimator(RFC6298_RTT_CONFIG);
  assert.equal(rtt.hasSample, false);
  assert.equal(rtt.srtt, 0);
  assert.equal(rtt.rttvar, 0);
  assert.equal(rtt.minRtt, -1);
  assert.equal(rtt.latestRtt, 0);
  assert.equal(rtt.rto, seconds(1));
  assert.equal(rtt.backoffs, 0);
});

test('first sample R sets SRTT = R, RTTVAR = R/2, RTO = SRTT + 4*RTTVAR (RFC 6298 (2.2))', () => {
  const rtt = loose();
  rtt.sample(millis(100));
  assert.equal(rtt.hasSample, true);
  assert.equal(rtt.srtt, 100_000);
  assert.equal(rtt.rttvar, 50_000);
  assert.equal(rtt.rto, 300_000);
  assert.equal(rtt.minRtt, 100_000);
  assert.equal(rtt.latestRtt, 100_000);
});

test('later samples follow RFC 6298 (2.3): RTTVAR from the old SRTT, then SRTT', () => {
  const rtt = loose();
  rtt.sample(millis(100));
  rtt.sample(millis(200));
  // RTTVAR = 3/4 * 50000 + 1/4 * |100000 - 200000| = 62500
  // SRTT   = 7/8 * 100000 + 1/8 * 200000 = 112500
  assert.equal(rtt.rttvar, 62_500);
  assert.equal(rtt.srtt, 112_500);
  assert.equal(rtt.rto, 112_500 + 4 * 62_500);
  rtt.sample(millis(40));
  // RTTVAR = 3/4 * 62500 + 1/4 * |112500 - 40000| = 46875 + 18125 = 65000
  // SRTT   = 7/8 * 112500 + 1/8 * 40000 = 98437.5 + 5000 = 103437.5 -> 103438 when read
  assert.equal(rtt.rttvar, 65_000);
  assert.equal(rtt.srtt, 103_438);
  assert.equal(rtt.rto, 363_438); // round(103437.5 + 260000)
  assert.equal(rtt.minRtt, 40_000);
  assert.equal(rtt.latestRtt, 40_000);
});

test('a steady RTT converges to SRTT = R and the variance term bottoms out at G = 1 ms', () => {
  const rtt = loose();
  for (let i = 0; i < 200; i++) rtt.sample(millis(50));
  assert.equal(rtt.srtt, 50_000);
  assert.equal(rtt.rttvar, 0);
  assert.equal(rtt.rto, 51_000, 'SRTT + max(G, 4*RTTVAR) with G = 1 ms');
});

test('negative samples are ignored; a zero sample is a real (simulated) measurement', () => {
  const rtt = loose();
  rtt.sample(micros(-5));
  assert.equal(rtt.hasSample, false);
  rtt.sample(micros(0));
  assert.equal(rtt.hasSample, true);
  assert.equal(rtt.minRtt, 0);
  assert.equal(rtt.rto, millis(10), 'G = 1 ms, then the 10 ms floor');
});

test('RTO is clamped to [minRto, maxRto]', () => {
  const rfc = new RttEstimator(RFC6298_RTT_CONFIG);
  rfc.sample(millis(10));
  assert.equal(rfc.rto, seconds(1), 'RFC 6298 (2.4): at least 1 s');
  const linux = new RttEstimator(LINUX_RTT_CONFIG);
  linux.sample(millis(10));
  // Linux floors the variance term: SRTT 10 ms + max(4 * 5 ms, 200 ms).
  assert.equal(linux.rto, millis(210), 'Linux: SRTT + 200 ms');
  const capped = new RttEstimator({
    initialRto: seconds(1),
    minRto: millis(200),
    maxRto: seconds(60),
    minRtoOnVariance: false,
  });
  capped.sample(seconds(30));
  assert.equal(capped.rto, seconds(60), 'RFC 6298 (2.5): 30 s + 4 * 15 s capped at 60 s');
});

test('Linux floors the variance term, the RFC the sum: a 100 ms path gets 300 ms, not 200 ms', () => {
  const linux = new RttEstimator(LINUX_RTT_CONFIG);
  const rfcFloor = new RttEstimator({ ...LINUX_RTT_CONFIG, minRtoOnVariance: false });
  for (let i = 0; i < 50; i++) {
    linux.sample(millis(100));
    rfcFloor.sample(millis(100));
  }
  // RTTVAR has decayed to about nothing: 4 * RTTVAR is far below 200 ms.
  assert.ok(linux.rttvar < millis(1));
  assert.equal(linux.rto, millis(300), 'SRTT + 200 ms');
  assert.equal(
    rfcFloor.rto,
    millis(200),
    'max(200 ms, SRTT + max(G, 4 * RTTVAR)) with G = 1 ms: 101 ms floored',
  );
  // A jittery path: 4 * RTTVAR above 200 ms counts in full either way.
  const jitter = new RttEstimator(LINUX_RTT_CONFIG);
  jitter.sample(millis(400));
  assert.equal(jitter.rto, millis(400 + 4 * 200));
});

test('backoff doubles the RTO up to maxRto; resetBackoff restores it', () => {
  const rtt = new RttEstimator(RFC6298_RTT_CONFIG);
  const expected = [1, 2, 4, 8, 16, 32, 60, 60, 60];
  for (let i = 0; i < expected.length; i++) {
    assert.equal(rtt.rto, seconds(expected[i]!), `after ${i} backoffs`);
    assert.equal(rtt.backoffs, i);
    rtt.backoff();
  }
  for (let i = 0; i < 100; i++) rtt.backoff();
  assert.equal(rtt.rto, seconds(60), 'no overflow after many timeouts');
  assert.equal(rtt.backoffs, 109, 'the count keeps rising past the cap');
  rtt.resetBackoff();
  assert.equal(rtt.backoffs, 0);
  assert.equal(rtt.rto, seconds(1));
});

test('backoff applies to the measured RTO too', () => {
  const rtt = loose();
  rtt.sample(millis(100)); // RTO 300 ms
  rtt.backoff();
  assert.equal(rtt.rto, millis(600));
  assert.equal(rtt.baseRto, millis(300));
  rtt.backoff();
  assert.equal(rtt.rto, millis(1200));
  rtt.sample(millis(100)); // a sample alone does not clear the backoff: the caller decides (Karn)
  assert.equal(rtt.backoffs, 2);
});

test('RFC 6298 (5.7): 3 s RTO for data after a SYN loss, unless an RTT was measured', () => {
  const rtt = new RttEstimator(RFC6298_RTT_CONFIG);
  rtt.backoff();
  rtt.backoff();
  rtt.resetForDataAfterSynLoss();
  assert.equal(rtt.backoffs, 0);
  assert.equal(rtt.rto, seconds(3));
  rtt.sample(millis(100));
  assert.equal(rtt.rto, seconds(1), 'the first measurement replaces the fallback');

  const measured = loose();
  measured.sample(millis(100));
  measured.backoff();
  measured.resetForDataAfterSynLoss();
  assert.equal(measured.rto, millis(300), 'a measured RTT wins over the 3 s fallback');

  const slow = new RttEstimator({
    initialRto: seconds(5),
    minRto: seconds(1),
    maxRto: seconds(60),
    minRtoOnVariance: false,
  });
  slow.resetForDataAfterSynLoss();
  assert.equal(slow.rto, seconds(5), 'an initial RTO already above 3 s is kept');
});

test('misconfiguration throws with the offending values', () => {
  assert.throws(
    () =>
      new RttEstimator({
        initialRto: seconds(0),
        minRto: seconds(1),
        maxRto: seconds(60),
        minRtoOnVariance: false,
      }),
    /initialRto > 0/,
  );
  assert.throws(
    () =>
      new RttEstimator({
        initialRto: seconds(1),
        minRto: seconds(2),
        maxRto: seconds(1),
        minRtoOnVariance: false,
      }),
    /minRto <= maxRto/,
  );
});

test('properties: RTO within bounds, SRTT within the sample range, durations integral', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 0, max: 12 }),
      (samples, backoffs) => {
        const rtt = new RttEstimator(LINUX_RTT_CONFIG);
        for (const s of samples) rtt.sample(micros(s));
        for (let i = 0; i < backoffs; i++) rtt.backoff();
        const lo = Math.min(...samples);
        const hi = Math.max(...samples);
        assert.ok(rtt.srtt >= lo && rtt.srtt <= hi);
        // RTTVAR is a weighted mean of R0/2 and deviations |SRTT - R| <= hi - lo.
        assert.ok(rtt.rttvar >= 0 && rtt.rttvar <= Math.round(Math.max(samples[0]! / 2, hi - lo)));
        assert.ok(rtt.rto >= millis(200) && rtt.rto <= seconds(120));
        // Linux: the floor is on the variance term, so RTO >= SRTT + 200 ms (below the cap).
        assert.ok(rtt.baseRto >= Math.min(rtt.srtt + millis(200), seconds(120)));
        assert.ok(rtt.rto >= rtt.baseRto);
        assert.equal(rtt.minRtt, lo);
        for (const d of [rtt.srtt, rtt.rttvar, rtt.rto]) assert.ok(Number.isInteger(d));
      },
    ),
  );
});
