/**
 * The recovery mechanisms against a scripted peer, segment by segment:
 * PRR's send quota on each ACK (RFC 6937), tail loss probe timing (RFC
 * 8985 §7), RACK's reordering timer (§6.3), F-RTO deciding a timeout was
 * spurious or real (RFC 5682), undo by D-SACK (RFC 3708) and by timestamps
 * (RFC 3522), ECN negotiation, echo and response (RFC 3168), pacing.
 */
import { describe as suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { seq } from '../../src/base/index.js';
import { TcpFlags, type SackBlock, type TcpRepr } from '../../src/wire/index.js';
import { Connection, TcpState, type TcpConfig } from '../../src/tcp/index.js';
import {
  CLIENT_ISS,
  SERVER_ISS,
  at,
  deliver,
  drain,
  establishedWith,
  events,
  fireTimer,
  pattern,
  plainConfig,
  segment,
} from './harness.js';

const OURS = CLIENT_ISS;
const PEER = SERVER_ISS;
const MSS = 1460;

/** Segments as "relative seq/length". */
const shape = (sent: TcpRepr[]) => sent.map((s) => `${s.seq - OURS}/${s.payload.length}`);
/** Segment k (0-based) of the stream as a relative offset string. */
const segAt = (k: number) => `${1 + k * MSS}/1460`;
/** [from, to) in segments as a SACK block. */
const block = (from: number, to: number): SackBlock => ({
  left: seq(OURS + 1 + from * MSS),
  right: seq(OURS + 1 + to * MSS),
});
/** An ACK up to segment `una` (exclusive) with SACK blocks. */
const ackWith = (una: number, blocks: SackBlock[] = [], extra: Partial<TcpRepr['options']> = {}) =>
  segment({ seq: PEER + 1, ack: OURS + 1 + una * MSS, options: { sackBlocks: blocks, ...extra } });

function sackConn(config: Partial<TcpConfig> = {}): Connection {
  return establishedWith({
    config: { noDelay: true, sack: true, ...config },
    peerOptions: { mss: MSS, sackPermitted: true },
  });
}

suite('PRR (RFC 6937)', () => {
  test('in recovery each ACK may send ceil(prr_delivered * ssthresh / RecoverFS) - prr_out', () => {
    // 20 segments in flight (IW 20), segment 0 lost, one SACK per arriving segment.
    const conn = sackConn({ congestionControl: 'newreno', initialCwndSegments: 20 });
    conn.write(pattern(60 * MSS));
    assert.equal(drain(conn, at(20)).length, 20);
    // Two SACKs: RACK waits (its window is 2.5 ms); each SACKed segment left
    // the network, so pipe falls and a new segment goes (RFC 3042 in effect).
    for (let k = 1; k <= 2; k++) {
      assert.deepEqual(shape(deliver(conn, at(30 + k / 10), ackWith(0, [block(1, 1 + k)]))), [
        segAt(19 + k),
      ]);
    }
    // The third SACKed segment: segment 0 is lost (reo_wnd 0), recovery
    // begins with RecoverFS = FlightSize = 22 segments.
    const recoverFs = 22 * MSS;
    let prrDelivered = 0;
    let prrOut = 0;
    let phases = '';
    for (let k = 3; k <= 21; k++) {
      const out = deliver(conn, at(30 + k / 10), ackWith(0, [block(1, 1 + k)]));
      const s = conn.stats();
      if (k === 3) {
        assert.equal(s.caState, 'recovery');
        assert.equal(s.ssthresh, 11 * MSS, 'NewReno: half of the 22 segments outstanding');
        assert.equal(shape(out)[0], segAt(0), 'the fast retransmit first');
      }
      if (s.caState !== 'recovery') break;
      prrDelivered += MSS;
      const sentBytes = out.reduce((n, seg) => n + seg.payload.length, 0);
      const pipe = s.bytesInFlight - sentBytes;
      let sndcnt: number;
      if (pipe > s.ssthresh) {
        sndcnt = Math.ceil((prrDelivered * s.ssthresh) / recoverFs) - prrOut;
        phases += 'P';
      } else {
        sndcnt = Math.min(s.ssthresh - pipe, Math.max(prrDelivered - prrOut, MSS) + MSS);
        phases += 'S';
      }
      if (prrOut === 0) sndcnt = Math.max(sndcnt, MSS);
      // Whole segments: any positive quota sends one (Linux counts in packets).
      const expected = sndcnt > 0 ? Math.ceil(sndcnt / MSS) : 0;
      assert.equal(out.length, expected, `ACK ${k}: pipe ${pipe}, quota ${sndcnt}`);
      prrOut += sentBytes;
    }
    assert.match(phases, /^P+S+$/, 'proportional while pipe > ssthresh, then slow start');
    // Over the proportional phase about half of what was delivered went out.
    assert.ok(Math.abs(prrOut - prrDelivered / 2) <= 2 * MSS, `${prrOut} vs ${prrDelivered}`);
    // The hole fills: recovery ends with cwnd = ssthresh.
    deliver(conn, at(45), ackWith(30));
    const s = conn.stats();
    assert.equal(s.caState, 'open');
    assert.equal(s.cwnd, s.ssthresh);
  });
});

suite('tail loss probe (RFC 8985 §7)', () => {
  test('PTO = 2 SRTT + 2 ms with two segments out; the probe is the last segment; RACK does the rest', () => {
    const conn = sackConn();
    conn.write(pattern(10 * MSS));
    drain(conn, at(20));
    // Segments 0-7 acknowledged; 8 and 9 lost.
    deliver(conn, at(30), ackWith(8));
    assert.equal(conn.stats().srtt, 10_000);
    const probe = fireTimer(conn);
    assert.equal(probe.at, at(30 + 2 * 10 + 2));
    assert.deepEqual(shape(probe.sent), [segAt(9)]);
    assert.equal(conn.stats().lossProbes, 1);
    assert.equal(conn.stats().retransmitTimeouts, 0);
    // The probe arrives: its SACK shows segment 8, sent 32 ms before it,
    // missing for longer than RACK.rtt (10 ms) plus the window: lost now.
    assert.deepEqual(shape(deliver(conn, at(62), ackWith(8, [block(9, 10)]))), [segAt(8)]);
    assert.equal(conn.stats().caState, 'recovery');
    deliver(conn, at(80), ackWith(10));
    assert.equal(conn.stats().caState, 'open');
    assert.equal(conn.stats().retransmitTimeouts, 0);
  });

  test('with one segment out the PTO allows for a delayed ACK, and never passes the RTO', () => {
    const conn = sackConn();
    conn.write(pattern(10 * MSS));
    drain(conn, at(20));
    deliver(conn, at(30), ackWith(9));
    // 2 SRTT + 200 ms would be 250 ms; the RTO (200 ms) comes first: the probe goes then.
    const probe = fireTimer(conn);
    assert.equal(probe.at, at(30 + 200));
    assert.deepEqual(shape(probe.sent), [segAt(9)]);
    assert.equal(conn.stats().retransmitTimeouts, 0, 'a probe, not a timeout');
    assert.ok(conn.pollTimeout() >= at(230 + 200), 'the RTO runs in full after the probe');
  });

  test('new data, if any, is the probe, regardless of cwnd', () => {
    const conn = sackConn();
    conn.write(pattern(12 * MSS));
    assert.equal(drain(conn, at(20)).length, 10, 'IW 10: cwnd is full');
    const probe = fireTimer(conn);
    assert.equal(probe.at, at(20 + 2 * 10 + 2));
    assert.deepEqual(shape(probe.sent), [segAt(10)]);
    assert.equal(conn.stats().segmentsRetransmitted, 0);
    assert.deepEqual(shape(drain(conn, probe.at)), [], 'one probe only');
  });
});

suite('F-RTO (RFC 5682)', () => {
  /** Ten segments out at 20 ms, ten more queued, no ACK until the RTO at 220 ms. */
  function timedOut(): Connection {
    // No tail loss probe: the timeout comes first.
    const conn = sackConn({ congestionControl: 'newreno', tlp: false });
    conn.write(pattern(20 * MSS));
    assert.equal(drain(conn, at(20)).length, 10);
    const rto = fireTimer(conn);
    assert.equal(rto.at, at(220));
    assert.deepEqual(shape(rto.sent), [segAt(0)]);
    assert.equal(conn.stats().caState, 'loss');
    assert.equal(conn.stats().cwnd, MSS);
    return conn;
  }

  test('spurious: the ACK after the new data covers data never retransmitted; undone', () => {
    const conn = timedOut();
    // The first ACK (for the original of segment 0, delayed) advances: step
    // 2.b sends two new segments instead of retransmitting.
    assert.deepEqual(shape(deliver(conn, at(225), ackWith(1))), [segAt(10), segAt(11)]);
    assert.equal(conn.stats().caState, 'loss');
    // The next ACK covers segments 1-9, sent once: the timeout was spurious.
    deliver(conn, at(226), ackWith(10));
    const s = conn.stats();
    assert.equal(s.spuriousRtos, 1);
    assert.equal(s.spuriousRecoveries, 1);
    assert.equal(s.caState, 'open');
    assert.equal(s.ssthresh, 0x7fffffff, 'ssthresh back to what it was');
    assert.ok(s.cwnd >= 10 * MSS, `cwnd ${s.cwnd} back`);
    assert.equal(s.segmentsRetransmitted, 1);
  });

  test('real: a SACK of the new data shows the rest lost; retransmission goes on', () => {
    const conn = timedOut();
    assert.deepEqual(shape(deliver(conn, at(230), ackWith(1))), [segAt(10), segAt(11)]);
    // Segments 1-9 were lost: the new data arrives past the hole.
    const out = deliver(conn, at(240), ackWith(1, [block(10, 11)]));
    const s = conn.stats();
    assert.equal(s.spuriousRtos, 0);
    assert.equal(s.caState, 'loss');
    assert.deepEqual(shape(out), [segAt(1)], 'conventional recovery resumes');
  });

  test('the first ACK covering everything outstanding is not evidence (step 2.a)', () => {
    const conn = timedOut();
    deliver(conn, at(230), ackWith(10));
    const s = conn.stats();
    assert.equal(s.spuriousRtos, 0);
    assert.equal(s.caState, 'open');
    assert.equal(s.ssthresh, 5 * MSS, 'the reduction stands');
  });
});

suite('undo (RFC 3708, RFC 3522)', () => {
  test('a D-SACK for every retransmission undoes a fast recovery caused by reordering', () => {
    const conn = sackConn();
    conn.write(pattern(10 * MSS));
    drain(conn, at(20));
    deliver(conn, at(30), ackWith(0, [block(1, 2)]));
    deliver(conn, at(30.1), ackWith(0, [block(1, 3)]));
    assert.deepEqual(shape(deliver(conn, at(30.2), ackWith(0, [block(1, 4)]))), [segAt(0)]);
    let s = conn.stats();
    assert.equal(s.caState, 'recovery');
    assert.ok(s.ssthresh < 0x7fffffff);
    // Segment 0 was only late; it and the rest arrive; then our retransmission, a duplicate.
    deliver(conn, at(31), ackWith(10));
    s = conn.stats();
    assert.ok(s.ssthresh < 0x7fffffff, 'still reduced');
    deliver(conn, at(40), ackWith(10, [block(0, 1)]));
    s = conn.stats();
    assert.equal(s.dsacksReceived, 1);
    assert.equal(s.spuriousRecoveries, 1);
    assert.equal(s.ssthresh, 0x7fffffff, 'undone');
    assert.equal(s.cwnd, 10 * MSS);
    assert.equal(
      s.reorderWindow,
      (2 * 10_000) / 4,
      'RACK widened its window: 2 quarters of min_RTT',
    );
  });

  test('a D-SACK of data never retransmitted (a network duplicate) undoes nothing', () => {
    const conn = sackConn();
    conn.write(pattern(10 * MSS));
    drain(conn, at(20));
    for (let k = 1; k <= 3; k++) deliver(conn, at(30 + k / 10), ackWith(0, [block(1, 1 + k)]));
    assert.equal(conn.stats().caState, 'recovery');
    deliver(conn, at(40), ackWith(10, [block(5, 6)]));
    const s = conn.stats();
    assert.equal(s.dsacksReceived, 1);
    assert.equal(s.spuriousRecoveries, 0);
    assert.ok(s.ssthresh < 0x7fffffff);
  });

  test('timestamps: the full ACK echoing a TSval older than the retransmission undoes it (Eifel)', () => {
    const conn = establishedWith({
      config: { noDelay: true, sack: true, timestamps: true },
      peerOptions: { mss: MSS, sackPermitted: true, timestamp: { value: 500, echo: 0 } },
    });
    const mss = conn.mss; // 1448 with timestamps
    conn.write(pattern(10 * mss));
    drain(conn, at(20));
    const ack = (t: number, una: number, sackTo: number, echo: number) =>
      deliver(
        conn,
        at(t),
        segment({
          seq: PEER + 1,
          ack: OURS + 1 + una * mss,
          options: {
            timestamp: { value: 600 + t, echo },
            sackBlocks:
              sackTo > 1
                ? [{ left: seq(OURS + 1 + mss), right: seq(OURS + 1 + sackTo * mss) }]
                : [],
          },
        }),
      );
    ack(30, 0, 2, 20);
    ack(30.1, 0, 3, 20);
    assert.equal(ack(30.2, 0, 4, 20).length, 1, 'fast retransmit at 30 ms (TSval 30)');
    assert.equal(conn.stats().caState, 'recovery');
    // The original of segment 0 arrives first: the ACK echoes its TSval, 20.
    ack(31, 10, 0, 20);
    const s = conn.stats();
    assert.equal(s.caState, 'open');
    assert.equal(s.spuriousRecoveries, 1);
    assert.equal(s.ssthresh, 0x7fffffff);
  });
});

suite('ECN (RFC 3168)', () => {
  function handshake(ours: Partial<TcpConfig>, synAckFlags: number): Connection {
    const conn = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig(ours) });
    const syn = drain(conn, at(0))[0]!;
    const ecnSetup = TcpFlags.ECE | TcpFlags.CWR;
    assert.equal(
      (syn.flags & ecnSetup) === ecnSetup,
      ours.ecn === 1,
      'ECN-setup SYN only when asked',
    );
    deliver(
      conn,
      at(10),
      segment({
        seq: PEER,
        ack: OURS + 1,
        flags: TcpFlags.SYN | TcpFlags.ACK | synAckFlags,
        options: { mss: MSS },
      }),
    );
    events(conn);
    return conn;
  }

  test('negotiation: asked on SYN with ECE+CWR (ecn 1), agreed by a SYN,ACK with ECE only', () => {
    assert.equal(handshake({ ecn: 1 }, TcpFlags.ECE).stats().ecn, true);
    assert.equal(handshake({ ecn: 1 }, TcpFlags.ECE | TcpFlags.CWR).stats().ecn, false);
    assert.equal(handshake({ ecn: 1 }, 0).stats().ecn, false);
    assert.equal(handshake({ ecn: 2 }, TcpFlags.ECE).stats().ecn, false, 'not asked, not on');
  });

  test('a listener accepts by default (net.ipv4.tcp_ecn = 2) and refuses with ecn 0', () => {
    for (const [ecn, on] of [
      [2, true],
      [1, true],
      [0, false],
    ] as const) {
      const conn = Connection.listen({ iss: seq(OURS), config: plainConfig({ ecn }) });
      const synAck = deliver(
        conn,
        at(0),
        segment({
          seq: PEER,
          flags: TcpFlags.SYN | TcpFlags.ECE | TcpFlags.CWR,
          options: { mss: MSS },
        }),
      )[0]!;
      assert.equal((synAck.flags & TcpFlags.ECE) !== 0, on, `ecn ${ecn}`);
      assert.equal((synAck.flags & TcpFlags.CWR) !== 0, false);
      deliver(conn, at(10), segment({ seq: PEER + 1, ack: OURS + 1 }));
      assert.equal(conn.state, TcpState.Established);
      assert.equal(conn.stats().ecn, on);
    }
  });

  test('the sender: ECT(0) on new data only; an ECE reduces once per window and sends CWR', () => {
    const conn = handshake({ ecn: 1, noDelay: true, congestionControl: 'newreno' }, TcpFlags.ECE);
    conn.write(pattern(30 * MSS));
    const first = conn.pollTransmit(at(20))!;
    assert.equal(first.payload.length, MSS);
    assert.equal(conn.transmitEcn, 2, 'ECT(0)');
    let sentTo = drain(conn, at(20)).length + 1;
    let peerSeq = PEER + 1;
    const ece = (t: number, una: number) => {
      const out = deliver(
        conn,
        at(t),
        segment({ seq: peerSeq, ack: OURS + 1 + una * MSS, flags: TcpFlags.ACK | TcpFlags.ECE }),
      );
      sentTo += out.length;
      return out;
    };
    const out = ece(30, 1);
    let s = conn.stats();
    assert.equal(s.caState, 'cwr');
    assert.equal(s.ecnReductions, 1);
    assert.equal(s.ssthresh, 4.5 * MSS, 'NewReno: half the 9 segments still in flight');
    assert.ok(
      out.length > 0 && (out[0]!.flags & TcpFlags.CWR) !== 0,
      'the next new data carries CWR',
    );
    assert.ok(
      out.slice(1).every((seg) => (seg.flags & TcpFlags.CWR) === 0),
      'once',
    );
    // More echoes in the same window: no further reduction.
    ece(31, 2);
    ece(32, 3);
    s = conn.stats();
    assert.equal(s.ecnReductions, 1);
    // A pure ACK is not ECN-capable.
    conn.handleSegment(at(33), segment({ seq: PEER + 1, ack: OURS + 1 + 3 * MSS, payload: 10 }));
    peerSeq += 10;
    const ack = conn.pollTransmit(at(33));
    if (ack !== null && ack.payload.length === 0) assert.equal(conn.transmitEcn, 0);
    if (ack !== null && ack.payload.length > 0) sentTo++;
    sentTo += drain(conn, at(33)).filter((seg) => seg.payload.length > 0).length;
    // Everything sent acknowledged, beyond where CWR began: it ends, and a new echo reduces again.
    sentTo += drain(conn, at(34)).length;
    deliver(conn, at(60), segment({ seq: peerSeq, ack: OURS + 1 + sentTo * MSS }));
    assert.equal(conn.stats().caState, 'open');
    ece(61, sentTo);
    assert.equal(conn.stats().ecnReductions, 2);
  });

  test('the receiver echoes a CE mark with ECE until the sender says CWR', () => {
    const conn = Connection.listen({ iss: seq(OURS), config: plainConfig({ delayedAck: true }) });
    deliver(
      conn,
      at(0),
      segment({
        seq: PEER,
        flags: TcpFlags.SYN | TcpFlags.ECE | TcpFlags.CWR,
        options: { mss: MSS },
      }),
    );
    deliver(conn, at(10), segment({ seq: PEER + 1, ack: OURS + 1 }));
    let now = 20;
    let k = 0;
    const data = (ecn: number, flags: number = TcpFlags.ACK) => {
      now += 1;
      const seg = segment({ seq: PEER + 1 + 100 * k++, ack: OURS + 1, flags, payload: 100 });
      conn.handleSegment(at(now), seg, ecn);
      return drain(conn, at(now));
    };
    const delayedAck = () => {
      const fired = fireTimer(conn);
      now = fired.at / 1000;
      return fired.sent;
    };
    const echoes = (segs: TcpRepr[]) => segs.length === 1 && (segs[0]!.flags & TcpFlags.ECE) !== 0;
    const first = data(3);
    assert.equal(first.length, 1, 'a CE mark is acknowledged at once');
    assert.ok(echoes(first));
    assert.equal(conn.stats().ceReceived, 1);
    // Later ACKs, here a delayed one, carry ECE too.
    assert.deepEqual(data(2), []);
    assert.ok(echoes(delayedAck()));
    // CWR from the sender: the echo stops.
    data(2, TcpFlags.ACK | TcpFlags.CWR);
    const next = delayedAck();
    assert.equal(next.length, 1);
    assert.equal(next[0]!.flags & TcpFlags.ECE, 0);
    // A mark on the CWR segment itself starts a new echo (as Linux: CWR first, then CE).
    assert.ok(echoes(data(3, TcpFlags.ACK | TcpFlags.CWR)));
  });
});

