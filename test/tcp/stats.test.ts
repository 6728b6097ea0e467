/**
 * What the connection reports: the TCP_INFO-like stats() snapshot field by
 * field after a scripted exchange, the drop counters by reason, state
 * transitions and events, and configuration checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seconds, seq } from '../../src/base/index.js';
import { TcpFlags } from '../../src/wire/index.js';
import {
  Connection,
  TcpDropReason,
  TcpState,
  tcpConfig,
  tcpProfiles,
  validateTcpConfig,
  windowScaleFor,
} from '../../src/tcp/index.js';
import {
  CLIENT_ISS,
  SERVER_ISS,
  at,
  deliver,
  drain,
  established,
  events,
  pattern,
  plainConfig,
  segment,
} from './harness.js';

const OURS = CLIENT_ISS;
const PEER = SERVER_ISS;

test('stats() after a scripted exchange, field by field', () => {
  const conn = established({ noDelay: true, delayedAck: false });
  conn.write(pattern(3000));
  assert.equal(drain(conn, at(20)).length, 3);
  // The peer acknowledges two segments (10 ms later) and sends 500 bytes.
  deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 2921, payload: 500, window: 40000 }));
  const s = conn.stats();
  assert.deepEqual(
    {
      state: s.state,
      caState: s.caState,
      congestionControl: s.congestionControl,
      bytesSent: s.bytesSent,
      bytesAcked: s.bytesAcked,
      bytesReceived: s.bytesReceived,
      bytesRetransmitted: s.bytesRetransmitted,
      segmentsSent: s.segmentsSent,
      segmentsReceived: s.segmentsReceived,
      dataSegmentsSent: s.dataSegmentsSent,
      dataSegmentsReceived: s.dataSegmentsReceived,
      bytesInFlight: s.bytesInFlight,
      unackedSegments: s.unackedSegments,
      sendBuffered: s.sendBuffered,
      receiveBuffered: s.receiveBuffered,
      sendMss: s.sendMss,
      receiveMss: s.receiveMss,
      sendWindow: s.sendWindow,
      receiveWindow: s.receiveWindow,
      sendWindowScale: s.sendWindowScale,
      receiveWindowScale: s.receiveWindowScale,
      timestamps: s.timestamps,
      sackPermitted: s.sackPermitted,
      cwnd: s.cwnd,
      ssthresh: s.ssthresh,
      srtt: s.srtt,
      rttvar: s.rttvar,
      minRtt: s.minRtt,
      rto: s.rto,
      backoffs: s.backoffs,
      outOfOrderBytes: s.outOfOrderBytes,
      sackedBytes: s.sackedBytes,
      drops: s.drops,
    },
    {
      state: TcpState.Established,
      caState: 'open',
      congestionControl: 'cubic', // Linux's default, as in linuxProfile()
      bytesSent: 3000,
      bytesAcked: 2920,
      bytesReceived: 500,
      bytesRetransmitted: 0,
      // SYN, ACK of the SYN,ACK, three data segments, the ACK of the peer's data.
      segmentsSent: 6,
      segmentsReceived: 2,
      dataSegmentsSent: 3,
      dataSegmentsReceived: 1,
      bytesInFlight: 80,
      unackedSegments: 1,
      sendBuffered: 80,
      receiveBuffered: 500,
      sendMss: 1460,
      receiveMss: 1460,
      sendWindow: 40000,
      receiveWindow: 65535, // min(free buffer, 65535) without window scaling
      sendWindowScale: 0,
      receiveWindowScale: 0,
      timestamps: false,
      sackPermitted: false,
      // Not cwnd-limited (3000 bytes in a 14600-byte window): no growth.
      cwnd: 14600,
      ssthresh: 2147483647,
      // Handshake 10 ms, then a 10 ms sample from the first data segment.
      srtt: 10_000,
      rttvar: 3750,
      minRtt: 10_000,
      rto: 200_000,
      backoffs: 0,
      outOfOrderBytes: 0,
      sackedBytes: 0,
      drops: {},
    },
  );
  assert.equal(conn.readableBytes, 500);
  assert.equal(conn.sendBuffered, 80);
  assert.equal(conn.writableBytes, (1 << 20) - 80);
  assert.equal(conn.initialSendSequence, OURS);
  assert.equal(conn.initialReceiveSequence, PEER);
  assert.equal(conn.peerClosed, false);
  assert.equal(conn.isClosed, false);
});

test('drop counters count each reason separately, and the snapshot is a copy', () => {
  const conn = established();
  deliver(conn, at(20), segment({ seq: PEER + 100_000, ack: OURS + 1 }));
  deliver(conn, at(20), segment({ seq: PEER + 100_000, ack: OURS + 1 }));
  deliver(conn, at(20), segment({ seq: PEER + 1, payload: 5 }));
  deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 50 }));
  deliver(conn, at(20), segment({ seq: PEER + 9, flags: TcpFlags.RST }));
  const s = conn.stats();
  assert.deepEqual(s.drops, {
    [TcpDropReason.OutOfWindow]: 2,
    [TcpDropReason.NoAck]: 1,
    [TcpDropReason.BadAck]: 1,
    [TcpDropReason.RstNotExact]: 1,
  });
  const copy = conn.stats().drops;
  copy[TcpDropReason.Paws] = 99;
  assert.equal(conn.stats().drops[TcpDropReason.Paws], undefined);
  assert.equal(conn.stats().segmentsReceived, 6);
  assert.equal(conn.stats().challengeAcksSent, 2);
});

test('every state change is an event and a recorded transition with its cause', () => {
  const conn = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig() });
  drain(conn, at(0));
  deliver(conn, at(10), segment({ seq: PEER, ack: OURS + 1, flags: TcpFlags.SYN | TcpFlags.ACK }));
  conn.shutdown(at(20));
  drain(conn, at(20));
  const stateEvents = events(conn).filter((e) => e.type === 'state');
  assert.deepEqual(
    conn.transitions.map((t) => [t.at / 1000, t.from, t.to, t.cause]),
    [
      [0, 'CLOSED', 'SYN-SENT', 'call connect'],
      [10, 'SYN-SENT', 'ESTABLISHED', 'rcv SYN,ACK'],
      [20, 'ESTABLISHED', 'FIN-WAIT-1', 'call shutdown'],
    ],
  );
  assert.equal(stateEvents.length, 3);
  // With recordTransitions off the events still come, the list stays empty.
  const quiet = Connection.connect(at(0), {
    iss: seq(OURS),
    config: plainConfig({ recordTransitions: false }),
  });
  assert.equal(quiet.transitions.length, 0);
  assert.deepEqual(
    events(quiet).map((e) => e.type),
    ['state'],
  );
});

test('configuration: defaults are the Linux profile, bad values throw naming the field', () => {
  const linux = tcpProfiles['linux']!();
  assert.deepEqual(tcpConfig(), linux);
  assert.equal(linux.msl, seconds(30));
  assert.equal(windowScaleFor(linux.maxReceiveBufferSize), 10);
  assert.equal(windowScaleFor(65535), 0);
  assert.equal(windowScaleFor(2 ** 40), 14, 'RFC 7323 §2.3 caps the shift at 14');
  assert.throws(() => tcpConfig({ mss: 0 }), /TcpConfig\.mss must be a positive number/);
  assert.throws(() => tcpConfig({ msl: Number.NaN as never }), /TcpConfig\.msl/);
  assert.throws(() => tcpConfig({ mss: 40 }), /between 64 and 65495/);
  assert.throws(() => tcpConfig({ mss: 70000 }), /between 64 and 65495/);
  assert.throws(
    () => tcpConfig({ minRto: seconds(5), maxRto: seconds(1) }),
    /minRto must not exceed maxRto/,
  );
  const bad = { ...linux, receiveBufferSize: -1 };
  assert.throws(() => validateTcpConfig(bad), /receiveBufferSize/);
  assert.throws(
    () => Connection.listen({ iss: seq(1), config: { ...linux, congestionControl: 'vegas' } }),
    /unknown congestion control 'vegas'; known: newreno/,
  );
});

test('a closed connection says so and has no timer left', () => {
  const conn = established();
  deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, payload: 10 }));
  conn.abort(at(30));
  assert.equal(conn.isClosed, true);
  assert.equal(conn.stats().state, TcpState.Closed);
  assert.equal(conn.closeError, 'aborted');
  assert.equal(conn.pollTimeout(), Number.POSITIVE_INFINITY);
});
