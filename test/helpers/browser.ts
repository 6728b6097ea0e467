// Runs code in a real browser: Debian's chromium, driven by playwright-core
// (never `npx playwright install`: the browser is the distribution's). A
// page script is bundled with esbuild for the browser and served from a
// loopback HTTP server. Without chromium, tests skip with the reason.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** False when chromium is there, else why the browser tests are skipped. */
export function chromiumSkipReason(): string | false {
  return existsSync(CHROMIUM)
    ? false
    : `no ${CHROMIUM} (scripts/ensure-tools.sh installs Debian's chromium as root)`;
}

/** A page of a fresh headless chromium, with the bundle of `entry` loaded in it. */
export interface BrowserPage {
  readonly page: Page;
  /** The origin the page was served from. */
  readonly origin: string;
  /** What the page printed to its console (errors included), for failure messages. */
  readonly console: string[];
  close(): Promise<void>;
}

/**
 * Bundles `entry` (a path from the repository root) for the browser, serves
 * it at 127.0.0.1 on a free port, starts chromium with a user-data dir of
 * its own and opens the page; resolves once the page's module has run.
 */
export async function openBrowserPage(entry: string): Promise<BrowserPage> {
  const built = await esbuild.build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    minify: true,
    logLevel: 'silent',
  });
  const script = built.outputFiles[0]!.contents;
  const html =
    '<!doctype html><meta charset="utf-8"><title>tcpts</title>' +
    '<script type="module" src="/page.js"></script>';
  // Cross-origin isolation (COOP + COEP) gives the page performance.now()
  // at 5 µs rather than 100 µs: the driver's clock, and so RTT samples.
  const isolated = {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  };
  const server: Server = createServer((req, res) => {
    if (req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', ...isolated });
      res.end(script);
    } else if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html', ...isolated });
      res.end(html);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'tcpts-chromium-'));
  let context: BrowserContext | null = null;
  const cleanup = async (): Promise<void> => {
    if (context !== null) await context.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(userDataDir, { recursive: true, force: true });
  };
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const lines: string[] = [];
    page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'tcpts' in globalThis, undefined, { timeout: 30_000 });
    return { page, origin, console: lines, close: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
