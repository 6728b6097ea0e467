/**
 * `tcpts connect`: a netcat whose TCP is tcpts. It brings up a TUN or TAP
 * device as `tcpts serve` does, connects from tcpts's end to HOST PORT
 * (the kernel, or anything the kernel routes to), copies standard input to
 * the connection and the connection to standard output, half-closes (FIN)
 * when the input ends, and exits once both directions are closed. A
 * refused, reset or timed-out connection exits 1 with one line saying so.
 */
import type { Readable, Writable } from 'node:stream';
import type { NetErrorCode, Socket } from '../net/index.js';
import type { CommandIo } from './args.js';
import {
  LiveStats,
  STATS_USAGE,
  StatusDisplay,
  formatDump,
  parseStatsInterval,
} from './live-stats.js';
import type { ProgressStream } from './progress.js';
import { resolveHost, type LookupAll } from './resolve-host.js';
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

/** `tcpts connect --help`. */
export const CONNECT_USAGE = `Usage: tcpts connect (--tun NAME | --tap NAME) --addr CIDR [options] HOST PORT

A netcat on tcpts: brings up a TUN or TAP device (the kernel's end addressed
too), connects from tcpts's end to HOST PORT, copies standard input to the
connection and the connection to standard output. The end of the input
half-closes the connection (a FIN); the command exits once both directions
are closed, or with status 1 and one line when the connection is refused,
reset or times out. The device is removed again (if tcpts made it).
Needs root (CAP_NET_ADMIN) and /dev/net/tun.

HOST is an address or a name; a name is resolved by the system's resolver
(/etc/hosts, DNS), and its first address of a family tcpts has is used.

Connection:
  --timeout S        give up connecting after S seconds (default: TCP's own,
                     about two minutes of SYN retries)
  -v, --verbose      say on standard error which address HOST is, when
                     connected and when closed

${LINK_USAGE}

${STATS_USAGE}
  The status line (on standard error) shows when standard error is a
  terminal and standard output is not: the data goes to a file or a pipe.

  -h, --help         show this help

Example:
  sudo tcpts connect --tun tcpts0 --addr 10.0.0.2/24 10.0.0.1 8080 < request.txt

Exit status: 0 when both directions closed cleanly, 1 when the connection
failed (or the device could not be set up), 2 for bad usage.`;

/** How each failure reads after "tcpts connect: " (the code follows in parentheses). */
const FAILURES: Readonly<Record<NetErrorCode, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  ECONNABORTED: 'connection aborted',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EPIPE: 'broken pipe',
  ENOTFOUND: 'host not found',
};

/** One line for a connection error: `connection refused (ECONNREFUSED)`. */
export function describeConnectError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && Object.hasOwn(FAILURES, code)) {
    return `${FAILURES[code as NetErrorCode]} (${code})`;
  }
  return error.message;
}

/** Where `connect` reads and writes, and what it may assume of the host (tests replace them). */
export interface ConnectStreams {
  /** Default process.stdin. */
  input?: Readable;
  /** Default process.stdout. */
  output?: Writable;
  /** Default: {@link probeHost}. */
  facts?: HostFacts;
  /** How HOST names are resolved; default the host's resolver (node:dns). */
  lookupAll?: LookupAll;
  /** Emits 'SIGUSR1' (dump the connection's figures); default `process`. */
  signals?: NodeJS.EventEmitter;
}

/**
 * How long, after the socket closed, the device stays up for our last data
 * and FIN to be acknowledged. The socket closes once our data is in the send
 * buffer, which on a lossy path can take many seconds to drain; the wait ends
 * as soon as the connection is done, and this bound matches the 30 s an
 * orphaned net socket lingers for.
 */
const SETTLE_MS = 30_000;

