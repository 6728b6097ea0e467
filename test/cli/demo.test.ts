// tcpts demo: for every scenario, the ladder is checked against the packets
// in the captures taken at both ends of the link (read back with readPcap and
// wire/'s strict parsers, checksums included), and the states it shows
// against the connections' own records of transitions. Then --seed, --json,
// --pcap, the command's errors and the progress bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEMO_USAGE,
  SCENARIOS,
  demoJson,
  demoLines,
  runDemo,
  runDemoCommand,
  type DemoResult,
  type ScenarioName,
} from '../../src/cli/demo/index.js';
import { Side, type LadderPacket, type TransitionRecord } from '../../src/cli/ladder-model.js';
import { ProgressBar, progressBarFor } from '../../src/cli/progress.js';
import { main } from '../../src/cli/main.js';
import { LinkType, readPcap } from '../../src/link/index.js';
import {
  IpProtocol,
  formatIpv4Address,
  formatIpv6Address,
  formatTcpFlags,
  parseIpv4,
  parseIpv6,
  parseTcp,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
} from '../../src/wire/index.js';

/** One TCP segment of a capture, parsed strictly. */
interface Parsed {
  time: number;
  src: string;
  flags: number;
  seq: number;
  ack: number;
  length: number;
  window: number;
}

/** Every record of a raw-IP capture through readPcap, parseIpv4/parseIpv6 and parseTcp (checksums verified). */
function parseCapture(bytes: Uint8Array): Parsed[] {
  const file = readPcap(bytes);
  assert.ok(typeof file !== 'string', `readable capture: ${String(file)}`);
  assert.equal(file.error, null);
  assert.equal(file.header.linkType, LinkType.Raw);
  return file.records.map((r) => {
    if (r.data[0]! >>> 4 === 4) {
      const ip = parseIpv4(r.data);
      assert.ok(typeof ip !== 'string', `IPv4 parses: ${String(ip)}`);
      assert.equal(ip.protocol, IpProtocol.Tcp);
      const tcp = parseTcp(
        ip.payload,
        pseudoHeaderSumV4(ip.src, ip.dst, IpProtocol.Tcp, ip.payload.length),
      );
      assert.ok(typeof tcp !== 'string', `TCP parses with a good checksum: ${String(tcp)}`);
      return {
        time: r.time,
        src: formatIpv4Address(ip.src),
        flags: tcp.flags,
        seq: tcp.seq,
        ack: tcp.ack,
        length: tcp.payload.length,
        window: tcp.window,
      };
    }
    const ip = parseIpv6(r.data);
    assert.ok(typeof ip !== 'string', `IPv6 parses: ${String(ip)}`);
    const tcp = parseTcp(
      ip.payload,
      pseudoHeaderSumV6(ip.src, ip.dst, IpProtocol.Tcp, ip.payload.length),
    );
    assert.ok(typeof tcp !== 'string', `TCP parses with a good checksum: ${String(tcp)}`);
    return {
      time: r.time,
      src: formatIpv6Address(ip.src),
      flags: tcp.flags,
      seq: tcp.seq,
      ack: tcp.ack,
      length: tcp.payload.length,
      window: tcp.window,
    };
  });
}

function fields(p: Parsed | LadderPacket): {
  flags: string;
  seq: number;
  ack: number;
  length: number;
} {
  const flags =
    typeof p.flags === 'number' ? formatTcpFlags(p.flags) : (p as LadderPacket).tcpdumpFlags;
  return { flags, seq: p.seq, ack: p.ack, length: p.length };
}

/**
 * The ladder against the captures: what each host sent, in the order it sent
 * it, and what each host received, in the order it received it.
 */
