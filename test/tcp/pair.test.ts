import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, SeededRng, randomBytes } from '../../src/base/index.js';
import { TcpState } from '../../src/tcp/index.js';
import { Pair } from './harness.js';

function bytes(seed: number, n: number): Uint8Array {
  return randomBytes(new SeededRng(seed), new Uint8Array(n));
}

function checkDelivered(pair: Pair): void {
  assert.deepEqual(pair.server.receivedData(), pair.client.toSend, 'client -> server bytes');
  assert.deepEqual(pair.client.receivedData(), pair.server.toSend, 'server -> client bytes');
  for (const side of [pair.client, pair.server]) {
    assert.ok(
      side.conn.state === TcpState.Closed || side.conn.state === TcpState.TimeWait,
      `final state ${side.conn.state}`,
    );
    if (side.conn.state === TcpState.Closed)
      assert.equal(side.closedWith, 'ok', 'closed without error');
    assert.ok(side.sawPeerClosed, 'each side saw the other FIN');
  }
}

test('a clean transfer of 1 MB each way completes and closes', () => {
  const pair = new Pair({ seed: 1, clientData: bytes(1, 1 << 20), serverData: bytes(2, 1 << 20) });
  pair.run();
  checkDelivered(pair);
});

test('transfers survive 5% loss with reordering and duplication', () => {
  const pair = new Pair({
    seed: 7,
    clientData: bytes(3, 300_000),
    serverData: bytes(4, 300_000),
    impairment: { loss: 0.05, duplicate: 0.02, reorder: 0.05, delayMs: 10, reorderMs: 15 },
  });
  pair.run();
  checkDelivered(pair);
  assert.ok(pair.segmentsLost > 0);
});

test('after the close every timer but TIME-WAIT is gone', () => {
  const pair = new Pair({ seed: 3, clientData: bytes(5, 10_000), serverData: bytes(6, 10_000) });
  pair.run();
  checkDelivered(pair);
  pair.run(600_000, true); // let TIME-WAIT expire
  assert.equal(pair.client.conn.state, TcpState.Closed);
  assert.equal(pair.server.conn.state, TcpState.Closed);
  assert.equal(pair.client.conn.pollTimeout(), NEVER);
  assert.equal(pair.server.conn.pollTimeout(), NEVER);
});
