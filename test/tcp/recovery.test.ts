/**
 * Loss recovery with a scripted peer: RFC 6298 retransmission timeouts with
 * exponential backoff and their limits, SYN retries, Karn's rule, NewReno
 * without SACK (fast retransmit on the third duplicate ACK, RFC 3042 limited
 * transmit, RFC 6582 partial and full ACKs), and SACK recovery: RACK marking
 * holes lost (RFC 8985) with PRR (RFC 6937), or RFC 6675's IsLost with its
 * rescue retransmission.
 */
import { describe as suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { seconds, seq, later } from '../../src/base/index.js';
import { type TcpRepr } from '../../src/wire/index.js';
import { Connection, TcpState } from '../../src/tcp/index.js';
import {
  CLIENT_ISS,
  SERVER_ISS,
  at,
  deliver,
  drain,
  established,
  establishedWith,
  eventTypes,
  expectNothing,
  expectSent,
  pattern,
  plainConfig,
  segment,
} from './harness.js';

const OURS = CLIENT_ISS;
const PEER = SERVER_ISS;
const MSS = 1460;

/** Segments as "relative seq/length". */
const shape = (sent: TcpRepr[]) => sent.map((s) => `${s.seq - OURS}/${s.payload.length}`);
const ackOf = (rel: number, extra: Partial<Parameters<typeof segment>[0]> = {}) =>
  segment({ seq: PEER + 1, ack: OURS + rel, ...extra });

/** Runs the next timer and returns [time in ms, what was sent]. */
function tick(conn: Connection): [number, string[]] {
  const t = conn.pollTimeout();
  conn.handleTimeout(t);
  return [t / 1000, shape(drain(conn, t))];
}

suite('retransmission timeout (RFC 6298)', () => {
  test('backs off exponentially and gives up after maxRetransmits', () => {
    const conn = established({ maxRetransmits: 3 });
    conn.write(pattern(100));
    expectSent(drain(conn, at(20)), { len: 100 });
    // SRTT 10 ms from the handshake: RTO = max(200 ms, 10 + 4*5) = 200 ms (minRto).
    assert.equal(conn.stats().rto, 200_000);
    assert.deepEqual(tick(conn), [220, ['1/100']]);
    assert.equal(conn.stats().backoffs, 1);
    assert.deepEqual(tick(conn), [620, ['1/100']]);
    assert.deepEqual(tick(conn), [1420, ['1/100']]);
    assert.equal(conn.stats().retransmitTimeouts, 3);
    assert.deepEqual(tick(conn), [3020, []]);
    assert.equal(conn.state, TcpState.Closed);
    assert.deepEqual(eventTypes(conn), ['closed:timed-out']);
  });

  test('the backoff is capped at maxRto', () => {
    const conn = established({ maxRto: seconds(1) });
    conn.write(pattern(10));
    drain(conn, at(20));
    const times = [tick(conn)[0], tick(conn)[0], tick(conn)[0], tick(conn)[0]];
    assert.deepEqual(times, [220, 620, 1420, 2420]);
  });

  test('after a timeout: cwnd one segment, ssthresh half the flight, go-back-N in slow start', () => {
    const conn = established({ noDelay: true, congestionControl: 'newreno' });
    conn.write(pattern(5 * MSS));
    assert.equal(drain(conn, at(20)).length, 5);
    assert.deepEqual(tick(conn), [220, ['1/1460']]);
    let s = conn.stats();
    assert.equal(s.caState, 'loss');
    assert.equal(s.cwnd, MSS);
    assert.equal(s.ssthresh, 3650, 'max(FlightSize / 2, 2*SMSS) (RFC 5681 (4))');
    assert.equal(s.lostSegments, 5);
    // Each ACK lets slow start resend more of what was outstanding.
    assert.deepEqual(shape(deliver(conn, at(300), ackOf(1 + MSS))), ['1461/1460', '2921/1460']);
    s = conn.stats();
    assert.equal(s.backoffs, 0, 'new data acknowledged: backoff cleared');
    assert.equal(s.rto, 200_000);
    assert.deepEqual(shape(deliver(conn, at(310), ackOf(1 + 3 * MSS))), ['4381/1460', '5841/1460']);
    expectNothing(deliver(conn, at(320), ackOf(1 + 5 * MSS)));
    s = conn.stats();
    assert.equal(s.caState, 'open');
    assert.equal(s.bytesRetransmitted, 5 * MSS);
    assert.equal(s.bytesInFlight, 0);
    assert.equal(conn.pollTimeout() > at(100_000), true, 'no timer once all is acknowledged');
  });

  test("Karn's rule: no RTT sample from a retransmitted segment (no timestamps)", () => {
    const conn = established();
    conn.write(pattern(10));
    drain(conn, at(20));
    tick(conn); // retransmitted at 220
    deliver(conn, at(900), ackOf(11));
    assert.equal(conn.stats().srtt, 10_000, 'the 880 ms is not a sample');
    // A segment sent once is timed: 50 ms.
    conn.write(pattern(10));
    drain(conn, at(1000));
    deliver(conn, at(1050), ackOf(21));
    assert.equal(conn.stats().srtt, (7 / 8) * 10_000 + (1 / 8) * 50_000);
  });

  test('a window update or data is not a duplicate ACK', () => {
    const conn = established({ noDelay: true });
    conn.write(pattern(3 * MSS));
    drain(conn, at(20));
    deliver(conn, at(30), ackOf(1, { window: 40000 }));
    deliver(conn, at(31), ackOf(1, { window: 40000, payload: 5 }));
    assert.equal(conn.stats().dupAcksReceived, 0);
    deliver(conn, at(32), ackOf(1, { seq: PEER + 6, window: 40000 }));
    assert.equal(conn.stats().dupAcksReceived, 1);
  });
});

suite('SYN retransmission', () => {
  test('SYN retries: 1, 3, 7, 15, 31, 63 s, then timed-out at 127 s (synRetries = 6)', () => {
    const conn = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig() });
    expectSent(drain(conn, at(0)), { flags: 'S' });
    const times: number[] = [];
    while (conn.state === TcpState.SynSent) {
      const [t, sent] = tick(conn);
      times.push(t / 1000);
      if (conn.state === TcpState.SynSent) assert.deepEqual(sent, ['0/0'], 'the same SYN');
    }
    assert.deepEqual(times, [1, 3, 7, 15, 31, 63, 127]);
    assert.deepEqual(eventTypes(conn), ['closed:timed-out']);
    assert.equal(conn.stats().retransmitTimeouts, 6);
    assert.equal(conn.stats().segmentsRetransmitted, 6);
  });

  test('after a lost SYN the data RTO starts at 3 s (RFC 6298 (5.7)) and no RTT was taken', () => {
    const conn = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig() });
    drain(conn, at(0));
    tick(conn);
    deliver(conn, at(1050), segment({ seq: PEER, ack: OURS + 1, flags: 0x12 }));
    assert.equal(conn.state, TcpState.Established);
    assert.equal(conn.stats().rto, 3_000_000);
    assert.equal(conn.stats().srtt, 0);
    conn.write(pattern(10));
    drain(conn, at(1100));
    assert.equal(conn.pollTimeout(), later(at(1100), seconds(3)));
  });
});

