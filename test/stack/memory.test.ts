// Memory after a burst: connections' buffer storage goes back to the stack's
// pool (bounded) while others still run, and once the last connection has
// gone the pool and the frame storage are let go, for the garbage collector
// to return to the runtime. Measured as the stack's own pool sizes in
// virtual time, not as RSS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TcpSocket } from '../../src/stack/index.js';
import { TcpState } from '../../src/tcp/index.js';
import { ms, twoHosts } from './sim-helpers.js';

const CONNECTIONS = 1500;
const BYTES_EACH = 64 * 1024;
/** The stack's pool bound (tcp-demux's BUFFER_POOL_BYTES). */
const POOL_LIMIT = 4 * 1024 * 1024;

test('after 1,500 connections have each moved 64 KiB and closed, the stacks keep no buffer or frame storage', () => {
  const { net, a, b } = twoHosts({ kind: 'ip', queueFrames: 20_000 });
  const listener = b.stack.listen({ port: 80, backlog: 4096 });
  const served: TcpSocket[] = [];
  const received = new Map<TcpSocket, number>();
  const scratch = new Uint8Array(65536);
  b.onEvent = (e) => {
    if (e.type === 'accept')
      for (let s = listener.accept(); s !== null; s = listener.accept()) {
        served.push(s);
        received.set(s, 0);
      }
    // Read whatever has arrived on every connection.
    for (const s of served) {
      for (let n = s.read(scratch); n > 0; n = s.read(scratch))
        received.set(s, received.get(s)! + n);
    }
  };
  const clients: TcpSocket[] = [];
  for (let i = 0; i < CONNECTIONS; i++)
    clients.push(a.stack.connect(net.now, { host: '10.0.0.2', port: 80 }));
  net.runUntil(() => clients.every((c) => c.state === TcpState.Established), ms(30_000));
  const payload = new Uint8Array(BYTES_EACH).fill(7);
  const written = new Map<TcpSocket, number>(clients.map((c) => [c, 0]));
  let peakPool = 0;
  let peakFrames = 0;
  net.runUntil(() => {
    for (const c of clients) {
      const done = written.get(c)!;
      if (done < BYTES_EACH) written.set(c, done + c.write(payload.subarray(done)));
    }
    for (const host of [a, b]) {
      const stats = host.stack.stats();
      peakPool = Math.max(peakPool, stats.pooledBufferBytes);
      peakFrames = Math.max(peakFrames, stats.keptFrameBytes);
    }
    return served.length === CONNECTIONS && served.every((s) => received.get(s) === BYTES_EACH);
  }, ms(120_000));
  assert.equal(served.length, CONNECTIONS);
  assert.ok(
    served.every((s) => received.get(s) === BYTES_EACH),
    'every byte arrived',
  );
  // While connections run, what they give back waits in the pool, bounded.
  assert.ok(peakPool > 0, 'storage went back to the pool');
  assert.ok(peakPool <= POOL_LIMIT, `pool at most ${POOL_LIMIT}: ${peakPool}`);
  assert.ok(peakFrames > 0);

  // Half close: the pool stays within its bound while the rest still run.
  for (const c of clients.slice(0, CONNECTIONS / 2)) c.close(net.now);
  for (const s of served.slice(0, CONNECTIONS / 2)) s.close(net.now);
  net.runUntilTime(ms(net.now / 1000 + 5_000));
  for (const host of [a, b]) assert.ok(host.stack.stats().pooledBufferBytes <= POOL_LIMIT);

  // All close, and TIME-WAIT runs out: nothing is kept.
  for (const c of clients) c.close(net.now);
  for (const s of served) s.close(net.now);
  net.runUntilTime(ms(net.now / 1000 + 200_000));
  for (const host of [a, b]) {
    const stats = host.stack.stats();
    assert.equal(stats.tcpConnections, 0, 'TIME-WAIT expired');
    assert.equal(stats.pooledBufferBytes, 0, 'the buffer pool is let go');
    assert.equal(stats.keptFrameBytes, 0, 'the frame storage is let go');
  }
  // Nor do the closed connections the application still holds keep storage.
  const held = [...clients, ...served].reduce((sum, s) => sum + s.conn.bufferBytes, 0);
  assert.equal(held, 0, 'closed connections hold no ring storage');
});
