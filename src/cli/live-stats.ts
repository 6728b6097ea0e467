/**
 * Live figures for `serve` and `connect`: a status line (rewritten in place
 * on a terminal), a periodic log line (`--stats SECONDS`, for logs), and an
 * `ss -ti`-like dump of every connection on SIGUSR1. The figures are the
 * connections' own TCP_INFO-like stats; this file only samples and words
 * them. Rates are differences between two samples, so the clock is passed
 * in (milliseconds, any origin).
 */
import type { Socket } from '../net/index.js';
import type { TcpStats } from '../tcp/index.js';
import { formatBytes, type ProgressStream } from './progress.js';

/** The help lines of the option, for both commands. */
export const STATS_USAGE = `Live figures:
  --stats S          every S seconds, log a line of figures (bytes, rate, RTT,
                     cwnd, retransmissions of the busiest connections); on a
                     terminal a status line shows them instead, redrawn
                     every S seconds (default 1)
  SIGUSR1            (kill -USR1 PID) prints every connection with its state,
                     TCP_INFO figures and queue sizes, as ss -ti`;

/** `--stats S` as milliseconds, or a one-line usage error (without the command's prefix). */
export function parseStatsInterval(value: string): number | string {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value) || Number(value) < 0.1 || Number(value) > 86400) {
    return `--stats takes seconds from 0.1 to 86400, got '${value}'`;
  }
  return Math.round(Number(value) * 1000);
}

/** One connection's figures at one moment. */
export interface ConnectionFigures {
  name: string;
  stats: TcpStats;
  /** Bytes queued to send: in the socket's stream and in tcpts, not yet acknowledged. */
  sendQueue: number;
  /** Bytes received and not yet read by the application. */
  receiveQueue: number;
}

/** What {@link LiveStats.sample} found. */
export interface StatusSample {
  connections: number;
  /** Bytes acknowledged by the peers, all connections so far (closed ones too). */
  sent: number;
  /** Bytes received in order, all connections so far. */
  received: number;
  /** Bits per second, both directions, since the previous sample (0 for the first). */
  rate: number;
  /** The open connections that moved most since the previous sample, busiest first. */
  busiest: Array<{ figures: ConnectionFigures; rate: number }>;
}

interface Tracked {
  name: string;
  socket: Socket;
  /** Bytes moved (acknowledged + received) at the previous sample. */
  moved: number;
}

function figuresOf(t: Tracked): ConnectionFigures | null {
  const tcp = t.socket.tcpSocket;
  if (tcp === null) return null;
  const stats = tcp.stats();
  return {
    name: t.name,
    stats,
    sendQueue: stats.sendBuffered + t.socket.writableLength,
    receiveQueue: stats.receiveBuffered + t.socket.readableLength,
  };
}

/** The connections of a command, sampled for figures now and then. */
export class LiveStats {
  private readonly open = new Map<Socket, Tracked>();
  private closedSent = 0;
  private closedReceived = 0;
  private lastTotal = 0;
  private lastAt: number | null = null;
  private readonly clock: () => number;

  constructor(clock: () => number) {
    this.clock = clock;
  }

  /** Starts following a connection; `name` is how lines call it. */
  add(name: string, socket: Socket): void {
    const tcp = socket.tcpSocket;
    const moved = tcp === null ? 0 : tcp.stats().bytesAcked + tcp.stats().bytesReceived;
    this.open.set(socket, { name, socket, moved });
  }

  /** Stops following it; what it moved still counts in the totals. */
  remove(socket: Socket): void {
    const t = this.open.get(socket);
    if (t === undefined) return;
    this.open.delete(socket);
    const tcp = socket.tcpSocket;
    if (tcp === null) return;
    const stats = tcp.stats();
    this.closedSent += stats.bytesAcked;
    this.closedReceived += stats.bytesReceived;
  }

  /** Every open connection's figures, in the order they opened. */
  connections(): ConnectionFigures[] {
    const list: ConnectionFigures[] = [];
    for (const t of this.open.values()) {
      const f = figuresOf(t);
      if (f !== null) list.push(f);
    }
    return list;
  }

