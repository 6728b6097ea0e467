// tcpts ladder: the diagram of a real kernel connection (the fixture tcpdump
// took of Linux talking to itself over a veth pair), checked against tcpts
// decode (tcpdump's own lines); the same connection through every link type
// the reader knows; states inferred from flags; the command's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCapture } from '../../src/cli/decode.js';
import { runDemo } from '../../src/cli/demo/index.js';
import { LADDER_USAGE, ladderFromCapture, renderLadderText } from '../../src/cli/ladder.js';
import {
  Side,
  segmentSpace,
  type LadderDiagram,
  type LadderPacket,
} from '../../src/cli/ladder-model.js';
import { main, runProgram } from '../../src/cli/main.js';
import { LinkType, PcapWriter, readPcap, type PcapRecord } from '../../src/link/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'fixtures', 'pcap');
const HANDSHAKE = join(FIXTURES, 'handshake-data-close.pcap');

function load(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

function diagramOf(bytes: Uint8Array, connection = 1): LadderDiagram {
  const result = ladderFromCapture(bytes, { connection });
  assert.ok(typeof result !== 'string', String(result));
  return result.diagram;
}

function run(argv: string[]): { status: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const status = main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { status, out, err };
}

/** The states a side is shown in, in event order, without repeats. */
function statePath(diagram: LadderDiagram, side: Side): string[] {
  const events: Array<{ time: number; order: number; state: string }> = [];
  for (const p of diagram.packets) {
    const note = p.from === side ? p.senderState : p.receiverState;
    const time = p.from === side ? p.sentAt : p.arrivedAt;
    const order = p.from === side ? p.sendOrder : p.arriveOrder;
    if (note !== null && time !== null) events.push({ time, order, state: note.state });
  }
  events.sort((a, b) => a.time - b.time || a.order - b.order);
  const path: string[] = [];
  for (const e of events) if (path[path.length - 1] !== e.state) path.push(e.state);
  return path;
}

test('tcpts ladder draws the real kernel connection of the fixture, as tcpdump numbers it', () => {
  const bytes = load('handshake-data-close.pcap');
  const result = ladderFromCapture(bytes);
  assert.ok(typeof result !== 'string');
  const d = result.diagram;
  assert.deepEqual(result.connections, [
    {
      number: 1,
      client: '10.77.0.1:40000',
      server: '10.77.0.2:8765',
      packets: 14,
      firstTime: result.connections[0]!.firstTime,
    },
  ]);
  assert.equal(result.fileError, null);
  assert.deepEqual(
    [d.client.address, d.client.port, d.server.address, d.server.port],
    ['10.77.0.1', 40000, '10.77.0.2', 8765],
  );
  assert.equal(d.packets.length, 14);
  // Flags, numbers, windows and lengths as tcpdump prints them (tcpts decode
  // is tested to print exactly what tcpdump does). tcpdump numbers relative
  // from the SYN,ACK on; the ladder also numbers the SYNs relative (0).
  const lines = decodeCapture(bytes).lines;
  assert.equal(lines.length, 14);
  d.packets.forEach((p, i) => {
    const line = lines[i]!;
    assert.equal(/Flags \[([^\]]+)\]/.exec(line)?.[1], p.tcpdumpFlags, line);
    assert.equal(Number(/win (\d+)/.exec(line)?.[1]), p.window, line);
    assert.equal(Number(/length (\d+)$/.exec(line)?.[1]), p.length, line);
    const seq = /seq (\d+)(?::(\d+))?/.exec(line);
    const ack = /ack (\d+)/.exec(line);
    if (p.flags.includes('SYN')) {
      assert.equal(Number(seq![1]), p.seq);
      assert.equal(p.relativeSeq, 0);
      if (ack !== null) assert.equal(Number(ack[1]), p.ack);
    } else {
      if (seq !== null) assert.equal(Number(seq[1]), p.relativeSeq, line);
      if (seq?.[2] !== undefined) assert.equal(Number(seq[2]), p.relativeSeq + p.length, line);
      if (ack !== null) assert.equal(Number(ack[1]), p.relativeAck, line);
    }
    assert.ok(p.label.startsWith(`${p.flags} seq ${p.relativeSeq}`), p.label);
  });
  assert.deepEqual(
    d.packets.map((p) => p.from),
    [
      'client',
      'server',
      'client',
      'client',
      'server',
      'server',
      'client',
      'server',
      'client',
      'server',
      'client',
      'client',
      'server',
      'client',
    ],
  );
  assert.match(
    d.packets[0]!.options,
    /^mss 1460,sackOK,TS val \d+ ecr 0,wscale 10$/,
    'NOPs left out',
  );
  // States inferred from the flags, Linux's close: the client's FIN is answered by FIN,ACK.
  assert.equal(d.statesInferred, true);
  assert.deepEqual(d.initialStates, { client: 'CLOSED', server: 'LISTEN' });
  assert.deepEqual(statePath(d, Side.Client), [
    'SYN-SENT',
    'ESTABLISHED',
    'FIN-WAIT-1',
    'TIME-WAIT',
  ]);
  assert.deepEqual(statePath(d, Side.Server), [
    'SYN-RECEIVED',
    'ESTABLISHED',
    'CLOSE-WAIT',
    'LAST-ACK',
    'CLOSED',
  ]);
});

