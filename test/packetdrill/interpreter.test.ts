/**
 * The interpreter's own tests: scripts that must fail (wrong flag, wrong
 * ACK, wrong time, missing packet, extra packet, wrong return value) fail
 * with a message that names the line, the field and both values; the
 * language features (times, ranges, blocking calls, -D, #ifdef, comments,
 * coalescing, tolerance, strict mode) behave as packetdrill's; what tcpts
 * cannot run is SKIPPED with the reason; the report and the CLI follow the
 * issue's output and exit status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exitStatus,
  formatResult,
  knownFailureOf,
  parseScript,
  isParseError,
  runScript,
  summarize,
  type ScriptResult,
} from '../../src/packetdrill/index.js';
import { runPacketdrillCommand } from '../../src/cli/packetdrill.js';
import { runCode } from '../../src/packetdrill/code.js';
import { icmpCodes } from '../../src/packetdrill/packets.js';
import { PROFILES } from '../../src/packetdrill/profiles.js';
import { SYSCTLS, applySysctl, sysctlKind } from '../../src/packetdrill/sysctls.js';
import { runShell, type ShellContext, type ShellOutcome } from '../../src/packetdrill/shell.js';

/** A passive open with timestamps; line numbers below count from here. */
const HANDSHAKE = [
  '0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3', // 1
  '+0    bind(3, ..., ...) = 0', // 2
  '+0    listen(3, 1) = 0', // 3
  '+0    < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>', // 4
  '+0    > S. 0:0(0) ack 1 win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 7>', // 5
  '+.1   < . 1:1(0) ack 1 win 514', // 6
  '+0    accept(3, ..., ...) = 4', // 7
];

function script(...more: string[]): string {
  return [...HANDSHAKE, ...more].join('\n');
}

/**
 * As script(), with tail loss probes off (as Linux's own RTO scripts do), so
 * that the first retransmission is the RTO's at 0.4 s. The sysctl line comes
 * first: every line number is one more than in script().
 */
function scriptNoTlp(...more: string[]): string {
  return ['`sysctl -q net.ipv4.tcp_early_retrans=0`', ...HANDSHAKE, ...more].join('\n');
}

function failed(result: ScriptResult, line: number, pattern: RegExp): void {
  const text = formatResult({ path: 't.pkt', result }).join('\n');
  assert.equal(result.status, 'fail', text);
  assert.equal(result.line, line, text);
  assert.match(result.message, pattern, text);
}

test('a correct script passes', () => {
  const r = runScript(script('+0 write(4, ..., 100) = 100', '+0 > P. 1:101(100) ack 1 win 8192'));
  assert.equal(r.status, 'pass', r.message);
  assert.equal(r.line, null);
});

test('a wrong flag fails at its line with the field and both values', () => {
  const text = script().replace('> S. 0:0(0)', '> S 0:0(0)');
  const r = runScript(text);
  failed(r, 5, /live packet field tcp_ack: expected 0 vs actual 1/);
  assert.match(r.details[0]!, /^script: 0\.000000 > S 0:0\(0\)/);
  assert.match(r.details[1]!, /^actual: 0\.000000 > S\. 0:0\(0\) ack 1 win 64240 /);
});

test('a wrong ack number fails with expected and actual', () => {
  const r = runScript(script().replace('> S. 0:0(0) ack 1', '> S. 0:0(0) ack 7'));
  failed(r, 5, /tcp_ack_seq: expected 7 vs actual 1/);
});

test('wrong options fail: kind, order and value are checked exactly; <...> skips the check', () => {
  const wrongValue = runScript(script().replace('wscale 7>\n+.1', 'wscale 8>\n+.1'));
  failed(wrongValue, 5, /bad outbound TCP options: wscale: expected 8, actual 7/);
  const missing = runScript(
    script().replace('<mss 1460,nop,nop,sackOK,nop,wscale 7>', '<mss 1460>'),
  );
  failed(missing, 5, /expected 1 options, actual 6/);
  const none = runScript(script().replace(' <mss 1460,nop,nop,sackOK,nop,wscale 7>', ''));
  failed(none, 5, /expected 0 options, actual 6/);
  const unchecked = runScript(script().replace('<mss 1460,nop,nop,sackOK,nop,wscale 7>', '<...>'));
  assert.equal(unchecked.status, 'pass', unchecked.message);
});

