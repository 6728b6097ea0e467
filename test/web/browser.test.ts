// tcpts in a real browser (Debian's chromium, headless, driven by
// playwright-core): tcpts/web sockets between two stacks in the page on the
// real clock; a stack in a Worker joined to the page by a MessagePort link;
// and a stack in the page talking over the WebSocket link through `tcpts
// relay` to a stack in this Node process. Skipped, with the
// reason, where chromium is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { webSocketEndpoint } from '../../src/link/index.js';
import { RealDriver } from '../../src/runtime/index.js';
import { createWeb } from '../../src/web/index.js';
import { startRelay } from '../../src/cli/relay.js';
import { chromiumSkipReason, openBrowserPage, type BrowserPage } from '../helpers/browser.js';
import type { EchoResult } from './browser-page.js';

const MB = 1024 * 1024;

interface PageApi {
  echoInPage(bytes: number): Promise<EchoResult>;
  echoOverRelay(url: string, peer: string, bytes: number): Promise<EchoResult>;
  echoWithWorker(bytes: number): Promise<EchoResult>;
}

async function withPage(
  t: { skip(reason: string): void },
  body: (page: BrowserPage) => Promise<void>,
): Promise<void> {
  const skip = chromiumSkipReason();
  if (skip !== false) {
    t.skip(skip);
    return;
  }
  const page = await openBrowserPage('test/web/browser-page.ts');
  try {
    await body(page);
  } catch (error) {
    throw new Error(`${String(error)}\npage console:\n${page.console.join('\n')}`);
  } finally {
    await page.close();
  }
}

test('chromium: 10 MB echo between two stacks in the page, real clock, bytes checked', async (t) => {
  await withPage(t, async ({ page }) => {
    const result = await page.evaluate(
      (bytes) => (globalThis as unknown as { tcpts: PageApi }).tcpts.echoInPage(bytes),
      10 * MB,
    );
    assert.equal(result.bytes, 10 * MB);
    assert.equal(result.intact, true, 'every byte came back as sent');
  });
});

test('chromium: a stack in a Worker, joined to the page over a MessagePort link: 4 MB echo', async (t) => {
  await withPage(t, async ({ page }) => {
    const result = await page.evaluate(
      (bytes) => (globalThis as unknown as { tcpts: PageApi }).tcpts.echoWithWorker(bytes),
      4 * MB,
    );
    assert.equal(result.bytes, 4 * MB);
    assert.equal(result.intact, true, 'every byte came back as sent');
  });
});

test('chromium: a stack in the page echoes through tcpts relay with a stack in Node', async (t) => {
  const skip = chromiumSkipReason();
  if (skip !== false) {
    t.skip(skip);
    return;
  }
  const relay = await startRelay({ port: 0 });
  // The Node side: a tcpts stack on the relay's segment over the ws client, an echo server on it.
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/`);
  await once(ws, 'open');
  const link = webSocketEndpoint(ws);
  const driver = new RealDriver();
  driver.attach(link, { addresses: ['10.9.0.2/24'], mac: '02:00:00:09:00:02' });
  link.onReadable(() => driver.wake());
  const server = createWeb(driver).listen({ port: 7 });
  let served = 0;
  void (async () => {
    for await (const conn of server) {
      served++;
      void conn.readable.pipeTo(conn.writable);
    }
  })();
  try {
    await withPage(t, async ({ page }) => {
      const result = await page.evaluate(
        ([url, bytes]) =>
          (globalThis as unknown as { tcpts: PageApi }).tcpts.echoOverRelay(url, '10.9.0.2', bytes),
        [`ws://127.0.0.1:${relay.port}/`, 2 * MB] as [string, number],
      );
      assert.equal(result.bytes, 2 * MB);
      assert.equal(result.intact, true, 'every byte came back as sent');
    });
    assert.equal(served, 1, 'the connection was served by the stack in Node');
    const s = relay.switch.stats();
    assert.ok(s.forwarded > 0, 'frames went through the relay');
  } finally {
    server.close();
    driver.close();
    link.close();
    await relay.close();
  }
});
