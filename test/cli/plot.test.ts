// Time–sequence plots: `tcpts demo --plot` from the client connection's own
// recorder, `tcpts plot FILE.pcap` from a capture. The SVG must be
// well-formed, draw exactly the data segments that crossed the wire, draw
// retransmissions only when there were some, SACK ranges from a capture's
// options, and render with rsvg-convert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcap } from '../../src/link/index.js';
import { TcpSampleKind } from '../../src/tcp/index.js';
import { TcpFlags } from '../../src/wire/index.js';
import { runDemo, runDemoCommand } from '../../src/cli/demo/index.js';
import { segmentOf } from '../../src/cli/ladder-model.js';
import { main } from '../../src/cli/main.js';
import { dataWindow, plotFromCapture, plotFromSamples } from '../../src/cli/plot-model.js';
import { niceTicks, renderPlotSvg, runPlot } from '../../src/cli/plot.js';

const SACK_PCAP = new URL('../../fixtures/pcap/tcp-sack.pcap', import.meta.url);

/** Checks that `text` is well-formed XML (the subset an SVG writer uses); returns element names in order. */
function checkXml(text: string): string[] {
  assert.ok(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
  const body = text.slice(text.indexOf('?>') + 2);
  const stack: string[] = [];
  const names: string[] = [];
  const token =
    /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<&]*(?:&(?:amp|lt|gt|quot);[^"<&]*)*")*)\s*(\/?)>|([^<]+)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = token.exec(body)) !== null) {
    consumed = token.lastIndex;
    const [, close, name, , selfClose, textNode] = match;
    if (textNode !== undefined) {
      assert.doesNotMatch(textNode, /&(?!(amp|lt|gt|quot);)/, 'no bare & in text');
      continue;
    }
    if (close === '/') assert.equal(stack.pop(), name, `</${name}> closes the open element`);
    else {
      names.push(name!);
      if (selfClose !== '/') stack.push(name!);
    }
  }
  assert.equal(consumed, body.length, `stopped at ${body.slice(consumed, consumed + 60)}`);
  assert.deepEqual(stack, [], 'every element is closed');
  assert.equal(names[0], 'svg');
  return names;
}

function count(svg: string, cls: string): number {
  return svg.split(`class="${cls}"`).length - 1;
}

/** Segments with data or a FIN the client sent, as its end of the link captured them (the FIN takes a byte of sequence space, so the recorder has it). */
function clientDataSegments(pcap: Uint8Array, client: string): number {
  const file = readPcap(pcap);
  assert.ok(typeof file !== 'string');
  let n = 0;
  file.records.forEach((r, i) => {
    const s = segmentOf(r, i);
    if (s !== null && s.src === client && (s.length > 0 || (s.flags & TcpFlags.FIN) !== 0)) n++;
  });
  return n;
}

function io(): {
  out: string[];
  err: string[];
  io: { out(t: string): void; err(t: string): void };
} {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t) => out.push(t), err: (t) => err.push(t) } };
}

test('demo --plot draws every data segment the client sent, retransmissions included', () => {
  const result = runDemo({
    scenario: 'transfer',
    loss: 0.02,
    rateMbps: 20,
    recordSamples: 100_000,
  });
  assert.ok(result.samples !== null);
  assert.equal(result.samples.dropped, 0);
  const model = plotFromSamples(result.samples.list, result.samples.dropped);
  const svg = renderPlotSvg(model, { title: 'lossy <transfer> & more' });
  checkXml(svg);
  const wire = clientDataSegments(result.clientPcap, '10.0.0.1');
  assert.equal(count(svg, 'sent') + count(svg, 'retransmitted'), wire);
  assert.equal(model.sent.length + model.retransmitted.length, wire);
  // The stack's own counter agrees on the retransmissions.
  const client = result.connections.client[0]!;
  assert.equal(model.retransmitted.length, client.stats.segmentsRetransmitted);
  assert.ok(model.retransmitted.length > 0, 'a 2% loss transfer retransmits');
  // The recorder's count of new data is what the panel drew.
  const recordedSent = result.samples.list.filter((s) => s.kind === TcpSampleKind.Sent).length;
  assert.equal(count(svg, 'sent'), recordedSent);
  // The window panel: cwnd, ssthresh (set by the loss), pipe and RTT lines.
  for (const cls of ['cwnd', 'ssthresh', 'pipe', 'rtt', 'ack'])
    assert.equal(count(svg, cls), 1, `one ${cls} line`);
  assert.ok(svg.includes('lossy &lt;transfer&gt; &amp; more'));
  // Sent segments cover the whole transfer, contiguous from offset 0.
  const ends = model.sent.map((r) => r.end);
  assert.equal(Math.max(...ends), result.options.bytes + 1, 'the data and the FIN');
  assert.equal(model.sent[0]!.start, 0);
  assert.ok(
    model.acks.some((a) => a.ack === result.options.bytes + 1),
    'the FIN is acknowledged',
  );
});

