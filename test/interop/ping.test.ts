// The kernel pings tcpts: ICMP echo over IPv4 and ICMPv6 echo over IPv6,
// across a TUN device (bare IP) and a TAP device (Ethernet, so the kernel
// first resolves tcpts's address with ARP or NDP and tcpts must answer).
// Sizes: small, near the MTU, and larger than the MTU, so that the kernel
// fragments the request and tcpts reassembles it, then fragments its reply
// for the kernel to reassemble.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TCPTS_V4, TCPTS_V6, kernel, withHost } from './driver.js';
import { pythonSkipReason } from './netns.js';

const skip = pythonSkipReason();

interface PingResult {
  sent: number;
  replies: { seq: number; ms: number; intact: boolean }[];
}

for (const kind of ['tun', 'tap'] as const) {
  for (const family of [4, 6] as const) {
    test(
      `the kernel pings tcpts over ${kind.toUpperCase()}, IPv${family}: replies intact, including fragmented ones`,
      { skip: skip ?? false, timeout: 30_000 },
      async () => {
        await withHost(kind, async ({ ns, host }) => {
          const target = family === 4 ? TCPTS_V4 : TCPTS_V6;
          for (const size of [56, 1400, 4000]) {
            const r = (await kernel(ns, ['ping', target, 3, size]).result) as unknown as PingResult;
            assert.equal(r.replies.length, 3, `${size}-byte pings: ${JSON.stringify(r)}`);
            for (const reply of r.replies) assert.ok(reply.intact, `reply ${reply.seq} differs`);
          }
          const stats = host.stack.stats();
          assert.ok(stats.interfaces[0]!.framesIn >= 9, 'tcpts saw the requests');
          if (kind === 'tap') {
            // The kernel had to learn our MAC (ARP or NDP) and we had to
            // learn its, to answer.
            assert.ok(stats.neighbors >= 1, 'tcpts has the kernel as a neighbour');
          }
        });
      },
    );
  }
}