test('ECN marks and the TOS byte are checked on outbound lines that give them', () => {
  failed(
    runScript(script().replace('> S. 0:0(0)', '> [ect0] S. 0:0(0)')),
    5,
    /ip_ecn: expected 0x2 vs actual 0x0/,
  );
  failed(
    runScript(script().replace('> S. 0:0(0)', '> [ect01] S. 0:0(0)')),
    5,
    /ip_ecn: expected 0x1 or 0x2 vs actual 0x0/,
  );
  failed(
    runScript(script().replace('> S. 0:0(0)', '> (tos 0x10) S. 0:0(0)')),
    5,
    /tos: expected 0x10 vs actual 0x0/,
  );
  assert.equal(runScript(script().replace('> S. 0:0(0)', '> [noecn] S. 0:0(0)')).status, 'pass');
  failed(
    runScript(script().replace('< S 0:0(0)', '< [ect01] S 0:0(0)')),
    4,
    /\[ect01\] can only be used with outbound/,
  );
});

test('a packet at the wrong time fails with a timing error and the tolerance', () => {
  const r = runScript(script().replace('+0    > S. 0:0(0)', '+.1   > S. 0:0(0)'));
  failed(
    r,
    5,
    /timing error: expected outbound packet at 0\.100000 s but it happened at 0\.000000 s; tolerance 0\.012500 s/,
  );
});

test('a missing packet fails once its time plus tolerance has passed', () => {
  const r = runScript(script('+0 > P. 1:101(100) ack 1 win 8192'));
  failed(r, 8, /expected outbound packet at 0\.100000 s but none was sent by 0\.104000 s/);
  assert.match(r.message, /no timer armed/);
  // When something else comes later, the failure says what and when.
  const other = runScript(
    scriptNoTlp(
      '+0 write(4, ..., 2920) = 2920',
      '+0 > . 1:1461(1460) ack 1 win 8192',
      '+0 > P. 1461:2921(1460) ack 1 win 8192',
      '+.05 > F. 2921:2921(0) ack 1 win 8192',
    ),
  );
  failed(other, 12, /expected outbound packet at 0\.150000 s but none was sent by 0\.156250 s$/);
  assert.match(other.details[1]!, /^next: {3}0\.400000 > \. 1:1461\(1460\) ack 1 win 8192/);
});

test('strict: an extra packet fails at the next event after it, or at the end of the script', () => {
  const strict = { unexpectedPackets: 'strict' } as const;
  const later = runScript(
    script('+0 write(4, ..., 10) = 10', '+.1 < . 1:1(0) ack 11 win 514'),
    strict,
  );
  failed(later, 9, /unexpected outbound packet/);
  assert.match(later.details[0]!, /^actual: 0\.100000 > P\. 1:11\(10\) ack 1 win 8192/);
  const atEnd = runScript(
    script('+0 write(4, ..., 10) = 10', '+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0'),
    strict,
  );
  failed(atEnd, 8, /before the script ended/);
});

test('packetdrill: an extra packet fails only when a later > line meets it', () => {
  const unread = runScript(script('+0 write(4, ..., 10) = 10', '+.1 < . 1:1(0) ack 11 win 514'));
  assert.equal(unread.status, 'pass', formatResult({ path: 'unread', result: unread }).join('\n'));
  const atEnd = runScript(
    script('+0 write(4, ..., 10) = 10', '+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0'),
  );
  assert.equal(atEnd.status, 'pass');
  const met = runScript(script('+0 write(4, ..., 10) = 10', '+.1 > . 1:1(0) ack 1'));
  failed(met, 9, /live packet payload: expected 0 bytes vs actual 10 bytes/);
});

test('a wrong return value or errno fails with both values and the errno text', () => {
  const r = runScript(script('+0 write(4, ..., 100) = 50'));
  failed(r, 8, /write\(4, \.\.\., 100\): expected 50, actual 100/);
  const e = runScript(
    [
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0',
      '+0 connect(3, ..., ...) = 0',
    ].join('\n'),
  );
  failed(e, 3, /expected 0, actual -1 EINPROGRESS \(Operation now in progress\)/);
  const errno = runScript(
    [
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0',
      '+0 connect(3, ..., ...) = -1 EAGAIN',
    ].join('\n'),
  );
  failed(errno, 3, /expected errno EAGAIN, actual -1 EINPROGRESS/);
});

