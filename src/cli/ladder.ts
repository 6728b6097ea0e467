/**
 * Ladder diagrams in the terminal, and `tcpts ladder FILE.pcap`: the same
 * picture `tcpts demo` draws, for any capture (Ethernet, raw IP, Linux
 * cooked), including one tcpdump took of real Linux traffic. The work is in
 * {@link ladderFromCapture} and {@link renderLadderText}, which take bytes
 * and return data and lines, so tests run them in-process without a build.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readPcap } from '../link/index.js';
import { describeDamage, describeFileError, describeNoTcp } from './capture-errors.js';
import { TcpFlags } from '../wire/index.js';
import type { CommandIo } from './args.js';
import { parseFileCommand } from './args.js';
import {
  RowKind,
  Side,
  StateInference,
  buildPackets,
  connectionKey,
  formatMillis,
  layoutLadder,
  segmentOf,
  segmentSpace,
  type ArrowInput,
  type CapturedSegment,
  type LadderDiagram,
  type LadderLayout,
  type LayoutOptions,
} from './ladder-model.js';
import { renderLadderSvg } from './svg.js';

// ---------------------------------------------------------------- text

/** Options of {@link renderLadderText}. */
export interface TextOptions extends LayoutOptions {
  /** Characters between the two vertical lines. Default 40. */
  laneWidth?: number;
  /**
   * Columns to fit the whole picture in (a terminal's width). The labels
   * beside the arrows are shortened first (their options, then their end),
   * then the lane narrows down to {@link MIN_LANE_WIDTH}. Default: no limit.
   */
  width?: number;
}

/** The narrowest lane {@link TextOptions.width} makes, in characters: arrows still slant readably. */
export const MIN_LANE_WIDTH = 16;
/** The label column {@link TextOptions.width} keeps before it narrows the lane. */
const MIN_LABEL_WIDTH = 40;
/** The narrowest `--width` the commands accept: the time, state and lane columns and a short label. */
export const MIN_TEXT_WIDTH = 80;

/**
 * `text` (a packet's label) in at most `max` characters, giving up the
 * least telling parts first: the options (`<...>` becomes `<…>`, then
 * goes), then the window, then the end of what is left, cut with `…`.
 * `keep` (a note such as "  (retransmission)") stays whole when it fits.
 */
