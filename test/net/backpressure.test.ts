// Flow control end to end: write() returns false and 'drain' follows; a
// reader that stops reading closes the TCP window, the sender stalls, and
// nothing is buffered without bound on either side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from '../../src/net/index.js';
import type { Driver } from '../../src/runtime/index.js';
import { B4, collect, listening, pattern, realPair, sleep, virtualPair } from './helpers.js';

const BUFFER = 64 * 1024;
const TCP = { sendBufferSize: BUFFER, receiveBufferSize: BUFFER };
/** The socket's largest push into the stream (src/net/socket.ts READ_CHUNK). */
const READ_CHUNK = 65536;

/**
 * Writes `data` in `chunk`-sized pieces, honouring write() === false by
 * waiting for 'drain'. Resolves with how often write() said false.
 */
async function writeAll(socket: Socket, data: Buffer, chunk: number): Promise<number> {
  let refusals = 0;
  for (let at = 0; at < data.length; at += chunk) {
    if (!socket.write(data.subarray(at, at + chunk))) {
      refusals++;
      await once(socket, 'drain');
    }
  }
  return refusals;
}

test('write() returns false past the high-water mark and drain follows; 2 MiB arrive intact', async (t) => {
  const p = realPair({ tcp: TCP });
  t.after(() => p.close());
  const data = pattern(2 * 1024 * 1024);
  let received: Promise<Buffer> | null = null;
  const server = p.netB.createServer((s) => {
    received = collect(s);
  });
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  await once(c, 'connect');
  let drains = 0;
  c.on('drain', () => drains++);
  const refusals = await writeAll(c, data, 16 * 1024);
  c.end();
  assert.ok(refusals > 0, 'write() returned false at least once');
  assert.equal(drains, refusals, "every false was followed by one 'drain'");
  while (received === null) await new Promise((r) => setImmediate(r));
  const got = await (received as Promise<Buffer>);
  assert.equal(got.length, data.length);
  assert.ok(got.equals(data), 'every byte in order');
  server.close();
});

/**
 * The stall scenario on any pair of drivers: the server's socket starts
 * paused, the client writes as fast as 'drain' allows until no 'drain'
 * comes for a while; then the buffers are measured, the server resumes,
 * and everything written must arrive.
 */
async function pausedReader(
  a: Driver,
  netA: ReturnType<typeof realPair>['netA'],
  netB: ReturnType<typeof realPair>['netB'],
  stallMs: number,
): Promise<{ client: Socket; server: Socket; written: number }> {
  let serverSocket: Socket | null = null;
  const server = netB.createServer({ pauseOnConnect: true }, (s) => {
    serverSocket = s;
  });
  const port = await listening(server);
  const c = netA.connect(port, B4);
  await once(c, 'connect');
  while (serverSocket === null) await new Promise((r) => setImmediate(r));
  const s = serverSocket as Socket;
  server.close();

  const chunk = pattern(16 * 1024, 7);
  let written = 0;
  for (;;) {
    const more = c.write(chunk);
    written += chunk.length;
    if (more) continue;
    // Wait for 'drain', or decide the sender has stalled.
    const drained = await Promise.race([
      once(c, 'drain').then(() => true),
      sleep(a, stallMs).then(() => false),
    ]);
    if (!drained) break;
    assert.ok(written < 10 * BUFFER, `the sender kept going: ${written} bytes accepted`);
  }
  return { client: c, server: s, written };
}

