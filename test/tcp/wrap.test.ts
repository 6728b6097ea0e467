/**
 * Sequence numbers wrap at 2^32 (RFC 9293 §3.4) in the middle of transfers:
 * both ISSs just below the wrap, several segments across it in each
 * direction, with SACK, D-SACK, fast retransmit and FIN on the far side; and
 * a Pair run over a lossy link with both ISSs forced near the wrap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, randomBytes, seq } from '../../src/base/index.js';
import { TcpFlags } from '../../src/wire/index.js';
import { Connection, TcpState } from '../../src/tcp/index.js';
import {
  Pair,
  at,
  deliver,
  drain,
  establishedWith,
  expectNothing,
  expectSent,
  fireTimer,
  pattern,
  plainConfig,
  segment,
} from './harness.js';

/** Our ISS: 255 bytes of data before the wrap. */
const ISS = 0xffffff00;
/** The peer's ISS: 1023 bytes before the wrap. */
const PEER_ISS = 0xfffffc00;
const w = (n: number) => n >>> 0;
const { ACK, FIN } = TcpFlags;

function wrapped() {
  return establishedWith({
    iss: ISS,
    peerIss: PEER_ISS,
    config: { sack: true, delayedAck: false, mss: 1000 },
    peerOptions: { mss: 1000, sackPermitted: true },
  });
}

function read(conn: Connection): Uint8Array {
  const buf = new Uint8Array(conn.readableBytes);
  conn.read(buf);
  return buf;
}

test('sending across the wrap: segmentation, cumulative ACK, SACK and fast retransmit', () => {
  const conn = wrapped();
  conn.write(pattern(5000));
  const sent = drain(conn, at(20));
  assert.deepEqual(
    sent.map((s) => [s.seq, s.payload.length]),
    [0, 1, 2, 3, 4].map((k) => [w(ISS + 1 + 1000 * k), 1000]),
  );
  assert.ok(sent[1]!.seq < sent[0]!.seq, 'the second segment starts past 2^32');
  assert.deepEqual(sent[1]!.payload, pattern(1000, 1000));
  const una = w(ISS + 1 + 2000);
  const ack = (sack: boolean) =>
    segment({
      seq: PEER_ISS + 1,
      ack: una,
      options: sack
        ? { sackBlocks: [{ left: seq(ISS + 1 + 3000), right: seq(ISS + 1 + 5000) }] }
        : {},
    });
  expectNothing(deliver(conn, at(30), ack(false)));
  assert.equal(conn.stats().bytesAcked, 2000);
  // Duplicate ACKs SACKing the last two segments: RACK (RFC 8985) waits a
  // quarter of the minimum RTT (10 ms) past the SACKed segments' RTT for
  // reordering, then its timer resends the hole, nothing else.
  expectNothing(deliver(conn, at(31), ack(true)));
  expectNothing(deliver(conn, at(32), ack(true)));
  expectNothing(deliver(conn, at(33), ack(true)));
  const timer = fireTimer(conn);
  assert.equal(timer.at, at(20 + 11 + 2.5), 'sent at 20, RACK.rtt 11 ms, reo_wnd 2.5 ms');
  expectSent(timer.sent, { seq: una, len: 1000 });
  const s = conn.stats();
  assert.equal(s.fastRetransmits, 1);
  assert.equal(s.sackedBytes, 2000);
  assert.equal(s.caState, 'recovery');
  expectNothing(deliver(conn, at(40), segment({ seq: PEER_ISS + 1, ack: w(ISS + 1 + 5000) })));
  assert.equal(conn.stats().bytesAcked, 5000);
  assert.equal(conn.stats().bytesInFlight, 0);
  assert.equal(conn.stats().caState, 'open');
});