  /** Totals, the rate since the last sample, and the `top` busiest connections. */
  sample(top = 3): StatusSample {
    const now = this.clock();
    const seconds = this.lastAt === null ? 0 : (now - this.lastAt) / 1000;
    let sent = this.closedSent;
    let received = this.closedReceived;
    const moving: Array<{ figures: ConnectionFigures; rate: number }> = [];
    for (const t of this.open.values()) {
      const f = figuresOf(t);
      if (f === null) continue;
      sent += f.stats.bytesAcked;
      received += f.stats.bytesReceived;
      const moved = f.stats.bytesAcked + f.stats.bytesReceived;
      moving.push({ figures: f, rate: seconds > 0 ? ((moved - t.moved) * 8) / seconds : 0 });
      t.moved = moved;
    }
    const total = sent + received;
    const rate = seconds > 0 ? ((total - this.lastTotal) * 8) / seconds : 0;
    this.lastTotal = total;
    this.lastAt = now;
    moving.sort(
      (a, b) =>
        b.rate - a.rate ||
        b.figures.stats.bytesAcked +
          b.figures.stats.bytesReceived -
          (a.figures.stats.bytesAcked + a.figures.stats.bytesReceived),
    );
    return { connections: this.open.size, sent, received, rate, busiest: moving.slice(0, top) };
  }
}

