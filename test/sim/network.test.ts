// The simulator's own tests: do impaired links do what they say while they
// carry TCP, does a seed repeat byte for byte, and does virtual time run fast?
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SeededRng,
  instant,
  millis,
  randomBytes,
  seconds,
  type Instant,
} from '../../src/base/index.js';
import { impair, memoryPair, type ImpairOptions, type ImpairedLink } from '../../src/link/index.js';
import { Network, type SimHost } from '../../src/sim/index.js';
import { planScenario, runScenario } from '../../src/sim/scenario/index.js';
import type { TcpConfig } from '../../src/tcp/index.js';
import type { TcpSocket } from '../../src/stack/index.js';

function at(ms: number): Instant {
  return instant(millis(ms));
}

/** Two hosts a (10.0.0.1) and b (10.0.0.2) on one Ethernet link; a's end is impaired outgoing, b's incoming side untouched. */
function impairedPair(
  seed: number,
  aToB: ImpairOptions['outgoing'],
  bToA: ImpairOptions['outgoing'] = {},
  tcp: Partial<TcpConfig> = {},
): { net: Network; a: SimHost; b: SimHost; la: ImpairedLink; lb: ImpairedLink } {
  const net = new Network({ seed });
  const a = net.addHost('a', { tcp });
  const b = net.addHost('b', { tcp });
  const [ea, eb] = memoryPair({ kind: 'ethernet', mtu: 1500 });
  const la = impair(ea, { rng: net.rng(), outgoing: aToB });
  const lb = impair(eb, { rng: net.rng(), outgoing: bToA });
  net.attach(a, la, { addresses: ['10.0.0.1/24'], mac: '02:00:00:00:00:0a' });
  net.attach(b, lb, { addresses: ['10.0.0.2/24'], mac: '02:00:00:00:00:0b' });
  return { net, a, b, la, lb };
}

interface Transfer {
  client: TcpSocket;
  /** Bytes b has read so far. */
  received(): number;
  /** When b read the last byte, or -1. */
  doneAt(): number;
  /** The bytes b read, in order. */
  data(): Uint8Array;
}

/** a sends `data` to b (port 9) and shuts down; b reads everything. */
function transfer(net: Network, a: SimHost, b: SimHost, data: Uint8Array): Transfer {
  const listener = b.stack.listen({ port: 9 });
  const chunks: Uint8Array[] = [];
  let received = 0;
  let doneAt = -1;
  let server: TcpSocket | null = null;
  const buf = new Uint8Array(65_536);
  const drain = (now: Instant): void => {
    if (server === null) return;
    for (let n = server.read(buf); n > 0; n = server.read(buf)) {
      chunks.push(buf.slice(0, n));
      received += n;
    }
    if (received === data.length && doneAt < 0) doneAt = now;
  };
  b.onEvent = (e, now) => {
    if (e.type === 'accept') {
      server = listener.accept();
      drain(now);
    } else if (e.type === 'tcp' && e.socket === server) {
      drain(now);
      if (e.event.type === 'peer-closed') server.shutdown(now);
    }
  };
  const client = a.stack.connect(net.now, { host: '10.0.0.2', port: 9 });
  let offset = 0;
  a.onEvent = (e, now) => {
    if (e.type !== 'tcp' || e.socket !== client) return;
    if (e.event.type === 'connected' || e.event.type === 'writable') {
      while (offset < data.length) {
        const n = client.write(data.subarray(offset));
        offset += n;
        if (n === 0) break;
      }
      if (offset === data.length) client.shutdown(now);
    }
  };
  return {
    client,
    received: () => received,
    doneAt: () => doneAt,
    data: () => {
      const out = new Uint8Array(received);
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.length;
      }
      return out;
    },
  };
}

