/**
 * `tcpts serve`: brings up a TUN or TAP device, gives both of its ends an
 * address, and runs a server on the tcpts stack at tcpts's end — files over
 * HTTP (node:http on tcpts sockets), or one of the classic small services:
 * echo (RFC 862), discard (RFC 863), character generator (RFC 864). The
 * kernel, and anything it routes, reaches it like any other host: curl, nc,
 * ping. One log line as each connection opens and closes; SIGINT or SIGTERM
 * ends every connection with a FIN, waits (briefly) for the FINs to be
 * acknowledged, and takes the device down again.
 */
import { createReadStream, realpathSync, statSync, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import { extname, join, posix, resolve, sep } from 'node:path';
import { startHttpTimeouts, type Server, type Socket } from '../net/index.js';
import type { CommandIo } from './args.js';
import {
  LiveStats,
  STATS_USAGE,
  StatusDisplay,
  formatDump,
  parseStatsInterval,
} from './live-stats.js';
import type { ProgressStream } from './progress.js';
import {
  LINK_USAGE,
  bringUp,
  missingPrerequisite,
  parseLinkConfig,
  parseWithLinkOptions,
  probeHost,
  type HostFacts,
  type LiveLink,
} from './tun-setup.js';

/** `tcpts serve --help`. */
export const SERVE_USAGE = `Usage: tcpts serve (--tun NAME | --tap NAME) --addr CIDR [options] SERVICE

Brings up a TUN or TAP device, gives the kernel's end an address too, and
serves on tcpts's end of it until Ctrl-C (SIGINT) or SIGTERM, which close
every connection with a FIN and remove the device again (if tcpts made it).
Needs root (CAP_NET_ADMIN) and /dev/net/tun.

Service (one):
  --http DIR         serve the files under DIR over HTTP/1.1 (GET and HEAD,
                     single byte ranges, If-None-Match/ETag, If-Modified-Since)
  --echo             send back whatever arrives (RFC 862)
  --discard          read and throw away whatever arrives (RFC 863)
  --chargen          send lines of characters until the client goes (RFC 864)
  --port P           the port (default: http 80, echo 7, discard 9, chargen 19)

Limits (seconds; 0 turns one off):
  --header-timeout S       http: a request's headers must all arrive within S
                           of its first byte, else 408 and close (default 60,
                           Node's headersTimeout)
  --request-timeout S      http: the whole request within S (default 300,
                           Node's requestTimeout)
  --keep-alive-timeout S   http: close a connection idle S after a response
                           (default 5, Node's keepAliveTimeout)
  --idle-timeout S         echo, discard, chargen: close a connection that
                           neither sends nor takes data for S (default: none)

${LINK_USAGE}

${STATS_USAGE}

  -h, --help         show this help

Each connection logs a line as it opens and as it closes (bytes each way,
seconds, and how it ended).

Example:
  sudo tcpts serve --tun tcpts0 --addr 10.0.0.2/24 --http ./public
  curl http://10.0.0.2/            # from the same host, through the kernel

Exit status: 0 after a clean stop, 1 when the device cannot be set up, 2 for
bad usage.`;

/** The services `serve` offers. */
export const ServiceKind = {
  Http: 'http',
  Echo: 'echo',
  Discard: 'discard',
  Chargen: 'chargen',
} as const;
/** One of {@link ServiceKind}. */
export type ServiceKind = (typeof ServiceKind)[keyof typeof ServiceKind];

/** The well-known ports (RFC 862, 863, 864; RFC 9110 §4.2.1). */
export const DEFAULT_PORTS: Readonly<Record<ServiceKind, number>> = {
  http: 80,
  echo: 7,
  discard: 9,
  chargen: 19,
};

/** Options of {@link runServe} for tests: where signals come from, and the host's facts. */
export interface ServeHooks {
  /** Emits 'SIGINT' / 'SIGTERM' (stop) and 'SIGUSR1' (dump the connections); default `process`. */
  signals?: NodeJS.EventEmitter;
  /** Default: {@link probeHost}. */
  facts?: HostFacts;
}

/** How long a stop waits for connections to close before it resets what is left. */
const STOP_GRACE_MS = 3000;
/** How long it then waits for the last FINs to be acknowledged. */
const STOP_SETTLE_MS = 3000;

// ---------------------------------------------------------------------------
// The classic services

/**
 * RFC 864's character stream: lines of 72 printable ASCII characters (the
 * 95 from space to '~'), each starting one character further on, ended by
 * CR LF. One cycle of 95 lines, repeated to fill a chunk, so that every
 * chunk continues where the last one stopped.
 */
export function chargenCycle(): Buffer {
  const lines: string[] = [];
  for (let start = 0; start < 95; start++) {
    let line = '';
    for (let i = 0; i < 72; i++) line += String.fromCharCode(32 + ((start + i) % 95));
    lines.push(`${line}\r\n`);
  }
  return Buffer.from(lines.join(''), 'latin1');
}

/** What each connection of a service does, and how it stops when the server does. */
interface Handler {
  /** Takes the new connection. */
  start(socket: Socket): void;
  /** Ends it with a FIN (the server is stopping). */
  stop(socket: Socket): void;
}

function echoHandler(): Handler {
  return {
    // pipe() ends the socket when the peer has ended and everything read was
    // written: the FIN follows the last echoed byte (a half-close the other
    // way round keeps echoing until then).
    start: (socket) => socket.pipe(socket),
    stop(socket) {
      socket.unpipe(socket);
      socket.resume();
      socket.end();
    },
  };
}

function discardHandler(): Handler {
  return {
    start(socket) {
      socket.resume();
      socket.on('end', () => socket.end());
    },
    stop(socket) {
      socket.end();
    },
  };
}

function chargenHandler(): Handler {
  const cycle = chargenCycle();
  // About 64 KiB of whole cycles: each write continues the pattern exactly.
  const chunk = Buffer.concat(new Array<Buffer>(Math.ceil(65536 / cycle.length)).fill(cycle));
  const stopped = new WeakSet<Socket>();
  return {
    start(socket) {
      // RFC 864: what the client sends is thrown away; the stream goes on
      // until the client closes (as inetd's chargen, a half-close from the
      // client does not stop it).
      socket.resume();
      const pump = (): void => {
        while (!stopped.has(socket) && !socket.destroyed && socket.writable) {
          if (!socket.write(chunk)) return;
        }
      };
      socket.on('drain', pump);
      socket.on('connect', pump);
      pump();
    },
    stop(socket) {
      stopped.add(socket);
      socket.end();
    },
  };
}

// ---------------------------------------------------------------------------
// HTTP

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.pdf': 'application/pdf',
  '.wasm': 'application/wasm',
  '.pcap': 'application/vnd.tcpdump.pcap',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function plain(res: http.ServerResponse, status: number, text: string, head: boolean): void {
  const body = `${text}\n`;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.writeHead(status);
  res.end(head ? undefined : body);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * The file's validator: its modification time and size, in hex, as nginx
 * makes it. A file rewritten in place gets a new one, which is what
 * If-None-Match and If-Range need (RFC 9110 §8.8.3).
 */
export function fileEtag(st: Stats): string {
  return `"${Math.floor(st.mtimeMs / 1000).toString(16)}-${st.size.toString(16)}"`;
}

/** Whether an If-None-Match list names `etag` (weak comparison, RFC 9110 §13.1.2). */
function noneMatchHits(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare);
}

/**
 * RFC 9110 §13.1.2-3: whether the client's copy is current. If-None-Match
 * decides when present; If-Modified-Since only without it, at one-second
 * resolution (HTTP dates have no more).
 */
function notModified(req: http.IncomingMessage, st: Stats, etag: string): boolean {
  const noneMatch = req.headers['if-none-match'];
  if (noneMatch !== undefined) return noneMatchHits(noneMatch, etag);
  const since = req.headers['if-modified-since'];
  if (since === undefined) return false;
  const date = Date.parse(since);
  return !Number.isNaN(date) && Math.floor(st.mtimeMs / 1000) * 1000 <= date;
}

/** A byte range to send, inclusive, or 'unsatisfiable' (416), or null (send the whole file). */
export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * Reads a Range header (RFC 9110 §14.1.2) against a file of `size` bytes:
 * one range (`bytes=a-b`, `bytes=a-`, `bytes=-n`). Several ranges, other
 * units or bad syntax give null: the whole file, as §14.2 lets a server
 * ignore a Range it does not take.
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return null;
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return null;
  if (first === '') {
    // A suffix: the last n bytes (all of a shorter file); n = 0 selects nothing.
    const n = Number(last);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: n >= size ? 0 : size - n, end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Number(last);
  return { start, end: end >= size ? size - 1 : end };
}

/** Whether If-Range (RFC 9110 §13.1.5) lets the Range apply: it must name this very version. */
function ifRangeHolds(req: http.IncomingMessage, st: Stats, etag: string): boolean {
  const ifRange = req.headers['if-range'];
  if (ifRange === undefined) return true;
  // Not a list field: a repeated one is malformed, and the Range is ignored.
  if (typeof ifRange !== 'string') return false;
  const value = ifRange.trim();
  // An entity tag: strong comparison only.
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  const date = Date.parse(value);
  return !Number.isNaN(date) && Math.floor(st.mtimeMs / 1000) * 1000 === date;
}

/**
 * Sends one file: 304 when the client's copy is current, 206 with one range
 * of it, 416 for a range past its end, else 200 and all of it. Lengths go
 * up front; the bytes stream from disk as the socket takes them.
 */
function sendFile(req: http.IncomingMessage, res: http.ServerResponse, path: string, st: Stats) {
  const etag = fileEtag(st);
  // Headers set one by one (not given to writeHead) so that the log can read them back.
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', st.mtime.toUTCString());
  if (notModified(req, st, etag)) {
    res.writeHead(304);
    res.end();
    return;
  }
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader(
    'Content-Type',
    CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
  );
  // Ranges are defined for GET only (RFC 9110 §14.2).
  const range =
    req.method === 'GET' && ifRangeHolds(req, st, etag)
      ? parseRange(req.headers.range, st.size)
      : null;
  if (range === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${st.size}`);
    plain(res, 416, 'range not satisfiable', false);
    return;
  }
  if (range !== null) {
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${st.size}`);
    res.setHeader('Content-Length', range.end - range.start + 1);
    res.writeHead(206);
  } else {
    res.setHeader('Content-Length', st.size);
    res.writeHead(200);
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(
    path,
    range === null ? {} : { start: range.start, end: range.end },
  );
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

async function sendListing(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  dir: string,
  urlPath: string,
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const items = entries.map((e) => {
    const name = e.isDirectory() ? `${e.name}/` : e.name;
    return `<li><a href="${encodeURIComponent(e.name)}${e.isDirectory() ? '/' : ''}">${escapeHtml(name)}</a></li>`;
  });
  const title = `Index of ${escapeHtml(urlPath)}`;
  const body = `<!doctype html>\n<title>${title}</title>\n<h1>${title}</h1>\n<ul>\n${items.join('\n')}\n</ul>\n`;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * The request handler of `--http DIR`: GET and HEAD of files under `root`
 * (a directory gives its index.html, or a listing), 404 for what is not
 * there, 405 for other methods. Paths are resolved inside `root`: `..`
 * cannot leave it.
 */
export function fileHandler(
  root: string,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      plain(res, 405, 'method not allowed', false);
      return;
    }
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://tcpts').pathname);
    } catch {
      plain(res, 400, 'bad request: malformed path', head);
      return;
    }
    if (urlPath.includes('\0')) {
      plain(res, 400, 'bad request: malformed path', head);
      return;
    }
    // posix.normalize of an absolute path cannot climb above '/', so the
    // result stays under root.
    const path = join(root, posix.normalize(`/${urlPath}`));
    if (path !== root && !path.startsWith(root + sep)) {
      plain(res, 404, 'not found', head);
      return;
    }
    const st = statOrNull(path);
    if (st === null) {
      plain(res, 404, 'not found', head);
      return;
    }
    if (st.isDirectory()) {
      if (!urlPath.endsWith('/')) {
        // Relative links in the page need the slash (as every static server does).
        res.setHeader('Location', `${encodeURI(urlPath)}/`);
        res.setHeader('Content-Length', 0);
        res.writeHead(301);
        res.end();
        return;
      }
      const index = join(path, 'index.html');
      const ist = statOrNull(index);
      if (ist !== null && ist.isFile()) {
        sendFile(req, res, index, ist);
        return;
      }
      sendListing(req, res, path, urlPath).catch(() => {
        if (!res.headersSent) plain(res, 403, 'forbidden', head);
        else res.destroy();
      });
      return;
    }
    if (!st.isFile()) {
      plain(res, 403, 'forbidden', head);
      return;
    }
    sendFile(req, res, path, st);
  };
}

