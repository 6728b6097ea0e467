// The close line of `tcpts serve` says what was sent: after a reset, the
// bytes that went on the wire and were acknowledged, and what the server had
// written that never left, not the whole of what it wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describeSent, describeSocketSent } from '../../src/cli/serve.js';
import type { Socket } from '../../src/net/index.js';
import { B4, realPair } from '../net/helpers.js';

test('describeSent: the written count after a clean close, the breakdown after a failure', () => {
  const f = { written: 1_063_056, onWire: 45_000, acknowledged: 40_000 };
  assert.equal(describeSent(f, true), 'sent 1063056 B');
  assert.equal(
    describeSent(f, false),
    'sent 45000 B (40000 B acknowledged, 1018056 B written but never sent)',
  );
  assert.equal(describeSent({ written: 500, onWire: 500, acknowledged: 500 }, false), 'sent 500 B');
  assert.equal(
    describeSent({ written: 500, onWire: 500, acknowledged: 100 }, false),
    'sent 500 B (100 B acknowledged)',
  );
});

test('a client that resets a server writing ahead: the line counts what the link carried', async () => {
  const pair = realPair();
  try {
    const accepted = new Promise<Socket>((resolve) => {
      const server = pair.netB.createServer((socket) => resolve(socket));
      server.listen(19);
    });
    const client = pair.netA.connect(19, B4);
    client.pause(); // reads nothing: the server can send one receive window
    await once(client, 'connect');
    const socket = await accepted;
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {}); // ECONNRESET, expected
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 16; i++) socket.write(chunk);
    // Once some of it is acknowledged, reset from the client.
    while (socket.tcpSocket!.stats().bytesAcked === 0) await new Promise((r) => setTimeout(r, 5));
    client.resetAndDestroy();
    await closed;
    const line = describeSocketSent(socket, false);
    const m = /^sent (\d+) B \((\d+) B acknowledged, (\d+) B written but never sent\)$/.exec(line);
    assert.ok(m !== null, line);
    const [onWire, acked, queued] = [Number(m[1]), Number(m[2]), Number(m[3])];
    assert.ok(onWire > 0 && onWire < 16 * 64 * 1024, line);
    assert.ok(acked <= onWire, line);
    assert.equal(onWire + queued, socket.bytesWritten, line);
  } finally {
    pair.close();
  }
});