test('loss measured on a link carrying TCP is the loss configured, each way', () => {
  const { net, a, b, la, lb } = impairedPair(11, { loss: 0.05 }, { loss: 0.1 });
  const data = randomBytes(new SeededRng(1), new Uint8Array(3_000_000));
  const t = transfer(net, a, b, data);
  net.runUntil(() => t.doneAt() >= 0, at(600_000));
  assert.deepEqual(t.data(), data, 'TCP delivered every byte through the loss');
  for (const [link, rate] of [
    [la, 0.05],
    [lb, 0.1],
  ] as const) {
    const frames = link.impairStats().outgoing.frames;
    const lost = link.stats().drops.loss;
    // Binomial: the standard deviation of the measured rate is sqrt(p(1-p)/n);
    // four of them is far beyond what a correct generator strays.
    const sd = Math.sqrt((rate * (1 - rate)) / frames);
    assert.ok(frames > 500, `enough frames to measure (${frames})`);
    assert.ok(
      Math.abs(lost / frames - rate) < 4 * sd,
      `loss ${(lost / frames).toFixed(4)} over ${frames} frames, configured ${rate}`,
    );
  }
  // The sender saw the losses as retransmissions.
  assert.ok(t.client.stats().bytesRetransmitted > 0);
});

/** A 4 MB transfer through a 10 Mbit/s limit with a 64 KiB drop-tail queue; goodput in bit/s. */
function throughRateLimit(tcp: Partial<TcpConfig>): {
  goodput: number;
  retransmitted: number;
  queueDrops: number;
} {
  const rate = 10e6;
  const { net, a, b, la } = impairedPair(
    12,
    { rate, queueBytes: 64 * 1024, delay: millis(5) },
    { delay: millis(5) },
    { sendBufferSize: 4 << 20, receiveBufferSize: 4 << 20, ...tcp },
  );
  const data = randomBytes(new SeededRng(2), new Uint8Array(4_000_000));
  const t = transfer(net, a, b, data);
  net.runUntil(() => t.doneAt() >= 0, at(600_000));
  assert.deepEqual(t.data(), data);
  return {
    goodput: (data.length * 8) / (t.doneAt() / 1e6),
    retransmitted: t.client.stats().segmentsRetransmitted,
    queueDrops: la.stats().drops['queue-full'],
  };
}

test('a bandwidth limit holds for a TCP transfer: goodput close to the rate, never above', () => {
  // Without SACK, the simplest sender: this measures the link, not recovery.
  const rate = 10e6;
  const { goodput, queueDrops } = throughRateLimit({ sack: false });
  // Payload is 1448 of each 1514-byte frame with timestamps (0.956); slow
  // start and recovery from the queue's drops cost some more.
  assert.ok(goodput <= rate * (1448 / 1514), `goodput ${goodput} bit/s above the rate`);
  assert.ok(goodput >= rate * 0.85, `goodput ${(goodput / 1e6).toFixed(2)} Mbit/s of 10`);
  assert.ok(queueDrops > 0, 'slow start overran the small queue');
});

test('with SACK, recovering from drop-tail drops resends about what was dropped', () => {
  const sack = throughRateLimit({ sack: true });
  const plain = throughRateLimit({ sack: false });
  // SACK resends what was dropped (about 20 segments here), not every hole
  // again on each partial ACK: no more than twice NewReno's count.
  assert.ok(
    sack.retransmitted <= 2 * plain.retransmitted,
    `${sack.retransmitted} segments resent with SACK, ${plain.retransmitted} without`,
  );
  assert.ok(sack.goodput >= 10e6 * 0.85, `goodput ${(sack.goodput / 1e6).toFixed(2)} Mbit/s of 10`);
});