function assertBounded(c: Socket, s: Socket, written: number): void {
  const ct = c.tcpSocket!;
  const st = s.tcpSocket!;
  // The receiver read nothing: its TCP buffer is full and its window closed.
  assert.equal(s.bytesRead, 0);
  assert.ok(st.readableBytes <= BUFFER, `receive buffer ${st.readableBytes}`);
  assert.ok(st.readableBytes > BUFFER / 2, 'the receive buffer did fill');
  // The window is closed as far as the sender is concerned: less than one
  // segment of it is usable, and sender-side SWS avoidance does not send
  // that (RFC 9293 §3.8.6.2.1).
  const cs = ct.stats();
  assert.ok(cs.sendWindow - cs.bytesInFlight < cs.sendMss, `usable window ${cs.sendWindow}`);
  // The sender holds at most its send buffer plus the stream's high-water mark and one chunk.
  assert.ok(ct.stats().sendBuffered <= BUFFER, `send buffer ${ct.stats().sendBuffered}`);
  assert.ok(
    c.writableLength <= c.writableHighWaterMark + 16 * 1024,
    `stream buffer ${c.writableLength}`,
  );
  // Everything the application handed over is in one of those places (the
  // chunk being written counts in the stream until all of it is taken).
  assert.equal(c.bytesWritten, written);
  const inTcp = st.readableBytes + ct.stats().sendBuffered;
  assert.ok(inTcp <= written && inTcp >= written - c.writableLength, `${inTcp} of ${written}`);
}

async function resumeAndCheck(c: Socket, s: Socket, written: number): Promise<void> {
  const got = collect(s);
  s.resume();
  c.end();
  const bytes = await got;
  assert.equal(bytes.length, written);
  const chunk = pattern(16 * 1024, 7);
  for (let at = 0; at < bytes.length; at += chunk.length) {
    assert.ok(bytes.subarray(at, at + chunk.length).equals(chunk), `chunk at ${at} intact`);
  }
}

test('a paused reader stalls the sender: the window closes and buffers stay bounded (real clock)', async (t) => {
  const p = realPair({ tcp: TCP });
  t.after(() => p.close());
  const { client, server, written } = await pausedReader(p.a, p.netA, p.netB, 300);
  assertBounded(client, server, written);
  // Still stalled a little later: nothing moved.
  const before = client.tcpSocket!.stats().bytesAcked;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(client.tcpSocket!.stats().bytesAcked, before);
  await resumeAndCheck(client, server, written);
});

test('a paused reader stalls the sender in virtual time; zero-window probes keep asking', async (t) => {
  const p = virtualPair(11, { tcp: TCP });
  t.after(() => p.close());
  const { client, server, written } = await pausedReader(p.a, p.netA, p.netB, 10_000);
  assertBounded(client, server, written);
  // A minute of virtual time later the sender has only probed the window (RFC 9293 §3.8.6.1).
  const before = client.tcpSocket!.stats();
  await sleep(p.a, 60_000);
  const after = client.tcpSocket!.stats();
  assert.equal(after.bytesAcked, before.bytesAcked);
  assert.ok(after.zeroWindowProbes > before.zeroWindowProbes, 'persist probes went out');
  await resumeAndCheck(client, server, written);
});

test('pause() in flowing mode: at most the high-water mark plus one read sits in the stream', async (t) => {
  const p = realPair({ tcp: TCP });
  t.after(() => p.close());
  const data = pattern(512 * 1024, 3);
  const chunks: Buffer[] = [];
  let serverSocket: Socket | null = null;
  const server = p.netB.createServer((s) => {
    serverSocket = s;
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      if (chunks.length === 1) s.pause();
    });
  });
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  await once(c, 'connect');
  const writing = writeAll(c, data, 32 * 1024);
  while (serverSocket === null || chunks.length === 0) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 200));
  const s = serverSocket as Socket;
  assert.equal(s.isPaused(), true);
  assert.ok(
    s.readableLength <= s.readableHighWaterMark + READ_CHUNK,
    `stream buffer ${s.readableLength}`,
  );
  assert.ok(s.tcpSocket!.readableBytes <= BUFFER);
  const total = s.bytesRead + s.tcpSocket!.readableBytes;
  assert.ok(total < data.length, 'the sender is held back');
  const done = once(s, 'end');
  const t0 = performance.now();
  s.resume();
  await writing;
  c.end();
  await done;
  assert.ok(performance.now() - t0 < 5000);
  assert.ok(Buffer.concat(chunks).equals(data));
  server.close();
});
