/** The `tcpts demo` command: its help, its arguments, and the files it writes. */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CommandIo } from '../args.js';
import { parseCommandArgs } from '../args.js';
import { MIN_TEXT_WIDTH, describeFsError, textWidth } from '../ladder.js';
import { plotFromSamples } from '../plot-model.js';
import { renderPlotSvg } from '../plot.js';
import { progressBarFor, type ProgressStream } from '../progress.js';
import { renderLadderSvg } from '../svg.js';
import { DEMO_DEFAULTS, MAX_DEMO_BYTES, SCENARIOS, type DemoOptions } from './options.js';
import { DEMO_HEAD, DEMO_TAIL, demoJson, demoLines, type DemoTextOptions } from './output.js';
import { runDemo } from './run.js';

/** `tcpts demo --help`. */
export const DEMO_USAGE = `Usage: tcpts demo [options]

Show TCP at work on a simulated network (no root, no kernel): two hosts,
client 10.0.0.1 and server 10.0.0.2, one link, one connection. The ladder
diagram is drawn from the packets captured at both ends of the link: each
arrow leaves one host's line when the packet was sent and reaches the other's
when it arrived, labelled with its flags, sequence and acknowledgment numbers
(relative, like tcpdump), window and options; beside each line, the state the
connection entered, from its own record of transitions. A summary follows.

Scenarios (--scenario):
  handshake           three-way handshake, a small exchange, four-way close
                      ending in TIME-WAIT (the default)
  transfer            the client sends --bytes (default 100000), checked at the
                      server, then both close; try --loss 0.05
  half-close          the server goes on sending after the client's FIN: why
                      closing takes four messages
  old-duplicate-syn   a delayed SYN from an earlier connection arrives and the
                      handshake refuses it: why opening takes three
  simultaneous-open   both hosts connect to each other at once
  simultaneous-close  both hosts close at once
  reset               the server aborts mid-transfer: RST

Options:
  -s, --scenario NAME  one of the scenarios above (default handshake)
      --loss F         lose this fraction of packets each way (0.05 is 5%)
      --delay MS       one-way delay in milliseconds (default 10)
      --rate MBIT      link bandwidth each way in Mbit/s (default: none, so
                       packets sent together arrive together)
      --bytes N        bytes for transfer and reset; k and M suffixes (1000s)
      --seed S         seed for everything random; the same seed repeats a run
                       exactly (default 1)
      --ipv6           use fd00::1 and fd00::2
  -S, --absolute       label absolute sequence numbers
      --pcap FILE      save the capture taken at the client's end of the link
      --svg FILE       write the ladder as an SVG picture
      --plot FILE      write the client's time-sequence graph (sent,
                       retransmitted, SACKed, ACKed, receive window) and its
                       cwnd, ssthresh, pipe and RTT over time as SVG
      --json           print JSON (packets, transitions, summary) instead
      --all            draw every packet (a long run shows the first ${DEMO_HEAD}
                       and the last ${DEMO_TAIL} otherwise)
      --width N        fit the ladder in N columns, shortening the labels first
                       (default: the terminal's width, $COLUMNS, when printing
                       to a terminal; else no limit)
  -h, --help           show this help

Exit status: 0 on success, 1 when the run did not do what the scenario shows
(data damaged, a connection left open or timed out, said on stderr) or a file
cannot be written, 2 for bad usage.`;

/** How each side's connection ends when a scenario does what it shows; the others end in an orderly close (null). */
const EXPECTED_ENDINGS: Partial<
  Record<(typeof SCENARIOS)[number], { client: string | null; server: string | null }>
> = {
  reset: { client: 'reset', server: 'aborted' },
};

/** What each file option wrote, for the line that names the file. */
const WRITTEN = {
  pcap: "the capture at the client's end",
  svg: 'the ladder diagram',
  plot: "the client's time-sequence graph",
} as const;

