/**
 * RFC 9293 §3.10.7 "SEGMENT ARRIVES", state by state, with a scripted peer.
 * Our ISS is 1000 and the peer's 5000 throughout (harness CLIENT_ISS and
 * SERVER_ISS), so every expected number can be read off the script.
 */
import { describe as suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, seq } from '../../src/base/index.js';
import { TcpFlags } from '../../src/wire/index.js';
import { Connection, TcpDropReason, TcpState, resetFor, tcpConfig } from '../../src/tcp/index.js';
import {
  CLIENT_ISS,
  CLIENT_PORT,
  SERVER_ISS,
  SERVER_PORT,
  at,
  deliver,
  drain,
  established,
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
const { SYN, ACK, FIN, RST } = TcpFlags;

function drops(conn: Connection, reason: TcpDropReason): number {
  return conn.stats().drops[reason] ?? 0;
}

function read(conn: Connection): Uint8Array {
  const buf = new Uint8Array(conn.readableBytes);
  assert.equal(conn.read(buf), buf.length);
  return buf;
}

suite('CLOSED (§3.10.7.1)', () => {
  function closed(): Connection {
    const conn = established();
    conn.abort(at(20));
    drain(conn, at(20));
    events(conn);
    assert.equal(conn.state, TcpState.Closed);
    return conn;
  }

  test('a segment with ACK is answered <SEQ=SEG.ACK><CTL=RST>', () => {
    const conn = closed();
    const rst = expectSent(deliver(conn, at(30), segment({ seq: 7000, ack: 3000, payload: 10 })), {
      flags: 'R',
      seq: 3000,
      ack: 0,
      len: 0,
    });
    assert.equal(rst.window, 0);
    assert.equal(drops(conn, TcpDropReason.BadState), 1);
  });

  test('a segment without ACK is answered <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>', () => {
    const conn = closed();
    expectSent(deliver(conn, at(30), segment({ seq: 7000, flags: SYN })), {
      flags: 'R.',
      seq: 0,
      ack: 7001,
    });
    // SEG.LEN counts the payload, the SYN and the FIN.
    expectSent(deliver(conn, at(31), segment({ seq: 7000, flags: SYN | FIN, payload: 10 })), {
      flags: 'R.',
      seq: 0,
      ack: 7012,
    });
  });

  test('a RST is never answered', () => {
    const conn = closed();
    expectNothing(deliver(conn, at(30), segment({ seq: 7000, flags: RST })));
    expectNothing(deliver(conn, at(30), segment({ seq: 7000, ack: 1, flags: RST | ACK })));
    assert.equal(drops(conn, TcpDropReason.BadState), 2);
    assert.equal(conn.state, TcpState.Closed);
    assert.equal(conn.pollTimeout(), NEVER);
  });

  test('resetFor swaps the ports of the segment it answers', () => {
    const rst = resetFor(segment({ seq: 1, ack: 2 }));
    assert.equal(rst.srcPort, CLIENT_PORT);
    assert.equal(rst.dstPort, SERVER_PORT);
  });
});

suite('LISTEN (§3.10.7.2)', () => {
  const listener = (config = plainConfig()) => Connection.listen({ iss: seq(OURS), config });

  test('first: a RST is ignored', () => {
    const conn = listener();
    expectNothing(deliver(conn, at(0), segment({ seq: PEER, flags: RST })));
    assert.equal(conn.state, TcpState.Listen);
    assert.equal(drops(conn, TcpDropReason.BadState), 1);
  });

  test('second: an ACK is answered <SEQ=SEG.ACK><CTL=RST>, even on a SYN', () => {
    const conn = listener();
    expectSent(deliver(conn, at(0), segment({ seq: PEER, ack: 4242 })), { flags: 'R', seq: 4242 });
    expectSent(deliver(conn, at(0), segment({ seq: PEER, ack: 4343, flags: SYN | ACK })), {
      flags: 'R',
      seq: 4343,
    });
    assert.equal(conn.state, TcpState.Listen);
  });

  test('third: a SYN moves to SYN-RECEIVED and is answered SYN,ACK <SEQ=ISS><ACK=SEG.SEQ+1>', () => {
    const conn = listener();
    const synAck = expectSent(
      deliver(conn, at(0), segment({ seq: PEER, flags: SYN, options: { mss: 1200 } })),
      { flags: 'S.', seq: OURS, ack: PEER + 1, len: 0 },
    );
    // Linux offers the largest multiple of the MSS that fits in 16 bits.
    assert.equal(synAck.window, 64240);
    assert.equal(synAck.options.mss, 1460);
    // Options the peer did not offer are not echoed.
    assert.equal(synAck.options.windowScale, -1);
    assert.equal(synAck.options.sackPermitted, false);
    assert.equal(synAck.options.timestamp, null);
    assert.equal(conn.state, TcpState.SynReceived);
    assert.equal(conn.initialReceiveSequence, PEER);
    assert.equal(conn.mss, 1200);
    assert.deepEqual(
      conn.transitions.map((t) => `${t.from}>${t.to} (${t.cause})`),
      ['CLOSED>LISTEN (call listen)', 'LISTEN>SYN-RECEIVED (rcv SYN)'],
    );
  });

  test('third: the SYN,ACK echoes exactly the options the SYN offered', () => {
    const conn = listener(tcpConfig());
    const synAck = expectSent(
      deliver(
        conn,
        at(0),
        segment({
          seq: PEER,
          flags: SYN,
          options: {
            mss: 1460,
            windowScale: 3,
            sackPermitted: true,
            timestamp: { value: 77, echo: 0 },
          },
        }),
      ),
      { flags: 'S.' },
    );
    assert.equal(synAck.options.windowScale, 10);
    assert.equal(synAck.options.sackPermitted, true);
    assert.deepEqual(synAck.options.timestamp, { value: 0, echo: 77 });
  });

  test('fourth: anything else (data, FIN, no control) is dropped in silence', () => {
    const conn = listener();
    expectNothing(deliver(conn, at(0), segment({ seq: PEER, payload: 10 })));
    expectNothing(deliver(conn, at(0), segment({ seq: PEER, flags: FIN })));
    assert.equal(conn.state, TcpState.Listen);
    assert.equal(drops(conn, TcpDropReason.BadState), 2);
  });

  test('data on a SYN is not acknowledged by the SYN,ACK and never reaches the application', () => {
    // RFC 9293 lets the data wait until ESTABLISHED; like Linux without TFO we do
    // not keep it, so the SYN,ACK acknowledges the SYN only and the peer resends.
    const conn = listener();
    expectSent(deliver(conn, at(0), segment({ seq: PEER, flags: SYN, payload: 5 })), {
      flags: 'S.',
      ack: PEER + 1,
    });
    assert.equal(conn.readableBytes, 0);
    expectNothing(deliver(conn, at(10), segment({ seq: PEER + 1, ack: OURS + 1 })));
    assert.equal(conn.state, TcpState.Established);
    assert.equal(conn.readableBytes, 0);
    // The peer's retransmission of the five bytes is delivered once.
    deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, payload: pattern(5) }));
    assert.deepEqual(read(conn), pattern(5));
    assert.deepEqual(eventTypes(conn), ['connected', 'readable']);
  });
});

