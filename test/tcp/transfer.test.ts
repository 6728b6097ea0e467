/**
 * Moving data, with a scripted peer: segment sizes, Nagle, delayed and quick
 * ACKs, window scaling, receiver SWS avoidance and the right edge, SACK and
 * D-SACK generation, timestamps and PAWS, urgent data, path MSS changes.
 */
import { describe as suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { seq } from '../../src/base/index.js';
import { TcpFlags, type TcpRepr } from '../../src/wire/index.js';
import { Connection, TcpDropReason, TcpState, tcpConfig } from '../../src/tcp/index.js';
import {
  CLIENT_ISS,
  SERVER_ISS,
  accepted,
  at,
  deliver,
  drain,
  established,
  establishedWith,
  eventTypes,
  events,
  expectNothing,
  expectSent,
  pattern,
  segment,
} from './harness.js';

const OURS = CLIENT_ISS;
const PEER = SERVER_ISS;
const { ACK, FIN, URG } = TcpFlags;

const sizes = (sent: TcpRepr[]) => sent.map((s) => s.payload.length);
const rel = (sent: TcpRepr[]) => sent.map((s) => s.seq - OURS);

function read(conn: Connection, n = conn.readableBytes): Uint8Array {
  const buf = new Uint8Array(n);
  assert.equal(conn.read(buf), n);
  return buf;
}

/** A data segment from the peer at relative offset `off` (0 = first byte). */
function data(off: number, len: number, extra: Partial<Parameters<typeof segment>[0]> = {}) {
  return segment({ seq: PEER + 1 + off, ack: OURS + 1, payload: pattern(len, off), ...extra });
}

suite('segmentation to the effective MSS', () => {
  test('the peer MSS bounds our segments', () => {
    const conn = establishedWith({ config: { noDelay: true }, peerOptions: { mss: 1000 } });
    conn.write(pattern(3500));
    const sent = drain(conn, at(20));
    assert.deepEqual(sizes(sent), [1000, 1000, 1000, 500]);
    assert.deepEqual(rel(sent), [1, 1001, 2001, 3001]);
    assert.deepEqual(sent[2]!.payload, pattern(1000, 2000));
    assert.equal(conn.mss, 1000);
  });

  test('no MSS option: 536 (RFC 9293 §3.7.1)', () => {
    const conn = establishedWith({ config: { noDelay: true }, peerOptions: {} });
    conn.write(pattern(1200));
    assert.deepEqual(sizes(drain(conn, at(20))), [536, 536, 128]);
    const { conn: server } = accepted({ peerOptions: {} });
    assert.equal(server.mss, 536);
  });

  test('timestamps take 12 bytes of every segment (RFC 7323 §3.2, as Linux)', () => {
    const conn = establishedWith({
      config: { timestamps: true, noDelay: true },
      peerOptions: { mss: 1460, timestamp: { value: 1, echo: 0 } },
    });
    assert.equal(conn.mss, 1448);
    conn.write(pattern(3000));
    assert.deepEqual(sizes(drain(conn, at(20))), [1448, 1448, 104]);
    // The peer's full-sized segment as we will see it: its MSS less the timestamp option.
    assert.equal(conn.stats().receiveMss, 1448);
  });

  test('our own MSS bounds what we send too, and is what our SYN offers', () => {
    const conn = establishedWith({
      config: { mss: 1000, noDelay: true },
      peerOptions: { mss: 1460 },
    });
    assert.equal(conn.mss, 1000);
    conn.write(pattern(2500));
    assert.deepEqual(sizes(drain(conn, at(20))), [1000, 1000, 500]);
    const syn = drain(
      Connection.connect(at(0), { iss: seq(1), config: tcpConfig({ mss: 1200 }) }),
      at(0),
    );
    assert.equal(syn[0]!.options.mss, 1200);
  });

  test('a lower path MSS resends what is in flight at the new size (RFC 1191 §6.5)', () => {
    const conn = established({ noDelay: true });
    conn.write(pattern(2920));
    assert.deepEqual(sizes(drain(conn, at(20))), [1460, 1460]);
    conn.setPathMss(at(30), 1000);
    assert.equal(conn.mss, 1000);
    // Everything in flight goes again, cut to the new size; not a congestion signal.
    const resent = drain(conn, at(30));
    assert.deepEqual(sizes(resent), [1000, 1000, 920]);
    assert.deepEqual(rel(resent), [1, 1001, 2001]);
    assert.deepEqual(resent[1]!.payload, pattern(1000, 1000));
    assert.equal(conn.stats().segmentsRetransmitted, 3);
    assert.equal(conn.stats().ssthresh, 2147483647);
    // A larger path MSS lifts it again, up to the MSS the peer announced.
    conn.setPathMss(at(31), 9000);
    assert.equal(conn.mss, 1460);
  });
});

suite("Nagle's algorithm (RFC 896, RFC 1122 §4.2.3.4)", () => {
  test('a small write goes at once when nothing is in flight; the next waits for the ACK', () => {
    const conn = established();
    conn.write(pattern(100));
    expectSent(drain(conn, at(20)), { flags: 'P.', seq: OURS + 1, len: 100 });
    conn.write(pattern(100, 100));
    expectNothing(drain(conn, at(21)));
    conn.write(pattern(100, 200));
    expectNothing(drain(conn, at(22)));
    // The ACK releases both writes as one segment.
    const sent = deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 101 }));
    const seg = expectSent(sent, { flags: 'P.', seq: OURS + 101, len: 200 });
    assert.deepEqual(seg.payload, pattern(200, 100));
  });

  test('a full-sized segment is never held', () => {
    const conn = established();
    conn.write(pattern(100));
    drain(conn, at(20));
    conn.write(pattern(1500, 100));
    expectSent(drain(conn, at(21)), { seq: OURS + 101, len: 1460 });
  });

  test('with noDelay (or setNoDelay) small writes go at once', () => {
    const conn = established({ noDelay: true });
    conn.write(pattern(100));
    conn.write(pattern(50));
    expectSent(drain(conn, at(20)), { len: 150 });
    conn.write(pattern(10));
    expectSent(drain(conn, at(21)), { seq: OURS + 151, len: 10 });
    conn.setNoDelay(false);
    conn.write(pattern(10));
    expectNothing(drain(conn, at(22)));
    conn.setNoDelay(true);
    expectSent(drain(conn, at(23)), { seq: OURS + 161, len: 10 });
  });

  test('sender SWS: a segment of at least half the largest window goes even with data in flight', () => {
    const conn = established({}, 1000);
    conn.write(pattern(400));
    expectSent(drain(conn, at(20)), { len: 400 });
    conn.write(pattern(600));
    expectSent(drain(conn, at(21)), { seq: OURS + 401, len: 600 });
  });
});

