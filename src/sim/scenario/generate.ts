/**
 * Planning: one seed gives one plan. A chain of 2 to 4 hosts, each link's
 * kind, MTU and impairments per direction, maybe a cut or an MTU drop, TCP
 * options per host and 1 to 3 workloads, all drawn from one seeded stream.
 * The order of the draws is the plan's identity: changing it changes what
 * every seed means (saved plans in test/sim/dst.test.ts do not change).
 */
import {
  SeededRng,
  chance,
  millis,
  randomFloat,
  randomInt,
  seconds,
  type Duration,
  type Rng,
} from '../../base/index.js';
import { type Impairment, type LinkKind } from '../../link/index.js';
import type { TcpConfig } from '../../tcp/index.js';
import type {
  Closer,
  Family,
  HostPlan,
  LinkPlan,
  MtuDropPlan,
  Pacing,
  ScenarioPlan,
  WorkloadPlan,
} from './plan.js';

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[randomInt(rng, xs.length)]!;
}

/** An integer in [lo, hi]. */
function between(rng: Rng, lo: number, hi: number): number {
  return lo + randomInt(rng, hi - lo + 1);
}

function pickWeighted<T>(rng: Rng, choices: ReadonlyArray<readonly [T, number]>): T {
  let total = 0;
  for (const [, w] of choices) total += w;
  let x = randomFloat(rng) * total;
  for (const [value, w] of choices) {
    x -= w;
    if (x < 0) return value;
  }
  return choices[choices.length - 1]![0];
}

/** Byte counts from nothing to a megabyte, most of them small. */
function randomSize(rng: Rng): number {
  if (chance(rng, 0.02)) return 1_000_000;
  return pick(rng, [0, 1, 10, 100, 1000, 1460, 5000, 20_000, 65_536, 100_000, 300_000]);
}

/** What a plan may draw from beyond the seed. */
export interface PlanOptions {
  /**
   * Congestion controls the end hosts choose from, one each ('cubic',
   * 'newreno', 'bbr'). With fewer than two nothing is drawn and the hosts
   * keep the stack's default (CUBIC): a seed means the same scenario as
   * before this option existed. The choice comes from its own stream, so
   * with it a seed keeps its links, faults and workloads too.
   */
  congestionControls?: readonly string[];
}

function chooseCongestionControls(seed: number, hosts: HostPlan[], names: readonly string[]): void {
  if (names.length < 2) return;
  const rng = new SeededRng((seed ^ 0x3c6ef372) >>> 0);
  for (const host of hosts) if (!host.router) host.tcp.congestionControl = pick(rng, names);
}

function randomTcp(rng: Rng): Partial<TcpConfig> {
  return {
    timestamps: chance(rng, 0.7),
    sack: chance(rng, 0.7),
    dsack: chance(rng, 0.8),
    windowScaling: chance(rng, 0.7),
    noDelay: chance(rng, 0.3),
    delayedAck: chance(rng, 0.8),
    sendBufferSize: pick(rng, [1024, 4096, 16_384, 65_536, 262_144, 1 << 20, 4 << 20]),
    receiveBufferSize: pick(rng, [1024, 2048, 8192, 65_536, 262_144, 1 << 20, 4 << 20]),
    initialCwndSegments: pick(rng, [1, 2, 4, 10, 10, 10]),
  };
}

/**
 * Conditions for one direction of a link. Loss stays at or below 5% and
 * bursts short, so that SYN retries (7 tries) and data retries (16) fail by
 * chance far less often than once in a million scenarios: a timeout then
 * means a bug, not bad luck.
 */
function randomImpairment(rng: Rng, maxFrame: number): Impairment {
  const imp: Impairment = {};
  if (chance(rng, 0.6)) {
    const delay = pick(rng, [100, 1000, 5000, 20_000, 50_000]);
    imp.delay = delay as Duration;
    if (chance(rng, 0.5)) imp.jitter = Math.floor(delay * randomFloat(rng) * 0.5) as Duration;
  }
  if (chance(rng, 0.35)) imp.loss = pick(rng, [0.001, 0.01, 0.02, 0.05]);
  if (chance(rng, 0.15)) {
    imp.burst = {
      pGoodToBad: pick(rng, [0.001, 0.005, 0.01]),
      // The chain moves once per frame, not per unit of time: on a quiet link
      // a burst can eat every retransmission of one segment. Leaving the bad
      // state quickly keeps seven lost SYNs in a row out of reach of chance.
      pBadToGood: pick(rng, [0.75, 0.8, 0.9]),
    };
  }
  if (chance(rng, 0.2)) {
    imp.reorder = pick(rng, [0.01, 0.05, 0.1]);
    imp.reorderDelay = millis(pick(rng, [1, 5, 20]));
  }
  if (chance(rng, 0.15)) imp.duplicate = pick(rng, [0.005, 0.02, 0.05]);
  if (chance(rng, 0.15)) imp.corrupt = pick(rng, [0.001, 0.005, 0.02]);
  if (chance(rng, 0.25)) {
    imp.rate = pick(rng, [1e6, 5e6, 20e6, 100e6]);
    // A small drop-tail queue: a few frames, never less than two full ones.
    imp.queueBytes = pick(rng, [2, 4, 8, 16]) * maxFrame;
  }
  return imp;
}

