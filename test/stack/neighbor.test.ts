import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, instant, seconds, millis } from '../../src/base/index.js';
import type { Instant } from '../../src/base/index.js';
import { NeighborCache, DEFAULT_NEIGHBOR_CONFIG } from '../../src/stack/neighbor.js';
import type { NeighborConfig, QueuedPacket } from '../../src/stack/neighbor.js';

const CONFIG: NeighborConfig = {
  reachableTime: seconds(30),
  retransmitInterval: seconds(1),
  maxProbes: 3,
  maxQueuePerNeighbor: 4,
  maxEntries: 8,
};
const KEY = '1/10.0.0.2';
const MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x02);
const T0 = instant(1_000_000);

function at(t: number): Instant {
  return instant(t);
}

function pkt(n: number): QueuedPacket {
  return { ethertype: 0x0800, packet: Uint8Array.of(n) };
}

test('defaults are the RFC 4861 / Linux values', () => {
  assert.equal(DEFAULT_NEIGHBOR_CONFIG.reachableTime, seconds(30));
  assert.equal(DEFAULT_NEIGHBOR_CONFIG.retransmitInterval, seconds(1));
  assert.equal(DEFAULT_NEIGHBOR_CONFIG.maxProbes, 3);
  assert.doesNotThrow(() => new NeighborCache(DEFAULT_NEIGHBOR_CONFIG));
});

test('an unknown neighbour: the first enqueue solicits, later ones only queue', () => {
  const c = new NeighborCache(CONFIG);
  assert.equal(c.lookup(T0, KEY), null);
  assert.equal(c.pollTimeout(), NEVER);
  assert.deepEqual(c.enqueue(T0, KEY, pkt(1)), { solicit: true, dropped: null });
  assert.deepEqual(c.enqueue(at(T0 + 10), KEY, pkt(2)), { solicit: false, dropped: null });
  assert.deepEqual(c.enqueue(at(T0 + 20), KEY, pkt(3)), { solicit: false, dropped: null });
  assert.equal(c.lookup(at(T0 + 20), KEY), null, 'still unresolved');
  assert.equal(c.pollTimeout(), T0 + seconds(1), 'retransmission one interval after the first');
  assert.deepEqual(c.entries(), [{ key: KEY, mac: null, state: 'incomplete' }]);
  assert.equal(c.size, 1);
});

test('update hands back the waiting packets in order and the MAC is copied', () => {
  const c = new NeighborCache(CONFIG);
  const sent = [pkt(1), pkt(2), pkt(3)];
  for (const p of sent) c.enqueue(T0, KEY, p);
  const view = new Uint8Array([9, 9, ...MAC, 9]).subarray(2, 8);
  const out = c.update(at(T0 + 500), KEY, view);
  assert.equal(out.length, 3);
  for (let i = 0; i < 3; i++) assert.equal(out[i], sent[i], `packet ${i} in order, same object`);
  view.fill(0xee);
  assert.deepEqual(c.lookup(at(T0 + 600), KEY), MAC, 'the cache kept its own copy');
  assert.deepEqual(c.entries(), [{ key: KEY, mac: MAC, state: 'reachable' }]);
  assert.deepEqual(c.update(at(T0 + 700), KEY, MAC), [], 'nothing waits any more');
  assert.equal(c.pollTimeout(), T0 + 700 + seconds(30), 'now only the reachability deadline');
  // No retransmission is pending: a timer run at the old retransmit time does nothing.
  assert.deepEqual(c.handleTimeout(at(T0 + seconds(1))), { solicit: [], failed: [], probe: [] });
});

test('resolution retransmits until maxProbes solicitations, then fails with the packets', () => {
  const c = new NeighborCache(CONFIG);
  let solicitations = 0;
  if (c.enqueue(T0, KEY, pkt(1)).solicit) solicitations++;
  c.enqueue(T0, KEY, pkt(2));
  const fires: Instant[] = [];
  let failed: Array<{ key: string; packets: QueuedPacket[] }> = [];
  for (let guard = 0; guard < 10 && failed.length === 0; guard++) {
    const t = c.pollTimeout();
    assert.notEqual(t, NEVER);
    // An early call does nothing.
    assert.deepEqual(c.handleTimeout(at(t - 1)), { solicit: [], failed: [], probe: [] });
    fires.push(t);
    const r = c.handleTimeout(t);
    solicitations += r.solicit.length;
    for (const k of r.solicit) assert.equal(k, KEY);
    failed = r.failed;
  }
  assert.equal(
    solicitations,
    CONFIG.maxProbes,
    'three solicitations in all (MAX_MULTICAST_SOLICIT)',
  );
  assert.deepEqual(fires, [T0 + seconds(1), T0 + seconds(2), T0 + seconds(3)]);
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.key, KEY);
  assert.deepEqual(
    failed[0]!.packets.map((p) => p.packet[0]),
    [1, 2],
  );
  assert.equal(c.size, 0, 'a failed entry is removed');
  assert.equal(c.pollTimeout(), NEVER);
  // The next packet starts a fresh resolution.
  assert.equal(c.enqueue(at(T0 + seconds(4)), KEY, pkt(3)).solicit, true);
});