test('tolerance is max(tolerance_usecs, 12.5% of the interval); --strict allows none', () => {
  // The RTO retransmission comes 300 ms after the data; the script says 310.
  const rto = scriptNoTlp(
    '+0 write(4, ..., 2920) = 2920',
    '+0 > . 1:1461(1460) ack 1 win 8192',
    '+0 > P. 1461:2921(1460) ack 1 win 8192',
    '+.31 > . 1:1461(1460) ack 1 win 8192',
  );
  assert.equal(runScript(rto).status, 'pass');
  failed(
    runScript(rto, { strict: true }),
    12,
    /but it happened at 0\.400000 s; tolerance 0\.000000 s/,
  );
  // 50 ms off is beyond 12.5% of 310 ms (38.75 ms).
  failed(runScript(rto.replace('+.31 >', '+.35 >')), 12, /timing error/);
  // --tolerance_usecs raises the floor.
  assert.equal(
    runScript(`--tolerance_usecs=60000\n${rto.replace('+.31 >', '+.35 >')}`).status,
    'pass',
  );
});

test('time ranges and * match an outbound packet whenever it comes', () => {
  const base = [
    '+0 write(4, ..., 2920) = 2920',
    '+0 > . 1:1461(1460) ack 1 win 8192',
    '+0 > P. 1461:2921(1460) ack 1 win 8192',
  ];
  assert.equal(
    runScript(scriptNoTlp(...base, '+.25~+.35 > . 1:1461(1460) ack 1 win 8192')).status,
    'pass',
  );
  assert.equal(runScript(scriptNoTlp(...base, '* > . 1:1461(1460) ack 1 win 8192')).status, 'pass');
  assert.equal(
    runScript(scriptNoTlp(...base, '0.35~0.45 > . 1:1461(1460) ack 1 win 8192')).status,
    'pass',
  );
  failed(
    runScript(scriptNoTlp(...base, '+.1~+.2 > . 1:1461(1460) ack 1 win 8192')),
    12,
    /in time range 0\.200000~0\.300000 s but it happened at 0\.400000 s/,
  );
});

test('a blocking call returns when the stack lets it, and must return at its end time', () => {
  const ok = script(
    '+0...0.2 read(4, ..., 1000) = 10',
    '+.2 < P. 1:11(10) ack 1 win 514',
    '+0 > . 1:1(0) ack 11 win 8191',
  );
  assert.equal(runScript(ok).status, 'pass');
  failed(
    runScript(ok.replace('+0...0.2 read', '+0...0.05 read')),
    8,
    /read\(4, \.\.\., 1000\) was still blocked at 0\.156251 s; the script expects it to return at 0\.150000 s \(tolerance 0\.006250 s\)/,
  );
  // Without "...", a call that blocks must still return within the tolerance.
  failed(runScript(ok.replace('+0...0.2 read', '+0 read')), 8, /still blocked/);
});

test("relative times count from the previous event's actual time", () => {
  // The retransmission the script puts at +.31 comes at 0.4 (within the
  // tolerance); the next line's +.1 counts from 0.4, not from 0.41.
  const lines: string[] = [];
  const r = runScript(
    scriptNoTlp(
      '+0 write(4, ..., 2920) = 2920',
      '+0 > . 1:1461(1460) ack 1 win 8192',
      '+0 > P. 1461:2921(1460) ack 1 win 8192',
      '+.31 > . 1:1461(1460) ack 1 win 8192',
      '+.1 < . 1:1(0) ack 2921 win 514',
    ),
    { verbose: (line) => lines.push(line) },
  );
  assert.equal(r.status, 'pass', r.message);
  assert.ok(lines.includes('0.500000 < . 1:1(0) ack 2921 win 514'), lines.join('\n'));
  const backwards = runScript(script('0.05 write(4, ..., 1) = 1'));
  failed(backwards, 8, /time goes backward in script from 0\.100000 s to 0\.050000 s/);
});

test('-D definitions substitute words and select #ifdef branches; comments are ignored', () => {
  const text = [
    '/* a block',
    '   comment */',
    '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // trailing comment',
    '+0 bind(3, ..., ...) = 0',
    '+0 listen(3, 1) = 0',
    '+0 < S 0:0(0) win 65535 <mss PEER_MSS>',
    '#ifdef BIG',
    '+0 > S. 0:0(0) ack 1 win 64240 <mss 1460>',
    '#else',
    '+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>',
    '#endif',
  ].join('\n');
  const big = runScript(text, {
    defines: new Map([
      ['PEER_MSS', '1000'],
      ['BIG', '1'],
    ]),
  });
  assert.equal(big.status, 'pass', big.message);
  const small = runScript(text, { defines: new Map([['PEER_MSS', '1000']]) });
  failed(small, 10, /tcp_window: expected 65535 vs actual 64240/);
  const headerDefine = runScript(`-D PEER_MSS=1200\n-D BIG\n${text}`);
  assert.equal(headerDefine.status, 'pass', headerDefine.message);
  const parsed = parseScript(text, new Map([['PEER_MSS', '536']]));
  assert.ok(!isParseError(parsed));
  const syn = parsed.events[3]!.action;
  assert.ok(syn.type === 'packet' && syn.packet.kind === 'tcp');
  assert.deepEqual(syn.packet.options, [{ kind: 'mss', value: 536 }]);
});

