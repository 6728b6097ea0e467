// Path MTU discovery against the kernel as a router. tcpts's TUN device
// ends in namespace A, which forwards to namespace B over a veth pair whose
// MTU is 1280. B advertises an MSS for a 1500-byte path (the route's
// `advmss`, as behind an MSS-clamping middlebox that got it wrong), so
// tcpts's first full-sized segments (1500 bytes, DF) are too big for A's
// next hop: A answers with ICMP "fragmentation needed" (IPv4, RFC 1191) or
// "packet too big" (ICMPv6, RFC 8201), tcpts lowers its MSS, retransmits
// smaller, and the transfer completes intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { BulkApp, KERNEL_V4, KERNEL_V6, kernel, withHost } from './driver.js';
import { Netns, pythonSkipReason } from './netns.js';

const skip = pythonSkipReason() ?? false;
const MB = 1024 * 1024;
const SIZE = 4 * MB;
const HOP_MTU = 1280;
const B_V4 = '10.98.0.2';
const B_V6 = 'fd98::2';

/** A counter of the namespace's ICMP statistics (/proc/net/snmp or snmp6). */
function icmpCounter(ns: Netns, family: 4 | 6): number {
  if (family === 4) {
    const text = ns.exec('cat', ['/proc/net/snmp']);
    const [names, values] = text.split('\n').filter((l) => l.startsWith('Icmp:'));
    const i = names!.split(/\s+/).indexOf('OutDestUnreachs');
    return Number(values!.split(/\s+/)[i]);
  }
  const line = ns
    .exec('cat', ['/proc/net/snmp6'])
    .split('\n')
    .find((l) => l.startsWith('Icmp6OutPktTooBigs'));
  return Number(line!.split(/\s+/)[1]);
}

test(
  `a ${HOP_MTU}-byte hop behind the kernel: ICMP makes tcpts lower its MSS and ${SIZE / MB} MB go through intact, IPv4 and IPv6 (TUN)`,
  { skip, timeout: 90_000 },
  async (t) => {
    const b = new Netns();
    try {
      await withHost('tun', async ({ ns: a, host }) => {
        // No duplicate address detection on the new links (their link-local
        // addresses would stay tentative for a second or two, and the
        // first IPv6 handshake with them).
        for (const ns of [a, b]) ns.sysctl('net.ipv6.conf.default.accept_dad', '0');
        // A: a router between tcpts's device and the veth to B.
        a.ip([
          'link',
          'add',
          'va',
          'mtu',
          String(HOP_MTU),
          'type',
          'veth',
          'peer',
          'name',
          'vb',
          'mtu',
          String(HOP_MTU),
          'netns',
          b.name,
        ]);
        a.batch('ip', [
          ['addr', 'add', '10.98.0.1/24', 'dev', 'va'],
          ['addr', 'add', 'fd98::1/64', 'dev', 'va', 'nodad'],
          ['link', 'set', 'va', 'up'],
        ]);
        a.sysctl('net.ipv4.ip_forward', '1');
        a.sysctl('net.ipv6.conf.all.forwarding', '1');
        // B: its routes back to tcpts advertise an MSS for 1500-byte packets.
        b.batch('ip', [
          ['addr', 'add', `${B_V4}/24`, 'dev', 'vb'],
          ['addr', 'add', `${B_V6}/64`, 'dev', 'vb', 'nodad'],
          ['link', 'set', 'vb', 'up'],
          ['route', 'add', '10.99.0.0/24', 'via', '10.98.0.1', 'advmss', '1460'],
          ['route', 'add', 'fd99::/64', 'via', 'fd98::1', 'advmss', '1440'],
        ]);
        // tcpts reaches B through the kernel.
        host.stack.addRoute('0.0.0.0/0', { via: KERNEL_V4 });
        host.stack.addRoute('::/0', { via: KERNEL_V6 });

        for (const family of [4, 6] as const) {
          const target = family === 4 ? B_V4 : B_V6;
          const icmpBefore = icmpCounter(a, family);
          const server = kernel(b, ['server', target, 7040 + family, SIZE, 40 + family]);
          await server.ready;
          const upload = randomBytes(SIZE);
          const app = new BulkApp(upload);
          const socket = host.stack.connect(host.now(), { host: target, port: 7040 + family });
          socket.owner = app;
          host.run();
          const ours = await app.done;
          const theirs = await server.result;
          assert.equal(ours.error, null, 'tcpts closed in order');
          assert.equal(theirs.received, SIZE);
          assert.equal(
            theirs.receivedSha256,
            createHash('sha256').update(upload).digest('hex'),
            'upload intact',
          );
          assert.equal(ours.received, SIZE);
          assert.equal(ours.receivedSha256, theirs.sentSha256, 'download intact');
          const icmp = icmpCounter(a, family) - icmpBefore;
          assert.ok(
            icmp > 0,
            `the kernel sent ICMP${family === 6 ? 'v6 packet too big' : ' fragmentation needed'}`,
          );
          const headers = family === 4 ? 40 : 60;
          const mss = socket.stats().sendMss;
          assert.ok(
            mss <= HOP_MTU - headers,
            `tcpts's MSS ${mss} fits the ${HOP_MTU}-byte hop (at most ${HOP_MTU - headers})`,
          );
          t.diagnostic(
            `IPv${family}: ${icmp} ICMP error(s) from the router; tcpts's MSS ${mss} ` +
              `(B advertised ${family === 4 ? 1460 : 1440}); ${(ours.ms / 1000).toFixed(2)} s`,
          );
        }
      });
    } finally {
      b.delete();
    }
  },
);
