/**
 * Ending connections: half-close both ways, simultaneous close, TIME-WAIT
 * (2·MSL, repeated FINs, new incarnations), FIN out of order, orphaned
 * FIN-WAIT-2, and the three ways to end with RST (close with unread data,
 * data after close, abort).
 */
import { describe as suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, seconds, seq, later } from '../../src/base/index.js';
import { TcpFlags } from '../../src/wire/index.js';
import {
  Connection,
  TcpApiError,
  TcpDropReason,
  TcpState,
  type TcpConfig,
} from '../../src/tcp/index.js';
import {
  CLIENT_ISS,
  SERVER_ISS,
  at,
  deliver,
  drain,
  established,
  establishedWith,
  eventTypes,
  events,
  expectNothing,
  expectSent,
  inState,
  pattern,
  plainConfig,
  segment,
} from './harness.js';

const OURS = CLIENT_ISS;
const PEER = SERVER_ISS;
const { SYN, ACK, FIN } = TcpFlags;

function read(conn: Connection): Uint8Array {
  const buf = new Uint8Array(conn.readableBytes);
  assert.equal(conn.read(buf), buf.length);
  return buf;
}

/** Two real connections taken through the handshake by hand: a (active, ISS 1000), b (passive, ISS 5000). */
function realPair(config: Partial<TcpConfig> = {}): { a: Connection; b: Connection } {
  const a = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig(config) });
  const b = Connection.listen({ iss: seq(PEER), config: plainConfig(config) });
  const synAck = expectSent(deliver(b, at(1), expectSent(drain(a, at(0)), { flags: 'S' })), {
    flags: 'S.',
  });
  const ack = expectSent(deliver(a, at(2), synAck), { flags: '.' });
  expectNothing(deliver(b, at(3), ack));
  assert.equal(a.state, TcpState.Established);
  assert.equal(b.state, TcpState.Established);
  events(a);
  events(b);
  return { a, b };
}

suite('half-close', () => {
  test('we close first: FIN-WAIT-2 keeps receiving until the peer FIN', () => {
    const conn = established({ delayedAck: false });
    conn.shutdown(at(20));
    expectSent(drain(conn, at(20)), { flags: 'F.', seq: OURS + 1 });
    assert.throws(
      () => conn.write(pattern(1)),
      (e: unknown) => e instanceof TcpApiError && e.code === 'write-after-shutdown',
    );
    expectNothing(deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 2 })));
    assert.equal(conn.state, TcpState.FinWait2);
    for (let i = 0; i < 3; i++) {
      const seg = segment({
        seq: PEER + 1 + 500 * i,
        ack: OURS + 2,
        payload: pattern(500, 500 * i),
      });
      expectSent(deliver(conn, at(40 + i), seg), {
        flags: '.',
        seq: OURS + 2,
        ack: PEER + 501 + 500 * i,
      });
    }
    assert.deepEqual(read(conn), pattern(1500));
    const fin = segment({ seq: PEER + 1501, ack: OURS + 2, flags: FIN | ACK });
    expectSent(deliver(conn, at(50), fin), { flags: '.', ack: PEER + 1502 });
    assert.equal(conn.state, TcpState.TimeWait);
    assert.deepEqual(eventTypes(conn), ['readable', 'peer-closed']);
  });

  test('the peer closes first: CLOSE-WAIT keeps sending, then FIN after the data, LAST-ACK, CLOSED', () => {
    const { conn } = inState(TcpState.CloseWait);
    conn.write(pattern(3000));
    conn.shutdown(at(25));
    assert.equal(conn.state, TcpState.LastAck);
    const sent = drain(conn, at(25));
    assert.deepEqual(
      sent.map((s) => [s.seq - OURS, s.payload.length, s.flags & FIN]),
      [
        [1, 1460, 0],
        [1461, 1460, 0],
        [2921, 80, FIN],
      ],
      'the FIN rides on the last data segment',
    );
    expectNothing(deliver(conn, at(30), segment({ seq: PEER + 2, ack: OURS + 3001 })));
    assert.equal(conn.state, TcpState.LastAck);
    expectNothing(deliver(conn, at(31), segment({ seq: PEER + 2, ack: OURS + 3002 })));
    assert.equal(conn.state, TcpState.Closed);
    assert.deepEqual(eventTypes(conn), ['closed:ok']);
  });
});