test('a clean transfer draws no retransmissions and no SACK blocks', () => {
  const result = runDemo({ scenario: 'transfer', recordSamples: 100_000 });
  const model = plotFromSamples(result.samples!.list);
  const svg = renderPlotSvg(model);
  checkXml(svg);
  assert.equal(count(svg, 'retransmitted'), 0);
  assert.equal(count(svg, 'retransmitted-mark'), 0);
  assert.equal(count(svg, 'sacked'), 0);
  assert.equal(count(svg, 'sent'), clientDataSegments(result.clientPcap, '10.0.0.1'));
  // No loss: ssthresh stays at its initial "infinite" value and is not drawn.
  assert.ok(model.window!.every((w) => w.ssthresh === -1));
  assert.equal(count(svg, 'ssthresh'), 0);
});

test('without recordSamples the demo records nothing', () => {
  const result = runDemo({ scenario: 'handshake' });
  assert.equal(result.samples, null);
});

test('tcpts demo --plot writes the SVG and keeps the usual output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-plot-'));
  try {
    const file = join(dir, 'p.svg');
    const t = io();
    const status = runDemoCommand(
      ['--scenario', 'transfer', '--loss', '0.02', '--plot', file],
      t.io,
    );
    assert.equal(status, 0);
    assert.match(t.out.join('\n'), /Summary/);
    const svg = readFileSync(file, 'utf8');
    checkXml(svg);
    assert.ok(count(svg, 'retransmitted') > 0);
    assert.match(svg, /tcpts demo --scenario transfer --loss 0\.02 --seed 1/);
    // An unwritable path is a failure (exit 1) with one line.
    const bad = io();
    assert.equal(runDemoCommand(['--plot', join(dir, 'no', 'such', 'p.svg')], bad.io), 1);
    assert.equal(bad.err.length, 1);
    assert.match(bad.err[0]!, /^tcpts demo: cannot write --plot .*no such file or directory$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a capture shows SACK ranges, retransmissions below the highest sent, no cwnd', () => {
  const result = plotFromCapture(readFileSync(SACK_PCAP));
  assert.ok(typeof result !== 'string', String(result));
  const m = result.model;
  assert.equal(result.label, '10.77.1.2:40001 > 10.77.1.1:8765');
  // Offsets from ISS + 1: 400-byte segments; 401:801 and 1201:1601 were sent late.
  assert.deepEqual(
    m.sent.map((r) => [r.start, r.end]),
    [
      [0, 400],
      [800, 1200],
      [1600, 2000],
      [2000, 2400],
      [2400, 2401],
    ],
    'the data, then the FIN',
  );
  assert.deepEqual(
    m.retransmitted.map((r) => [r.start, r.end]),
    [
      [400, 800],
      [1200, 1600],
    ],
  );
  const blocks = new Set(m.sacked.map((r) => `${r.start}-${r.end}`));
  assert.deepEqual([...blocks].sort(), ['1600-2000', '1600-2400', '800-1200']);
  // wscale 10 on the receiver's SYN: win 64 is 64 KiB.
  const last = m.acks[m.acks.length - 1]!;
  assert.equal(last.ack, 2401);
  assert.equal(last.windowEdge, 2401 + 63 * 1024);
  assert.equal(m.window, null);
  const svg = renderPlotSvg(m);
  checkXml(svg);
  assert.equal(count(svg, 'sacked'), m.sacked.length);
  assert.equal(count(svg, 'retransmitted'), 2);
  assert.match(svg, /cwnd is not visible in a capture/);
  assert.equal(count(svg, 'cwnd'), 0);
});

test("a plot of the demo's capture draws the same segments as its recorder", () => {
  const result = runDemo({
    scenario: 'transfer',
    loss: 0.02,
    rateMbps: 20,
    recordSamples: 100_000,
  });
  const fromCapture = plotFromCapture(result.clientPcap);
  assert.ok(typeof fromCapture !== 'string');
  const fromSamples = plotFromSamples(result.samples!.list);
  const total = (m: { sent: unknown[]; retransmitted: unknown[] }): number =>
    m.sent.length + m.retransmitted.length;
  assert.equal(total(fromCapture.model), total(fromSamples));
  assert.equal(fromCapture.model.retransmitted.length, fromSamples.retransmitted.length);
  assert.ok(fromCapture.model.sacked.length > 0);
});