test('the far end of each arrow is estimated without breaking cause and effect', () => {
  const d = diagramOf(load('handshake-data-close.pcap'));
  assert.ok(d.packets.every((p) => p.estimated));
  // Captured at the client: its packets leave at the capture time, the server's arrive then.
  const file = readPcap(load('handshake-data-close.pcap'));
  assert.ok(typeof file !== 'string');
  d.packets.forEach((p, i) => {
    const t = file.records[i]!.time - d.start;
    assert.equal(p.from === Side.Client ? p.sentAt : p.arrivedAt, t);
    assert.ok(p.sentAt! < p.arrivedAt!, 'an arrow goes forward in time');
  });
  // Every answer leaves after the segment it acknowledges has arrived.
  for (const s of d.packets) {
    const space = segmentSpace(flagBits(s), s.length);
    if (space === 0) continue;
    const end = (s.seq + space) >>> 0;
    const answer = d.packets.find(
      (r) =>
        r.from !== s.from &&
        r.flags.includes('ACK') &&
        ((r.ack - end) | 0) >= 0 &&
        r.number > s.number,
    );
    if (answer !== undefined)
      assert.ok(answer.sentAt! >= s.arrivedAt!, `${answer.label} after ${s.label}`);
  }
});

function flagBits(p: LadderPacket): number {
  const bits: Record<string, number> = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 };
  return p.flags.split(',').reduce((a, f) => a | (bits[f] ?? 0), 0);
}

test('the terminal picture of the fixture: titles, one labelled row per packet, inferred states said', () => {
  const d = diagramOf(load('handshake-data-close.pcap'));
  const lines = renderLadderText(d);
  assert.match(lines[0]!, /^ +ms +client 10\.77\.0\.1:40000 +server 10\.77\.0\.2:8765$/);
  assert.match(lines[1]!, /CLOSED \| +\| LISTEN$/);
  for (const p of d.packets) {
    assert.equal(lines.filter((l) => l.includes(`  ${p.label}`)).length, 1, p.label);
  }
  // Arrow heads: one per packet, at the receiver's line.
  const heads = lines.filter((l) => /->\||\|<-/.test(l)).length;
  assert.equal(heads, 14);
  assert.ok(
    lines.some((l) => /:\s+:\s+\(50\.\d{3} ms later\)$/.test(l)),
    'the pause before the FIN',
  );
  assert.match(lines[lines.length - 1]!, /states inferred from the flags seen/);
  assert.ok(lines.some((l) => /TIME-WAIT \|<-/.test(l)));
});

