// decode, ladder and plot say the same thing about the same unreadable or
// damaged file: one line, the file's name, what is wrong and its code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '../../src/cli/main.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pcap');

async function run(argv: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runProgram(argv, {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  });
  return { status, out, err };
}

test('ladder and plot report a bad or damaged file as decode does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-errors-'));
  try {
    const tcp = readFileSync(join(FIXTURES, 'handshake-data-close.pcap'));
    const files: Array<[string, Uint8Array, string]> = [
      [
        'text.pcap',
        new TextEncoder().encode('not a capture at all, just text'),
        'not a pcap or pcapng file: unknown magic number (pcap-bad-magic)',
      ],
      [
        'short.pcap',
        tcp.subarray(0, 10),
        'not a capture file: shorter than the 24-byte pcap file header (pcap-truncated-header)',
      ],
      [
        // The file header and half the first record: damage before any TCP packet.
        'cut.pcap',
        tcp.subarray(0, 24 + 30),
        'truncated capture: the file ends inside a packet record (pcap-truncated-record)',
      ],
    ];
    for (const [name, bytes, why] of files) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const decode = await run(['decode', path]);
      assert.equal(decode.status, 1);
      assert.equal(decode.err.length, 1);
      assert.ok(decode.err[0]!.startsWith(`tcpts decode: ${path}: ${why}`), decode.err[0]);
      const ladder = await run(['ladder', path]);
      const plot = await run(['plot', path, '-o', join(dir, 'out.svg')]);
      for (const [command, r] of [
        ['ladder', ladder],
        ['plot', plot],
      ] as const) {
        assert.equal(r.status, 1, `${command} ${name}`);
        assert.equal(r.err.length, 1, `${command} ${name}`);
        assert.ok(r.err[0]!.startsWith(`tcpts ${command}: ${path}: ${why}`), r.err[0]);
      }
      assert.equal(
        plot.err[0]!.replace('tcpts plot', 'tcpts ladder'),
        ladder.err[0],
        `plot and ladder word ${name} alike`,
      );
    }
    assert.match(
      (await run(['plot', join(dir, 'cut.pcap')])).err[0]!,
      /, and no TCP packets before the damage$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged tail: plot draws what came before and names the damage as ladder does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-errors-'));
  try {
    const tcp = readFileSync(join(FIXTURES, 'handshake-data-close.pcap'));
    const path = join(dir, 'tail.pcap');
    writeFileSync(path, tcp.subarray(0, tcp.length - 5));
    const ladder = await run(['ladder', path]);
    const plot = await run(['plot', path, '-o', join(dir, 'tail.svg')]);
    assert.equal(ladder.status, 1);
    assert.equal(plot.status, 1);
    assert.match(
      plot.err[0]!,
      /^tcpts plot: .*tail\.pcap: truncated capture: the file ends inside a packet record \(pcap-truncated-record\) after \d+ packet\(s\)$/,
    );
    assert.equal(plot.err[0]!.replace('tcpts plot', 'tcpts ladder'), ladder.err[0]);
    assert.match(plot.out.at(-1)!, /wrote .*tail\.svg$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