test('coalescing: equal-size segments match one larger line unless --strict_segments', () => {
  const text = script('+0 write(4, ..., 4380) = 4380', '+0 > P. 1:4381(4380) ack 1 win 8192');
  assert.equal(runScript(text).status, 'pass');
  failed(
    runScript(`--strict_segments\n${text}`),
    10,
    /live packet payload: expected 4380 bytes vs actual 1460 bytes/,
  );
  failed(runScript(text, { coalesce: false }), 9, /expected 4380 bytes vs actual 1460/);
});

test('a TS ecr that names no outbound TS val fails; one that does is rewritten to the live value', () => {
  const ts = [
    '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
    '+0 bind(3, ..., ...) = 0',
    '+0 listen(3, 1) = 0',
    '+0 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>',
    '+0 > S. 0:0(0) ack 1 win 64240 <mss 1460,sackOK,TS val 5000 ecr 100,nop,wscale 7>',
    '+.1 < . 1:1(0) ack 1 win 514 <nop,nop,TS val 100 ecr 5000>',
    '+0 accept(3, ..., ...) = 4',
    '+0 %{ assert tcpi_rtt == 100000 }%',
  ].join('\n');
  assert.equal(runScript(ts).status, 'pass');
  failed(
    runScript(ts.replace('ecr 5000>', 'ecr 4000>')),
    6,
    /unable to infer live TS ecr for script TS ecr 4000/,
  );
  // Interpolated from the first mapping: 4900 is 100 ms before 5000, so the RTT sample is 200 ms.
  const scaled = runScript(
    `--tcp_ts_ecr_scaled\n${ts.replace('ecr 5000>', 'ecr 4900>').replace('tcpi_rtt == 100000', 'tcpi_rtt == 200000')}`,
  );
  assert.equal(scaled.status, 'pass', scaled.message);
});

test('%{ }% asserts read TCP_INFO; a failed assert shows the values; other Python is skipped', () => {
  failed(
    runScript(script('+0 %{ assert tcpi_snd_cwnd == 11 }%')),
    8,
    /assertion failed: tcpi_snd_cwnd == 11 \(tcpi_snd_cwnd=10\)/,
  );
  assert.equal(
    runScript(script('+0 %{ assert 1 < tcpi_snd_cwnd <= 10 and not tcpi_retransmits }%')).status,
    'pass',
  );
  assert.equal(
    runScript(script('+0 %{ assert (tcpi_rto // 1000) % 7 == 300 % 7, "rto" }%')).status,
    'pass',
  );
  const skipped = runScript(script('+0 %{ import os }%'));
  assert.equal(skipped.status, 'skip');
  assert.match(skipped.message, /only assert statements/);
  const lost = runScript(script('+0 %{ assert tcpi_lost == 0 }%'));
  assert.equal(lost.status, 'skip');
  assert.match(lost.message, /tcpi_lost/);
});

test('what tcpts cannot run is SKIPPED with the reason, never passed', () => {
  const cases: Array<[string, RegExp]> = [
    [
      '`../common/defaults.sh`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      /runs a script file, and this run reads no files/,
    ],
    [
      '`sysctl -q net.ipv4.tcp_congestion_control=vegas`',
      /congestion control 'vegas' is not available/,
    ],
    ['`sysctl -q net.ipv4.tcp_recovery=2`', /models only RACK's bit/],
    ['`sysctl -q net.ipv4.tcp_mtu_probing=1`', /no packetization-layer PMTU probing/],
    ['`sysctl -q net.ipv4.tcp_ecn=3`', /no Accurate ECN/],
    [script('+0 send(4, ..., 100, MSG_MORE) = 100'), /send flags 0x8000 are not modelled/],
    [script('+0 recv(4, ..., 100, MSG_WAITALL) = 100'), /receive flags 0x100 are not modelled/],
    ['`sysctl -q net.core.somaxconn=5`', /not one tcpts models/],
    ['0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3', /only SOCK_STREAM/],
    [
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 epoll_create(1) = 4',
      /epoll_create\(\) is not supported/,
    ],
    ['0 < udp (100)', /UDP packets are not supported/],
    [
      '--gso_size=1000\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      /option --gso_size is not supported/,
    ],
    [
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_TCP, TCP_CORK, [1], 4) = 0',
      /TCP_CORK is not supported/,
    ],
  ];
  for (const [text, reason] of cases) {
    const r = runScript(text);
    assert.equal(r.status, 'skip', `${text}: ${r.status} ${r.message}`);
    assert.match(r.message, reason);
  }
});

