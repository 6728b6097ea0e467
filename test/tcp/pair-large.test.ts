/**
 * A long transfer over a bad link: 8 MB each way at 2% loss with reordering
 * and duplication, all options on (the Linux profile), checked byte for byte.
 * Virtual time, so it takes seconds of CPU, not of waiting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, randomBytes } from '../../src/base/index.js';
import { TcpState } from '../../src/tcp/index.js';
import { Pair } from './harness.js';

const MB = 1 << 20;

test('8 MB each way through 2% loss, 3% reordering and 1% duplication', () => {
  const bytes = (seed: number) => randomBytes(new SeededRng(seed), new Uint8Array(8 * MB));
  const pair = new Pair({
    seed: 2024,
    clientData: bytes(1),
    serverData: bytes(2),
    impairment: { loss: 0.02, duplicate: 0.01, reorder: 0.03, delayMs: 10, reorderMs: 8 },
  });
  pair.run(3_600_000);
  assert.deepEqual(pair.server.receivedData(), pair.client.toSend, 'client -> server');
  assert.deepEqual(pair.client.receivedData(), pair.server.toSend, 'server -> client');
  for (const side of [pair.client, pair.server]) {
    const s = side.conn.stats();
    assert.ok(
      side.conn.state === TcpState.Closed || side.conn.state === TcpState.TimeWait,
      side.conn.state,
    );
    assert.ok(side.sawPeerClosed);
    assert.equal(s.bytesAcked, 8 * MB);
    assert.ok(s.fastRetransmits > 0, 'losses were repaired by fast retransmit');
    assert.ok(s.sackPermitted && s.timestamps, 'the Linux profile negotiated SACK and timestamps');
    // Retransmissions stay in proportion to the loss (no go-back-N storms).
    assert.ok(s.bytesRetransmitted < 0.1 * 8 * MB, `retransmitted ${s.bytesRetransmitted}`);
  }
  assert.ok(pair.segmentsLost > 100);
});
