// The memory pair beyond the shared compliance suite: its options, its
// bounded backlog, arrival instants, and a FIFO that keeps order across
// growth and wrap-around.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, instant } from '../../src/base/index.js';
import { LinkDropReason, LinkKind, MIN_MTU, memoryPair } from '../../src/link/index.js';
import { tagOf, taggedFrame } from './frames.js';

test('defaults: MTU 1500, a backlog of 1000 frames', () => {
  const [a, b] = memoryPair({ kind: LinkKind.Ethernet });
  assert.equal(a.mtu, 1500);
  assert.equal(b.queueFrames, 1000);
});

test('a full backlog refuses the frame at the sender and counts it as queue-full', () => {
  const [a, b] = memoryPair({ kind: LinkKind.Ip, queueFrames: 3 });
  for (let i = 0; i < 5; i++)
    assert.equal(a.send(instant(0), taggedFrame(LinkKind.Ip, 60, i)), i < 3);
  assert.equal(b.backlog, 3);
  assert.equal(a.stats().drops[LinkDropReason.QueueFull], 2);
  assert.equal(a.stats().txFrames, 3);
  assert.equal(tagOf(LinkKind.Ip, b.receive(instant(0))!), 0);
  // Room again for one.
  assert.equal(a.send(instant(1), taggedFrame(LinkKind.Ip, 60, 5)), true);
  const rest = [
    b.receive(instant(1)),
    b.receive(instant(1)),
    b.receive(instant(1)),
    b.receive(instant(1)),
  ];
  assert.deepEqual(
    rest.map((f) => (f === null ? null : tagOf(LinkKind.Ip, f))),
    [1, 2, 5, null],
  );
});

test('a frame is receivable from the instant it was sent, and pollTimeout says which', () => {
  const [a, b] = memoryPair({ kind: LinkKind.Ip });
  a.send(instant(700), taggedFrame(LinkKind.Ip, 60, 1));
  a.send(instant(900), taggedFrame(LinkKind.Ip, 60, 2));
  assert.equal(b.pollTimeout(), 700);
  // Asked about an earlier instant (a driver whose clock lags its peer's), nothing has arrived yet.
  assert.equal(b.receive(instant(699)), null);
  assert.equal(tagOf(LinkKind.Ip, b.receive(instant(800))!), 1);
  assert.equal(b.pollTimeout(), 900);
  assert.equal(b.receive(instant(899)), null);
  assert.equal(tagOf(LinkKind.Ip, b.receive(instant(900))!), 2);
  assert.equal(b.pollTimeout(), NEVER);
  assert.equal(a.pollTimeout(), NEVER);
});

test('order holds across ring growth and wrap-around', () => {
  const [a, b] = memoryPair({ kind: LinkKind.Ip, queueFrames: Infinity });
  let sent = 0;
  let got = 0;
  // Uneven fill and drain so the ring grows several times and its head wraps.
  for (let round = 0; round < 40; round++) {
    const burst = (round * 37) % 101;
    for (let i = 0; i < burst; i++)
      assert.equal(a.send(instant(round), taggedFrame(LinkKind.Ip, 28, sent++)), true);
    const take = (round * 53) % 89;
    for (let i = 0; i < take; i++) {
      const f = b.receive(instant(round));
      if (f === null) break;
      assert.equal(tagOf(LinkKind.Ip, f), got++);
    }
  }
  for (let f = b.receive(instant(99)); f !== null; f = b.receive(instant(99))) {
    assert.equal(tagOf(LinkKind.Ip, f), got++);
  }
  assert.equal(got, sent);
  assert.ok(sent > 1000);
});

test('a frame handed over is delivered as it is, without a copy; one not handed over is copied', () => {
  const [a, b] = memoryPair({ kind: 'ip', mtu: 1500 });
  const given = new Uint8Array(100).fill(0x45);
  const lent = new Uint8Array(100).fill(0x46);
  assert.equal(a.send(instant(1), given, true), true);
  assert.equal(a.send(instant(1), lent), true);
  assert.equal(b.receive(instant(1)), given);
  const copy = b.receive(instant(1));
  assert.notEqual(copy, lent);
  assert.deepEqual(copy, lent);
  assert.equal(a.stats().txFrames, 2);
  assert.equal(b.stats().rxBytes, 200);
});

test('release gives a large handed-over frame back to its sender once; small, copied and stale frames stay put', () => {
  const [a, b] = memoryPair({ kind: 'ip', mtu: 65535 });
  assert.equal(a.reclaim(), null, 'nothing to reclaim yet');
  const given = new Uint8Array(20_000).fill(1);
  const lent = new Uint8Array(20_000).fill(2);
  a.send(instant(1), given, true);
  a.send(instant(1), lent);
  const first = b.receive(instant(1))!;
  b.release(first);
  b.release(first); // twice: still once
  assert.equal(a.reclaim(), given);
  assert.equal(a.reclaim(), null);
  // A copy the link made is not the sender's storage: nothing comes back.
  b.release(b.receive(instant(1))!);
  assert.equal(a.reclaim(), null);
  // Only the frame the last receive() returned may be released.
  const g1 = new Uint8Array(20_000).fill(3);
  const g2 = new Uint8Array(20_000).fill(4);
  a.send(instant(2), g1, true);
  a.send(instant(2), g2, true);
  const r1 = b.receive(instant(2))!;
  b.receive(instant(2));
  b.release(r1);
  assert.equal(a.reclaim(), null, 'a frame received before the last one');
  // What waits for reclaim is bounded; the rest is left to the collector.
  for (let i = 0; i < 200; i++) {
    a.send(instant(3), new Uint8Array(20_000), true);
    b.release(b.receive(instant(3))!);
  }
  let back = 0;
  while (a.reclaim() !== null) back++;
  assert.ok(back > 0 && back < 200, `${back} waited`);
  // A small frame (an ACK) is not worth sending back.
  a.send(instant(4), new Uint8Array(100), true);
  b.release(b.receive(instant(4))!);
  assert.equal(a.reclaim(), null);
});

test('bad options are API misuse and throw with a message that says what to pass', () => {
  assert.throws(
    () => memoryPair({ kind: LinkKind.Ip, mtu: MIN_MTU - 1 }),
    /mtu must be an integer from 68/,
  );
  assert.throws(() => memoryPair({ kind: LinkKind.Ip, mtu: 1500.5 }), RangeError);
  assert.throws(
    () => memoryPair({ kind: 'token-ring' as LinkKind }),
    /kind must be 'ethernet' or 'ip'/,
  );
  assert.throws(() => memoryPair({ kind: LinkKind.Ip, queueFrames: 0 }), /queueFrames/);
  assert.doesNotThrow(() => memoryPair({ kind: LinkKind.Ip, mtu: 65535, queueFrames: Infinity }));
});