test('bad scripts fail with a parse error and the line', () => {
  failed(
    runScript('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) <mss 1460>'),
    2,
    /window must be specified/,
  );
  failed(
    runScript('0 < S 0:0(0) win 100 <mss 1460,nop>'),
    1,
    /not padded to a multiple of 4 bytes: 1 excess bytes/,
  );
  failed(runScript('0 < S 0:5(0) win 100'), 1, /inconsistent TCP sequence numbers/);
  failed(runScript('0 < X 0:0(0) win 100'), 1, /invalid TCP flag 'X'/);
  failed(
    runScript('0 < S 0:0(0) win 100 <...>'),
    1,
    /<\.\.\.> for TCP options can only be used with outbound/,
  );
  failed(runScript('* write(3, ..., 1) = 1'), 1, /\* can only be used with outbound packets/);
  failed(
    runScript('#ifdef X\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3'),
    2,
    /#ifdef without #endif/,
  );
});

test('ICMP errors are built from the script line; unknown names fail', () => {
  const r = runScript(
    [
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0...0.05 connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)',
      '+0 > S 0:0(0) win 64240 <...>',
      '+.05 < icmp unreachable port_unreachable [0:0(0)]',
    ].join('\n'),
  );
  assert.equal(r.status, 'pass', r.message);
  failed(
    runScript(script('+0 < icmp unreachable port_gone [1:1(0)]')),
    8,
    /unknown ICMP code 'port_gone'/,
  );
});

test('--verbose sees every packet both ways and every call', () => {
  const lines: string[] = [];
  const r = runScript(script(), { verbose: (line) => lines.push(line) });
  assert.equal(r.status, 'pass');
  assert.ok(
    lines.includes('0.000000 < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>'),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.startsWith('0.000000 > S. 0:0(0) ack 1 win 64240')),
    lines.join('\n'),
  );
  assert.ok(lines.includes('0.100000 accept(3, ..., ...) = 4'), lines.join('\n'));
});

