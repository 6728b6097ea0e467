// `tcpts decode` against tcpdump itself on the real kernel captures in
// fixtures/pcap (made by scripts/capture-fixtures.sh): the output must be
// tcpdump's, line for line. No line is excluded: every packet in the
// fixtures is one tcpts decodes exactly as tcpdump 4.99 does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCapture } from '../../src/cli/decode.js';
import { formatTimestamp } from '../../src/cli/tcpdump-format.js';
import { instant } from '../../src/base/index.js';
import { missingTool, runTool } from '../helpers/tools.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pcap');
const files = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.pcap'))
  .sort();

function decodeFixture(name: string, absolute = false): string[] {
  const result = decodeCapture(readFileSync(join(FIXTURES, name)), { absolute });
  assert.equal(result.error, null, `${name}: ${result.error}`);
  return result.lines;
}

function tcpdumpLines(name: string, absolute = false): string[] {
  const args = ['-n', ...(absolute ? ['-S'] : []), '-r', join(FIXTURES, name)];
  const { stdout } = runTool('tcpdump', args);
  return stdout.split('\n').filter((line) => line !== '');
}

test('the fixtures the brief asks for are all there', () => {
  for (const name of [
    'handshake-data-close.pcap',
    'tcp-sack.pcap',
    'icmp-errors.pcap',
    'ipv4-fragment.pcap',
    'ipv6-fragment.pcap',
    'arp-ndp.pcap',
  ]) {
    assert.ok(files.includes(name), `fixtures/pcap/${name} is missing`);
  }
});

for (const name of files) {
  test(
    `${name}: decode prints what TZ=UTC tcpdump -n -r prints`,
    { skip: missingTool('tcpdump') },
    () => {
      const expected = tcpdumpLines(name);
      const actual = decodeFixture(name);
      assert.ok(expected.length > 0, 'tcpdump printed nothing');
      assert.deepEqual(actual, expected);
    },
  );

  test(`${name}: decode -S prints what tcpdump -S prints`, { skip: missingTool('tcpdump') }, () => {
    assert.deepEqual(decodeFixture(name, true), tcpdumpLines(name, true));
  });
}

// The checks below need no tcpdump: they pin what the captures are known to
// hold (the traffic the capture script generates), whatever the ISNs and times.

test('handshake-data-close: the handshake, relative numbers after it, and the FIN exchange', () => {
  const lines = decodeFixture('handshake-data-close.pcap');
  const client = 'IP 10.77.0.1.40000 > 10.77.0.2.8765';
  const server = 'IP 10.77.0.2.8765 > 10.77.0.1.40000';
  assert.match(
    lines[0]!,
    new RegExp(
      String.raw`^\d\d:\d\d:\d\d\.\d{6} ${client}: Flags \[S\], seq \d+, win 64240, options \[mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale \d+\], length 0$`,
    ),
  );
  // The SYN-ACK still shows absolute numbers: tcpdump learns the ISNs from it.
  const synAck = /Flags \[S\.\], seq (\d+), ack (\d+),/.exec(lines[1]!);
  assert.ok(synAck !== null && lines[1]!.includes(server), lines[1]);
  const clientIsn = Number(/seq (\d+)/.exec(lines[0]!)![1]);
  assert.equal(Number(synAck[2]), (clientIsn + 1) % 2 ** 32);
  assert.match(
    lines[2]!,
    /Flags \[\.\], ack 1, win \d+, options \[nop,nop,TS val \d+ ecr \d+\], length 0$/,
  );
  assert.match(lines[3]!, /Flags \[P\.\], seq 1:223, ack 1, .* length 222$/);
  assert.ok(lines.some((line) => line.includes(`${server}: Flags [.], seq 1:1449, ack 223,`)));
  const fins = lines.filter((line) => line.includes('Flags [F.]'));
  assert.equal(fins.length, 2);
  assert.ok(fins[0]!.includes(`${client}: Flags [F.], seq 223, ack 4023,`));
  assert.ok(fins[1]!.includes(`${server}: Flags [F.], seq 4023, ack 224,`));
  assert.match(lines.at(-1)!, /Flags \[\.\], ack 4024, /);
});

test('tcp-sack: the kernel reports the holes with SACK blocks, relative to the ISN', () => {
  const lines = decodeFixture('tcp-sack.pcap');
  const sacks = lines.flatMap((line) => /sack \d+ (\{[^\]]*)\]/.exec(line)?.[1] ?? []);
  assert.deepEqual(sacks, [
    '{801:1201}',
    '{1601:2001}{801:1201}',
    '{1601:2401}{801:1201}',
    '{1601:2401}',
  ]);
  // With -S the edges are absolute: the same blocks shifted by the client's ISN.
  const absolute = decodeFixture('tcp-sack.pcap', true);
  const isn = Number(/seq (\d+)/.exec(absolute[0]!)![1]);
  const firstSack = absolute.find((line) => line.includes('sack 1 '))!;
  assert.ok(firstSack.includes(`{${(isn + 801) % 2 ** 32}:${(isn + 1201) % 2 ** 32}}`), firstSack);
});