suite('SYN-SENT (§3.10.7.3)', () => {
  function synSent(config = plainConfig()): Connection {
    const conn = Connection.connect(at(0), { iss: seq(OURS), config });
    expectSent(drain(conn, at(0)), { flags: 'S', seq: OURS, ack: 0 });
    events(conn);
    return conn;
  }

  test('the SYN offers every option the configuration enables', () => {
    const conn = Connection.connect(at(0), { iss: seq(OURS), config: tcpConfig() });
    const syn = expectSent(drain(conn, at(0)), { flags: 'S', seq: OURS, len: 0, window: 64240 });
    assert.equal(syn.options.mss, 1460);
    // 32 MiB of receive buffer needs shift 10 (65535 << 9 is short of it).
    assert.equal(syn.options.windowScale, 10);
    assert.equal(syn.options.sackPermitted, true);
    assert.deepEqual(syn.options.timestamp, { value: 0, echo: 0 });
  });

  test('first: an unacceptable ACK (SEG.ACK =< ISS or > SND.NXT) is answered <SEQ=SEG.ACK><CTL=RST>', () => {
    const conn = synSent();
    const synAck = (ack: number) => segment({ seq: PEER, ack, flags: SYN | ACK });
    expectSent(deliver(conn, at(5), synAck(OURS)), { flags: 'R', seq: OURS });
    expectSent(deliver(conn, at(5), synAck(OURS + 2)), { flags: 'R', seq: OURS + 2 });
    expectSent(deliver(conn, at(5), synAck(OURS - 100_000)), { flags: 'R', seq: OURS - 100_000 });
    assert.equal(conn.state, TcpState.SynSent);
    assert.equal(drops(conn, TcpDropReason.BadAck), 3);
  });

  test('first: an unacceptable ACK on a RST is dropped without an answer', () => {
    const conn = synSent();
    expectNothing(deliver(conn, at(5), segment({ seq: 0, ack: OURS + 7, flags: RST | ACK })));
    assert.equal(conn.state, TcpState.SynSent);
  });

  test('second: RST with an acceptable ACK means the connection was refused', () => {
    const conn = synSent();
    expectNothing(deliver(conn, at(5), segment({ seq: 0, ack: OURS + 1, flags: RST | ACK })));
    assert.equal(conn.state, TcpState.Closed);
    assert.equal(conn.closeError, 'refused');
    assert.deepEqual(eventTypes(conn), ['closed:refused']);
    assert.equal(conn.pollTimeout(), NEVER, 'no SYN retransmission after the refusal');
  });

  test('second: RST without ACK is ignored (RFC 5961 §3.2: it cannot be matched to our SYN)', () => {
    const conn = synSent();
    expectNothing(deliver(conn, at(5), segment({ seq: PEER, flags: RST })));
    assert.equal(conn.state, TcpState.SynSent);
    assert.equal(drops(conn, TcpDropReason.NoAck), 1);
    assert.notEqual(conn.pollTimeout(), NEVER, 'the SYN timer still runs');
  });

  test('fifth: neither SYN nor RST: dropped', () => {
    const conn = synSent();
    expectNothing(deliver(conn, at(5), segment({ seq: PEER, ack: OURS + 1 })));
    expectNothing(deliver(conn, at(5), segment({ seq: PEER, ack: OURS + 1, flags: ACK | FIN })));
    assert.equal(conn.state, TcpState.SynSent);
    assert.equal(drops(conn, TcpDropReason.BadState), 2);
  });

  test('fourth: SYN,ACK acknowledging our SYN: ESTABLISHED, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
    const conn = synSent();
    const synAck = segment({ seq: PEER, ack: OURS + 1, flags: SYN | ACK, window: 30000 });
    expectSent(deliver(conn, at(8), synAck), { flags: '.', seq: OURS + 1, ack: PEER + 1, len: 0 });
    assert.equal(conn.state, TcpState.Established);
    assert.deepEqual(eventTypes(conn), ['connected']);
    assert.equal(conn.stats().sendWindow, 30000);
    assert.equal(conn.mss, 536, 'no MSS option: RFC 9293 §3.7.1 default');
    const last = conn.transitions[conn.transitions.length - 1]!;
    assert.deepEqual(last, {
      at: at(8),
      from: 'SYN-SENT',
      to: 'ESTABLISHED',
      cause: 'rcv SYN,ACK',
    });
  });

  test('fourth: data and FIN on the SYN,ACK are processed from step 6 on', () => {
    const conn = synSent();
    const synAck = segment({
      seq: PEER,
      ack: OURS + 1,
      flags: SYN | ACK | FIN,
      payload: pattern(20),
    });
    expectSent(deliver(conn, at(8), synAck), { flags: '.', seq: OURS + 1, ack: PEER + 22 });
    assert.equal(conn.state, TcpState.CloseWait);
    assert.deepEqual(read(conn), pattern(20));
    assert.deepEqual(eventTypes(conn), ['connected', 'readable', 'peer-closed']);
  });

  test('fourth: a bare SYN is a simultaneous open: SYN-RECEIVED, SYN,ACK <SEQ=ISS><ACK=RCV.NXT>', () => {
    const conn = synSent();
    expectSent(deliver(conn, at(5), segment({ seq: PEER, flags: SYN, options: { mss: 1000 } })), {
      flags: 'S.',
      seq: OURS,
      ack: PEER + 1,
    });
    assert.equal(conn.state, TcpState.SynReceived);
    // The peer's SYN,ACK (SEG.SEQ = IRS, SEG.ACK = SND.NXT) completes the
    // handshake (RFC 9293 Figure 8 line 6; Linux tcp_validate_incoming), and
    // its SYN, now below RCV.NXT, is acknowledged at once.
    const peerSynAck = segment({ seq: PEER, ack: OURS + 1, flags: SYN | ACK });
    expectSent(deliver(conn, at(10), peerSynAck), { flags: '.', seq: OURS + 1, ack: PEER + 1 });
    assert.equal(conn.state, TcpState.Established);
    // A second copy of it is an old duplicate now: only an ACK.
    expectSent(deliver(conn, at(11), peerSynAck), { flags: '.', seq: OURS + 1, ack: PEER + 1 });
    assert.equal(conn.state, TcpState.Established);
    assert.equal(conn.mss, 1000);
    assert.deepEqual(eventTypes(conn), ['connected']);
  });

  test('simultaneous open between two real connections ends ESTABLISHED on both sides', () => {
    const a = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig() });
    const b = Connection.connect(at(0), { iss: seq(PEER), config: plainConfig() });
    const synA = expectSent(drain(a, at(0)), { flags: 'S' });
    const synB = expectSent(drain(b, at(0)), { flags: 'S' });
    // The SYNs cross.
    const synAckA = expectSent(deliver(a, at(5), synB), { flags: 'S.', seq: OURS, ack: PEER + 1 });
    const synAckB = expectSent(deliver(b, at(5), synA), { flags: 'S.', seq: PEER, ack: OURS + 1 });
    assert.equal(a.state, TcpState.SynReceived);
    assert.equal(b.state, TcpState.SynReceived);
    // So do the SYN,ACKs; each side answers with a plain ACK.
    const ackA = expectSent(deliver(a, at(10), synAckB), {
      flags: '.',
      seq: OURS + 1,
      ack: PEER + 1,
    });
    const ackB = expectSent(deliver(b, at(10), synAckA), {
      flags: '.',
      seq: PEER + 1,
      ack: OURS + 1,
    });
    expectNothing(deliver(a, at(15), ackB));
    expectNothing(deliver(b, at(15), ackA));
    assert.equal(a.state, TcpState.Established);
    assert.equal(b.state, TcpState.Established);
    assert.deepEqual(eventTypes(a), ['connected']);
    assert.deepEqual(eventTypes(b), ['connected']);
    // And data flows.
    a.write(pattern(100));
    const data = expectSent(drain(a, at(20)), { flags: 'P.', seq: OURS + 1, len: 100 });
    b.handleSegment(at(25), data);
    assert.deepEqual(read(b), pattern(100));
  });
});

