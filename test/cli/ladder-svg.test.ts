// The ladder as an SVG picture: a well-formed document with one arrow and
// one label per packet, rendered to PNG by rsvg-convert (Debian package
// librsvg2-bin, installed by scripts/ensure-tools.sh) and then looked at:
// the PNG is decoded here and its pixels checked for the two host lines and
// the arrows in their colours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { runDemo } from '../../src/cli/demo/index.js';
import { renderLadderSvg, xmlEscape } from '../../src/cli/svg.js';

/**
 * Checks that `text` is well-formed XML in the subset an SVG writer uses:
 * a declaration, elements with quoted attributes, text without raw `<` or
 * bare `&`, every element closed in order. Returns the element names in
 * document order.
 */
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
      assert.doesNotMatch(textNode, />/, 'no raw > in text');
      continue;
    }
    if (close === '/') {
      assert.equal(stack.pop(), name, `</${name}> closes the open element`);
    } else {
      names.push(name!);
      if (selfClose !== '/') stack.push(name!);
    }
  }
  assert.equal(
    consumed,
    body.length,
    `the whole document tokenises (stopped at ${body.slice(consumed, consumed + 60)})`,
  );
  assert.deepEqual(stack, [], 'every element is closed');
  assert.equal(names[0], 'svg');
  return names;
}