suite('simultaneous close', () => {
  test('crossing FINs: FIN-WAIT-1 -> CLOSING -> TIME-WAIT on both sides', () => {
    const { a, b } = realPair();
    a.shutdown(at(10));
    b.shutdown(at(10));
    const finA = expectSent(drain(a, at(10)), { flags: 'F.', seq: OURS + 1, ack: PEER + 1 });
    const finB = expectSent(drain(b, at(10)), { flags: 'F.', seq: PEER + 1, ack: OURS + 1 });
    const ackA = expectSent(deliver(a, at(15), finB), { flags: '.', seq: OURS + 2, ack: PEER + 2 });
    const ackB = expectSent(deliver(b, at(15), finA), { flags: '.', seq: PEER + 2, ack: OURS + 2 });
    assert.equal(a.state, TcpState.Closing);
    assert.equal(b.state, TcpState.Closing);
    expectNothing(deliver(a, at(20), ackB));
    expectNothing(deliver(b, at(20), ackA));
    assert.equal(a.state, TcpState.TimeWait);
    assert.equal(b.state, TcpState.TimeWait);
    assert.deepEqual(a.transitions.map((t) => t.to).slice(-3), [
      TcpState.FinWait1,
      TcpState.Closing,
      TcpState.TimeWait,
    ]);
    // Both leave TIME-WAIT 2·MSL after entering it.
    assert.equal(a.pollTimeout(), later(at(20), seconds(60)));
    a.handleTimeout(a.pollTimeout());
    assert.equal(a.state, TcpState.Closed);
    assert.deepEqual(eventTypes(a), ['peer-closed', 'closed:ok']);
  });
});