function checkAgainstCaptures(result: DemoResult): void {
  const clientAddress = result.diagram.client.address;
  const atClient = parseCapture(result.clientPcap);
  const atServer = parseCapture(result.serverPcap);
  const packets = result.diagram.packets;
  const sentBy = (side: Side): LadderPacket[] =>
    packets
      .filter((p) => p.from === side && p.sentAt !== null)
      .sort((a, b) => a.sentAt! - b.sentAt! || a.sendOrder - b.sendOrder);
  const receivedBy = (side: Side): LadderPacket[] =>
    packets
      .filter((p) => p.from !== side && p.arrivedAt !== null)
      .sort((a, b) => a.arrivedAt! - b.arrivedAt! || a.arriveOrder - b.arriveOrder);
  const clientSent = atClient.filter((p) => p.src === clientAddress);
  const clientGot = atClient.filter((p) => p.src !== clientAddress);
  const serverSent = atServer.filter((p) => p.src !== clientAddress);
  const serverGot = atServer.filter((p) => p.src === clientAddress);
  const check = (
    ladder: LadderPacket[],
    wire: Parsed[],
    time: 'sentAt' | 'arrivedAt',
    what: string,
  ): void => {
    assert.deepEqual(ladder.map(fields), wire.map(fields), `${result.scenario}: ${what}`);
    assert.deepEqual(
      ladder.map((p) => p[time]),
      wire.map((p) => p.time),
      `${result.scenario}: times of ${what}`,
    );
  };
  check(sentBy(Side.Client), clientSent, 'sentAt', 'what the client sent');
  check(sentBy(Side.Server), serverSent, 'sentAt', 'what the server sent');
  check(receivedBy(Side.Client), clientGot, 'arrivedAt', 'what the client received');
  check(receivedBy(Side.Server), serverGot, 'arrivedAt', 'what the server received');
  // Every packet is on the ladder once; lost ones were sent and never arrived.
  const injected = packets.filter((p) => p.sentAt === null).length;
  assert.equal(packets.length, clientSent.length + serverSent.length + injected);
  assert.equal(
    packets.filter((p) => p.lost).length,
    clientSent.length + serverSent.length - (clientGot.length + serverGot.length - injected),
  );
  for (const p of packets) {
    if (p.sentAt !== null && p.arrivedAt !== null) {
      // The current SYN of old-duplicate-syn is slow on purpose: four delays more.
      const slow = result.scenario === 'old-duplicate-syn' && p.number === 1 ? 5 : 1;
      const delay = slow * result.options.delayMs * 1000;
      if (result.options.rateMbps === 0) {
        assert.equal(p.arrivedAt - p.sentAt, delay, 'one-way delay');
      } else {
        // Plus serialisation at the link's rate, and any wait in its queue.
        const ipBytes = p.length + 52;
        const serialise = (ipBytes * 8) / result.options.rateMbps;
        assert.ok(
          p.arrivedAt - p.sentAt >= delay + Math.floor(serialise),
          'one-way delay and serialisation',
        );
      }
    }
    // The label shows what the packet carries.
    assert.ok(
      p.label.startsWith(`${p.flags} seq ${result.options.absolute ? p.seq : p.relativeSeq}`),
      p.label,
    );
    if (p.length > 0) assert.match(p.label, new RegExp(` len ${p.length}`));
  }
  assert.deepEqual(
    packets.map((p) => p.number),
    packets.map((_p, i) => i + 1),
  );
}

/** The state a connection is shown in once `applied` of its transitions have happened. */
function expectedState(applied: TransitionRecord[], passive: boolean): string {
  const last = applied.reduce((a, b) => (b.index > a.index ? b : a));
  // A reset half-open connection goes back to LISTEN and is then discarded:
  // the host still listens, and the diagram says so.
  if (passive && last.to === 'CLOSED' && last.from === 'LISTEN') return 'LISTEN';
  return last.to;
}

/**
 * The states against the records: every transition a connection recorded is
 * shown exactly once (with a packet or on a row of its own), and the state
 * beside each event is the one its connection had reached by then.
 */
function checkStates(result: DemoResult): void {
  for (const side of [Side.Client, Side.Server]) {
    const records = result.connections[side];
    const events: Array<{
      order: number;
      connection: number | null;
      state: string;
      transitions: TransitionRecord[];
    }> = [];
    for (const p of result.diagram.packets) {
      const note = p.from === side ? p.senderState : p.receiverState;
      const order = p.from === side ? p.sendOrder : p.arriveOrder;
      if (note !== null) events.push({ order, ...note });
    }
    for (const row of result.diagram.stateRows) if (row.side === side) events.push(row);
    events.sort((a, b) => a.order - b.order);
    const applied = new Map<number, TransitionRecord[]>();
    for (const e of events) {
      assert.notEqual(
        e.connection,
        null,
        `${result.scenario}: ${side} states come from a connection`,
      );
      const record = records.find((r) => r.id === e.connection);
      assert.ok(
        record !== undefined,
        `${result.scenario}: connection ${e.connection} of the ${side} is recorded`,
      );
      const list = applied.get(e.connection!) ?? [];
      list.push(...e.transitions);
      applied.set(e.connection!, list);
      assert.ok(
        list.length > 0,
        `${result.scenario}: the ${side}'s first event brings a transition`,
      );
      assert.equal(
        e.state,
        expectedState(list, record.passive),
        `${result.scenario}: ${side} state at event ${e.order}`,
      );
    }
    for (const record of records) {
      const shown = (applied.get(record.id) ?? []).sort((a, b) => a.index - b.index);
      assert.deepEqual(
        shown,
        record.transitions,
        `${result.scenario}: every transition of ${side} connection ${record.id}, once`,
      );
    }
  }
}

const FIXED_CLOCK = (): number => 0;