suite('SYN-RECEIVED (§3.10.7.4)', () => {
  test('an ACK of our SYN: ESTABLISHED with the window it carries', () => {
    const { conn } = inState(TcpState.SynReceived);
    expectNothing(deliver(conn, at(10), segment({ seq: PEER + 1, ack: OURS + 1, window: 12345 })));
    assert.equal(conn.state, TcpState.Established);
    assert.equal(conn.stats().sendWindow, 12345);
    assert.deepEqual(eventTypes(conn), ['connected']);
  });

  test('an ACK that does not acknowledge our SYN is answered <SEQ=SEG.ACK><CTL=RST>', () => {
    const { conn } = inState(TcpState.SynReceived);
    expectSent(deliver(conn, at(10), segment({ seq: PEER + 1, ack: OURS })), {
      flags: 'R',
      seq: OURS,
    });
    expectSent(deliver(conn, at(10), segment({ seq: PEER + 1, ack: OURS + 9 })), {
      flags: 'R',
      seq: OURS + 9,
    });
    assert.equal(conn.state, TcpState.SynReceived);
    assert.equal(drops(conn, TcpDropReason.BadAck), 2);
  });

  test('a segment without ACK is dropped', () => {
    const { conn } = inState(TcpState.SynReceived);
    expectNothing(deliver(conn, at(10), segment({ seq: PEER + 1, payload: 10 })));
    assert.equal(conn.state, TcpState.SynReceived);
    assert.equal(drops(conn, TcpDropReason.NoAck), 1);
    assert.equal(conn.readableBytes, 0);
  });

  test('RST on a passive open: back to LISTEN, the application never hears of it', () => {
    const { conn } = inState(TcpState.SynReceived);
    expectNothing(deliver(conn, at(10), segment({ seq: PEER + 1, flags: RST })));
    assert.equal(conn.state, TcpState.Listen);
    assert.deepEqual(eventTypes(conn), []);
    assert.equal(conn.pollTimeout(), NEVER, 'no SYN,ACK retransmission');
    // The listener serves the next SYN.
    expectSent(deliver(conn, at(20), segment({ seq: 9000, flags: SYN })), {
      flags: 'S.',
      seq: OURS,
      ack: 9001,
    });
  });

  test('RST on an active (simultaneous) open: refused', () => {
    const { conn } = inState(TcpState.SynReceived, {}, true);
    expectNothing(deliver(conn, at(10), segment({ seq: PEER + 1, flags: RST })));
    assert.equal(conn.state, TcpState.Closed);
    assert.deepEqual(eventTypes(conn), ['closed:refused']);
  });

  test('a retransmitted SYN (our SYN,ACK was lost) is answered with the SYN,ACK again', () => {
    const { conn } = inState(TcpState.SynReceived);
    const syn = segment({ seq: PEER, flags: SYN, options: { mss: 1460 } });
    expectSent(deliver(conn, at(1000), syn), { flags: 'S.', seq: OURS, ack: PEER + 1 });
    assert.equal(conn.state, TcpState.SynReceived);
  });

  test('a different SYN inside the window returns a passive open to LISTEN', () => {
    const { conn } = inState(TcpState.SynReceived);
    expectNothing(deliver(conn, at(10), segment({ seq: PEER + 100, flags: SYN })));
    assert.equal(conn.state, TcpState.Listen);
    assert.deepEqual(eventTypes(conn), []);
  });

  test('shutdown() in SYN-RECEIVED with nothing to send: FIN at once, FIN-WAIT-1 (§3.10.4)', () => {
    const { conn } = inState(TcpState.SynReceived);
    conn.shutdown(at(5));
    assert.equal(conn.state, TcpState.FinWait1);
    expectSent(drain(conn, at(5)), { flags: 'F.', seq: OURS + 1, ack: PEER + 1 });
    // The ACK of the SYN alone: the FIN is still outstanding.
    expectNothing(deliver(conn, at(10), segment({ seq: PEER + 1, ack: OURS + 1 })));
    assert.equal(conn.state, TcpState.FinWait1);
    expectNothing(deliver(conn, at(11), segment({ seq: PEER + 1, ack: OURS + 2 })));
    assert.equal(conn.state, TcpState.FinWait2);
  });

  test('shutdown() in SYN-RECEIVED: an ACK of SYN and FIN together ends FIN-WAIT-1', () => {
    const { conn } = inState(TcpState.SynReceived);
    conn.shutdown(at(5));
    drain(conn, at(5));
    expectNothing(deliver(conn, at(10), segment({ seq: PEER + 1, ack: OURS + 2 })));
    assert.equal(conn.state, TcpState.FinWait2);
    assert.equal(conn.stats().bytesInFlight, 0);
  });

  test('shutdown() in SYN-RECEIVED with data queued: the FIN waits for ESTABLISHED', () => {
    const { conn } = inState(TcpState.SynReceived);
    conn.write(pattern(10));
    conn.shutdown(at(5));
    expectNothing(drain(conn, at(5)));
    assert.equal(conn.state, TcpState.SynReceived);
    expectSent(deliver(conn, at(10), segment({ seq: PEER + 1, ack: OURS + 1 })), {
      flags: 'FP.',
      seq: OURS + 1,
      ack: PEER + 1,
    });
    assert.equal(conn.state, TcpState.FinWait1);
  });
});

