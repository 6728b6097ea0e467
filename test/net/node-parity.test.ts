// The node:net face against Node itself: each case runs once on node:net over
// loopback and once on tcpts (two stacks on a memory link, real clock), and
// the two traces (error codes, events in order) must be the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as nodeNet from 'node:net';
import type { TcptsNet } from '../../src/net/index.js';
import { B4, realPair } from './helpers.js';

type WriteCallback = (error?: Error | null) => void;

/** What the cases use of a socket; node:net's and tcpts's both have it. */
interface AnySocket extends NodeJS.EventEmitter {
  write(chunk: Buffer, callback: WriteCallback): boolean;
  connect(...args: unknown[]): AnySocket;
  setTimeout(ms: unknown): AnySocket;
  destroy(): void;
  end(): void;
  pause(): void;
  resume(): void;
  readonly connecting: boolean;
  readonly destroyed: boolean;
}

interface AnyServer extends NodeJS.EventEmitter {
  listen(port: number, host: string): AnyServer;
  address(): { port: number } | string | null;
  close(): void;
}

/** One implementation of node:net with the addresses to use on it. */
interface Face {
  name: string;
  newSocket(options?: { allowHalfOpen?: boolean }): AnySocket;
  createServer(onConnection: (socket: AnySocket) => void): AnyServer;
  /** Where the server listens and the client connects. */
  host: string;
  /** An address no interface of the face has. */
  foreign: string;
  /** The broadcast address of the face's subnet. */
  subnetBroadcast: string;
}

function nodeFace(): Face {
  return {
    name: 'node:net',
    newSocket: (options) => new nodeNet.Socket(options) as unknown as AnySocket,
    createServer: (onConnection) =>
      nodeNet.createServer((s) => onConnection(s as unknown as AnySocket)) as unknown as AnyServer,
    host: '127.0.0.1',
    foreign: '10.99.99.99',
    subnetBroadcast: '127.255.255.255',
  };
}

function tcptsFace(client: TcptsNet, server: TcptsNet): Face {
  return {
    name: 'tcpts',
    newSocket: (options) => new client.Socket(options) as unknown as AnySocket,
    createServer: (onConnection) =>
      server.createServer((s) => onConnection(s as unknown as AnySocket)) as unknown as AnyServer,
    host: B4,
    foreign: '10.0.0.99',
    subnetBroadcast: '10.0.0.255',
  };
}