test('a late timer call solicits once, not a burst', () => {
  const c = new NeighborCache(CONFIG);
  c.enqueue(T0, KEY, pkt(1));
  const r = c.handleTimeout(at(T0 + seconds(10)));
  assert.deepEqual(r, { solicit: [KEY], failed: [], probe: [] });
  assert.equal(c.pollTimeout(), T0 + seconds(11));
});

test('a full per-neighbour queue drops the oldest packet', () => {
  const c = new NeighborCache(CONFIG);
  const ps = [pkt(1), pkt(2), pkt(3), pkt(4), pkt(5), pkt(6)];
  const dropped: Array<QueuedPacket | null> = [];
  for (const p of ps) dropped.push(c.enqueue(T0, KEY, p).dropped);
  assert.deepEqual(dropped, [null, null, null, null, ps[0], ps[1]]);
  assert.deepEqual(
    c.update(T0, KEY, MAC).map((p) => p.packet[0]),
    [3, 4, 5, 6],
  );
});

test('a queue bound of zero drops every packet but still solicits', () => {
  const c = new NeighborCache({ ...CONFIG, maxQueuePerNeighbor: 0 });
  const p = pkt(1);
  assert.deepEqual(c.enqueue(T0, KEY, p), { solicit: true, dropped: p });
  assert.deepEqual(c.update(T0, KEY, MAC), []);
});

test('reachable becomes stale after reachableTime and is still used', () => {
  const c = new NeighborCache(CONFIG);
  c.update(T0, KEY, MAC);
  assert.equal(c.pollTimeout(), T0 + seconds(30));
  assert.equal(c.entries()[0]!.state, 'reachable');
  assert.deepEqual(c.handleTimeout(at(T0 + seconds(30))), { solicit: [], failed: [], probe: [] });
  assert.equal(c.entries()[0]!.state, 'stale');
  assert.equal(c.pollTimeout(), NEVER, 'a stale entry arms no timer');
  assert.deepEqual(c.lookup(at(T0 + seconds(3600)), KEY), MAC, 'RFC 4861 §7.3.3: stale is usable');
  assert.equal(c.entries()[0]!.state, 'delay', 'using a stale entry starts DELAY');
  // The next update refreshes it.
  c.update(at(T0 + seconds(3600)), KEY, MAC);
  assert.equal(c.entries()[0]!.state, 'reachable');
  assert.equal(c.pollTimeout(), T0 + seconds(3630));
});

test('lookup notices staleness without a timer run', () => {
  const c = new NeighborCache(CONFIG);
  c.update(T0, KEY, MAC);
  assert.deepEqual(c.lookup(at(T0 + seconds(31)), KEY), MAC);
  assert.equal(c.entries()[0]!.state, 'delay', 'stale, and used at once: DELAY');
  assert.equal(c.pollTimeout(), T0 + seconds(36), 'RFC 4861 DELAY_FIRST_PROBE_TIME is 5 s');
});

test('a used stale entry is probed by unicast, and dropped when the probes go unanswered', () => {
  // RFC 4861 §7.3.3: STALE -> (used) DELAY -> PROBE with MAX_UNICAST_SOLICIT probes -> gone.
  // This is what recovers from a wrong cached MAC (simulator seed 4199: a damaged ARP reply).
  const c = new NeighborCache(CONFIG);
  c.update(T0, KEY, MAC);
  c.lookup(at(T0 + seconds(31)), KEY);
  const first = c.handleTimeout(at(T0 + seconds(36)));
  assert.deepEqual(first.probe, [{ key: KEY, mac: MAC }]);
  assert.equal(c.entries()[0]!.state, 'probe');
  assert.equal(c.handleTimeout(at(T0 + seconds(37))).probe.length, 1);
  assert.equal(c.handleTimeout(at(T0 + seconds(38))).probe.length, 1);
  assert.deepEqual(c.handleTimeout(at(T0 + seconds(39))), { solicit: [], failed: [], probe: [] });
  assert.equal(c.size, 0, 'three unanswered probes: forgotten');
  assert.equal(c.lookup(at(T0 + seconds(40)), KEY), null, 'the next packet resolves afresh');
});

