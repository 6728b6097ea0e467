// tcpts relay: the RFC 6455 server against the ws client, the learning
// switch, and two tcpts stacks in Node joined through the relay over the
// WebSocket link (echo, bytes checked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once, EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { webSocketEndpoint } from '../../src/link/index.js';
import { RealDriver } from '../../src/runtime/index.js';
import { createWeb } from '../../src/web/index.js';
import { LearningSwitch, type SwitchPort } from '../../src/cli/ethernet-switch.js';
import { acceptKey } from '../../src/cli/websocket-server.js';
import { runRelay, startRelay } from '../../src/cli/relay.js';
import { interopSkipReason, withNetns } from '../interop/netns.js';

test('Sec-WebSocket-Accept for the key of RFC 6455 §1.3', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

function ethernet(dst: number, src: number, tag: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set([0x02, 0, 0, 0, 0, dst], 0);
  f.set([0x02, 0, 0, 0, 0, src], 6);
  f[14] = tag;
  return f;
}

class Port implements SwitchPort {
  readonly got: number[] = [];
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  send(frame: Uint8Array): boolean {
    this.got.push(frame[14]!);
    return true;
  }
}

test('learning switch: floods unknown and broadcast, forwards to learned ports only', () => {
  const sw = new LearningSwitch();
  const [a, b, c] = [new Port('a'), new Port('b'), new Port('c')];
  for (const p of [a, b, c]) sw.add(p);
  sw.receive(a, ethernet(2, 1, 10)); // 2 unknown: flooded to b and c; 1 learned on a
  sw.receive(b, ethernet(1, 2, 11)); // 1 is on a: a alone
  sw.receive(a, ethernet(2, 1, 12)); // 2 is now on b: b alone
  const broadcast = ethernet(0, 3, 13);
  broadcast.fill(0xff, 0, 6);
  sw.receive(c, broadcast); // to a and b
  assert.deepEqual(a.got, [11, 13]);
  assert.deepEqual(b.got, [10, 12, 13]);
  assert.deepEqual(c.got, [10]);
  sw.remove(b);
  sw.receive(a, ethernet(2, 1, 14)); // b's address forgotten: flooded (to c)
  assert.deepEqual(c.got, [10, 14]);
  assert.deepEqual(sw.stats(), { frames: 5, forwarded: 2, flooded: 3, filtered: 0, portDrops: 0 });
});

test('relay: a text message is refused with 1003, an unknown path answers HTTP 426', async (t) => {
  const relay = await startRelay({ port: 0 });
  t.after(() => relay.close());
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/`);
  await once(ws, 'open');
  ws.send('hello');
  const [code] = (await once(ws, 'close')) as [number];
  assert.equal(code, 1003);
  const response = await fetch(`http://127.0.0.1:${relay.port}/`);
  assert.equal(response.status, 426);
  await response.text();
});

/** A tcpts stack in this process on the relay's segment, through a ws client. */
async function stackOnRelay(port: number, address: string, mac: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await once(ws, 'open');
  const link = webSocketEndpoint(ws);
  const driver = new RealDriver();
  // Stacks on one segment need MACs of their own (the default comes from the interface index).
  driver.attach(link, { addresses: [address], mac });
  link.onReadable(() => driver.wake());
  return {
    driver,
    web: createWeb(driver),
    close() {
      driver.close();
      link.close();
    },
  };
}

test('relay: two stacks in Node over WebSocket links through the relay: 4 MB echo', async (t) => {
  const relay = await startRelay({ port: 0 });
  const a = await stackOnRelay(relay.port, '10.7.0.1/24', '02:00:00:07:00:01');
  const b = await stackOnRelay(relay.port, '10.7.0.2/24', '02:00:00:07:00:02');
  t.after(async () => {
    a.close();
    b.close();
    await relay.close();
  });
  const server = b.web.listen({ port: 7 });
  void (async () => {
    for await (const conn of server) void conn.readable.pipeTo(conn.writable);
  })();
  const socket = a.web.connect({ hostname: '10.7.0.2', port: 7 });
  const data = new Uint8Array(4 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >>> 11)) & 0xff;
  const writing = (async () => {
    const w = socket.writable.getWriter();
    for (let i = 0; i < data.length; i += 256 * 1024)
      await w.write(data.subarray(i, i + 256 * 1024));
    await w.close();
  })();
  const chunks: Uint8Array[] = [];
  for await (const chunk of socket.readable) chunks.push(chunk);
  await writing;
  assert.ok(Buffer.concat(chunks).equals(Buffer.from(data)), 'the echo is the data');
  await socket.closed;
  server.close();
  const s = relay.switch.stats();
  assert.ok(s.forwarded > 0 && s.flooded > 0, 'ARP flooded, then unicast forwarded');
});

test('tcpts relay command: usage errors, then listens until SIGINT', async () => {
  const lines: string[] = [];
  const io = { out: (x: string) => lines.push(x), err: (x: string) => lines.push(`ERR ${x}`) };
  assert.equal(await runRelay([], io), 2);
  assert.match(lines.pop()!, /--port P is required/);
  assert.equal(await runRelay(['--port', '70000'], io), 2);
  const signals = new EventEmitter();
  const running = runRelay(['--port', '0'], io, { signals });
  while (!lines.some((l) => l.includes('listening on'))) await new Promise((r) => setTimeout(r, 5));
  const url = /ws:\/\/\S+/.exec(lines.find((l) => l.includes('listening on'))!)![0];
  const ws = new WebSocket(url);
  await once(ws, 'open');
  signals.emit('SIGINT');
  assert.equal(await running, 0);
  const [code] = (await once(ws, 'close')) as [number];
  assert.equal(code, 1001, 'clients are told the relay is going away');
  assert.ok(lines.some((l) => l.startsWith('tcpts relay: join')));
});

test('relay --tap: a stack on the relay reaches the kernel through the TAP device (ARP, ping)', async (t) => {
  const skip = interopSkipReason();
  if (skip !== null) {
    t.skip(skip);
    return;
  }
  await withNetns(async (ns) => {
    const relay = await startRelay({ port: 0, tap: 'relay0', netns: ns.path });
    ns.ip(['addr', 'add', '10.6.0.1/24', 'dev', 'relay0']);
    const stack = await stackOnRelay(relay.port, '10.6.0.2/24', '02:00:00:06:00:02');
    try {
      const reply = new Promise<number>((resolve) => {
        stack.driver.onEvent((event) => {
          if (event.type === 'echo-reply' && event.from.text === '10.6.0.1')
            resolve(event.sequence);
        });
      });
      // The first echo waits for ARP through the relay; retry until one comes back.
      let answered: number | null = null;
      for (let sequence = 1; sequence <= 20 && answered === null; sequence++) {
        stack.driver.stack.ping(stack.driver.now(), '10.6.0.1', { sequence });
        stack.driver.kick();
        answered = await Promise.race([
          reply,
          new Promise<null>((r) => setTimeout(() => r(null), 250)),
        ]);
      }
      assert.notEqual(answered, null, 'the kernel behind the TAP device answered');
      assert.ok(relay.tap!.stats().rxFrames > 0 && relay.tap!.stats().txFrames > 0);
    } finally {
      stack.close();
      await relay.close();
    }
  });
});
