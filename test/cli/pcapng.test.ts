// decode, ladder and plot on pcapng files Wireshark's own tools write from
// the fixtures at test time (tshark -F pcapng; editcap for nanosecond
// timestamps; mergecap for a file of two interfaces of different link
// types). decode must print what tcpdump -n -r prints on the same pcapng
// file, and what it prints for the classic original.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { decodeCapture } from '../../src/cli/decode.js';
import { runProgram } from '../../src/cli/main.js';
import { readPcap, type PcapFile } from '../../src/link/index.js';
import { missingTool, runTool } from '../helpers/tools.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pcap');
const NAMES = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.pcap'))
  .sort();
const DIR = mkdtempSync(join(tmpdir(), 'tcpts-pcapng-'));
after(() => rmSync(DIR, { recursive: true, force: true }));

/** Why Wireshark's command-line tools cannot be used here, or false. */
function missingWireshark(): string | false {
  const tshark = missingTool('tshark');
  if (tshark !== false) return tshark;
  for (const tool of ['editcap', 'mergecap']) {
    const probe = spawnSync(tool, ['--version'], { stdio: 'ignore' });
    if (probe.error !== undefined || probe.status !== 0) {
      return `${tool} is not installed (it comes with tshark's Debian package wireshark-common)`;
    }
  }
  return false;
}
const SKIP_WIRESHARK = missingWireshark();
const SKIP_BOTH = SKIP_WIRESHARK === false ? missingTool('tcpdump') : SKIP_WIRESHARK;

function toPcapng(name: string): string {
  const out = join(DIR, name.replace(/\.pcap$/, '.pcapng'));
  runTool('tshark', ['-r', join(FIXTURES, name), '-F', 'pcapng', '-w', out]);
  return out;
}

function decodeFile(path: string): string[] {
  const result = decodeCapture(readFileSync(path));
  assert.equal(result.error, null, `${path}: ${result.error}`);
  return result.lines;
}

function tcpdumpLines(path: string): string[] {
  return runTool('tcpdump', ['-n', '-r', path])
    .stdout.split('\n')
    .filter((l) => l !== '');
}

for (const name of NAMES) {
  test(
    `${name} as pcapng (tshark -F pcapng): decode prints what tcpdump -n -r prints`,
    {
      skip: SKIP_BOTH,
    },
    () => {
      const pcapng = toPcapng(name);
      assert.equal(readFileSync(pcapng).readUInt32BE(0), 0x0a0d0d0a, 'tshark wrote pcapng');
      const lines = decodeFile(pcapng);
      assert.ok(lines.length > 0);
      assert.deepEqual(lines, tcpdumpLines(pcapng));
      assert.deepEqual(lines, decodeFile(join(FIXTURES, name)));
    },
  );
}

test(
  'nanosecond timestamps (if_tsresol 9): decode prints what tcpdump prints',
  {
    skip: SKIP_BOTH,
  },
  () => {
    const nanos = join(DIR, 'sack-ns.pcap');
    runTool('editcap', ['-F', 'nsecpcap', join(FIXTURES, 'tcp-sack.pcap'), nanos]);
    const pcapng = join(DIR, 'sack-ns.pcapng');
    runTool('editcap', ['-F', 'pcapng', nanos, pcapng]);
    const file = readPcap(readFileSync(pcapng)) as PcapFile;
    assert.equal(file.header.nanosecond, true, 'editcap kept nanoseconds (if_tsresol 9)');
    assert.deepEqual(decodeFile(pcapng), tcpdumpLines(pcapng));
  },
);

test(
  'two interfaces of different link types in one file (mergecap): every packet, in time order',
  {
    skip: SKIP_WIRESHARK,
  },
  () => {
    const merged = join(DIR, 'merged.pcapng');
    const parts = ['udp-any-sll.pcap', 'tcp-sack.pcap', 'udp-raw-tun.pcap'];
    runTool('mergecap', ['-F', 'pcapng', '-w', merged, ...parts.map((p) => join(FIXTURES, p))]);
    const file = readPcap(readFileSync(merged)) as PcapFile;
    assert.equal(file.error, null);
    assert.equal(new Set(file.records.map((r) => r.linkType)).size, 3);
    for (let i = 1; i < file.records.length; i++) {
      assert.ok(file.records[i]!.time >= file.records[i - 1]!.time, 'mergecap sorts by time');
    }
    // tcpdump refuses such a file (libpcap wants one link type); tcpts reads
    // every packet and decodes it as it decodes the originals.
    const lines = decodeFile(merged);
    const originals = parts.flatMap((p) => decodeFile(join(FIXTURES, p)));
    assert.deepEqual([...lines].sort(), [...originals].sort());
  },
);

test('ladder and plot draw a connection of a pcapng file', { skip: SKIP_WIRESHARK }, async () => {
  const pcapng = toPcapng('tcp-sack.pcap');
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  assert.equal(await runProgram(['ladder', pcapng], io), 0, err.join('\n'));
  assert.ok(
    out.some((l) => l.includes('SYN')),
    'ladder drew the handshake',
  );
  const svg = join(DIR, 'sack.svg');
  assert.equal(await runProgram(['plot', pcapng, '-o', svg], io), 0, err.join('\n'));
  assert.match(readFileSync(svg, 'utf8'), /<svg [^>]*>[^]*retransmitted/);
  assert.deepEqual(err, []);
});
