// The drivers: one host timer at the earliest deadline, batching, unref'd
// when nothing holds the process, wake() for device links, and the virtual
// clock jumping over idle time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { NEVER, SeededRng, later, millis, seconds, type Instant } from '../../src/base/index.js';
import {
  memoryPair,
  type LinkEndpoint,
  type LinkKind,
  type LinkStats,
} from '../../src/link/index.js';
import { createNet } from '../../src/net/index.js';
import {
  CryptoRng,
  RealDriver,
  joinDrivers,
  realClock,
  type HostTimerHandle,
  type HostTimers,
} from '../../src/runtime/index.js';
import { Stack, type StackEvent } from '../../src/stack/index.js';
import { B4, collect, listening, pattern, sleep, virtualPair } from '../net/helpers.js';

/** A host timer handle that remembers whether it is ref'd and whether it is still pending. */
class Tracked implements HostTimerHandle {
  readonly kind: 'timeout' | 'immediate';
  inner: NodeJS.Timeout | NodeJS.Immediate | null = null;
  refed = true;
  constructor(kind: 'timeout' | 'immediate') {
    this.kind = kind;
  }
  ref(): this {
    this.refed = true;
    this.inner!.ref();
    return this;
  }
  unref(): this {
    this.refed = false;
    this.inner!.unref();
    return this;
  }
}

/** Node's timers, counted: how many are pending at once, and how many were made. */
class CountingTimers implements HostTimers {
  readonly live = new Set<Tracked>();
  maxLive = 0;
  timeouts = 0;
  immediates = 0;

  setTimeout(callback: () => void, ms: number): HostTimerHandle {
    const t = new Tracked('timeout');
    t.inner = setTimeout(() => {
      this.live.delete(t);
      callback();
    }, ms);
    this.timeouts++;
    return this.begin(t);
  }
  clearTimeout(handle: HostTimerHandle): void {
    const t = handle as Tracked;
    clearTimeout(t.inner as NodeJS.Timeout);
    this.live.delete(t);
  }
  setImmediate(callback: () => void): HostTimerHandle {
    const t = new Tracked('immediate');
    t.inner = setImmediate(() => {
      this.live.delete(t);
      callback();
    });
    this.immediates++;
    return this.begin(t);
  }
  clearImmediate(handle: HostTimerHandle): void {
    const t = handle as Tracked;
    clearImmediate(t.inner as NodeJS.Immediate);
    this.live.delete(t);
  }
  private begin(t: Tracked): Tracked {
    this.live.add(t);
    if (this.live.size > this.maxLive) this.maxLive = this.live.size;
    return t;
  }
}

function countedPair(): { a: RealDriver; b: RealDriver; ta: CountingTimers; tb: CountingTimers } {
  const ta = new CountingTimers();
  const tb = new CountingTimers();
  const a = new RealDriver({ timers: ta });
  const b = new RealDriver({ timers: tb });
  joinDrivers(a, b, {
    a: { addresses: ['10.0.0.1/24'] },
    b: { addresses: ['10.0.0.2/24'] },
  });
  return { a, b, ta, tb };
}

test('one host timer at a time per driver, through a 1 MiB echo and the close', async (t) => {
  const { a, b, ta, tb } = countedPair();
  t.after(() => {
    a.close();
    b.close();
  });
  const server = createNet(b).createServer((s) => s.pipe(s));
  const port = await listening(server);
  const c = createNet(a).connect(port, B4);
  const data = pattern(1024 * 1024);
  const echoed = collect(c);
  c.end(data);
  assert.ok((await echoed).equals(data));
  await once(c, 'close');
  server.close();
  assert.equal(ta.maxLive, 1);
  assert.equal(tb.maxLive, 1);
  assert.ok(ta.immediates > 0 && tb.immediates > 0, 'passes ran on immediates');
  assert.ok(ta.timeouts > 0, 'deadlines (delayed ACK, RTO, TIME-WAIT) on a timeout');
});

