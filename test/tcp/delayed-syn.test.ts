/**
 * Why the handshake takes three steps (RFC 9293 §3.5, Figure 9): a client's
 * first SYN is delayed in the network past its retransmission and turns up
 * later. Two real Connections, segments carried by hand, so every step of the
 * story is visible: the old SYN never creates a connection and never gets
 * data delivered to an application, because the side that sent it can tell
 * from the SYN,ACK that it is not current and answers with RST.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seq, type Instant } from '../../src/base/index.js';
import { TcpFlags, type TcpRepr } from '../../src/wire/index.js';
import { Connection, TcpDropReason, TcpState } from '../../src/tcp/index.js';
import {
  at,
  deliver,
  drain,
  eventTypes,
  events,
  expectNothing,
  expectSent,
  pattern,
  plainConfig,
} from './harness.js';

const CLIENT = 1000;
const SERVER = 5000;
const config = () => plainConfig({ delayedAck: false });

function read(conn: Connection): Uint8Array {
  const buf = new Uint8Array(conn.readableBytes);
  conn.read(buf);
  return buf;
}

/** Carries segments both ways, 1 ms per hop, until neither side has anything to send. */
function pump(a: Connection, b: Connection, from: number): number {
  let t = from;
  for (let i = 0; i < 1000; i++) {
    const ab = drain(a, at(t));
    const ba = drain(b, at(t));
    if (ab.length === 0 && ba.length === 0) return t;
    t += 1;
    for (const s of ab) b.handleSegment(at(t), s);
    for (const s of ba) a.handleSegment(at(t), s);
  }
  throw new Error('pump: no quiet');
}

/** The client's first SYN is lost in a queue; its retransmission one RTO later opens the connection. */
function openWithDelayedSyn(): { client: Connection; server: Connection; oldSyn: TcpRepr } {
  const client = Connection.connect(at(0), { iss: seq(CLIENT), config: config() });
  const oldSyn = expectSent(drain(client, at(0)), { flags: 'S', seq: CLIENT });
  const rto = client.pollTimeout();
  assert.equal(rto, at(1000), 'initial RTO 1 s (RFC 6298 (2.1))');
  client.handleTimeout(rto);
  const syn2 = expectSent(drain(client, rto), { flags: 'S', seq: CLIENT });
  const server = Connection.listen({ iss: seq(SERVER), config: config() });
  const synAck = expectSent(deliver(server, at(1005), syn2), {
    flags: 'S.',
    seq: SERVER,
    ack: CLIENT + 1,
  });
  const ack = expectSent(deliver(client, at(1010), synAck), { flags: '.' });
  expectNothing(deliver(server, at(1015), ack));
  assert.equal(client.state, TcpState.Established);
  assert.equal(server.state, TcpState.Established);
  assert.deepEqual(eventTypes(client), ['connected']);
  assert.deepEqual(eventTypes(server), ['connected']);
  return { client, server, oldSyn };
}

test('(a) the old SYN reaches the established connection: a challenge ACK, nothing delivered twice', () => {
  const { client, server, oldSyn } = openWithDelayedSyn();
  client.write(pattern(300));
  server.write(pattern(200, 7));
  let t = pump(client, server, 1020);
  assert.deepEqual(read(server), pattern(300));
  assert.deepEqual(read(client), pattern(200, 7));
  events(client);
  events(server);

  // Now the first SYN arrives. RCV.NXT is far past it: no new connection, no
  // reset (RFC 5961 §4), just an ACK saying where the connection really is.
  const challenge = expectSent(deliver(server, at(t + 1), oldSyn), {
    flags: '.',
    seq: SERVER + 201,
    ack: CLIENT + 301,
    len: 0,
  });
  assert.equal(server.state, TcpState.Established);
  assert.equal(server.stats().challengeAcksSent, 1);
  assert.equal(server.stats().drops[TcpDropReason.OutOfWindow], 1);
  // To the client it is a duplicate ACK of what it already knows: no answer.
  expectNothing(deliver(client, at(t + 2), challenge));
  assert.equal(client.state, TcpState.Established);

  // The connection carries on; the application saw every byte exactly once.
  client.write(pattern(100, 300));
  t = pump(client, server, t + 3);
  assert.deepEqual(read(server), pattern(100, 300));
  assert.deepEqual(eventTypes(server), ['readable']);
  assert.equal(server.stats().bytesReceived, 400);
  assert.equal(client.readableBytes, 0);
});