function shorten(text: string, keep: string, max: number): string {
  if (text.length + keep.length <= max) return text + keep;
  const room = max - keep.length;
  const elided = text.replace(/ <[^>]*>$/, ' <…>');
  const bare = text.replace(/ <[^>]*>$/, '');
  const noWindow = bare.replace(/ win \d+/, '');
  // The length is also in the seq range (1:15).
  const noLength = noWindow.replace(/ len \d+/, '');
  for (const candidate of [elided, bare, noWindow, noLength])
    if (candidate.length <= room) return candidate + keep;
  // A long note gives way too: the label's numbers first, then what fits of the note.
  if (room < noLength.length / 2) return cut(noLength + keep, max);
  return cut(noLength, room) + keep;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Lane width of the terminal picture, in characters. */
export const DEFAULT_LANE_WIDTH = 40;
const STATE_WIDTH = 12;

/** Draws the arrows of a layout into one character grid per row. */
function drawArrows(layout: LadderLayout, width: number): string[][] {
  const grid: string[][] = layout.rows.map(() => new Array<string>(width).fill(' '));
  const put = (row: number, col: number, ch: string): void => {
    if (col >= 0 && col < width) grid[row]![col] = ch;
  };
  const arrows = [...layout.arrows].sort((a, b) => a.fromRow - b.fromRow);
  for (const arrow of arrows) {
    const right = arrow.direction === 'right';
    // Columns counted from the sender's line; mirrored for right-to-left.
    const at = (c: number): number => (right ? c : width - 1 - c);
    if (arrow.lost) {
      const half = Math.floor(width / 2);
      for (let c = 0; c < half; c++) put(arrow.fromRow, at(c), '-');
      put(arrow.fromRow, at(half), 'X');
      continue;
    }
    if (arrow.dashed) {
      for (let c = 0; c < width - 1; c++) put(arrow.fromRow, at(c), '~');
      put(arrow.fromRow, at(width - 1), right ? '>' : '<');
      continue;
    }
    const k = arrow.toRow - arrow.fromRow;
    const slices = k + 1;
    for (let i = 0; i <= k; i++) {
      let a = Math.floor((i * width) / slices);
      let b = Math.floor(((i + 1) * width) / slices);
      if (a > width - 1) a = width - 1;
      if (b <= a) b = a + 1;
      const row = arrow.fromRow + i;
      for (let c = a; c < b; c++) put(row, at(c), '-');
      // The line turns a corner where it steps down a row: '.' above, '`' or "'" below.
      if (i > 0) put(row, at(a), right ? '`' : "'");
      if (i < k) put(row, at(b - 1), '.');
      if (i === k) put(row, at(width - 1), right ? '>' : '<');
    }
  }
  return grid;
}

/**
 * The diagram as terminal lines: a time column (ms), the client's state, its
 * line, the arrows, the server's line and state, then each packet's label on
 * the row where it leaves its sender. States are printed where they change.
 */
export function renderLadderText(diagram: LadderDiagram, options: TextOptions = {}): string[] {
  const layout = layoutLadder(diagram, options);
  let timeWidth = 'ms'.length;
  for (const row of layout.rows) {
    if (row.time !== null) timeWidth = Math.max(timeWidth, formatMillis(row.time).length);
  }
  const stateWidth = Math.max(
    STATE_WIDTH,
    diagram.initialStates.client.length,
    ...layout.rows.map((r) => r.clientState?.length ?? 0),
  );
  // Columns before the label: time, state, the two lines around the lane, state.
  const fixed = timeWidth + 2 + stateWidth + 1 + 2 + 1 + STATE_WIDTH + 2;
  let width = options.laneWidth ?? DEFAULT_LANE_WIDTH;
  let labelWidth = Number.POSITIVE_INFINITY;
  if (options.width !== undefined) {
    labelWidth = options.width - fixed - width;
    if (labelWidth < MIN_LABEL_WIDTH) {
      width = Math.max(MIN_LANE_WIDTH, width - (MIN_LABEL_WIDTH - labelWidth));
      labelWidth = Math.max(1, options.width - fixed - width);
    }
  }
  const grid = drawArrows(layout, width);
  const lineCol = timeWidth + 2 + stateWidth + 1;
  const serverCol = lineCol + 1 + width;
  const clientTitle = `${diagram.client.name} ${hostPort(diagram.client.address, diagram.client.port)}`;
  const serverTitle = `${diagram.server.name} ${hostPort(diagram.server.address, diagram.server.port)}`;
  let title = 'ms'.padStart(timeWidth);
  const clientStart = Math.max(title.length + 2, lineCol - clientTitle.length + 1);
  title = title.padEnd(clientStart) + clientTitle;
  title = title.padEnd(Math.max(serverCol, title.length + 2)) + serverTitle;
  const lines: string[] = [title];
  const line = (
    time: string,
    client: string,
    lane: string,
    edge: string,
    server: string,
    text: string,
  ): string =>
    `${time.padStart(timeWidth)}  ${client.padStart(stateWidth)} ${edge}${lane}${edge} ${server.padEnd(STATE_WIDTH)}  ${text}`.trimEnd();
  const blank = ' '.repeat(width);
  lines.push(line('', diagram.initialStates.client, blank, '|', diagram.initialStates.server, ''));
  layout.rows.forEach((row, i) => {
    const edge = row.kind === RowKind.Gap || row.kind === RowKind.Skip ? ':' : '|';
    lines.push(
      line(
        row.time === null ? '' : formatMillis(row.time),
        row.clientState ?? '',
        grid[i]!.join(''),
        edge,
        row.serverState ?? '',
        labelOfRow(row.text ?? '', row.packet?.label ?? null, labelWidth),
      ),
    );
  });
  const legend: string[] = [];
  if (layout.arrows.some((a) => a.lost)) legend.push('X: lost on the way');
  if (layout.arrows.some((a) => a.dashed)) legend.push('~~>: its sender was not seen sending it');
  if (diagram.statesInferred) legend.push('states inferred from the flags seen');
  if (diagram.packets.some((p) => p.estimated)) {
    legend.push('far ends of arrows estimated: half the quickest round trip seen');
  }
  legend.push(diagram.absolute ? 'absolute sequence numbers' : 'relative sequence numbers');
  lines.push('', `  (${legend.join('; ')})`);
  if (options.width !== undefined) {
    const max = options.width;
    return lines.map((l) => cut(l, max));
  }
  return lines;
}

/** A row's text in `max` columns: a packet's label shortened, its note (after the label) kept. */
function labelOfRow(text: string, label: string | null, max: number): string {
  if (text.length <= max) return text;
  if (label !== null && text.startsWith(label))
    return shorten(label, text.slice(label.length), max);
  return cut(text, max);
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

// ---------------------------------------------------------------- captures

/** One TCP connection found in a capture. */
export interface CaptureConnection {
  /** 1-based, in the order of each connection's first packet. */
  number: number;
  client: string;
  server: string;
  packets: number;
  /** Time of its first packet, µs since 1970. */
  firstTime: number;
}

/** What {@link ladderFromCapture} returns on success. */
export interface CaptureLadder {
  diagram: LadderDiagram;
  connections: CaptureConnection[];
  /** The number of the connection drawn. */
  chosen: number;
  /** Capture records that are not TCP (ARP, UDP, ICMP ...), left out. */
  otherRecords: number;
  /** Null when the whole file was read; else what is wrong with its tail (the packets before it are drawn). */
  fileError: string | null;
}

/** Options of {@link ladderFromCapture}. */
export interface CaptureLadderOptions {
  /** Which connection to draw, 1-based. Default 1. */
  connection?: number;
  /** Label absolute sequence numbers. */
  absolute?: boolean;
}

interface Endpoint {
  address: string;
  port: number;
}

/** Which end is the client: the sender of the first SYN, else the receiver of the first SYN-ACK, else the higher port. */
function clientOf(segments: readonly CapturedSegment[]): Endpoint {
  for (const s of segments) {
    if ((s.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN)
      return { address: s.src, port: s.srcPort };
  }
  for (const s of segments) {
    if ((s.flags & TcpFlags.SYN) !== 0) return { address: s.dst, port: s.dstPort };
  }
  const s = segments[0]!;
  return s.srcPort > s.dstPort
    ? { address: s.src, port: s.srcPort }
    : { address: s.dst, port: s.dstPort };
}

/**
 * Finds the TCP connections in a capture and lays out one of them. Each
 * packet was seen at one point only (where the capture was taken), so the
 * other end of its arrow is estimated: half the handshake's round trip, as
 * seen from the side the capture was taken on (the side whose SYN or SYN-ACK
 * waited longest for its answer). States are inferred from the flags.
 * Returns a one-line error for a file that holds no usable connection.
 */
export function ladderFromCapture(
  bytes: Uint8Array,
  options: CaptureLadderOptions = {},
): CaptureLadder | string {
  const file = readPcap(bytes);
  if (typeof file === 'string') return describeFileError(file);
  const groups = new Map<string, CapturedSegment[]>();
  let other = 0;
  file.records.forEach((record, i) => {
    const segment = segmentOf(record, i);
    if (segment === null) {
      other++;
      return;
    }
    const key = connectionKey(segment);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [segment]);
    else list.push(segment);
  });
  if (groups.size === 0) return describeNoTcp(file.error);
  const connections: CaptureConnection[] = [];
  const lists = [...groups.values()];
  lists.forEach((segments, i) => {
    const client = clientOf(segments);
    const first = segments[0]!;
    const server =
      first.src === client.address && first.srcPort === client.port
        ? { address: first.dst, port: first.dstPort }
        : { address: first.src, port: first.srcPort };
    connections.push({
      number: i + 1,
      client: hostPort(client.address, client.port),
      server: hostPort(server.address, server.port),
      packets: segments.length,
      firstTime: first.time,
    });
  });
  const chosen = options.connection ?? 1;
  if (!Number.isInteger(chosen) || chosen < 1 || chosen > lists.length) {
    return `no connection ${chosen}: the capture holds ${lists.length} TCP connection(s)`;
  }
  const diagram = diagramOfSegments(lists[chosen - 1]!, options.absolute ?? false);
  const fileError = file.error === null ? null : describeDamage(file.error, file.records.length);
  return { diagram, connections, chosen, otherRecords: other, fileError };
}

/** How far ahead to look for the ACK that answers a segment. */
const ANSWER_WINDOW = 2000;

/**
 * The shortest time between a segment sent from the capture point (one that
 * takes sequence space) and the first segment from the other side that
 * acknowledges all of it, or null when none is answered.
 */
function fastestRoundTrip(
  segments: readonly CapturedSegment[],
  fromHere: (s: CapturedSegment) => boolean,
): number | null {
  let best = Number.POSITIVE_INFINITY;
  segments.forEach((s, i) => {
    const space = segmentSpace(s.flags, s.length);
    if (!fromHere(s) || space === 0) return;
    const end = (s.seq + space) >>> 0;
    const last = Math.min(segments.length, i + 1 + ANSWER_WINDOW);
    for (let j = i + 1; j < last; j++) {
      const r = segments[j]!;
      if (fromHere(r) || (r.flags & TcpFlags.ACK) === 0) continue;
      // Sequence comparison modulo 2^32 (RFC 9293 §3.4).
      if (((r.ack - end) | 0) >= 0) {
        if (r.time - s.time < best) best = r.time - s.time;
        break;
      }
    }
  });
  return Number.isFinite(best) ? best : null;
}

/** The diagram of one connection's segments, all seen at one capture point. */
function diagramOfSegments(segments: readonly CapturedSegment[], absolute: boolean): LadderDiagram {
  const client = clientOf(segments);
  const isClient = (s: CapturedSegment): boolean =>
    s.src === client.address && s.srcPort === client.port;
  const first = segments[0]!;
  const server = isClient(first)
    ? { address: first.dst, port: first.dstPort }
    : { address: first.src, port: first.srcPort };

  // Where was the capture taken, and how long does a packet take one way?
  // With a handshake SYN (t0), SYN-ACK (t1), ACK (t2): a capture at the
  // client sees t1 - t0 = RTT and t2 - t1 small; at the server, the reverse.
  let vantage: Side = Side.Client;
  let oneWay = 0;
  const syn = segments.find((s) => (s.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN);
  const synAck = segments.find(
    (s) => (s.flags & (TcpFlags.SYN | TcpFlags.ACK)) === (TcpFlags.SYN | TcpFlags.ACK),
  );
  if (syn !== undefined && synAck !== undefined && synAck.time >= syn.time) {
    const ack = segments.find(
      (s) =>
        s.time >= synAck.time &&
        s !== synAck &&
        s.src === syn.src &&
        s.srcPort === syn.srcPort &&
        (s.flags & TcpFlags.ACK) !== 0,
    );
    const g1 = synAck.time - syn.time;
    const g2 = ack === undefined ? 0 : ack.time - synAck.time;
    vantage =
      g1 >= g2
        ? isClient(syn)
          ? Side.Client
          : Side.Server
        : isClient(syn)
          ? Side.Server
          : Side.Client;
    oneWay = Math.max(g1, g2) / 2;
  }
  // The handshake's round trip includes the time the far end took to answer
  // a SYN, which is often the slowest answer of all. Half the quickest round
  // trip seen from the capture point (a segment and the first ACK covering
  // it) keeps every estimated departure after the arrival that caused it.
  const fastest = fastestRoundTrip(
    segments,
    (s) => (isClient(s) ? Side.Client : Side.Server) === vantage,
  );
  if (fastest !== null) oneWay = fastest / 2;

  // Initial states: a connection opened in the capture starts CLOSED / LISTEN
  // (or CLOSED when the answer to the SYN was RST or another SYN); one caught
  // in the middle is assumed ESTABLISHED.
  let initial = { client: 'ESTABLISHED', server: 'ESTABLISHED' };
  if (syn !== undefined) {
    const answer = segments.find((s) => s.time >= syn.time && !isClient(s));
    const refused =
      answer !== undefined &&
      ((answer.flags & TcpFlags.RST) !== 0 ||
        (answer.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN);
    initial = { client: 'CLOSED', server: refused ? 'CLOSED' : 'LISTEN' };
  }

  interface Pending {
    segment: CapturedSegment;
    from: Side;
    sentAt: number;
    arrivedAt: number;
    sendOrder: number;
    arriveOrder: number;
  }
  const pending: Pending[] = segments.map((segment, i) => {
    const from = isClient(segment) ? Side.Client : Side.Server;
    const t = segment.time;
    const observed = 4 * i + 2;
    return from === vantage
      ? {
          segment,
          from,
          sentAt: t,
          arrivedAt: t + oneWay,
          sendOrder: observed,
          arriveOrder: observed + 1,
        }
      : {
          segment,
          from,
          sentAt: t - oneWay,
          arrivedAt: t,
          sendOrder: observed - 1,
          arriveOrder: observed,
        };
  });
  const start = Math.min(...pending.map((p) => p.sentAt));

  // Replay the flags in event order to infer each side's state.
  const inference = new StateInference(initial);
  const events: Array<{ time: number; order: number; pending: Pending; send: boolean }> = [];
  for (const p of pending) {
    events.push({ time: p.sentAt, order: p.sendOrder, pending: p, send: true });
    events.push({ time: p.arrivedAt, order: p.arriveOrder, pending: p, send: false });
  }
  events.sort((a, b) => a.time - b.time || a.order - b.order);
  const senderStates = new Map<Pending, string>();
  const receiverStates = new Map<Pending, string>();
  for (const e of events) {
    if (e.send) senderStates.set(e.pending, inference.send(e.pending.from, e.pending.segment));
    else {
      const to = e.pending.from === Side.Client ? Side.Server : Side.Client;
      receiverStates.set(e.pending, inference.receive(to, e.pending.segment));
    }
  }
  const inputs: ArrowInput[] = pending.map((p) => ({
    from: p.from,
    segment: p.segment,
    sentAt: p.sentAt - start,
    arrivedAt: p.arrivedAt - start,
    estimated: oneWay > 0,
    lost: false,
    note: null,
    senderState: { state: senderStates.get(p)!, connection: null, transitions: [] },
    receiverState: { state: receiverStates.get(p)!, connection: null, transitions: [] },
    sendOrder: p.sendOrder,
    arriveOrder: p.arriveOrder,
  }));
  return {
    client: { name: 'client', address: client.address, port: client.port },
    server: { name: 'server', address: server.address, port: server.port },
    start,
    initialStates: initial,
    packets: buildPackets(inputs, absolute),
    stateRows: [],
    statesInferred: true,
    absolute,
  };
}

// ---------------------------------------------------------------- the command

/** Packets shown at the start and at the end of a long diagram. */
export const ELIDE_HEAD = 40;
/** See {@link ELIDE_HEAD}. */
export const ELIDE_TAIL = 20;

/** `tcpts ladder --help`. */
export const LADDER_USAGE = `Usage: tcpts ladder [options] FILE.pcap

Draw one TCP connection of a pcap capture as a ladder diagram: the client's
line on the left, the server's on the right, each packet an arrow between
them labelled with its flags, sequence and acknowledgment numbers (relative
to each side's first, like tcpdump), window and options, and each side's
state after it, inferred from the flags. A capture sees each packet at one
place, so the far end of each arrow is estimated from the handshake's round
trip. Reads pcap (as tcpdump -w writes it) and pcapng (as Wireshark and
dumpcap write it), with Ethernet, raw IP or Linux cooked link types.

Options:
  -c, --connection N  draw the Nth TCP connection of the capture (default 1)
  -l, --list          list the TCP connections in the capture and exit
  -S, --absolute      label absolute sequence numbers (tcpdump -S)
      --svg FILE      also write the diagram as an SVG picture to FILE
      --json          print the diagram as JSON instead of drawing it
      --all           draw every packet (a long connection shows the first
                      ${ELIDE_HEAD} and the last ${ELIDE_TAIL} otherwise)
      --width N       fit the picture in N columns, shortening the labels
                      first (default: the terminal's width, $COLUMNS, when
                      printing to a terminal; else no limit)
  -h, --help          show this help

Exit status: 0 on success, 1 for an unreadable file, one without TCP or a
damaged one (the packets before the damage are drawn), 2 for bad usage.`;

/** Runs `tcpts ladder`; returns the exit status. */
export function runLadder(args: string[], io: CommandIo): number {
  const front = parseFileCommand(
    'ladder',
    args,
    {
      connection: { type: 'string', short: 'c' },
      list: { type: 'boolean', short: 'l' },
      absolute: { type: 'boolean', short: 'S' },
      svg: { type: 'string' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      width: { type: 'string', takes: `columns, at least ${MIN_TEXT_WIDTH}` },
      help: { type: 'boolean', short: 'h' },
    },
    LADDER_USAGE,
    io,
  );
  if (typeof front === 'number') return front;
  const { values: v, path, connection } = front;
  const width = textWidth('ladder', v.width, io);
  if (typeof width === 'string') {
    io.err(width);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    io.err(`tcpts ladder: cannot read ${path}: ${describeFsError(error)}`);
    return 1;
  }
  const result = ladderFromCapture(bytes, { connection, absolute: v.absolute === true });
  if (typeof result === 'string') {
    io.err(`tcpts ladder: ${path}: ${result}`);
    return 1;
  }
  // A damaged tail is reported, and what came before it is drawn (exit 1, as decode).
  const status = result.fileError === null ? 0 : 1;
  if (result.fileError !== null) io.err(`tcpts ladder: ${path}: ${result.fileError}`);
  if (v.list === true) {
    for (const c of result.connections) {
      io.out(`${String(c.number).padStart(3)}  ${c.client} > ${c.server}  ${c.packets} packet(s)`);
    }
    return status;
  }
  const layout: LayoutOptions = v.all === true ? {} : { head: ELIDE_HEAD, tail: ELIDE_TAIL };
  if (typeof v.svg === 'string') {
    const svg = renderLadderSvg(result.diagram, {
      ...layout,
      title: `${path}, connection ${result.chosen}`,
    });
    try {
      writeFileSync(v.svg, svg);
    } catch (error) {
      io.err(`tcpts ladder: cannot write ${v.svg}: ${describeFsError(error)}`);
      return 1;
    }
  }
  if (v.json === true) {
    io.out(
      JSON.stringify(
        {
          file: path,
          chosen: result.chosen,
          connections: result.connections,
          diagram: result.diagram,
        },
        null,
        2,
      ),
    );
    return status;
  }
  const c = result.connections[result.chosen - 1]!;
  io.out(
    `Connection ${result.chosen} of ${result.connections.length} in ${path}: ${c.client} > ${c.server}, ${c.packets} packet(s)`,
  );
  io.out('');
  io.out(
    renderLadderText(result.diagram, {
      ...layout,
      ...(width === undefined ? {} : { width }),
    }).join('\n'),
  );
  return status;
}

/**
 * The width the text ladder fits: `--width N`, else the terminal's (io.columns,
 * set only when stdout is a terminal), else none. A usage error as a string.
 */
export function textWidth(
  command: string,
  option: string | boolean | undefined,
  io: CommandIo,
): number | undefined | string {
  if (typeof option === 'string') {
    const n = /^\d+$/.test(option) ? Number(option) : Number.NaN;
    if (!(n >= MIN_TEXT_WIDTH && n <= 100_000))
      return `tcpts ${command}: --width takes columns, a whole number of at least ${MIN_TEXT_WIDTH}, got '${option}' (see 'tcpts ${command} --help')`;
    return n;
  }
  return io.columns !== undefined && io.columns > 0 ? io.columns : undefined;
}

/** A file-system error in a few words. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return code;
  }
}