/** A pass-through endpoint that watches large frames handed over and storage reclaimed. */
class HandoverSpy implements LinkEndpoint {
  readonly kind: LinkKind;
  readonly mtu: number;
  readonly checksumOffload: boolean;
  readonly inner: LinkEndpoint;
  largeSent = 0;
  readonly largeBuffers = new Set<ArrayBufferLike>();
  reclaimed = 0;
  constructor(inner: LinkEndpoint) {
    this.inner = inner;
    this.kind = inner.kind;
    this.mtu = inner.mtu;
    this.checksumOffload = inner.checksumOffload === true;
  }
  send(now: Instant, frame: Uint8Array, handover = false): boolean {
    if (frame.length > 32 * 1024) {
      this.largeSent++;
      this.largeBuffers.add(frame.buffer);
    }
    return this.inner.send(now, frame, handover);
  }
  receive(now: Instant): Uint8Array | null {
    return this.inner.receive(now);
  }
  release(frame: Uint8Array): void {
    this.inner.release!(frame);
  }
  reclaim(): Uint8Array | null {
    const r = this.inner.reclaim!();
    if (r !== null) this.reclaimed++;
    return r;
  }
  pollTimeout(): Instant {
    return this.inner.pollTimeout();
  }
  stats(): LinkStats {
    return this.inner.stats();
  }
}

test('64 KB frames handed over come back to their sender and are built again, data intact both ways', async (t) => {
  const a = new RealDriver();
  const b = new RealDriver();
  t.after(() => {
    a.close();
    b.close();
  });
  const [ea, eb] = memoryPair({ kind: 'ip', mtu: 65535, checksumOffload: true });
  const spyA = new HandoverSpy(ea);
  const spyB = new HandoverSpy(eb);
  joinDrivers(a, b, {
    pair: [spyA, spyB],
    a: { addresses: ['10.0.0.1/24'] },
    b: { addresses: ['10.0.0.2/24'] },
  });
  // An echo: both ends send 64 KB segments while they receive them, so
  // storage goes round in both directions at once.
  const server = createNet(b).createServer((s) => s.pipe(s));
  const port = await listening(server);
  const c = createNet(a).connect(port, B4);
  const data = pattern(16 * 1024 * 1024, 7);
  const echoed = collect(c);
  c.end(data);
  assert.ok((await echoed).equals(data), 'every byte came back, in order, unchanged');
  await once(c, 'close');
  server.close();
  for (const [name, spy] of [
    ['a', spyA],
    ['b', spyB],
  ] as const) {
    assert.ok(spy.largeSent >= 200, `${name} sent ${spy.largeSent} large frames`);
    assert.ok(spy.reclaimed > 0, `${name} got storage back`);
    // Without reuse every large frame would have a buffer of its own.
    assert.ok(
      spy.largeBuffers.size * 4 < spy.largeSent,
      `${name}: ${spy.largeBuffers.size} buffers for ${spy.largeSent} large frames`,
    );
  }
});

test('the timer sits at the stack deadline and is unref’d once no handle holds the process', async (t) => {
  const { a, b, ta } = countedPair();
  t.after(() => {
    a.close();
    b.close();
  });
  const server = createNet(b).createServer((s) => {
    s.resume();
    s.on('end', () => s.end());
  });
  const port = await listening(server);
  const c = createNet(a).connect(port, B4);
  c.resume();
  await once(c, 'connect');
  c.end();
  await once(c, 'close');
  server.close();
  await new Promise((r) => setTimeout(r, 20));
  // The client closed first: its connection waits in TIME-WAIT for 60 s.
  const sockets = a.stack.tcpSockets();
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0]!.state, 'TIME-WAIT');
  assert.equal(a.refs, 0);
  const timer = a.hostTimer;
  assert.equal(timer.kind, 'timeout');
  assert.equal(timer.at, a.stack.pollTimeout(), 'armed at the stack deadline');
  assert.ok(
    sockets[0]!.conn.pollTimeout() - a.now() > seconds(50),
    'the 2MSL timer is one of the pending deadlines',
  );
  const live = [...ta.live];
  assert.equal(live.length, 1);
  assert.equal(live[0]!.refed, false, 'TIME-WAIT does not keep the process alive');
});

