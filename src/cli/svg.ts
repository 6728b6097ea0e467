/**
 * A ladder diagram as an SVG picture, written by hand (no dependency): the
 * same layout as the terminal picture (./ladder-model.ts), with each arrow a
 * straight line from its sender's line at the time it left to the
 * receiver's line at the time it arrived, and its label level with the
 * arrow's start in a column right of the server's line: one label per row,
 * so no two labels ever lie on each other.
 */
import {
  RowKind,
  formatMillis,
  layoutLadder,
  type LadderDiagram,
  type LadderArrow,
  type LadderPacket,
  type LadderRow,
  type LayoutOptions,
} from './ladder-model.js';

/** Options of {@link renderLadderSvg}. */
export interface SvgOptions extends LayoutOptions {
  /** A heading above the picture. */
  title?: string;
  /** Lines of text below the picture (a scenario's caption). */
  caption?: string[];
}

const FONT = 'DejaVu Sans Mono, Menlo, Consolas, monospace';
const FONT_SIZE = 11;
const ROW_HEIGHT = 21;
const TIME_X = 12;
const LEFT_LINE = 200;
const LANE = 520;
const RIGHT_LINE = LEFT_LINE + LANE;
/** Where the labels start: past the server's state (12 characters of bold text). */
const LABEL_X = RIGHT_LINE + 110;
/** A monospace character's advance, as a fraction of the font size (DejaVu Sans Mono: 0.602). */
const CHAR_WIDTH = 0.62;
/** A diagram with more arrows than this labels only the packets that matter (see {@link labelsWorthShowing}). */
const THIN_ABOVE = 40;
const TOP = 96;
const COLORS = {
  right: '#1f5fa8',
  left: '#b0481c',
  lost: '#c0161d',
  state: '#222222',
  time: '#777777',
  line: '#444444',
} as const;

/** Escapes text for an XML text node or attribute value. */
export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** The y of a row's centre line. */
function rowY(row: number): number {
  return TOP + row * ROW_HEIGHT;
}

function arrowSvg(arrow: LadderArrow, out: string[]): void {
  const right = arrow.direction === 'right';
  const color = arrow.lost ? COLORS.lost : right ? COLORS.right : COLORS.left;
  const x1 = right ? LEFT_LINE : RIGHT_LINE;
  const x2full = right ? RIGHT_LINE : LEFT_LINE;
  let y1 = rowY(arrow.fromRow);
  let y2 = rowY(arrow.toRow);
  let x2 = x2full;
  let extra = '';
  if (arrow.lost) {
    x2 = (LEFT_LINE + RIGHT_LINE) / 2;
    y2 = y1 + ROW_HEIGHT;
  } else if (arrow.dashed) {
    // Its sender's end was never seen: it comes from above, out of the past.
    y1 = y2 - 2 * ROW_HEIGHT;
    extra = ' stroke-dasharray="6 4"';
  }
  const head = arrow.lost ? '' : ` marker-end="url(#head-${arrow.direction})"`;
  const retransmitted = arrow.packet.retransmission ? ' stroke-dasharray="2 2"' : '';
  out.push(
    `<line class="arrow" data-packet="${arrow.packet.number}" x1="${round(x1)}" y1="${round(y1)}" x2="${round(x2)}" y2="${round(y2)}" stroke="${color}" stroke-width="1.4"${extra || retransmitted}${head}/>`,
  );
  if (arrow.lost) {
    const s = 5;
    out.push(
      `<path class="lost" d="M${round(x2 - s)},${round(y2 - s)} L${round(x2 + s)},${round(y2 + s)} M${round(x2 - s)},${round(y2 + s)} L${round(x2 + s)},${round(y2 - s)}" stroke="${COLORS.lost}" stroke-width="2"/>`,
    );
  }
}

/** A packet's label as the picture shows it, with its note. */
function labelText(p: LadderPacket): string {
  return p.note === null ? p.label : `${p.label} (${p.note})`;
}

/**
 * The packets a dense diagram labels: the handshake, FINs and RSTs,
 * retransmissions, losses and other noted ones, each side's first and last
 * data segment, and a change of the window a side advertises. The others
 * are counted instead ("… 37 data segments …"), so that a long transfer
 * reads as its story, not as a wall of numbers.
 */