/** The HTTP limits of `serve --http`, in milliseconds (0: off), as Node's server options. */
export interface HttpLimits {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
}

/** Node's own defaults (node:http, v20). */
export const NODE_HTTP_LIMITS: Readonly<HttpLimits> = {
  headersTimeout: 60_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 5_000,
};

/**
 * How often the request timeouts are checked: a quarter of the shorter
 * one, so that a connection closes within 1.25 times its limit (Node's
 * fixed 30 s would let a 2 s limit run to 32 s), but not more often than
 * every 100 ms nor less often than Node's 30 s.
 */
export function checkingInterval(limits: HttpLimits): number {
  const set = [limits.headersTimeout, limits.requestTimeout].filter((ms) => ms > 0);
  if (set.length === 0) return 30_000;
  return Math.min(30_000, Math.max(100, Math.floor(Math.min(...set) / 4)));
}

function httpHandler(root: string, limits: HttpLimits, log: (line: string) => void): Handler {
  const files = fileHandler(root);
  const options: http.ServerOptions = {
    ...limits,
    connectionsCheckingInterval: checkingInterval(limits),
  };
  const server = http.createServer(options, (req, res) => {
    const who = endpointText(req.socket.remoteAddress, req.socket.remotePort);
    res.on('finish', () => {
      const length = res.getHeader('content-length');
      log(`${who} ${req.method} ${req.url} ${res.statusCode} ${length ?? '-'}`);
    });
    files(req, res);
  });
  // The server never listens (tcpts hands it each connection): without
  // this, Node never checks headersTimeout and requestTimeout.
  startHttpTimeouts(server);
  return {
    start: (socket) => server.emit('connection', socket),
    // A response still streaming would write after an end(): destroy
    // instead. The connection still closes with a FIN (after what TCP has
    // already taken), as Node's server.closeAllConnections() does.
    stop: (socket) => socket.destroy(),
  };
}

