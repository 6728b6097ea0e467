/**
 * `tcpts plot FILE.pcap`: one connection of a capture as a time–sequence
 * graph in SVG. The drawing is in ./plot-svg.ts (pure, shared with the web
 * page); this file reads and writes the files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CommandIo } from './args.js';
import { parseFileCommand } from './args.js';
import { describeFsError } from './ladder.js';
import { dataWindow, plotDuration, plotFromCapture } from './plot-model.js';
import { renderPlotSvg } from './plot-svg.js';

export { niceTicks, renderPlotSvg, type PlotSvgOptions } from './plot-svg.js';

// ---------------------------------------------------------------- the command

/** `tcpts plot --help`. */
export const PLOT_USAGE = `Usage: tcpts plot [options] FILE.pcap

Draw one TCP connection of a pcap capture as a time-sequence graph (as
tcptrace does), in SVG: in the direction that carried the most data, each
data segment is a vertical bar from its first to its last byte at the time
it was captured (blue when new, red when it repeats bytes already sent),
SACK blocks the receiver reported are green boxes, the cumulative ACK is a
step line and the right edge of the receiver's window a dashed one.
Sequence offsets count from the sender's first data byte. cwnd is not
visible in a capture, so the window panel of 'tcpts demo --plot' is left
out. Reads pcap and pcapng (Ethernet, raw IP, Linux cooked).

Time counts from the connection's first packet. Unless --from or --to is
given, the graph shows where the data is (from the first data segment to
the last, with a small margin) and says so under the picture.

Options:
  -c, --connection N  plot the Nth TCP connection of the capture (default 1)
  -o, --output FILE   where to write the SVG (default: FILE with .svg
                      instead of .pcap)
      --from S        start the time axis S seconds after the first packet
      --to S          end it S seconds after the first packet (with --from
                      or alone; either alone keeps the other end of the data)
  -h, --help          show this help

Exit status: 0 on success, 1 for an unreadable file, one without TCP or a
damaged one (the packets before the damage are drawn), 2 for bad usage.`;

/** Runs `tcpts plot`; returns the exit status. */
export function runPlot(args: string[], io: CommandIo): number {
  const front = parseFileCommand(
    'plot',
    args,
    {
      connection: { type: 'string', short: 'c' },
      output: { type: 'string', short: 'o' },
      from: { type: 'string', takes: 'seconds after the first packet' },
      to: { type: 'string', takes: 'seconds after the first packet' },
      help: { type: 'boolean', short: 'h' },
    },
    PLOT_USAGE,
    io,
  );
  if (typeof front === 'number') return front;
  const { values: v, path, connection } = front;
  const window: { fromUs?: number; toUs?: number } = {};
  for (const name of ['from', 'to'] as const) {
    const text = v[name];
    if (typeof text !== 'string') continue;
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text)) {
      io.err(
        `tcpts plot: --${name} takes seconds after the first packet (0 or more, 0.0072 is 7.2 ms), got '${text}' (see 'tcpts plot --help')`,
      );
      return 2;
    }
    window[name === 'from' ? 'fromUs' : 'toUs'] = Number(text) * 1e6;
  }
  if (window.fromUs !== undefined && window.toUs !== undefined && window.toUs <= window.fromUs) {
    io.err(`tcpts plot: --to must be after --from (see 'tcpts plot --help')`);
    return 2;
  }
  const output =
    typeof v.output === 'string'
      ? v.output
      : `${path.replace(/\.(pcapng|pcap|cap|dmp)$/i, '')}.svg`;
  if (output === path) {
    io.err(`tcpts plot: the output would overwrite ${path}: give -o FILE.svg`);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    io.err(`tcpts plot: cannot read ${path}: ${describeFsError(error)}`);
    return 1;
  }
  const result = plotFromCapture(bytes, connection);
  if (typeof result === 'string') {
    io.err(`tcpts plot: ${path}: ${result}`);
    return 1;
  }
  const status = result.fileError === null ? 0 : 1;
  if (result.fileError !== null) io.err(`tcpts plot: ${path}: ${result.fileError}`);
  const m = result.model;
  const caption: string[] = [];
  const duration = plotDuration(m);
  const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;
  let shown: { fromUs: number; toUs: number } | null = null;
  if (window.fromUs !== undefined || window.toUs !== undefined) {
    const data = dataWindow(m);
    shown = {
      fromUs: window.fromUs ?? data?.fromUs ?? 0,
      toUs: window.toUs ?? Math.max(data?.toUs ?? duration, (window.fromUs ?? 0) + 1),
    };
    caption.push(`Showing ${ms(shown.fromUs)} to ${ms(shown.toUs)} after the first packet.`);
  } else {
    shown = dataWindow(m);
    if (shown !== null && (shown.fromUs > 0 || shown.toUs < duration)) {
      caption.push(
        `Showing ${ms(shown.fromUs)} to ${ms(shown.toUs)} after the first packet, where the data is ` +
          `(of ${ms(duration)}; --from and --to choose).`,
      );
    }
  }
  const svg = renderPlotSvg(m, {
    title: `${path}, connection ${result.chosen}: ${result.label}`,
    ...(shown === null ? {} : shown),
    caption,
  });
  try {
    writeFileSync(output, svg);
  } catch (error) {
    io.err(`tcpts plot: cannot write ${output}: ${describeFsError(error)}`);
    return 1;
  }
  io.out(
    `Connection ${result.chosen} of ${result.connections.length} (${result.label}): ${m.sent.length} segment(s) sent, ${m.retransmitted.length} sent again, ${m.sacked.length} SACK block(s), ${m.acks.length} ACK(s); wrote ${output}`,
  );
  return status;
}