suite('delayed ACK (RFC 1122 §4.2.3.2, RFC 5681 §4.2)', () => {
  const delayed = () => established({ delayedAck: true });

  test('one segment is acknowledged after 40 ms', () => {
    const conn = delayed();
    expectNothing(deliver(conn, at(20), data(0, 1460)));
    assert.equal(conn.pollTimeout(), at(60));
    conn.handleTimeout(at(59));
    expectNothing(drain(conn, at(59)));
    conn.handleTimeout(at(60));
    expectSent(drain(conn, at(60)), { flags: '.', ack: PEER + 1461 });
  });

  test('the second full-sized segment is acknowledged at once', () => {
    const conn = delayed();
    expectNothing(deliver(conn, at(20), data(0, 1460)));
    expectSent(deliver(conn, at(21), data(1460, 1460)), { ack: PEER + 2921 });
    assert.equal(conn.pollTimeout() > at(1000), true, 'no delayed-ACK timer left');
  });

  test('out-of-order data is acknowledged at once, and so is data that fills the hole', () => {
    const conn = delayed();
    expectSent(deliver(conn, at(20), data(1460, 1460)), { ack: PEER + 1 });
    expectSent(deliver(conn, at(21), data(0, 1460)), { ack: PEER + 2921 });
  });

  test('outgoing data carries the pending ACK', () => {
    const conn = delayed();
    expectNothing(deliver(conn, at(20), data(0, 100)));
    conn.write(pattern(10));
    expectSent(drain(conn, at(25)), { len: 10, ack: PEER + 101 });
    assert.ok(conn.pollTimeout() > at(60), 'the delayed ACK is no longer due');
  });

  test('quick ACKs at the start: the first initialQuickAcks segments are acknowledged at once', () => {
    const conn = established({ delayedAck: true, initialQuickAcks: 2 });
    expectSent(deliver(conn, at(20), data(0, 100)), { ack: PEER + 101 });
    expectSent(deliver(conn, at(21), data(100, 100)), { ack: PEER + 201 });
    expectNothing(deliver(conn, at(22), data(200, 100)));
  });

  test('delayedAck off: every segment is acknowledged at once', () => {
    const conn = established({ delayedAck: false });
    expectSent(deliver(conn, at(20), data(0, 10)), { ack: PEER + 11 });
  });
});