// ---------------------------------------------------------------------------
// The command

function endpointText(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return '?';
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The send-side figures of a connection {@link describeSent} reads (from its tcp stats). */
export interface SentFigures {
  /** Bytes the application wrote (taken by the stream, queued or not). */
  written: number;
  /** Bytes put on the wire at least once (first transmissions). */
  onWire: number;
  /** Bytes the peer acknowledged. */
  acknowledged: number;
}

/**
 * "sent N B" for a close line. After a clean close every byte written is
 * delivered (what is not acknowledged yet still is, after the socket
 * closed), so that is the count. After a reset or a timeout it says what
 * really left: a server that writes ahead (chargen, a big file) has far
 * more queued than the link carried when the peer goes, and the bytes
 * written alone would overstate it.
 */
export function describeSent(f: SentFigures, clean: boolean): string {
  if (clean) return `sent ${f.written} B`;
  const queued = f.written > f.onWire ? f.written - f.onWire : 0;
  if (queued === 0 && f.acknowledged >= f.onWire) return `sent ${f.onWire} B`;
  const parts = [`${f.acknowledged} B acknowledged`];
  if (queued > 0) parts.push(`${queued} B written but never sent`);
  return `sent ${f.onWire} B (${parts.join(', ')})`;
}

/** What was sent on `socket`, from its connection's counters when it has one. */
export function describeSocketSent(socket: Socket, clean: boolean): string {
  const tcp = socket.tcpSocket;
  if (tcp === null) return `sent ${socket.bytesWritten} B`;
  const stats = tcp.stats();
  return describeSent(
    { written: socket.bytesWritten, onWire: stats.bytesSent, acknowledged: stats.bytesAcked },
    clean,
  );
}

/** Seconds with millisecond precision. */
function secondsSince(start: number): string {
  return ((performance.now() - start) / 1000).toFixed(3);
}

/**
 * Runs `tcpts serve`; resolves with the exit status once stopped by a
 * signal (or at once for bad usage or a device that cannot be set up).
 */
export async function runServe(
  args: string[],
  io: CommandIo & { progress?: ProgressStream },
  hooks: ServeHooks = {},
): Promise<number> {
  const parsed = parseWithLinkOptions('serve', args, {
    http: { type: 'string' },
    echo: { type: 'boolean' },
    discard: { type: 'boolean' },
    chargen: { type: 'boolean' },
    port: { type: 'string' },
    'header-timeout': { type: 'string' },
    'request-timeout': { type: 'string' },
    'keep-alive-timeout': { type: 'string' },
    'idle-timeout': { type: 'string' },
    stats: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const usage = (message: string): number => {
    io.err(`tcpts serve: ${message} (see 'tcpts serve --help')`);
    return 2;
  };
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  const v = parsed.values;
  if (v.help === true) {
    io.out(SERVE_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) return usage(`unexpected argument '${parsed.positionals[0]}'`);
  const chosen: ServiceKind[] = [];
  if (typeof v.http === 'string') chosen.push(ServiceKind.Http);
  if (v.echo === true) chosen.push(ServiceKind.Echo);
  if (v.discard === true) chosen.push(ServiceKind.Discard);
  if (v.chargen === true) chosen.push(ServiceKind.Chargen);
  if (chosen.length !== 1) {
    return usage(
      chosen.length === 0
        ? 'choose a service: --http DIR, --echo, --discard or --chargen'
        : `one service at a time, got --${chosen.join(' and --')}`,
    );
  }
  const service = chosen[0]!;
  let port = DEFAULT_PORTS[service];
  if (typeof v.port === 'string') {
    if (!/^\d+$/.test(v.port) || Number(v.port) < 1 || Number(v.port) > 65535) {
      return usage(`--port takes 1 to 65535, got '${v.port}'`);
    }
    port = Number(v.port);
  }
  const seconds = (flag: string): number | string | null => {
    const text = v[flag];
    if (typeof text !== 'string') return null;
    if (!/^\d+(\.\d+)?$/.test(text) || Number(text) > 86_400) {
      return `--${flag} takes seconds from 0 to 86400, got '${text}'`;
    }
    return Math.round(Number(text) * 1000);
  };
  const limits: HttpLimits = { ...NODE_HTTP_LIMITS };
  const headerMs = seconds('header-timeout');
  const requestMs = seconds('request-timeout');
  const keepAliveMs = seconds('keep-alive-timeout');
  const idleMs = seconds('idle-timeout');
  for (const given of [headerMs, requestMs, keepAliveMs, idleMs]) {
    if (typeof given === 'string') return usage(given);
  }
  if (service === ServiceKind.Http && idleMs !== null) {
    return usage(
      '--idle-timeout is for --echo, --discard and --chargen (http has --keep-alive-timeout)',
    );
  }
  if (service !== ServiceKind.Http && (headerMs ?? requestMs ?? keepAliveMs) !== null) {
    return usage('--header-timeout, --request-timeout and --keep-alive-timeout are for --http');
  }
  if (typeof requestMs === 'number') {
    limits.requestTimeout = requestMs;
    // Node refuses headers given longer than the whole request: the default follows it down.
    if (requestMs > 0) limits.headersTimeout = Math.min(limits.headersTimeout, requestMs);
  }
  if (typeof headerMs === 'number') {
    if (limits.requestTimeout > 0 && headerMs > limits.requestTimeout) {
      return usage('--header-timeout cannot be longer than --request-timeout');
    }
    limits.headersTimeout = headerMs;
  }
  if (typeof keepAliveMs === 'number') limits.keepAliveTimeout = keepAliveMs;
  let root = '';
  if (service === ServiceKind.Http) {
    const dir = v.http as string;
    const st = statOrNull(dir);
    if (st === null || !st.isDirectory()) {
      io.err(`tcpts serve: --http ${dir}: no such directory`);
      return 1;
    }
    root = realpathSync(resolve(dir));
  }
  let statsMs: number | null = null;
  if (typeof v.stats === 'string') {
    const ms = parseStatsInterval(v.stats);
    if (typeof ms === 'string') return usage(ms);
    statsMs = ms;
  }
  const config = parseLinkConfig(v);
  if (typeof config === 'string') return usage(config);

  const missing = missingPrerequisite(hooks.facts ?? probeHost(), config.netns !== null);
  if (missing !== null) {
    io.err(`tcpts serve: ${missing}`);
    return 1;
  }
  let live: LiveLink;
  try {
    live = bringUp(config);
  } catch (error) {
    io.err(`tcpts serve: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }

  // Live figures: a status line on a terminal, else a log line every --stats S.
  const figures = new LiveStats(() => performance.now());
  const terminal = io.progress?.isTTY === true ? io.progress : null;
  const display = new StatusDisplay(figures, {
    terminal,
    log: terminal === null && statsMs !== null ? (line) => io.out(line) : null,
    intervalMs: statsMs ?? 1000,
  });
  const log = (line: string): void => display.print(io.out, line);
  const handler =
    service === ServiceKind.Http
      ? httpHandler(root, limits, log)
      : service === ServiceKind.Echo
        ? echoHandler()
        : service === ServiceKind.Discard
          ? discardHandler()
          : chargenHandler();
  const open = new Set<Socket>();
  const server: Server = live.net.createServer({ allowHalfOpen: true }, (socket) => {
    const started = performance.now();
    const name = `${endpointText(socket.remoteAddress, socket.remotePort)} -> ${endpointText(socket.localAddress, socket.localPort)}`;
    let failure: string | null = null;
    open.add(socket);
    figures.add(name, socket);
    log(`open  ${name}`);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= error.code ?? error.message;
    });
    if (typeof idleMs === 'number' && idleMs > 0) {
      // A client that neither sends nor reads (for echo and chargen: whose
      // window stays shut) holds buffers and a connection for nothing.
      socket.setTimeout(idleMs, () => {
        failure ??= 'idle timeout';
        handler.stop(socket);
        // What it would not take cannot be sent: do not wait for it.
        setTimeout(() => socket.resetAndDestroy(), 1000).unref();
      });
    }
    socket.on('close', () => {
      open.delete(socket);
      figures.remove(socket);
      const how = failure !== null ? `, ${failure}` : '';
      log(
        `close ${name}: received ${socket.bytesRead} B, ${describeSocketSent(socket, failure === null)}, ${secondsSince(started)} s${how}`,
      );
    });
    handler.start(socket);
  });

  return new Promise<number>((done) => {
    const signals = hooks.signals ?? process;
    let stopping = false;
    let forced: (() => void) | null = null;
    const stop = async (why: string): Promise<number> => {
      server.close();
      const count = open.size;
      log(`tcpts serve: ${why}: closing ${count} connection${count === 1 ? '' : 's'}`);
      for (const socket of open) handler.stop(socket);
      const forcedStop = new Promise<void>((r) => (forced = r));
      const closedAll = new Promise<void>((r) => {
        const look = (): void => {
          if (open.size === 0) r();
          else setTimeout(look, 10);
        };
        look();
      });
      let timer: ReturnType<typeof setTimeout> | null = null;
      const grace = new Promise<void>((r) => (timer = setTimeout(r, STOP_GRACE_MS)));
      await Promise.race([closedAll, grace, forcedStop]);
      if (timer !== null) clearTimeout(timer);
      if (open.size > 0) {
        log(`tcpts serve: ${open.size} connection(s) did not close in time: reset`);
        for (const socket of open) socket.resetAndDestroy();
      }
      // Our FINs (and any data before them) still unacknowledged are held by
      // the driver; the device must stay up until they are through.
      const settled = await Promise.race([
        live.settle(STOP_SETTLE_MS),
        forcedStop.then(() => false),
      ]);
      if (!settled) log('tcpts serve: gave up waiting for the last FINs to be acknowledged');
      log(`tcpts serve: ${live.summary()}`);
      live.close();
      log(
        live.created
          ? `tcpts serve: ${live.link.name} removed`
          : `tcpts serve: ${live.link.name} left as it was found`,
      );
      return 0;
    };
    const onSignal = (signal: string): void => {
      if (stopping) {
        // A second Ctrl-C: stop waiting.
        forced?.();
        return;
      }
      stopping = true;
      stop(signal).then(finish, (error: unknown) => {
        io.err(`tcpts serve: ${error instanceof Error ? error.message : String(error)}`);
        live.close();
        finish(1);
      });
    };
    const onInt = (): void => onSignal('SIGINT');
    const onTerm = (): void => onSignal('SIGTERM');
    const onDump = (): void => {
      formatDump(figures.connections()).forEach((line, i) =>
        log(i === 0 ? `tcpts serve: ${line}` : line),
      );
    };
    const finish = (status: number): void => {
      signals.removeListener('SIGINT', onInt);
      signals.removeListener('SIGTERM', onTerm);
      signals.removeListener('SIGUSR1', onDump);
      display.stop();
      done(status);
    };
    signals.on('SIGINT', onInt);
    signals.on('SIGTERM', onTerm);
    signals.on('SIGUSR1', onDump);
    live.watch((error) => {
      io.err(`tcpts serve: the device failed: ${error.message.replace(/^tcpts: /, '')}`);
      if (stopping) return;
      stopping = true;
      for (const socket of open) socket.destroy();
      server.close();
      live.close();
      finish(1);
    });
    server.on('error', (error: Error) => {
      io.err(`tcpts serve: ${error.message}`);
      if (stopping) return;
      stopping = true;
      live.close();
      finish(1);
    });
    server.listen({ port }, () => {
      log(`tcpts serve: ${live.describe()}`);
      const what = service === ServiceKind.Http ? `http (files under ${root})` : service;
      log(`tcpts serve: ${what} on port ${port}; Ctrl-C to stop`);
    });
  });
}
