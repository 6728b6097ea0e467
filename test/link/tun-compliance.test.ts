// TUN and TAP links pass the same compliance suite as every other link
// (compliance.ts). A pair is two devices of one kind in a namespace of this
// test, wired to each other inside the kernel by tc: whatever arrives from
// one device's file descriptor (the kernel's ingress of that interface) is
// redirected untouched out of the other (its egress, which is what the other
// file descriptor reads). So every frame really crosses the addon, the file
// descriptors and the kernel's network device layer, and the kernel's
// delivery is synchronous enough for the suite's one-thread driver: a frame
// written is readable at the other end when write() returns.
//
// IPv6 is disabled in the namespace and the interfaces have no addresses,
// so the kernel adds no frames of its own (no router solicitations, no MLD).
import { after, test } from 'node:test';
import { LinkKind, type LinkPair } from '../../src/link/index.js';
import { openTap, openTun, type HostLink } from '../../src/link/node/index.js';
import { Netns, interopSkipReason, mirredFilter, tcSkipReason } from '../interop/netns.js';
import { linkCompliance } from './compliance.js';

let ns: Netns | null = null;
let skip = interopSkipReason();
if (skip === null) {
  ns = new Netns();
  skip = tcSkipReason(ns);
  if (skip === null) {
    ns.sysctl('net.ipv6.conf.all.disable_ipv6', '1');
    ns.sysctl('net.ipv6.conf.default.disable_ipv6', '1');
  }
}

let open: HostLink[] = [];

function closeAll(): void {
  for (const link of open) link.close();
  open = [];
}

after(() => {
  closeAll();
  ns?.delete();
});

/** Two devices of `kind` wired back to back by tc in the test's namespace. */
function wiredPair(namespace: Netns, config: { kind: LinkKind; mtu: number }): LinkPair<HostLink> {
  // The suite never closes its pairs; each test makes new ones, so the
  // previous pair can go (its devices vanish with their descriptors).
  closeAll();
  const openDevice = config.kind === LinkKind.Ethernet ? openTap : openTun;
  const a = openDevice({ name: 'wa%d', mtu: config.mtu, netns: namespace.path });
  open.push(a);
  const b = openDevice({ name: 'wb%d', mtu: config.mtu, netns: namespace.path });
  open.push(b);
  // Room for the suite's 500-frame burst in the receiving device's queue
  // (TUN/TAP default to 500 and drop beyond).
  namespace.batch(
    'ip',
    [a, b].map((link) => ['link', 'set', link.name, 'txqueuelen', '4096']),
  );
  namespace.batch('tc', [
    ['qdisc', 'add', 'dev', a.name, 'ingress'],
    ['qdisc', 'add', 'dev', b.name, 'ingress'],
    mirredFilter(a.name, b.name),
    mirredFilter(b.name, a.name),
  ]);
  return [a, b];
}

if (skip !== null || ns === null) {
  test('link compliance: TUN/TAP pairs wired by tc', { skip: skip ?? 'no namespace' }, () => {});
} else {
  const namespace = ns;
  linkCompliance('TUN pair wired by tc mirred', (config) => wiredPair(namespace, config), {
    instantaneous: false,
    kinds: [LinkKind.Ip],
  });
  linkCompliance('TAP pair wired by tc mirred', (config) => wiredPair(namespace, config), {
    instantaneous: false,
    kinds: [LinkKind.Ethernet],
  });
}