suite('window scaling (RFC 7323 §2)', () => {
  test('both sides offer it: their windows are shifted by the shift each announced', () => {
    const conn = establishedWith({
      config: { windowScaling: true },
      peerOptions: { mss: 1460, windowScale: 8 },
      peerWindow: 1000,
    });
    const s = conn.stats();
    assert.equal(s.sendWindowScale, 8);
    assert.equal(s.receiveWindowScale, 10);
    assert.equal(s.sendWindow, 1000, 'the window in a SYN,ACK is never scaled');
    deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, window: 100 }));
    assert.equal(conn.stats().sendWindow, 25_600);
    // 1 MiB of free buffer in units of 1024.
    conn.write(pattern(10));
    expectSent(drain(conn, at(21)), { len: 10, window: 1024 });
  });

  test('only we offer it: no scaling either way, the field at most 65535', () => {
    const conn = establishedWith({ config: { windowScaling: true }, peerOptions: { mss: 1460 } });
    assert.equal(conn.stats().sendWindowScale, 0);
    assert.equal(conn.stats().receiveWindowScale, 0);
    assert.equal(conn.stats().receiveWindow, 65535);
    conn.write(pattern(10));
    // The SYN offered 64240; growing to 65535 would move the edge by less than an MSS.
    expectSent(drain(conn, at(20)), { window: 64240 });
  });

  test('only the peer offers it: our SYN,ACK does not answer with a shift, nothing is scaled', () => {
    const { conn, synAck } = accepted({
      config: { windowScaling: false },
      peerOptions: { mss: 1460, windowScale: 7 },
    });
    assert.equal(synAck.options.windowScale, -1);
    deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, window: 100 }));
    assert.equal(conn.stats().sendWindow, 100);
  });

  test('a shift above 14 is taken as 14 (RFC 7323 §2.3)', () => {
    const conn = establishedWith({
      config: { windowScaling: true },
      peerOptions: { mss: 1460, windowScale: 15 },
    });
    assert.equal(conn.stats().sendWindowScale, 14);
  });

  test('a buffer of one scale unit still advertises a non-zero window', () => {
    const conn = establishedWith({
      config: { windowScaling: true, receiveBufferSize: 1024, mss: 1000, delayedAck: false },
      peerOptions: { mss: 1000, windowScale: 7 },
    });
    conn.write(pattern(10));
    expectSent(drain(conn, at(20)), { len: 10, window: 1 });
    // The peer may fill the 1024 bytes.
    expectSent(deliver(conn, at(30), data(0, 1024, { ack: OURS + 11 })), {
      ack: PEER + 1025,
      window: 0,
    });
    assert.equal(conn.readableBytes, 1024);
  });
});