suite('pacing', () => {
  test('segments leave spread over the RTT, the pacer deadline in pollTimeout', () => {
    const conn = sackConn({ pacing: true });
    conn.write(pattern(10 * MSS));
    // SRTT 10 ms, slow start: 200 % of cwnd (10 segments) per SRTT.
    const rate = (2 * 10 * MSS * 1e6) / 10_000;
    assert.equal(conn.stats().pacingRate, Math.round(rate));
    const times: number[] = [];
    let now = at(20);
    for (let i = 0; i < 10; i++) {
      const sent = drain(conn, now);
      assert.equal(sent.length, 1, `one segment at a time (${i})`);
      times.push(now);
      now = conn.pollTimeout();
    }
    const gap = ((MSS + 52) * 1e6) / rate;
    for (let i = 1; i < times.length; i++) {
      assert.ok(
        Math.abs(times[i]! - times[i - 1]! - gap) <= 1,
        `gap ${times[i]! - times[i - 1]!} µs`,
      );
    }
    assert.equal(conn.stats().bytesInFlight, 10 * MSS);
  });

  test('off by default: the window goes at once', () => {
    const conn = sackConn();
    conn.write(pattern(10 * MSS));
    assert.equal(drain(conn, at(20)).length, 10);
    assert.equal(conn.stats().pacingRate, -1);
  });
});