function randomPacing(rng: Rng): Pacing | null {
  if (!chance(rng, 0.2)) return null;
  return {
    bytes: pick(rng, [512, 4096, 65_536]),
    interval: millis(pick(rng, [1, 10, 100])),
  };
}

/** The kinds of workload and how often each is chosen. */
const WORKLOAD_WEIGHTS: ReadonlyArray<readonly [WorkloadPlan['kind'], number]> = [
  ['bulk', 3],
  ['request-response', 2],
  ['many-short', 2],
  ['half-close', 2],
  ['simultaneous-open', 1],
  ['simultaneous-close', 1],
  ['abort', 2],
  ['backlog', 1],
  ['udp-echo', 2],
];

function planWorkload(
  rng: Rng,
  kind: WorkloadPlan['kind'],
  family: Family,
  port: number,
): WorkloadPlan {
  const start = between(rng, 0, 2_000_000);
  switch (kind) {
    case 'bulk': {
      const clientBytes = randomSize(rng);
      const serverBytes = randomSize(rng);
      const clientPacing = randomPacing(rng);
      return {
        kind,
        family,
        port,
        start,
        clientBytes,
        serverBytes,
        clientPacing,
        serverPacing: randomPacing(rng),
        clientCloses: serverBytes === 0 && clientPacing === null && chance(rng, 0.5),
      };
    }
    case 'request-response': {
      const rounds: Array<{ request: number; response: number; think: number }> = [];
      const n = between(rng, 1, 10);
      // Think times up to past the RTO and the delayed-ACK timer: idle restarts of the window.
      const thinks = chance(rng, 0.5);
      for (let i = 0; i < n; i++)
        rounds.push({
          request: pick(rng, [1, 50, 500, 3000]),
          response: pick(rng, [0, 1, 100, 2000, 20_000, 100_000]),
          think: thinks ? pick(rng, [0, 10_000, 200_000, 3_000_000]) : 0,
        });
      return { kind, family, port, start, rounds };
    }
    case 'many-short': {
      const connections: Array<{ request: number; response: number; closer: Closer }> = [];
      const n = between(rng, 3, 30);
      const reuse = chance(rng, 0.25);
      for (let i = 0; i < n; i++)
        connections.push({
          request: between(rng, 1, 2000),
          response: between(rng, 0, 5000),
          closer: reuse || chance(rng, 0.5) ? 'server' : 'client',
        });
      return {
        kind,
        family,
        port,
        start,
        concurrency: reuse ? 1 : pick(rng, [1, 4, 30]),
        clientPort: reuse ? 30_000 + port : 0,
        connections,
      };
    }
    case 'half-close':
      return {
        kind,
        family,
        port,
        start,
        clientBytes: randomSize(rng),
        serverBefore: randomSize(rng),
        serverAfter: Math.max(1, randomSize(rng)),
      };
    case 'simultaneous-open':
      return {
        kind,
        family,
        portA: 20_000 + port,
        portB: 25_000 + port,
        start,
        aBytes: randomSize(rng),
        bBytes: randomSize(rng),
      };
    case 'simultaneous-close':
      return {
        kind,
        family,
        port,
        start,
        clientBytes: randomSize(rng),
        serverBytes: randomSize(rng),
      };
    case 'abort': {
      const bytes = pick(rng, [50_000, 200_000, 500_000]);
      return {
        kind,
        family,
        port,
        start,
        bytes,
        clientSends: chance(rng, 0.5),
        senderAborts: chance(rng, 0.5),
        abortAfter: Math.floor(bytes * (0.1 + 0.8 * randomFloat(rng))),
        keepAliveIdle: seconds(pick(rng, [2, 10, 30])),
      };
    }
    case 'backlog': {
      const backlog = between(rng, 1, 3);
      const acceptCount = between(rng, 0, backlog);
      const clients: Array<{ request: number; response: number; delay: number }> = [];
      const n = backlog + acceptCount + between(rng, 1, 5);
      const stagger = chance(rng, 0.5);
      for (let i = 0; i < n; i++)
        clients.push({
          request: between(rng, 1, 3000),
          response: between(rng, 0, 3000),
          delay: stagger ? between(rng, 0, 2_000_000) : 0,
        });
      return {
        kind,
        family,
        port,
        start,
        backlog,
        acceptCount,
        closeListenerAfter: between(rng, 5_000_000, 200_000_000),
        keepAliveIdle: seconds(20),
        clients,
      };
    }
    case 'udp-echo': {
      const bursts: Array<{ after: number; sizes: number[] }> = [];
      const n = between(rng, 1, 4);
      for (let i = 0; i < n; i++) {
        const sizes: number[] = [];
        const count = between(rng, 1, 40);
        for (let j = 0; j < count; j++) sizes.push(pick(rng, [4, 100, 1000, 1472, 3000, 8000]));
        bursts.push({ after: between(rng, 0, 5_000_000), sizes });
      }
      return { kind, family, port, start, bursts };
    }
  }
}