suite(
  'receive window: SWS avoidance and the right edge (RFC 1122 §4.2.3.3, RFC 9293 §3.8.6.2.2)',
  () => {
    const small = () => established({ receiveBufferSize: 2920, delayedAck: false });

    test('the right edge never moves left, and never creeps right by less than an MSS', () => {
      const conn = small();
      const edges: number[] = [];
      const ackOf = (sent: TcpRepr[]) => {
        const s = expectSent(sent, { flags: '.' });
        edges.push(s.ack + s.window);
        return s;
      };
      ackOf(deliver(conn, at(20), data(0, 500)));
      read(conn, 200); // 200 bytes freed: too little to move the edge
      ackOf(deliver(conn, at(21), data(500, 1000)));
      read(conn, 300);
      ackOf(deliver(conn, at(22), data(1500, 900)));
      assert.deepEqual(edges, [PEER + 1 + 2920, PEER + 1 + 2920, PEER + 1 + 2920]);
    });

    test('no window update for a small read; one once an MSS of space has opened', () => {
      const conn = small();
      expectSent(deliver(conn, at(20), data(0, 1460)), { window: 1460 });
      expectSent(deliver(conn, at(21), data(1460, 1460)), { window: 0 });
      read(conn, 500);
      expectNothing(drain(conn, at(30)));
      read(conn, 1000);
      expectSent(drain(conn, at(31)), { flags: '.', ack: PEER + 2921, window: 1500 });
      // The rest is read; the window could grow by 1420 bytes, less than an MSS: no update.
      read(conn);
      expectNothing(drain(conn, at(32)));
    });

    test('data beyond the advertised window is not accepted', () => {
      const conn = small();
      expectSent(deliver(conn, at(20), data(0, 2000)), { window: 920 });
      expectSent(deliver(conn, at(21), data(2000, 1000)), { ack: PEER + 2921, window: 0 });
      assert.equal(conn.readableBytes, 2920);
      assert.equal(conn.stats().drops[TcpDropReason.NoBufferSpace], 1);
    });
  },
);

suite('SACK generation (RFC 2018 §4)', () => {
  const sacking = (timestamps: boolean) =>
    establishedWith({
      config: { sack: true, timestamps, delayedAck: false },
      peerOptions: {
        mss: 1460,
        sackPermitted: true,
        timestamp: timestamps ? { value: 100, echo: 0 } : null,
      },
    });
  const blocks = (s: TcpRepr) =>
    s.options.sackBlocks.map((b) => [b.left - PEER - 1, b.right - PEER - 1]);

  test('most recent block first; up to 4 blocks without timestamps', () => {
    const conn = sacking(false);
    let last: TcpRepr | null = null;
    for (const off of [200, 400, 600, 800, 1000])
      last = expectSent(deliver(conn, at(20), data(off, 100)), { ack: PEER + 1 });
    assert.deepEqual(blocks(last!), [
      [1000, 1100],
      [800, 900],
      [600, 700],
      [400, 500],
    ]);
    // A segment joining two blocks: the merged block leads.
    const joined = expectSent(deliver(conn, at(21), data(500, 100)), { ack: PEER + 1 });
    assert.deepEqual(blocks(joined)[0], [400, 700]);
    assert.equal(conn.stats().outOfOrderBytes, 600);
    assert.equal(conn.stats().outOfOrderSegments, 6);
  });

  test('up to 3 blocks with timestamps (option space)', () => {
    const conn = sacking(true);
    let last: TcpRepr | null = null;
    for (const off of [200, 400, 600, 800]) {
      last = expectSent(
        deliver(conn, at(20), data(off, 100, { options: { timestamp: { value: 101, echo: 10 } } })),
        {
          ack: PEER + 1,
        },
      );
    }
    assert.deepEqual(blocks(last!), [
      [800, 900],
      [600, 700],
      [400, 500],
    ]);
  });

  test('blocks below the cumulative ACK disappear once the hole is filled', () => {
    const conn = sacking(false);
    deliver(conn, at(20), data(100, 100));
    deliver(conn, at(20), data(300, 100));
    const ack = expectSent(deliver(conn, at(21), data(0, 100)), { ack: PEER + 201 });
    assert.deepEqual(blocks(ack), [[300, 400]]);
  });

  test('D-SACK reports a duplicate once, first, ahead of the SACK blocks (RFC 2883 §4)', () => {
    const conn = sacking(false);
    deliver(conn, at(20), data(0, 100));
    deliver(conn, at(20), data(300, 100));
    const dup = expectSent(deliver(conn, at(21), data(0, 100)), { ack: PEER + 101 });
    assert.deepEqual(blocks(dup), [
      [0, 100],
      [300, 400],
    ]);
    const next = expectSent(deliver(conn, at(22), data(500, 100)), { ack: PEER + 101 });
    assert.deepEqual(blocks(next), [
      [500, 600],
      [300, 400],
    ]);
    // A segment that is partly old: only the old part is reported.
    const partial = expectSent(deliver(conn, at(23), data(50, 100)), { ack: PEER + 151 });
    assert.deepEqual(blocks(partial)[0], [50, 100]);
  });

  test('D-SACK for a duplicate that arrives after the FIN covers exactly the duplicate', () => {
    const conn = sacking(false);
    deliver(conn, at(20), data(0, 100));
    deliver(conn, at(21), data(100, 100, { flags: ACK | FIN }));
    assert.equal(conn.state, TcpState.CloseWait);
    const dup = expectSent(deliver(conn, at(22), data(0, 100)), { ack: PEER + 202 });
    assert.deepEqual(blocks(dup), [[0, 100]]);
  });

  test('no D-SACK when dsack is off', () => {
    const conn = establishedWith({
      config: { sack: true, dsack: false, delayedAck: false },
      peerOptions: { mss: 1460, sackPermitted: true },
    });
    deliver(conn, at(20), data(0, 100));
    const dup = expectSent(deliver(conn, at(21), data(0, 100)), { ack: PEER + 101 });
    assert.deepEqual(dup.options.sackBlocks, []);
  });

  test('no SACK blocks unless the peer sent SACK-permitted', () => {
    const conn = establishedWith({
      config: { sack: true, delayedAck: false },
      peerOptions: { mss: 1460 },
    });
    const ack = expectSent(deliver(conn, at(20), data(100, 100)), { ack: PEER + 1 });
    assert.deepEqual(ack.options.sackBlocks, []);
    assert.equal(conn.stats().sackPermitted, false);
  });
});