/** The sequence of states a side's main connection went through (its recorded transitions). */
function path(result: DemoResult, side: Side): string[] {
  const records = result.connections[side].filter((r) => !r.discarded);
  return records[records.length - 1]!.transitions.map((t) => t.to);
}

for (const scenario of SCENARIOS) {
  test(`demo ${scenario}: the ladder matches both captures and the connections' transitions`, () => {
    const result = runDemo({ scenario, clock: FIXED_CLOCK });
    checkAgainstCaptures(result);
    checkStates(result);
    // The terminal picture labels every packet once, on the row it leaves (or arrives, if unseen leaving).
    const lines = demoLines(result, { head: Number.POSITIVE_INFINITY, tail: 0 });
    for (const p of result.diagram.packets) {
      assert.equal(
        lines.filter((l) => l.includes(`  ${p.label}`)).length,
        1,
        `${scenario}: one row for ${p.label}`,
      );
    }
    assert.ok(lines.some((l) => l.startsWith(`tcpts demo: ${scenario} (`)));
    assert.ok(lines.includes('Summary'));
    assert.ok(result.caption.length >= 3);
  });
}

test('demo handshake: three-way handshake, a small exchange, four-way close, TIME-WAIT for 2 MSL', () => {
  const result = runDemo({ clock: FIXED_CLOCK });
  assert.equal(result.scenario, 'handshake');
  assert.deepEqual(
    result.diagram.packets.slice(0, 3).map((p) => [p.from, p.flags, p.relativeSeq, p.relativeAck]),
    [
      ['client', 'SYN', 0, 0],
      ['server', 'SYN,ACK', 0, 1],
      ['client', 'ACK', 1, 1],
    ],
  );
  const fins = result.diagram.packets.filter((p) => p.flags.includes('FIN'));
  assert.deepEqual(
    fins.map((p) => p.from),
    ['client', 'server'],
  );
  assert.deepEqual(path(result, Side.Client), [
    'SYN-SENT',
    'ESTABLISHED',
    'FIN-WAIT-1',
    'FIN-WAIT-2',
    'TIME-WAIT',
    'CLOSED',
  ]);
  assert.deepEqual(path(result, Side.Server), [
    'LISTEN',
    'SYN-RECEIVED',
    'ESTABLISHED',
    'CLOSE-WAIT',
    'LAST-ACK',
    'CLOSED',
  ]);
  const s = result.summary;
  assert.equal(s.bytesClientToServer, 14);
  assert.equal(s.bytesServerToClient, 14);
  assert.equal(s.timeWaitUs.client, 60_000_000, 'TIME-WAIT is 2 MSL, 60 s as Linux');
  assert.deepEqual(s.finalStates, { client: 'CLOSED', server: 'CLOSED' });
  assert.deepEqual(s.endings, { client: null, server: null });
  assert.equal(s.rtt.client?.srttUs, 20_000);
  assert.equal(s.retransmissions, 0);
  assert.equal(s.lost, 0);
  // The end of TIME-WAIT is a row of its own, from the timer.
  assert.deepEqual(
    result.diagram.stateRows.map((r) => [r.side, r.state, r.transitions.at(-1)?.cause]),
    [['client', 'CLOSED', 'timer 2MSL']],
  );
  const text = demoLines(result).join('\n');
  assert.match(text, /TIME-WAIT \|<-/);
  assert.match(text, /\(59\.990 s later\)/);
  assert.match(
    text,
    /final states {2}client CLOSED \(after 60\.000 s in TIME-WAIT\), server CLOSED/,
  );
});

