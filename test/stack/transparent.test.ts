import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, type Instant } from '../../src/base/index.js';
import { TcpState } from '../../src/tcp/index.js';
import { IpAddr, Stack, type StackEvent, type SynRequest } from '../../src/stack/index.js';
import { ms } from './sim-helpers.js';

/** A guest (10.0.2.100, default route via 10.0.2.2) wired to a transparent gateway stack. */
function guestAndGateway(): { guest: Stack; gateway: Stack; run: (now: Instant) => void } {
  const guest = new Stack({ rng: new SeededRng(1) });
  const gateway = new Stack({ rng: new SeededRng(2), transparent: true });
  guest.addInterface({ kind: 'ethernet', addresses: ['10.0.2.100/24', 'fd00::100/64'] });
  guest.addRoute('0.0.0.0/0', { via: '10.0.2.2' });
  guest.addRoute('::/0', { via: 'fd00::2' });
  gateway.addInterface({ kind: 'ethernet', addresses: ['10.0.2.2/24', 'fd00::2/64'] });
  const run = (now: Instant): void => {
    for (let moved = true; moved;) {
      moved = false;
      for (let f = guest.pollTransmit(now); f !== null; f = guest.pollTransmit(now)) {
        gateway.receiveFrame(now, 0, f.frame);
        moved = true;
      }
      for (let f = gateway.pollTransmit(now); f !== null; f = gateway.pollTransmit(now)) {
        guest.receiveFrame(now, 0, f.frame);
        moved = true;
      }
    }
  };
  return { guest, gateway, run };
}

function drain(stack: Stack): StackEvent[] {
  const events: StackEvent[] = [];
  for (let e = stack.pollEvent(); e !== null; e = stack.pollEvent()) events.push(e);
  return events;
}

function synRequests(events: StackEvent[]): SynRequest[] {
  const out: SynRequest[] = [];
  for (const e of events) if (e.type === 'syn') out.push(e.request);
  return out;
}

for (const [family, destination] of [
  [4, '192.0.2.7'],
  [6, '2001:db8::7'],
] as const) {
  test(`a SYN to any address (IPv${family}) is held, then accepted from that address`, () => {
    const { guest, gateway, run } = guestAndGateway();
    const listener = gateway.listenTransparent();
    const client = guest.connect(ms(0), { host: destination, port: 8080 });
    run(ms(0));
    const requests = synRequests(drain(gateway));
    assert.equal(requests.length, 1);
    const request = requests[0]!;
    assert.equal(request.localAddress.text, destination);
    assert.equal(request.localPort, 8080);
    assert.equal(request.remotePort, client.localPort);
    // Held: nothing answered yet, and a retransmitted SYN is not a second request.
    assert.equal(client.state, TcpState.SynSent);
    run(ms(1000));
    guest.handleTimeout(ms(1100));
    run(ms(1100));
    assert.equal(synRequests(drain(gateway)).length, 0);
    assert.equal(gateway.answerSyn(ms(1200), request, 'accept'), true);
    assert.equal(gateway.answerSyn(ms(1200), request, 'accept'), false);
    run(ms(1200));
    assert.equal(client.state, TcpState.Established);
    assert.ok(drain(gateway).some((e) => e.type === 'accept'));
    const server = listener.accept();
    assert.ok(server !== null);
    assert.equal(server.localAddress.text, destination);
    client.write(new TextEncoder().encode('hello'));
    run(ms(1300));
    const buf = new Uint8Array(16);
    assert.equal(new TextDecoder().decode(buf.subarray(0, server.read(buf))), 'hello');
  });
}

test('a refused held SYN answers RST: the guest connection is refused', () => {
  const { guest, gateway, run } = guestAndGateway();
  gateway.listenTransparent();
  const client = guest.connect(ms(0), { host: '198.51.100.1', port: 22 });
  run(ms(0));
  const [request] = synRequests(drain(gateway));
  gateway.answerSyn(ms(5), request!, 'refuse');
  run(ms(5));
  assert.equal(client.state, TcpState.Closed);
  assert.equal(client.conn.closeError, 'refused');
});

test('held SYNs past the bound are dropped and counted', () => {
  const { guest, gateway, run } = guestAndGateway();
  gateway.listenTransparent({ maxHeldSyns: 2 });
  for (let i = 0; i < 3; i++) guest.connect(ms(0), { host: '198.51.100.1', port: 1000 + i });
  run(ms(0));
  assert.equal(synRequests(drain(gateway)).length, 2);
  assert.equal(gateway.stats().drops['syn-queue-full'], 1);
});

test('UDP to any address is intercepted with its destination, answered from it; refused gets ICMP', () => {
  const { guest, gateway, run } = guestAndGateway();
  gateway.interceptUdp((_s, _sp, dst) => dst.text !== '203.0.113.9');
  const socket = guest.bindUdp({});
  socket.sendTo(ms(0), Uint8Array.of(1, 2, 3), IpAddr.parse('192.0.2.53')!, 53);
  run(ms(0));
  assert.ok(drain(gateway).some((e) => e.type === 'udp-intercepted'));
  const d = gateway.receiveIntercepted();
  assert.ok(d !== null);
  assert.deepEqual([...d.data], [1, 2, 3]);
  assert.equal(d.destinationAddress.text, '192.0.2.53');
  assert.equal(d.destinationPort, 53);
  assert.equal(gateway.receiveIntercepted(), null);
  gateway.sendUdpFrom(
    ms(1),
    { address: d.destinationAddress, port: d.destinationPort },
    { address: d.sourceAddress, port: d.sourcePort },
    Uint8Array.of(9),
  );
  run(ms(1));
  const reply = socket.receive();
  assert.ok(reply !== null);
  assert.equal(reply.address.text, '192.0.2.53');
  assert.equal(reply.port, 53);
  socket.sendTo(ms(2), Uint8Array.of(4), IpAddr.parse('203.0.113.9')!, 53);
  run(ms(2));
  assert.equal(gateway.receiveIntercepted(), null);
  assert.ok(drain(guest).some((e) => e.type === 'icmp-error'));
});

test('a stack that is not transparent still drops packets for other hosts', () => {
  const guest = new Stack({ rng: new SeededRng(1) });
  const other = new Stack({ rng: new SeededRng(2) });
  guest.addInterface({ kind: 'ethernet', addresses: ['10.0.2.100/24'] });
  guest.addRoute('0.0.0.0/0', { via: '10.0.2.2' });
  other.addInterface({ kind: 'ethernet', addresses: ['10.0.2.2/24'] });
  guest.connect(ms(0), { host: '192.0.2.7', port: 80 });
  for (let round = 0; round < 4; round++) {
    for (let f = guest.pollTransmit(ms(0)); f !== null; f = guest.pollTransmit(ms(0)))
      other.receiveFrame(ms(0), 0, f.frame);
    for (let f = other.pollTransmit(ms(0)); f !== null; f = other.pollTransmit(ms(0)))
      guest.receiveFrame(ms(0), 0, f.frame);
  }
  assert.equal(other.stats().drops['not-for-us'], 1);
});
