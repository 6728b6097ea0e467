/**
 * `tcpts web`: serves the page that shows TCP at work (web/, built into
 * web/dist/ by `npm run web`) on 127.0.0.1 and prints its URL. The page is
 * static files with no server-side code: this is a plain file server for
 * them, and opening web/dist/index.html from disk works as well.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs, type CommandIo } from './args.js';

/** `tcpts web --help`. */
export const WEB_USAGE = `Usage: tcpts web [options]

Serve the tcpts web page on 127.0.0.1 and print its URL. In the page, the
real stack runs in virtual time: pick a scenario (handshake and close,
half-close, old duplicate SYN, simultaneous open and close, reset, a
transfer with loss, delay and bandwidth), step through it packet by packet
with each side's state lit on the RFC 9293 state diagram, or open a pcap
capture of your own (read in the page, never uploaded).

The page is static: build it with 'npm run web' (into web/dist/), then
serve it with this command or open web/dist/index.html directly.

Options:
  -p, --port P   port to listen on (default 0: any free port)
      --dir DIR  serve this directory instead of web/dist/
  -h, --help     show this help

Runs until interrupted (Ctrl-C). Exit status: 1 when the page is not
built or the port is taken, 2 for bad usage.`;

/** The built page, from the package root (src/cli/ or dist/cli/ are both two levels down). */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** A running page server. */
export interface WebServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the files of `dir` on 127.0.0.1:`port` (0 for any free port). GET and HEAD only. */
export async function serveWeb(dir: string, port = 0): Promise<WebServer> {
  const root = normalize(dir.endsWith(sep) ? dir : dir + sep);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400);
      res.end();
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    // Never outside the page's directory (a path with ../ in it).
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Options of {@link runWeb} for tests: where signals come from. */
export interface WebHooks {
  signals?: NodeJS.EventEmitter;
}

/** `tcpts web`: serves the page until a signal; returns the exit status. */
export async function runWeb(args: string[], io: CommandIo, hooks: WebHooks = {}): Promise<number> {
  const parsed = parseCommandArgs('web', args, {
    port: { type: 'string', short: 'p' },
    dir: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  const v = parsed.values;
  if (v['help'] === true) {
    io.out(WEB_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    io.err(`tcpts web: unexpected argument '${parsed.positionals[0]}' (see 'tcpts web --help')`);
    return 2;
  }
  let port = 0;
  if (typeof v['port'] === 'string') {
    port = Number(v['port']);
    if (!/^\d+$/.test(v['port']) || port > 65535) {
      io.err(`tcpts web: --port takes 0 to 65535, got '${v['port']}'`);
      return 2;
    }
  }
  const dir = typeof v['dir'] === 'string' ? v['dir'] : WEB_DIST;
  if (!existsSync(join(dir, 'index.html'))) {
    io.err(`tcpts web: no page in ${dir}: build it first with 'npm run web'`);
    return 1;
  }
  let server: WebServer;
  try {
    server = await serveWeb(dir, port);
  } catch (error) {
    io.err(`tcpts web: cannot listen on 127.0.0.1:${port}: ${String(error)}`);
    return 1;
  }
  io.out(`tcpts web: the page is at ${server.url} (Ctrl-C stops)`);
  const signals = hooks.signals ?? process;
  const why = await new Promise<string>((resolve) => {
    signals.once('SIGINT', () => resolve('SIGINT'));
    signals.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await server.close();
  io.out(`tcpts web: ${why}: closed`);
  return 0;
}