/** "91.3 Mbit/s", "640 kbit/s", "12 bit/s". */
export function formatRate(bitsPerSecond: number): string {
  if (bitsPerSecond >= 1e9) return `${(bitsPerSecond / 1e9).toFixed(2)} Gbit/s`;
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(1)} Mbit/s`;
  if (bitsPerSecond >= 1e3) return `${(bitsPerSecond / 1e3).toFixed(0)} kbit/s`;
  return `${Math.round(bitsPerSecond)} bit/s`;
}

/** Microseconds as "1.23 ms" (or "-" before any sample). */
function formatRtt(micros: number): string {
  return micros > 0 ? `${(micros / 1000).toFixed(micros < 10_000 ? 2 : 1)} ms` : '-';
}

/** One connection in a few figures: `NAME rtt 1.2 ms cwnd 64 kB retrans 3`. */
function brief(f: ConnectionFigures): string {
  const s = f.stats;
  return `${f.name} rtt ${formatRtt(s.srtt)} cwnd ${formatBytes(s.cwnd)} retrans ${s.segmentsRetransmitted}`;
}

/** The totals part of a line: `2 connections, received 1.2 MB, sent 45 kB, 9.6 Mbit/s`. */
function totals(s: StatusSample): string {
  const plural = s.connections === 1 ? '' : 's';
  return `${s.connections} connection${plural}, received ${formatBytes(s.received)}, sent ${formatBytes(s.sent)}, ${formatRate(s.rate)}`;
}

/** The status line for a terminal, cut to `width` columns. */
export function formatStatusLine(s: StatusSample, width: number): string {
  const parts = [totals(s), ...s.busiest.map((b) => brief(b.figures))];
  const line = parts.join(' | ');
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

/** The periodic log line of `--stats S` (no terminal). */
export function formatStatsLog(s: StatusSample): string {
  const busiest =
    s.busiest.length > 0 ? `; busiest: ${s.busiest.map((b) => brief(b.figures)).join('; ')}` : '';
  return `stats: ${totals(s)}${busiest}`;
}

/**
 * The SIGUSR1 dump: a header, then per connection a line with its state,
 * name and queues, and an indented line of its TCP_INFO figures (the names
 * `ss -ti` uses where there is one).
 */
export function formatDump(list: readonly ConnectionFigures[]): string[] {
  const lines = [`${list.length} connection${list.length === 1 ? '' : 's'}:`];
  for (const f of list) {
    const s = f.stats;
    lines.push(`${s.state.padEnd(12)} ${f.name}  recv-q ${f.receiveQueue} send-q ${f.sendQueue}`);
    const figures = [
      s.congestionControl,
      `rtt:${(s.srtt / 1000).toFixed(3)}/${(s.rttvar / 1000).toFixed(3)}`,
      `minrtt:${(s.minRtt / 1000).toFixed(3)}`,
      `rto:${Math.round(s.rto / 1000)}`,
      s.backoffs > 0 ? `backoff:${s.backoffs}` : '',
      `mss:${s.sendMss}`,
      `rcvmss:${s.receiveMss}`,
      `cwnd:${s.sendMss > 0 ? Math.round(s.cwnd / s.sendMss) : s.cwnd}`,
      s.ssthresh < 0x7fffffff && s.sendMss > 0
        ? `ssthresh:${Math.round(s.ssthresh / s.sendMss)}`
        : '',
      `ca:${s.caState}`,
      `bytes_sent:${s.bytesSent}`,
      `bytes_retrans:${s.bytesRetransmitted}`,
      `bytes_acked:${s.bytesAcked}`,
      `bytes_received:${s.bytesReceived}`,
      `segs_out:${s.segmentsSent}`,
      `segs_in:${s.segmentsReceived}`,
      `retrans:${s.segmentsRetransmitted}`,
      `retrans_out_bytes:${s.retransmittedOutBytes}`,
      `lost:${s.lostSegments}`,
      `sacked:${s.sackedBytes}`,
      s.reorderingSeen > 0 ? `reordering:${s.reordering}` : '',
      `unacked:${s.unackedSegments}`,
      `snd_wnd:${s.sendWindow}`,
      `rcv_space:${s.receiveWindow}`,
      s.deliveryRate > 0 ? `delivery_rate:${formatRate(s.deliveryRate * 8).replace(' ', '')}` : '',
      s.pacingRate > 0 ? `pacing_rate:${formatRate(s.pacingRate * 8).replace(' ', '')}` : '',
      s.timestamps ? 'ts' : '',
      s.sackPermitted ? 'sack' : '',
      s.ecn ? 'ecn' : '',
      `wscale:${s.sendWindowScale},${s.receiveWindowScale}`,
    ];
    lines.push(`\t ${figures.filter((x) => x !== '').join(' ')}`);
  }
  return lines;
}

/**
 * Where the figures go, decided once: a status line redrawn on a terminal
 * (`terminal` set), log lines every `intervalMs` (`log` set), or nothing.
 * {@link StatusDisplay.print} writes a log line without tearing the status
 * line: it clears it, writes, and draws it again.
 */
export class StatusDisplay {
  private readonly stats: LiveStats;
  private readonly terminal: ProgressStream | null;
  private readonly log: ((line: string) => void) | null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private shown = '';

  constructor(
    stats: LiveStats,
    options: {
      terminal: ProgressStream | null;
      log: ((line: string) => void) | null;
      intervalMs: number;
    },
  ) {
    this.stats = stats;
    this.terminal = options.terminal;
    this.log = options.log;
    if (this.terminal !== null || this.log !== null) {
      this.timer = setInterval(() => this.tick(), options.intervalMs);
      // The figures never keep the process alive on their own.
      this.timer.unref();
      this.stats.sample();
    }
  }

  /** Writes `line` with `write`, the status line (if shown) cleared first and redrawn after. */
  print(write: (line: string) => void, line: string): void {
    if (this.terminal === null || this.shown === '') {
      write(line);
      return;
    }
    this.terminal.write('\r\x1b[K');
    write(line);
    this.terminal.write(this.shown);
  }

  private tick(): void {
    const sample = this.stats.sample();
    if (this.terminal !== null) {
      this.shown = formatStatusLine(sample, (this.terminal.columns ?? 80) - 1);
      this.terminal.write(`\r\x1b[K${this.shown}`);
    } else if (this.log !== null) {
      this.log(formatStatsLog(sample));
    }
  }

  /** Stops the timer and erases the status line. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.terminal !== null && this.shown !== '') this.terminal.write('\r\x1b[K');
    this.shown = '';
  }
}