/** Runs `tcpts connect`; resolves with the exit status once both directions are closed. */
export async function runConnect(
  args: string[],
  io: CommandIo & { progress?: ProgressStream },
  streams: ConnectStreams = {},
): Promise<number> {
  const parsed = parseWithLinkOptions('connect', args, {
    timeout: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    stats: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const usage = (message: string): number => {
    io.err(`tcpts connect: ${message} (see 'tcpts connect --help')`);
    return 2;
  };
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  const v = parsed.values;
  if (v.help === true) {
    io.out(CONNECT_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 2) {
    return parsed.positionals.length < 2
      ? usage('give HOST and PORT')
      : usage(`unexpected argument '${parsed.positionals[2]}'`);
  }
  const [host, portText] = parsed.positionals as [string, string];
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return usage(`PORT takes 1 to 65535, got '${portText}'`);
  }
  const port = Number(portText);
  let timeoutMs = 0;
  if (typeof v.timeout === 'string') {
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v.timeout) || Number(v.timeout) <= 0) {
      return usage(`--timeout takes seconds, more than 0, got '${v.timeout}'`);
    }
    timeoutMs = Number(v.timeout) * 1000;
  }
  const verbose = v.verbose === true;
  let statsMs: number | null = null;
  if (typeof v.stats === 'string') {
    const ms = parseStatsInterval(v.stats);
    if (typeof ms === 'string') return usage(ms);
    statsMs = ms;
  }
  const config = parseLinkConfig(v);
  if (typeof config === 'string') return usage(config);

  // A name goes through the host's resolver before any device is made, and
  // only an address of a family tcpts has on the device will do.
  const families = config.addresses.map((a) => a.ours.address.family);
  const resolution = await resolveHost(host, families, streams.lookupAll);
  if (typeof resolution === 'string') {
    io.err(`tcpts connect: ${resolution}`);
    return 1;
  }
  const address = resolution.address;
  if (verbose && resolution.resolved) {
    const others = resolution.all.length > 1 ? ` (of ${resolution.all.join(', ')})` : '';
    io.err(`tcpts connect: ${host} is ${address}${others}`);
  }

  const missing = missingPrerequisite(streams.facts ?? probeHost(), config.netns !== null);
  if (missing !== null) {
    io.err(`tcpts connect: ${missing}`);
    return 1;
  }
  let live: LiveLink;
  try {
    live = bringUp(config);
  } catch (error) {
    io.err(`tcpts connect: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  if (verbose) io.err(`tcpts connect: ${live.describe()}`);

  const input = streams.input ?? process.stdin;
  const output = streams.output ?? process.stdout;
  // Live figures go to standard error: a status line when it is a terminal
  // and the data goes elsewhere (as curl's progress meter), else a log line
  // every --stats S.
  const figures = new LiveStats(() => performance.now());
  const outputIsTerminal = (output as { isTTY?: boolean }).isTTY === true;
  const terminal = io.progress?.isTTY === true && !outputIsTerminal ? io.progress : null;
  const display = new StatusDisplay(figures, {
    terminal,
    log: terminal === null && statsMs !== null ? (line) => io.err(`tcpts connect: ${line}`) : null,
    intervalMs: statsMs ?? 1000,
  });
  const say = (line: string): void => display.print(io.err, line);
  const signals = streams.signals ?? process;
  const onDump = (): void => {
    formatDump(figures.connections()).forEach((line, i) =>
      say(i === 0 ? `tcpts connect: ${line}` : line),
    );
  };
  signals.on('SIGUSR1', onDump);
  const status = await new Promise<number>((done) => {
    let failure: Error | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    // allowHalfOpen: the peer's FIN ends our output, not our input (as nc).
    const socket: Socket = live.net.connect({ host: address, port, allowHalfOpen: true });
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        const error = Object.assign(new Error(`connect ETIMEDOUT ${address}:${port}`), {
          code: 'ETIMEDOUT',
        });
        socket.destroy(error);
      }, timeoutMs);
    }
    socket.on('connect', () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      figures.add(
        `${socket.localAddress}:${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort}`,
        socket,
      );
      if (verbose) {
        say(
          `tcpts connect: connected ${socket.localAddress}:${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort}`,
        );
      }
      // pipe() ends the socket when the input ends: the half-close.
      input.pipe(socket);
    });
    // The peer's FIN ends what we write to standard output; process.stdout
    // itself is never ended by pipe().
    socket.pipe(output);
    socket.on('end', () => {
      if (verbose) say('tcpts connect: the peer closed its side');
    });
    socket.on('error', (error: Error) => {
      failure ??= error;
    });
    input.on('error', (error: Error) => {
      failure ??= error;
      socket.destroy();
    });
    socket.on('close', () => {
      if (timer !== null) clearTimeout(timer);
      figures.remove(socket);
      display.stop();
      signals.removeListener('SIGUSR1', onDump);
      input.unpipe(socket);
      // Standard input may still be open (the peer reset, or closed both
      // ways): stop reading it so that the process can exit.
      if (input === process.stdin) process.stdin.destroy();
      if (failure !== null) {
        io.err(`tcpts connect: ${describeConnectError(failure)}`);
        done(1);
        return;
      }
      if (verbose) {
        io.err(
          `tcpts connect: closed: sent ${socket.bytesWritten} B, received ${socket.bytesRead} B`,
        );
      }
      done(0);
    });
    live.watch((error) => {
      failure ??= new Error(`the device failed: ${error.message.replace(/^tcpts: /, '')}`);
      socket.destroy();
    });
  });
  // Data and a FIN not yet acknowledged when the socket closed are still
  // being retransmitted: keep the device until they are through.
  await live.settle(SETTLE_MS);
  if (verbose) io.err(`tcpts connect: ${live.summary()}`);
  live.close();
  return status;
}