/** A PNG decoded to RGBA: enough of the format for what rsvg-convert writes (8-bit RGB or RGBA, no interlace). */
function decodePng(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (at < png.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      assert.equal(data[8], 8, 'bit depth 8');
      assert.ok(data[9] === 2 || data[9] === 6, 'RGB or RGBA');
      assert.equal(data[12], 0, 'not interlaced');
      channels = data[9] === 2 ? 3 : 4;
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (line[x]! + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = pixels[i * channels]!;
    rgba[i * 4 + 1] = pixels[i * channels + 1]!;
    rgba[i * 4 + 2] = pixels[i * channels + 2]!;
    rgba[i * 4 + 3] = channels === 4 ? pixels[i * channels + 3]! : 255;
  }
  return { width, height, rgba };
}

function near(
  rgba: Uint8Array,
  i: number,
  color: [number, number, number],
  tolerance: number,
): boolean {
  return (
    Math.abs(rgba[i * 4]! - color[0]) <= tolerance &&
    Math.abs(rgba[i * 4 + 1]! - color[1]) <= tolerance &&
    Math.abs(rgba[i * 4 + 2]! - color[2]) <= tolerance
  );
}

test('the SVG of the handshake demo: well-formed, one arrow and one label per packet, states and hosts', () => {
  const result = runDemo({ clock: () => 0 });
  const svg = renderLadderSvg(result.diagram, {
    title: 'tcpts demo: handshake',
    caption: result.caption,
  });
  const names = checkXml(svg);
  const packets = result.diagram.packets.length;
  assert.equal(packets, 11);
  assert.equal(svg.match(/<line class="arrow"/g)?.length, packets);
  assert.equal(svg.match(/<text class="label"/g)?.length, packets);
  assert.equal(names.filter((n) => n === 'marker').length, 2, 'an arrowhead per direction');
  assert.match(svg, /<text class="host"[^>]*>client 10\.0\.0\.1:\d+<\/text>/);
  assert.match(svg, /<text class="host"[^>]*>server 10\.0\.0\.2:80<\/text>/);
  // Options in angle brackets are escaped in the labels.
  assert.ok(svg.includes(xmlEscape(result.diagram.packets[0]!.label)));
  assert.match(svg, /SYN seq 0 win 64240 &lt;mss 1460,sackOK,TS val \d+ ecr 0,wscale 10&gt;/);
  const states = [...svg.matchAll(/<text class="state"[^>]*>([A-Z0-9-]+)<\/text>/g)].map(
    (m) => m[1],
  );
  for (const s of [
    'CLOSED',
    'LISTEN',
    'SYN-SENT',
    'SYN-RECEIVED',
    'ESTABLISHED',
    'FIN-WAIT-1',
    'CLOSE-WAIT',
    'LAST-ACK',
    'FIN-WAIT-2',
    'TIME-WAIT',
  ]) {
    assert.ok(states.includes(s), `state ${s} is shown`);
  }
  // Arrows slant down from sender to receiver by the one-way delay.
  for (const m of svg.matchAll(
    /<line class="arrow" data-packet="\d+" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/g,
  )) {
    assert.ok(Number(m[4]) > Number(m[2]), 'downwards');
    assert.notEqual(m[1], m[3]);
  }
  assert.equal(svg.match(/<text class="caption"/g)?.length, result.caption.length);
});

test('lost packets are crossed and old duplicates dashed in the SVG', () => {
  const lossy = runDemo({
    scenario: 'transfer',
    loss: 0.05,
    bytes: 60_000,
    seed: 7,
    clock: () => 0,
  });
  const lost = lossy.diagram.packets.filter((p) => p.lost).length;
  assert.ok(lost > 0);
  const svg = renderLadderSvg(lossy.diagram, {});
  checkXml(svg);
  assert.equal(svg.match(/<path class="lost"/g)?.length, lost);
  const old = runDemo({ scenario: 'old-duplicate-syn', clock: () => 0 });
  const svg2 = renderLadderSvg(old.diagram, {});
  checkXml(svg2);
  assert.equal(
    svg2.match(/stroke-dasharray="6 4"/g)?.length,
    1,
    'the old SYN, whose sending nobody saw',
  );
  // A long run is elided like the terminal picture.
  const long = runDemo({ scenario: 'transfer', bytes: 300_000, clock: () => 0 });
  const elided = renderLadderSvg(long.diagram, { head: 30, tail: 15 });
  checkXml(elided);
  assert.equal(elided.match(/<line class="arrow"/g)?.length, 45);
  assert.match(elided, /<text class="gap"[^>]*>\.\.\. \d+ packets not shown/);
});

test('the SVG renders to a PNG that shows two host lines and arrows in both colours', (t) => {
  const probe = spawnSync('rsvg-convert', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    t.skip(
      'rsvg-convert is not installed (Debian package librsvg2-bin; scripts/ensure-tools.sh installs it as root)',
    );
    return;
  }
  const result = runDemo({ clock: () => 0 });
  const svg = renderLadderSvg(result.diagram, {
    title: 'tcpts demo: handshake',
    caption: result.caption,
  });
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-svg-'));
  try {
    const svgPath = join(dir, 'ladder.svg');
    const pngPath = join(dir, 'ladder.png');
    writeFileSync(svgPath, svg);
    const render = spawnSync('rsvg-convert', ['-o', pngPath, svgPath], { encoding: 'utf8' });
    assert.equal(render.status, 0, render.stderr);
    const png = decodePng(new Uint8Array(readFileSync(pngPath)));
    const declared = /<svg [^>]*width="(\d+)" height="([\d.]+)"/.exec(svg)!;
    assert.equal(png.width, Number(declared[1]));
    assert.equal(png.height, Math.ceil(Number(declared[2])));
    const count = (color: [number, number, number], tolerance: number): number => {
      let n = 0;
      for (let i = 0; i < png.width * png.height; i++) if (near(png.rgba, i, color, tolerance)) n++;
      return n;
    };
    const total = png.width * png.height;
    const white = count([255, 255, 255], 8);
    assert.ok(white > total * 0.7, 'mostly white paper');
    assert.ok(white < total * 0.99, 'with something drawn on it');
    // Arrows client -> server in blue, server -> client in rust: both present in quantity.
    assert.ok(count([0x1f, 0x5f, 0xa8], 40) > 1500, 'blue arrows and labels');
    assert.ok(count([0xb0, 0x48, 0x1c], 40) > 1000, 'rust arrows and labels');
    // The two host lines: dark columns at x = 200 and x = 720 (the lane is 520 wide), down most of the picture.
    for (const x of [200, 720]) {
      let dark = 0;
      for (let y = 0; y < png.height; y++) {
        const i = y * png.width + x;
        if (png.rgba[i * 4]! < 120 && png.rgba[i * 4 + 1]! < 120 && png.rgba[i * 4 + 2]! < 120)
          dark++;
      }
      assert.ok(
        dark > png.height * 0.5,
        `a host line at x=${x} (${dark} dark pixels of ${png.height})`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Each text element's estimated box: monospace advance 0.62 of the font size, height the font size above the baseline. */
function textBoxes(
  svg: string,
): Array<{ text: string; x1: number; x2: number; y1: number; y2: number }> {
  const fontSize = Number(/<svg [^>]*font-size="([\d.]+)"/.exec(svg)![1]);
  const boxes: Array<{ text: string; x1: number; x2: number; y1: number; y2: number }> = [];
  for (const m of svg.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)) {
    const attrs = m[1]!;
    const attr = (name: string): string | undefined =>
      new RegExp(`(?:^| )${name}="([^"]*)"`).exec(attrs)?.[1];
    assert.equal(attr('transform'), undefined, 'no rotated text');
    const text = m[2]!.replace(/&(amp|lt|gt|quot);/g, '_');
    const size = Number(attr('font-size') ?? fontSize);
    const width = text.length * size * 0.62;
    const x = Number(attr('x'));
    const y = Number(attr('y')) + Number(attr('dy') ?? 0);
    const anchor = attr('text-anchor') ?? 'start';
    const x1 = anchor === 'middle' ? x - width / 2 : anchor === 'end' ? x - width : x;
    boxes.push({ text, x1, x2: x1 + width, y1: y - size, y2: y + size * 0.25 });
  }
  return boxes;
}

test('no two texts of the SVG ladder overlap, dense transfer with losses or handshake', () => {
  for (const options of [
    { scenario: 'transfer', loss: 0.05 },
    { scenario: 'handshake' },
    { scenario: 'old-duplicate-syn' },
  ] as const) {
    const result = runDemo({ ...options, clock: () => 0 });
    const svg = renderLadderSvg(result.diagram, {
      head: 30,
      tail: 15,
      caption: result.caption,
      title: 't',
    });
    const boxes = textBoxes(svg);
    assert.ok(boxes.length > 20);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        const overlap = a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
        assert.ok(!overlap, `${options.scenario}: '${a.text}' overlaps '${b.text}'`);
      }
    }
  }
});

test('a long transfer labels the packets that matter and counts the others', () => {
  const result = runDemo({ scenario: 'transfer', loss: 0.05, clock: () => 0 });
  const svg = renderLadderSvg(result.diagram, { head: 30, tail: 15 });
  const labelled = [...svg.matchAll(/<text class="label" data-packet="(\d+)"/g)].map((m) =>
    Number(m[1]),
  );
  const byNumber = new Map(result.diagram.packets.map((p) => [p.number, p]));
  // Every loss, retransmission, SYN and FIN in view is labelled.
  const drawn = [...svg.matchAll(/<line class="arrow" data-packet="(\d+)"/g)].map((m) =>
    byNumber.get(Number(m[1]))!,
  );
  for (const p of drawn) {
    if (p.lost || p.retransmission || /SYN|FIN|RST/.test(p.flags))
      assert.ok(labelled.includes(p.number), `packet ${p.number} ${p.label}`);
  }
  assert.ok(labelled.length < drawn.length / 2, `${labelled.length} of ${drawn.length}`);
  const counts = [...svg.matchAll(/<text class="label-count"[^>]*>… ([^<]*) …</g)].map(
    (m) => m[1]!,
  );
  assert.ok(
    counts.some((c) => /^\d+ data segments?/.test(c)),
    counts.join(' | '),
  );
  // The counts and the labels account for every packet drawn.
  const counted = counts
    .flatMap((c) => [...c.matchAll(/(\d+) /g)].map((m) => Number(m[1])))
    .reduce((a, b) => a + b, 0);
  assert.equal(counted + labelled.length, drawn.length);
});
