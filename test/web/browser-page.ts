// The page of the browser tests (bundled by test/helpers/browser.ts): tcpts
// stacks in the page on the real clock, with tcpts/web sockets, exposed to
// the test as globalThis.tcpts. The same script, started as a module
// Worker, runs an echo server on a stack of its own (see echoWithWorker).
import {
  messagePortEndpoint,
  webSocketEndpoint,
  type MessagePortLike,
} from '../../src/link/index.js';
import { RealDriver, joinDrivers } from '../../src/runtime/index.js';
import { createWeb, type StreamSocket } from '../../src/web/index.js';

/** What one echo found. */
export interface EchoResult {
  bytes: number;
  intact: boolean;
  ms: number;
}

/** The byte at `i` of the test data (the Node side makes the same). */
function byteAt(i: number): number {
  return (i * 31 + (i >>> 11)) & 0xff;
}

function testData(bytes: number): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = byteAt(i);
  return data;
}

/** Writes `data` in 256 KB chunks and half-closes; reads the echo back and checks every byte. */
async function echoThrough(socket: StreamSocket, data: Uint8Array): Promise<EchoResult> {
  const started = performance.now();
  const writing = (async () => {
    const w = socket.writable.getWriter();
    for (let i = 0; i < data.length; i += 256 * 1024)
      await w.write(data.subarray(i, i + 256 * 1024));
    await w.close();
  })();
  let at = 0;
  let intact = true;
  for await (const chunk of socket.readable) {
    for (let i = 0; i < chunk.length && intact; i++) if (chunk[i] !== data[at + i]) intact = false;
    at += chunk.length;
  }
  await writing;
  await socket.closed;
  return { bytes: at, intact: intact && at === data.length, ms: performance.now() - started };
}

/** Two stacks in this page joined by a memory link; an echo server on one, a client on the other. */
async function echoInPage(bytes: number): Promise<EchoResult> {
  const a = new RealDriver();
  const b = new RealDriver();
  joinDrivers(a, b, {
    a: { addresses: ['10.0.0.1/24'] },
    b: { addresses: ['10.0.0.2/24'] },
  });
  try {
    const server = createWeb(b).listen({ port: 7 });
    void (async () => {
      for await (const conn of server) void conn.readable.pipeTo(conn.writable);
    })();
    const result = await echoThrough(
      createWeb(a).connect({ hostname: '10.0.0.2', port: 7 }),
      testData(bytes),
    );
    server.close();
    return result;
  } finally {
    a.close();
    b.close();
  }
}

/** A stack in this page on a relay's segment (the browser's own WebSocket), echoing through a peer there. */
async function echoOverRelay(url: string, peer: string, bytes: number): Promise<EchoResult> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve);
    ws.addEventListener('error', () => reject(new Error(`cannot open ${url}`)));
  });
  const link = webSocketEndpoint(ws);
  const driver = new RealDriver();
  driver.attach(link, { addresses: ['10.9.0.1/24'], mac: '02:00:00:09:00:01' });
  link.onReadable(() => driver.wake());
  try {
    return await echoThrough(
      createWeb(driver).connect({ hostname: peer, port: 7 }),
      testData(bytes),
    );
  } finally {
    driver.close();
    link.close();
  }
}

/** What this script needs of the browser's Worker API (the test's types are Node's). */
interface WorkerLike {
  postMessage(message: unknown, transfer: unknown[]): void;
  terminate(): void;
}
interface WorkerScope {
  onmessage: ((event: { data: { port: MessagePortLike } }) => void) | null;
  postMessage(message: unknown): void;
}
type WorkerConstructor = new (url: string, options: { type: 'module' }) => WorkerLike;
type ChannelConstructor = new () => { port1: MessagePortLike; port2: MessagePortLike };

/** In the Worker: a stack on the port the page sends, with an echo server on port 7. */
function serveInWorker(scope: WorkerScope): void {
  scope.onmessage = (event) => {
    const link = messagePortEndpoint(event.data.port);
    const driver = new RealDriver();
    driver.attach(link, { addresses: ['10.5.0.2/24'], mac: '02:00:00:05:00:02' });
    link.onReadable(() => driver.wake());
    void (async () => {
      for await (const conn of createWeb(driver).listen({ port: 7 }))
        void conn.readable.pipeTo(conn.writable);
    })();
    scope.postMessage('listening');
  };
}

/** A stack in the page and one in a Worker, joined by a MessageChannel: an echo across. */
async function echoWithWorker(bytes: number): Promise<EchoResult> {
  const g = globalThis as unknown as {
    Worker: WorkerConstructor;
    MessageChannel: ChannelConstructor;
  };
  const worker = new g.Worker('/page.js', { type: 'module' });
  const { port1, port2 } = new g.MessageChannel();
  const listening = new Promise<void>((resolve) => {
    (worker as unknown as { onmessage: () => void }).onmessage = () => resolve();
  });
  worker.postMessage({ port: port2 }, [port2]);
  await listening;
  const link = messagePortEndpoint(port1);
  const driver = new RealDriver();
  driver.attach(link, { addresses: ['10.5.0.1/24'], mac: '02:00:00:05:00:01' });
  link.onReadable(() => driver.wake());
  try {
    return await echoThrough(
      createWeb(driver).connect({ hostname: '10.5.0.2', port: 7 }),
      testData(bytes),
    );
  } finally {
    driver.close();
    link.close();
    worker.terminate();
  }
}

if (typeof (globalThis as { document?: unknown }).document === 'undefined') {
  serveInWorker(globalThis as unknown as WorkerScope);
} else {
  Object.assign(globalThis, { tcpts: { echoInPage, echoOverRelay, echoWithWorker } });
}
