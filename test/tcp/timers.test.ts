/**
 * The timers besides retransmission: persist with zero-window probes
 * (RFC 9293 §3.8.6.1), keepalive (RFC 1122 §4.2.3.6), the user timeout
 * (RFC 5482), and the calling protocol around them (a late or repeated
 * handleTimeout is harmless).
 */
import { describe as suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, seconds } from '../../src/base/index.js';
import { type TcpRepr } from '../../src/wire/index.js';
import { Connection, TcpState } from '../../src/tcp/index.js';
import {
  CLIENT_ISS,
  SERVER_ISS,
  at,
  deliver,
  drain,
  established,
  eventTypes,
  expectNothing,
  expectSent,
  pattern,
  segment,
} from './harness.js';

const OURS = CLIENT_ISS;
const PEER = SERVER_ISS;

const shape = (sent: TcpRepr[]) => sent.map((s) => `${s.seq - OURS}/${s.payload.length}`);

/** Runs the next timer: [time in ms, what was sent]. */
function tick(conn: Connection): [number, TcpRepr[]] {
  const t = conn.pollTimeout();
  conn.handleTimeout(t);
  return [t / 1000, drain(conn, t)];
}

suite('persist timer and zero-window probes (RFC 9293 §3.8.6.1)', () => {
  test('data written into a zero window: probes with backoff until the window opens', () => {
    const conn = established({}, 0);
    conn.write(pattern(100));
    expectNothing(drain(conn, at(20)));
    assert.equal(conn.pollTimeout(), at(220), 'persist armed at one RTO');
    const probes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [t, sent] = tick(conn);
      probes.push(t);
      // Linux's probe: an ACK with SEG.SEQ = SND.UNA - 1 and no data, which the peer must answer.
      expectSent(sent, { flags: '.', seq: OURS, ack: PEER + 1, len: 0 });
      // The peer answers: still no room.
      expectNothing(deliver(conn, at(t + 1), segment({ seq: PEER + 1, ack: OURS + 1, window: 0 })));
    }
    assert.deepEqual(probes, [220, 620, 1420]);
    assert.equal(conn.stats().zeroWindowProbes, 3);
    assert.equal(
      conn.state,
      TcpState.Established,
      'answered probes keep the connection (RFC 1122 §4.2.2.17)',
    );
    // The window opens: the data goes at once and the persist timer stops.
    const sent = deliver(conn, at(1500), segment({ seq: PEER + 1, ack: OURS + 1, window: 1000 }));
    assert.deepEqual(shape(sent), ['1/100']);
    deliver(conn, at(1510), segment({ seq: PEER + 1, ack: OURS + 101, window: 1000 }));
    assert.equal(conn.pollTimeout(), NEVER);
  });

  test('the window closes under queued data: persist takes over from the retransmission timer', () => {
    const conn = established({ noDelay: true });
    conn.write(pattern(3000));
    assert.deepEqual(shape(drain(conn, at(20))), ['1/1460', '1461/1460', '2921/80']);
    conn.write(pattern(500));
    // Everything acknowledged, but the window is now zero; 500 bytes wait.
    expectNothing(deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 3001, window: 0 })));
    assert.equal(conn.pollTimeout(), at(230));
    const [, sent] = tick(conn);
    expectSent(sent, { seq: OURS + 3000, len: 0 });
    const opened = deliver(
      conn,
      at(300),
      segment({ seq: PEER + 1, ack: OURS + 3001, window: 8000 }),
    );
    assert.deepEqual(shape(opened), ['3001/500']);
  });

  test('the probe interval is capped by maxPersistInterval', () => {
    const conn = established({ maxPersistInterval: seconds(1) }, 0);
    conn.write(pattern(10));
    drain(conn, at(20));
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push(tick(conn)[0]);
    assert.deepEqual(times, [220, 620, 1420, 2420, 3420]);
  });

  test('a window too small to use with nothing in flight is probed too, not waited on forever', () => {
    // RFC 1122 §4.2.3.4: SWS avoidance may hold a small segment, but something
    // must eventually move; if the window update that would open it is lost,
    // only our timer can ask again.
    const conn = established({}, 65535);
    conn.write(pattern(2920));
    drain(conn, at(20));
    expectNothing(deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 2921, window: 100 })));
    conn.write(pattern(5000));
    expectNothing(drain(conn, at(40)));
    assert.notEqual(conn.pollTimeout(), NEVER, 'a timer is armed');
    const [, probe] = tick(conn);
    // Linux's tcp_write_wakeup: the probe carries what the open window takes
    // (100 bytes), not the bare SND.UNA - 1 of a zero window.
    expectSent(probe, { flags: '.', seq: OURS + 2921, len: 100 });
    // The answer shows the window that opened meanwhile: data flows.
    const sent = deliver(
      conn,
      at(400),
      segment({ seq: PEER + 1, ack: OURS + 3021, window: 60000 }),
    );
    assert.ok(sent.length >= 3);
    assert.equal(sent[0]!.seq, OURS + 3021);
  });
});

