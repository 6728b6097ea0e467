// The links over host channels (web streams of frames, MessagePort): frames
// pass intact and in order, the MTU is enforced both ways and counted, a
// full receive queue drops and counts, and two real-clock stacks joined by
// each carry a TCP echo with the bytes checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  frameStreamEndpoint,
  messagePortEndpoint,
  type LinkEndpoint,
  type PushedFrameEndpoint,
} from '../../src/link/index.js';
import { RealDriver } from '../../src/runtime/index.js';
import { createWeb } from '../../src/web/index.js';
import { instant } from '../../src/base/index.js';

type Endpoint = PushedFrameEndpoint & { close(): void };

type Options = { mtu?: number; receiveQueueFrames?: number };

function streamPair(options: Options = {}, optionsB: Options = options): [Endpoint, Endpoint] {
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  return [
    frameStreamEndpoint(ba.readable, ab.writable, options),
    frameStreamEndpoint(ab.readable, ba.writable, optionsB),
  ];
}

function portPair(options: Options = {}, optionsB: Options = options): [Endpoint, Endpoint] {
  const { port1, port2 } = new MessageChannel();
  return [messagePortEndpoint(port1, options), messagePortEndpoint(port2, optionsB)];
}

const PAIRS = { 'web streams': streamPair, MessagePort: portPair };

/** Waits until `endpoint` says frames are readable, then takes them all. */
async function receiveAll(endpoint: Endpoint, count: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  const t = instant(1);
  while (frames.length < count) {
    await new Promise<void>((resolve) => endpoint.onReadable(resolve));
    endpoint.onReadable(null);
    for (let f = endpoint.receive(t); f !== null; f = endpoint.receive(t)) frames.push(f);
  }
  return frames;
}

function frame(length: number, tag: number): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (tag + i) & 0xff;
  return f;
}

for (const [name, makePair] of Object.entries(PAIRS)) {
  test(`${name}: frames arrive intact and in order; sends copy`, async () => {
    const [a, b] = makePair();
    const sent = [frame(14, 1), frame(1514, 2), frame(60, 3)];
    const scratch = new Uint8Array(1514);
    for (const f of sent) {
      scratch.set(f);
      assert.equal(a.send(instant(1), scratch.subarray(0, f.length)), true);
      scratch.fill(0xee); // the link copied: this must not reach the peer
    }
    const got = await receiveAll(b, sent.length);
    assert.deepEqual(got, sent);
    assert.equal(a.stats().txFrames, 3);
    assert.equal(b.stats().rxFrames, 3);
    assert.equal(b.stats().rxBytes, 14 + 1514 + 60);
    a.close();
    b.close();
  });

  test(`${name}: the MTU holds both ways, and drops are counted with their reason`, async () => {
    // The sender's MTU is 1500, the receiver's 1000.
    const [a, b] = makePair({ mtu: 1500 }, { mtu: 1000 });
    assert.equal(b.send(instant(1), new Uint8Array(1015)), false);
    assert.equal(b.send(instant(1), new Uint8Array(13)), false);
    assert.equal(b.stats().drops['too-big'], 1);
    assert.equal(b.stats().drops['too-short'], 1);
    assert.equal(a.send(instant(1), frame(1514, 1)), true, 'fits the sender');
    assert.equal(a.send(instant(1), frame(1014, 2)), true);
    const [got] = await receiveAll(b, 1);
    assert.deepEqual(got, frame(1014, 2), 'only the frame within its MTU arrives');
    assert.equal(b.stats().drops['too-big'], 2, 'the other was dropped on arrival, counted');
    assert.equal(b.stats().rxDropped, 1);
    a.close();
    b.close();
  });

  test(`${name}: a full receive queue drops what comes next and counts it`, async () => {
    const [a, b] = makePair({ receiveQueueFrames: 4 });
    for (let i = 0; i < 10; i++) a.send(instant(1), frame(100, i));
    // Let every message arrive before anything is received.
    await new Promise((r) => setTimeout(r, 50));
    const got: Uint8Array[] = [];
    for (let f = b.receive(instant(2)); f !== null; f = b.receive(instant(2))) got.push(f);
    assert.equal(got.length, 4);
    assert.deepEqual(got[0], frame(100, 0), 'the oldest frames stay');
    assert.equal(b.stats().rxDropped, 6);
    assert.equal(b.stats().drops['queue-full'], 6);
    a.close();
    b.close();
  });

  test(`${name}: two real-clock stacks joined by it carry a 2 MB echo`, async (t) => {
    const [ea, eb] = makePair();
    const a = new RealDriver();
    const b = new RealDriver();
    const attach = (driver: RealDriver, e: Endpoint, address: string): void => {
      driver.attach(e as LinkEndpoint, { addresses: [address] });
      e.onReadable(() => driver.wake());
    };
    attach(a, ea, '10.0.0.1/24');
    attach(b, eb, '10.0.0.2/24');
    t.after(() => {
      a.close();
      b.close();
      ea.close();
      eb.close();
    });
    const server = createWeb(b).listen({ port: 7 });
    void (async () => {
      for await (const conn of server) void conn.readable.pipeTo(conn.writable);
    })();
    const socket = createWeb(a).connect({ hostname: '10.0.0.2', port: 7 });
    const data = frame(2 * 1024 * 1024, 9);
    const writing = (async () => {
      const w = socket.writable.getWriter();
      await w.write(data);
      await w.close();
    })();
    const chunks: Uint8Array[] = [];
    for await (const c of socket.readable) chunks.push(c);
    await writing;
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(data));
    await socket.closed;
    server.close();
  });
}