test('receiving across the wrap: out of order, SACK blocks, hole filled, D-SACK, FIN', () => {
  const conn = wrapped();
  const data = (k: number, flags: number = ACK) =>
    segment({
      seq: PEER_ISS + 1 + 1000 * k,
      ack: ISS + 1,
      flags,
      payload: pattern(1000, 1000 * k),
    });
  expectSent(deliver(conn, at(20), data(0)), { ack: w(PEER_ISS + 1001) });
  // Segment 2 lies past the wrap and past a hole.
  const dup = expectSent(deliver(conn, at(21), data(2)), { ack: w(PEER_ISS + 1001) });
  assert.deepEqual(dup.options.sackBlocks, [
    { left: seq(PEER_ISS + 2001), right: seq(PEER_ISS + 3001) },
  ]);
  assert.ok(dup.options.sackBlocks[0]!.left < dup.ack, 'the block is numerically below the ACK');
  // Filling the hole is acknowledged at once, up to the end of segment 2.
  const filled = expectSent(deliver(conn, at(22), data(1)), { ack: w(PEER_ISS + 3001) });
  assert.deepEqual(filled.options.sackBlocks, []);
  // A duplicate of segment 0: D-SACK (RFC 2883) across the wrap.
  const dsack = expectSent(deliver(conn, at(23), data(0)), { ack: w(PEER_ISS + 3001) });
  assert.deepEqual(dsack.options.sackBlocks, [
    { left: seq(PEER_ISS + 1), right: seq(PEER_ISS + 1001) },
  ]);
  expectSent(deliver(conn, at(24), data(3, ACK | FIN)), { ack: w(PEER_ISS + 4002) });
  assert.equal(conn.state, TcpState.CloseWait);
  assert.deepEqual(read(conn), pattern(4000));
});

test('the first window does not depend on where the peer ISS lies (right edge set from the SYN)', () => {
  // The window our SYN offers is relative to the peer's ISS+1, which is only
  // known when the SYN,ACK arrives; an ISS near the wrap must not enlarge it.
  const windows: number[] = [];
  for (const peerIss of [5000, 0xfffff000, 0x7fffffff, 0x80000400]) {
    const conn = Connection.connect(at(0), {
      iss: seq(ISS),
      config: plainConfig({ receiveBufferSize: 4000 }),
    });
    const syn = expectSent(drain(conn, at(0)), { flags: 'S' });
    assert.equal(syn.window, 2920, 'two MSS of the 4000-byte buffer');
    const synAck = segment({
      seq: peerIss,
      ack: ISS + 1,
      flags: TcpFlags.SYN | ACK,
      options: { mss: 1460 },
    });
    windows.push(expectSent(deliver(conn, at(10), synAck), { flags: '.' }).window);
  }
  assert.deepEqual(windows, [2920, 2920, 2920, 2920]);
});

test('a Pair with both ISSs just below 2^32 moves 1 MB each way through loss and reordering', () => {
  const bytes = (s: number) => randomBytes(new SeededRng(s), new Uint8Array(1 << 20));
  const pair = new Pair({
    seed: 11,
    clientData: bytes(1),
    serverData: bytes(2),
    clientIss: 0xffffffff - 3000,
    serverIss: 0xffffffff - 70_000,
    impairment: { loss: 0.02, duplicate: 0.01, reorder: 0.05, delayMs: 5, reorderMs: 10 },
  });
  assert.equal(pair.client.conn.initialSendSequence, 0xffffffff - 3000);
  pair.run();
  assert.deepEqual(pair.server.receivedData(), pair.client.toSend);
  assert.deepEqual(pair.client.receivedData(), pair.server.toSend);
  for (const side of [pair.client, pair.server]) {
    assert.ok(side.conn.state === TcpState.Closed || side.conn.state === TcpState.TimeWait);
    assert.ok(side.sawPeerClosed);
    assert.ok(side.conn.stats().bytesRetransmitted > 0, 'loss was repaired across the wrap');
  }
  assert.equal(pair.server.conn.initialSendSequence, 0xffffffff - 70_000);
});