suite('ESTABLISHED (§3.10.7.4)', () => {
  test('in-order data is delivered and acknowledged', () => {
    const conn = established({ delayedAck: false });
    expectSent(
      deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, payload: pattern(300) })),
      {
        flags: '.',
        seq: OURS + 1,
        ack: PEER + 301,
      },
    );
    assert.deepEqual(eventTypes(conn), ['readable']);
    assert.deepEqual(read(conn), pattern(300));
  });

  test('FIN: CLOSE-WAIT, peer-closed, FIN acknowledged', () => {
    const conn = established();
    expectSent(deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, flags: FIN | ACK })), {
      flags: '.',
      ack: PEER + 2,
    });
    assert.equal(conn.state, TcpState.CloseWait);
    assert.equal(conn.peerClosed, true);
    assert.deepEqual(eventTypes(conn), ['peer-closed']);
  });

  test('FIN with data: the data, then the FIN, one ACK for both', () => {
    const conn = established();
    const seg = segment({ seq: PEER + 1, ack: OURS + 1, flags: FIN | ACK, payload: pattern(50) });
    expectSent(deliver(conn, at(20), seg), { flags: '.', ack: PEER + 52 });
    assert.equal(conn.state, TcpState.CloseWait);
    assert.deepEqual(read(conn), pattern(50));
    assert.deepEqual(eventTypes(conn), ['readable', 'peer-closed']);
  });

  test('a segment without ACK is dropped, its data not delivered', () => {
    const conn = established();
    expectNothing(deliver(conn, at(20), segment({ seq: PEER + 1, payload: 10 })));
    assert.equal(conn.readableBytes, 0);
    assert.equal(drops(conn, TcpDropReason.NoAck), 1);
  });
});

