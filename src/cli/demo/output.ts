/** What `tcpts demo` prints: the terminal text (heading, caption, ladder, summary) and the JSON. */
import { formatDuration, type LayoutOptions } from '../ladder-model.js';
import { renderLadderText } from '../ladder.js';
import type { DemoResult } from './options.js';

/** Packets a long demo shows at the start and at the end. */
export const DEMO_HEAD = 30;
/** See {@link DEMO_HEAD}. */
export const DEMO_TAIL = 15;

function ms(us: number): string {
  return `${(us / 1000).toFixed(1)} ms`;
}

/** The summary as lines. */
export function summaryLines(result: DemoResult): string[] {
  const s = result.summary;
  const lines: string[] = ['Summary'];
  let data = `client -> server ${s.bytesClientToServer} bytes, server -> client ${s.bytesServerToClient} bytes`;
  if (s.intact === true) data += `; all ${s.bytesIntended} arrived intact, in order`;
  if (s.intact === false) data += `; NOT what was sent (${s.bytesIntended} bytes expected)`;
  if (result.scenario === 'reset') data += ` (of ${s.bytesIntended} the client meant to send)`;
  lines.push(`  data          ${data}`);
  lines.push(
    `  packets       ${s.packets} (client sent ${s.packetsFromClient}, server sent ${s.packetsFromServer}); ` +
      `${s.lost} lost; ${s.retransmissions} retransmitted`,
  );
  lines.push(
    `  time          ${formatDuration(s.lastPacketUs)} of virtual time to the last packet, ` +
      `${formatDuration(s.endUs)} until every connection ended; ${s.realTimeMs.toFixed(0)} ms of real time`,
  );
  const rtt = (r: { srttUs: number; minRttUs: number } | null): string =>
    r === null ? 'no sample' : `smoothed ${ms(r.srttUs)}, min ${ms(r.minRttUs)}`;
  lines.push(`  RTT           client ${rtt(s.rtt.client)}; server ${rtt(s.rtt.server)}`);
  const final = (side: 'client' | 'server'): string => {
    const state = s.finalStates[side];
    const ending = s.endings[side];
    let text = `${side} ${state}`;
    const tw = s.timeWaitUs[side];
    if (tw > 0) text += ` (after ${formatDuration(tw)} in TIME-WAIT)`;
    if (ending !== null && ending !== 'open') text += ` (${ending})`;
    return text;
  };
  lines.push(`  final states  ${final('client')}, ${final('server')}`);
  lines.push(`  repeat        ${result.rerun}`);
  return lines;
}

/** Options of {@link demoLines}. */
export interface DemoTextOptions extends LayoutOptions {
  laneWidth?: number;
  /** Columns the ladder fits in (see TextOptions.width). */
  width?: number;
}

/** The whole terminal output of a demo: heading, caption, ladder, summary. */
export function demoLines(result: DemoResult, options: DemoTextOptions = {}): string[] {
  const o = result.options;
  const conditions = [
    `one-way delay ${o.delayMs} ms`,
    o.loss > 0 ? `${(o.loss * 100).toFixed(1).replace(/\.0$/, '')}% loss each way` : 'no loss',
    ...(o.rateMbps > 0 ? [`${o.rateMbps} Mbit/s`] : []),
    o.ipv6 ? 'IPv6' : 'IPv4',
    `seed ${o.seed}`,
  ];
  const layout: DemoTextOptions =
    options.head === undefined && options.tail === undefined
      ? { head: DEMO_HEAD, tail: DEMO_TAIL, ...options }
      : options;
  const width = options.width;
  const caption = result.caption.map((line) => `  ${line}`);
  const heading = `tcpts demo: ${result.scenario} (${conditions.join(', ')})`;
  return [
    ...(width === undefined || heading.length <= width
      ? [heading]
      : wrapWords(heading, width, '', '  ')),
    '',
    ...(width === undefined || caption.every((l) => l.length <= width)
      ? caption
      : wrapWords(result.caption.join(' '), width, '  ', '  ')),
    '',
    ...renderLadderText(result.diagram, layout),
    '',
    ...(width === undefined
      ? summaryLines(result)
      : summaryLines(result).flatMap((line) =>
          line.length <= width
            ? [line]
            : wrapWords(line.slice(16), width, line.slice(0, 16), ' '.repeat(16)),
        )),
  ];
}

/** `text` in lines of at most `width` columns after `first` (then `rest`), broken between words (a longer word stands alone). */
function wrapWords(text: string, width: number, first: string, rest: string): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  if (!empty) lines.push(line);
  return lines;
}

/** The JSON `--json` prints: the packets, every transition, the summary. */
export function demoJson(result: DemoResult): unknown {
  return {
    scenario: result.scenario,
    options: result.options,
    caption: result.caption,
    client: result.diagram.client,
    server: result.diagram.server,
    initialStates: result.diagram.initialStates,
    absolute: result.diagram.absolute,
    packets: result.diagram.packets,
    stateRows: result.diagram.stateRows,
    connections: result.connections,
    summary: result.summary,
    rerun: result.rerun,
  };
}