export function labelsWorthShowing(packets: readonly LadderPacket[]): Set<LadderPacket> {
  const keep = new Set<LadderPacket>();
  const firstData = new Map<string, LadderPacket>();
  const lastData = new Map<string, LadderPacket>();
  const window = new Map<string, number>();
  for (const p of packets) {
    const flags = p.flags.split(',');
    if (flags.includes('SYN') || flags.includes('FIN') || flags.includes('RST')) keep.add(p);
    if (p.retransmission || p.lost || p.note !== null) keep.add(p);
    if (p.length > 0) {
      if (!firstData.has(p.from)) firstData.set(p.from, p);
      lastData.set(p.from, p);
    }
    const previous = window.get(p.from);
    if (previous !== undefined && previous !== p.window) keep.add(p);
    window.set(p.from, p.window);
  }
  for (const p of [...firstData.values(), ...lastData.values()]) keep.add(p);
  return keep;
}

/**
 * What the label column holds on each row: a packet's label, or on the
 * first row of a run of unlabelled packets the count of the run.
 */
function labelColumn(
  rows: readonly LadderRow[],
  shown: ReadonlySet<LadderPacket> | null,
): Array<{ text: string; packet: LadderPacket | null } | null> {
  const column: Array<{ text: string; packet: LadderPacket | null } | null> = rows.map(() => null);
  let runStart = -1;
  let data = 0;
  let others = 0;
  const flush = (): void => {
    if (runStart < 0) return;
    const parts: string[] = [];
    if (data > 0) parts.push(`${data} data segment${data === 1 ? '' : 's'}`);
    if (others > 0) parts.push(`${others} ACK${others === 1 ? '' : 's'}`);
    column[runStart] = { text: `… ${parts.join(', ')} …`, packet: null };
    runStart = -1;
    data = 0;
    others = 0;
  };
  rows.forEach((row, i) => {
    const p = row.packet;
    if (row.kind !== RowKind.Event) flush();
    if (p === null) return;
    if (shown === null || shown.has(p)) {
      flush();
      column[i] = { text: labelText(p), packet: p };
      return;
    }
    if (runStart < 0) runStart = i;
    if (p.length > 0) data++;
    else others++;
  });
  flush();
  return column;
}

/**
 * The diagram as a standalone SVG document: host names over two vertical
 * lines, times on the left, states beside the lines where they change,
 * arrows slanting down from sender to receiver (blue client to server,
 * rust server to client, red and crossed when lost, dashed when the
 * sender was not seen), labels along the arrows, and the caption below.
 */