suite('step 1: the four acceptability cases', () => {
  // A receive buffer of 1460 bytes: the window is 1460 until the buffer is full, then 0.
  const small = { receiveBufferSize: 1460, delayedAck: false };
  function fullWindow(): Connection {
    const conn = established(small);
    expectSent(deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, payload: 1460 })), {
      ack: PEER + 1461,
      window: 0,
    });
    events(conn);
    return conn;
  }

  test('SEG.LEN = 0, RCV.WND = 0: acceptable only at SEG.SEQ = RCV.NXT', () => {
    const conn = fullWindow();
    conn.write(pattern(10));
    drain(conn, at(25));
    // At RCV.NXT: its ACK is processed (our 10 bytes acknowledged), no answer.
    expectNothing(deliver(conn, at(30), segment({ seq: PEER + 1461, ack: OURS + 11 })));
    assert.equal(conn.stats().bytesAcked, 10);
    // Anywhere else: unacceptable, answered with an ACK.
    expectSent(deliver(conn, at(31), segment({ seq: PEER + 1462, ack: OURS + 11 })), {
      flags: '.',
      seq: OURS + 11,
      ack: PEER + 1461,
      window: 0,
    });
    assert.equal(drops(conn, TcpDropReason.OutOfWindow), 1);
  });

  test('SEG.LEN = 0, RCV.WND > 0: acceptable when RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND', () => {
    const conn = established(small);
    const bare = (s: number) => deliver(conn, at(20), segment({ seq: s, ack: OURS + 1 }));
    expectNothing(bare(PEER + 1));
    expectNothing(bare(PEER + 1460));
    expectSent(bare(PEER + 1461), { flags: '.', ack: PEER + 1 });
    expectSent(bare(PEER), { flags: '.', ack: PEER + 1 });
    assert.equal(drops(conn, TcpDropReason.OutOfWindow), 2);
  });

  test('SEG.LEN > 0, RCV.WND = 0: the text is not accepted, the ACK is', () => {
    const conn = fullWindow();
    conn.write(pattern(10));
    drain(conn, at(25));
    // At RCV.NXT (a zero-window probe with data): the ACK field is used, the byte is not.
    expectSent(deliver(conn, at(30), segment({ seq: PEER + 1461, ack: OURS + 11, payload: 1 })), {
      flags: '.',
      ack: PEER + 1461,
      window: 0,
    });
    assert.equal(conn.stats().bytesAcked, 10);
    assert.equal(conn.readableBytes, 1460);
    assert.equal(drops(conn, TcpDropReason.NoBufferSpace), 1);
    // Beyond RCV.NXT: unacceptable.
    expectSent(deliver(conn, at(31), segment({ seq: PEER + 1462, ack: OURS + 11, payload: 1 })), {
      ack: PEER + 1461,
    });
    assert.equal(drops(conn, TcpDropReason.OutOfWindow), 1);
  });

  test('SEG.LEN > 0, RCV.WND > 0: acceptable when its first or its last byte is in the window', () => {
    const conn = established(small);
    // Last byte in the window (first is old): accepted, the old part trimmed.
    deliver(conn, at(20), segment({ seq: PEER + 1, ack: OURS + 1, payload: pattern(100) }));
    expectSent(
      deliver(conn, at(21), segment({ seq: PEER + 51, ack: OURS + 1, payload: pattern(100, 50) })),
      {
        ack: PEER + 151,
      },
    );
    assert.deepEqual(read(conn), pattern(150));
    // Entirely old: unacceptable.
    expectSent(deliver(conn, at(22), segment({ seq: PEER + 1, ack: OURS + 1, payload: 150 })), {
      ack: PEER + 151,
    });
    // Entirely beyond the window: unacceptable, nothing kept.
    expectSent(
      deliver(conn, at(23), segment({ seq: PEER + 151 + 1460, ack: OURS + 1, payload: 10 })),
      {
        ack: PEER + 151,
      },
    );
    assert.equal(drops(conn, TcpDropReason.OutOfWindow), 2);
    assert.equal(conn.stats().outOfOrderBytes, 0);
  });

  test('trimming: a repeated SYN,ACK with data has its (old) SYN cut and its new data kept', () => {
    const conn = established({ delayedAck: false });
    const synAck = segment({ seq: PEER, ack: OURS + 1, flags: SYN | ACK, payload: pattern(10) });
    expectSent(deliver(conn, at(20), synAck), { flags: '.', ack: PEER + 11 });
    assert.equal(conn.state, TcpState.Established);
    assert.deepEqual(read(conn), pattern(10));
    assert.equal(conn.stats().challengeAcksSent, 0, 'no SYN left to challenge');
  });

  test('trimming: text beyond the right edge is cut and its FIN ignored until it comes again', () => {
    const conn = established(small);
    const seg = segment({ seq: PEER + 1, ack: OURS + 1, flags: ACK | FIN, payload: pattern(2000) });
    expectSent(deliver(conn, at(20), seg), { flags: '.', ack: PEER + 1461, window: 0 });
    assert.equal(conn.state, TcpState.Established, 'the FIN lay beyond the window');
    assert.deepEqual(read(conn), pattern(1460));
    assert.equal(drops(conn, TcpDropReason.NoBufferSpace), 1);
  });
});

