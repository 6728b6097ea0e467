/**
 * The sender's per-segment record (RFC 6675 scoreboard with RACK's transmit
 * times), RACK's loss detection over it (RFC 8985 §6.2) and PRR's send
 * quota (RFC 6937 §3), as units.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RangeSet } from '../../src/base/index.js';
import { AckSample } from '../../src/tcp/recovery/sample.js';
import { Prr } from '../../src/tcp/recovery/prr.js';
import { Rack } from '../../src/tcp/recovery/rack.js';
import { SegmentFlag, SentSegments } from '../../src/tcp/recovery/scoreboard.js';
import { TcpRecorder, TcpSampleKind } from '../../src/tcp/recorder.js';
import { instant } from '../../src/base/index.js';

const MSS = 1000;

/** n segments of one MSS sent at times t(i). */
function board(n: number, t: (i: number) => number = () => 0): SentSegments {
  const b = new SentSegments();
  for (let i = 0; i < n; i++) b.append(i * MSS, (i + 1) * MSS, t(i), 0, 0, 0, 0);
  return b;
}

function sample(now: number, b: SentSegments): AckSample {
  const s = new AckSample();
  s.reset(now, -1, b.fack);
  return s;
}

test('SACK tagging splits entries at block edges and keeps the counters', () => {
  const b = board(5);
  const s = sample(10, b);
  assert.equal(b.sack(1500, 3000, s), 1500);
  assert.equal(b.count, 6, 'the second entry was cut at 1500');
  assert.deepEqual([b.startAt(1), b.endAt(1), b.startAt(2), b.endAt(2)], [1000, 1500, 1500, 2000]);
  assert.equal(b.sackedBytes, 1500);
  assert.equal(b.sackedCount, 2);
  assert.equal(b.highSacked, 3000);
  assert.equal(s.deliveredBytes, 0, 'the caller adds what sack() returns');
  assert.equal(b.sack(1500, 3000, s), 0, 'SACKed again: nothing new');
  // The cumulative ACK passes a SACKed entry without counting it twice.
  assert.equal(b.ackTo(2000, s, null), 1500);
  assert.equal(b.sackedBytes, 1000);
  assert.equal(b.sackedCount, 1);
  assert.equal(b.startAt(0), 2000);
});

test('lost and retransmitted entries make up pipe; SACK and ACK take them out', () => {
  const b = board(4);
  assert.ok(b.markLost(0));
  assert.ok(!b.markLost(0), 'once');
  assert.equal(b.lostBytes, 1000);
  assert.equal(b.firstLostUnsent(), 0);
  b.onRetransmit(0, 50, 0, 0, 0);
  assert.equal(b.retransBytes, 1000);
  assert.equal(b.firstLostUnsent(), -1);
  assert.equal(b.flagsAt(0) & SegmentFlag.EverRetrans, SegmentFlag.EverRetrans);
  // RACK finds the retransmission lost too: it goes again.
  assert.ok(b.markLost(0));
  assert.equal(b.retransBytes, 0);
  assert.equal(b.firstLostUnsent(), 0);
  const s = sample(100, b);
  b.sack(0, 1000, s);
  assert.equal(b.lostBytes, 0);
  const log = new RangeSet();
  b.ackTo(2000, s, log);
  assert.deepEqual(log.toArray(), [], 'the retransmitted entry had been SACKed');
  b.markLost(0);
  b.onRetransmit(0, 60, 0, 0, 0);
  b.ackTo(3000, s, log);
  assert.deepEqual(log.toArray(), [[2000, 3000]], 'retransmitted and then acknowledged');
});

test('a timeout forgets SACKs (reneging) and marks everything lost; undo unmarks it', () => {
  const b = board(4);
  b.sack(1000, 2000, sample(5, b));
  b.clearSacks();
  assert.equal(b.sackedBytes, 0);
  b.markAllLost();
  assert.equal(b.lostBytes, 4000);
  assert.ok((b.flagsAt(1) & SegmentFlag.SackedBefore) !== 0);
  // SACKed again after the timeout it is no news: F-RTO must not count it.
  const s = sample(20, b);
  b.sack(1000, 2000, s);
  assert.equal(s.origDelivered, false);
  b.unmarkAllLost();
  assert.equal(b.lostBytes, 0);
});

