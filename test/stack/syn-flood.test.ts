// Under a SYN flood (RFC 4987): past a full SYN queue every SYN gets a
// cookie built without a Connection, and while established connections have
// segments arriving, at most synCookieBudget SYNs per round of polling are
// answered; the rest are dropped unparsed and counted, never the
// connections' segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, instant, millis, type Instant, type SeqNum } from '../../src/base/index.js';
import { Stack, type TcpSocket } from '../../src/stack/index.js';
import { TcpState } from '../../src/tcp/index.js';
import {
  IpProtocol,
  TcpFlags,
  emitIpv4,
  emitTcp,
  noTcpOptions,
  parseIpv4Address,
  parseTcp,
  pseudoHeaderSumV4,
  tcpHeaderLength,
  type TcpRepr,
} from '../../src/wire/index.js';

const T0 = instant(millis(1));
const SERVER = parseIpv4Address('10.0.0.2')!;

/** A bare-IP TCP segment from `src` to 10.0.0.2, checksummed. */
function segment(src: number, repr: TcpRepr): Uint8Array {
  const tcp = new Uint8Array(tcpHeaderLength(repr) + repr.payload.length);
  emitTcp(repr, tcp, pseudoHeaderSumV4(src, SERVER, IpProtocol.Tcp, tcp.length));
  const packet = new Uint8Array(20 + tcp.length);
  emitIpv4(
    {
      src,
      dst: SERVER,
      protocol: IpProtocol.Tcp,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      identification: 0,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      payload: tcp,
    },
    packet,
  );
  return packet;
}

/** A SYN from 10.1.x.y:`port` (one source per `n`) with MSS 1460. */
function syn(n: number, port = 40000): Uint8Array {
  const options = noTcpOptions();
  options.mss = 1460;
  return segment(((10 << 24) | (1 << 16) | n) >>> 0, {
    srcPort: port,
    dstPort: 80,
    seq: (n * 7919) as SeqNum,
    ack: 0 as SeqNum,
    flags: TcpFlags.SYN,
    window: 64240,
    urgent: 0,
    options,
    payload: new Uint8Array(0),
  });
}

/** A server stack at 10.0.0.2/8 listening on 80 with a SYN queue of 8. */
function server(): Stack {
  const stack = new Stack({ rng: new SeededRng(5), maxSynBacklog: 8 });
  stack.addInterface({ kind: 'ip', addresses: ['10.0.0.2/8'] });
  stack.listen({ port: 80, backlog: 8 });
  return stack;
}

/** Every TCP segment the stack sends now, parsed. */
function sent(stack: Stack, now: Instant): TcpRepr[] {
  const out: TcpRepr[] = [];
  for (let f = stack.pollTransmit(now); f !== null; f = stack.pollTransmit(now)) {
    const seg = parseTcp(f.frame.subarray(20).slice(), 0, false);
    if (typeof seg !== 'string') out.push(seg);
  }
  return out;
}

/** Fills the listener's SYN queue (8 half-open connections) and drains the SYN-ACKs. */
function fillSynQueue(stack: Stack): void {
  for (let n = 1; n <= 8; n++) stack.receiveFrame(T0, 0, syn(n));
  assert.equal(sent(stack, T0).length, 8);
  assert.equal(stack.stats().synCookiesSent, 0);
}

test("a cookie SYN-ACK carries the cookie, the SYN's sequence number + 1, our MSS alone, and completes a handshake", () => {
  const stack = server();
  fillSynQueue(stack);
  stack.receiveFrame(T0, 0, syn(100, 50000));
  const [synAck] = sent(stack, T0);
  assert.ok(synAck !== undefined);
  assert.equal(stack.stats().synCookiesSent, 1);
  assert.equal(synAck.flags, TcpFlags.SYN | TcpFlags.ACK);
  assert.equal(synAck.ack, ((100 * 7919 + 1) >>> 0) as SeqNum);
  assert.equal(synAck.options.mss, 1460);
  assert.equal(synAck.options.windowScale, -1, 'no window scaling: a cookie cannot remember it');
  assert.equal(synAck.options.sackPermitted, false);
  assert.equal(synAck.options.timestamp, null);
  assert.ok(synAck.window > 0);
  // The final ACK with the cookie opens the connection.
  stack.receiveFrame(
    T0,
    0,
    segment(((10 << 24) | (1 << 16) | 100) >>> 0, {
      srcPort: 50000,
      dstPort: 80,
      seq: ((100 * 7919 + 1) >>> 0) as SeqNum,
      ack: ((synAck.seq + 1) >>> 0) as SeqNum,
      flags: TcpFlags.ACK,
      window: 64240,
      urgent: 0,
      options: noTcpOptions(),
      payload: new Uint8Array(0),
    }),
  );
  assert.equal(stack.stats().synCookiesAccepted, 1);
  const opened = stack.tcpSockets().find((s: TcpSocket) => s.remotePort === 50000);
  assert.ok(opened !== undefined);
  assert.equal(opened.state, TcpState.Established);
  assert.equal(opened.conn.mss, 1460);
});

test('a burst of SYNs alone is answered whole, with cookies past the SYN queue', () => {
  const stack = server();
  fillSynQueue(stack);
  for (let n = 100; n < 400; n++) stack.receiveFrame(T0, 0, syn(n));
  assert.equal(sent(stack, T0).length, 300);
  assert.equal(stack.stats().synCookiesSent, 300);
  assert.equal(stack.stats().drops['syn-budget'] ?? 0, 0);
});

test('while a connection has segments arriving, SYNs past the budget are dropped unparsed and the segments still get through', () => {
  const stack = server();
  // An established connection from 10.0.0.1 (our own client stack).
  const client = new Stack({ rng: new SeededRng(6) });
  client.addInterface({ kind: 'ip', addresses: ['10.0.0.1/8'] });
  const socket = client.connect(T0, { host: '10.0.0.2', port: 80 });
  for (let i = 0; i < 3; i++) {
    for (let f = client.pollTransmit(T0); f !== null; f = client.pollTransmit(T0))
      stack.receiveFrame(T0, 0, f.frame.slice());
    for (let f = stack.pollTransmit(T0); f !== null; f = stack.pollTransmit(T0))
      client.receiveFrame(T0, 0, f.frame.slice());
  }
  assert.equal(socket.state, TcpState.Established);
  fillSynQueue(stack);
  // One round: data from the client among 200 flood SYNs.
  socket.write(new Uint8Array([1, 2, 3]));
  const data: Uint8Array[] = [];
  for (let f = client.pollTransmit(T0); f !== null; f = client.pollTransmit(T0))
    data.push(f.frame.slice());
  // The connection's segment comes first in the round (or in the round
  // before: a download's segments keep coming), so the competition is known.
  for (const d of data) stack.receiveFrame(T0, 0, d);
  for (let n = 100; n < 300; n++) stack.receiveFrame(T0, 0, syn(n));
  const answered = sent(stack, T0).filter((s) => (s.flags & TcpFlags.SYN) !== 0);
  assert.equal(answered.length, 64, 'the default budget: 64 cookies per round');
  assert.equal(stack.stats().drops['syn-budget'], 136);
  const accepted = stack.tcpSockets().find((s) => s.remotePort === socket.localPort);
  assert.ok(accepted !== undefined);
  assert.equal(accepted.readableBytes, 3, "the connection's data was not dropped");
  // The next round starts with a fresh budget.
  for (let n = 300; n < 310; n++) stack.receiveFrame(T0, 0, syn(n));
  assert.equal(sent(stack, T0).length, 10);
});
