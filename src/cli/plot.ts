/**
 * `tcpts plot FILE.pcap`: one connection of a capture as a time–sequence
 * graph in SVG. The drawing is in ./plot-svg.ts (pure, shared with the web
 * page); this file reads and writes the files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CommandIo } from './args.js';
import { parseFileCommand } from './args.js';
import { describeFsError } from './ladder.js';
import { plotFromCapture } from './plot-model.js';
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

Options:
  -c, --connection N  plot the Nth TCP connection of the capture (default 1)
  -o, --output FILE   where to write the SVG (default: FILE with .svg
                      instead of .pcap)
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
      help: { type: 'boolean', short: 'h' },
    },
    PLOT_USAGE,
    io,
  );
  if (typeof front === 'number') return front;
  const { values: v, path, connection } = front;
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
  const svg = renderPlotSvg(m, { title: `${path}, connection ${result.chosen}: ${result.label}` });
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