test('merging lost neighbours for a retransmission (Linux tcp_collapse_retrans)', () => {
  const b = new SentSegments();
  b.append(0, 600, 0, 0, 0, 0, 0);
  b.append(600, 1000, 0, SegmentFlag.Psh, 0, 0, 0);
  b.append(1000, 1401, 0, SegmentFlag.Fin, 0, 0, 0);
  assert.ok(!b.mergeNext(0, MSS), 'not lost: no');
  b.markAllLost();
  assert.ok(b.mergeNext(0, MSS));
  assert.equal(b.count, 2);
  assert.equal(b.endAt(0), 1000);
  assert.ok((b.flagsAt(0) & SegmentFlag.Psh) !== 0, 'the flags are joined');
  assert.ok(!b.mergeNext(0, MSS), 'too big together');
  assert.equal(b.lostBytes, 1401);
  assert.equal(b.dataLengthAt(1), 400, 'the FIN is not data');
});

test('RACK: segments sent before the last delivered one are lost once RTT + reo_wnd have passed', () => {
  // Ten segments sent 1 ms apart from t = 0; RTT 20 ms.
  const b = board(10, (i) => i * 1000);
  const rack = new Rack();
  // Segments 3..5 (sent at 3..5 ms) are SACKed at 25 ms; 0..2 are not.
  const s = sample(25_000, b);
  b.sack(3 * MSS, 6 * MSS, s);
  rack.update(s);
  assert.equal(rack.xmitTs, 5000);
  assert.equal(rack.rtt, 20_000);
  // Three SACKed, no reordering seen: the window is 0.
  assert.equal(rack.reorderWindow(false, b.sackedCount, 20_000, 20_000), 0);
  let timeout = rack.detectLoss(b, 25_000, 0);
  assert.equal(rack.newlyLost, 3, 'sent at 0, 1, 2 ms: 25 >= xmit + 20');
  assert.equal(timeout, 0);
  // With a 5 ms window only the first two are lost yet; the third in 2 ms.
  const b2 = board(10, (i) => i * 1000);
  const s2 = sample(25_000, b2);
  b2.sack(3 * MSS, 6 * MSS, s2);
  rack.update(s2);
  timeout = rack.detectLoss(b2, 25_000, 5_000);
  assert.equal(rack.newlyLost, 1, 'sent at 0: 0 + 20 + 5 <= 25');
  assert.equal(timeout, 2_000, 'the one sent at 2 ms is due in 2 ms');
  assert.equal(b2.lostBytes, MSS);
});

test('RACK: reordering seen keeps a window; D-SACKs widen it once per round (RFC 8985 §6.2)', () => {
  const b = board(6);
  const rack = new Rack();
  const s = sample(30_000, b);
  b.sack(2 * MSS, 4 * MSS, s);
  rack.update(s);
  const s2 = sample(31_000, b);
  b.ackTo(2 * MSS, s2, null); // 0 and 1 arrive late, never retransmitted: reordering
  rack.update(s2);
  assert.equal(s2.reorderSeen, true);
  assert.equal(s2.fack - s2.reorderLow, 4 * MSS);
  assert.equal(rack.reorderingSeen, true);
  assert.equal(rack.reorderWindow(true, 3, 20_000, 40_000), 5_000, 'min_RTT / 4 even in recovery');
  rack.onDsack(6 * MSS);
  rack.onDsack(6 * MSS);
  assert.equal(rack.reoWndMult, 2, 'once per round');
  assert.equal(rack.reorderWindow(false, 0, 20_000, 40_000), 10_000);
  assert.equal(rack.reorderWindow(false, 0, 20_000, 8_000), 8_000, 'at most SRTT');
  rack.onCumulativeAck(6 * MSS);
  rack.onDsack(8 * MSS);
  assert.equal(rack.reoWndMult, 3, 'a new round');
  for (let i = 0; i < 16; i++) rack.onRecoveryExit();
  assert.equal(rack.reoWndMult, 1, 'sixteen recoveries later it is back to one quarter');
});

test('RACK ignores an ambiguous ACK of a retransmission (RFC 8985 §6.2 step 2)', () => {
  const b = board(2);
  b.markLost(0);
  b.onRetransmit(0, 100_000, 0, 0, 0);
  const s = new AckSample();
  // 5 ms after the retransmission, less than min_RTT: the ACK was for the original.
  s.reset(105_000, 20_000, b.fack);
  b.ackTo(MSS, s, null);
  assert.equal(s.rackXmit, -1, 'it was for the original');
  assert.equal(s.origDelivered, false);
  const s2 = new AckSample();
  s2.reset(130_000, 20_000, b.fack);
  b.ackTo(2 * MSS, s2, null);
  assert.equal(s2.rackXmit, 0, 'the original of segment 2');
  assert.equal(s2.caRtt, 130_000);
});