test('the same seed gives the same pcap of every link, byte for byte; another seed does not', () => {
  // Seeds whose plans impair their links (loss, reordering, duplication, corruption, jitter).
  let checked = 0;
  for (let seed = 1; checked < 4 && seed < 200; seed++) {
    const plan = planScenario(seed);
    const impaired = plan.links.some(
      (l) => Object.keys(l.leftToRight).length + Object.keys(l.rightToLeft).length >= 4,
    );
    if (!impaired) continue;
    checked++;
    const first = runScenario(seed, { capture: true });
    const second = runScenario(seed, { capture: true });
    assert.equal(first.captures.length, plan.links.length);
    assert.equal(second.captures.length, first.captures.length);
    for (let i = 0; i < first.captures.length; i++) {
      assert.ok(first.captures[i]!.bytes.length > 24, `seed ${seed}: a capture with records`);
      assert.deepEqual(
        second.captures[i]!.bytes,
        first.captures[i]!.bytes,
        `seed ${seed} link ${i + 1}`,
      );
    }
    assert.deepEqual(second.summary, first.summary);
    assert.equal(second.virtualTime, first.virtualTime);
    // Capturing changes nothing in the run.
    const uncaptured = runScenario(seed);
    assert.deepEqual(uncaptured.summary, first.summary);
    assert.equal(uncaptured.steps, first.steps);
  }
  assert.equal(checked, 4);
  const a = runScenario(3, { capture: true }).captures[0]!.bytes;
  const b = runScenario(4, { capture: true }).captures[0]!.bytes;
  assert.notDeepEqual(a, b);
});

test('a cut link stalls a transfer and healing resumes it', () => {
  const { net, a, b, la } = impairedPair(13, { rate: 8e6, queueBytes: 32 * 1024 });
  const data = randomBytes(new SeededRng(3), new Uint8Array(1_000_000));
  const t = transfer(net, a, b, data);
  const samples: number[] = [];
  net.schedule(at(300), (now) => la.cut(now));
  // Sample just after the cut (in-flight frames are gone) and just before the heal.
  net.schedule(at(400), () => samples.push(t.received()));
  net.schedule(at(10_200), () => samples.push(t.received()));
  net.schedule(at(10_300), () => la.heal());
  net.runUntil(() => t.doneAt() >= 0, at(600_000));
  assert.equal(samples.length, 2);
  assert.ok(
    samples[0]! > 0 && samples[0]! < data.length,
    `mid-transfer at the cut (${samples[0]})`,
  );
  assert.equal(samples[1], samples[0], 'nothing arrives while the link is cut');
  assert.ok(la.stats().drops.cut > 0, 'frames sent into the cut were dropped');
  assert.deepEqual(t.data(), data, 'the transfer resumed and completed after the heal');
  assert.ok(t.doneAt() > 10_300_000, 'it finished after the heal');
  assert.ok(t.client.stats().retransmitTimeouts > 0, 'the sender backed off during the cut');
});

test('minutes of virtual time run in well under a second of real time', () => {
  // An idle connection with keepalive every 60 s for an hour, then TIME-WAIT:
  // the simulator jumps from deadline to deadline instead of ticking.
  const { net, a, b } = impairedPair(14, { delay: millis(20) }, { delay: millis(20) });
  b.stack.listen({ port: 7 });
  const socket = a.stack.connect(net.now, { host: '10.0.0.2', port: 7 });
  socket.setKeepAlive(net.now, true, seconds(60));
  a.onEvent = null;
  b.onEvent = null;
  const started = performance.now();
  net.runUntilTime(instant(seconds(3600)));
  socket.close(net.now);
  for (const s of b.stack.tcpSockets()) s.close(net.now);
  net.runUntil(() => false, instant(seconds(3800)));
  const wall = performance.now() - started;
  assert.ok(net.now >= seconds(3600), 'an hour of virtual time passed');
  const probes = socket.stats().keepAliveProbes;
  assert.ok(probes >= 50 && probes <= 60, `a keepalive probe a minute (${probes})`);
  assert.equal(a.stack.stats().tcpConnections, 0, 'closed and TIME-WAIT expired');
  assert.ok(net.steps < 2000, `the simulator took ${net.steps} steps, not one per tick`);
  // The wall-clock bound is generous (a loaded 2-core machine); the step count above is the real check.
  assert.ok(wall < 5000, `an hour of virtual time took ${wall.toFixed(0)} ms`);
});