test('icmp-errors: every kind of error the kernel sent is named', () => {
  const text = decodeFixture('icmp-errors.pcap').join('\n');
  for (const expected of [
    'IP 10.77.3.2 > 10.77.2.1: ICMP echo reply, id 4660, seq 1, length 64',
    'IP 10.77.3.2 > 10.77.2.1: ICMP 10.77.3.2 udp port 40009 unreachable, length 48',
    'IP 10.77.2.254 > 10.77.2.1: ICMP time exceeded in-transit, length 48',
    'IP 10.77.2.254 > 10.77.2.1: ICMP 10.77.3.2 unreachable - need to frag (mtu 1280), length 556',
    'IP6 fd77:3::2 > fd77:2::1: ICMP6, echo reply, id 4662, seq 1, length 64',
    'IP6 fd77:3::2 > fd77:2::1: ICMP6, destination unreachable, unreachable port, fd77:3::2 udp port 40009, length 68',
    'IP6 fd77:2::fe > fd77:2::1: ICMP6, time exceeded in-transit for fd77:3::2, length 68',
    'IP6 fd77:2::fe > fd77:2::1: ICMP6, packet too big, mtu 1280, length 1240',
  ]) {
    assert.ok(text.includes(expected), `missing: ${expected}`);
  }
});

test('fragments: first fragments show the transport, later ones only what tcpdump can know', () => {
  const v4 = decodeFixture('ipv4-fragment.pcap');
  assert.ok(
    v4.some((l) =>
      l.endsWith('IP 10.77.6.1 > 10.77.6.2: ICMP echo request, id 4664, seq 1, length 1256'),
    ),
  );
  assert.ok(v4.some((l) => l.endsWith('IP 10.77.6.1 > 10.77.6.2: ip-proto-1')));
  assert.ok(v4.some((l) => l.endsWith('IP 10.77.6.1.40007 > 10.77.6.2.40006: UDP, length 2000')));
  assert.ok(v4.some((l) => l.endsWith('IP 10.77.6.1 > 10.77.6.2: ip-proto-17')));
  const v6 = decodeFixture('ipv6-fragment.pcap');
  assert.ok(
    v6.some((l) =>
      l.endsWith(
        'IP6 fd77:6::1 > fd77:6::2: frag (0|1232) ICMP6, echo request, id 4665, seq 1, length 1232',
      ),
    ),
  );
  assert.ok(v6.some((l) => l.endsWith('IP6 fd77:6::1 > fd77:6::2: frag (1232|1232)')));
  assert.ok(v6.some((l) => l.endsWith('IP6 fd77:6::1 > fd77:6::2: frag (2464|544)')));
  assert.ok(
    v6.some((l) =>
      l.endsWith('IP6 fd77:6::1 > fd77:6::2: frag (0|1232) 40007 > 40006: UDP, length 2000'),
    ),
  );
});

test('arp-ndp: ARP and NDP exchanges, DAD and MLD reports', () => {
  const lines = decodeFixture('arp-ndp.pcap');
  const has = (pattern: RegExp) =>
    assert.ok(
      lines.some((l) => pattern.test(l)),
      String(pattern),
    );
  has(/ ARP, Request who-has 10\.77\.4\.2 tell 10\.77\.4\.1, length 28$/);
  has(/ ARP, Reply 10\.77\.4\.2 is-at ([0-9a-f]{2}:){5}[0-9a-f]{2}, length 28$/);
  has(/ IP6 :: > ff02::1:ff00:1: ICMP6, neighbor solicitation, who has fd77:4::1, length 32$/);
  has(
    / IP6 fd77:4::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has fd77:4::2, length 32$/,
  );
  has(/ IP6 fd77:4::2 > fd77:4::1: ICMP6, neighbor advertisement, tgt is fd77:4::2, length 32$/);
  has(/ HBH ICMP6, multicast listener report v2, \d+ group record\(s\), length \d+$/);
  has(/ IP6 fd77:4::2\.40008 > fd77:4::1\.40009: UDP, length 32$/);
});

test('link types beyond Ethernet: raw IP (TUN) and Linux cooked captures', () => {
  assert.deepEqual(
    decodeFixture('udp-raw-tun.pcap').map((line) => line.slice(16)),
    [
      'IP 10.77.5.1.40013 > 10.77.5.2.40012: UDP, length 24',
      'IP 10.77.5.2.40012 > 10.77.5.1.40013: UDP, length 24',
      'IP6 fd77:5::1.40013 > fd77:5::2.40012: UDP, length 24',
      'IP6 fd77:5::2.40012 > fd77:5::1.40013: UDP, length 24',
    ],
  );
  assert.deepEqual(
    decodeFixture('udp-any-sll.pcap').map((line) => line.slice(16)),
    [
      'IP 10.77.8.1.40015 > 10.77.8.2.40014: UDP, length 16',
      'IP 10.77.8.2.40014 > 10.77.8.1.40015: UDP, length 16',
      'IP 10.77.8.1.40015 > 10.77.8.2.40014: UDP, length 48',
      'IP 10.77.8.2.40014 > 10.77.8.1.40015: UDP, length 48',
    ],
  );
});

test('timestamps print as tcpdump does with TZ=UTC: time of day, microseconds', () => {
  assert.equal(formatTimestamp(instant(0)), '00:00:00.000000');
  assert.equal(
    formatTimestamp(instant(Date.UTC(2024, 1, 29, 23, 59, 58) * 1000 + 7)),
    '23:59:58.000007',
  );
  assert.equal(formatTimestamp(instant(86_400_000_000 + 3_723_000_042)), '01:02:03.000042');
});
