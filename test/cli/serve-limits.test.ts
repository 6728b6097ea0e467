// serve's limits: the timeout flags and their usage errors, how often the
// HTTP request timeouts are checked, and startHttpTimeouts on a server that
// is handed its connections and never listens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { runProgram } from '../../src/cli/main.js';
import { NODE_HTTP_LIMITS, checkingInterval } from '../../src/cli/serve.js';
import { startHttpTimeouts } from '../../src/net/index.js';

async function usageError(argv: string[]): Promise<string> {
  const err: string[] = [];
  const status = await runProgram(argv, { out: () => {}, err: (text) => err.push(text) });
  assert.equal(status, 2, argv.join(' '));
  assert.equal(err.length, 1);
  return err[0]!;
}

const DEVICE = ['--tun', 't0', '--addr', '10.0.0.2/24'];

test('the timeout flags take seconds, each for its own services', async () => {
  assert.match(
    await usageError(['serve', ...DEVICE, '--echo', '--idle-timeout', 'soon']),
    /--idle-timeout takes seconds from 0 to 86400, got 'soon'/,
  );
  assert.match(
    await usageError(['serve', ...DEVICE, '--http', '.', '--idle-timeout', '5']),
    /--idle-timeout is for --echo, --discard and --chargen/,
  );
  assert.match(
    await usageError(['serve', ...DEVICE, '--echo', '--header-timeout', '5']),
    /--header-timeout, --request-timeout and --keep-alive-timeout are for --http/,
  );
  assert.match(
    await usageError([
      'serve',
      ...DEVICE,
      '--http',
      '.',
      '--header-timeout',
      '20',
      '--request-timeout',
      '10',
    ]),
    /--header-timeout cannot be longer than --request-timeout/,
  );
});

test('the request timeouts are checked every quarter of the shorter one, within 100 ms and 30 s', () => {
  assert.equal(checkingInterval(NODE_HTTP_LIMITS), 15_000);
  assert.equal(checkingInterval({ ...NODE_HTTP_LIMITS, headersTimeout: 2000 }), 500);
  assert.equal(checkingInterval({ ...NODE_HTTP_LIMITS, headersTimeout: 100 }), 100);
  assert.equal(
    checkingInterval({ headersTimeout: 0, requestTimeout: 0, keepAliveTimeout: 5000 }),
    30_000,
  );
});

test('startHttpTimeouts: a server handed its connections answers a slow header with 408 and closes', async () => {
  const server = http.createServer(
    { headersTimeout: 300, requestTimeout: 1000, connectionsCheckingInterval: 50 },
    (_req, res) => res.end('ok'),
  );
  let heardListening = false;
  server.on('listening', () => (heardListening = true));
  startHttpTimeouts(server);
  const feeder = net.createServer((socket) => server.emit('connection', socket));
  await new Promise<void>((resolve) => feeder.listen(0, '127.0.0.1', resolve));
  const { port } = feeder.address() as net.AddressInfo;
  try {
    const client = net.connect(port, '127.0.0.1');
    client.write('GET / HTTP/1.1\r\nHost: tcpts\r\n');
    let reply = '';
    client.setEncoding('utf8');
    client.on('data', (text: string) => (reply += text));
    const opened = performance.now();
    await new Promise<void>((resolve) => client.on('close', () => resolve()));
    const ms = performance.now() - opened;
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.ok(ms < 5000, `closed after ${ms} ms`);
    assert.equal(heardListening, false, "the server's own 'listening' listeners were not told");
  } finally {
    feeder.close();
    server.close();
  }
});
