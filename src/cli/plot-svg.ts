/**
 * Time–sequence and window plots as SVG written by hand (no dependency). The
 * top panel is tcptrace's time–sequence graph: each data segment a short
 * vertical bar from its first to its last byte at the time it left (blue
 * when new, red when sent again), SACKed ranges in green, the cumulative ACK
 * as a step line and the right edge of the receiver's window above it. The
 * second panel, when the source knows them (a connection's own recorder),
 * draws cwnd, ssthresh and pipe in bytes and the smoothed RTT in ms on a
 * second axis. Pure (no host API): `tcpts plot`, `tcpts demo --plot` and the
 * web page draw with it.
 */
import type { PlotModel, PlotRange } from './plot-model.js';
import { xmlEscape } from './svg.js';

/** Options of {@link renderPlotSvg}. */
export interface PlotSvgOptions {
  /** A heading above the picture. */
  title?: string;
  /** Lines of text below the picture. */
  caption?: string[];
  /** The time window drawn, µs from the origin; default from 0 to the last thing drawn. */
  fromUs?: number;
  toUs?: number;
}

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const FONT_SIZE = 12;
const WIDTH = 1000;
const LEFT = 84;
const RIGHT = WIDTH - 76;
const TOP = 64;
const SEQ_HEIGHT = 420;
const GAP = 78;
const WINDOW_HEIGHT = 220;
const COLORS = {
  sent: '#1f5fa8',
  retransmitted: '#d0161d',
  sacked: '#2e9c3a',
  ack: '#8a5a00',
  window: '#c9a400',
  lost: '#d0161d',
  probe: '#8e44ad',
  cwnd: '#1f5fa8',
  ssthresh: '#d0161d',
  pipe: '#2e9c3a',
  rtt: '#8e44ad',
  bdp: '#e07b00',
  axis: '#333333',
  grid: '#e4e4e4',
  text: '#222222',
  muted: '#777777',
} as const;

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** Tick values 1, 2 or 5 × 10^k apart covering [0, max], about `count` of them. */
export function niceTicks(max: number, count: number): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = 0; v <= max * (1 + 1e-9); v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

/** A byte count as a tick label: 0, 500, 20 kB, 1.5 MB (1000s, as the demo's --bytes). */
function bytesLabel(n: number): string {
  if (n >= 1e6) return `${Number((n / 1e6).toPrecision(3))} MB`;
  if (n >= 1e3) return `${Number((n / 1e3).toPrecision(3))} kB`;
  return String(n);
}

/** Time ticks in ms, or in s for long runs. */
function timeUnit(maxUs: number): { scale: number; unit: string } {
  return maxUs >= 10e6 ? { scale: 1e6, unit: 's' } : { scale: 1e3, unit: 'ms' };
}

/** Ticks like {@link niceTicks}, for the range [min, max] (a zoomed time axis). */
function ticksBetween(min: number, max: number, count: number): number[] {
  const span = max - min;
  if (!(span > 0)) return [min];
  const step = niceTicks(span, count)[1] ?? span;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max * (1 + 1e-9); v += step)
    ticks.push(Math.round(v / step) * step);
  return ticks;
}

interface Frame {
  top: number;
  height: number;
  /** Time range shown, µs. */
  minUs: number;
  maxUs: number;
  maxY: number;
}

function xOf(frame: Frame, us: number): number {
  return LEFT + ((us - frame.minUs) / (frame.maxUs - frame.minUs)) * (RIGHT - LEFT);
}

function yOf(frame: Frame, v: number, maxY = frame.maxY): number {
  return frame.top + frame.height - (v / maxY) * frame.height;
}