/** Listens on the face's host; resolves with the port. */
async function listen(face: Face, server: AnyServer): Promise<number> {
  server.listen(0, face.host);
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

/** Records `names` of `socket` into `trace`, an error as `error:CODE:syscall`. */
function recordEvents(socket: AnySocket, trace: string[], names: string[]): void {
  for (const name of names) {
    socket.on(name, (arg: unknown) => {
      if (arg instanceof Error) {
        const e = arg as Error & { code?: string; syscall?: string };
        trace.push(`${name}:${e.code}:${e.syscall}`);
      } else if (typeof arg === 'boolean') trace.push(`${name}:${arg}`);
      else trace.push(name);
    });
  }
}

/** The code of what `f` throws, or 'no throw'. */
function thrownCode(f: () => void): string {
  try {
    f();
    return 'no throw';
  } catch (error) {
    const e = error as Error & { code?: string };
    return `${e.name}:${e.code}`;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `scenario` on both faces and asserts the traces are equal. */
async function sameAsNode(scenario: (face: Face) => Promise<string[]>): Promise<string[]> {
  const expected = await scenario(nodeFace());
  const pair = realPair();
  try {
    const actual = await scenario(tcptsFace(pair.netA, pair.netB));
    assert.deepEqual(actual, expected);
  } finally {
    pair.close();
  }
  return expected;
}

const CHUNK = Buffer.alloc(65536, 7);
const WRITES = 4096;

/** Writes WRITES chunks; destroys the socket once `destroyAfter` callbacks have come; the callbacks' outcomes in order. */
async function writeThenDestroy(
  face: Face,
  server: AnyServer,
  destroyAfter: number,
  trace: string[],
): Promise<string[]> {
  const port = await listen(face, server);
  const client = face.newSocket();
  recordEvents(client, trace, ['error', 'close']);
  client.connect(port, face.host);
  await once(client, 'connect');
  const results: string[] = [];
  const closed = new Promise((resolve) => client.once('close', resolve));
  if (destroyAfter === 0) setTimeout(() => client.destroy(), 50);
  for (let i = 0; i < WRITES; i++) {
    client.write(CHUNK, (error) => {
      results.push(error ? String((error as { code?: string }).code) : 'ok');
      if (results.length === destroyAfter) process.nextTick(() => client.destroy());
    });
  }
  await closed;
  await delay(20);
  server.close();
  return results;
}

/** The runs of outcomes in callback order ("ok", "ok", "E" gives "ok", "E"). */
function runsOf(results: string[]): string[] {
  const runs: string[] = [];
  for (const r of results) if (runs[runs.length - 1] !== r) runs.push(r);
  return runs;
}

test("destroy() with writes queued: those handed on succeed, the rest fail with ERR_STREAM_DESTROYED, as Node's", async () => {
  const trace = await sameAsNode(async (face) => {
    // The peer reads nothing, so most writes are still queued at the destroy.
    const trace: string[] = [];
    const results = await writeThenDestroy(
      face,
      face.createServer((s) => s.pause()),
      0,
      trace,
    );
    return [...trace, `callbacks:${results.length}`, ...runsOf(results)];
  });
  assert.deepEqual(trace, ['close:false', `callbacks:${WRITES}`, 'ok', 'ERR_STREAM_DESTROYED']);
});

test('destroy() while the peer reads: only the writes the connection took succeed (tcpts)', async () => {
  // Node hands every queued write to libuv in one writev once the first
  // completes, and reports the whole batch as written when destroy cancels
  // it. tcpts hands writes to the connection one at a time, so a callback
  // without error always means the connection took those bytes.
  const pair = realPair();
  try {
    const face = tcptsFace(pair.netA, pair.netB);
    const trace: string[] = [];
    const results = await writeThenDestroy(
      face,
      face.createServer((s) => s.resume()),
      200,
      trace,
    );
    assert.deepEqual(trace, ['close:false']);
    assert.equal(results.length, WRITES);
    assert.deepEqual(runsOf(results), ['ok', 'ERR_STREAM_DESTROYED']);
    assert.ok(
      results.indexOf('ERR_STREAM_DESTROYED') < WRITES / 2,
      'most writes were still queued',
    );
  } finally {
    pair.close();
  }
});

test("the peer's FIN on a socket never read and sent nothing: 'end', then 'finish' and 'close', as Node's", async () => {
  const trace = await sameAsNode(async (face) => {
    const server = face.createServer((s) => void setTimeout(() => s.end(), 20));
    const port = await listen(face, server);
    const client = face.newSocket();
    const halfOpen = face.newSocket({ allowHalfOpen: true });
    const trace: string[] = [];
    const halfOpenTrace: string[] = [];
    const names = ['connect', 'ready', 'end', 'finish', 'close', 'error'];
    recordEvents(client, trace, names);
    recordEvents(halfOpen, halfOpenTrace, names);
    client.connect(port, face.host);
    halfOpen.connect(port, face.host);
    await delay(300);
    const result = [...trace, '| allowHalfOpen:', ...halfOpenTrace];
    halfOpen.destroy();
    server.close();
    return result;
  });
  assert.deepEqual(trace.slice(0, trace.indexOf('| allowHalfOpen:')), [
    'connect',
    'ready',
    'end',
    'finish',
    'close:false',
  ]);
});

test('listen() on an address no interface has: EADDRNOTAVAIL, as Node', async () => {
  const trace = await sameAsNode(async (face) => {
    const server = face.createServer(() => {});
    const trace: string[] = [];
    recordEvents(server as unknown as AnySocket, trace, ['error', 'listening']);
    server.listen(0, face.foreign);
    await delay(50);
    server.close();
    return trace;
  });
  assert.deepEqual(trace, ['error:EADDRNOTAVAIL:listen']);
});

test('connect() to a broadcast or multicast address: ENETUNREACH, as Node', async () => {
  const trace = await sameAsNode(async (face) => {
    const trace: string[] = [];
    for (const host of [face.subnetBroadcast, '224.0.0.1', '255.255.255.255']) {
      const client = face.newSocket();
      recordEvents(client, trace, ['connect', 'error', 'close']);
      const closed = new Promise((resolve) => client.once('close', resolve));
      client.connect(80, host);
      await closed;
    }
    return trace;
  });
  assert.deepEqual(trace, [
    'error:ENETUNREACH:connect',
    'close:true',
    'error:ENETUNREACH:connect',
    'close:true',
    'error:ENETUNREACH:connect',
    'close:true',
  ]);
});

test('bad arguments throw with the codes Node gives', async () => {
  const trace = await sameAsNode(async (face) => {
    const attempts: Array<[string, (s: AnySocket) => void]> = [
      ['port undefined', (s) => s.connect({ port: undefined, host: face.host })],
      ['port true', (s) => s.connect({ port: true, host: face.host })],
      ['port {}', (s) => s.connect({ port: {}, host: face.host })],
      ['connect(undefined)', (s) => s.connect(undefined)],
      ['connect(true)', (s) => s.connect(true)],
      ['connect({})', (s) => s.connect({})],
      ['port 65536', (s) => s.connect(65536, face.host)],
      ["setTimeout('x')", (s) => s.setTimeout('x')],
      ['setTimeout(-1)', (s) => s.setTimeout(-1)],
    ];
    const trace: string[] = [];
    for (const [name, attempt] of attempts) {
      const socket = face.newSocket();
      socket.on('error', () => {});
      trace.push(`${name} ${thrownCode(() => attempt(socket))}`);
      socket.destroy();
    }
    return trace;
  });
  assert.deepEqual(trace, [
    'port undefined TypeError:ERR_MISSING_ARGS',
    'port true TypeError:ERR_INVALID_ARG_TYPE',
    'port {} TypeError:ERR_INVALID_ARG_TYPE',
    'connect(undefined) TypeError:ERR_MISSING_ARGS',
    'connect(true) TypeError:ERR_INVALID_ARG_TYPE',
    'connect({}) TypeError:ERR_MISSING_ARGS',
    'port 65536 RangeError:ERR_SOCKET_BAD_PORT',
    "setTimeout('x') TypeError:ERR_INVALID_ARG_TYPE",
    'setTimeout(-1) RangeError:ERR_OUT_OF_RANGE',
  ]);
});

test('connect() on a connected socket opens nothing new and connects again at once, as Node on Linux', async () => {
  const trace = await sameAsNode(async (face) => {
    let connections = 0;
    const server = face.createServer(() => connections++);
    const port = await listen(face, server);
    const client = face.newSocket();
    client.connect(port, face.host);
    await once(client, 'ready');
    const trace: string[] = [];
    recordEvents(client, trace, ['connect', 'ready', 'error', 'close']);
    const returned = client.connect(port, face.host, () => trace.push('callback'));
    trace.push(`returned itself:${returned === client}`, `connecting:${client.connecting}`);
    await delay(100);
    trace.push(`connections:${connections}`, `destroyed:${client.destroyed}`);
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.destroy();
    await closed;
    server.close();
    return trace;
  });
  assert.deepEqual(trace, [
    'returned itself:true',
    'connecting:true',
    'connect',
    'callback',
    'ready',
    'connections:1',
    'destroyed:false',
    'close:false',
  ]);
});
