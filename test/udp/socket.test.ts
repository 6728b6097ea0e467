import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instant } from '../../src/base/index.js';
import { UdpBindings, type UdpHost, type UdpSocket } from '../../src/udp/index.js';

/** A stand-in address: equal when the text is. */
class Addr {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  equals(other: Addr): boolean {
    return other.text === this.text;
  }
}

function host(bindings: UdpBindings<Addr>): UdpHost<Addr> {
  return {
    closeUdp: (socket: UdpSocket<Addr>) => bindings.remove(socket),
    sendUdp: () => true,
  };
}

const EPHEMERAL = { low: 40000, high: 40002 };

test('a socket bound to the address wins over a wildcard on the same port; close unbinds once', () => {
  const table = new UdpBindings<Addr>();
  const h = host(table);
  const wildcard = table.bind(h, null, 53, EPHEMERAL, 1000);
  assert.throws(() => table.bind(h, new Addr('10.0.0.1'), 53, EPHEMERAL, 1000), {
    code: 'EADDRINUSE',
  });
  wildcard.close();
  wildcard.close();
  assert.equal(table.size, 0);
  const one = table.bind(h, new Addr('10.0.0.1'), 53, EPHEMERAL, 1000);
  const two = table.bind(h, new Addr('10.0.0.2'), 53, EPHEMERAL, 1000);
  assert.equal(table.lookup(new Addr('10.0.0.2'), 53), two);
  assert.equal(table.lookup(new Addr('10.0.0.1'), 53), one);
  assert.equal(table.lookup(new Addr('10.0.0.3'), 53), null);
  assert.equal(table.bind(h, null, 0, EPHEMERAL, 1000).port, 40000);
  one.close();
  assert.throws(() => one.sendTo(instant(0), new Uint8Array(1), new Addr('10.0.0.9'), 1), /closed/);
});

test('a socket queues copies of datagrams up to its receive buffer, and drops beyond it', () => {
  const table = new UdpBindings<Addr>();
  const socket = table.bind(host(table), null, 7, EPHEMERAL, 5);
  const packet = Uint8Array.of(1, 2, 3);
  assert.equal(socket.deliver(packet, new Addr('10.0.0.2'), 1000), true);
  packet[0] = 9;
  assert.equal(socket.deliver(packet, new Addr('10.0.0.2'), 1000), false, 'six bytes exceed five');
  const d = socket.receive();
  assert.deepEqual(d?.data, Uint8Array.of(1, 2, 3));
  assert.equal(d?.port, 1000);
  assert.equal(socket.queuedBytes, 0);
  assert.equal(socket.receive(), null);
});
