// TunLink and TapLink against the kernel, one device at a time, in a
// namespace of this test: frames round-trip (we send a UDP datagram to a
// closed port, the kernel answers with ICMP port unreachable quoting it),
// readiness wakes the handler, the device is configured as asked, a frame
// longer than our MTU is counted and skipped, impair() and pcapTap() wrap a
// host link like any other, closing removes the device, and every way of
// failing to open says what is missing.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instant, millis, type Instant } from '../../src/base/index.js';
import { LinkDropReason, PcapReader, impair, pcapTap } from '../../src/link/index.js';
import { openTap, openTun, type HostLink } from '../../src/link/node/index.js';
import { Netns, interopSkipReason, pythonSkipReason } from '../interop/netns.js';
import { inEthernet, udpPacket } from './frames.js';

const skip = interopSkipReason();
const KERNEL = 0x0a630001; // 10.99.0.1
const OURS = 0x0a630002; // 10.99.0.2
const OUR_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

const origin = performance.now();
function now(): Instant {
  return instant(Math.floor((performance.now() - origin) * 1000));
}

/** Receives from `link` (woken by the host) until `match` accepts a frame; rejects after `ms`. */
function waitFor(
  link: { receive(now: Instant): Uint8Array | null },
  device: HostLink,
  match: (frame: Uint8Array) => boolean,
  ms = 3000,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      device.onReadable(null);
      reject(new Error(`no matching frame within ${ms} ms`));
    }, ms);
    const check = (): void => {
      for (let f = link.receive(now()); f !== null; f = link.receive(now())) {
        if (match(f)) {
          clearTimeout(timer);
          device.onReadable(null);
          resolve(f);
          return;
        }
      }
    };
    device.onReadable(check);
    check();
  });
}

/** The kernel's view of a device: `ip -j link show`. */
function linkInfo(ns: Netns, name: string): { mtu: number; flags: string[]; address?: string } {
  return (JSON.parse(ns.ip(['-j', 'link', 'show', 'dev', name])) as never[])[0]!;
}

function kernelCounters(ns: Netns, name: string): { rx: number; tx: number } {
  const j = JSON.parse(ns.ip(['-s', '-j', 'link', 'show', 'dev', name])) as {
    stats64: { rx: { packets: number }; tx: { packets: number } };
  }[];
  return { rx: j[0]!.stats64.rx.packets, tx: j[0]!.stats64.tx.packets };
}

/** A UDP datagram from us to a port of the kernel nobody listens on. */
function probe(tag: number): Uint8Array {
  return udpPacket(OURS, KERNEL, 40000 + tag, 9, new TextEncoder().encode(`tcpts probe ${tag}`));
}

/** Whether `packet` is the kernel's ICMP port unreachable quoting `sent` (IP and UDP headers). */
function isUnreachableFor(packet: Uint8Array, sent: Uint8Array): boolean {
  if (packet.length < 20 || packet[0] !== 0x45 || packet[9] !== 1) return false;
  const icmp = packet.subarray(20);
  if (icmp[0] !== 3 || icmp[1] !== 3) return false;
  const quote = icmp.subarray(8, 8 + 28);
  return quote.length === 28 && quote.every((b, i) => b === sent[i]);
}

let ns: Netns | null = null;
if (skip === null) {
  ns = new Netns();
  // No IPv6: the kernel then sends nothing of its own on the devices.
  ns.sysctl('net.ipv6.conf.all.disable_ipv6', '1');
  ns.sysctl('net.ipv6.conf.default.disable_ipv6', '1');
}
after(() => ns?.delete());

/** Runs `body` with a device of the namespace, closed afterwards whatever happens. */
async function withDevice<T extends HostLink>(
  open: () => T,
  body: (link: T, ns: Netns) => Promise<void> | void,
): Promise<void> {
  const link = open();
  try {
    await body(link, ns!);
  } finally {
    link.close();
  }
}

