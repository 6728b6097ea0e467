/**
 * Ladder diagrams in the terminal, and `tcpts ladder FILE.pcap`: the same
 * picture `tcpts demo` draws, for any capture (Ethernet, raw IP, Linux
 * cooked), including one tcpdump took of real Linux traffic. The work is in
 * {@link ladderFromCapture} and {@link renderLadderText}, which take bytes
 * and return data and lines, so tests run them in-process without a build.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CommandIo } from './args.js';
import { parseFileCommand } from './args.js';
import { hostPort, ladderFromCapture } from './ladder-capture.js';
import {
  RowKind,
  formatMillis,
  layoutLadder,
  type LadderDiagram,
  type LadderLayout,
  type LayoutOptions,
} from './ladder-model.js';
import { renderLadderSvg } from './svg.js';

export {
  ladderFromCapture,
  type CaptureConnection,
  type CaptureLadder,
  type CaptureLadderOptions,
} from './ladder-capture.js';

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