/** Axes, grid, tick labels and axis titles of one panel. */
function axes(
  out: string[],
  frame: Frame,
  yTitle: string,
  yLabel: (v: number) => string,
  xTitle: boolean,
): void {
  const bottom = frame.top + frame.height;
  const { scale, unit } = timeUnit(frame.maxUs);
  for (const t of ticksBetween(frame.minUs / scale, frame.maxUs / scale, 10)) {
    const x = xOf(frame, t * scale);
    out.push(
      `<line class="grid" x1="${round(x)}" y1="${frame.top}" x2="${round(x)}" y2="${bottom}" stroke="${COLORS.grid}"/>`,
    );
    out.push(
      `<line x1="${round(x)}" y1="${bottom}" x2="${round(x)}" y2="${bottom + 5}" stroke="${COLORS.axis}"/>`,
    );
    out.push(
      `<text class="tick" x="${round(x)}" y="${bottom + 18}" text-anchor="middle" fill="${COLORS.text}">${Number(t.toPrecision(6))}</text>`,
    );
  }
  for (const v of niceTicks(frame.maxY, 8)) {
    const y = yOf(frame, v);
    out.push(
      `<line class="grid" x1="${LEFT}" y1="${round(y)}" x2="${RIGHT}" y2="${round(y)}" stroke="${COLORS.grid}"/>`,
    );
    out.push(
      `<line x1="${LEFT - 5}" y1="${round(y)}" x2="${LEFT}" y2="${round(y)}" stroke="${COLORS.axis}"/>`,
    );
    out.push(
      `<text class="tick" x="${LEFT - 8}" y="${round(y + 4)}" text-anchor="end" fill="${COLORS.text}">${xmlEscape(yLabel(v))}</text>`,
    );
  }
  out.push(
    `<rect class="frame" x="${LEFT}" y="${frame.top}" width="${RIGHT - LEFT}" height="${frame.height}" fill="none" stroke="${COLORS.axis}"/>`,
  );
  const midY = frame.top + frame.height / 2;
  out.push(
    `<text class="axis-title" x="18" y="${round(midY)}" text-anchor="middle" fill="${COLORS.text}" transform="rotate(-90 18 ${round(midY)})">${xmlEscape(yTitle)}</text>`,
  );
  if (xTitle) {
    out.push(
      `<text class="axis-title" x="${(LEFT + RIGHT) / 2}" y="${bottom + 36}" text-anchor="middle" fill="${COLORS.text}">time (${unit}) since the connection's first packet</text>`,
    );
  }
}

/** A legend row of coloured swatches and names, left to right. */
function legend(
  out: string[],
  y: number,
  items: ReadonlyArray<readonly [string, string, 'bar' | 'line' | 'dash' | 'box']>,
): void {
  let x = LEFT;
  for (const [name, color, shape] of items) {
    if (shape === 'bar') {
      out.push(
        `<line x1="${x + 9}" y1="${y - 10}" x2="${x + 9}" y2="${y + 2}" stroke="${color}" stroke-width="3"/>`,
      );
    } else if (shape === 'box') {
      out.push(
        `<rect x="${x + 3}" y="${y - 9}" width="12" height="10" fill="${color}" fill-opacity="0.35" stroke="${color}"/>`,
      );
    } else {
      out.push(
        `<line x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}" stroke="${color}" stroke-width="2"${shape === 'dash' ? ' stroke-dasharray="5 3"' : ''}/>`,
      );
    }
    out.push(
      `<text class="legend" x="${x + 24}" y="${y}" fill="${COLORS.text}">${xmlEscape(name)}</text>`,
    );
    x += 34 + name.length * 7;
  }
}

/** A step line through (t, v) points, skipping those with v < 0. */
function stepPath(
  frame: Frame,
  points: ReadonlyArray<readonly [number, number]>,
  maxY: number,
): string {
  let d = '';
  let lastY = -1;
  for (const [t, v] of points) {
    if (v < 0) {
      lastY = -1;
      continue;
    }
    const x = round(xOf(frame, t));
    const y = round(yOf(frame, v, maxY));
    if (lastY < 0) d += `M${x},${y}`;
    else d += ` H${x} V${y}`;
    lastY = v;
  }
  return d;
}

function rangeBars(
  out: string[],
  frame: Frame,
  ranges: readonly PlotRange[],
  cls: string,
  color: string,
  width: number,
): void {
  for (const r of ranges) {
    const x = round(xOf(frame, r.at));
    // A segment is at least 1.5 px tall so that a small one still shows.
    let y1 = yOf(frame, r.start);
    let y2 = yOf(frame, r.end);
    if (y1 - y2 < 1.5) {
      const mid = (y1 + y2) / 2;
      y1 = mid + 0.75;
      y2 = mid - 0.75;
    }
    out.push(
      `<line class="${cls}" x1="${x}" y1="${round(y1)}" x2="${x}" y2="${round(y2)}" stroke="${color}" stroke-width="${width}"/>`,
    );
  }
}

