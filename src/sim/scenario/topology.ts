/**
 * The network a plan stands for: its hosts (routers forward), each link a
 * memory pair with the impairments of each direction (and a pcap tap when
 * capturing), a wire observer between every stack and its link, the
 * addresses of each subnet and the routes along the chain.
 */
import { impair, memoryPair, pcapTap, type ImpairedLink, type PcapTap } from '../../link/index.js';
import type { SimHost } from '../network.js';
import type { Family, LinkPlan } from './plan.js';
import type { Run } from './run.js';
import { TcpWireLedger } from './wire-ledger.js';
import { WireObserver } from './wire-observer.js';

/** One end of a built link: its host, the observer the stack sees, and the impaired link under it. */
export interface BuiltEnd {
  host: SimHost;
  observer: WireObserver;
  link: ImpairedLink;
}

/** A built link: its plan, both ends, and its capture when capturing. */
export interface BuiltLink {
  plan: LinkPlan;
  left: BuiltEnd;
  right: BuiltEnd;
  tap: PcapTap | null;
}

/** Route a scenario's traffic: subnets 10.0.i.0/24 and fd00:0:0:i::/64 on link i, .1 left and .2 right. */
export function address(link: number, side: 1 | 2, family: Family): string {
  return family === 4 ? `10.0.${link}.${side}` : `fd00:0:0:${link}::${side}`;
}

/** Builds the hosts, links, observers, addresses and routes of the run's plan into `run`. */
export function buildTopology(run: Run, capture: boolean): void {
  const plan = run.plan;
  let pathMtu = 65535;
  for (const l of plan.links) pathMtu = Math.min(pathMtu, l.mtu);
  for (const h of plan.hosts) {
    const host = run.net.addHost(h.name, {
      tcp: h.tcp,
      forwarding: h.router,
      maxSynBacklog: h.maxSynBacklog,
    });
    run.hosts.set(h.name, host);
    if (!h.router) run.ledgers.set(host, new TcpWireLedger(pathMtu));
    run.appOf(host);
  }
  const ifCount = new Map<string, number>();
  const attach = (name: string, endpoint: ImpairedLink, link: number, side: 1 | 2): BuiltEnd => {
    const host = run.hosts.get(name)!;
    const observer = new WireObserver(
      endpoint,
      run.ledgers.get(host) ?? null,
      (length) => {
        run.oversize++;
        if (run.oversize <= 3)
          run.fail(
            'oversize',
            `${name} sent a ${length}-byte frame on link${link} (MTU ${endpoint.mtu}, ${endpoint.kind})`,
          );
      },
      // A damaged ARP packet is survivable since the neighbour cache re-probes (RFC 4861 NUD):
      // the delivery and clean-end invariants judge the run.
      () => undefined,
    );
    const n = ifCount.get(name) ?? 0;
    ifCount.set(name, n + 1);
    const h = plan.hosts.findIndex((x) => x.name === name);
    run.net.attach(host, observer, {
      name: `${name}-link${link}`,
      // Distinct MACs: the stack's default derives one from the interface index alone.
      mac: `02:00:00:00:${(h + 1).toString(16).padStart(2, '0')}:${(n + 1).toString(16).padStart(2, '0')}`,
      addresses: [`${address(link, side, 4)}/24`, `${address(link, side, 6)}/64`],
    });
    return { host, observer, link: endpoint };
  };
  plan.links.forEach((lp, i) => {
    const [l, r] = memoryPair({ kind: lp.kind, mtu: lp.mtu });
    // The tap sits under the left end's impairment: it sees the wire after
    // the left end's conditions and what arrives from the right end after its own.
    const tap = capture ? pcapTap(l) : null;
    const left = impair(tap ?? l, { rng: run.net.rng(), outgoing: lp.leftToRight });
    const right = impair(r, { rng: run.net.rng(), outgoing: lp.rightToLeft });
    const built: BuiltLink = {
      plan: lp,
      left: attach(lp.left, left, i + 1, 1),
      right: attach(lp.right, right, i + 1, 2),
      tap,
    };
    run.links.push(built);
  });
  // Routes: a and b point at their router; each router at the next one for the far subnets.
  const n = plan.links.length;
  const names = plan.hosts.map((h) => h.name);
  for (let pos = 0; pos < names.length; pos++) {
    const stack = run.hosts.get(names[pos]!)!.stack;
    for (const family of [4, 6] as const) {
      const any = family === 4 ? '0.0.0.0/0' : '::/0';
      if (pos === 0 && n > 1) stack.addRoute(any, { via: address(1, 2, family) });
      else if (pos === names.length - 1 && n > 1)
        stack.addRoute(any, { via: address(n, 1, family) });
      else if (pos > 0 && pos < names.length - 1) {
        // Router between link `pos` (left) and link `pos + 1` (right).
        for (let link = 1; link <= n; link++) {
          const prefix = family === 4 ? `10.0.${link}.0/24` : `fd00:0:0:${link}::/64`;
          if (link > pos + 1) stack.addRoute(prefix, { via: address(pos + 1, 2, family) });
          else if (link < pos) stack.addRoute(prefix, { via: address(pos, 1, family) });
        }
      }
    }
  }
}