export function renderLadderSvg(diagram: LadderDiagram, options: SvgOptions = {}): string {
  const layout = layoutLadder(diagram, options);
  const caption = options.caption ?? [];
  const bottom = rowY(layout.rows.length) + 8;
  const height = bottom + 24 + caption.length * 15 + 12;
  const shown =
    layout.arrows.length > THIN_ABOVE
      ? labelsWorthShowing(layout.arrows.map((a) => a.packet))
      : null;
  const labels = labelColumn(layout.rows, shown);
  let longest = 0;
  for (const l of labels) if (l !== null) longest = Math.max(longest, l.text.length);
  const WIDTH = Math.ceil(
    Math.max(RIGHT_LINE + 150, LABEL_X + longest * FONT_SIZE * CHAR_WIDTH + 16),
  );
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${round(height)}" viewBox="0 0 ${WIDTH} ${round(height)}" font-family="${FONT}" font-size="${FONT_SIZE}">`,
  );
  out.push('<defs>');
  for (const [name, color] of [
    ['right', COLORS.right],
    ['left', COLORS.left],
  ] as const) {
    out.push(
      `<marker id="head-${name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`,
    );
  }
  out.push('</defs>');
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${round(height)}" fill="#ffffff"/>`);
  if (options.title !== undefined) {
    out.push(
      `<text class="title" x="${TIME_X}" y="20" font-size="14" font-weight="bold" fill="${COLORS.state}">${xmlEscape(options.title)}</text>`,
    );
  }
  const host = (h: { name: string; address: string; port: number }): string =>
    `${h.name} ${h.address.includes(':') ? `[${h.address}]` : h.address}:${h.port}`;
  out.push(
    `<text class="host" x="${LEFT_LINE}" y="48" text-anchor="middle" font-weight="bold" fill="${COLORS.state}">${xmlEscape(host(diagram.client))}</text>`,
  );
  out.push(
    `<text class="host" x="${RIGHT_LINE}" y="48" text-anchor="middle" font-weight="bold" fill="${COLORS.state}">${xmlEscape(host(diagram.server))}</text>`,
  );
  out.push(`<text class="time" x="${TIME_X}" y="${TOP - 22}" fill="${COLORS.time}">ms</text>`);
  const stateText = (x: number, y: number, anchor: 'start' | 'end', state: string): void => {
    out.push(
      `<text class="state" x="${x}" y="${round(y + 4)}" text-anchor="${anchor}" font-weight="bold" fill="${COLORS.state}">${xmlEscape(state)}</text>`,
    );
  };
  stateText(LEFT_LINE - 8, TOP - 22, 'end', diagram.initialStates.client);
  stateText(RIGHT_LINE + 8, TOP - 22, 'start', diagram.initialStates.server);

  // The two lines, dotted across quiet spells and skipped packets.
  const lineTop = TOP - 34;
  let from = lineTop;
  const segments: Array<{ y1: number; y2: number; dotted: boolean }> = [];
  layout.rows.forEach((row, i) => {
    if (row.kind === RowKind.Gap || row.kind === RowKind.Skip) {
      const y = rowY(i);
      segments.push({ y1: from, y2: y - ROW_HEIGHT / 2, dotted: false });
      segments.push({ y1: y - ROW_HEIGHT / 2, y2: y + ROW_HEIGHT / 2, dotted: true });
      from = y + ROW_HEIGHT / 2;
    }
  });
  segments.push({ y1: from, y2: bottom, dotted: false });
  for (const x of [LEFT_LINE, RIGHT_LINE]) {
    for (const s of segments) {
      out.push(
        `<line class="host-line" x1="${x}" y1="${round(s.y1)}" x2="${x}" y2="${round(s.y2)}" stroke="${COLORS.line}" stroke-width="${s.dotted ? 1 : 2}"${s.dotted ? ' stroke-dasharray="2 3"' : ''}/>`,
      );
    }
  }

  layout.rows.forEach((row, i) => {
    const y = rowY(i);
    if (row.time !== null) {
      out.push(
        `<text class="time" x="${TIME_X}" y="${round(y + 4)}" fill="${COLORS.time}">${formatMillis(row.time)}</text>`,
      );
    }
    if (row.clientState !== null) stateText(LEFT_LINE - 8, y, 'end', row.clientState);
    if (row.serverState !== null) stateText(RIGHT_LINE + 8, y, 'start', row.serverState);
    if ((row.kind === RowKind.Gap || row.kind === RowKind.Skip) && row.text !== null) {
      out.push(
        `<text class="gap" x="${(LEFT_LINE + RIGHT_LINE) / 2}" y="${round(y + 4)}" text-anchor="middle" font-style="italic" fill="${COLORS.time}">${xmlEscape(row.text)}</text>`,
      );
    }
    if (row.kind === RowKind.Event && row.packet === null && row.text !== null) {
      // A state change of its own (a timer): say why beside the state.
      const x = row.clientState !== null ? LEFT_LINE + 10 : RIGHT_LINE - 10;
      const anchor = row.clientState !== null ? 'start' : 'end';
      out.push(
        `<text class="cause" x="${x}" y="${round(y + 4)}" text-anchor="${anchor}" font-style="italic" fill="${COLORS.time}">${xmlEscape(row.text)}</text>`,
      );
    }
  });
  for (const arrow of layout.arrows) arrowSvg(arrow, out);
  labels.forEach((label, i) => {
    if (label === null) return;
    const y = round(rowY(i) + 4);
    const p = label.packet;
    if (p === null) {
      out.push(
        `<text class="label-count" x="${LABEL_X}" y="${y}" font-style="italic" fill="${COLORS.time}">${xmlEscape(label.text)}</text>`,
      );
      return;
    }
    const color = p.lost ? COLORS.lost : p.from === 'client' ? COLORS.right : COLORS.left;
    out.push(
      `<text class="label" data-packet="${p.number}" x="${LABEL_X}" y="${y}" fill="${color}">${xmlEscape(label.text)}</text>`,
    );
  });

  let y = bottom + 24;
  const notes: string[] = [];
  if (diagram.statesInferred) notes.push('states inferred from the flags seen');
  if (diagram.packets.some((p) => p.estimated))
    notes.push('far ends of arrows estimated: half the quickest round trip seen');
  notes.push(diagram.absolute ? 'absolute sequence numbers' : 'relative sequence numbers');
  out.push(
    `<text class="note" x="${TIME_X}" y="${round(bottom + 8)}" font-style="italic" fill="${COLORS.time}">${xmlEscape(notes.join('; '))}</text>`,
  );
  for (const line of caption) {
    out.push(
      `<text class="caption" x="${TIME_X}" y="${round(y)}" fill="${COLORS.state}">${xmlEscape(line)}</text>`,
    );
    y += 15;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
