// tcpts/web in Node: web-stream sockets between two real-clock stacks.
// Echo with bytes checked, backpressure down to the TCP window, half-close,
// error codes as node:net's, and UDP datagrams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RealDriver, joinDrivers } from '../../src/runtime/index.js';
import { createWeb, type StreamSocket } from '../../src/web/index.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function pair(): { a: RealDriver; b: RealDriver; close(): void } {
  const a = new RealDriver();
  const b = new RealDriver();
  joinDrivers(a, b, { a: { addresses: [`${A}/24`] }, b: { addresses: [`${B}/24`] } });
  return {
    a,
    b,
    close() {
      a.close();
      b.close();
    },
  };
}

/** Bytes 0..n-1 of a fixed pseudo-random pattern. */
function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of readable) {
    chunks.push(chunk);
    total += chunk.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function writeAll(socket: StreamSocket, data: Uint8Array, chunk = 100_000): Promise<void> {
  const writer = socket.writable.getWriter();
  for (let i = 0; i < data.length; i += chunk) await writer.write(data.subarray(i, i + chunk));
  await writer.close();
}

test('echo: 4 MB through web streams both ways, bytes checked, closed resolves on both ends', async (t) => {
  const p = pair();
  t.after(() => p.close());
  const server = createWeb(p.b).listen({ port: 7 });
  const serverDone = (async () => {
    for await (const conn of server) {
      await conn.readable.pipeTo(conn.writable);
      await conn.closed;
      return conn;
    }
    throw new Error('the listener ended without a connection');
  })();
  const socket = createWeb(p.a).connect({ hostname: B, port: 7 });
  const info = await socket.opened;
  assert.equal(info.remoteAddress, `${B}:7`);
  assert.match(info.localAddress, /^10\.0\.0\.1:\d+$/);
  const data = pattern(4 * 1024 * 1024);
  const [echoed] = await Promise.all([readAll(socket.readable), writeAll(socket, data)]);
  assert.equal(echoed.length, data.length);
  assert.ok(Buffer.from(echoed).equals(Buffer.from(data)), 'the echo is the data');
  await socket.closed;
  await serverDone;
  server.close();
  assert.equal(p.a.refs, 0, 'a closed socket holds no reference');
  assert.equal(p.b.refs, 0, 'nor does a closed listener');
});

test('backpressure: a reader that stops reading closes the TCP window; reading again resumes', async (t) => {
  const p = pair();
  t.after(() => p.close());
  const server = createWeb(p.b).listen({ port: 9, readableHighWaterMark: 16 * 1024 });
  const socket = createWeb(p.a).connect({ hostname: B, port: 9 });
  const conn = (await server.accept())!;
  await socket.opened;
  const writer = socket.writable.getWriter();
  const data = pattern(8 * 1024 * 1024, 7);
  let written = 0;
  const writing = (async () => {
    for (let i = 0; i < data.length; i += 64 * 1024) {
      await writer.write(data.subarray(i, i + 64 * 1024));
      written = i + 64 * 1024;
    }
    await writer.close();
  })();
  // Nobody reads: the receive buffer fills and the window closes. Waits for
  // that state (however long a loaded machine takes), never for a duration.
  const receiver = p.b.stack.tcpSockets().find((s) => s.localPort === 9)!;
  const sender = p.a.stack.tcpSockets().find((s) => s.remotePort === 9)!;
  // Closed for all practical purposes: less than a segment left (RFC 9293
  // §3.8.6.2.2: the receiver does not offer a window of less than an MSS).
  const windowClosed = (): boolean =>
    receiver.readableBytes > 0 && sender.stats().sendWindow < 1460;
  for (let i = 0; i < 3000 && !windowClosed(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(
    windowClosed(),
    `the window closes while nobody reads (send window ${sender.stats().sendWindow})`,
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(written < data.length, `only part of the data was taken (${written})`);
  assert.ok(sender.stats().sendWindow < 1460, 'and it stays closed');
  const received = await readAll(conn.readable);
  await writing;
  assert.ok(Buffer.from(received).equals(Buffer.from(data)), 'everything arrives once read');
  await conn.close();
  await socket.close();
  server.close();
});

test('half-close: writable.close() sends FIN, the peer still answers', async (t) => {
  const p = pair();
  t.after(() => p.close());
  const server = createWeb(p.b).listen({ port: 13 });
  const socket = createWeb(p.a).connect({ hostname: B, port: 13 });
  const conn = (await server.accept())!;
  const request = new TextEncoder().encode('question');
  await writeAll(socket, request);
  const got = await readAll(conn.readable); // ends: our FIN arrived
  assert.equal(new TextDecoder().decode(got), 'question');
  await writeAll(conn, new TextEncoder().encode('answer after your FIN'));
  const answer = await readAll(socket.readable);
  assert.equal(new TextDecoder().decode(answer), 'answer after your FIN');
  await Promise.all([socket.closed, conn.closed]);
  server.close();
});

test('errors carry node:net codes: ECONNREFUSED, ENOTFOUND, EADDRINUSE, ECONNRESET', async (t) => {
  const p = pair();
  t.after(() => p.close());
  const web = createWeb(p.a);
  const refused = web.connect({ hostname: B, port: 1 });
  await assert.rejects(refused.opened, { code: 'ECONNREFUSED', syscall: 'connect' });
  await assert.rejects(refused.closed, { code: 'ECONNREFUSED' });
  await assert.rejects(refused.readable.getReader().read(), { code: 'ECONNREFUSED' });

  const named = web.connect({ hostname: 'example.com', port: 80 });
  await assert.rejects(named.opened, { code: 'ENOTFOUND', syscall: 'getaddrinfo' });

  const first = createWeb(p.b).listen({ port: 22 });
  assert.throws(() => createWeb(p.b).listen({ port: 22 }), { code: 'EADDRINUSE' });

  const socket = web.connect({ hostname: B, port: 22 });
  const conn = (await first.accept())!;
  await socket.opened;
  // The peer aborts its writable: a reset, seen as ECONNRESET here.
  await conn.writable.abort();
  await assert.rejects(socket.readable.getReader().read(), { code: 'ECONNRESET', syscall: 'read' });
  await assert.rejects(socket.closed, { code: 'ECONNRESET' });
  first.close();
});

test('UDP: datagrams as streams, each with its sender', async (t) => {
  const p = pair();
  t.after(() => p.close());
  const server = createWeb(p.b).bindUdp({ port: 53 });
  const client = createWeb(p.a).bindUdp();
  const writer = client.writable.getWriter();
  await writer.write({ data: new TextEncoder().encode('one'), hostname: B, port: 53 });
  await writer.write({ data: new TextEncoder().encode('two'), hostname: B, port: 53 });
  const reader = server.readable.getReader();
  const first = await reader.read();
  const second = await reader.read();
  assert.equal(new TextDecoder().decode(first.value!.data), 'one');
  assert.equal(new TextDecoder().decode(second.value!.data), 'two');
  assert.equal(first.value!.hostname, A);
  assert.equal(first.value!.port, client.addr.port);
  await assert.rejects(writer.write({ data: new Uint8Array(1), hostname: 'nowhere', port: 1 }), {
    code: 'ENOTFOUND',
  });
  server.close();
  client.close();
  assert.equal((await reader.read()).done, true);
});

test('close() while connecting: opened rejects with ECONNABORTED, closed resolves', async (t) => {
  const p = pair();
  t.after(() => p.close());
  createWeb(p.b).listen({ port: 80 }).close(); // nobody listens: the SYN would get a RST
  const socket = createWeb(p.a).connect({ hostname: B, port: 80 });
  const closing = socket.close();
  await assert.rejects(socket.opened, { code: 'ECONNABORTED', syscall: 'connect' });
  await closing;
  assert.equal(p.a.refs, 0);
});
