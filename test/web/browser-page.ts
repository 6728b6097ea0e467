// The page of the browser tests (bundled by test/helpers/browser.ts): tcpts
// stacks in the page on the real clock, with tcpts/web sockets, exposed to
// the test as globalThis.tcpts.
import { webSocketEndpoint } from '../../src/link/index.js';
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

Object.assign(globalThis, { tcpts: { echoInPage, echoOverRelay } });