suite('TIME-WAIT', () => {
  test('lasts 2·MSL (60 s by default), then CLOSED with no timer left', () => {
    const { conn, now } = inState(TcpState.TimeWait);
    const deadline = later(at(now), seconds(60));
    assert.equal(conn.pollTimeout(), deadline);
    conn.handleTimeout(at(now + 59_999));
    assert.equal(conn.state, TcpState.TimeWait, 'an early timeout is harmless');
    conn.handleTimeout(deadline);
    assert.equal(conn.state, TcpState.Closed);
    assert.deepEqual(eventTypes(conn), ['closed:ok']);
    assert.equal(conn.pollTimeout(), NEVER);
    assert.equal(conn.transitions[conn.transitions.length - 1]!.cause, 'timer 2MSL');
  });

  test('a connection entering TIME-WAIT after sending data keeps no buffer storage', () => {
    // A busy server holds one TIME-WAIT connection per closed one for 2·MSL:
    // its send record (the scoreboard) must not stay with it.
    const conn = established({ delayedAck: false });
    conn.write(pattern(3000));
    conn.shutdown(at(20));
    const sent = drain(conn, at(20));
    assert.ok(sent.length >= 3);
    assert.ok(conn.bufferBytes > 0, 'data and FIN in flight');
    deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 3002 }));
    assert.equal(conn.state, TcpState.FinWait2);
    const fin = segment({ seq: PEER + 1, ack: OURS + 3002, flags: FIN | ACK });
    expectSent(deliver(conn, at(40), fin), { flags: '.', ack: PEER + 2 });
    assert.equal(conn.state, TcpState.TimeWait);
    assert.equal(conn.bufferBytes, 0);
  });

  test('2·MSL follows the configured MSL', () => {
    const { conn, now } = inState(TcpState.TimeWait, { msl: seconds(1) });
    assert.equal(conn.pollTimeout(), later(at(now), seconds(2)));
  });

  test('a retransmitted FIN is acknowledged again and restarts 2·MSL', () => {
    const { conn, now } = inState(TcpState.TimeWait);
    const fin = segment({ seq: PEER + 1, ack: OURS + 2, flags: FIN | ACK });
    const t = now + 30_000;
    expectSent(deliver(conn, at(t), fin), { flags: '.', seq: OURS + 2, ack: PEER + 2 });
    assert.equal(conn.state, TcpState.TimeWait);
    assert.equal(conn.pollTimeout(), later(at(t), seconds(60)));
  });

  test('a FIN at RCV.NXT (inside the window) is acknowledged and restarts 2·MSL too', () => {
    const { conn, now } = inState(TcpState.TimeWait);
    const fin = segment({ seq: PEER + 2, ack: OURS + 2, flags: FIN | ACK });
    expectSent(deliver(conn, at(now + 10), fin), { flags: '.', seq: OURS + 2, ack: PEER + 2 });
    assert.equal(conn.pollTimeout(), later(at(now + 10), seconds(60)));
  });

  test('a segment in the window is ignored; only a FIN is answered', () => {
    const { conn, now } = inState(TcpState.TimeWait);
    expectNothing(deliver(conn, at(now + 1), segment({ seq: PEER + 2, ack: OURS + 2 })));
    assert.equal(conn.state, TcpState.TimeWait);
    assert.equal(conn.pollTimeout(), later(at(now), seconds(60)), 'not restarted');
  });

  test('acceptsNewSyn without timestamps: only a SYN beyond RCV.NXT', () => {
    const { conn, rcvNxt } = inState(TcpState.TimeWait);
    assert.equal(conn.acceptsNewSyn(segment({ seq: rcvNxt + 1, flags: SYN })), true);
    assert.equal(conn.acceptsNewSyn(segment({ seq: rcvNxt + 100_000, flags: SYN })), true);
    assert.equal(conn.acceptsNewSyn(segment({ seq: rcvNxt, flags: SYN })), false);
    assert.equal(conn.acceptsNewSyn(segment({ seq: rcvNxt - 10, flags: SYN })), false);
    assert.equal(conn.acceptsNewSyn(segment({ seq: rcvNxt + 1, ack: 1 })), false, 'not a SYN');
    const live = established();
    assert.equal(
      live.acceptsNewSyn(segment({ seq: PEER + 100, flags: SYN })),
      false,
      'not TIME-WAIT',
    );
  });

  test('acceptsNewSyn with timestamps: a newer TSval wins whatever the sequence number (RFC 6191)', () => {
    const conn = establishedWith({
      config: { timestamps: true },
      peerOptions: { mss: 1460, timestamp: { value: 500, echo: 0 } },
    });
    const ts = (value: number) => ({ timestamp: { value, echo: 10 } });
    conn.shutdown(at(20));
    expectSent(drain(conn, at(20)), { flags: 'F.' });
    deliver(
      conn,
      at(30),
      segment({ seq: PEER + 1, ack: OURS + 2, flags: FIN | ACK, options: ts(520) }),
    );
    assert.equal(conn.state, TcpState.TimeWait);
    const syn = (s: number, value: number) => segment({ seq: s, flags: SYN, options: ts(value) });
    assert.equal(conn.acceptsNewSyn(syn(PEER - 50_000, 521)), true);
    assert.equal(conn.acceptsNewSyn(syn(PEER + 50_000, 520)), false);
    assert.equal(conn.acceptsNewSyn(syn(PEER + 50_000, 400)), false);
  });
});

suite('FIN out of order', () => {
  test('a FIN after a gap is held and processed when the gap fills', () => {
    const conn = established({ delayedAck: false });
    const late = segment({
      seq: PEER + 101,
      ack: OURS + 1,
      flags: FIN | ACK,
      payload: pattern(100, 100),
    });
    expectSent(deliver(conn, at(20), late), { flags: '.', ack: PEER + 1 });
    assert.equal(conn.state, TcpState.Established);
    assert.equal(conn.peerClosed, false);
    assert.equal(conn.stats().outOfOrderBytes, 100);
    const first = segment({ seq: PEER + 1, ack: OURS + 1, payload: pattern(100) });
    expectSent(deliver(conn, at(30), first), { flags: '.', ack: PEER + 202 });
    assert.equal(conn.state, TcpState.CloseWait);
    assert.deepEqual(read(conn), pattern(200));
    assert.deepEqual(eventTypes(conn), ['readable', 'peer-closed']);
  });

  test('a bare FIN after a gap waits for the bytes before it', () => {
    const conn = established({ delayedAck: false });
    expectSent(
      deliver(conn, at(20), segment({ seq: PEER + 51, ack: OURS + 1, flags: FIN | ACK })),
      {
        ack: PEER + 1,
      },
    );
    assert.equal(conn.state, TcpState.Established);
    expectSent(deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 1, payload: 50 })), {
      ack: PEER + 52,
    });
    assert.equal(conn.state, TcpState.CloseWait);
  });
});