test('KNOWN-FAIL lines are read and carried into the result', () => {
  const text = `// KNOWN-FAIL: some reason\n${script().replace('ack 1 win 64240', 'ack 2 win 64240')}`;
  assert.equal(knownFailureOf(text), 'some reason');
  const r = runScript(text);
  assert.equal(r.status, 'fail');
  assert.equal(r.knownFailure, 'some reason');
  assert.match(formatResult({ path: 'k.pkt', result: r }).join('\n'), /known failure: some reason/);
  const passing = runScript(`// KNOWN-FAIL: fixed since\n${script()}`);
  assert.match(
    formatResult({ path: 'k.pkt', result: passing })[0]!,
    /^PASS k\.pkt \(it has a KNOWN-FAIL line/,
  );
});

test('report: one line per script, the summary, and the exit status', () => {
  const pass = runScript(script());
  const fail = runScript(script().replace('ack 1 win 64240', 'ack 2 win 64240'));
  const skip = runScript('`rm -rf /`');
  assert.deepEqual(formatResult({ path: 'a.pkt', result: pass }), ['PASS a.pkt']);
  const f = formatResult({ path: 'b.pkt', result: fail });
  assert.match(
    f[0]!,
    /^FAIL b\.pkt:5: live packet field tcp_ack_seq: expected 2 vs actual 1 \(at 0\.000000 s\)$/,
  );
  assert.match(f[1]!, /^ {2}script: /);
  assert.match(f[2]!, /^ {2}actual: /);
  assert.match(
    formatResult({ path: 'c.pkt', result: skip })[0]!,
    /^SKIPPED c\.pkt:1: shell command 'rm -rf \/' is not in the whitelist/,
  );
  const all = [
    { path: 'a', result: pass },
    { path: 'b', result: fail },
    { path: 'c', result: skip },
  ];
  assert.equal(summarize(all), '1 passed, 1 failed, 1 skipped');
  assert.equal(exitStatus(all), 1);
  assert.equal(exitStatus([all[0]!, all[2]!]), 2);
  assert.equal(exitStatus([all[0]!]), 0);
});

test('tcpts packetdrill: files and directories, output lines, exit status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-pd-'));
  writeFileSync(join(dir, 'a-pass.pkt'), script());
  writeFileSync(join(dir, 'b-skip.pkt'), '`echo hello`');
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  assert.equal(await runPacketdrillCommand([dir], io), 2);
  assert.deepEqual(out, [
    `PASS ${join(dir, 'a-pass.pkt')}`,
    `SKIPPED ${join(dir, 'b-skip.pkt')}:1: shell command 'echo hello' is not in the whitelist (sysctl, set_sysctls.py, script files, ip route metrics, ss state counts)`,
    '1 passed, 0 failed, 1 skipped',
  ]);
  writeFileSync(join(dir, 'c-fail.pkt'), script('+0 > P. 1:2(1) ack 1'));
  out.length = 0;
  assert.equal(
    await runPacketdrillCommand([join(dir, 'c-fail.pkt'), join(dir, 'a-pass.pkt')], io),
    1,
  );
  assert.match(out[0]!, /^FAIL .*c-fail\.pkt:8: expected outbound packet/);
  assert.equal(out[out.length - 1], '1 passed, 1 failed, 0 skipped');
  out.length = 0;
  assert.equal(await runPacketdrillCommand(['-v', join(dir, 'a-pass.pkt')], io), 0);
  assert.ok(
    out.some((l) => /^ {2}0\.000000 > S\. 0:0\(0\)/.test(l)),
    out.join('\n'),
  );
  assert.equal(await runPacketdrillCommand(['--bogus'], io), 2);
  assert.match(err[err.length - 1]!, /unknown option '--bogus'/);
  assert.equal(await runPacketdrillCommand([], io), 2);
  assert.equal(await runPacketdrillCommand(['--profile', 'solaris', 'x.pkt'], io), 2);
  assert.match(err[err.length - 1]!, /unknown profile 'solaris' \(known: linux\)/);
  out.length = 0;
  assert.equal(await runPacketdrillCommand(['--help'], io), 0);
  assert.match(out[0]!, /^Usage: tcpts packetdrill/);
});

test('loss-recovery sysctls map onto the TcpConfig switches', () => {
  const ctx: ShellContext = {
    tcp: PROFILES.linux!.tcp(),
    stack: { maxSynBacklog: null, fastOpen: 0x1 },
    stackCreated: false,
    countState: () => 0,
    defines: new Map(),
  };
  const run = (line: string): ShellOutcome => runShell(line, ctx);
  assert.equal(ctx.tcp.tlp, true);
  assert.deepEqual(run('sysctl -q net.ipv4.tcp_early_retrans=0'), { kind: 'ok' });
  assert.equal(ctx.tcp.tlp, false);
  assert.deepEqual(run('sysctl -q net.ipv4.tcp_early_retrans=3'), { kind: 'ok' });
  assert.equal(ctx.tcp.tlp, true);
  run('sysctl -q net.ipv4.tcp_early_retrans=2');
  assert.equal(ctx.tcp.tlp, false, 'the old early-retransmit values leave TLP off');
  run('sysctl -q net.ipv4.tcp_recovery=0');
  assert.equal(ctx.tcp.rack, false);
  run('sysctl -q net.ipv4.tcp_recovery=1');
  assert.equal(ctx.tcp.rack, true);
  assert.equal(run('sysctl -q net.ipv4.tcp_recovery=3').kind, 'skip');
  run('sysctl -q net.ipv4.tcp_frto=0');
  assert.equal(ctx.tcp.frto, false);
  run('sysctl -q net.ipv4.tcp_ecn=1');
  assert.equal(ctx.tcp.ecn, 1);
  assert.equal(run('sysctl -q net.ipv4.tcp_ecn=3').kind, 'skip', 'AccECN is not modelled');
  assert.equal(run('sysctl -q net.ipv4.tcp_ecn=7').kind, 'fail');
  run('sysctl -q net.ipv4.tcp_congestion_control=cubic');
  assert.equal(ctx.tcp.congestionControl, 'cubic');
  run('sysctl -q net.ipv4.tcp_congestion_control=reno');
  assert.equal(ctx.tcp.congestionControl, 'newreno');
  run('sysctl -q net.ipv4.tcp_moderate_rcvbuf=0');
  assert.equal(ctx.tcp.receiveBufferAutotuning, false);
});

