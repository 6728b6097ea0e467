/**
 * Delivery-rate samples (draft-cheng-iccrg-delivery-rate-estimation) from
 * the scoreboard, AckSample and DeliveryRateEstimator, with BBR's per-packet
 * lost and tx_in_flight (draft-ietf-ccwg-bbr).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AckSample,
  DeliveryRateEstimator,
  RateSample,
  type PacketLossListener,
} from '../../src/tcp/recovery/sample.js';
import { SegmentFlag, SentSegments } from '../../src/tcp/recovery/scoreboard.js';

const MSS = 1000;

/** A sender's delivery-rate bookkeeping over a real scoreboard. */
class Sender {
  readonly board = new SentSegments();
  readonly estimator = new DeliveryRateEstimator();
  readonly ack = new AckSample();
  readonly rs = new RateSample();
  next = 0;

  constructor() {
    this.board.lossSink = this.estimator;
  }

  get pipe(): number {
    if (this.board.isEmpty) return 0;
    return (
      this.board.lastEnd -
      this.board.startAt(0) -
      this.board.sackedBytes -
      this.board.lostBytes +
      this.board.retransBytes
    );
  }

  send(now: number): void {
    const e = this.estimator;
    const pipe = this.pipe;
    e.onSend(now, pipe === 0);
    this.board.append(
      this.next,
      this.next + MSS,
      now,
      e.appLimited ? SegmentFlag.AppLimited : 0,
      e.delivered,
      e.deliveredTime,
      e.firstSentTime,
      e.lost,
      pipe + MSS,
    );
    this.next += MSS;
  }

  /** A cumulative ACK up to `to` at `now`, optionally SACKing [sackStart, sackEnd). */
  ackAt(now: number, to: number, minRtt = -1, sack: [number, number] | null = null): RateSample {
    const prior = this.pipe;
    this.ack.reset(now, minRtt, this.board.fack);
    if (sack !== null) this.ack.sackedBytes += this.board.sack(sack[0], sack[1], this.ack);
    this.ack.ackedBytes += this.board.ackTo(to, this.ack, null);
    this.estimator.generate(now, this.ack, minRtt, false, prior, this.pipe, false, this.rs);
    return this.rs;
  }
}

test('the interval is the longer of the send and ACK phases: compressed ACKs do not inflate the rate', () => {
  const s = new Sender();
  s.send(0);
  s.send(0);
  s.ackAt(10_000, MSS);
  // A slow sender: ten more segments 10 ms apart (10..100 ms), whose ACKs
  // come back bunched, 100 µs apart, from 105 ms on.
  for (let i = 1; i <= 10; i++) s.send(i * 10_000);
  let rs = s.rs;
  for (let i = 2; i <= 12; i++) rs = s.ackAt(105_000 + (i - 2) * 100, i * MSS);
  // The last segment left 100 ms after the send clock started (the send of
  // the segment behind the previous sample); its ACK came 96 ms after the
  // delivery before it left. Eleven segments were delivered in between.
  assert.equal(rs.sendElapsed, 100_000);
  assert.equal(rs.ackElapsed, 96_000);
  assert.equal(rs.interval, 100_000, 'the longer phase');
  assert.equal(rs.delivered, 11 * MSS);
  assert.equal(rs.deliveryRate, (11 * MSS * 1e6) / 100_000);
});

test('a burst sent at once is measured by its ACK spacing', () => {
  const s = new Sender();
  for (let i = 0; i < 10; i++) s.send(0);
  // ACKs 8 ms apart (a 125 kB/s bottleneck) after a 40 ms RTT.
  let rs = s.ackAt(40_000, MSS, 40_000);
  for (let i = 2; i <= 10; i++) rs = s.ackAt(40_000 + (i - 1) * 8_000, i * MSS, 40_000);
  assert.equal(rs.sendElapsed, 0);
  assert.equal(rs.ackElapsed, 40_000 + 9 * 8_000, 'from the start of the flight');
  assert.equal(rs.interval, rs.ackElapsed);
  assert.equal(rs.delivered, 10 * MSS);
  assert.equal(rs.priorDelivered, 0);
  assert.equal(s.estimator.delivered, 10 * MSS);
});

