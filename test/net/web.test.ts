// The web-streams face of a socket: socket.toWeb() gives a ReadableStream
// and a WritableStream with the socket's flow control and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from '../../src/net/index.js';
import { B4, listening, pattern, realPair } from './helpers.js';

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

test('toWeb: a web-streams echo server and client, 1 MiB each way, FIN through writable.close()', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  // The server echoes with pipeTo between its own two halves.
  const server = p.netB.createServer({ allowHalfOpen: true }, (s) => {
    const { readable, writable } = s.toWeb();
    void readable.pipeTo(writable);
  });
  const port = await listening(server);
  const c = p.netA.connect({ port, host: B4, allowHalfOpen: true });
  await once(c, 'connect');
  const { readable, writable } = c.toWeb();
  assert.equal(c.toWeb().readable, readable, 'one pair per socket');
  const data = pattern(1024 * 1024, 4);
  const received = readAll(readable);
  const writer = writable.getWriter();
  for (let at = 0; at < data.length; at += 50_000) {
    await writer.ready;
    await writer.write(new Uint8Array(data.subarray(at, at + 50_000)));
  }
  await writer.close();
  const echoed = await received;
  assert.equal(echoed.length, data.length);
  assert.ok(echoed.equals(data));
  server.close();
});

test('toWeb: the readable pulls, so an unread ReadableStream holds the socket paused', async (t) => {
  // maxReceiveBufferSize too: the receiver grows its buffer while the
  // application keeps up (as Linux's tcp_rmem autotuning), and it did read a little.
  const buffers = 64 * 1024;
  const p = realPair({
    tcp: { receiveBufferSize: buffers, maxReceiveBufferSize: buffers, sendBufferSize: buffers },
  });
  t.after(() => p.close());
  let serverSocket: Socket | null = null;
  const server = p.netB.createServer((s) => {
    serverSocket = s;
  });
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  await once(c, 'connect');
  while (serverSocket === null) await new Promise((r) => setImmediate(r));
  const s = serverSocket as Socket;
  const { readable } = s.toWeb();
  // Write far more than the buffers hold; nobody reads the web stream.
  const big = pattern(1024 * 1024, 2);
  c.write(big);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(s.isPaused(), true);
  assert.ok(s.bytesRead <= 2 * s.readableHighWaterMark + 65536, `read ${s.bytesRead}`);
  assert.ok(s.tcpSocket!.readableBytes <= buffers);
  assert.ok(c.writableLength > big.length / 2, 'the sender is held back');
  c.end();
  const all = await readAll(readable);
  assert.ok(all.equals(big));
  server.close();
});

test('toWeb: a reset peer errors the readable with ECONNRESET', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => {
    s.resetAndDestroy();
  });
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  c.on('error', () => {});
  const { readable } = c.toWeb();
  await assert.rejects(readAll(readable), { code: 'ECONNRESET' });
  server.close();
});
