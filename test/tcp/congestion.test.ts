import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { instant, micros } from '../../src/base/index.js';
import {
  INFINITE_SSTHRESH,
  NewReno,
  congestionControls,
  createNewReno,
} from '../../src/tcp/congestion/index.js';

const MSS = 1000;
const T0 = instant(0);
const NO_RTT = micros(-1);

function newReno(mss = MSS, iw = 10): NewReno {
  return new NewReno({ mss, initialWindowSegments: iw });
}

test('the registry makes a NewReno by name', () => {
  const cc = congestionControls['newreno']!({ mss: 1460, initialWindowSegments: 10 });
  assert.equal(cc.name, 'newreno');
  assert.equal(cc.cwnd, 14_600);
  assert.equal(createNewReno({ mss: 536, initialWindowSegments: 4 }).cwnd, 2144);
});

test('IW10: cwnd starts at 10 * MSS and ssthresh is infinite', () => {
  const cc = newReno();
  assert.equal(cc.cwnd, 10 * MSS);
  assert.equal(cc.ssthresh, INFINITE_SSTHRESH);
  assert.equal(cc.ssthresh, 0x7fffffff);
  assert.equal(cc.inSlowStart, true);
  // Linux does not apply RFC 6928's 14600-byte cap, neither do we.
  assert.equal(newReno(9000).cwnd, 90_000);
});

test('setMss keeps the window in segments (IW after the handshake, PMTU drop)', () => {
  const cc = newReno(536);
  cc.setMss(1460);
  assert.equal(cc.cwnd, 14_600);
  assert.equal(cc.ssthresh, INFINITE_SSTHRESH);
  cc.onCongestionEvent(T0, 12 * 1460);
  assert.equal(cc.ssthresh, 6 * 1460);
  cc.setMss(1200);
  assert.equal(cc.cwnd, 12_000);
  assert.equal(cc.ssthresh, 6 * 1200);
  assert.throws(() => cc.setMss(0), /positive integer/);
});

test('slow start: cwnd grows by the bytes acked, at most 2 MSS per ACK (RFC 3465 L = 2)', () => {
  const cc = newReno();
  // An ACK for one segment: +1 MSS.
  cc.onAck(T0, MSS, cc.cwnd, NO_RTT);
  assert.equal(cc.cwnd, 11 * MSS);
  // A delayed ACK for two segments: +2 MSS.
  cc.onAck(T0, 2 * MSS, cc.cwnd, NO_RTT);
  assert.equal(cc.cwnd, 13 * MSS);
  // A stretch ACK for five segments still grows by only L = 2 MSS.
  cc.onAck(T0, 5 * MSS, cc.cwnd, NO_RTT);
  assert.equal(cc.cwnd, 15 * MSS);
  // Half a segment: byte counting gives half an MSS.
  cc.onAck(T0, MSS / 2, cc.cwnd, NO_RTT);
  assert.equal(cc.cwnd, 15.5 * MSS);
});

test('slow start doubles cwnd per round trip with delayed ACKs', () => {
  const cc = newReno();
  for (let round = 0; round < 3; round++) {
    const flight = cc.cwnd;
    for (let acked = 0; acked < flight; acked += 2 * MSS) cc.onAck(T0, 2 * MSS, flight, NO_RTT);
    assert.equal(cc.cwnd, 2 * flight, `round ${round}`);
  }
  assert.equal(cc.cwnd, 80 * MSS);
});

test('slow start stops at ssthresh, then congestion avoidance takes over', () => {
  const cc = newReno();
  cc.ssthresh = 11 * MSS + 500;
  cc.onAck(T0, 2 * MSS, cc.cwnd, NO_RTT);
  assert.equal(cc.cwnd, 11 * MSS + 500, 'capped at ssthresh');
  assert.equal(cc.inSlowStart, false);
  cc.onAck(T0, 2 * MSS, cc.cwnd, NO_RTT);
  assert.equal(cc.cwnd, 11 * MSS + 500, 'linear growth from here: not a whole window acked yet');
});

