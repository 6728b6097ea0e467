// Many connections at once: the kernel (python3 with selectors, one
// process) opens 1,000 connections to the real `tcpts serve --echo` and
// waits until all are established (from its side: connect done, no error);
// then each sends 2 KB of its own, reads them echoed, half-closes and reads
// to EOF. Every one must come back intact and close cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TCPTS_V4 } from './driver.js';
import { closeLines, startServe, withTcpts } from './cli.js';
import { kernel } from './driver.js';
import { pythonSkipReason, withNetns } from './netns.js';

const skip = pythonSkipReason() ?? false;
const COUNT = 1000;
const BYTES = 2048;

test(
  `the kernel opens ${COUNT} concurrent connections to tcpts serve --echo; each exchanges ${BYTES} B intact (TUN, IPv4)`,
  { skip, timeout: 90_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tun', ['--echo']);
        const r = await kernel(ns, ['many', TCPTS_V4, 7, COUNT, BYTES], 80_000).result;
        assert.deepEqual(r.failures, [], JSON.stringify(r));
        assert.equal(r.ok, COUNT);
        // Every connection logged its open and a clean close with its bytes.
        const deadline = performance.now() + 10_000;
        while (closeLines(serve).length < COUNT && performance.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const closes = closeLines(serve);
        assert.equal(closes.length, COUNT);
        assert.equal(serve.lines.filter((l) => l.startsWith('open ')).length, COUNT);
        const clean = closes.filter((l) =>
          new RegExp(`: received ${BYTES} B, sent ${BYTES} B, [\\d.]+ s$`).test(l),
        );
        assert.equal(
          clean.length,
          COUNT,
          closes.find((l) => !clean.includes(l)),
        );
        // How many were open at once at tcpts's end, from the order of the log lines.
        let openNow = 0;
        let peak = 0;
        for (const line of serve.lines) {
          if (line.startsWith('open ')) peak = Math.max(peak, ++openNow);
          else if (line.startsWith('close ')) openNow--;
        }
        // Not asserted: the kernel's burst of 1,000 SYNs and handshake ACKs
        // overflows the TUN device's queue (txqueuelen 500) on the kernel's
        // side, so some handshakes finish at tcpts only with a later
        // retransmission or the first data, after other connections closed.
        t.diagnostic(
          `${COUNT} connections: all established by ${r.established} s, done by ${r.seconds} s ` +
            `(kernel's clock); at most ${peak} open at once at tcpts's end`,
        );
        assert.equal((await serve.stop()).code, 0);
      }),
    );
  },
);