test("an assert's message is evaluated only when it fails, and shown as written if it cannot be", () => {
  const lookup = (name: string): number | string | undefined =>
    name === 'tcpi_snd_cwnd' ? 10 : name === 'tcpi_lost' ? 'tcpi_lost is not kept' : undefined;
  assert.deepEqual(runCode("assert tcpi_snd_cwnd == 10, 'cwnd=%d' % tcpi_lost", lookup), {
    ok: true,
  });
  const failedAssert = runCode("assert tcpi_snd_cwnd == 12, 'cwnd=%d' % tcpi_snd_cwnd", lookup);
  assert.equal(failedAssert.ok, false);
  assert.match(
    (failedAssert as { message: string }).message,
    /^assertion failed: tcpi_snd_cwnd == 12, .* \('cwnd=%d' % tcpi_snd_cwnd; tcpi_snd_cwnd=10\)$/,
  );
});

test('ICMP types and codes by name per type, or as type_N and code_N', () => {
  assert.deepEqual(icmpCodes(4, 'unreachable', 'precedence_cutoff'), { type: 3, code: 15 });
  assert.deepEqual(icmpCodes(4, 'type_3', 'code_4'), { type: 3, code: 4 });
  assert.deepEqual(icmpCodes(6, 'time_exceeded', 'exceeded_frag_time'), { type: 3, code: 1 });
  assert.deepEqual(icmpCodes(6, 'echo_request', null), { type: 128, code: 0 });
  assert.match(String(icmpCodes(4, 'redirect', 'port_unreachable')), /unknown ICMP code/);
  assert.match(String(icmpCodes(4, 'type_300', null)), /unknown ICMP type 'type_300'/);
});

test('an --mtu too small for an MSS of 64 skips with the reason, from the script or the command line', () => {
  const text = '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 listen(3, 1) = 0';
  const fromScript = runScript(`--mtu=72\n${text}`);
  assert.equal(fromScript.status, 'skip');
  assert.match(
    fromScript.message,
    /--mtu=72 gives an MSS of 32, and tcpts needs an MSS of at least 64/,
  );
  const fromCommandLine = runScript(text, { scriptOptions: new Map([['mtu', '72']]) });
  assert.equal(fromCommandLine.status, 'skip');
  const v6 = runScript(text, {
    scriptOptions: new Map([
      ['ip_version', 'ipv6'],
      ['mtu', '100'],
    ]),
  });
  assert.match(v6.message, /MTU 124 for IPv6/);
});

test('--sysctl applies before the first line, by the same table', () => {
  const text = [
    '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
    '+0 bind(3, ..., ...) = 0',
    '+0 listen(3, 1) = 0',
    '+0 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>',
    '+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>',
  ].join('\n');
  assert.equal(runScript(text).status, 'fail', 'timestamps are on by default');
  const off = runScript(text, { sysctls: new Map([['net.ipv4.tcp_timestamps', '0']]) });
  assert.equal(off.status, 'pass', formatResult({ path: 'off', result: off }).join('\n'));
  const probing = runScript(text, {
    sysctls: new Map([['net.ipv4.tcp_mtu_probing', '1']]),
  });
  assert.equal(probing.status, 'skip');
  assert.match(probing.message, /^sysctl net\.ipv4\.tcp_mtu_probing=1: /);
});

test('each sysctl is modelled, a no-op, or unsupported, by the one table', () => {
  assert.equal(sysctlKind('net.ipv4.tcp_timestamps'), 'modelled');
  assert.equal(sysctlKind('net/ipv4/tcp_sack'), 'modelled');
  assert.equal(sysctlKind('net.ipv4.tcp_tso_win_divisor'), 'no-op');
  assert.equal(sysctlKind('net.ipv4.tcp_fastopen'), 'modelled');
  assert.equal(sysctlKind('net.ipv4.tcp_fastopen_key'), 'no-op');
  assert.equal(sysctlKind('net.ipv4.tcp_adv_win_scale'), 'unsupported');
  assert.equal(sysctlKind('net.ipv4.no_such_thing'), 'unsupported');
  for (const [name, entry] of Object.entries(SYSCTLS)) {
    if (entry.kind !== 'modelled') assert.ok(entry.why.length > 20, `${name} says why`);
  }
  const target = {
    tcp: PROFILES.linux!.tcp(),
    stack: { maxSynBacklog: null, fastOpen: 0x1 },
    stackCreated: false,
  };
  const before = { ...target.tcp };
  assert.deepEqual(applySysctl('net.ipv4.tcp_tso_win_divisor', '3', target), { kind: 'ok' });
  assert.deepEqual(target.tcp, before, 'a no-op changes nothing');
  assert.deepEqual(applySysctl('net.ipv4.tcp_fastopen', '0x70403', target), { kind: 'ok' });
  assert.equal(applySysctl('net.ipv4.tcp_fastopen', '0x602', target).kind, 'skip');
  assert.equal(target.stack.fastOpen, 0x602, 'the bits are kept for the Fast Open skip');
  const refused = applySysctl('net.ipv4.tcp_adv_win_scale', '1', target);
  assert.equal(refused.kind, 'skip');
  assert.match((refused as { reason: string }).reason, /^sysctl net\.ipv4\.tcp_adv_win_scale/);
  target.stackCreated = true;
  assert.equal(applySysctl('net.ipv4.tcp_max_syn_backlog', '8', target).kind, 'skip');
  assert.equal(applySysctl('net.ipv4.tcp_sack', '0', target).kind, 'ok');
  assert.equal(target.tcp.sack, false);
});