/**
 * The plot as a standalone SVG document, 1000 px wide: the time–sequence
 * panel, then the window panel (or a line saying why there is none), a
 * legend above each, and the notes and caption below. Elements carry a
 * class per series (`sent`, `retransmitted`, `sacked`, `ack`, `rwnd`,
 * `cwnd`, `ssthresh`, `pipe`, `rtt`) so that tests can count them.
 */
export function renderPlotSvg(model: PlotModel, options: PlotSvgOptions = {}): string {
  let maxUs = 1;
  let maxSeq = 1;
  const ranges = [model.sent, model.retransmitted, model.sacked, model.lost, model.probes];
  for (const list of ranges) {
    for (const r of list) {
      maxUs = Math.max(maxUs, r.at);
      maxSeq = Math.max(maxSeq, r.end);
    }
  }
  let maxEdge = 1;
  for (const a of model.acks) {
    maxUs = Math.max(maxUs, a.at);
    maxSeq = Math.max(maxSeq, a.ack);
    maxEdge = Math.max(maxEdge, a.windowEdge);
  }
  for (const t of model.timeouts) maxUs = Math.max(maxUs, t);
  if (model.window !== null) for (const w of model.window) maxUs = Math.max(maxUs, w.at);
  maxUs *= 1.02;
  const minUs = Math.max(0, options.fromUs ?? 0);
  if (options.toUs !== undefined) maxUs = options.toUs;
  if (!(maxUs > minUs)) maxUs = minUs + 1;
  // The window's edge may run far above the data: show it, but not at the cost of the data.
  const edgeAbove = maxEdge > maxSeq * 1.5;
  const maxY = (edgeAbove ? maxSeq : Math.max(maxSeq, maxEdge)) * 1.05;
  const seqFrame: Frame = { top: TOP + 26, height: SEQ_HEIGHT, minUs, maxUs, maxY };
  const windowTop = seqFrame.top + SEQ_HEIGHT + GAP + 26;
  const hasWindow = model.window !== null && model.window.length > 0;
  const panelsBottom = hasWindow
    ? windowTop + WINDOW_HEIGHT + 44
    : seqFrame.top + SEQ_HEIGHT + 44 + 30;
  const textLines = [...model.notes, ...(options.caption ?? [])];
  const height = panelsBottom + 10 + textLines.length * 16 + 10;

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${round(height)}" viewBox="0 0 ${WIDTH} ${round(height)}" font-family="${FONT}" font-size="${FONT_SIZE}">`,
  );
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${round(height)}" fill="#ffffff"/>`);
  if (options.title !== undefined) {
    out.push(
      `<text class="title" x="${LEFT}" y="24" font-size="15" font-weight="bold" fill="${COLORS.text}">${xmlEscape(options.title)}</text>`,
    );
  }

  // ---- the time–sequence panel
  out.push(
    `<text class="panel-title" x="${LEFT}" y="${TOP - 8}" font-weight="bold" fill="${COLORS.text}">Time–sequence: data sent and what the receiver acknowledged</text>`,
  );
  legend(out, TOP + 12, [
    ['sent', COLORS.sent, 'bar'],
    ['retransmitted', COLORS.retransmitted, 'bar'],
    ['SACKed', COLORS.sacked, 'box'],
    ['cumulative ACK', COLORS.ack, 'line'],
    ["receive window's right edge", COLORS.window, 'dash'],
    ...(model.probes.length > 0 ? ([['tail loss probe', COLORS.probe, 'bar']] as const) : []),
    ...(model.timeouts.length > 0 ? ([['RTO', COLORS.lost, 'dash']] as const) : []),
  ]);
  axes(out, seqFrame, 'sequence offset (bytes)', bytesLabel, true);
  out.push(
    `<clipPath id="seq-clip"><rect x="${LEFT}" y="${seqFrame.top}" width="${RIGHT - LEFT}" height="${SEQ_HEIGHT}"/></clipPath>`,
  );
  out.push('<g clip-path="url(#seq-clip)">');
  for (const t of model.timeouts) {
    const x = round(xOf(seqFrame, t));
    out.push(
      `<line class="rto" x1="${x}" y1="${seqFrame.top}" x2="${x}" y2="${seqFrame.top + SEQ_HEIGHT}" stroke="${COLORS.lost}" stroke-dasharray="5 3"/>`,
    );
  }
  // SACKed ranges: a small box per block, half transparent, behind the segments.
  for (const r of model.sacked) {
    const x = xOf(seqFrame, r.at);
    const y1 = yOf(seqFrame, r.end);
    const h = Math.max(1.5, yOf(seqFrame, r.start) - y1);
    out.push(
      `<rect class="sacked" x="${round(x - 2)}" y="${round(y1)}" width="4" height="${round(h)}" fill="${COLORS.sacked}" fill-opacity="0.35" stroke="${COLORS.sacked}" stroke-width="0.8"/>`,
    );
  }
  const acks = model.acks.map((a) => [a.at, a.ack] as const);
  const edges = model.acks.map((a) => [a.at, a.windowEdge] as const);
  if (edges.length > 0) {
    out.push(
      `<path class="rwnd" d="${stepPath(seqFrame, edges, maxY)}" fill="none" stroke="${COLORS.window}" stroke-width="1.5" stroke-dasharray="5 3"/>`,
    );
    out.push(
      `<path class="ack" d="${stepPath(seqFrame, acks, maxY)}" fill="none" stroke="${COLORS.ack}" stroke-width="1.5"/>`,
    );
  }
  rangeBars(out, seqFrame, model.sent, 'sent', COLORS.sent, 2);
  rangeBars(out, seqFrame, model.probes, 'probe', COLORS.probe, 3);
  rangeBars(out, seqFrame, model.retransmitted, 'retransmitted', COLORS.retransmitted, 3);
  // A ring around each retransmission, so that a one-segment repair shows at any zoom.
  for (const r of model.retransmitted) {
    out.push(
      `<circle class="retransmitted-mark" cx="${round(xOf(seqFrame, r.at))}" cy="${round(yOf(seqFrame, (r.start + r.end) / 2))}" r="5" fill="none" stroke="${COLORS.retransmitted}" stroke-width="1.2"/>`,
    );
  }
  out.push('</g>');
  if (edgeAbove) {
    // Drawing an edge far above the data would squash the data into a line: say where it is,
    // beside the panel's title.
    out.push(
      `<text class="rwnd-note" x="${RIGHT}" y="${TOP - 8}" text-anchor="end" font-style="italic" fill="${COLORS.ack}">receive window's right edge above the top (up to ${bytesLabel(Math.round(maxEdge))})</text>`,
    );
  }

  // ---- the window panel
  const window = model.window;
  if (window !== null && window.length > 0) {
    let maxBytes = 1;
    let maxRtt = 1;
    for (const w of window) {
      maxBytes = Math.max(maxBytes, w.cwnd, w.pipe, w.ssthresh);
      maxRtt = Math.max(maxRtt, w.srttUs);
    }
    // BBR's model joins the panel: its BDP (bw · min_rtt) on the byte axis, min_rtt on the RTT one.
    const bbr = model.bbr;
    const bdp = bbr.map((b) => [b.at, b.minRttUs > 0 ? (b.bw * b.minRttUs) / 1e6 : -1] as const);
    for (const [, v] of bdp) maxBytes = Math.max(maxBytes, v);
    maxBytes *= 1.08;
    // The RTT axis ends a tick above the largest RTT, so that its line stays off the frame.
    const rttTicks = niceTicks((maxRtt * 1.25) / 1000, 4);
    const rttStep = rttTicks.length > 1 ? rttTicks[1]! : 1;
    while (rttTicks[rttTicks.length - 1]! <= (maxRtt * 1.1) / 1000)
      rttTicks.push(rttTicks[rttTicks.length - 1]! + rttStep);
    const maxRttMs = rttTicks[rttTicks.length - 1]!;
    const frame: Frame = {
      top: windowTop,
      height: WINDOW_HEIGHT,
      minUs,
      maxUs,
      maxY: maxBytes,
    };
    out.push(
      `<text class="panel-title" x="${LEFT}" y="${windowTop - 34}" font-weight="bold" fill="${COLORS.text}">The sender's window (its own record)</text>`,
    );
    legend(out, windowTop - 12, [
      ['cwnd', COLORS.cwnd, 'line'],
      ['ssthresh', COLORS.ssthresh, 'dash'],
      ['pipe (bytes in flight)', COLORS.pipe, 'line'],
      ['smoothed RTT (right axis)', COLORS.rtt, 'line'],
      ...(bbr.length > 0
        ? ([
            ["BBR's BDP (bw · min_rtt)", COLORS.bdp, 'line'],
            ["BBR's min_rtt (right axis)", COLORS.rtt, 'dash'],
          ] as const)
        : []),
    ]);
    axes(out, frame, 'bytes', bytesLabel, true);
    for (const v of rttTicks) {
      const y = yOf(frame, v, maxRttMs);
      out.push(
        `<line x1="${RIGHT}" y1="${round(y)}" x2="${RIGHT + 5}" y2="${round(y)}" stroke="${COLORS.rtt}"/>`,
      );
      out.push(
        `<text class="tick" x="${RIGHT + 8}" y="${round(y + 4)}" fill="${COLORS.rtt}">${Number(v.toPrecision(6))}</text>`,
      );
    }
    const midY = windowTop + WINDOW_HEIGHT / 2;
    out.push(
      `<text class="axis-title" x="${WIDTH - 14}" y="${round(midY)}" text-anchor="middle" fill="${COLORS.rtt}" transform="rotate(90 ${WIDTH - 14} ${round(midY)})">RTT (ms)</text>`,
    );
    const series: ReadonlyArray<
      readonly [string, string, string, ReadonlyArray<readonly [number, number]>, number]
    > = [
      ['pipe', COLORS.pipe, '', window.map((w) => [w.at, w.pipe] as const), maxBytes],
      [
        'ssthresh',
        COLORS.ssthresh,
        ' stroke-dasharray="5 3"',
        window.map((w) => [w.at, w.ssthresh] as const),
        maxBytes,
      ],
      ['cwnd', COLORS.cwnd, '', window.map((w) => [w.at, w.cwnd] as const), maxBytes],
      [
        'rtt',
        COLORS.rtt,
        '',
        window.map((w) => [w.at, w.srttUs > 0 ? w.srttUs / 1000 : -1] as const),
        maxRttMs,
      ],
      ['bbr-bdp', COLORS.bdp, '', bdp, maxBytes],
      [
        'bbr-min-rtt',
        COLORS.rtt,
        ' stroke-dasharray="5 3"',
        bbr.map((b) => [b.at, b.minRttUs > 0 ? b.minRttUs / 1000 : -1] as const),
        maxRttMs,
      ],
    ];
    // A zoomed window cuts the lines at the frame.
    out.push(
      `<clipPath id="window-clip"><rect x="${LEFT}" y="${windowTop}" width="${RIGHT - LEFT}" height="${WINDOW_HEIGHT}"/></clipPath>`,
    );
    out.push('<g clip-path="url(#window-clip)">');
    for (const [cls, color, extra, points, max] of series) {
      const d = stepPath(frame, points, max);
      if (d === '') continue;
      out.push(
        `<path class="${cls}" d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${extra}/>`,
      );
    }
    out.push('</g>');
  }
  let y = panelsBottom + 10;
  if (!hasWindow && model.window === null) {
    // Said in the picture where the panel would be, not only in a note.
    out.push(
      `<text class="no-window" x="${LEFT}" y="${round(seqFrame.top + SEQ_HEIGHT + 62)}" font-style="italic" fill="${COLORS.muted}">No window panel: cwnd is not visible in a capture (only what crossed the wire is).</text>`,
    );
  }
  for (const line of model.notes) {
    out.push(
      `<text class="note" x="${LEFT}" y="${round(y)}" font-style="italic" fill="${COLORS.muted}">${xmlEscape(line)}</text>`,
    );
    y += 16;
  }
  for (const line of options.caption ?? []) {
    out.push(
      `<text class="caption" x="${LEFT}" y="${round(y)}" fill="${COLORS.text}">${xmlEscape(line)}</text>`,
    );
    y += 16;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
