import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../src/base/index.js';
import { EPHEMERAL_PORT_HIGH, EPHEMERAL_PORT_LOW, PortAllocator } from '../../src/stack/ports.js';

const L4 = Uint8Array.of(10, 0, 0, 1);
const R4 = Uint8Array.of(10, 0, 0, 2);
const L6 = Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const R6 = Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
const free = (): boolean => false;

test('the default range is Linux\u2019s ip_local_port_range and every port falls in it', () => {
  assert.equal(EPHEMERAL_PORT_LOW, 32768);
  assert.equal(EPHEMERAL_PORT_HIGH, 60999);
  const a = new PortAllocator(new SeededRng(1));
  for (let i = 0; i < 2000; i++) {
    const p = a.allocate(L4, R4, i & 0xffff, free);
    assert.ok(p >= 32768 && p <= 60999, `port ${p} in range`);
  }
  const b = new PortAllocator(new SeededRng(1), 5000, 5009);
  for (let i = 0; i < 100; i++) {
    const p = b.allocate(L6, R6, 443, free);
    assert.ok(p >= 5000 && p <= 5009);
  }
});

test('one destination walks the range one step per connection', () => {
  const a = new PortAllocator(new SeededRng(2));
  const first = a.allocate(L4, R4, 80, free);
  const span = EPHEMERAL_PORT_HIGH - EPHEMERAL_PORT_LOW + 1;
  for (let i = 1; i < 50; i++) {
    const p = a.allocate(L4, R4, 80, free);
    assert.equal(p, EPHEMERAL_PORT_LOW + ((first - EPHEMERAL_PORT_LOW + i) % span));
  }
});

test('different destinations start at unrelated points of the range', () => {
  const a = new PortAllocator(new SeededRng(3));
  const ports = new Set<number>();
  const n = 200;
  for (let port = 1; port <= n; port++) ports.add(a.allocate(L4, R4, port, free));
  // Were the offset not hashed, consecutive calls would give consecutive ports.
  assert.ok(ports.size >= n - 2, `${ports.size} distinct of ${n}`);
  const sorted = [...ports].sort((x, y) => x - y);
  const spread = sorted[sorted.length - 1]! - sorted[0]!;
  assert.ok(spread > 20000, `spread over the range, got ${spread}`);
  // Both halves of the range are used.
  const mid = (EPHEMERAL_PORT_LOW + EPHEMERAL_PORT_HIGH) / 2;
  const below = sorted.filter((p) => p < mid).length;
  assert.ok(below > n / 4 && below < (3 * n) / 4, `${below} of ${n} below the middle`);
  // The address family and address matter too.
  const b = new PortAllocator(new SeededRng(3));
  const c = new PortAllocator(new SeededRng(3));
  assert.notEqual(b.allocate(L4, R4, 80, free), c.allocate(L6, R6, 80, free));
});

test('ports in use are skipped', () => {
  const a = new PortAllocator(new SeededRng(4));
  const b = new PortAllocator(new SeededRng(4));
  const p = a.allocate(L4, R4, 80, free);
  const asked: number[] = [];
  const q = b.allocate(L4, R4, 80, (port) => {
    asked.push(port);
    return port === p || port === p + 1;
  });
  assert.deepEqual(asked.slice(0, 2), [p, p + 1]);
  assert.equal(q, p + 2);
});

test('wraps from the top of the range to the bottom', () => {
  const a = new PortAllocator(new SeededRng(5), 100, 103);
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) seen.push(a.allocate(L4, R4, 80, free));
  for (let i = 1; i < 8; i++) assert.equal(seen[i], 100 + ((seen[i - 1]! - 100 + 1) % 4));
  assert.deepEqual(new Set(seen), new Set([100, 101, 102, 103]));
});

test('exhaustion returns -1 after trying each port once; one free port is found', () => {
  const a = new PortAllocator(new SeededRng(6), 2000, 2099);
  let calls = 0;
  assert.equal(
    a.allocate(L4, R4, 80, () => {
      calls++;
      return true;
    }),
    -1,
  );
  assert.equal(calls, 100, 'every port once');
  assert.equal(
    a.allocate(L4, R4, 80, (port) => port !== 2042),
    2042,
  );
  // A single-port range.
  const b = new PortAllocator(new SeededRng(6), 7000, 7000);
  assert.equal(b.allocate(L4, R4, 80, free), 7000);
  assert.equal(
    b.allocate(L4, R4, 80, () => true),
    -1,
  );
});

test('the same seed gives the same ports, another seed other ones', () => {
  const run = (seed: number): number[] => {
    const a = new PortAllocator(new SeededRng(seed));
    const out: number[] = [];
    for (let i = 0; i < 20; i++)
      out.push(a.allocate(i % 2 ? L4 : L6, i % 2 ? R4 : R6, 80 + i, free));
    return out;
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

test('misuse throws', () => {
  assert.throws(() => new PortAllocator(new SeededRng(1), 0, 10), /1\.\.65535/);
  assert.throws(() => new PortAllocator(new SeededRng(1), 100, 70000), /1\.\.65535/);
  assert.throws(() => new PortAllocator(new SeededRng(1), 200, 100), /must not exceed/);
  const a = new PortAllocator(new SeededRng(1));
  assert.throws(() => a.allocate(new Uint8Array(5), R4, 80, free), /localAddr/);
  assert.throws(() => a.allocate(L4, R4, 65536, free), /remotePort/);
});