suite('orphaned FIN-WAIT-2', () => {
  test('after close() the FIN-WAIT-2 wait is bounded by finTimeout, then RST (as Linux)', () => {
    const conn = established();
    conn.close(at(20));
    expectSent(drain(conn, at(20)), { flags: 'F.', seq: OURS + 1 });
    expectNothing(deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 2 })));
    assert.equal(conn.state, TcpState.FinWait2);
    assert.equal(conn.pollTimeout(), later(at(30), seconds(60)));
    conn.handleTimeout(conn.pollTimeout());
    expectSent(drain(conn, conn.pollTimeout() === NEVER ? at(60_030) : conn.pollTimeout()), {
      flags: 'R.',
      seq: OURS + 2,
      ack: PEER + 1,
    });
    assert.equal(conn.state, TcpState.Closed);
    assert.deepEqual(eventTypes(conn), ['closed:ok']);
  });

  test('close() in FIN-WAIT-2 arms the same bound; a FIN in time ends in TIME-WAIT', () => {
    const { conn } = inState(TcpState.FinWait2, { finTimeout: seconds(5) });
    assert.equal(conn.pollTimeout(), NEVER, 'a half-closed socket may wait forever');
    conn.close(at(40));
    assert.equal(conn.pollTimeout(), later(at(40), seconds(5)));
    deliver(conn, at(50), segment({ seq: PEER + 1, ack: OURS + 2, flags: FIN | ACK }));
    assert.equal(conn.state, TcpState.TimeWait);
    assert.equal(conn.pollTimeout(), later(at(50), seconds(60)));
  });
});

suite('ending with RST', () => {
  test('close() with unread data resets (RFC 2525 §2.17, as Linux)', () => {
    const conn = established();
    deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, payload: 10 }));
    events(conn);
    conn.close(at(30));
    expectSent(drain(conn, at(30)), { flags: 'R.', seq: OURS + 1, ack: PEER + 11 });
    assert.equal(conn.state, TcpState.Closed);
    assert.equal(conn.closeError, 'aborted');
    assert.deepEqual(eventTypes(conn), ['closed:aborted']);
    assert.equal(conn.pollTimeout(), NEVER);
  });

  test('data arriving after close() is answered with RST', () => {
    const conn = established();
    conn.close(at(20));
    expectSent(drain(conn, at(20)), { flags: 'F.', seq: OURS + 1 });
    const data = segment({ seq: PEER + 1, ack: OURS + 2, payload: 10 });
    expectSent(deliver(conn, at(30), data), { flags: 'R.', seq: OURS + 2, ack: PEER + 1 });
    assert.equal(conn.state, TcpState.Closed);
    assert.deepEqual(eventTypes(conn), ['closed:aborted']);
    assert.equal(conn.stats().drops[TcpDropReason.DataAfterClose], 1);
  });

  test('abort() sends <SEQ=SND.NXT><CTL=RST> and ends with aborted', () => {
    const conn = established();
    conn.write(pattern(100));
    drain(conn, at(20));
    conn.abort(at(30));
    expectSent(drain(conn, at(30)), { flags: 'R.', seq: OURS + 101, ack: PEER + 1, len: 0 });
    assert.deepEqual(eventTypes(conn), ['closed:aborted']);
    assert.equal(conn.pollTimeout(), NEVER);
    conn.abort(at(40));
    expectNothing(drain(conn, at(40)));
    assert.deepEqual(eventTypes(conn), [], 'a second abort is a no-op');
  });

  test('abort() in SYN-RECEIVED, FIN-WAIT-1/2 and CLOSE-WAIT sends RST (RFC 9293 §3.10.5)', () => {
    for (const state of [
      TcpState.SynReceived,
      TcpState.FinWait1,
      TcpState.FinWait2,
      TcpState.CloseWait,
    ]) {
      const f = inState(state);
      f.conn.abort(at(f.now + 1));
      expectSent(drain(f.conn, at(f.now + 1)), { flags: 'R.', seq: f.sndNxt, ack: f.rcvNxt });
      assert.equal(f.conn.state, TcpState.Closed);
    }
  });

  test('abort() in CLOSING, LAST-ACK and TIME-WAIT just closes (RFC 9293 §3.10.5, as Linux)', () => {
    for (const state of [TcpState.Closing, TcpState.LastAck, TcpState.TimeWait]) {
      const f = inState(state);
      f.conn.abort(at(f.now + 1));
      expectNothing(drain(f.conn, at(f.now + 1)));
      assert.equal(f.conn.state, TcpState.Closed, state);
      assert.equal(f.conn.pollTimeout(), NEVER);
    }
  });

  test('abort() in SYN-SENT or LISTEN sends nothing', () => {
    const client = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig() });
    drain(client, at(0));
    client.abort(at(1));
    expectNothing(drain(client, at(1)));
    assert.deepEqual(eventTypes(client), ['closed:aborted']);
    const listener = Connection.listen({ iss: seq(OURS), config: plainConfig() });
    listener.abort(at(1));
    expectNothing(drain(listener, at(1)));
    assert.equal(listener.state, TcpState.Closed);
  });
});