describe('TunLink / TapLink with the kernel', { skip: skip ?? false }, () => {
  test('TUN: a datagram to a closed port comes back as ICMP port unreachable quoting it; the kernel counts both', async () => {
    await withDevice(
      () => openTun({ name: 'rt%d', netns: ns!.path }),
      async (link, ns) => {
        ns.ip(['addr', 'add', '10.99.0.1/24', 'dev', link.name]);
        const sent = probe(1);
        assert.equal(link.send(now(), sent), true);
        // Written at the end of this turn of the event loop, or now:
        link.flush();
        const reply = await waitFor(link, link, (f) => isUnreachableFor(f, sent));
        assert.equal(reply.length, 20 + 8 + sent.length, 'the whole datagram is quoted');
        const s = link.stats();
        assert.equal(s.txFrames, 1);
        assert.equal(s.txBytes, sent.length);
        assert.ok(s.rxFrames >= 1);
        const k = kernelCounters(ns, link.name);
        assert.equal(k.rx, 1, 'the kernel received our one datagram');
        assert.ok(k.tx >= 1, 'and sent its answer');
      },
    );
  });

  test('TAP: the same round trip in Ethernet frames, addressed to the kernel interface MAC', async () => {
    await withDevice(
      () => openTap({ name: 'rt%d', netns: ns!.path }),
      async (link, ns) => {
        const kernelMac = linkInfo(ns, link.name)
          .address!.split(':')
          .map((h) => parseInt(h, 16));
        ns.batch('ip', [
          ['addr', 'add', '10.99.0.1/24', 'dev', link.name],
          // The kernel knows our MAC up front, so it answers without ARP.
          ['neigh', 'add', '10.99.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', link.name],
        ]);
        const sent = probe(2);
        assert.equal(link.send(now(), inEthernet(sent, kernelMac, OUR_MAC)), true);
        const frame = await waitFor(
          link,
          link,
          (f) => f[12] === 0x08 && f[13] === 0x00 && isUnreachableFor(f.subarray(14), sent),
        );
        assert.deepEqual([...frame.subarray(0, 6)], OUR_MAC, 'addressed to us');
        assert.deepEqual([...frame.subarray(6, 12)], kernelMac, 'from the kernel interface');
      },
    );
  });

  test('the device gets the MTU and state asked for; MTU 65535 works; up: false leaves it down', async () => {
    await withDevice(
      () => openTun({ name: 'big%d', mtu: 65535, netns: ns!.path }),
      (link, ns) => {
        const info = linkInfo(ns, link.name);
        assert.equal(info.mtu, 65535);
        assert.ok(info.flags.includes('UP'));
        assert.equal(link.mtu, 65535);
        assert.equal(link.kind, 'ip');
        assert.match(link.name, /^big\d+$/);
        assert.ok(link.fd >= 0);
      },
    );
    await withDevice(
      () => openTap({ name: 'down%d', mtu: 9000, up: false, netns: ns!.path }),
      (link, ns) => {
        const info = linkInfo(ns, link.name);
        assert.equal(info.mtu, 9000);
        assert.ok(!info.flags.includes('UP'));
        assert.equal(link.kind, 'ethernet');
      },
    );
  });

  test('a frame longer than our MTU (the kernel MTU raised behind our back) is counted too-big and skipped', async (t) => {
    const noPython = pythonSkipReason();
    if (noPython !== null) {
      t.skip(noPython);
      return;
    }
    await withDevice(
      () => openTun({ name: 'mtu%d', mtu: 1500, netns: ns!.path }),
      async (link, ns) => {
        ns.batch('ip', [
          ['addr', 'add', '10.99.0.1/24', 'dev', link.name],
          ['link', 'set', link.name, 'mtu', '9000'],
        ]);
        // A 4028-byte datagram, then a small one, both unfragmented at MTU 9000.
        ns.exec('python3', [
          '-c',
          'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); ' +
            "s.sendto(b'x' * 4000, ('10.99.0.2', 9)); s.sendto(b'small', ('10.99.0.2', 9))",
        ]);
        const small = await waitFor(link, link, (f) => f.length === 20 + 8 + 5);
        assert.equal(new TextDecoder().decode(small.subarray(28)), 'small');
        const s = link.stats();
        assert.equal(s.rxFrames, 1, 'only the small one was handed over');
        assert.equal(s.rxDropped, 1);
        assert.equal(s.drops[LinkDropReason.TooBig], 1);
      },
    );
  });

  test('pcapTap records both directions of a host link; the capture reads back', async () => {
    await withDevice(
      () => openTun({ name: 'cap%d', netns: ns!.path }),
      async (link, ns) => {
        ns.ip(['addr', 'add', '10.99.0.1/24', 'dev', link.name]);
        const tapped = pcapTap(link);
        const sent = probe(3);
        assert.equal(tapped.send(now(), sent), true);
        await waitFor(tapped, link, (f) => isUnreachableFor(f, sent));
        const reader = PcapReader.open(tapped.writer.bytes());
        assert.ok(reader instanceof PcapReader, 'the capture has a valid header');
        const records = [];
        for (let r = reader.next(); r !== null; r = reader.next()) records.push(r);
        assert.equal(reader.error, null);
        assert.equal(records.length, 2);
        assert.deepEqual(records[0]!.data, sent);
        assert.ok(isUnreachableFor(records[1]!.data, sent));
      },
    );
  });

  test('impair() over a host link: a delayed frame reaches the kernel only when its time comes; a lost one never', async () => {
    await withDevice(
      () => openTun({ name: 'imp%d', netns: ns!.path }),
      async (link, ns) => {
        ns.ip(['addr', 'add', '10.99.0.1/24', 'dev', link.name]);
        const delayed = impair(link, { seed: 1, outgoing: { delay: millis(20) } });
        const t0 = now();
        const sent = probe(4);
        assert.equal(delayed.send(t0, sent), true);
        link.flush();
        assert.equal(kernelCounters(ns, link.name).rx, 0, 'held by the impairment');
        assert.equal(delayed.pollTimeout(), t0 + millis(20));
        // Time passes, but only the driver moves frames: still held.
        await new Promise((resolve) => setTimeout(resolve, 25));
        assert.equal(kernelCounters(ns, link.name).rx, 0, 'nothing moves without the driver');
        // The driver's next call (now past the deadline) lets it depart; the
        // kernel's answer comes back through the wrapper.
        await waitFor(delayed, link, (f) => isUnreachableFor(f, sent));
        assert.equal(kernelCounters(ns, link.name).rx, 1);

        const lossy = impair(link, { seed: 2, outgoing: { loss: 1 } });
        assert.equal(lossy.send(now(), probe(5)), true, 'loss is silent, as on a wire');
        link.flush();
        assert.equal(
          kernelCounters(ns, link.name).rx,
          1,
          'the lost frame never reached the kernel',
        );
        assert.equal(lossy.stats().drops[LinkDropReason.Loss], 1);
      },
    );
  });

  test('close removes the device; afterwards send is refused as cut, receive is null, onReadable throws', async () => {
    const link = openTun({ name: 'gone%d', netns: ns!.path });
    const name = link.name;
    assert.equal(linkInfo(ns!, name).mtu, 1500);
    link.onReadable(() => {});
    link.close();
    link.close();
    assert.equal(link.closed, true);
    assert.equal(link.fd, -1);
    assert.equal(link.send(now(), probe(6)), false);
    assert.equal(link.stats().drops[LinkDropReason.Cut], 1);
    assert.equal(link.receive(now()), null);
    assert.throws(() => link.onReadable(() => {}), /closed/);
    // The descriptor is closed off the event loop: the kernel removes the
    // device a moment later.
    for (let i = 0; ; i++) {
      if (!ns!.tryExec('ip', ['link', 'show', 'dev', name]).ok) break;
      assert.ok(i < 100, `${name} still exists 2 s after close`);
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});

describe('opening fails with a sentence that says what is missing', () => {
  test('bad options are refused before the kernel is asked', () => {
    assert.throws(() => openTun({ mtu: 67 }), /mtu must be an integer from 68/);
    assert.throws(() => openTap({ mtu: 65536 }), /mtu must be an integer from 68/);
    assert.throws(() => openTun({ name: 'a-name-of-16-byt' }), /1 to 15 bytes/);
    assert.throws(() => openTun({ name: '' }), /1 to 15 bytes/);
    assert.throws(() => openTun({ netns: '' }), /namespace name or a path/);
  });

  test('a namespace that does not exist: ENOENT', { skip: skip ?? false }, () => {
    assert.throws(
      () => openTun({ netns: `tcpts-no-such-${process.pid}` }),
      (e: NodeJS.ErrnoException) =>
        e.code === 'ENOENT' &&
        e.syscall === 'open' &&
        /network namespace '\/run\/netns\/tcpts-no-such-\d+' does not exist/.test(e.message),
    );
  });

  test(
    'a name taken by another kind of device, or by a device in use: EINVAL, EBUSY',
    { skip: skip ?? false },
    async () => {
      assert.throws(
        () => openTun({ name: 'lo', netns: ns!.path }),
        (e: NodeJS.ErrnoException) =>
          e.code === 'EINVAL' && /'lo' cannot be opened as a TUN device/.test(e.message),
      );
      await withDevice(
        () => openTun({ name: 'busy0', netns: ns!.path }),
        () => {
          assert.throws(
            () => openTun({ name: 'busy0', netns: ns!.path }),
            (e: NodeJS.ErrnoException) =>
              e.code === 'EBUSY' && /TUN device 'busy0' is busy/.test(e.message),
          );
          assert.throws(
            () => openTap({ name: 'busy0', netns: ns!.path }),
            (e: NodeJS.ErrnoException) =>
              e.code === 'EINVAL' && /cannot be opened as a TAP device/.test(e.message),
          );
        },
      );
    },
  );

  test(
    'without root: EACCES or EPERM, saying to run as root or grant CAP_NET_ADMIN',
    { skip: skip ?? false },
    () => {
      // A child that gives up root before it opens a device. It loads
      // everything first, so that the checkout need not be readable by nobody.
      const code = [
        "const { openTun, tuntapAvailability } = await import('./src/link/node/index.ts');",
        'tuntapAvailability();',
        'process.setgid(65534); process.setuid(65534);',
        'try { openTun(); console.log("opened"); }',
        'catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }',
      ].join('\n');
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', code],
        {
          cwd: fileURLToPath(new URL('../..', import.meta.url)),
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      const last = r.stdout.trim().split('\n').pop() ?? '';
      assert.ok(last.startsWith('{'), `child said: ${r.stdout}${r.stderr}`);
      const e = JSON.parse(last) as { code: string; message: string };
      assert.ok(e.code === 'EACCES' || e.code === 'EPERM', e.code);
      assert.match(e.message, /run as root|CAP_NET_ADMIN/);
    },
  );

  test('where the addon is not installed or not built: ERR_TUNTAP_NOT_BUILT, with the reason and the command to run', () => {
    // A copy of the loader in an empty tree: no @tcpts/tuntap to resolve,
    // so it looks in the tree's packages/tuntap (a checkout's), three levels
    // above itself.
    const root = mkdtempSync(join(tmpdir(), 'tcpts-noaddon-'));
    try {
      const dir = join(root, 'src', 'link', 'node');
      mkdirSync(dir, { recursive: true });
      copyFileSync(
        fileURLToPath(new URL('../../src/link/node/addon.ts', import.meta.url)),
        join(dir, 'addon.mts'),
      );
      const code = [
        `const m = await import(${JSON.stringify(join(dir, 'addon.mts'))});`,
        'const a = m.tuntapAvailability();',
        'try { m.requireAddon(); console.log("loaded"); }',
        'catch (e) { console.log(JSON.stringify({ a, code: e.code, message: e.message })); }',
      ].join('\n');
      const load = () => {
        const r = spawnSync(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', code],
          {
            cwd: fileURLToPath(new URL('../..', import.meta.url)),
            encoding: 'utf8',
            timeout: 20_000,
            env: { ...process.env, TCPTS_TUNTAP_ADDON: undefined },
          },
        );
        const last = r.stdout.trim().split('\n').pop() ?? '';
        assert.ok(last.startsWith('{'), `child said: ${r.stdout}${r.stderr}`);
        return JSON.parse(last) as {
          a: { available: boolean; reason?: string; hint?: string };
          code: string;
          message: string;
        };
      };
      // Not installed at all: the package to install.
      const missing = load();
      assert.equal(missing.code, 'ERR_TUNTAP_NOT_BUILT');
      assert.equal(missing.a.available, false);
      if (process.platform === 'linux') {
        assert.equal(
          missing.message,
          "tcpts: the TUN/TAP addon is not available (@tcpts/tuntap is not installed); run 'npm install @tcpts/tuntap' " +
            '(it compiles a small C addon: Linux, a C compiler)',
        );
      }
      // There but not built: the reason its build left, and the rebuild.
      const pkg = join(root, 'packages', 'tuntap');
      mkdirSync(join(pkg, 'build'), { recursive: true });
      writeFileSync(join(pkg, 'package.json'), '{"name":"@tcpts/tuntap"}\n');
      writeFileSync(join(pkg, 'build', 'not-built.txt'), 'node-gyp failed: gcc: not found\n');
      const unbuilt = load();
      assert.equal(unbuilt.code, 'ERR_TUNTAP_NOT_BUILT');
      if (process.platform === 'linux') {
        assert.equal(
          unbuilt.message,
          "tcpts: the TUN/TAP addon is not available (node-gyp failed: gcc: not found); run 'npm rebuild @tcpts/tuntap' " +
            "with a C compiler on Linux (npm 11 first wants 'npm install-scripts approve @tcpts/tuntap')",
        );
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