/** Samples kept for `--plot` (TcpConfig.recordSamples of the client). */
const PLOT_SAMPLES = 1 << 18;

/** Where a demo shows its progress bar: process.stderr in the program. */
export interface DemoCommandIo extends CommandIo {
  progress?: ProgressStream;
  clock?: () => number;
}

function parseNumber(text: string): number | null {
  return /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : null;
}

function parseBytes(text: string): number | null {
  const m = /^(\d+)([kKmM]?)$/.exec(text);
  if (m === null) return null;
  const scale = m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1000 : 1_000_000;
  return Number(m[1]) * scale;
}

/** Runs `tcpts demo`; returns the exit status. */
export function runDemoCommand(args: string[], io: DemoCommandIo): number {
  const parsed = parseCommandArgs('demo', args, {
    scenario: { type: 'string', short: 's', takes: `a scenario, one of ${SCENARIOS.join(', ')}` },
    loss: { type: 'string', takes: 'a fraction from 0 to below 1 (0.05 is 5%)' },
    delay: { type: 'string', takes: 'milliseconds from 0 to 60000' },
    rate: { type: 'string', takes: 'Mbit/s, more than 0' },
    bytes: { type: 'string', takes: 'a whole number (k and M suffixes allowed)' },
    seed: { type: 'string', takes: 'a whole number from 0 to 4294967295' },
    ipv6: { type: 'boolean' },
    absolute: { type: 'boolean', short: 'S' },
    pcap: { type: 'string' },
    svg: { type: 'string' },
    plot: { type: 'string' },
    json: { type: 'boolean' },
    all: { type: 'boolean' },
    width: { type: 'string', takes: `columns, at least ${MIN_TEXT_WIDTH}` },
    help: { type: 'boolean', short: 'h' },
  });
  const fail = (message: string): number => {
    io.err(`tcpts demo: ${message} (see 'tcpts demo --help')`);
    return 2;
  };
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  const v = parsed.values;
  if (v.help === true) {
    io.out(DEMO_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) return fail(`unexpected argument '${parsed.positionals[0]}'`);
  const width = textWidth('demo', v.width, io);
  if (typeof width === 'string') {
    io.err(width);
    return 2;
  }
  const options: DemoOptions = {};
  if (typeof v.scenario === 'string') {
    const name = SCENARIOS.find((s) => s === v.scenario);
    if (name === undefined)
      return fail(`unknown scenario '${v.scenario}'; one of ${SCENARIOS.join(', ')}`);
    options.scenario = name;
  }
  if (typeof v.loss === 'string') {
    const loss = parseNumber(v.loss);
    if (loss === null || loss >= 1)
      return fail(`--loss takes a fraction from 0 to below 1 (0.05 is 5%), got '${v.loss}'`);
    options.loss = loss;
  }
  if (typeof v.delay === 'string') {
    const delay = parseNumber(v.delay);
    if (delay === null || delay > 60_000)
      return fail(`--delay takes milliseconds from 0 to 60000, got '${v.delay}'`);
    options.delayMs = delay;
  }
  if (typeof v.rate === 'string') {
    const rate = parseNumber(v.rate);
    if (rate === null || rate <= 0 || rate > 100_000) {
      return fail(`--rate takes Mbit/s, more than 0 and at most 100000, got '${v.rate}'`);
    }
    options.rateMbps = rate;
  }
  if (typeof v.bytes === 'string') {
    const scenario = options.scenario ?? DEMO_DEFAULTS.scenario;
    if (scenario !== 'transfer' && scenario !== 'reset')
      return fail('--bytes is for --scenario transfer or reset');
    const n = parseBytes(v.bytes);
    if (n === null || n < 1 || n > MAX_DEMO_BYTES) {
      return fail(
        `--bytes takes a whole number from 1 to ${MAX_DEMO_BYTES} (k and M suffixes allowed), got '${v.bytes}'`,
      );
    }
    options.bytes = n;
  }
  if (typeof v.seed === 'string') {
    if (!/^\d+$/.test(v.seed) || Number(v.seed) > 0xffffffff)
      return fail(`--seed takes a whole number from 0 to 4294967295, got '${v.seed}'`);
    options.seed = Number(v.seed);
  }
  if (v.ipv6 === true) options.ipv6 = true;
  if (v.absolute === true) options.absolute = true;
  // The recorder is bounded: this holds a --bytes 256M transfer's last stretch in ~10 MB.
  if (typeof v.plot === 'string') options.recordSamples = PLOT_SAMPLES;
  const clock = io.clock ?? (() => performance.now());
  options.clock = clock;
  const scenario = options.scenario ?? DEMO_DEFAULTS.scenario;
  const bar =
    io.progress !== undefined && (scenario === 'transfer' || scenario === 'reset')
      ? progressBarFor(io.progress, {
          unit: 'delivered',
          total:
            options.bytes ??
            (scenario === 'reset' ? DEMO_DEFAULTS.resetBytes : DEMO_DEFAULTS.transferBytes),
          clock,
        })
      : null;
  if (bar !== null)
    options.progress = (done, _total, us) => bar.update(done, `virtual ${(us / 1e6).toFixed(2)} s`);
  const result = runDemo(options);
  bar?.finish();
  const layout: DemoTextOptions = {
    ...(v.all === true ? { head: Number.POSITIVE_INFINITY, tail: 0 } : {}),
    ...(width === undefined ? {} : { width }),
  };
  let status = 0;
  const wrote: string[] = [];
  for (const [flag, path, content] of [
    ['pcap', v.pcap, () => result.clientPcap],
    [
      'svg',
      v.svg,
      () =>
        renderLadderSvg(result.diagram, {
          ...(v.all === true ? {} : { head: DEMO_HEAD, tail: DEMO_TAIL }),
          title: `tcpts demo: ${result.scenario}`,
          caption: result.caption,
        }),
    ],
    [
      'plot',
      v.plot,
      () =>
        // Time 0 is the ladder's: the connection's first packet (diagram.start).
        renderPlotSvg(
          plotFromSamples(
            result.samples?.list ?? [],
            result.samples?.dropped ?? 0,
            result.diagram.start,
          ),
          {
            title: `${result.rerun}: the client's connection`,
          },
        ),
    ],
  ] as const) {
    if (typeof path !== 'string') continue;
    try {
      writeFileSync(path, content());
      wrote.push(`wrote ${path} (${WRITTEN[flag]})`);
    } catch (error) {
      io.err(`tcpts demo: cannot write --${flag} ${path}: ${describeFsError(error)}`);
      status = 1;
    }
  }
  // Say where each file went; on stderr with --json, whose stdout is one JSON document.
  if (v.json === true) {
    io.out(JSON.stringify(demoJson(result), null, 2));
    if (wrote.length > 0) io.err(wrote.join('\n'));
  } else {
    io.out([...demoLines(result, layout), ...(wrote.length > 0 ? ['', ...wrote] : [])].join('\n'));
  }
  const s = result.summary;
  if (s.intact === false) status = 1;
  const expected = EXPECTED_ENDINGS[result.scenario] ?? { client: null, server: null };
  for (const side of ['client', 'server'] as const) {
    const ending = s.endings[side];
    if (ending === expected[side]) continue;
    // A scenario that did not do what its caption shows (a handshake that
    // timed out under heavy loss, say) is not a success.
    const how =
      ending === null ? 'closed in order' : ending === 'open' ? 'was left open' : `ended ${ending}`;
    const should = expected[side] === null ? 'close in order' : `end ${expected[side]}`;
    io.err(
      `tcpts demo: the ${side}'s connection ${how}; in ${result.scenario} it should ${should}`,
    );
    status = 1;
  }
  return status;
}
