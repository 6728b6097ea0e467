// ICMP validation before path MTU learning (RFC 5927 §4, RFC 8201 §4): a
// "fragmentation needed" teaches the stack a smaller path MTU only when it
// quotes a segment of a live connection that is in flight, or a datagram of a
// UDP socket that exists; never below the floor (minPathMtu, Linux's
// min_pmtu); and what it taught expires, restoring the interface MTU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, instant, millis, type Instant } from '../../src/base/index.js';
import { Stack, type TcpSocket } from '../../src/stack/index.js';
import { TcpState } from '../../src/tcp/index.js';
import {
  Icmpv4Type,
  Icmpv4UnreachableCode,
  IpProtocol,
  emitIcmpv4,
  emitIpv4,
  icmpv4Length,
  parseIpv4Address,
  parseTcp,
  type Icmpv4Repr,
} from '../../src/wire/index.js';

const T0 = instant(millis(1));
/** The MSS on a 1500-byte IPv4 path: 1500 - 20 - 20. */
const FULL_MSS = 1460;
/** A live connection's MSS counts the 12 bytes of timestamps it carries in every segment. */
const TIMESTAMPS = 12;
const TEN_MINUTES = 600_000_000;

/** A client stack (10.0.0.1) and a server stack (10.0.0.2, listening on 80) on one bare-IP link. */
function pair(options: { minPathMtu?: number; pathMtuExpiry?: number } = {}): {
  client: Stack;
  server: Stack;
} {
  const client = new Stack({ rng: new SeededRng(3), ...options });
  client.addInterface({ kind: 'ip', addresses: ['10.0.0.1/24'] });
  const server = new Stack({ rng: new SeededRng(4) });
  server.addInterface({ kind: 'ip', addresses: ['10.0.0.2/24', '10.0.0.3/24'] });
  server.listen({ port: 80 });
  server.listen({ port: 81 });
  return { client, server };
}

/** Every packet `from` has to send now (copies), handed to `to` unless `deliver` is false. */
function shuttle(now: Instant, from: Stack, to: Stack, deliver = true): Uint8Array[] {
  const sent: Uint8Array[] = [];
  for (let f = from.pollTransmit(now); f !== null; f = from.pollTransmit(now)) {
    const copy = f.frame.slice();
    from.recycleFrame(f.frame);
    sent.push(copy);
    if (deliver) to.receiveFrame(now, 0, copy);
  }
  return sent;
}

/** Runs the handshake of a new connection from client to `host`:`port`. */
function established(
  now: Instant,
  client: Stack,
  server: Stack,
  host = '10.0.0.2',
  port = 80,
): TcpSocket {
  const socket = client.connect(now, { host, port });
  for (let i = 0; i < 4; i++) {
    shuttle(now, client, server);
    shuttle(now, server, client);
  }
  assert.equal(socket.state, TcpState.Established);
  return socket;
}

/** The MSS a new connection from the client to `host` advertises in its SYN (left unanswered). */
function newConnectionMss(now: Instant, client: Stack, host = '10.0.0.2'): number {
  const socket = client.connect(now, { host, port: 9 });
  const sent = shuttle(now, client, client, false);
  socket.abort(now);
  shuttle(now, client, client, false);
  for (const packet of sent) {
    const segment = parseTcp(packet.subarray(20), 0, false);
    if (typeof segment !== 'string' && segment.dstPort === 9) return segment.options.mss;
  }
  throw new Error('the new connection sent no SYN');
}

/** An ICMP "fragmentation needed" from `from` to the client quoting `quoted` (a packet the client sent, or claims to). */
function fragNeeded(from: string, quoted: Uint8Array, mtu: number): Uint8Array {
  const icmp: Icmpv4Repr = {
    type: Icmpv4Type.DestinationUnreachable,
    code: Icmpv4UnreachableCode.FragmentationNeeded,
    nextHopMtu: mtu,
    original: quoted.subarray(0, Math.min(quoted.length, 28)),
  };
  const body = new Uint8Array(icmpv4Length(icmp));
  emitIcmpv4(icmp, body);
  return ipv4(from, '10.0.0.1', IpProtocol.Icmp, body);
}

function ipv4(src: string, dst: string, protocol: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(20 + payload.length);
  emitIpv4(
    {
      src: parseIpv4Address(src)!,
      dst: parseIpv4Address(dst)!,
      protocol,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      identification: 1,
      dontFragment: false,
      moreFragments: false,
      fragmentOffset: 0,
      payload,
    },
    out,
  );
  return out;
}

/** A UDP datagram as the client would have sent it from `srcPort` to 10.0.0.2:53 (checksum left 0: only quoted). */
function udpQuote(srcPort: number): Uint8Array {
  const udp = new Uint8Array(8);
  udp[0] = srcPort >> 8;
  udp[1] = srcPort & 0xff;
  udp[3] = 53;
  udp[5] = 8;
  return ipv4('10.0.0.1', '10.0.0.2', IpProtocol.Udp, udp);
}