test('a held reference with nothing to do keeps one ref’d timer; releasing it clears the timer', () => {
  const timers = new CountingTimers();
  const d = new RealDriver({ timers });
  assert.equal(d.hostTimer.kind, 'none');
  d.ref();
  assert.equal(d.hostTimer.kind, 'timeout');
  assert.equal(d.hostTimer.at, NEVER);
  assert.equal([...timers.live][0]!.refed, true);
  d.unref();
  assert.equal(d.hostTimer.kind, 'none');
  assert.equal(timers.live.size, 0);
  assert.throws(() => d.unref(), /no reference/);
  d.close();
});

test('API calls in one turn share one service pass (kick batches)', async (t) => {
  const { a, b, ta } = countedPair();
  t.after(() => {
    a.close();
    b.close();
  });
  const server = createNet(b).createServer((s) => s.resume());
  const port = await listening(server);
  const c = createNet(a).connect({ port, host: B4, noDelay: true });
  await once(c, 'connect');
  await new Promise((r) => setTimeout(r, 20));
  const before = ta.immediates;
  for (let i = 0; i < 50; i++) c.write(`message ${i}\n`);
  assert.equal(ta.immediates - before, 1, 'fifty writes, one immediate');
  c.destroy();
  server.close();
});

test('driver timers fire in order at their instants, fold into the one host timer, and cancel', async (t) => {
  const timers = new CountingTimers();
  const d = new RealDriver({ timers });
  t.after(() => d.close());
  const start = d.now();
  const fired: Array<{ name: string; at: Instant }> = [];
  d.setTimer(later(start, millis(30)), () => fired.push({ name: 'late', at: d.now() }));
  d.setTimer(later(start, millis(10)), () => fired.push({ name: 'early', at: d.now() }));
  const cancelled = d.setTimer(later(start, millis(20)), () =>
    fired.push({ name: 'x', at: d.now() }),
  );
  cancelled.cancel();
  assert.equal(timers.live.size, 1);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(
    fired.map((f) => f.name),
    ['early', 'late'],
  );
  assert.ok(fired[0]!.at >= later(start, millis(10)));
  assert.ok(fired[1]!.at >= later(start, millis(30)));
  assert.equal(timers.maxLive, 1);
});

test('wake(): a link that is not a WakingEndpoint is read only when the driver is woken', async (t) => {
  // Host c is a bare sans-IO stack driven by hand, on the far side of a
  // memory link whose near end the driver polls: like a TUN device, the
  // driver learns of frames only when someone calls wake().
  const d = new RealDriver();
  t.after(() => d.close());
  const [near, far] = memoryPair({ kind: 'ip' });
  d.attach(near, { addresses: ['10.0.0.1/24'] });
  const c = new Stack({ rng: new SeededRng(3) });
  c.addInterface({ kind: 'ip', addresses: ['10.0.0.3/24'] });
  const pump = (): void => {
    const now = realClock.now();
    for (let f = far.receive(now); f !== null; f = far.receive(now)) c.receiveFrame(now, 0, f);
    for (let out = c.pollTransmit(now); out !== null; out = c.pollTransmit(now))
      far.send(now, out.frame);
  };
  let connections = 0;
  const server = createNet(d).createServer(() => connections++);
  await listening(server, 80);
  await new Promise((r) => setTimeout(r, 10)); // the pass that attach() asked for is over

  c.connect(realClock.now(), { host: '10.0.0.1', port: 80 });
  pump(); // the SYN is now waiting at the driver's end
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(near.backlog, 1, 'the SYN sits unread');
  assert.equal(d.stack.tcpSockets().length, 0);

  d.wake();
  await new Promise((r) => setImmediate(r));
  assert.equal(near.backlog, 0);
  assert.equal(d.stack.tcpSockets().length, 1, 'SYN-RECEIVED');
  pump(); // c takes the SYN-ACK and answers with the ACK
  const events: StackEvent[] = [];
  for (let e = c.pollEvent(); e !== null; e = c.pollEvent()) events.push(e);
  assert.ok(events.some((e) => e.type === 'tcp' && e.event.type === 'connected'));
  assert.equal(connections, 0);
  d.wake();
  await new Promise((r) => setImmediate(r));
  assert.equal(connections, 1);
  server.close();
});

