// The live figures of serve and connect, over tcpts sockets in memory: the
// totals, the busiest connections, the status line and log line, the
// SIGUSR1 dump, and a status line that log lines do not tear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  LiveStats,
  StatusDisplay,
  formatDump,
  formatRate,
  formatStatsLog,
  formatStatusLine,
  parseStatsInterval,
} from '../../src/cli/live-stats.js';
import { runServe } from '../../src/cli/serve.js';
import { runConnect } from '../../src/cli/connect.js';
import type { Socket } from '../../src/net/index.js';
import { B4, realPair } from '../net/helpers.js';

test('--stats takes seconds; bad values are usage errors of serve and connect', async () => {
  assert.equal(parseStatsInterval('2'), 2000);
  assert.equal(parseStatsInterval('0.5'), 500);
  assert.match(String(parseStatsInterval('0')), /--stats takes seconds from 0.1 to 86400, got '0'/);
  assert.match(String(parseStatsInterval('x')), /got 'x'/);
  for (const run of [
    (io: { out(t: string): void; err(t: string): void }) =>
      runServe(['--echo', '--tun', 't0', '--addr', '10.0.0.2/24', '--stats', 'soon'], io),
    (io: { out(t: string): void; err(t: string): void }) =>
      runConnect(['--tun', 't0', '--addr', '10.0.0.2/24', '--stats', '-1', '10.0.0.1', '7'], io),
  ]) {
    const err: string[] = [];
    assert.equal(await run({ out: () => {}, err: (t) => err.push(t) }), 2);
    assert.equal(err.length, 1);
    assert.match(
      err[0]!,
      /^tcpts (serve|connect): (--stats takes seconds|bad value for option '--stats')/,
    );
  }
});

test('formatRate', () => {
  assert.equal(formatRate(0), '0 bit/s');
  assert.equal(formatRate(640_000), '640 kbit/s');
  assert.equal(formatRate(91_300_000), '91.3 Mbit/s');
  assert.equal(formatRate(2_500_000_000), '2.50 Gbit/s');
});

test('figures of live connections: totals, busiest, status and log lines, the dump', async () => {
  const pair = realPair();
  try {
    let clock = 0;
    const live = new LiveStats(() => clock);
    const accepted: Socket[] = [];
    const server = pair.netB.createServer((socket) => {
      accepted.push(socket);
      socket.pipe(socket); // echo
    });
    server.listen(7);
    await once(server, 'listening');
    const busy = pair.netA.connect(7, B4);
    const idle = pair.netA.connect(7, B4);
    await Promise.all([once(busy, 'connect'), once(idle, 'connect')]);
    live.add('busy', busy);
    live.add('idle', idle);
    live.sample(); // the reference point for rates
    const payload = Buffer.alloc(100_000, 1);
    let echoed = 0;
    busy.on('data', (c: Buffer) => (echoed += c.length));
    busy.write(payload);
    while (echoed < payload.length) await new Promise((r) => setTimeout(r, 5));
    clock = 2000; // two seconds later, as far as the rates know
    const s = live.sample();
    assert.equal(s.connections, 2);
    assert.equal(s.sent, payload.length);
    assert.equal(s.received, payload.length);
    assert.equal(s.rate, (2 * payload.length * 8) / 2);
    assert.equal(s.busiest[0]!.figures.name, 'busy');
    assert.equal(s.busiest[1]!.rate, 0);
    const status = formatStatusLine(s, 200);
    assert.match(
      status,
      /^2 connections, received 100 kB, sent 100 kB, 800 kbit\/s \| busy rtt [\d.]+ ms cwnd \S+ (kB|B) retrans 0 \| idle /,
    );
    assert.equal(formatStatusLine(s, 30).length, 30);
    assert.match(
      formatStatsLog(s),
      /^stats: 2 connections, .*; busiest: busy rtt .* retrans 0; idle /,
    );

    const dump = formatDump(live.connections());
    assert.equal(dump[0], '2 connections:');
    assert.match(dump[1]!, /^ESTABLISHED +busy {2}recv-q 0 send-q 0$/);
    assert.match(
      dump[2]!,
      /^\t \S+ rtt:[\d.]+\/[\d.]+ minrtt:[\d.]+ rto:\d+ mss:\d+ .*bytes_acked:100000 bytes_received:100000 /,
    );
    assert.match(dump[3]!, /^ESTABLISHED +idle /);

    // A closed connection leaves the list but its bytes stay in the totals.
    busy.destroy();
    live.remove(busy);
    const after = live.sample();
    assert.equal(after.connections, 1);
    assert.equal(after.sent, payload.length);
    idle.destroy();
    for (const socket of accepted) socket.destroy();
    server.close();
  } finally {
    pair.close();
  }
});

test('the status line is drawn on a terminal; a log line clears it and draws it again', async () => {
  const writes: string[] = [];
  const terminal = { isTTY: true, columns: 60, write: (t: string) => (writes.push(t), true) };
  const display = new StatusDisplay(new LiveStats(() => 0), {
    terminal,
    log: null,
    intervalMs: 10,
  });
  while (writes.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(writes[0], '\r\x1b[K0 connections, received 0 B, sent 0 B, 0 bit/s');
  const out: string[] = [];
  writes.length = 0;
  display.print((l) => out.push(l), 'open  a -> b');
  assert.deepEqual(out, ['open  a -> b']);
  assert.deepEqual(writes, ['\r\x1b[K', '0 connections, received 0 B, sent 0 B, 0 bit/s']);
  display.stop();
  assert.equal(writes.at(-1), '\r\x1b[K');
});

test('without a terminal, --stats S logs a line every S', async () => {
  const lines: string[] = [];
  const display = new StatusDisplay(new LiveStats(() => 0), {
    terminal: null,
    log: (l) => lines.push(l),
    intervalMs: 10,
  });
  while (lines.length < 2) await new Promise((r) => setTimeout(r, 5));
  display.stop();
  assert.equal(lines[0], 'stats: 0 connections, received 0 B, sent 0 B, 0 bit/s');
});