test('PRR: ssthresh/RecoverFS of what is delivered, then slow-start reduction bound (RFC 6937 §3)', () => {
  const prr = new Prr();
  prr.start(10 * MSS, 5 * MSS);
  // The fast retransmit is never held back.
  assert.equal(prr.sendQuota(MSS, 8 * MSS, MSS), MSS);
  prr.onSent(MSS);
  // pipe > ssthresh: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
  assert.equal(prr.sendQuota(MSS, 8 * MSS, MSS), 0);
  assert.equal(prr.sendQuota(MSS, 7 * MSS, MSS), 500);
  prr.onSent(MSS);
  assert.equal(prr.sendQuota(MSS, 6 * MSS, MSS), 0);
  // pipe <= ssthresh: MIN(ssthresh - pipe, MAX(prr_delivered - prr_out, DeliveredData) + MSS).
  assert.equal(prr.sendQuota(3 * MSS, 2 * MSS, MSS), 3 * MSS);
  assert.equal(prr.delivered, 7 * MSS);
});

test('property: the scoreboard counters equal a recount of its entries', () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('sack' as const), a: fc.nat(40), b: fc.nat(40) }),
    fc.record({ k: fc.constant('ack' as const), a: fc.nat(40), b: fc.constant(0) }),
    fc.record({ k: fc.constant('lost' as const), a: fc.nat(40), b: fc.constant(0) }),
    fc.record({ k: fc.constant('rtx' as const), a: fc.nat(40), b: fc.constant(0) }),
    fc.record({ k: fc.constant('rto' as const), a: fc.constant(0), b: fc.constant(0) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const b = new SentSegments();
      for (let i = 0; i < 20; i++) b.append(i * 500, (i + 1) * 500, i, 0, 0, 0, 0);
      let una = 0;
      const s = new AckSample();
      for (const o of ops) {
        s.reset(100, -1, b.fack);
        if (o.k === 'sack') b.sack(Math.min(o.a, o.b) * 250, Math.max(o.a, o.b) * 250, s);
        else if (o.k === 'ack') {
          una = Math.max(una, o.a * 250);
          b.ackTo(una, s, null);
        } else if (o.k === 'lost' && o.a < b.count) b.markLost(o.a);
        else if (o.k === 'rtx' && o.a < b.count) b.onRetransmit(o.a, 100, 0, 0, 0);
        else if (o.k === 'rto') {
          b.clearSacks();
          b.markAllLost();
        }
        let sacked = 0;
        let count = 0;
        let lost = 0;
        let rtx = 0;
        let firstLost = -1;
        for (let i = 0; i < b.count; i++) {
          const f = b.flagsAt(i);
          const len = b.endAt(i) - b.startAt(i);
          assert.ok(len > 0);
          if (i > 0) assert.equal(b.startAt(i), b.endAt(i - 1), 'contiguous');
          if (f & SegmentFlag.Sacked) {
            sacked += len;
            count++;
          }
          if (f & SegmentFlag.Lost) lost += len;
          if (firstLost < 0 && (f & (SegmentFlag.Lost | SegmentFlag.Retrans)) === SegmentFlag.Lost)
            firstLost = i;
          if (f & SegmentFlag.Retrans) rtx += len;
        }
        assert.equal(b.sackedBytes, sacked);
        assert.equal(b.sackedCount, count);
        assert.equal(b.lostBytes, lost);
        assert.equal(b.retransBytes, rtx);
        assert.equal(b.firstLostUnsent(), firstLost);
      }
    }),
  );
});

test('the recorder keeps the newest samples within its capacity', () => {
  const r = new TcpRecorder(3);
  assert.equal(r.size, 0);
  for (let i = 0; i < 5; i++) r.record(instant(i), TcpSampleKind.Sent, i, i + 1);
  assert.equal(r.size, 3);
  assert.equal(r.dropped, 2);
  assert.deepEqual(
    r.samples().map((s) => s.a),
    [2, 3, 4],
  );
  assert.throws(() => new TcpRecorder(0), /positive integer/);
});