test('demo old-duplicate-syn: the old SYN, the SYN,ACK for it, the RST, then the real handshake', () => {
  const result = runDemo({ scenario: 'old-duplicate-syn', clock: FIXED_CLOCK });
  const p = result.diagram.packets;
  assert.equal(
    result.diagram.absolute,
    true,
    'absolute numbers: the point is which SYN is acknowledged',
  );
  const current = p.find((x) => x.from === Side.Client && x.flags === 'SYN')!;
  const old = p.find((x) => x.sentAt === null)!;
  assert.equal(old.flags, 'SYN');
  assert.match(old.note ?? '', /old duplicate/);
  assert.notEqual(old.seq, current.seq);
  assert.ok(old.arrivedAt! < current.arrivedAt!, 'the old SYN overtakes the current one');
  const synAcks = p.filter((x) => x.flags === 'SYN,ACK');
  assert.equal(synAcks.length, 2);
  assert.equal(synAcks[0]!.ack, (old.seq + 1) >>> 0, 'the server acknowledges the old SYN');
  assert.equal(synAcks[1]!.ack, (current.seq + 1) >>> 0, 'then the current one');
  const rst = p.find((x) => x.flags === 'RST')!;
  assert.equal(rst.from, Side.Client);
  assert.equal(rst.seq, synAcks[0]!.ack, 'RST <SEQ=SEG.ACK> (RFC 9293 §3.10.7.3)');
  assert.ok(rst.sentAt! > synAcks[0]!.arrivedAt! - 1 && rst.sentAt! < synAcks[1]!.sentAt!);
  assert.equal(rst.receiverState?.state, 'LISTEN', 'the server listens on');
  // The half-open connection was discarded; the real one completed.
  const ghost = result.connections.server.find((r) => r.discarded)!;
  assert.deepEqual(
    ghost.transitions.map((t) => t.to),
    ['LISTEN', 'SYN-RECEIVED', 'LISTEN', 'CLOSED'],
  );
  assert.ok(path(result, Side.Server).includes('ESTABLISHED'));
  assert.deepEqual(path(result, Side.Client).slice(0, 2), ['SYN-SENT', 'ESTABLISHED']);
  assert.equal(
    p.find((x) => x.flags === 'ACK' && x.from === Side.Client)?.receiverState?.state,
    'ESTABLISHED',
  );
  const text = demoLines(result).join('\n');
  assert.match(text, /~~~>\| SYN-RECEIVED +SYN seq \d+ .*\(old duplicate/);
});

test('demo simultaneous-open: two SYNs cross, both pass through SYN-RECEIVED to ESTABLISHED', () => {
  const result = runDemo({ scenario: 'simultaneous-open', clock: FIXED_CLOCK });
  const p = result.diagram.packets;
  assert.deepEqual(
    p.slice(0, 2).map((x) => [x.from, x.flags]),
    [
      ['client', 'SYN'],
      ['server', 'SYN'],
    ],
  );
  assert.equal(p[0]!.sentAt, p[1]!.sentAt);
  assert.equal(result.diagram.initialStates.server, 'CLOSED', 'nobody listens');
  for (const side of [Side.Client, Side.Server]) {
    assert.deepEqual(path(result, side).slice(0, 3), ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED']);
  }
  assert.equal(p.filter((x) => x.flags === 'SYN,ACK').length, 2);
  assert.ok(
    p.every((x) => !x.retransmission),
    'a SYN,ACK after our own SYN is not a retransmission',
  );
  assert.deepEqual([result.diagram.client.port, result.diagram.server.port], [7000, 8000]);
});

test('demo simultaneous-close: FINs cross, both CLOSING, both TIME-WAIT', () => {
  const result = runDemo({ scenario: 'simultaneous-close', clock: FIXED_CLOCK });
  const fins = result.diagram.packets.filter((x) => x.flags.includes('FIN'));
  assert.equal(fins.length, 2);
  assert.equal(fins[0]!.sentAt, fins[1]!.sentAt, 'both close at the same instant');
  for (const side of [Side.Client, Side.Server]) {
    assert.deepEqual(path(result, side).slice(-4), [
      'FIN-WAIT-1',
      'CLOSING',
      'TIME-WAIT',
      'CLOSED',
    ]);
  }
  assert.equal(result.summary.timeWaitUs.server, 60_000_000);
});

test("demo half-close: the server goes on sending after the client's FIN", () => {
  const result = runDemo({ scenario: 'half-close', clock: FIXED_CLOCK });
  const p = result.diagram.packets;
  const clientFin = p.find((x) => x.from === Side.Client && x.flags.includes('FIN'))!;
  const serverFin = p.find((x) => x.from === Side.Server && x.flags.includes('FIN'))!;
  const after = p.filter(
    (x) => x.from === Side.Server && x.length > 0 && x.sentAt! >= clientFin.arrivedAt!,
  );
  assert.ok(after.length >= 3, 'data keeps coming after the FIN arrived');
  assert.ok(serverFin.sentAt! > clientFin.arrivedAt! + 10_000, 'the server closes well after');
  assert.equal(result.summary.bytesServerToClient, 3000);
  assert.ok(path(result, Side.Client).includes('FIN-WAIT-2'));
  assert.ok(path(result, Side.Server).includes('CLOSE-WAIT'));
  // While data flows to it, the client stays in FIN-WAIT-2.
  const during = after.map((x) => x.receiverState?.state).filter((s) => s !== undefined);
  assert.ok(during.includes('FIN-WAIT-2'));
});

test('demo reset: the server aborts mid-transfer with RST; the client sees a reset', () => {
  const result = runDemo({ scenario: 'reset', clock: FIXED_CLOCK });
  const rst = result.diagram.packets.find((x) => x.flags.startsWith('RST'))!;
  assert.equal(rst.from, Side.Server);
  assert.equal(rst.senderState?.state, 'CLOSED');
  assert.equal(rst.receiverState?.state, 'CLOSED');
  assert.deepEqual(result.summary.endings, { client: 'reset', server: 'aborted' });
  assert.ok(
    result.summary.bytesClientToServer >= 4000 && result.summary.bytesClientToServer < 20_000,
  );
  assert.equal(
    result.diagram.packets.filter((x) => x.flags.includes('FIN')).length,
    0,
    'no FIN at all',
  );
  assert.equal(result.summary.timeWaitUs.client, 0);
});

test('demo transfer with loss: every byte arrives intact, losses and retransmissions are shown, the middle is elided', () => {
  const result = runDemo({
    scenario: 'transfer',
    loss: 0.05,
    bytes: 200_000,
    seed: 7,
    clock: FIXED_CLOCK,
  });
  checkAgainstCaptures(result);
  checkStates(result);
  const s = result.summary;
  assert.equal(s.intact, true);
  assert.equal(s.bytesClientToServer, 200_000);
  assert.ok(s.lost > 0, 'something was lost');
  assert.ok(s.retransmissions > 0, 'and sent again');
  const marked = result.diagram.packets.filter((p) => p.retransmission).length;
  assert.ok(marked > 0 && marked <= s.retransmissions, 'retransmissions are marked on the ladder');
  const lines = demoLines(result);
  const skip = lines.find((l) => l.includes('packets not shown'));
  assert.ok(skip !== undefined, 'a long ladder is elided');
  const shown = result.diagram.packets.filter((p) =>
    lines.some((l) => l.includes(`  ${p.label}`)),
  ).length;
  assert.match(
    skip,
    new RegExp(`\\.\\.\\. ${result.diagram.packets.length - shown} packets not shown`),
  );
  assert.equal(shown, 45, 'the first 30 and the last 15');
  assert.ok(
    lines.some((l) => /-X/.test(l)),
    'a lost packet is drawn',
  );
  // The whole ladder when asked.
  const all = demoLines(result, { head: Number.POSITIVE_INFINITY, tail: 0 });
  assert.ok(!all.some((l) => l.includes('packets not shown')));
});

test('demo transfer over a 10 Mbit/s link: segments arrive spaced out, the receiver acknowledges as they come', () => {
  const result = runDemo({ scenario: 'transfer', rateMbps: 10, bytes: 50_000, clock: FIXED_CLOCK });
  checkAgainstCaptures(result);
  checkStates(result);
  assert.equal(result.summary.intact, true);
  assert.equal(result.summary.lost, 0, 'the queue in front of the link is big enough');
  const data = result.diagram.packets.filter((p) => p.from === Side.Client && p.length === 1448);
  const arrivals = data.slice(0, 10).map((p) => p.arrivedAt!);
  for (let i = 1; i < arrivals.length; i++) {
    assert.ok(
      arrivals[i]! - arrivals[i - 1]! >= 1200,
      'a 1500-byte packet takes 1.2 ms at 10 Mbit/s',
    );
  }
  const acksInFirstFlight = result.diagram.packets.filter(
    (p) => p.from === Side.Server && p.sentAt! < arrivals[9]! + 1,
  ).length;
  assert.ok(acksInFirstFlight >= 5, 'ACKs go out while the first flight is still arriving');
  assert.match(demoLines(result)[0]!, /10 Mbit\/s/);
  assert.equal(result.rerun, 'tcpts demo --scenario transfer --rate 10 --bytes 50000 --seed 1');
});

test('demo over IPv6', () => {
  const result = runDemo({ ipv6: true, clock: FIXED_CLOCK });
  assert.equal(result.diagram.client.address, 'fd00::1');
  checkAgainstCaptures(result);
  checkStates(result);
  assert.match(result.diagram.packets[0]!.options, /mss 1440/);
  assert.match(demoLines(result).join('\n'), /client \[fd00::1\]:\d+/);
});

test('--seed repeats a run exactly; another seed changes ISNs and ports', () => {
  for (const scenario of ['handshake', 'transfer'] as ScenarioName[]) {
    const a = runDemo({ scenario, seed: 42, loss: 0.02, clock: FIXED_CLOCK });
    const b = runDemo({ scenario, seed: 42, loss: 0.02, clock: FIXED_CLOCK });
    assert.deepEqual(demoLines(a), demoLines(b));
    assert.deepEqual(JSON.stringify(demoJson(a)), JSON.stringify(demoJson(b)));
    assert.deepEqual(a.clientPcap, b.clientPcap);
  }
  const one = runDemo({ seed: 1, clock: FIXED_CLOCK });
  const two = runDemo({ seed: 2, clock: FIXED_CLOCK });
  assert.notEqual(one.diagram.packets[0]!.seq, two.diagram.packets[0]!.seq);
  // Relative numbers make the two pictures alike all the same.
  assert.deepEqual(
    one.diagram.packets.map((p) => [p.flags, p.relativeSeq, p.relativeAck]),
    two.diagram.packets.map((p) => [p.flags, p.relativeSeq, p.relativeAck]),
  );
  // Through the command: the same output twice.
  const run = (): string[] => {
    const out: string[] = [];
    const status = runDemoCommand(['--seed', '5', '--scenario', 'transfer', '--bytes', '30k'], {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
      clock: FIXED_CLOCK,
    });
    assert.equal(status, 0);
    return out;
  };
  assert.deepEqual(run(), run());
});

test('--json: packets, transitions, summary', () => {
  const out: string[] = [];
  const status = runDemoCommand(['--json', '--scenario', 'half-close'], {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
    clock: FIXED_CLOCK,
  });
  assert.equal(status, 0);
  assert.equal(out.length, 1);
  const json = JSON.parse(out[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), [
    'scenario',
    'options',
    'caption',
    'client',
    'server',
    'initialStates',
    'absolute',
    'packets',
    'stateRows',
    'connections',
    'summary',
    'rerun',
  ]);
  assert.equal(json.scenario, 'half-close');
  assert.deepEqual(json.options, {
    seed: 1,
    loss: 0,
    delayMs: 10,
    rateMbps: 0,
    bytes: 0,
    ipv6: false,
    absolute: false,
  });
  const packets = json.packets as Array<Record<string, unknown>>;
  assert.ok(packets.length >= 8);
  for (const key of [
    'number',
    'from',
    'sentAt',
    'arrivedAt',
    'flags',
    'seq',
    'ack',
    'relativeSeq',
    'relativeAck',
    'window',
    'length',
    'options',
    'label',
    'senderState',
    'receiverState',
  ]) {
    assert.ok(key in packets[0]!, `packet field ${key}`);
  }
  assert.equal(packets[0]!.flags, 'SYN');
  assert.equal(typeof packets[0]!.sentAt, 'number');
  const connections = json.connections as {
    client: Array<{ transitions: unknown[] }>;
    server: unknown[];
  };
  assert.equal(connections.client.length, 1);
  assert.ok(connections.client[0]!.transitions.length >= 5);
  const summary = json.summary as Record<string, unknown>;
  assert.equal(summary.bytesServerToClient, 3000);
  assert.equal(summary.realTimeMs, 0);
  assert.equal(json.rerun, 'tcpts demo --scenario half-close --seed 1');
});

function withTempDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-demo-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('--pcap saves the client-side capture (tcpdump reads it when installed); --svg writes a picture', () => {
  withTempDir((dir) => {
    const pcap = join(dir, 'demo.pcap');
    const svg = join(dir, 'demo.svg');
    const out: string[] = [];
    const status = runDemoCommand(['--pcap', pcap, '--svg', svg], {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
      clock: FIXED_CLOCK,
    });
    assert.equal(status, 0);
    const saved = new Uint8Array(readFileSync(pcap));
    assert.deepEqual(saved, runDemo({ clock: FIXED_CLOCK }).clientPcap);
    const parsed = parseCapture(saved);
    assert.equal(parsed.length, 11);
    assert.match(readFileSync(svg, 'utf8'), /^<\?xml version="1\.0"/);
    const tcpdump = spawnSync('tcpdump', ['-n', '-r', pcap], { encoding: 'utf8' });
    if (tcpdump.error === undefined && tcpdump.status === 0) {
      const flags = tcpdump.stdout
        .trim()
        .split('\n')
        .map((l) => /Flags \[([^\]]+)\]/.exec(l)?.[1]);
      assert.deepEqual(
        flags,
        parsed.map((p) => formatTcpFlags(p.flags)),
      );
    }
    // Each file written is named after the summary.
    const text = out.join('\n').split('\n');
    assert.deepEqual(text.slice(-2), [
      `wrote ${pcap} (the capture at the client's end)`,
      `wrote ${svg} (the ladder diagram)`,
    ]);
    // With --json, stdout stays one JSON document and the names go to stderr.
    const plot = join(dir, 'plot.svg');
    const jsonOut: string[] = [];
    const jsonErr: string[] = [];
    assert.equal(
      runDemoCommand(['--json', '--plot', plot], {
        out: (t) => jsonOut.push(t),
        err: (t) => jsonErr.push(t),
        clock: FIXED_CLOCK,
      }),
      0,
    );
    assert.doesNotThrow(() => JSON.parse(jsonOut.join('\n')));
    assert.deepEqual(jsonErr, [`wrote ${plot} (the client's time-sequence graph)`]);
    // A file that cannot be written is exit 1 with one line.
    const err: string[] = [];
    const bad = runDemoCommand(['--pcap', join(dir, 'no', 'such', 'dir.pcap')], {
      out: () => undefined,
      err: (t) => err.push(t),
      clock: FIXED_CLOCK,
    });
    assert.equal(bad, 1);
    assert.equal(err.length, 1);
    assert.match(err[0]!, /^tcpts demo: cannot write --pcap .*: no such file or directory$/);
  });
});

test('tcpts demo --help and bad flags: one line on stderr, exit 2', () => {
  const run = (argv: string[]): { status: number; out: string[]; err: string[] } => {
    const out: string[] = [];
    const err: string[] = [];
    const status = main(['demo', ...argv], { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { status, out, err };
  };
  const help = run(['--help']);
  assert.equal(help.status, 0);
  assert.equal(help.out.join('\n'), DEMO_USAGE);
  for (const scenario of SCENARIOS) assert.ok(DEMO_USAGE.includes(`  ${scenario} `), scenario);
  const cases: Array<[string[], RegExp]> = [
    [['--frob'], /^tcpts demo: unknown option '--frob' \(see 'tcpts demo --help'\)$/],
    [
      ['--scenario', 'nope'],
      /^tcpts demo: unknown scenario 'nope'; one of handshake, transfer, .*reset \(see/,
    ],
    [['--loss', '1.5'], /^tcpts demo: --loss takes a fraction from 0 to below 1/],
    [['--loss', 'lots'], /--loss takes a fraction/],
    [['--delay', '-3'], /^tcpts demo: --delay takes milliseconds from 0 to 60000, got '-3'/],
    [['--delay', '-5'], /^tcpts demo: --delay takes milliseconds from 0 to 60000, got '-5'/],
    [['--loss', '-0.1'], /^tcpts demo: --loss takes a fraction from 0 to below 1 .*got '-0.1'/],
    [['--loss=-0.1'], /^tcpts demo: --loss takes a fraction from 0 to below 1 .*got '-0.1'/],
    [['--rate', '-2'], /^tcpts demo: --rate takes Mbit\/s, more than 0 .*got '-2'/],
    [['-s', 'transfer', '--bytes', '-5'], /^tcpts demo: --bytes takes a whole number .*got '-5'/],
    [['--seed', '-1'], /^tcpts demo: --seed takes a whole number .*got '-1'/],
    [['--scenario'], /^tcpts demo: --scenario needs a value: a scenario, one of handshake, /],
    [['-s'], /^tcpts demo: --scenario needs a value: a scenario, one of handshake, /],
    [
      ['--svg', '--json'],
      /^tcpts demo: --svg needs a value, got option '--json' \(write --svg=--json/,
    ],
    [['--rate', '0'], /^tcpts demo: --rate takes Mbit\/s, more than 0/],
    [['--delay', 'soon'], /^tcpts demo: --delay takes milliseconds from 0 to 60000, got 'soon'/],
    [['--bytes', '1000'], /^tcpts demo: --bytes is for --scenario transfer or reset/],
    [['-s', 'transfer', '--bytes', '0'], /--bytes takes a whole number/],
    [['-s', 'transfer', '--bytes', '1G'], /--bytes takes a whole number/],
    [['--seed', '1.5'], /--seed takes a whole number/],
    [
      ['--seed'],
      /^tcpts demo: --seed needs a value: a whole number from 0 to 4294967295 \(see 'tcpts demo --help'\)$/,
    ],
    [['extra'], /^tcpts demo: unexpected argument 'extra'/],
  ];
  for (const [argv, pattern] of cases) {
    const r = run(argv);
    assert.equal(r.status, 2, argv.join(' '));
    assert.equal(r.out.length, 0, argv.join(' '));
    assert.equal(r.err.length, 1, argv.join(' '));
    assert.match(r.err[0]!, pattern, argv.join(' '));
  }
  // k and M suffixes.
  const ok = run(['-s', 'transfer', '--bytes', '20k', '--json']);
  assert.equal(ok.status, 0);
  assert.equal(
    (JSON.parse(ok.out[0]!) as { summary: { bytesClientToServer: number } }).summary
      .bytesClientToServer,
    20_000,
  );
});

test('progress: a bar on a terminal, redrawn at most every 100 ms and erased at the end; nothing otherwise', () => {
  let now = 0;
  const written: string[] = [];
  const tty = { isTTY: true, columns: 100, write: (t: string) => written.push(t) > 0 };
  const bar = progressBarFor(tty, { unit: 'delivered', total: 1_000_000, clock: () => now });
  assert.ok(bar instanceof ProgressBar);
  bar.update(250_000, 'virtual 1.000 s');
  bar.update(260_000);
  now = 150;
  bar.update(500_000);
  bar.finish();
  assert.equal(written.length, 3);
  assert.equal(
    written[0],
    '\r[#####...............]  25%  250 kB of 1.0 MB delivered  virtual 1.000 s\u001b[K',
  );
  assert.match(written[1]!, /^\r\[#{10}\.{10}\] {2}50%/);
  assert.equal(written[2], '\r\u001b[K');
  assert.equal(
    progressBarFor({ isTTY: false, write: () => true }, { unit: 'x', total: 1, clock: () => 0 }),
    null,
  );
  // The demo draws on a terminal and keeps quiet on a pipe.
  const drawn: string[] = [];
  let t = 0;
  const status = runDemoCommand(['-s', 'transfer', '--bytes', '300k'], {
    out: () => undefined,
    err: () => undefined,
    progress: { isTTY: true, columns: 120, write: (s: string) => drawn.push(s) > 0 },
    clock: () => (t += 50),
  });
  assert.equal(status, 0);
  assert.ok(drawn.length >= 2, 'the bar was drawn');
  assert.ok(drawn.some((s) => /\[#*\.*\] +\d+%/.test(s)));
  assert.equal(drawn[drawn.length - 1], '\r\u001b[K');
  const piped: string[] = [];
  runDemoCommand(['-s', 'transfer', '--bytes', '300k'], {
    out: () => undefined,
    err: () => undefined,
    progress: { isTTY: false, write: (s: string) => piped.push(s) > 0 },
  });
  assert.deepEqual(piped, []);
});

test('npm start runs the demo; the entry point prints it', () => {
  const pkg = JSON.parse(
    readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'),
  ) as {
    scripts: Record<string, string>;
  };
  assert.equal(pkg.scripts.start, 'node dist/cli/main.js demo');
  const root = join(import.meta.dirname, '..', '..');
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'demo'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(result.status, 0, result.stderr);
  assert.match(
    result.stdout,
    /^tcpts demo: handshake \(one-way delay 10 ms, no loss, IPv4, seed 1\)\n/,
  );
  assert.match(result.stdout, /SYN-SENT \|-/);
  assert.equal(
    result.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('npm warn')).length,
    0,
    'no progress bar on a pipe',
  );
});

test('a scenario that did not do what it shows exits 1 and says why on stderr', () => {
  const run = (argv: string[]): { status: number; err: string[] } => {
    const err: string[] = [];
    const status = runDemoCommand(argv, { out: () => {}, err: (t) => err.push(t) });
    return { status, err };
  };
  // Nearly everything lost: the handshake never completes.
  const lost = run(['--loss', '0.99']);
  assert.equal(lost.status, 1);
  assert.deepEqual(lost.err, [
    "tcpts demo: the client's connection ended timed-out; in handshake it should close in order",
  ]);
  // The reset scenario is meant to end in a reset.
  const reset = run(['-s', 'reset']);
  assert.equal(reset.status, 0);
  assert.deepEqual(reset.err, []);
  const ok = run([]);
  assert.equal(ok.status, 0);
  assert.deepEqual(ok.err, []);
});

test('--width fits the demo in N columns, shortening labels first; a terminal gives its width', () => {
  const run = (
    argv: string[],
    columns?: number,
  ): { status: number; out: string[]; err: string[] } => {
    const out: string[] = [];
    const err: string[] = [];
    const status = runDemoCommand(argv, {
      out: (t) => out.push(...t.split('\n')),
      err: (t) => err.push(t),
      clock: FIXED_CLOCK,
      ...(columns === undefined ? {} : { columns }),
    });
    return { status, out, err };
  };
  const wide = run(['-s', 'transfer', '--loss', '0.05']);
  assert.ok(Math.max(...wide.out.map((l) => l.length)) > 150);
  for (const width of [80, 100, 120]) {
    for (const r of [
      run(['-s', 'transfer', '--loss', '0.05', '--width', String(width)]),
      run(['-s', 'transfer', '--loss', '0.05'], width),
    ]) {
      assert.equal(r.status, 0);
      const long = r.out.filter((l) => l.length > width);
      assert.deepEqual(long, [], `width ${width}`);
      // What matters stays: the flags, the notes, and the numbers when there is room.
      assert.ok(
        r.out.some((l) => /\|\s+ACK seq 4345:5.*\(lost\)$/.test(l)),
        `width ${width}`,
      );
      assert.ok(
        r.out.some((l) => /\|\s+SYN,ACK seq 0 ack 1/.test(l)),
        `width ${width}`,
      );
      if (width >= 100)
        assert.ok(
          r.out.some((l) => /ACK seq 4345:5793 ack 1 .*\(lost\)$/.test(l)),
          `width ${width}`,
        );
    }
  }
  // --width wins over the terminal.
  const both = run(['--width', '90'], 200);
  assert.ok(Math.max(...both.out.map((l) => l.length)) <= 90);
  for (const bad of ['10', 'wide', '-5']) {
    const r = run(['--width', bad]);
    assert.equal(r.status, 2, bad);
    assert.match(
      r.err[0]!,
      new RegExp(`^tcpts demo: --width takes columns, a whole number of at least 80, got '${bad}'`),
    );
  }
});