test('(b) after the close, the old SYN meets a listener and a closed client: RST, back to LISTEN', () => {
  const { client, server, oldSyn } = openWithDelayedSyn();
  client.write(pattern(300));
  let t = pump(client, server, 1020);
  read(server);
  client.shutdown(at(t));
  t = pump(client, server, t);
  server.shutdown(at(t));
  t = pump(client, server, t);
  assert.equal(client.state, TcpState.TimeWait);
  assert.equal(server.state, TcpState.Closed);
  const end = (t + 60_000) as number;
  client.handleTimeout(at(end));
  assert.equal(client.state, TcpState.Closed, 'TIME-WAIT over');

  // The server's stack has a new listener on the port; the old SYN finds it.
  const listener = Connection.listen({ iss: seq(SERVER + 777), config: config() });
  const synAck = expectSent(deliver(listener, at(end + 1), oldSyn), {
    flags: 'S.',
    seq: SERVER + 777,
    ack: CLIENT + 1,
  });
  assert.equal(listener.state, TcpState.SynReceived);
  // The client side has no connection: SEG.ACK names a SYN nobody sent lately.
  const rst = expectSent(deliver(client, at(end + 2), synAck), { flags: 'R', seq: CLIENT + 1 });
  expectNothing(deliver(listener, at(end + 3), rst));
  assert.equal(listener.state, TcpState.Listen, 'the half-open side returns to LISTEN');
  assert.deepEqual(
    eventTypes(listener),
    [],
    'no connected, no readable: the application never knew',
  );
  assert.equal(listener.readableBytes, 0);
});

test('(b) RFC 9293 Figure 9: the old SYN meets a new incarnation in SYN-SENT with another ISS', () => {
  const NEW = 9000;
  const listener = Connection.listen({ iss: seq(SERVER), config: config() });
  const client = Connection.connect(at(0), { iss: seq(NEW), config: config() });
  const newSyn = expectSent(drain(client, at(0)), { flags: 'S', seq: NEW });
  // Line 3: an old duplicate SYN (with data, even) arrives first.
  const oldSyn: TcpRepr = { ...newSyn, seq: seq(CLIENT), payload: pattern(40) };
  const synAck = expectSent(deliver(listener, at(1), oldSyn), {
    flags: 'S.',
    seq: SERVER,
    ack: CLIENT + 1,
  });
  // Line 4-5: the client sees an ACK of a SYN it did not send: RST <SEQ=SEG.ACK>.
  const rst = expectSent(deliver(client, at(2), synAck), { flags: 'R', seq: CLIENT + 1 });
  assert.equal(client.state, TcpState.SynSent, 'the client keeps waiting for its own answer');
  expectNothing(deliver(listener, at(3), rst));
  assert.equal(listener.state, TcpState.Listen);
  // Lines 6-8: the current SYN opens the connection normally.
  const synAck2 = expectSent(deliver(listener, at(4), newSyn), {
    flags: 'S.',
    seq: SERVER,
    ack: NEW + 1,
  });
  const ack = expectSent(deliver(client, at(5), synAck2), {
    flags: '.',
    seq: NEW + 1,
    ack: SERVER + 1,
  });
  expectNothing(deliver(listener, at(6), ack));
  assert.equal(client.state, TcpState.Established);
  assert.equal(listener.state, TcpState.Established);
  assert.deepEqual(eventTypes(listener), ['connected']);
  // The old SYN's 40 bytes never reach the application; the new data does.
  assert.equal(listener.readableBytes, 0);
  client.write(pattern(10, 99));
  pump(client, listener, 7);
  assert.deepEqual(read(listener), pattern(10, 99));
  assert.equal(listener.stats().bytesReceived, 10);
});

test('(b) if the RST is lost, the half-open side resends its SYN,ACK and gives up after synAckRetries', () => {
  // Each SYN,ACK would draw another RST from the client; if all are lost the
  // embryonic connection still ends, without ever having been connected.
  const listener = Connection.listen({
    iss: seq(SERVER),
    config: plainConfig({ synAckRetries: 2 }),
  });
  const oldSyn: TcpRepr = {
    srcPort: 1,
    dstPort: 2,
    seq: seq(CLIENT),
    ack: seq(0),
    flags: TcpFlags.SYN,
    window: 1000,
    urgent: 0,
    options: { mss: 1460, windowScale: -1, sackPermitted: false, sackBlocks: [], timestamp: null },
    payload: new Uint8Array(0),
  };
  expectSent(deliver(listener, at(0), oldSyn), { flags: 'S.' });
  let t: Instant = at(0);
  const times: number[] = [];
  while (listener.state === TcpState.SynReceived) {
    t = listener.pollTimeout();
    listener.handleTimeout(t);
    const sent = drain(listener, t);
    times.push(t / 1000);
    if (listener.state === TcpState.SynReceived) expectSent(sent, { flags: 'S.', seq: SERVER });
  }
  assert.deepEqual(times, [1000, 3000, 7000], 'RTO doubling: 1 s, 2 s, 4 s');
  assert.equal(listener.state, TcpState.Closed);
  assert.deepEqual(eventTypes(listener), ['closed:timed-out']);
});
