// The behaviours of Node's own test/parallel/test-net-*.js that matter for
// a socket, between two tcpts stacks on a memory link with the real clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { constants as osConstants } from 'node:os';
import type { Socket } from '../../src/net/index.js';
import { A4, A6, B4, B6, collect, errorOf, listening, realPair } from './helpers.js';

test('echo: connect then ready, data both ways, addresses, counters, readyState', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.pipe(s));
  const port = await listening(server, 7000);
  assert.equal(port, 7000);
  assert.deepEqual(server.address(), { address: '::', family: 'IPv6', port: 7000 });

  const order: string[] = [];
  const c = p.netA.connect(port, B4);
  assert.equal(c.connecting, true);
  assert.equal(c.pending, true);
  assert.equal(c.readyState, 'opening');
  assert.equal(c.remoteAddress, undefined, 'no peer address while connecting (as getpeername)');
  c.on('connect', () => order.push('connect'));
  c.on('ready', () => order.push('ready'));
  await once(c, 'ready');
  assert.deepEqual(order, ['connect', 'ready']);
  assert.equal(c.connecting, false);
  assert.equal(c.pending, false);
  assert.equal(c.readyState, 'open');
  assert.equal(c.remoteAddress, B4);
  assert.equal(c.remotePort, 7000);
  assert.equal(c.remoteFamily, 'IPv4');
  assert.equal(c.localAddress, A4);
  const local = c.address();
  assert.ok('port' in local);
  assert.equal(local.address, A4);
  assert.equal(local.family, 'IPv4');
  assert.ok(local.port >= 32768 && local.port <= 60999, 'an ephemeral port in the Linux range');

  const received = collect(c);
  c.write('hello, ');
  c.end('world');
  assert.equal((await received).toString(), 'hello, world');
  await once(c, 'close');
  assert.equal(c.bytesRead, 12);
  assert.equal(c.bytesWritten, 12);
  assert.equal(c.readyState, 'closed');
  assert.equal(c.destroyed, true);
  server.close();
  await once(server, 'close');
});

test('IPv6: a connection between fd00::1 and fd00::2', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  let serverSide: Socket | null = null;
  const server = p.netB.createServer((s) => {
    serverSide = s;
    s.end(`you are ${s.remoteAddress} (${s.remoteFamily})`);
  });
  const port = await listening(server);
  const c = p.netA.connect({ port, host: B6 });
  const text = (await collect(c)).toString();
  assert.equal(text, `you are ${A6} (IPv6)`);
  assert.equal(c.remoteFamily, 'IPv6');
  assert.equal(c.remoteAddress, B6);
  assert.ok(serverSide !== null);
  assert.equal((serverSide as Socket).localAddress, B6);
  server.close();
});

test('allowHalfOpen false (default): the peer ending ends this side too, both close without error', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const events: string[] = [];
  const server = p.netB.createServer((s) => {
    s.resume();
    s.on('end', () => events.push('server end'));
    s.on('finish', () => events.push('server finish'));
    s.on('close', (hadError: boolean) => events.push(`server close ${hadError}`));
  });
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  c.resume();
  await once(c, 'connect');
  c.end();
  await once(c, 'close');
  // The server's 'close' is emitted on a later tick than the client's, when its own stream finishes.
  while (!events.includes('server close false')) await new Promise((r) => setImmediate(r));
  assert.deepEqual(events.slice().sort(), ['server close false', 'server end', 'server finish']);
  assert.ok(
    events.indexOf('server end') < events.indexOf('server finish'),
    'the FIN came back after end',
  );
  server.close();
});

test('allowHalfOpen true: a real half-close — the server writes after the client has sent its FIN', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer({ allowHalfOpen: true }, (s) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => {
      // The client's FIN is in; the server's writable side is still open.
      assert.equal(s.readyState, 'writeOnly');
      const request = Buffer.concat(chunks).toString();
      setTimeout(() => s.end(`reply to ${request}`), 20);
    });
  });
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  const reply = collect(c);
  c.end('question');
  await once(c, 'finish');
  assert.equal(c.readyState, 'readOnly', 'the client still reads after its FIN');
  assert.equal((await reply).toString(), 'reply to question');
  await once(c, 'close');
  server.close();
});