/**
 * The scenario a seed stands for: a chain of 2 to 4 hosts (a, up to two
 * routers, b), each link Ethernet or bare IP with its MTU and impairments
 * per direction, maybe one cut, TCP options per host and 1 to 3 workloads.
 */
export function planScenario(seed: number, options: PlanOptions = {}): ScenarioPlan {
  // A stream apart from the Network's own (which also starts from the seed).
  const rng = new SeededRng((seed ^ 0x2545f491) >>> 0);
  const familyChoice = pickWeighted<4 | 6 | 0>(rng, [
    [4, 2],
    [6, 2],
    [0, 1],
  ]);
  const routers = pickWeighted(rng, [
    [0, 9],
    [1, 7],
    [2, 4],
  ] as const);
  const names = ['a', ...(routers >= 1 ? ['r1'] : []), ...(routers >= 2 ? ['r2'] : []), 'b'];
  const hosts: HostPlan[] = names.map((name) => ({
    name,
    router: name.startsWith('r'),
    tcp: name.startsWith('r') ? {} : randomTcp(rng),
    // Sometimes a tiny SYN queue, so that bursts of connections go through SYN cookies.
    maxSynBacklog: name.startsWith('r') ? 1024 : pick(rng, [1024, 1024, 1024, 2, 1]),
  }));
  chooseCongestionControls(seed, hosts, options.congestionControls ?? []);
  // IPv6 needs 1280 on every link (RFC 8200 §5); IPv4 may go down to 576 (RFC 791).
  const mtus =
    familyChoice === 4
      ? [1500, 1500, 1500, 1400, 1280, 9000, 1006, 576]
      : [1500, 1500, 1500, 1400, 1280, 9000];
  const links: LinkPlan[] = [];
  for (let i = 0; i + 1 < names.length; i++) {
    const kind: LinkKind = chance(rng, 0.6) ? 'ethernet' : 'ip';
    const mtu = pick(rng, mtus);
    const maxFrame = mtu + (kind === 'ethernet' ? 14 : 0);
    links.push({
      name: `link${i + 1}`,
      kind,
      mtu,
      left: names[i]!,
      right: names[i + 1]!,
      leftToRight: randomImpairment(rng, maxFrame),
      rightToLeft: randomImpairment(rng, maxFrame),
      cut: null,
    });
  }
  if (chance(rng, 0.25)) {
    // Shorter than any retry budget: SYNs are retried for 127 s, data for minutes.
    const link = pick(rng, links);
    link.cut = {
      at: between(rng, 50_000, 10_000_000),
      duration: between(rng, 200_000, 20_000_000),
    };
  }
  let mtuDrop: MtuDropPlan | null = null;
  if (routers > 0 && chance(rng, 0.2)) {
    // A router's side of one of its links: the next packets too big for it draw ICMP.
    const router = pick(
      rng,
      hosts.filter((h) => h.router),
    ).name;
    const link = pick(
      rng,
      links.filter((l) => l.left === router || l.right === router),
    );
    const floor = familyChoice === 4 ? 576 : 1280;
    mtuDrop = {
      host: router,
      link: link.name,
      at: between(rng, 100_000, 5_000_000),
      mtu: Math.max(floor, Math.min(link.mtu - 8, pick(rng, [576, 1006, 1280, 1400]))),
    };
  }
  const workloads: WorkloadPlan[] = [];
  const count = pick(rng, [1, 1, 2, 2, 3]);
  for (let i = 0; i < count; i++) {
    const kind = pickWeighted(rng, WORKLOAD_WEIGHTS);
    const family: Family = familyChoice === 0 ? (chance(rng, 0.5) ? 4 : 6) : familyChoice;
    workloads.push(planWorkload(rng, kind, family, 1000 + i));
  }
  return { seed, hosts, links, mtuDrop, workloads };
}