suite('fast retransmit and NewReno (RFC 5681 §3.2, RFC 3042, RFC 6582)', () => {
  /** 10 segments in flight (IW10), 10 more queued. */
  function loaded(): Connection {
    const conn = established({ noDelay: true, congestionControl: 'newreno' });
    conn.write(pattern(20 * MSS));
    assert.equal(drain(conn, at(20)).length, 10);
    return conn;
  }
  const dup = (t: number, conn: Connection) => shape(deliver(conn, at(t), ackOf(1)));

  test('limited transmit sends a new segment on each of the first two duplicate ACKs', () => {
    const conn = loaded();
    assert.deepEqual(dup(30, conn), ['14601/1460']);
    assert.equal(conn.stats().caState, 'disorder');
    assert.deepEqual(dup(31, conn), ['16061/1460']);
    assert.equal(conn.stats().cwnd, 10 * MSS, 'cwnd itself unchanged');
    assert.equal(conn.stats().dupAcksReceived, 2);
  });

  test('the third duplicate ACK retransmits the first unacknowledged segment and enters recovery', () => {
    const conn = loaded();
    dup(30, conn);
    dup(31, conn);
    assert.deepEqual(dup(32, conn), ['1/1460']);
    const s = conn.stats();
    assert.equal(s.caState, 'recovery');
    assert.equal(s.fastRetransmits, 1);
    assert.equal(s.ssthresh, 8760, 'half of the 12 segments in flight');
    assert.equal(s.cwnd, 8760 + 3 * MSS);
  });

  test('further duplicate ACKs inflate cwnd and send new data, not more retransmissions', () => {
    const conn = loaded();
    for (let i = 0; i < 3; i++) dup(30 + i, conn);
    assert.deepEqual(dup(33, conn), []);
    assert.deepEqual(dup(34, conn), []);
    assert.deepEqual(dup(35, conn), []);
    assert.equal(conn.stats().cwnd, 12 * MSS);
    assert.deepEqual(dup(36, conn), ['17521/1460']);
    assert.deepEqual(dup(37, conn), ['18981/1460']);
    assert.equal(conn.stats().segmentsRetransmitted, 1);
  });

  test('a partial ACK retransmits the next hole at once; the full ACK ends recovery', () => {
    const conn = loaded();
    for (let i = 0; i < 3; i++) dup(30 + i, conn);
    // Segments 1-3 arrive; segment 4 was lost as well.
    const partial = shape(deliver(conn, at(40), ackOf(1 + 3 * MSS)));
    assert.deepEqual(partial, ['4381/1460'], 'the next hole, at once');
    assert.equal(conn.stats().caState, 'recovery');
    assert.equal(conn.stats().segmentsRetransmitted, 2);
    // RFC 6582 (5): cwnd deflated by the amount acknowledged, plus one SMSS back.
    assert.equal(conn.stats().cwnd, 8760 + 3 * MSS - 3 * MSS + MSS);
    // Everything sent before recovery began (12 segments) acknowledged: recovery ends.
    const after = shape(deliver(conn, at(50), ackOf(1 + 12 * MSS)));
    const s = conn.stats();
    assert.equal(s.caState, 'open');
    // RFC 6582 (3) option 1: min(ssthresh, max(FlightSize, SMSS) + SMSS) with
    // nothing left in flight: two segments, no burst.
    assert.equal(s.cwnd, 2 * MSS);
    assert.deepEqual(after, ['17521/1460', '18981/1460']);
  });

  test('with SACK and RACK every hole below SACKed data is lost at once; PRR clocks the repair', () => {
    const conn = establishedWith({
      config: { noDelay: true, sack: true, congestionControl: 'newreno' },
      peerOptions: { mss: MSS, sackPermitted: true },
    });
    conn.write(pattern(10 * MSS));
    drain(conn, at(20));
    // Segments 1 and 4 lost; 2-3 and 5-8 SACKed; 9-10 not heard of yet.
    const sack = (t: number) =>
      deliver(
        conn,
        at(t),
        ackOf(1, {
          options: {
            sackBlocks: [
              { left: seq(OURS + 1 + 4 * MSS), right: seq(OURS + 1 + 8 * MSS) },
              { left: seq(OURS + 1 + MSS), right: seq(OURS + 1 + 3 * MSS) },
            ],
          },
        }),
      );
    // Six SACKed segments and no reordering seen: RACK's window is 0, so
    // both holes (sent before segment 8, one RTT ago) are lost now; 9 and 10,
    // sent after, are not. PRR: pipe 2 segments, ssthresh 5: send 3 at most.
    assert.deepEqual(shape(sack(30)), ['1/1460', `${1 + 3 * MSS}/1460`]);
    let s = conn.stats();
    assert.equal(s.caState, 'recovery');
    assert.equal(s.fastRetransmits, 1);
    assert.equal(s.sackedBytes, 6 * MSS);
    assert.equal(s.lostBytes, 2 * MSS);
    assert.equal(s.retransmittedOutBytes, 2 * MSS);
    assert.equal(s.bytesInFlight, 4 * MSS, 'pipe: 10 - 6 SACKed - 2 lost + 2 retransmitted');
    // The same SACK again delivers nothing: nothing more goes.
    assert.deepEqual(shape(sack(31)), []);
    // Everything acknowledged: recovery ends with cwnd = ssthresh (RFC 6937 §3).
    expectNothing(deliver(conn, at(40), ackOf(1 + 10 * MSS)));
    s = conn.stats();
    assert.equal(s.caState, 'open');
    assert.equal(s.cwnd, s.ssthresh);
    assert.equal(s.ssthresh, 5 * MSS, 'NewReno: half of the 10 segments in flight');
    assert.equal(s.segmentsRetransmitted, 2);
  });

  test('with SACK and RACK off, RFC 6675: IsLost, cwnd = ssthresh, then a rescue retransmission', () => {
    const conn = establishedWith({
      config: { noDelay: true, sack: true, rack: false, prr: false, tlp: false },
      peerOptions: { mss: MSS, sackPermitted: true },
    });
    conn.write(pattern(10 * MSS));
    drain(conn, at(20));
    const sack = (t: number, blocks: Array<[number, number]>) =>
      deliver(
        conn,
        at(t),
        ackOf(1, {
          options: {
            sackBlocks: blocks.map(([l, r]) => ({
              left: seq(OURS + 1 + l * MSS),
              right: seq(OURS + 1 + r * MSS),
            })),
          },
        }),
      );
    // Two SACKed segments above the hole are not enough (DupThresh 3)...
    assert.deepEqual(shape(sack(30, [[1, 3]])), []);
    assert.equal(conn.stats().caState, 'disorder');
    // ...three are: segment 1 is lost (and 4, with 3 SACKed above it, too).
    const sent = shape(
      sack(31, [
        [4, 8],
        [1, 3],
      ]),
    );
    const s = conn.stats();
    assert.equal(s.caState, 'recovery');
    // CUBIC: ssthresh = 0.7 * 10 segments; cwnd = ssthresh (RFC 6675 (4.2)).
    assert.equal(s.ssthresh, Math.floor(0.7 * 10 * MSS));
    // Rule 1 resends both holes; nothing new to send (rule 2); no unSACKed
    // segment below the highest SACK is left for rule 3; rule 4 sends the
    // last unSACKed segment once, keeping the ACK clock going.
    assert.deepEqual(sent, ['1/1460', `${1 + 3 * MSS}/1460`, `${1 + 9 * MSS}/1460`]);
    assert.deepEqual(shape(sack(32, [[4, 8]])), [], 'one rescue per recovery');
  });
});