suite('calls in the wrong state', () => {
  test('write() in LISTEN, after an abort, and after shutdown() throw with stable codes', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof TcpApiError);
        assert.equal(e.name, 'TcpApiError');
        return e.code;
      }
      return 'no error';
    };
    const listener = Connection.listen({ iss: seq(OURS), config: plainConfig() });
    assert.equal(
      code(() => listener.write(pattern(1))),
      'not-connected',
    );
    const aborted = established();
    aborted.abort(at(20));
    assert.equal(
      code(() => aborted.write(pattern(1))),
      'closed',
    );
    assert.equal(aborted.writableBytes, 0);
    const { conn } = inState(TcpState.FinWait2);
    assert.equal(
      code(() => conn.write(pattern(1))),
      'write-after-shutdown',
    );
    assert.equal(
      code(() => conn.setPathMss(at(40), 10)),
      'bad-argument',
    );
  });

  test('shutdown() in SYN-SENT or LISTEN closes at once; repeated shutdown() is a no-op', () => {
    const client = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig() });
    client.shutdown(at(1));
    assert.equal(client.state, TcpState.Closed);
    assert.deepEqual(eventTypes(client), ['closed:ok']);
    const listener = Connection.listen({ iss: seq(OURS), config: plainConfig() });
    listener.shutdown(at(1));
    assert.equal(listener.state, TcpState.Closed);
    const { conn } = inState(TcpState.FinWait1);
    conn.shutdown(at(30));
    conn.close(at(30));
    expectNothing(drain(conn, at(30)));
    assert.equal(conn.state, TcpState.FinWait1);
  });

  test('data written in SYN-SENT waits for the handshake, then goes out', () => {
    const conn = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig() });
    assert.equal(conn.write(pattern(100)), 100);
    expectSent(drain(conn, at(0)), { flags: 'S', len: 0 });
    const synAck = segment({ seq: PEER, ack: OURS + 1, flags: SYN | ACK, options: { mss: 1460 } });
    const sent = deliver(conn, at(10), synAck);
    assert.equal(sent.length, 1, 'the data carries the ACK of the SYN,ACK');
    expectSent(sent, { flags: 'P.', seq: OURS + 1, ack: PEER + 1, len: 100 });
    assert.equal(conn.state, TcpState.Established);
    void ACK;
  });
});