test('congestion avoidance: about 1 MSS per window of acknowledged bytes', () => {
  const cc = newReno();
  cc.ssthresh = 10 * MSS; // cwnd == ssthresh: congestion avoidance (RFC 5681 §3.1)
  assert.equal(cc.inSlowStart, false);
  // One round trip: ten one-segment ACKs acknowledge exactly one window.
  for (let i = 0; i < 9; i++) {
    cc.onAck(T0, MSS, cc.cwnd, NO_RTT);
    assert.equal(cc.cwnd, 10 * MSS, `no growth before a full window (ACK ${i + 1})`);
  }
  cc.onAck(T0, MSS, cc.cwnd, NO_RTT);
  assert.equal(cc.cwnd, 11 * MSS);
  // Ten more round trips with delayed ACKs: one MSS each.
  for (let rtt = 0; rtt < 10; rtt++) {
    const window = cc.cwnd;
    for (let acked = 0; acked < window; acked += MSS) cc.onAck(T0, MSS, window, NO_RTT);
  }
  assert.equal(cc.cwnd, 21 * MSS);
  // A single ACK covering more than two windows gives two MSS (Linux tcp_cong_avoid_ai).
  const cc2 = newReno();
  cc2.ssthresh = 10 * MSS;
  cc2.onAck(T0, 25 * MSS, cc2.cwnd, NO_RTT);
  assert.equal(cc2.cwnd, 12 * MSS);
});

test('no growth while application-limited (Linux tcp_is_cwnd_limited)', () => {
  const cc = newReno();
  cc.onAck(T0, MSS, 2 * MSS, NO_RTT); // slow start: 10 MSS is not below 2 * 2 MSS
  assert.equal(cc.cwnd, 10 * MSS);
  cc.onAck(T0, MSS, 6 * MSS, NO_RTT); // 10 < 12: grows toward twice the flight
  assert.equal(cc.cwnd, 11 * MSS);
  cc.ssthresh = cc.cwnd;
  for (let i = 0; i < 30; i++) cc.onAck(T0, MSS, 5 * MSS, NO_RTT);
  assert.equal(cc.cwnd, 11 * MSS, 'congestion avoidance with half the window unused');
  for (let i = 0; i < 11; i++) cc.onAck(T0, MSS, 10 * MSS + 1, NO_RTT);
  assert.equal(cc.cwnd, 12 * MSS, 'less than one MSS of room left counts as limited');
});

test('loss: ssthresh = max(FlightSize/2, 2 MSS), cwnd left to recovery (RFC 5681 (4))', () => {
  const cc = newReno();
  cc.cwnd = 30 * MSS;
  cc.onCongestionEvent(T0, 30 * MSS);
  assert.equal(cc.ssthresh, 15 * MSS);
  assert.equal(cc.cwnd, 30 * MSS, 'untouched: the recovery algorithm sets it');
  cc.onCongestionEvent(T0, 3 * MSS);
  assert.equal(cc.ssthresh, 2 * MSS, 'floor 2 SMSS');
  cc.onCongestionEvent(T0, 30 * MSS + 1);
  assert.equal(cc.ssthresh, 15 * MSS, 'whole bytes');
  // Limited transmit (RFC 3042) puts up to cwnd + 2 SMSS in flight: counted.
  cc.onCongestionEvent(T0, 32 * MSS);
  assert.equal(cc.ssthresh, 16 * MSS);
  // Beyond that the unacknowledged range holds SACKed and lost data, not
  // data in the network: bounded there, ssthresh never exceeds cwnd.
  cc.onCongestionEvent(T0, 90 * MSS);
  assert.equal(cc.ssthresh, 16 * MSS);
});

test('recovery end: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) (RFC 6582 §3.2 (3))', () => {
  const cc = newReno();
  cc.cwnd = 40 * MSS;
  cc.onCongestionEvent(T0, 40 * MSS); // ssthresh 20 MSS
  cc.cwnd = cc.ssthresh + 3 * MSS; // NewReno inflation, set by the connection
  cc.onRecoveryEnd(T0, 30 * MSS);
  assert.equal(cc.cwnd, 20 * MSS, 'plenty in flight: deflate to ssthresh');
  cc.cwnd = 40 * MSS;
  cc.onCongestionEvent(T0, 40 * MSS);
  cc.onRecoveryEnd(T0, 4 * MSS);
  assert.equal(cc.cwnd, 5 * MSS, 'little in flight: FlightSize + 1 SMSS, no burst');
  cc.cwnd = 40 * MSS;
  cc.onCongestionEvent(T0, 40 * MSS);
  cc.onRecoveryEnd(T0, 0);
  assert.equal(cc.cwnd, 2 * MSS, 'nothing in flight: SMSS + SMSS');
  assert.equal(cc.inSlowStart, true, 'slow start climbs back to ssthresh');
});