test('an interval shorter than min_rtt is no sample; an ACK delivering nothing is none either', () => {
  const s = new Sender();
  s.send(0);
  const rs = s.ackAt(30_000, MSS, 40_000);
  assert.equal(rs.valid, false);
  assert.equal(rs.interval, -1);
  assert.equal(rs.deliveryRate, 0);
  assert.equal(rs.newlyAcked, MSS, 'the delivery still counts');
  const dup = s.ackAt(31_000, MSS, 40_000);
  assert.equal(dup.valid, false);
  assert.equal(dup.priorDelivered, -1);
  assert.equal(dup.newlyAcked, 0);
});

test('application-limited: marked when less than an MSS waits and cwnd has room, unless lost data awaits retransmission', () => {
  const e = new DeliveryRateEstimator();
  e.checkAppLimited(MSS, MSS, 5 * MSS, 10 * MSS, 0, 0);
  assert.equal(e.appLimited, false, 'a full segment to send');
  e.checkAppLimited(0, MSS, 10 * MSS, 10 * MSS, 0, 0);
  assert.equal(e.appLimited, false, 'cwnd is full');
  e.checkAppLimited(0, MSS, 5 * MSS, 10 * MSS, 2 * MSS, MSS);
  assert.equal(e.appLimited, false, 'a lost segment is not yet retransmitted: busy repairing');
  e.checkAppLimited(0, MSS, 5 * MSS, 10 * MSS, 2 * MSS, 2 * MSS);
  assert.equal(e.appLimited, true);
  assert.equal(e.appLimitedUntil, 5 * MSS, 'until what is in flight is delivered');
});

test('samples of packets sent application-limited are flagged; the phase ends once its flight is delivered', () => {
  const s = new Sender();
  s.send(0);
  s.estimator.checkAppLimited(0, MSS, s.pipe, 10 * MSS, 0, 0);
  s.send(1000);
  let rs = s.ackAt(40_000, MSS);
  assert.equal(rs.isAppLimited, false, 'sent before the mark');
  rs = s.ackAt(41_000, 2 * MSS);
  assert.equal(rs.isAppLimited, true);
  // The mark was C.delivered + pipe = 1 MSS when set; 2 MSS are delivered now.
  assert.equal(s.estimator.appLimited, false);
  s.send(42_000);
  rs = s.ackAt(82_000, 3 * MSS);
  assert.equal(rs.isAppLimited, false);
});

test('losses: C.lost counts newly lost bytes once; the sample carries its packet lost and tx_in_flight', () => {
  const s = new Sender();
  const heard: number[][] = [];
  const listener: PacketLossListener = {
    onPacketLost(bytes, txInFlight, lostSince, appLimited) {
      heard.push([bytes, txInFlight, lostSince, appLimited ? 1 : 0]);
    },
  };
  s.estimator.lossListener = listener;
  for (let i = 0; i < 10; i++) s.send(i * 100);
  // Segments 0 and 1 are lost; 2 is SACKed.
  s.board.markLost(0);
  s.board.markLost(1);
  s.board.markLost(1);
  assert.equal(s.estimator.lost, 2 * MSS, 'marking twice counts once');
  assert.deepEqual(heard, [
    [MSS, MSS, MSS, 0],
    [MSS, 2 * MSS, 2 * MSS, 0],
  ]);
  const rs = s.ackAt(40_000, 0, -1, [2 * MSS, 3 * MSS]);
  assert.equal(rs.newlyLost, 2 * MSS, 'lost since the last ACK');
  assert.equal(rs.txInFlight, 3 * MSS, 'segment 2 left with two before it in flight');
  assert.equal(rs.lost, 2 * MSS, 'both losses happened during its flight');
  assert.equal(rs.lostTotal, 2 * MSS);
  const next = s.ackAt(40_100, 0, -1, [3 * MSS, 4 * MSS]);
  assert.equal(next.newlyLost, 0);
});