function drops(stack: Stack, reason: string): number {
  return stack.stats().drops[reason] ?? 0;
}

test('a spoofed fragmentation-needed that matches no connection or socket changes no path MTU', () => {
  const { client, server } = pair();
  const socket = established(T0, client, server);
  assert.equal(newConnectionMss(T0, client), FULL_MSS);
  // The attack as seen: a quoted UDP datagram of no socket, MTU 68.
  client.receiveFrame(T0, 0, fragNeeded('10.9.9.9', udpQuote(40000), 68));
  client.receiveFrame(T0, 0, fragNeeded('10.9.9.9', udpQuote(40000), 1000));
  // A quoted TCP segment of the live connection, but with a sequence number not in flight.
  socket.write(new Uint8Array(100));
  const [segment] = shuttle(T0, client, server, false);
  const forged = segment!.slice();
  forged[24] = (forged[24]! + 0x80) & 0xff; // the sequence number, 2^31 away
  client.receiveFrame(T0, 0, fragNeeded('10.9.9.9', forged, 1000));
  // A quoted TCP segment of a connection that does not exist (another port).
  const stranger = segment!.slice();
  stranger[20] = 0x7f;
  client.receiveFrame(T0, 0, fragNeeded('10.9.9.9', stranger, 1000));
  assert.equal(newConnectionMss(T0, client), FULL_MSS, 'new connections keep the full MSS');
  assert.equal(socket.conn.mss, FULL_MSS - TIMESTAMPS, 'the live connection keeps its MSS');
  assert.equal(drops(client, 'icmp-mtu-below-floor'), 1, 'MTU 68 is below the floor');
  assert.equal(drops(client, 'icmp-ignored'), 3, 'each other forgery is counted as ignored');
});

test('a valid fragmentation-needed lowers only that path, never below the floor, and expires', () => {
  const { client, server } = pair();
  const socket = established(T0, client, server);
  socket.write(new Uint8Array(100));
  const [segment] = shuttle(T0, client, server, false);
  // Below the floor (552): ignored even though it quotes a segment in flight.
  client.receiveFrame(T0, 0, fragNeeded('10.0.0.254', segment!, 300));
  assert.equal(drops(client, 'icmp-mtu-below-floor'), 1);
  assert.equal(newConnectionMss(T0, client), FULL_MSS);
  assert.equal(socket.conn.mss, FULL_MSS - TIMESTAMPS);
  // In flight and above the floor: that connection and later ones to 10.0.0.2 shrink.
  client.receiveFrame(T0, 0, fragNeeded('10.0.0.254', segment!, 1000));
  assert.equal(socket.conn.mss, 960 - TIMESTAMPS);
  assert.equal(newConnectionMss(T0, client), 960);
  assert.equal(newConnectionMss(T0, client, '10.0.0.3'), FULL_MSS, 'other paths keep theirs');
  // Exactly the floor is believed.
  const other = established(T0, client, server, '10.0.0.3', 81);
  other.write(new Uint8Array(100));
  const [otherSegment] = shuttle(T0, client, server, false);
  client.receiveFrame(T0, 0, fragNeeded('10.0.0.254', otherSegment!, 552));
  assert.equal(newConnectionMss(T0, client, '10.0.0.3'), 552 - 40);
  // RFC 8201 §4: after the expiry (10 minutes by default) the interface MTU applies again.
  const beforeExpiry = instant(T0 + TEN_MINUTES - 1);
  assert.equal(newConnectionMss(beforeExpiry, client), 960);
  const afterExpiry = instant(T0 + TEN_MINUTES);
  assert.equal(newConnectionMss(afterExpiry, client), FULL_MSS);
  assert.equal(newConnectionMss(afterExpiry, client, '10.0.0.3'), FULL_MSS);
});

test('the floor and the expiry are stack options', () => {
  const { client, server } = pair({ minPathMtu: 1200, pathMtuExpiry: 5_000_000 });
  const socket = established(T0, client, server);
  socket.write(new Uint8Array(100));
  const [segment] = shuttle(T0, client, server, false);
  client.receiveFrame(T0, 0, fragNeeded('10.0.0.254', segment!, 1000));
  assert.equal(newConnectionMss(T0, client), FULL_MSS, '1000 is below a floor of 1200');
  client.receiveFrame(T0, 0, fragNeeded('10.0.0.254', segment!, 1300));
  assert.equal(newConnectionMss(T0, client), 1260);
  assert.equal(newConnectionMss(instant(T0 + 5_000_000), client), FULL_MSS);
  assert.throws(() => new Stack({ rng: new SeededRng(1), minPathMtu: 20 }), /minPathMtu/);
});

test('a fragmentation-needed quoting a datagram of a bound UDP socket lowers that path', () => {
  const { client } = pair();
  const udp = client.bindUdp({ port: 5353 });
  client.receiveFrame(T0, 0, fragNeeded('10.0.0.254', udpQuote(5353), 1000));
  assert.equal(newConnectionMss(T0, client), 960);
  udp.close();
});