suite('keepalive (RFC 1122 §4.2.3.6)', () => {
  const alive = () =>
    established({
      keepAlive: true,
      keepAliveIdle: seconds(10),
      keepAliveInterval: seconds(1),
      keepAliveCount: 3,
    });

  test('idle: probes at SND.NXT - 1, then timed-out after keepAliveCount unanswered', () => {
    const conn = alive();
    assert.equal(
      conn.pollTimeout(),
      at(10_010),
      'idle time counted from the last segment received',
    );
    const times: number[] = [];
    for (;;) {
      const [t, sent] = tick(conn);
      times.push(t);
      if (conn.state === TcpState.Closed) {
        expectNothing(sent);
        break;
      }
      expectSent(sent, { flags: '.', seq: OURS, ack: PEER + 1, len: 0 });
    }
    assert.deepEqual(times, [10_010, 11_010, 12_010, 13_010]);
    assert.equal(conn.stats().keepAliveProbes, 3);
    assert.deepEqual(eventTypes(conn), ['closed:timed-out']);
  });

  test('an answer resets the count and the idle time', () => {
    const conn = alive();
    tick(conn);
    tick(conn);
    expectNothing(deliver(conn, at(11_050), segment({ seq: PEER + 1, ack: OURS + 1 })));
    assert.equal(conn.pollTimeout(), at(21_050));
    for (let i = 0; i < 3; i++) tick(conn);
    assert.equal(conn.state, TcpState.Established, 'three probes, no verdict yet');
    tick(conn);
    assert.equal(conn.state, TcpState.Closed);
  });

  test('traffic postpones the first probe', () => {
    const conn = alive();
    deliver(conn, at(5_000), segment({ seq: PEER + 1, ack: OURS + 1, payload: 10 }));
    assert.equal(conn.pollTimeout(), at(5_040), 'first the delayed ACK');
    conn.handleTimeout(at(5_040));
    expectSent(drain(conn, at(5_040)), { flags: '.', ack: PEER + 11 });
    assert.equal(conn.pollTimeout(), at(15_000));
  });

  test('setKeepAlive turns it on and off on a live connection', () => {
    const conn = established();
    assert.equal(conn.pollTimeout(), NEVER);
    conn.setKeepAlive(at(100), true, seconds(60));
    assert.equal(conn.pollTimeout(), at(60_010));
    conn.setKeepAlive(at(200), false);
    assert.equal(conn.pollTimeout(), NEVER);
  });

  test('no probe while data is unacknowledged: the retransmission timer owns that (as Linux)', () => {
    const conn = established({
      keepAlive: true,
      keepAliveIdle: seconds(1),
      keepAliveInterval: seconds(1),
      keepAliveCount: 1,
    });
    conn.write(pattern(10));
    drain(conn, at(20));
    let probes = 0;
    while (conn.state === TcpState.Established && conn.pollTimeout() < at(10_000)) {
      const [, sent] = tick(conn);
      for (const s of sent) if (s.payload.length === 0) probes++;
    }
    assert.equal(probes, 0);
    assert.equal(conn.state, TcpState.Established);
    assert.equal(conn.stats().keepAliveProbes, 0);
  });
});

suite('user timeout (RFC 5482, TCP_USER_TIMEOUT)', () => {
  test('unacknowledged data older than the user timeout ends the connection at the next RTO', () => {
    const conn = established({ userTimeout: seconds(1) });
    conn.write(pattern(10));
    drain(conn, at(20));
    const [t1, s1] = tick(conn);
    const [t2, s2] = tick(conn);
    assert.deepEqual([t1, s1.length, t2, s2.length], [220, 1, 620, 1]);
    const [t3, s3] = tick(conn);
    assert.equal(t3, 1420);
    expectNothing(s3);
    assert.equal(conn.state, TcpState.Closed);
    assert.deepEqual(eventTypes(conn), ['closed:timed-out']);
  });

  test('an ACK of new data restarts the clock; setUserTimeout changes it', () => {
    const conn = established();
    conn.setUserTimeout(seconds(1));
    conn.write(pattern(20));
    drain(conn, at(20));
    tick(conn); // 220
    deliver(conn, at(900), segment({ seq: PEER + 1, ack: OURS + 11 }));
    // Half the data is acknowledged at 900 ms: the rest is timed from there.
    const times: number[] = [];
    while (conn.state !== TcpState.Closed) times.push(tick(conn)[0]);
    assert.deepEqual(times, [1100, 1500, 2300]);
  });
});

suite('calling protocol', () => {
  test('early, late and repeated handleTimeout calls are harmless', () => {
    const conn = established({ delayedAck: true });
    deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, payload: 10 }));
    conn.handleTimeout(at(30));
    expectNothing(drain(conn, at(30)));
    conn.handleTimeout(at(500));
    expectSent(drain(conn, at(500)), { flags: '.', ack: PEER + 11 });
    conn.handleTimeout(at(500));
    conn.handleTimeout(at(900));
    expectNothing(drain(conn, at(900)));
    assert.equal(conn.pollTimeout(), NEVER);
  });
});
