// The live figures of the real `tcpts serve` (a child process, so no
// terminal): `--stats S` logs a figures line every S seconds, and SIGUSR1
// prints every connection as ss -ti does, while a kernel client is
// connected. A reset from the kernel's chargen client makes the close line
// say what went on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TCPTS_V4, kernel } from './driver.js';
import { startServe, withTcpts } from './cli.js';
import { pythonSkipReason, withNetns } from './netns.js';

const skip = pythonSkipReason() ?? false;

test(
  'serve --stats logs figures; SIGUSR1 dumps the open connection with its state, tcp_info and queues (TUN, IPv4)',
  { skip, timeout: 60_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tun', ['--echo'], ['--stats', '0.2']);
        await serve.waitFor(/^stats: 0 connections, received 0 B, sent 0 B, /);
        const idle = kernel(ns, ['idle-client', TCPTS_V4, 7]);
        await idle.ready;
        await serve.waitFor(/^open /);
        await serve.waitFor(
          /^stats: 1 connection, received 0 B, sent 0 B, 0 bit\/s; busiest: 10\.99\.0\.1:\d+ -> 10\.99\.0\.2:7 rtt /,
        );
        serve.child.kill('SIGUSR1');
        await serve.waitFor(/^tcpts serve: 1 connection:$/);
        const state = await serve.waitFor(
          /^ESTABLISHED +10\.99\.0\.1:\d+ -> 10\.99\.0\.2:7 {2}recv-q 0 send-q 0$/,
        );
        assert.ok(state);
        const info = await serve.waitFor(/^\t \S+ rtt:/);
        assert.match(info, / mss:\d+ .* bytes_acked:0 bytes_received:0 /);
        const exit = await serve.stop('SIGINT');
        assert.equal(exit.code, 0, serve.transcript());
        assert.equal((await idle.result).outcome, 'eof');
      }),
    );
  },
);