/** Re-wraps a raw-IP capture in another link type, record by record. */
function rewrap(
  bytes: Uint8Array,
  linkType: LinkType,
  wrap: (ip: Uint8Array) => Uint8Array,
): Uint8Array {
  const file = readPcap(bytes);
  assert.ok(typeof file !== 'string');
  const writer = new PcapWriter({ linkType });
  for (const r of file.records) writer.write(r.time, wrap(r.data));
  return writer.bytes();
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test('the same connection through Ethernet (with a VLAN tag), raw IP, IPv4, Linux cooked v1 and v2', () => {
  const demo = runDemo({ clock: () => 0 });
  const raw = demo.clientPcap;
  const v4 = (ip: Uint8Array): number => (ip[0]! >>> 4 === 4 ? 0x08 : 0x86);
  const captures: Array<[string, Uint8Array]> = [
    ['raw', raw],
    ['ipv4', rewrap(raw, LinkType.Ipv4, (ip) => ip)],
    [
      'ethernet+vlan',
      rewrap(raw, LinkType.Ethernet, (ip) =>
        concat(
          Uint8Array.of(
            2,
            0,
            0,
            0,
            0,
            2,
            2,
            0,
            0,
            0,
            0,
            1,
            0x81,
            0x00,
            0,
            5,
            v4(ip),
            ip[0]! >>> 4 === 4 ? 0x00 : 0xdd,
          ),
          ip,
        ),
      ),
    ],
    [
      'sll',
      rewrap(raw, LinkType.LinuxSll, (ip) =>
        concat(Uint8Array.of(0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, v4(ip), 0x00), ip),
      ),
    ],
    [
      'sll2',
      rewrap(raw, LinkType.LinuxSll2, (ip) =>
        concat(
          Uint8Array.of(v4(ip), 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0),
          ip,
        ),
      ),
    ],
  ];
  const expected = diagramOf(raw).packets.map((p) => [
    p.from,
    p.flags,
    p.seq,
    p.ack,
    p.length,
    p.label,
  ]);
  assert.equal(expected.length, 11);
  for (const [name, bytes] of captures) {
    const got = diagramOf(bytes).packets.map((p) => [
      p.from,
      p.flags,
      p.seq,
      p.ack,
      p.length,
      p.label,
    ]);
    assert.deepEqual(got, expected, name);
  }
});

test("the demo's own capture, read back as a file: inferred states agree with the recorded ones", () => {
  for (const scenario of ['handshake', 'half-close', 'simultaneous-close', 'reset'] as const) {
    const demo = runDemo({ scenario, clock: () => 0 });
    const d = diagramOf(demo.clientPcap);
    assert.equal(d.packets.length, demo.diagram.packets.length, scenario);
    for (const side of [Side.Client, Side.Server]) {
      assert.deepEqual(statePath(d, side), statePath(demo.diagram, side), `${scenario}: ${side}`);
    }
    // One vantage point: the client's packets leave when captured, and the
    // estimate of the one-way delay is half the quickest round trip: 10 ms.
    const first = d.packets[0]!;
    assert.equal(first.arrivedAt! - first.sentAt!, 10_000, scenario);
  }
});

test('a capture cut short by its snapshot length keeps the lengths; one caught mid-connection starts ESTABLISHED', () => {
  const file = readPcap(load('handshake-data-close.pcap'));
  assert.ok(typeof file !== 'string');
  const write = (records: PcapRecord[], snaplen: number): Uint8Array => {
    const writer = new PcapWriter({ linkType: LinkType.Ethernet, snaplen });
    for (const r of records) writer.write(r.time, r.data.subarray(0, snaplen), r.data.length);
    return writer.bytes();
  };
  const full = diagramOf(load('handshake-data-close.pcap'));
  const cut = diagramOf(write(file.records, 80));
  assert.deepEqual(
    cut.packets.map((p) => [p.flags, p.relativeSeq, p.relativeAck, p.length]),
    full.packets.map((p) => [p.flags, p.relativeSeq, p.relativeAck, p.length]),
  );
  const middle = diagramOf(write(file.records.slice(4), 262144));
  assert.deepEqual(middle.initialStates, { client: 'ESTABLISHED', server: 'ESTABLISHED' });
  assert.equal(middle.packets[0]!.relativeSeq, 0, 'numbered from the first sequence number seen');
  assert.equal(middle.client.port, 40000, 'the higher port is taken for the client');
  assert.deepEqual(statePath(middle, Side.Client).slice(-2), ['FIN-WAIT-1', 'TIME-WAIT']);
});

test('several connections: --list, --connection, a RST refusing a SYN', () => {
  const bytes = load('tcp-ipv6-rst.pcap');
  const result = ladderFromCapture(bytes);
  assert.ok(typeof result !== 'string');
  assert.deepEqual(
    result.connections.map((c) => [c.client, c.server, c.packets]),
    [
      ['[fd77:7::1]:40010', '[fd77:7::2]:8766', 2],
      ['[fd77:7::1]:40011', '[fd77:7::2]:8765', 6],
    ],
  );
  const refused = result.diagram;
  assert.deepEqual(
    refused.initialStates,
    { client: 'CLOSED', server: 'CLOSED' },
    'nobody listens on 8766',
  );
  assert.deepEqual(
    refused.packets.map((p) => p.flags),
    ['SYN', 'RST,ACK'],
  );
  assert.equal(refused.packets[1]!.receiverState?.state, 'CLOSED');
  const aborted = diagramOf(bytes, 2);
  assert.equal(aborted.packets.at(-1)!.flags, 'RST,ACK');
  assert.deepEqual(statePath(aborted, Side.Client).slice(-1), ['CLOSED']);
  const list = run(['ladder', '--list', join(FIXTURES, 'tcp-ipv6-rst.pcap')]);
  assert.equal(list.status, 0);
  assert.deepEqual(list.out, [
    '  1  [fd77:7::1]:40010 > [fd77:7::2]:8766  2 packet(s)',
    '  2  [fd77:7::1]:40011 > [fd77:7::2]:8765  6 packet(s)',
  ]);
  const second = run(['ladder', '-c', '2', join(FIXTURES, 'tcp-ipv6-rst.pcap')]);
  assert.equal(second.status, 0);
  assert.match(
    second.out[0]!,
    /^Connection 2 of 2 in .*: \[fd77:7::1\]:40011 > \[fd77:7::2\]:8765, 6 packet\(s\)$/,
  );
  assert.match(second.out.join('\n'), /client \[fd77:7::1\]:40011/);
});

test('tcpts ladder: --help, --json, --svg, and one-line errors', () => {
  const help = run(['ladder', '--help']);
  assert.equal(help.status, 0);
  assert.equal(help.out.join('\n'), LADDER_USAGE);
  const ok = run(['ladder', HANDSHAKE]);
  assert.equal(ok.status, 0);
  assert.equal(ok.err.length, 0);
  assert.match(
    ok.out[0]!,
    /^Connection 1 of 1 in .*handshake-data-close\.pcap: 10\.77\.0\.1:40000 > 10\.77\.0\.2:8765, 14 packet\(s\)$/,
  );
  const json = run(['ladder', '--json', HANDSHAKE]);
  assert.equal(json.status, 0);
  const parsed = JSON.parse(json.out[0]!) as { chosen: number; diagram: LadderDiagram };
  assert.equal(parsed.chosen, 1);
  assert.equal(parsed.diagram.packets.length, 14);
  assert.equal(parsed.diagram.statesInferred, true);
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-ladder-'));
  try {
    const svg = join(dir, 'l.svg');
    assert.equal(run(['ladder', '--svg', svg, HANDSHAKE]).status, 0);
    const text = readFileSync(svg, 'utf8');
    assert.equal(text.match(/<line class="arrow"/g)?.length, 14);
    // A damaged tail: the packets before it are drawn, the damage reported, exit 1.
    const damaged = join(dir, 'damaged.pcap');
    const whole = load('handshake-data-close.pcap');
    writeFileSync(damaged, whole.subarray(0, whole.length - 20));
    const d = run(['ladder', damaged]);
    assert.equal(d.status, 1);
    assert.deepEqual(d.err.length, 1);
    assert.match(
      d.err[0]!,
      /truncated capture: the file ends inside a packet record \(pcap-truncated-record\) after 13 packet\(s\)$/,
    );
    assert.match(d.out[0]!, /13 packet\(s\)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cases: Array<[string[], number, RegExp]> = [
    [['ladder'], 2, /^tcpts ladder: expected one FILE, got 0 \(see 'tcpts ladder --help'\)$/],
    [['ladder', HANDSHAKE, HANDSHAKE], 2, /expected one FILE, got 2/],
    [['ladder', '--frob', HANDSHAKE], 2, /^tcpts ladder: unknown option '--frob'/],
    [
      ['ladder', '-c', 'two', HANDSHAKE],
      2,
      /^tcpts ladder: --connection takes a positive whole number, got 'two'/,
    ],
    [['ladder', '-c', '0', HANDSHAKE], 2, /--connection takes a positive whole number/],
    [
      ['ladder', '-c', '3', HANDSHAKE],
      1,
      /^tcpts ladder: .*: no connection 3: the capture holds 1 TCP connection\(s\)$/,
    ],
    [
      ['ladder', join(FIXTURES, 'nope.pcap')],
      1,
      /^tcpts ladder: cannot read .*nope\.pcap: no such file or directory$/,
    ],
    [
      ['ladder', join(FIXTURES, 'udp-raw-tun.pcap')],
      1,
      /^tcpts ladder: .*udp-raw-tun\.pcap: no TCP packets in this capture$/,
    ],
    [['ladder', join(ROOT, 'package.json')], 1, /not a pcap or pcapng file/],
  ];
  for (const [argv, status, pattern] of cases) {
    const r = run(argv);
    assert.equal(r.status, status, argv.join(' '));
    assert.equal(r.err.length, 1, argv.join(' '));
    assert.match(r.err[0]!, pattern, argv.join(' '));
    assert.equal(r.out.length, 0, argv.join(' '));
  }
});

test('tcpts --help lists demo, ladder and packetdrill; runProgram awaits an asynchronous command', async () => {
  const help = run(['--help']).out.join('\n');
  assert.match(help, /\n {2}demo +TCP at work on a simulated network/);
  assert.match(help, /\n {2}ladder +draw a TCP connection of a pcap capture/);
  assert.match(help, /\n {2}packetdrill\n +run packetdrill scripts/);
  const out: string[] = [];
  const status = await runProgram(['packetdrill', '--help'], {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
  });
  assert.equal(status, 0);
  assert.match(out.join('\n'), /^Usage: tcpts packetdrill/);
  assert.equal(
    await runProgram(['ladder', '--help'], { out: () => undefined, err: () => undefined }),
    0,
  );
  assert.throws(
    () => main(['packetdrill', '--help'], { out: () => undefined, err: () => undefined }),
    /tcpts packetdrill runs asynchronously: call runProgram\(\) instead of main\(\)/,
  );
});

test('a SYN,ACK with a new ISN answers a new SYN: it is no retransmission; a SYN sent again is', () => {
  const demo = runDemo({ scenario: 'old-duplicate-syn', clock: () => 0 });
  for (const d of [demo.diagram, diagramOf(demo.clientPcap)]) {
    const synAcks = d.packets.filter((p) => p.flags === 'SYN,ACK');
    assert.equal(synAcks.length, 2);
    assert.notEqual(synAcks[0]!.seq, synAcks[1]!.seq);
    assert.deepEqual(
      d.packets.filter((p) => p.retransmission).map((p) => p.number),
      [],
    );
  }
  assert.ok(!renderLadderText(demo.diagram).join('\n').includes('(retransmission)'));
  assert.equal(demo.summary.retransmissions, 0);
  // Under loss, a SYN sent again with the same ISN is a retransmission, as
  // the stacks' own counter says.
  let seen = false;
  for (let seed = 1; seed < 40 && !seen; seed++) {
    const lossy = runDemo({ scenario: 'handshake', loss: 0.4, seed, clock: () => 0 });
    const syns = lossy.diagram.packets.filter((p) => p.flags === 'SYN');
    if (syns.length < 2) continue;
    seen = true;
    assert.equal(syns[0]!.retransmission, false);
    assert.ok(syns.slice(1).every((p) => p.retransmission && p.seq === syns[0]!.seq));
  }
  assert.ok(seen, 'some seed loses the first SYN');
});

test('tcpts ladder --width fits the picture, shortening the labels first', () => {
  const wide = run(['ladder', HANDSHAKE]);
  assert.equal(wide.status, 0);
  const widest = Math.max(
    ...wide.out
      .join('\n')
      .split('\n')
      .map((l) => l.length),
  );
  assert.ok(widest > 100, `widest ${widest}`);
  const narrow = run(['ladder', HANDSHAKE, '--width', '90']);
  assert.equal(narrow.status, 0);
  const lines = narrow.out.join('\n').split('\n');
  assert.deepEqual(
    // The first line names the file: a long path is the user's.
    lines.slice(1).filter((l) => l.length > 90),
    [],
  );
  // Same rows, same arrows: only the labels lost their options.
  assert.equal(lines.length, wide.out.join('\n').split('\n').length);
  assert.ok(lines.some((l) => /\|\s+SYN seq 0 win \d+ <…>$/.test(l)));
  assert.match(
    run(['ladder', HANDSHAKE, '--width', '20']).err[0]!,
    /^tcpts ladder: --width takes columns/,
  );
});