test('RTO: ssthresh halves the flight, cwnd = 1 MSS, then slow start again', () => {
  const cc = newReno();
  for (let i = 0; i < 10; i++) cc.onAck(T0, 2 * MSS, cc.cwnd, NO_RTT);
  assert.equal(cc.cwnd, 30 * MSS);
  cc.onRetransmitTimeout(T0, 30 * MSS);
  assert.equal(cc.cwnd, MSS, 'loss window LW = 1 SMSS');
  assert.equal(cc.ssthresh, 15 * MSS);
  // A second timeout for the same segment holds ssthresh (RFC 5681 §3.1).
  cc.onRetransmitTimeout(T0, 30 * MSS);
  assert.equal(cc.ssthresh, 15 * MSS);
  assert.equal(cc.cwnd, MSS);
  // The retransmission is acknowledged: slow start from 1 MSS.
  cc.onAck(T0, MSS, MSS, NO_RTT);
  assert.equal(cc.cwnd, 2 * MSS);
  assert.equal(cc.inSlowStart, true);
  // A later, separate timeout halves again from the current flight.
  cc.onRetransmitTimeout(T0, 8 * MSS);
  assert.equal(cc.ssthresh, 4 * MSS);
  cc.onRetransmitTimeout(T0, MSS);
  assert.equal(cc.ssthresh, 4 * MSS);
  const small = newReno();
  small.onRetransmitTimeout(T0, MSS);
  assert.equal(small.ssthresh, 2 * MSS, 'floor 2 SMSS');
});

test('idle restart: cwnd = min(IW, cwnd), ssthresh keeps 3/4 of the old window', () => {
  const cc = newReno();
  for (let i = 0; i < 20; i++) cc.onAck(T0, 2 * MSS, cc.cwnd, NO_RTT);
  assert.equal(cc.cwnd, 50 * MSS);
  cc.onIdleRestart(T0);
  assert.equal(cc.cwnd, 10 * MSS);
  assert.equal(cc.ssthresh, INFINITE_SSTHRESH, 'infinite stays infinite');

  const after = newReno();
  after.onCongestionEvent(T0, 80 * MSS); // ssthresh 40 MSS
  after.cwnd = 60 * MSS;
  after.onIdleRestart(T0);
  assert.equal(after.cwnd, 10 * MSS);
  assert.equal(after.ssthresh, 45 * MSS);

  const small = newReno();
  small.onRetransmitTimeout(T0, 20 * MSS);
  small.onIdleRestart(T0);
  assert.equal(small.cwnd, MSS, 'a window below IW is not raised');
  assert.equal(small.ssthresh, 10 * MSS);
});

test('misconfiguration throws', () => {
  assert.throws(() => newReno(0), /mss/);
  assert.throws(() => newReno(1000, 0), /initialWindowSegments/);
  assert.throws(() => newReno(1000.5), /mss/);
});

test('property: cwnd never drops below 1 MSS nor ssthresh below 2 MSS', () => {
  const event = fc.oneof(
    fc.record({ k: fc.constant('ack' as const), n: fc.integer({ min: 0, max: 50 * MSS }) }),
    fc.record({ k: fc.constant('loss' as const), n: fc.integer({ min: 0, max: 200 * MSS }) }),
    fc.record({ k: fc.constant('end' as const), n: fc.integer({ min: 0, max: 200 * MSS }) }),
    fc.record({ k: fc.constant('rto' as const), n: fc.integer({ min: 0, max: 200 * MSS }) }),
    fc.record({ k: fc.constant('idle' as const), n: fc.constant(0) }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 80 }), (events) => {
      const cc = newReno();
      for (const e of events) {
        if (e.k === 'ack') cc.onAck(T0, e.n, cc.cwnd, NO_RTT);
        else if (e.k === 'loss') cc.onCongestionEvent(T0, e.n);
        else if (e.k === 'end') cc.onRecoveryEnd(T0, e.n);
        else if (e.k === 'rto') cc.onRetransmitTimeout(T0, e.n);
        else cc.onIdleRestart(T0);
        assert.ok(cc.cwnd >= MSS, `cwnd ${cc.cwnd}`);
        assert.ok(cc.ssthresh >= 2 * MSS, `ssthresh ${cc.ssthresh}`);
        assert.ok(Number.isInteger(cc.cwnd) && Number.isInteger(cc.ssthresh));
      }
    }),
  );
});