test('tcpts plot: writes the SVG, --help, one-line errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-plot-'));
  try {
    const out = join(dir, 'sack.svg');
    const t = io();
    assert.equal(runPlot([SACK_PCAP.pathname, '-o', out], t.io), 0);
    assert.match(t.out[0]!, /5 segment\(s\) sent, 2 sent again, \d+ SACK block\(s\)/);
    checkXml(readFileSync(out, 'utf8'));
    // The default output is the capture's name with .svg.
    const copy = join(dir, 'copy.pcap');
    writeFileSync(copy, readFileSync(SACK_PCAP));
    assert.equal(runPlot([copy], io().io), 0);
    checkXml(readFileSync(join(dir, 'copy.svg'), 'utf8'));

    const help = io();
    assert.equal(runPlot(['--help'], help.io), 0);
    assert.match(help.out[0]!, /^Usage: tcpts plot/);
    assert.equal(main(['plot', '-h'], help.io), 0);

    const usage: Array<[string[], RegExp]> = [
      [[], /^tcpts plot: expected one FILE, got 0/],
      [['a.pcap', 'b.pcap'], /^tcpts plot: expected one FILE, got 2/],
      [['--connection', 'x', 'a.pcap'], /^tcpts plot: --connection takes a positive whole number/],
      [['--bogus', 'a.pcap'], /^tcpts plot: unknown option '--bogus'/],
      [[out, '-o', out], /^tcpts plot: the output would overwrite/],
    ];
    for (const [args, pattern] of usage) {
      const e = io();
      assert.equal(runPlot(args, e.io), 2, args.join(' '));
      assert.equal(e.err.length, 1);
      assert.match(e.err[0]!, pattern);
    }
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'not a capture at all, just text');
    const failures: Array<[string[], RegExp]> = [
      [[join(dir, 'missing.pcap')], /cannot read .*no such file or directory$/],
      [[junk], /not a pcap or pcapng file: unknown magic number \(pcap-bad-magic\)$/],
      [[SACK_PCAP.pathname, '-c', '2', '-o', out], /no connection 2: the capture holds 1/],
    ];
    for (const [args, pattern] of failures) {
      const e = io();
      assert.equal(runPlot(args, e.io), 1, args.join(' '));
      assert.equal(e.err.length, 1);
      assert.match(e.err[0]!, pattern);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('niceTicks steps by 1, 2 or 5 times a power of ten and covers the range', () => {
  assert.deepEqual(niceTicks(100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(7, 4), [0, 2, 4, 6]);
  assert.deepEqual(niceTicks(0, 5), [0]);
  const ticks = niceTicks(123_456, 8);
  assert.equal(ticks[1]! - ticks[0]!, 20_000);
  assert.ok(ticks[ticks.length - 1]! <= 123_456);
});

test('rsvg-convert renders the plot at 1000 px wide', (t) => {
  const probe = spawnSync('rsvg-convert', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    t.skip('rsvg-convert is not installed (Debian package librsvg2-bin)');
    return;
  }
  const result = runDemo({
    scenario: 'transfer',
    loss: 0.02,
    rateMbps: 20,
    recordSamples: 100_000,
  });
  const svg = renderPlotSvg(plotFromSamples(result.samples!.list));
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-plot-'));
  try {
    const file = join(dir, 'p.svg');
    writeFileSync(file, svg);
    const run = spawnSync('rsvg-convert', [file, '-o', join(dir, 'p.png')]);
    assert.equal(run.status, 0, String(run.stderr));
    const png = readFileSync(join(dir, 'p.png'));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    // IHDR: width then height, big-endian.
    assert.equal(png.readUInt32BE(16), 1000);
    assert.ok(png.readUInt32BE(20) > 700);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a BBR connection's plot draws its BDP and min_rtt and names its states", async () => {
  const { Dumbbell } = await import('../tcp/bottleneck.js');
  const d = new Dumbbell({ rateBps: 10e6, bufferBytes: 50_000, delayMs: 20 }, [
    { config: { congestionControl: 'bbr', recordSamples: 200_000 } },
  ]);
  d.run(3000);
  const samples = d.flows[0]!.client.recorder!.samples();
  assert.ok(samples.some((s) => s.kind === TcpSampleKind.Model));
  const model = plotFromSamples(samples);
  assert.ok(model.bbr.length > 100);
  const last = model.bbr[model.bbr.length - 1]!;
  assert.ok(Math.abs(last.minRttUs - 40_000) < 2_000, `min_rtt ${last.minRttUs}`);
  assert.ok(last.bw > 0.8 * (10e6 / 8) && last.pacingRate > 0);
  const note = model.notes.find((n) => n.startsWith("BBR's states:"));
  assert.ok(
    note !== undefined && /^BBR.s states: startup at \d+ ms, drain at \d+ ms, probe-bw-/.test(note),
    note,
  );
  const svg = renderPlotSvg(model);
  checkXml(svg);
  assert.match(svg, /class="bbr-bdp"/);
  assert.match(svg, /class="bbr-min-rtt"/);
  assert.match(svg, /BBR&apos;s BDP|BBR's BDP/);
});

test("demo --plot counts time from the connection's first packet, as the ladder does", () => {
  const result = runDemo({ scenario: 'transfer', recordSamples: 10_000 });
  const model = plotFromSamples(result.samples!.list, 0, result.diagram.start);
  const firstData = result.diagram.packets.find((p) => p.from === 'client' && p.length > 0)!;
  // The handshake comes first: the first data leaves one round trip after the SYN.
  assert.ok(firstData.sentAt! > 0);
  assert.equal(model.sent[0]!.at, firstData.sentAt);
  // Without an origin, time 0 is the first sample.
  assert.equal(plotFromSamples(result.samples!.list).sent[0]!.at, 0);
  // The picture says where time 0 is.
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-plot-'));
  try {
    const svg = join(dir, 'p.svg');
    assert.equal(runDemoCommand(['-s', 'transfer', '--plot', svg], io().io), 0);
    assert.match(readFileSync(svg, 'utf8'), />time \(ms\) since the connection's first packet</);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tcpts plot zooms to where the data is, and --from/--to choose the window', () => {
  // A loopback-like connection: 8 ms long, the data in its last 0.8 ms.
  const model = plotFromSamples([]);
  model.window = null;
  model.sent.push({ at: 7200, start: 0, end: 1000 }, { at: 8000, start: 1000, end: 2000 });
  model.acks.push({ at: 0, ack: 0, windowEdge: 0 }, { at: 8100, ack: 2000, windowEdge: 9000 });
  assert.deepEqual(dataWindow(model), { fromUs: 7150, toUs: 8050 });
  assert.equal(dataWindow(plotFromSamples([])), null);

  const dir = mkdtempSync(join(tmpdir(), 'tcpts-plot-'));
  try {
    const out = join(dir, 'zoom.svg');
    const ticks = (svg: string): number[] =>
      [
        ...svg.matchAll(
          /<text class="tick" x="[\d.]+" y="(?:[\d.]+)" text-anchor="middle"[^>]*>([^<]+)</g,
        ),
      ].map((m) => Number(m[1]));
    // The fixture's data starts 50 ms after its SYN: the axis starts near there.
    assert.equal(runPlot([SACK_PCAP.pathname, '-o', out], io().io), 0);
    let svg = readFileSync(out, 'utf8');
    assert.ok(ticks(svg)[0]! >= 30, `first tick ${ticks(svg)[0]}`);
    assert.match(
      svg,
      /Showing 32\.880 ms to 403\.415 ms after the first packet, where the data is/,
    );
    // An explicit window, in seconds.
    assert.equal(
      runPlot([SACK_PCAP.pathname, '-o', out, '--from', '0', '--to', '0.1'], io().io),
      0,
    );
    svg = readFileSync(out, 'utf8');
    assert.equal(ticks(svg)[0], 0);
    assert.equal(ticks(svg)[ticks(svg).length - 1], 100);
    assert.match(svg, /Showing 0\.000 ms to 100\.000 ms after the first packet\./);
    checkXml(svg);
    for (const [args, pattern] of [
      [['--from', '-1'], /^tcpts plot: --from takes seconds after the first packet .*got '-1'/],
      [['--to', 'soon'], /^tcpts plot: --to takes seconds .*got 'soon'/],
      [['--from', '2', '--to', '1'], /^tcpts plot: --to must be after --from/],
      [['--from'], /^tcpts plot: --from needs a value: seconds after the first packet/],
    ] as Array<[string[], RegExp]>) {
      const e = io();
      assert.equal(runPlot([SACK_PCAP.pathname, '-o', out, ...args], e.io), 2, args.join(' '));
      assert.equal(e.err.length, 1);
      assert.match(e.err[0]!, pattern);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