test('virtual clock: a minute of TIME-WAIT passes in a blink and the loop goes idle', async (t) => {
  const p = virtualPair(1);
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.pipe(s));
  const port = await listening(server);
  const realStart = performance.now();
  const c = p.netA.connect(port, B4);
  const echoed = collect(c);
  c.end('x');
  assert.equal((await echoed).toString(), 'x');
  server.close();
  await p.loop.whenIdle();
  assert.equal(p.a.stack.tcpSockets().length, 0, 'TIME-WAIT is over');
  assert.ok(p.loop.now >= seconds(60), `virtual time ${p.loop.now} µs`);
  assert.ok(performance.now() - realStart < 5000);
});

test('virtual clock: setTimeout fires after exactly its virtual delay; keepalive probes run', async (t) => {
  const p = virtualPair(2);
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.resume());
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  await once(c, 'connect');
  const start = p.a.now();
  c.setTimeout(30_000);
  await once(c, 'timeout');
  assert.equal(p.a.now() - start, seconds(30));
  c.setTimeout(0);
  c.setKeepAlive(true, 10_000);
  await sleep(p.a, 60_000);
  const stats = c.tcpSocket!.stats();
  assert.ok(stats.keepAliveProbes >= 1, `${stats.keepAliveProbes} probes`);
  assert.equal(stats.state, 'ESTABLISHED', 'the peer answered them');
  c.destroy();
  server.close();
});

test('virtual clock: a SYN nobody answers times out with ETIMEDOUT after the SYN retries', async (t) => {
  const p = virtualPair(4, { kind: 'ip' });
  t.after(() => p.close());
  const start = p.a.now();
  const realStart = performance.now();
  const c = p.netA.connect(80, '10.0.0.9');
  const [error] = (await once(c, 'error').catch((e: unknown) => [e])) as [
    Error & { code?: string; syscall?: string },
  ];
  assert.equal(error.code, 'ETIMEDOUT');
  assert.equal(error.syscall, 'connect');
  // Linux tcp_syn_retries = 6: 1 + 2 + 4 + ... + 64 s = 127 s.
  assert.equal(p.a.now() - start, seconds(127));
  assert.ok(performance.now() - realStart < 5000);
});

test('virtual clock: the same seed gives the same run', async () => {
  async function run(seed: number): Promise<string[]> {
    const p = virtualPair(seed);
    const log: string[] = [];
    p.a.onEvent((e, now) => {
      if (e.type === 'tcp' && e.event.type === 'state') log.push(`${now} ${e.event.transition.to}`);
    });
    const server = p.netB.createServer((s) => s.pipe(s));
    const port = await listening(server);
    const c = p.netA.connect(port, B4);
    const echoed = collect(c);
    c.end(pattern(100_000));
    await echoed;
    log.push(`port ${c.localPort}`);
    server.close();
    await p.loop.whenIdle();
    p.close();
    return log;
  }
  const first = await run(42);
  assert.deepEqual(await run(42), first);
  assert.notDeepEqual(await run(43), first);
});

test('CryptoRng: 32-bit values from the host CSPRNG, different per instance', () => {
  const a = new CryptoRng();
  const b = new CryptoRng();
  const xs = Array.from({ length: 600 }, () => a.nextU32());
  const ys = Array.from({ length: 600 }, () => b.nextU32());
  for (const x of xs) assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
  assert.ok(new Set(xs).size > 590, 'no obvious repetition, across batch refills');
  assert.notDeepEqual(xs, ys);
  // Every bit position takes both values.
  let or = 0;
  let and = 0xffffffff;
  for (const x of xs) {
    or = (or | x) >>> 0;
    and = (and & x) >>> 0;
  }
  assert.equal(or, 0xffffffff);
  assert.equal(and, 0);
});