suite('timestamps (RFC 7323 §3-§5)', () => {
  const stamped = () =>
    establishedWith({
      config: { timestamps: true, delayedAck: false },
      peerOptions: { mss: 1460, timestamp: { value: 500, echo: 0 } },
    });
  const ts = (value: number, echo = 0) => ({ options: { timestamp: { value, echo } } });

  test('every segment carries our TSval (1 ms clock) and echoes TS.Recent', () => {
    const conn = stamped();
    const ack = expectSent(deliver(conn, at(20), data(0, 10, ts(510, 10))), { ack: PEER + 11 });
    assert.deepEqual(ack.options.timestamp, { value: 20, echo: 510 });
    conn.write(pattern(5));
    const seg = expectSent(drain(conn, at(33.7)), { len: 5 });
    assert.deepEqual(seg.options.timestamp, { value: 33, echo: 510 });
    assert.equal(conn.stats().timestamps, true);
  });

  test('the timestamp clock starts at the configured offset and wraps', () => {
    const conn = Connection.connect(at(5), {
      iss: seq(OURS),
      config: tcpConfig({ timestamps: true }),
      timestampOffset: 0xfffffff0,
    });
    const syn = expectSent(drain(conn, at(5)), { flags: 'S' });
    assert.equal(syn.options.timestamp!.value, 0xfffffff5);
    const later20 = Connection.connect(at(20), {
      iss: seq(OURS),
      config: tcpConfig({ timestamps: true }),
      timestampOffset: 0xfffffff0,
    });
    assert.equal(expectSent(drain(later20, at(20)), { flags: 'S' }).options.timestamp!.value, 4);
  });

  test('an RTT sample comes from TSecr (RFC 7323 §4)', () => {
    const conn = stamped();
    const before = conn.stats().srtt;
    conn.write(pattern(100));
    const seg = expectSent(drain(conn, at(100)), { len: 100 });
    assert.equal(seg.options.timestamp!.value, 100);
    // The ACK comes at 170 ms but echoes 100: a 70 ms sample, whatever else happened.
    deliver(conn, at(170), segment({ seq: PEER + 1, ack: OURS + 101, ...ts(520, 100) }));
    // SRTT <- 7/8 SRTT + 1/8 R (RFC 6298 (2.3)).
    assert.equal(conn.stats().srtt, Math.round((7 / 8) * before + (1 / 8) * 70_000));
    assert.equal(conn.stats().minRtt, 10_000);
  });

  test('PAWS: an older TSval is dropped and answered with an ACK (RFC 7323 §5.3)', () => {
    const conn = stamped();
    deliver(conn, at(20), data(0, 10, ts(510)));
    const ack = expectSent(deliver(conn, at(21), data(10, 10, ts(505))), {
      flags: '.',
      ack: PEER + 11,
    });
    assert.equal(ack.options.timestamp!.echo, 510);
    assert.equal(conn.readableBytes, 10);
    assert.equal(conn.stats().drops[TcpDropReason.Paws], 1);
  });

  test('PAWS compares TSvals modulo 2^32: a clock that wrapped is newer, not older', () => {
    const conn = establishedWith({
      config: { timestamps: true, delayedAck: false },
      peerOptions: { mss: 1460, timestamp: { value: 0xfffffff0, echo: 0 } },
    });
    deliver(conn, at(20), data(0, 10, ts(0xfffffffa)));
    deliver(conn, at(21), data(10, 10, ts(5)));
    assert.equal(conn.readableBytes, 20);
    expectSent(deliver(conn, at(22), data(20, 10, ts(0xfffffffb))), { ack: PEER + 21 });
    assert.equal(conn.readableBytes, 20, '0xfffffffb is older than 5');
    assert.equal(conn.stats().drops[TcpDropReason.Paws], 1);
  });

  test('PAWS: after 24 days of idleness TS.Recent is no longer trusted (RFC 7323 §5.5)', () => {
    const conn = stamped();
    deliver(conn, at(20), data(0, 10, ts(510)));
    const days25 = 25 * 24 * 3600 * 1000;
    expectSent(deliver(conn, at(days25), data(10, 10, ts(100))), { ack: PEER + 21 });
    assert.equal(conn.readableBytes, 20);
  });

  test('TS.Recent only follows segments at the left edge (RFC 7323 §4.3)', () => {
    const conn = stamped();
    // An out-of-order segment with a high TSval does not move TS.Recent.
    const ooo = expectSent(deliver(conn, at(20), data(100, 10, ts(900))), { ack: PEER + 1 });
    assert.equal(ooo.options.timestamp!.echo, 500);
    const inOrder = expectSent(deliver(conn, at(21), data(0, 100, ts(600))), { ack: PEER + 111 });
    assert.equal(inOrder.options.timestamp!.echo, 600);
  });
});