suite('closing states', () => {
  test('FIN-WAIT-1: the ACK of our FIN moves to FIN-WAIT-2', () => {
    const { conn } = inState(TcpState.FinWait1);
    expectNothing(deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 2 })));
    assert.equal(conn.state, TcpState.FinWait2);
  });

  test('FIN-WAIT-1: an ACK short of our FIN keeps FIN-WAIT-1', () => {
    const conn = established();
    conn.write(pattern(100));
    conn.shutdown(at(20));
    expectSent(drain(conn, at(20)), { flags: 'FP.', seq: OURS + 1, len: 100 });
    expectNothing(deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 101 })));
    assert.equal(conn.state, TcpState.FinWait1);
    expectNothing(deliver(conn, at(31), segment({ seq: PEER + 1, ack: OURS + 102 })));
    assert.equal(conn.state, TcpState.FinWait2);
  });

  test('FIN-WAIT-1: a FIN that does not acknowledge ours: CLOSING, then TIME-WAIT on the ACK', () => {
    const { conn } = inState(TcpState.Closing);
    expectNothing(deliver(conn, at(40), segment({ seq: PEER + 2, ack: OURS + 2 })));
    assert.equal(conn.state, TcpState.TimeWait);
  });

  test('FIN-WAIT-1: a FIN that acknowledges ours goes straight to TIME-WAIT', () => {
    const { conn } = inState(TcpState.FinWait1);
    const finAck = segment({ seq: PEER + 1, ack: OURS + 2, flags: FIN | ACK });
    expectSent(deliver(conn, at(30), finAck), { flags: '.', seq: OURS + 2, ack: PEER + 2 });
    assert.equal(conn.state, TcpState.TimeWait);
    assert.deepEqual(
      conn.transitions.slice(-2).map((t) => t.to),
      [TcpState.FinWait2, TcpState.TimeWait],
    );
  });

  test('FIN-WAIT-2: data is still delivered; the FIN moves to TIME-WAIT', () => {
    const { conn } = inState(TcpState.FinWait2, { delayedAck: false });
    expectSent(deliver(conn, at(40), segment({ seq: PEER + 1, ack: OURS + 2, payload: 10 })), {
      ack: PEER + 11,
    });
    assert.equal(conn.readableBytes, 10);
    expectSent(
      deliver(conn, at(50), segment({ seq: PEER + 11, ack: OURS + 2, flags: FIN | ACK })),
      {
        ack: PEER + 12,
      },
    );
    assert.equal(conn.state, TcpState.TimeWait);
  });

  test('CLOSE-WAIT: we may still send; a repeated FIN is acknowledged again', () => {
    const { conn } = inState(TcpState.CloseWait);
    conn.write(pattern(30));
    expectSent(drain(conn, at(25)), { flags: 'P.', seq: OURS + 1, ack: PEER + 2, len: 30 });
    // The repeated FIN lies below RCV.NXT: step 1 answers it and ignores its ACK field.
    expectSent(
      deliver(conn, at(30), segment({ seq: PEER + 1, ack: OURS + 31, flags: FIN | ACK })),
      { flags: '.', seq: OURS + 31, ack: PEER + 2 },
    );
    assert.equal(conn.state, TcpState.CloseWait);
    assert.equal(conn.stats().bytesAcked, 0);
    expectNothing(deliver(conn, at(31), segment({ seq: PEER + 2, ack: OURS + 31 })));
    assert.equal(conn.stats().bytesAcked, 30);
  });

  test('CLOSE-WAIT: text after the FIN is ignored', () => {
    const { conn } = inState(TcpState.CloseWait);
    deliver(conn, at(30), segment({ seq: PEER + 2, ack: OURS + 1, payload: 10 }));
    assert.equal(conn.readableBytes, 0);
  });

  test('CLOSE-WAIT: shutdown() sends FIN, LAST-ACK; the ACK of the FIN closes cleanly', () => {
    const { conn } = inState(TcpState.LastAck);
    expectNothing(deliver(conn, at(40), segment({ seq: PEER + 2, ack: OURS + 1 })));
    assert.equal(conn.state, TcpState.LastAck, 'an old ACK is not the ACK of our FIN');
    expectNothing(deliver(conn, at(41), segment({ seq: PEER + 2, ack: OURS + 2 })));
    assert.equal(conn.state, TcpState.Closed);
    assert.equal(conn.closeError, null);
    assert.deepEqual(eventTypes(conn), ['closed:ok']);
    assert.equal(conn.pollTimeout(), NEVER);
  });

  test('LAST-ACK: an unacknowledged FIN is retransmitted on the RTO', () => {
    const { conn } = inState(TcpState.LastAck);
    const t = conn.pollTimeout();
    conn.handleTimeout(t);
    expectSent(drain(conn, t), { flags: 'F.', seq: OURS + 1, ack: PEER + 2 });
  });

  test('CLOSING: a repeated FIN is acknowledged again', () => {
    const { conn } = inState(TcpState.Closing);
    expectSent(deliver(conn, at(40), segment({ seq: PEER + 1, ack: OURS + 1, flags: FIN | ACK })), {
      flags: '.',
      ack: PEER + 2,
    });
    assert.equal(conn.state, TcpState.Closing);
  });
});
