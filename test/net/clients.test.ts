// Third-party clients over tcpts sockets: undici (Client, Agent, fetch with a
// custom connect) and ws (a WebSocket client through createConnection, and a
// WebSocketServer with noServer + handleUpgrade on a tcpts http server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { Socket as NodeSocket } from 'node:net';
import { Agent, Client, fetch, type buildConnector } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';
import type { Server, TcptsNet } from '../../src/net/index.js';
import { B4, listening, pattern, realPair, virtualPair } from './helpers.js';

/** undici's connect hook: a tcpts socket, handed over once connected. */
function connector(net: TcptsNet): buildConnector.connector {
  return (options, callback) => {
    const socket = net.connect({ host: options.hostname, port: Number(options.port) });
    const onError = (error: Error): void => callback(error, null);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.removeListener('error', onError);
      // undici types the socket as net.Socket; a tcpts Socket has its API.
      callback(null, socket as unknown as NodeSocket);
    });
  };
}

async function httpOn(
  net: TcptsNet,
  handler: http.RequestListener,
): Promise<{ http: http.Server; server: Server; port: number }> {
  const httpServer = http.createServer(handler);
  const server = net.createServer((socket) => httpServer.emit('connection', socket));
  const port = await listening(server, 8080);
  return { http: httpServer, server, port };
}

const echoHandler: http.RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.setHeader('x-method', req.method ?? '');
    res.setHeader('x-peer', req.socket.remoteAddress ?? '');
    res.end(body.length > 0 ? body : `hello ${req.url}`);
  });
};

test('undici Client with a tcpts connect: GET and a 256 KiB POST, pipelined on one connection', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const { http: httpServer, server, port } = await httpOn(p.netB, echoHandler);
  let connects = 0;
  const connect = connector(p.netA);
  const client = new Client(`http://${B4}:${port}`, {
    connect: (options, callback) => {
      connects++;
      connect(options, callback);
    },
    pipelining: 2,
  });
  const get = await client.request({ path: '/one', method: 'GET' });
  assert.equal(get.statusCode, 200);
  assert.equal(get.headers['x-peer'], '10.0.0.1');
  assert.equal(await get.body.text(), 'hello /one');
  const body = pattern(256 * 1024, 9);
  const post = await client.request({ path: '/two', method: 'POST', body });
  assert.equal(post.headers['x-method'], 'POST');
  const echoed = Buffer.from(await post.body.arrayBuffer());
  assert.ok(echoed.equals(body));
  assert.equal(connects, 1);
  await client.close();
  httpServer.close();
  server.close();
});

test('undici fetch through an Agent whose connect makes tcpts sockets (virtual clock)', async (t) => {
  const p = virtualPair(5);
  t.after(() => p.close());
  const { http: httpServer, server, port } = await httpOn(p.netB, echoHandler);
  const agent = new Agent({ connect: connector(p.netA) });
  const response = await fetch(`http://${B4}:${port}/fetched`, { dispatcher: agent });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'hello /fetched');
  const posted = await fetch(`http://${B4}:${port}/json`, {
    method: 'POST',
    body: JSON.stringify({ a: 1 }),
    dispatcher: agent,
  });
  assert.deepEqual(await posted.json(), { a: 1 });
  await agent.close();
  httpServer.close();
  server.close();
});

test('undici reports a refused connection as the tcpts ECONNREFUSED', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  const client = new Client(`http://${B4}:9`, { connect: connector(p.netA) });
  await assert.rejects(client.request({ path: '/', method: 'GET' }), { code: 'ECONNREFUSED' });
  await client.close();
});

/** A tcpts http server with a WebSocketServer in noServer mode on its 'upgrade'. */
async function wsServer(net: TcptsNet): Promise<{
  http: http.Server;
  server: Server;
  port: number;
  wss: WebSocketServer;
}> {
  const httpServer = http.createServer((_req, res) => res.end('not a websocket'));
  const wss = new WebSocketServer({ noServer: true });
  httpServer.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket, req: http.IncomingMessage) => {
    ws.send(`welcome ${req.url} from ${req.socket.remoteAddress}`);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const server = net.createServer((socket) => httpServer.emit('connection', socket));
  const port = await listening(server, 9000);
  return { http: httpServer, server, port, wss };
}

function wsClient(net: TcptsNet, port: number, path: string): WebSocket {
  return new WebSocket(`ws://${B4}:${port}${path}`, {
    // ws types this as net.createConnection; a tcpts socket has its API.
    createConnection: (() =>
      net.createConnection({
        host: B4,
        port,
      })) as unknown as typeof import('node:net').createConnection,
  });
}

async function wsExchange(netA: TcptsNet, netB: TcptsNet): Promise<void> {
  const { http: httpServer, server, port, wss } = await wsServer(netB);
  const ws = wsClient(netA, port, '/chat');
  const messages: Array<{ data: Buffer; binary: boolean }> = [];
  ws.on('message', (data: Buffer, binary: boolean) => messages.push({ data, binary }));
  await once(ws, 'open');
  ws.send('ping');
  const blob = pattern(200 * 1024, 1);
  ws.send(blob);
  while (messages.length < 3) await new Promise((r) => setImmediate(r));
  assert.equal(messages[0]!.data.toString(), 'welcome /chat from 10.0.0.1');
  assert.deepEqual(
    { text: messages[1]!.data.toString(), binary: messages[1]!.binary },
    {
      text: 'ping',
      binary: false,
    },
  );
  assert.equal(messages[2]!.binary, true);
  assert.ok(messages[2]!.data.equals(blob), '200 KiB binary message echoed intact');

  // A clean close handshake with a code and a reason.
  const serverSide = [...wss.clients][0]!;
  const serverClosed = once(serverSide, 'close');
  ws.close(4000, 'done');
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
  assert.equal(code, 4000);
  assert.equal(reason.toString(), 'done');
  const [serverCode] = (await serverClosed) as [number];
  assert.equal(serverCode, 4000);
  httpServer.close();
  server.close();
  await once(server, 'close');
}

test('ws: WebSocket client via createConnection and a noServer WebSocketServer (real clock)', async (t) => {
  const p = realPair();
  t.after(() => p.close());
  await wsExchange(p.netA, p.netB);
});

test('ws: the same over the virtual clock', async (t) => {
  const p = virtualPair(8);
  t.after(() => p.close());
  await wsExchange(p.netA, p.netB);
});