suite('urgent data (RFC 6093: delivered inline)', () => {
  test('a segment with URG is delivered in order with the rest of the stream', () => {
    const conn = established({ delayedAck: false });
    deliver(conn, at(20), data(0, 10));
    const urg = segment({
      seq: PEER + 11,
      ack: OURS + 1,
      flags: ACK | URG,
      urgent: 5,
      payload: pattern(10, 10),
    });
    expectSent(deliver(conn, at(21), urg), { ack: PEER + 21 });
    assert.deepEqual(read(conn), pattern(20));
    assert.deepEqual(eventTypes(conn), ['readable']);
  });
});

suite('reading', () => {
  test('peek does not consume; read does; the buffer memory is released when empty', () => {
    const conn = established({ delayedAck: false });
    deliver(conn, at(20), data(0, 100));
    const peeked = new Uint8Array(40);
    assert.equal(conn.peek(peeked), 40);
    assert.deepEqual(peeked, pattern(40));
    assert.equal(conn.readableBytes, 100);
    assert.ok(conn.bufferBytes > 0);
    assert.deepEqual(read(conn), pattern(100));
    assert.equal(conn.bufferBytes, 0);
  });

  test('a readable event comes once until the application reads', () => {
    const conn = established({ delayedAck: false });
    deliver(conn, at(20), data(0, 10));
    deliver(conn, at(21), data(10, 10));
    assert.deepEqual(eventTypes(conn), ['readable']);
    read(conn, 5);
    deliver(conn, at(22), data(20, 10));
    assert.deepEqual(eventTypes(conn), ['readable']);
  });

  test('a full send buffer takes what fits and says writable when the ACK frees space', () => {
    const conn = established({ sendBufferSize: 3000, noDelay: true });
    assert.equal(conn.writableBytes, 3000);
    assert.equal(conn.write(pattern(5000)), 3000);
    assert.equal(conn.writableBytes, 0);
    drain(conn, at(20));
    events(conn);
    deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 1461 }));
    assert.deepEqual(eventTypes(conn), ['writable']);
    assert.equal(conn.writableBytes, 1460);
    assert.equal(conn.sendBuffered, 1540);
  });
});