test('an answer to a probe makes the entry reachable again', () => {
  const c = new NeighborCache(CONFIG);
  c.update(T0, KEY, MAC);
  c.lookup(at(T0 + seconds(31)), KEY);
  c.handleTimeout(at(T0 + seconds(36)));
  c.update(at(T0 + seconds(36.5)), KEY, MAC);
  assert.equal(c.entries()[0]!.state, 'reachable');
  assert.equal(c.pollTimeout(), T0 + seconds(66.5));
});

test('an update with a new MAC replaces the old one', () => {
  const c = new NeighborCache(CONFIG);
  c.update(T0, KEY, MAC);
  const other = Uint8Array.of(0x02, 0, 0, 0, 0, 0x99);
  c.update(at(T0 + 1), KEY, other);
  assert.deepEqual(c.lookup(at(T0 + 2), KEY), other);
});

test('enqueue on a resolved key is API misuse', () => {
  const c = new NeighborCache(CONFIG);
  c.update(T0, KEY, MAC);
  assert.throws(() => c.enqueue(T0, KEY, pkt(1)), /call lookup\(\) first/);
});

test('bad configuration throws', () => {
  assert.throws(() => new NeighborCache({ ...CONFIG, maxProbes: 0 }), /maxProbes/);
  assert.throws(() => new NeighborCache({ ...CONFIG, maxEntries: 1.5 }), /maxEntries/);
  assert.throws(() => new NeighborCache({ ...CONFIG, retransmitInterval: millis(0) }), /retrans/);
});

test('the cache is bounded: oldest stale first, then oldest reachable, never resolving ones', () => {
  const c = new NeighborCache({ ...CONFIG, maxEntries: 4 });
  const key = (i: number): string => `1/10.0.0.${i}`;
  // Entries 1 and 2 go stale (1 is older), 3 is reachable, 4 is resolving.
  c.update(at(T0), key(1), MAC);
  c.update(at(T0 + 10), key(2), MAC);
  c.handleTimeout(at(T0 + seconds(40)));
  c.update(at(T0 + seconds(40)), key(3), MAC);
  c.enqueue(at(T0 + seconds(40)), key(4), pkt(4));
  assert.equal(c.size, 4);

  c.update(at(T0 + seconds(41)), key(5), MAC);
  assert.equal(c.size, 4);
  assert.equal(c.lookup(at(T0 + seconds(41)), key(1)), null, 'the oldest stale entry went first');
  assert.notEqual(c.lookup(at(T0 + seconds(41)), key(2)), null);

  c.update(at(T0 + seconds(41)), key(6), MAC);
  assert.equal(c.lookup(at(T0 + seconds(41)), key(2)), null, 'then the other stale one');

  // Now 3 (reachable since 40 s), 4 (resolving), 5 and 6 (reachable since 41 s).
  assert.equal(c.enqueue(at(T0 + seconds(41)), key(7), pkt(7)).solicit, true);
  assert.equal(c.lookup(at(T0 + seconds(41)), key(3)), null, 'then the oldest reachable one');

  // Fill the rest with resolving entries: nothing is evictable any more.
  c.enqueue(at(T0 + seconds(41)), key(8), pkt(8));
  c.enqueue(at(T0 + seconds(41)), key(9), pkt(9));
  const keys = c.entries().map((e) => e.key);
  assert.deepEqual(keys.sort(), [key(4), key(7), key(8), key(9)].sort());
  const p = pkt(10);
  assert.deepEqual(c.enqueue(at(T0 + seconds(41)), key(10), p), { solicit: false, dropped: p });
  assert.deepEqual(c.update(at(T0 + seconds(41)), key(11), MAC), []);
  assert.equal(c.size, 4);
  assert.equal(c.lookup(at(T0 + seconds(41)), key(11)), null, 'not recorded');
  // The resolving entries still resolve normally.
  assert.deepEqual(
    c.update(at(T0 + seconds(42)), key(4), MAC).map((q) => q.packet[0]),
    [4],
  );
});

test('pollTimeout tracks the earliest of many entries as they change', () => {
  const c = new NeighborCache(CONFIG);
  c.enqueue(at(T0), 'a', pkt(1)); // retransmit at T0+1s
  c.enqueue(at(T0 + 500_000), 'b', pkt(2)); // at T0+1.5s
  assert.equal(c.pollTimeout(), T0 + seconds(1));
  c.update(at(T0 + 600_000), 'a', MAC); // a now expires at T0+30.6s
  assert.equal(c.pollTimeout(), T0 + 1_500_000);
  c.update(at(T0 + 700_000), 'b', MAC);
  assert.equal(c.pollTimeout(), T0 + 600_000 + seconds(30));
  c.remove('a');
  assert.equal(c.pollTimeout(), T0 + 700_000 + seconds(30));
});