test('end after end: the second end() is harmless and finish comes once', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.resume());
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  c.resume();
  let finishes = 0;
  c.on('finish', () => finishes++);
  const errors: Error[] = [];
  c.on('error', (e) => errors.push(e));
  c.end('a');
  c.end();
  c.end(() => {});
  await once(c, 'close');
  assert.equal(finishes, 1);
  assert.deepEqual(errors, []);
  server.close();
});

test('write after end(): ERR_STREAM_WRITE_AFTER_END, to the callback and as an error event', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.resume());
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  await once(c, 'connect');
  c.end();
  let callbackError: (Error & { code?: string }) | null = null;
  const wrote = c.write('late', (e) => {
    callbackError = e ?? null;
  });
  assert.equal(wrote, false);
  const error = await errorOf(c);
  assert.equal(error.code, 'ERR_STREAM_WRITE_AFTER_END');
  assert.equal(
    (callbackError as (Error & { code?: string }) | null)?.code,
    'ERR_STREAM_WRITE_AFTER_END',
  );
  await once(c, 'close');
  server.close();
});

test('write after the peer ended (allowHalfOpen false): EPIPE, "ended by the other party"', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.end());
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  c.resume();
  await once(c, 'end');
  // 'end' ends our writable side on the next tick (Duplex allowHalfOpen
  // false); the shutdown completes on a later turn.
  await new Promise((r) => process.nextTick(r));
  assert.equal(c.writableEnded, true);
  assert.equal(c.destroyed, false);
  const wrote = c.write('too late');
  assert.equal(wrote, false);
  const error = await errorOf(c);
  assert.equal(error.code, 'EPIPE');
  assert.equal(error.errno, -osConstants.errno.EPIPE);
  assert.equal(error.syscall, 'write');
  assert.equal(error.message, 'This socket has been ended by the other party');
  const [hadError] = await once(c, 'close');
  assert.equal(hadError, true);
  server.close();
});

test('destroy during connect: no connect, no error, close(false), and the server sees nothing', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  let connections = 0;
  const server = p.netB.createServer(() => connections++);
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  const events: string[] = [];
  c.on('connect', () => events.push('connect'));
  c.on('error', () => events.push('error'));
  c.destroy();
  assert.equal(c.connecting, false);
  const [hadError] = await once(c, 'close');
  assert.equal(hadError, false);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(events, []);
  assert.equal(connections, 0);
  assert.equal(p.a.stack.tcpSockets().length, 0, 'no SYN left: the connection was never opened');
  assert.equal(p.a.refs, 0, 'the destroyed socket released its reference');
  server.close();
});

test('destroy right after the SYN went out: the half-open attempt is dropped quietly', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.resume());
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  await new Promise((r) => process.nextTick(r));
  assert.ok(c.tcpSocket !== null, 'the connection exists (SYN-SENT)');
  const errors: Error[] = [];
  c.on('error', (e) => errors.push(e));
  c.destroy();
  const [hadError] = await once(c, 'close');
  assert.equal(hadError, false);
  assert.deepEqual(errors, []);
  server.close();
});

test('ECONNREFUSED on a closed port, Node-shaped, then close(true)', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const c = p.netA.connect(9, B4);
  const error = await errorOf(c);
  assert.equal(error.code, 'ECONNREFUSED');
  assert.equal(error.errno, -osConstants.errno.ECONNREFUSED);
  assert.equal(error.syscall, 'connect');
  assert.equal(error.address, B4);
  assert.equal(error.port, 9);
  assert.equal(error.message, `connect ECONNREFUSED ${B4}:9`);
  const [hadError] = await once(c, 'close');
  assert.equal(hadError, true);
  assert.equal(p.a.refs, 0, 'a failed socket holds no reference');
});

test('ECONNREFUSED once the server has closed (the port is closed again)', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer();
  const port = await listening(server);
  server.close();
  await once(server, 'close');
  const error = await errorOf(p.netA.connect(port, B4));
  assert.equal(error.code, 'ECONNREFUSED');
});

test('EADDRINUSE on a second listen on the same port, as an error event', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const first = p.netB.createServer();
  const port = await listening(first, 8080);
  const second = p.netB.createServer();
  second.listen(port);
  const error = await errorOf(second);
  assert.equal(error.code, 'EADDRINUSE');
  assert.equal(error.errno, -osConstants.errno.EADDRINUSE);
  assert.equal(error.syscall, 'listen');
  assert.equal(error.address, '::');
  assert.equal(error.port, 8080);
  assert.match(error.message, /^listen EADDRINUSE: address already in use :::8080$/);
  assert.equal(second.listening, false);
  // A specific address overlapping the wildcard is taken too.
  const third = p.netB.createServer();
  third.listen(port, B4);
  assert.equal((await errorOf(third)).code, 'EADDRINUSE');
  first.close();
});