test('tcpts packetdrill: --sysctl, --NAME=VALUE options, -D, --strict_packets and script files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-pd-'));
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  const path = join(dir, 'open.pkt');
  writeFileSync(path, script());
  // --mtu=72 leaves an MSS of 32: a skip with the reason, not a crash.
  assert.equal(await runPacketdrillCommand(['--mtu=72', path], io), 2);
  assert.match(out[0]!, /^SKIPPED .*open\.pkt: --mtu=72 gives an MSS of 32/);
  out.length = 0;
  assert.equal(
    await runPacketdrillCommand(['--sysctl', 'net.ipv4.tcp_mtu_probing=1', path], io),
    2,
  );
  assert.match(out[0]!, /tcp_mtu_probing=1/);
  assert.equal(await runPacketdrillCommand(['--sysctl', 'nonsense', path], io), 2);
  assert.match(err[err.length - 1]!, /--sysctl needs NAME=VALUE/);
  // A script file next to the script, and a leftover packet only --strict_packets fails on.
  writeFileSync(join(dir, 'settings.sh'), 'sysctl -q net.ipv4.tcp_sack=1\n');
  const extra = join(dir, 'extra.pkt');
  writeFileSync(
    extra,
    `\`./settings.sh\`\n${script('+0 write(4, ..., 10) = 10', '+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0')}`,
  );
  out.length = 0;
  assert.equal(await runPacketdrillCommand([extra], io), 0, out.join('\n'));
  out.length = 0;
  assert.equal(await runPacketdrillCommand(['--strict_packets', extra], io), 1);
  assert.match(out[0]!, /unexpected outbound packet/);
  out.length = 0;
  assert.equal(await runPacketdrillCommand(['-D', 'MSS=1460', '--ip_version=ipv4', path], io), 0);
});

test('FO and FOEXP options parse with their cookies, however the lexer splits the hex', () => {
  const text = [
    '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
    '+0 < S 0:0(0) win 100 <FO,FO 3021b9d889017eeb,FOEXP 12345678,FOEXP COOKIE>',
  ].join('\n');
  const parsed = parseScript(text, new Map([['COOKIE', '00abaaabe8e954c2']]));
  if (isParseError(parsed)) assert.fail(parsed.error);
  const action = parsed.events[1]!.action;
  assert.equal(action.type, 'packet');
  const spec = action.type === 'packet' ? action.packet : null;
  const options = spec !== null && 'options' in spec ? spec.options : null;
  const hex = (c: Uint8Array): string => Buffer.from(c).toString('hex');
  assert.deepEqual(
    options?.map((o) => (o.kind === 'fastOpen' ? `${o.experimental}:${hex(o.cookie)}` : o.kind)),
    ['false:', 'false:3021b9d889017eeb', 'true:12345678', 'true:00abaaabe8e954c2'],
  );
  const odd = parseScript('0 < S 0:0(0) win 100 <FO 123,nop>');
  assert.ok(isParseError(odd) && /even number of hex digits/.test(odd.error));
});

test('a SYN with an FO option to a Fast Open listener skips: tcpts has no Fast Open server', () => {
  const syn = '+0 < S 0:10(10) win 32792 <mss 1460,sackOK,nop,nop,FO,nop,nop>';
  const lines = ['0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3', '+0 bind(3, ..., ...) = 0'];
  const enabled = runScript(
    ['`sysctl -q net.ipv4.tcp_fastopen=0x403`', ...lines, '+0 listen(3, 1) = 0', syn].join('\n'),
  );
  assert.equal(enabled.status, 'skip', enabled.message);
  assert.match(enabled.message, /no TCP Fast Open server/);
});
