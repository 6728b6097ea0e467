// Choosing the congestion control through the node:net face: per socket
// (`congestionControl` in the connect options, Linux's TCP_CONGESTION) and
// per stack (the stack's `tcp.congestionControl`, Linux's sysctl).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { B4, collect, errorOf, listening, realPair } from './helpers.js';

test("net.connect({ congestionControl: 'bbr' }) runs BBR on that socket only", async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const accepted: string[] = [];
  const server = p.netB.createServer((s) => {
    accepted.push(s.tcpSocket!.stats().congestionControl);
    s.end('x'.repeat(100_000));
  });
  const port = await listening(server);
  const c = p.netA.connect({ port, host: B4, congestionControl: 'bbr' });
  await once(c, 'connect');
  c.write('y'.repeat(50_000));
  const got = await collect(c);
  assert.equal(got.length, 100_000);
  const stats = c.tcpSocket!.stats();
  assert.equal(stats.congestionControl, 'bbr');
  assert.ok(stats.bbr !== null, 'BBR reports its model');
  assert.ok(stats.pacingRate > 0, 'BBR paces');
  assert.deepEqual(accepted, ['cubic'], "the server keeps the stack's default");
  const plain = p.netA.connect({ port, host: B4 });
  await once(plain, 'connect');
  assert.equal(plain.tcpSocket!.stats().congestionControl, 'cubic');
  assert.equal(plain.tcpSocket!.stats().bbr, null);
  plain.destroy();
});

test('a stack whose tcp.congestionControl is bbr gives it to every socket, accepted ones too', async (t) => {
  const p = realPair({ tcp: { congestionControl: 'bbr' } });
  t.after(() => p.close());
  const accepted: string[] = [];
  const server = p.netB.createServer((s) => {
    accepted.push(s.tcpSocket!.stats().congestionControl);
    s.end();
  });
  const port = await listening(server);
  const c = p.netA.connect({ port, host: B4 });
  await once(c, 'connect');
  assert.equal(c.tcpSocket!.stats().congestionControl, 'bbr');
  await collect(c);
  assert.deepEqual(accepted, ['bbr']);
});

test('an unknown congestion control fails the connect with an error that names the known ones', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer();
  const port = await listening(server);
  const c = p.netA.connect({ port, host: B4, congestionControl: 'vegas' });
  const error = await errorOf(c);
  assert.match(error.message, /unknown congestion control 'vegas'.*bbr/);
  assert.equal(c.destroyed, true);
});