test('listen forms: (port, host, backlog, cb), (options, cb), port 0, and listen twice throws', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const s1 = p.netB.createServer();
  await new Promise<void>((resolve) => s1.listen(5001, B4, 16, resolve));
  assert.deepEqual(s1.address(), { address: B4, family: 'IPv4', port: 5001 });
  assert.throws(() => s1.listen(5002), { code: 'ERR_SERVER_ALREADY_LISTEN' });
  const s2 = p.netB.createServer();
  await new Promise<void>((resolve) =>
    s2.listen({ port: '5003', host: '0.0.0.0', backlog: 8 }, resolve),
  );
  assert.deepEqual(s2.address(), { address: '0.0.0.0', family: 'IPv4', port: 5003 });
  const s3 = p.netB.createServer();
  const port = await listening(s3);
  assert.ok(port > 0);
  assert.throws(() => p.netB.createServer().listen(70000), { code: 'ERR_SOCKET_BAD_PORT' });
  for (const s of [s1, s2, s3]) s.close();
});

test('resetAndDestroy sends RST: the peer gets ECONNRESET from read', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const serverError = new Promise<Error & Record<string, unknown>>((resolve) => {
    const server = p.netB.createServer((s) => {
      s.on('error', resolve);
      s.resume();
      server.close();
    });
    void listening(server, 7100).then((port) => {
      const c = p.netA.connect(port, B4, () => {
        c.write('some data', () => c.resetAndDestroy());
      });
      c.on('close', (hadError: boolean) => assert.equal(hadError, false));
    });
  });
  const error = await serverError;
  assert.equal(error.code, 'ECONNRESET');
  assert.equal(error.errno, -osConstants.errno.ECONNRESET);
  assert.equal(error.syscall, 'read');
  assert.equal(error.message, 'read ECONNRESET');
});

test('server.close waits for open connections; getConnections counts them', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const accepted: Socket[] = [];
  const server = p.netB.createServer((s) => {
    accepted.push(s);
    s.resume();
  });
  const port = await listening(server);
  const c1 = p.netA.connect(port, B4);
  const c2 = p.netA.connect(port, B4);
  c1.resume();
  c2.resume();
  await Promise.all([once(c1, 'connect'), once(c2, 'connect')]);
  while (accepted.length < 2) await new Promise((r) => setImmediate(r));
  const count = await new Promise<number>((resolve, reject) =>
    server.getConnections((e, n) => (e ? reject(e) : resolve(n))),
  );
  assert.equal(count, 2);

  let closed = false;
  server.close(() => {
    closed = true;
  });
  assert.equal(server.listening, false);
  assert.equal(server.address(), null);
  // New connections are refused at once, but the server has not closed.
  assert.equal((await errorOf(p.netA.connect(port, B4))).code, 'ECONNREFUSED');
  assert.equal(closed, false);
  c1.end();
  await once(c1, 'close');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(closed, false, 'one connection is still open');
  c2.end();
  await once(server, 'close');
  assert.equal(closed, true);
});

test('server.close when not listening: the callback gets ERR_SERVER_NOT_RUNNING', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer();
  const error = await new Promise<Error | undefined>((resolve) => server.close(resolve));
  assert.equal((error as (Error & { code?: string }) | undefined)?.code, 'ERR_SERVER_NOT_RUNNING');
});

test('maxConnections: connections beyond it are closed and reported as drop', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.resume());
  server.maxConnections = 1;
  const port = await listening(server);
  const c1 = p.netA.connect(port, B4);
  c1.resume();
  await once(c1, 'connect');
  const dropped = once(server, 'drop');
  const c2 = p.netA.connect(port, B4);
  c2.resume();
  const [info] = (await dropped) as [{ remoteAddress: string; localPort: number }];
  assert.equal(info.remoteAddress, A4);
  assert.equal(info.localPort, port);
  await once(c2, 'end');
  c1.end();
  c2.destroy();
  server.close();
  await once(server, 'close');
});

