// node:http on tcpts sockets: an http.Server fed with 'connection' events,
// and http.request through an Agent whose createConnection returns a tcpts
// socket — on the real clock and in virtual time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Server, TcptsNet } from '../../src/net/index.js';
import { A4, B4, listening, pattern, realPair, virtualPair } from './helpers.js';

/** An http.Agent whose connections are tcpts sockets of `net`. */
class TcptsAgent extends http.Agent {
  private readonly net: TcptsNet;
  connections = 0;

  constructor(net: TcptsNet, options: http.AgentOptions) {
    super(options);
    this.net = net;
  }

  override createConnection(options: http.ClientRequestArgs): Duplex {
    this.connections++;
    return this.net.createConnection({ host: options.host ?? B4, port: Number(options.port) });
  }
}

/** A small app: echoes POST bodies with their hash, answers GET with the URL and the peer. */
function app(): http.Server {
  return http.createServer((req, res) => {
    if (req.method === 'POST') {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.length;
      });
      req.on('end', () => {
        res.setHeader('x-length', String(length));
        res.end(hash.digest('hex'));
      });
      return;
    }
    res.setHeader('content-type', 'text/plain');
    res.end(`${req.method} ${req.url} from ${req.socket.remoteAddress}:${req.socket.remotePort}`);
  });
}

/** Serves `httpServer` on a tcpts server of `net`; counts connections. */
async function serve(
  net: TcptsNet,
  httpServer: http.Server,
): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    httpServer.emit('connection', socket);
  });
  const port = await listening(server, 80);
  return { server, port, connections: () => count };
}

function fetchText(
  options: http.RequestOptions,
  body?: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function exercise(netA: TcptsNet, netB: TcptsNet): Promise<void> {
  const httpServer = app();
  const { server, port, connections } = await serve(netB, httpServer);
  const agent = new TcptsAgent(netA, { keepAlive: true, maxSockets: 1 });

  const first = await fetchText({ host: B4, port, path: '/hello?x=1', agent });
  assert.equal(first.status, 200);
  assert.equal(first.headers['content-type'], 'text/plain');
  assert.match(first.text, new RegExp(`^GET /hello\\?x=1 from ${A4.replace(/\./g, '\\.')}:\\d+$`));

  const body = pattern(1024 * 1024, 5);
  const posted = await fetchText({ host: B4, port, path: '/upload', method: 'POST', agent }, body);
  assert.equal(posted.status, 200);
  assert.equal(posted.headers['x-length'], String(body.length));
  assert.equal(posted.text, createHash('sha256').update(body).digest('hex'));

  // Three more requests at once share the one kept-alive connection.
  const more = await Promise.all(
    [1, 2, 3].map((i) => fetchText({ host: B4, port, path: `/n/${i}`, agent })),
  );
  assert.deepEqual(
    more.map((r) => r.text.split(' ')[1]),
    ['/n/1', '/n/2', '/n/3'],
  );
  assert.equal(agent.connections, 1, 'keep-alive: one tcpts connection for five requests');
  assert.equal(connections(), 1);

  agent.destroy();
  httpServer.close();
  server.close();
  await once(server, 'close');
}

test('node:http over tcpts (real clock): GET, a 1 MiB POST, keep-alive reuse', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  await exercise(p.netA, p.netB);
});

test('node:http over tcpts (virtual clock): the same exchange in simulated time', async (t) => {
  const p = virtualPair(3);
  t.after(() => p.close());
  await exercise(p.netA, p.netB);
  assert.ok(p.loop.now > 0, 'virtual time moved');
});

test('http.request with createConnection and no agent (as ws uses it)', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const httpServer = app();
  const { server, port } = await serve(p.netB, httpServer);
  const response = await fetchText({
    host: B4,
    port,
    path: '/direct',
    createConnection: () => p.netA.createConnection({ host: B4, port }),
  });
  assert.equal(response.status, 200);
  assert.match(response.text, /^GET \/direct from 10\.0\.0\.1:/);
  httpServer.close();
  server.close();
});

test('the server end: a client that closes mid-response makes the server socket close too', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  let responseClosed: Promise<unknown> | null = null;
  const httpServer = http.createServer((_req, res) => {
    responseClosed = once(res, 'close');
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    // A response that never ends on its own.
    res.write(pattern(1000));
  });
  const { server, port } = await serve(p.netB, httpServer);
  const req = http.request({
    host: B4,
    port,
    path: '/stream',
    createConnection: () => p.netA.createConnection({ host: B4, port }),
  });
  req.end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  const [chunk] = (await once(res, 'data')) as [Buffer];
  assert.ok(chunk.length > 0);
  req.destroy();
  while (responseClosed === null) await new Promise((r) => setImmediate(r));
  await responseClosed;
  httpServer.close();
  server.close();
  await once(server, 'close');
});