test('setTimeout emits timeout after idleness without closing; activity postpones it; 0 turns it off', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.pipe(s));
  const port = await listening(server);
  const c = p.netA.connect(port, B4);
  await once(c, 'connect');
  c.resume();
  const started = performance.now();
  let fired = 0;
  c.setTimeout(80, () => fired++);
  assert.equal(c.timeout, 80);
  // Activity at 40 ms pushes the timeout to about 120 ms.
  setTimeout(() => c.write('x'), 40);
  await once(c, 'timeout');
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 110, `timeout after ${elapsed.toFixed(0)} ms: activity postponed it`);
  assert.equal(fired, 1);
  assert.equal(c.destroyed, false, "'timeout' does not close the socket");
  assert.equal(c.readyState, 'open');
  // Still usable; then switched off: no further 'timeout'.
  c.setTimeout(0);
  assert.equal(c.timeout, undefined);
  c.write('more');
  let later = 0;
  c.on('timeout', () => later++);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(later, 0);
  c.end();
  await once(c, 'close');
  server.close();
});

test('setNoDelay and setKeepAlive reach the connection and return the socket', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.resume());
  const port = await listening(server);
  const c = p.netA.connect({ port, host: B4, noDelay: true });
  await once(c, 'connect');
  const conn = c.tcpSocket!.conn;
  assert.equal(conn.config.noDelay, true);
  assert.equal(c.setNoDelay(false), c);
  assert.equal(conn.config.noDelay, false);
  assert.equal(c.setKeepAlive(true, 5000), c);
  assert.equal(conn.config.keepAlive, true);
  assert.equal(conn.config.keepAliveIdle, 5_000_000, 'initialDelay in ms becomes µs');
  c.setKeepAlive(false);
  assert.equal(conn.config.keepAlive, false);
  c.destroy();
  server.close();
});

test('references: a listening server and an open socket hold one each; unref releases it', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.resume());
  const port = await listening(server);
  assert.equal(p.b.refs, 1);
  server.unref();
  assert.equal(p.b.refs, 0);
  server.ref();
  assert.equal(p.b.refs, 1);
  const c = p.netA.connect(port, B4);
  assert.equal(p.a.refs, 1, 'a connecting socket holds a reference');
  await once(c, 'connect');
  c.unref();
  assert.equal(p.a.refs, 0);
  c.ref();
  assert.equal(p.a.refs, 1);
  c.end();
  c.resume();
  await once(c, 'close');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(p.a.refs, 0, 'closed socket and acknowledged FIN: nothing holds the process');
  server.close();
  assert.equal(p.b.refs, 0);
});

test('host names: localhost resolves without a lookup, others need one (ENOTFOUND), lookup is used and reported', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.end('hi'));
  const port = await listening(server);
  const unknown = p.netA.connect(port, 'server.example');
  const error = await errorOf(unknown);
  assert.equal(error.code, 'ENOTFOUND');
  assert.equal(error.syscall, 'getaddrinfo');
  assert.equal(error.hostname, 'server.example');

  const c = p.netA.connect({
    port,
    host: 'server.example',
    // Asynchronous, as dns.lookup is.
    lookup: (hostname, _options, callback) =>
      setImmediate(() => callback(null, hostname === 'server.example' ? B4 : '', 4)),
  });
  const [lookupError, address, family, host] = await once(c, 'lookup');
  assert.equal(lookupError, null);
  assert.equal(address, B4);
  assert.equal(family, 4);
  assert.equal(host, 'server.example');
  assert.equal((await collect(c)).toString(), 'hi');
  server.close();
});

test('ENETUNREACH when the stack has no route to the address', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const error = await errorOf(p.netA.connect(80, '192.0.2.1'));
  assert.equal(error.code, 'ENETUNREACH');
  assert.equal(error.syscall, 'connect');
  assert.equal(error.message, 'connect ENETUNREACH 192.0.2.1:80');
});

test('new Socket() then connect(), the Socket class of the module, and IPC paths refused', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const server = p.netB.createServer((s) => s.end('x'));
  const port = await listening(server);
  const s = new p.netA.Socket();
  assert.equal(s.pending, true);
  assert.equal(s.readyState, 'open', 'as Node: an unconnected socket is readable and writable');
  assert.ok(s instanceof p.netA.Socket);
  s.connect({ port, host: B4 });
  assert.equal((await collect(s)).toString(), 'x');
  assert.throws(() => new p.netA.Socket().connect({ port: 0, path: '/tmp/x.sock' }), TypeError);
  assert.throws(() => p.netB.createServer().listen({ path: '/tmp/x.sock' }), TypeError);
  server.close();
});
