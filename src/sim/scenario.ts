/**
 * Deterministic simulation testing (DST): one seed gives one random scenario
 * (a topology of hosts and routers, impaired links, TCP options, a mix of
 * workloads), runs it in virtual time and checks invariants. Everything
 * follows from the seed, so a failing seed is a complete reproducer:
 * `npm run sim -- --seed N` runs it again, byte for byte.
 *
 * Invariants checked in every scenario (the `check` name of a failure in
 * brackets):
 *
 * - [data] Every byte a connection delivers is the byte sent at that offset
 *   of the stream (each stream is a keyed function of the offset, so the
 *   comparison needs no copy), and never more bytes than were sent. So data
 *   arrives exactly once and in order; for a connection that ends in a reset
 *   what arrived is a prefix of what was sent.
 * - [outcome] Each connection ends as its workload expects: cleanly (all
 *   bytes both ways, error null, CLOSED after TIME-WAIT, every byte written
 *   acknowledged), `aborted` on the side that called abort(), `reset` on the
 *   other side (or normally, when all data and the FIN beat the RST), or
 *   for a listener that stops accepting, cleanly if accepted and otherwise
 *   refused, reset or timed out. Two legitimate exceptions are tolerated
 *   and counted: a connection reset by a failed SYN cookie (a later segment
 *   reached the listener before the handshake's ACK; Linux resets too), and
 *   a connection accepted that nobody opened (an old duplicate of a
 *   handshake's ACK still carrying a valid cookie), which the server closes.
 * - [events] Per socket: nothing after `closed`; `connected` and
 *   `peer-closed` at most once; no byte readable after the FIN beyond what
 *   was there when `peer-closed` came.
 * - [stuck] The workloads finish within the time budget (default 3 hours of
 *   virtual time), and the network then falls quiet.
 * - [tables] At the end every stack has no TCP connection (TIME-WAIT
 *   expired), listener, UDP socket or partial fragment left, and
 *   `pollTimeout()` is NEVER on every stack and link endpoint. Neighbour
 *   entries stay (stale, without a timer: RFC 4861 §7.3.3, see
 *   stack/neighbor.ts), which is why the cache is not required to be empty.
 * - [counters-interface] Each interface's `framesOut` / `framesIn` equal the
 *   frames its stack handed to the link and took from it (counted by a
 *   wrapper between the stack and the link).
 * - [counters-link] Per link and direction: frames handed over by one stack
 *   plus the copies the impairment made equal the frames the other stack
 *   received plus the drops both endpoints counted (after the network is
 *   quiet, nothing is in flight).
 * - [counters-tcp-wire] Per end host, watching every TCP segment it emits:
 *   the sum of `bytesSent` over its connections equals the highest stream
 *   offset seen on the wire per connection (new data), `bytesRetransmitted`
 *   equals the payload bytes sent below that offset, and `dataSegmentsSent`
 *   equals the segments that carried new data. Exact unless the stack
 *   dropped packets before the link (neighbour resolution failed or its
 *   queue overflowed), where the counters may only exceed the wire.
 * - [counters-bytes-received] A cleanly closed connection's `bytesReceived`
 *   equals the bytes its application read.
 * - [udp] Every datagram echoed is one that was sent, unchanged (unless the
 *   damage cancels in the Internet checksum, possible when two fragments
 *   were each damaged); when nothing was lost anywhere, every datagram was
 *   echoed.
 * - [oversize] No stack hands its link a frame bigger than the interface
 *   MTU, and no data segment is too big for the path by its SACK option.
 * - [exception] No exception escapes the stacks, the links or the harness.
 *
 * This file uses no host API (it sits below the sans-IO line); scripts/sim.ts
 * and scripts/soak.ts write the captures to files. A plan is plain data:
 * failing plans are kept as regression tests in test/sim/dst.test.ts so
 * that they stay the same scenario when the generator here changes.
 */
import {
  NEVER,
  SeededRng,
  chance,
  later,
  millis,
  randomFloat,
  randomInt,
  seconds,
  seqDiff,
  type Duration,
  type Instant,
  type Rng,
  type SeqNum,
} from '../base/index.js';
import {
  impair,
  maxFrameLength,
  memoryPair,
  pcapTap,
  type ImpairedLink,
  type Impairment,
  type LinkEndpoint,
  type LinkKind,
  type LinkStats,
  type PcapTap,
} from '../link/index.js';
import {
  IpAddr,
  type StackEvent,
  type TcpListener,
  type TcpSocket,
  type UdpSocket,
} from '../stack/index.js';
import { TcpState, type TcpConfig, type TcpError, type TcpEvent } from '../tcp/index.js';
import { Network, type SimHost } from './network.js';

// =====================================================================
// Public types
// =====================================================================

/** Address family of a workload's traffic. */
export type Family = 4 | 6;

/** One host of the plan: an end host ("a", "b") or a router ("r1", "r2"). */
export interface HostPlan {
  name: string;
  router: boolean;
  /** TCP options of this host's stack. */
  tcp: Partial<TcpConfig>;
  /** Half-open connections per listener before SYN cookies (StackOptions.maxSynBacklog). */
  maxSynBacklog: number;
}

/** A scheduled cut of a link and its healing, in microseconds of virtual time. */
export interface CutPlan {
  at: number;
  duration: number;
}

/** One link of the chain a - [r1 - [r2 -]] b. */
export interface LinkPlan {
  name: string;
  kind: LinkKind;
  mtu: number;
  /** Host on the left (towards a) and on the right (towards b). */
  left: string;
  right: string;
  /** Conditions of frames sent by the left end, and by the right end. */
  leftToRight: Impairment;
  rightToLeft: Impairment;
  cut: CutPlan | null;
}

/** A reader that takes at most `bytes` every `interval` µs instead of everything at once. */
export interface Pacing {
  bytes: number;
  interval: number;
}

/** Who closes first in a short connection. */
export type Closer = 'client' | 'server';

/** One workload; several may run at once on different ports. Sizes are bytes, times µs. */
export type WorkloadPlan =
  | {
      kind: 'bulk';
      family: Family;
      port: number;
      start: number;
      clientBytes: number;
      serverBytes: number;
      clientPacing: Pacing | null;
      serverPacing: Pacing | null;
      /** The client ends with close() (an orphaned FIN-WAIT-2) instead of shutdown(); only when it receives nothing. */
      clientCloses: boolean;
    }
  | {
      kind: 'request-response';
      family: Family;
      port: number;
      start: number;
      /** Each round: the client sends a request after `think` µs idle, the server answers. */
      rounds: Array<{ request: number; response: number; think: number }>;
    }
  | {
      kind: 'many-short';
      family: Family;
      port: number;
      start: number;
      concurrency: number;
      /**
       * Every connection from this one client port (0: ephemeral ports),
       * one at a time, the server closing first: each new SYN meets the
       * server's TIME-WAIT of the one before (RFC 9293 §3.6.1, RFC 6191).
       */
      clientPort: number;
      connections: Array<{ request: number; response: number; closer: Closer }>;
    }
  | {
      kind: 'half-close';
      family: Family;
      port: number;
      start: number;
      clientBytes: number;
      /** Server bytes before the client's FIN arrives, and after it. */
      serverBefore: number;
      serverAfter: number;
    }
  | {
      kind: 'simultaneous-open';
      family: Family;
      /** Fixed ports: a connects from portA to b's portB, b from portB to a's portA. */
      portA: number;
      portB: number;
      start: number;
      aBytes: number;
      bBytes: number;
    }
  | {
      kind: 'simultaneous-close';
      family: Family;
      port: number;
      start: number;
      clientBytes: number;
      serverBytes: number;
    }
  | {
      kind: 'abort';
      family: Family;
      port: number;
      start: number;
      bytes: number;
      /** The client sends to the server, or the server to the client. */
      clientSends: boolean;
      /** The sending side aborts, or the receiving side. */
      senderAborts: boolean;
      /** The abort comes once the receiver has read this many bytes. */
      abortAfter: number;
      keepAliveIdle: number;
    }
  | {
      kind: 'backlog';
      family: Family;
      port: number;
      start: number;
      backlog: number;
      /** The server accepts this many connections, then stops calling accept(). */
      acceptCount: number;
      /** Then closes the listener at this time (µs after start). */
      closeListenerAfter: number;
      keepAliveIdle: number;
      clients: Array<{ request: number; response: number; delay: number }>;
    }
  | {
      kind: 'udp-echo';
      family: Family;
      port: number;
      start: number;
      bursts: Array<{ after: number; sizes: number[] }>;
    };

/** Everything a seed chose. Plain data: it can be printed, stored, or edited and run with {@link runPlan}. */
export interface ScenarioPlan {
  seed: number;
  hosts: HostPlan[];
  links: LinkPlan[];
  /** A router's interface MTU drops mid-run (path MTU discovery on live connections), or null. */
  mtuDrop: MtuDropPlan | null;
  workloads: WorkloadPlan[];
}

/** At `at` µs, the router `host` lowers the MTU of its interface on `link` to `mtu`. */
export interface MtuDropPlan {
  host: string;
  link: string;
  at: number;
  mtu: number;
}

/** Options of {@link runScenario} and {@link runPlan}. */
export interface ScenarioOptions {
  /** Record a pcap of every link (the wire between its two ends). Default false. */
  capture?: boolean;
  /** Receives one line per notable event: connections, state changes, cuts. */
  trace?: ((line: string) => void) | null;
  /** Count the {@link KNOWN_ISSUES} as failures too. Default false. */
  strict?: boolean;
  /** Virtual time the workloads may take; default 3 hours. */
  timeLimit?: Duration;
}

/** One broken invariant. */
export interface ScenarioFailure {
  /** Which invariant (see the module comment): 'data', 'outcome', 'tables', ... */
  check: string;
  message: string;
}

/** The capture of one link: the wire between its ends, both ways. */
export interface LinkCapture {
  name: string;
  kind: LinkKind;
  /** A complete pcap file. */
  bytes: Uint8Array;
}

/** What a run found. */
export interface ScenarioResult {
  seed: number;
  plan: ScenarioPlan;
  /** No failure outside {@link KNOWN_ISSUES} (or none at all with `strict`). */
  ok: boolean;
  failures: ScenarioFailure[];
  /** Failures of checks listed in {@link KNOWN_ISSUES}, reported but not failing the run. */
  known: ScenarioFailure[];
  /** Virtual time at the end. */
  virtualTime: Instant;
  /** Simulator steps taken. */
  steps: number;
  /** What happened, one line per workload and link. */
  summary: string[];
  /** One pcap per link when `capture` was set, else empty. */
  captures: LinkCapture[];
  /** Totals across the run. */
  totals: {
    connections: number;
    bytesDelivered: number;
    datagramsEchoed: number;
    tcpSegmentsOnWire: number;
    /** Connections accepted that no client opened (old handshake ACKs meeting a valid SYN cookie). */
    strays: number;
  };
}

/** A bug already reported and not fixed yet, that a check runs into. */
export interface KnownIssue {
  /** What is wrong, where. */
  issue: string;
  /**
   * The bug can make other checks fail in the same run (a connection that
   * loses segments times out): a run that hits it is reported as known as a
   * whole, its other failures with it.
   */
  taints: boolean;
}

/**
 * Checks whose failures point at bugs already reported and not fixed yet:
 * the soak lists them apart, and `strict` makes them count. Remove an entry
 * when its bug is fixed.
 */
export const KNOWN_ISSUES: Readonly<Record<string, KnownIssue>> = {};

/** The one-line command that runs a seed again. */
export function reproduceCommand(seed: number): string {
  return `npm run sim -- --seed ${seed}`;
}

// =====================================================================
// Planning: seed -> plan
// =====================================================================

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
export function planScenario(seed: number): ScenarioPlan {
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

// =====================================================================
// Streams: byte i of a stream is a keyed hash of i
// =====================================================================

function streamWord(key: number, index: number): number {
  // murmur3's finaliser over key and word index: cheap and well mixed.
  let h = (key ^ Math.imul(index, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Writes bytes [offset, offset + length) of stream `key` into `out`. */
function fillStream(key: number, offset: number, out: Uint8Array, length: number): void {
  let pos = offset;
  let i = 0;
  while (i < length) {
    const word = streamWord(key, pos >>> 2);
    for (let b = pos & 3; b < 4 && i < length; b++, i++, pos++) out[i] = (word >>> (b * 8)) & 0xff;
  }
}

/**
 * The 16-bit ones' complement sum (RFC 1071) of `bytes` from `start`,
 * taking `bytes[start]` as the high byte of a word; 0xffff and 0 are the
 * same value and fold to 0xffff.
 */
function onesSum(bytes: Uint8Array, start: number): number {
  let sum = 0;
  for (let i = start; i < bytes.length; i += 2)
    sum += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0 ? 0xffff : sum;
}

/** Scratch buffers: the harness is single-threaded and never holds them across calls. */
const WRITE_SCRATCH = new Uint8Array(65_536);
const READ_SCRATCH = new Uint8Array(65_536);
const EXPECT_SCRATCH = new Uint8Array(65_536);

// =====================================================================
// Watching the wire
// =====================================================================

/** Bytes [start, end) as a string, one character per byte: a map key for addresses and ports. */
function bytesKey(frame: Uint8Array, start: number, end: number): string {
  let key = '';
  for (let i = start; i < end; i++) key += String.fromCharCode(frame[i]!);
  return key;
}

/** One connection's send side as seen on the wire: its ISS and the highest stream offset sent. */
interface WireFlow {
  iss: number;
  highest: number;
}

/**
 * What one end host's TCP put on the wire: payload bytes, new bytes (above
 * the highest offset sent before in that connection) and segments carrying
 * new bytes. A connection is known by its 4-tuple and the ISS of its SYN.
 */
class TcpWireLedger {
  segments = 0;
  payloadBytes = 0;
  newBytes = 0;
  newSegments = 0;
  /** Data segments that exceed the path MTU only because of their SACK option (see KNOWN_ISSUES.oversize). */
  sackOversize = 0;
  sackOversizeExample = '';
  readonly anomalies: string[] = [];
  private readonly flows = new Map<string, WireFlow>();
  /** The smallest MTU between the two end hosts. */
  private readonly pathMtu: number;

  constructor(pathMtu: number) {
    this.pathMtu = pathMtu;
  }

  /** Reads the TCP header of a frame the stack emits (well formed: it is ours, before any impairment). */
  observe(kind: LinkKind, frame: Uint8Array): void {
    let off = 0;
    if (kind === 'ethernet') {
      if (frame.length < 14) return;
      const ethertype = (frame[12]! << 8) | frame[13]!;
      if (ethertype !== 0x0800 && ethertype !== 0x86dd) return;
      off = 14;
    }
    if (frame.length < off + 20) return;
    const version = frame[off]! >> 4;
    let tcp: number;
    let tcpLength: number;
    let key: string;
    if (version === 4) {
      const ihl = (frame[off]! & 0x0f) * 4;
      if (frame[off + 9] !== 6) return;
      // TCP is never fragmented (DF, MSS follows the path MTU); ignore anything else.
      if (((frame[off + 6]! & 0x3f) | frame[off + 7]!) !== 0) return;
      const total = (frame[off + 2]! << 8) | frame[off + 3]!;
      tcp = off + ihl;
      tcpLength = total - ihl;
      key = bytesKey(frame, off + 12, off + 20);
    } else if (version === 6) {
      if (frame.length < off + 40 || frame[off + 6] !== 6) return;
      tcp = off + 40;
      tcpLength = (frame[off + 4]! << 8) | frame[off + 5]!;
      key = bytesKey(frame, off + 8, off + 40);
    } else {
      return;
    }
    if (frame.length < tcp + 20) return;
    key += bytesKey(frame, tcp, tcp + 4);
    const seqNumber =
      ((frame[tcp + 4]! << 24) |
        (frame[tcp + 5]! << 16) |
        (frame[tcp + 6]! << 8) |
        frame[tcp + 7]!) >>>
      0;
    const dataOffset = (frame[tcp + 12]! >> 4) * 4;
    const flags = frame[tcp + 13]!;
    const payload = tcpLength - dataOffset;
    this.segments++;
    if (payload > 0) this.checkSackSize(frame, tcp, dataOffset, tcpLength + (tcp - off), payload);
    if ((flags & 0x04) !== 0) return; // RST: carries no data of ours
    if ((flags & 0x02) !== 0) {
      // A SYN after data on this 4-tuple opens a new connection even with the
      // same ISS (on a zero-delay link one can live and die within one tick
      // of the 4 µs ISN clock); before any data it may be a retransmission.
      const flow = this.flows.get(key);
      if (flow === undefined || flow.iss !== seqNumber || flow.highest > 0)
        this.flows.set(key, { iss: seqNumber, highest: 0 });
    }
    if (payload <= 0) return;
    const flow = this.flows.get(key);
    if (flow === undefined) {
      if (this.anomalies.length < 5)
        this.anomalies.push('a data segment of a connection whose SYN was never sent');
      return;
    }
    const start = seqDiff(seqNumber as SeqNum, ((flow.iss + 1) >>> 0) as SeqNum);
    const end = start + payload;
    this.payloadBytes += payload;
    if (end <= flow.highest) return;
    if (start !== flow.highest && this.anomalies.length < 5) {
      this.anomalies.push(
        `a segment at stream offset ${start}..${end} while the highest sent was ${flow.highest}` +
          ' (new data must start where the last new data ended)',
      );
    }
    this.newBytes += end - flow.highest;
    this.newSegments++;
    flow.highest = end;
  }

  /**
   * Flags a data segment that is too big for the path only by its SACK
   * option: the sender sized the payload to the MSS and forgot the option.
   */
  private checkSackSize(
    frame: Uint8Array,
    tcp: number,
    dataOffset: number,
    ipLength: number,
    payload: number,
  ): void {
    if (ipLength <= this.pathMtu) return;
    let sack = 0;
    for (let i = tcp + 20; i < tcp + dataOffset;) {
      const kind = frame[i]!;
      if (kind === 0) break;
      if (kind === 1) {
        i++;
        continue;
      }
      const length = frame[i + 1] ?? 0;
      if (length < 2) break;
      if (kind === 5) sack = length + 2; // the option and its two NOPs of alignment
      i += length;
    }
    if (sack === 0 || ipLength - sack > this.pathMtu) return;
    this.sackOversize++;
    if (this.sackOversizeExample === '')
      this.sackOversizeExample = `a ${ipLength}-byte packet (${payload} bytes of data, ${sack} of SACK) on a path of MTU ${this.pathMtu}`;
  }
}

/**
 * Sits between a stack and its link: counts frames both ways (to compare
 * with the stack's interface counters) and shows TCP segments to a ledger.
 */
class WireObserver implements LinkEndpoint {
  readonly kind: LinkKind;
  readonly inner: LinkEndpoint;
  framesOut = 0;
  framesIn = 0;
  private readonly ledger: TcpWireLedger | null;
  private readonly onOversize: (length: number) => void;
  private readonly onBadArp: (frame: Uint8Array) => void;

  constructor(
    inner: LinkEndpoint,
    ledger: TcpWireLedger | null,
    onOversize: (length: number) => void,
    onBadArp: (frame: Uint8Array) => void,
  ) {
    this.kind = inner.kind;
    this.inner = inner;
    this.ledger = ledger;
    this.onOversize = onOversize;
    this.onBadArp = onBadArp;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  send(now: Instant, frame: Uint8Array): boolean {
    this.framesOut++;
    // A stack fragments or refuses what does not fit its interface; it never hands the link more.
    if (frame.length > maxFrameLength(this.kind, this.inner.mtu)) this.onOversize(frame.length);
    if (this.ledger !== null) this.ledger.observe(this.kind, frame);
    return this.inner.send(now, frame);
  }

  receive(now: Instant): Uint8Array | null {
    const frame = this.inner.receive(now);
    if (frame === null) return null;
    this.framesIn++;
    // An ARP packet whose sender MAC differs from the frame's source was damaged on the way.
    if (
      this.kind === 'ethernet' &&
      frame.length >= 42 &&
      frame[12] === 0x08 &&
      frame[13] === 0x06
    ) {
      for (let i = 0; i < 6; i++) {
        if (frame[6 + i] !== frame[22 + i]) {
          this.onBadArp(frame);
          break;
        }
      }
    }
    return frame;
  }

  pollTimeout(): Instant {
    return this.inner.pollTimeout();
  }

  stats(): LinkStats {
    return this.inner.stats();
  }
}

// =====================================================================
// Applications: a peer runs a script on one TCP socket
// =====================================================================

/**
 * How a connection end may finish: cleanly; `aborted` (it called abort());
 * `reset` (its peer did); `any` failure a client of a listener that stopped
 * accepting may meet (refused, reset, timed out) or a clean close; `stray`,
 * an accepted connection nobody opened (see {@link TcpWorkload.stray}),
 * which may end in any way as long as it ends.
 */
type Expect = 'clean' | 'aborted' | 'reset' | 'any' | 'stray';

class Barrier {
  readonly size: number;
  readonly arrived: Peer[] = [];
  released = false;

  constructor(size: number) {
    this.size = size;
  }

  arrive(peer: Peer, now: Instant): void {
    this.arrived.push(peer);
    if (this.arrived.length < this.size) return;
    // Everyone acts in the same instant: that is what makes a close simultaneous.
    this.released = true;
    for (const p of this.arrived) if (p !== peer) p.pump(now);
  }
}

type Step =
  | { op: 'send'; bytes: number }
  | { op: 'recv'; bytes: number }
  | { op: 'shutdown' }
  | { op: 'close' }
  | { op: 'waitPeerClose' }
  | { op: 'sleep'; duration: number }
  | { op: 'barrier'; barrier: Barrier };

function sumOf(steps: Step[], op: 'send' | 'recv'): number {
  let total = 0;
  for (const s of steps) if (s.op === op) total += s.bytes;
  return total;
}

/**
 * One end of a TCP connection as an application: it reads everything as it
 * arrives (or paced), checks every byte against the peer's stream, and runs
 * its script (send, wait to receive, shut down, close, wait for the FIN).
 */
class Peer {
  readonly label: string;
  readonly run: Run;
  readonly host: SimHost;
  readonly socket: TcpSocket;
  readonly sendKey: number;
  readonly sendLength: number;
  readonly recvKey: number;
  readonly recvLength: number;
  readonly script: Step[];
  readonly pacing: Pacing | null;
  expect: Expect;
  pc = 0;
  private entered = false;
  /** A sleep step's timer has fired. */
  private awake = false;
  private sendTarget = 0;
  private recvTarget = 0;
  written = 0;
  received = 0;
  started = false;
  connectedSeen = false;
  peerClosedSeen = false;
  /** Bytes the stream holds in all, fixed when the FIN arrived (received + readable then). */
  finalLength = -1;
  closed = false;
  closeError: TcpError | null = null;
  aborted = false;
  private dataFailed = false;
  private finishedNotified = false;
  /** Abort when this peer has read this many bytes (and not all): -1 for never. */
  abortAfterRecv = -1;
  /** Who aborts when the threshold is crossed (this peer or its partner). */
  abortTarget: Peer | null = null;
  abortVictim: Peer | null = null;
  onFinished: ((peer: Peer, now: Instant) => void) | null = null;
  /** Called once the connection is CLOSED. */
  onClosed: ((peer: Peer, now: Instant) => void) | null = null;

  constructor(
    run: Run,
    label: string,
    host: SimHost,
    socket: TcpSocket,
    stream: { sendKey: number; recvKey: number },
    script: Step[],
    options: { expect?: Expect; pacing?: Pacing | null; recvLength?: number } = {},
  ) {
    this.run = run;
    this.label = label;
    this.host = host;
    this.socket = socket;
    this.sendKey = stream.sendKey;
    this.recvKey = stream.recvKey;
    this.script = script;
    this.sendLength = sumOf(script, 'send');
    this.recvLength = options.recvLength ?? sumOf(script, 'recv');
    this.expect = options.expect ?? 'clean';
    this.pacing = options.pacing ?? null;
    run.peers.push(this);
    run.appOf(host).sockets.set(socket, this);
  }

  get finished(): boolean {
    return this.closed || this.pc >= this.script.length;
  }

  /** Starts the script: on `connected` for an active open, at accept for a passive one. */
  start(now: Instant): void {
    if (this.started) return;
    this.started = true;
    if (this.pacing !== null)
      this.run.net.schedule(later(now, this.pacing.interval as Duration), this.tick);
    this.pump(now);
  }

  onTcpEvent(ev: TcpEvent, now: Instant): void {
    if (this.closed) {
      this.run.fail('events', `${this.label}: '${ev.type}' event after 'closed'`);
      return;
    }
    switch (ev.type) {
      case 'connected':
        if (this.connectedSeen) this.run.fail('events', `${this.label}: a second 'connected'`);
        this.connectedSeen = true;
        this.run.log(now, `${this.label} connected`);
        this.start(now);
        return;
      case 'peer-closed':
        if (this.peerClosedSeen) this.run.fail('events', `${this.label}: a second 'peer-closed'`);
        this.peerClosedSeen = true;
        this.finalLength = this.received + this.socket.readableBytes;
        break;
      case 'closed':
        this.closed = true;
        this.closeError = ev.error;
        this.run.log(now, `${this.label} closed (${ev.error ?? 'ok'})`);
        if (this.onClosed !== null) this.onClosed(this, now);
        break;
      case 'state':
        if (this.run.tracing)
          this.run.log(
            now,
            `${this.label} ${ev.transition.from} -> ${ev.transition.to} (${ev.transition.cause})`,
          );
        return;
      case 'readable':
      case 'writable':
        break;
    }
    this.pump(now);
  }

  /** Reads, checks the abort trigger, writes and advances the script as far as it goes. */
  pump(now: Instant): void {
    if (!this.started) return;
    for (let guard = 0; guard < 10_000; guard++) {
      if (this.pacing === null) this.readAvailable(Number.POSITIVE_INFINITY, now);
      if (this.aborted) break;
      this.writeSome();
      if (!this.advance(now)) break;
    }
    this.notifyIfFinished(now);
  }

  /** A paced reader's timer. */
  private readonly tick = (now: Instant): void => {
    const pacing = this.pacing!;
    this.readAvailable(pacing.bytes, now);
    this.pump(now);
    const drained = this.socket.readableBytes === 0;
    if ((this.closed || this.received >= this.recvLength) && drained) return;
    this.run.net.schedule(later(now, pacing.interval as Duration), this.tick);
  };

  private readAvailable(limit: number, now: Instant): void {
    let total = 0;
    while (total < limit) {
      const want = Math.min(READ_SCRATCH.length, limit - total);
      const n = this.socket.read(READ_SCRATCH.subarray(0, want));
      if (n <= 0) break;
      this.verify(READ_SCRATCH, n);
      total += n;
      this.maybeAbort(now);
    }
  }

  private verify(buf: Uint8Array, n: number): void {
    if (!this.dataFailed) {
      if (this.received + n > this.recvLength) {
        this.dataFailed = true;
        this.run.fail(
          'data',
          `${this.label}: read ${this.received + n} bytes, more than the ${this.recvLength} sent`,
        );
      } else {
        fillStream(this.recvKey, this.received, EXPECT_SCRATCH, n);
        for (let i = 0; i < n; i++) {
          if (buf[i] !== EXPECT_SCRATCH[i]) {
            this.dataFailed = true;
            this.run.fail(
              'data',
              `${this.label}: byte ${this.received + i} of the stream is ${buf[i]}, ` +
                `expected ${EXPECT_SCRATCH[i]} (out of order, duplicated or corrupted)`,
            );
            break;
          }
        }
      }
    }
    this.received += n;
  }

  /** Abort once the bytes read cross the threshold, while the stream is still incomplete. */
  private maybeAbort(now: Instant): void {
    if (this.abortAfterRecv < 0 || this.abortTarget === null) return;
    if (this.received < this.abortAfterRecv || this.received >= this.recvLength) return;
    const target = this.abortTarget;
    const victim = this.abortVictim!;
    this.abortAfterRecv = -1;
    if (target.closed) return;
    target.aborted = true;
    target.expect = 'aborted';
    victim.expect = 'reset';
    this.run.log(now, `${target.label} aborts after ${this.received} bytes read by the receiver`);
    target.socket.abort(now);
  }

  private writeSome(): void {
    while (this.written < this.sendTarget) {
      // Offer one byte more than fits: a write that falls short is what
      // arms the `writable` event for when acknowledgements free space.
      const room = this.socket.writableBytes;
      const n = Math.min(room + 1, this.sendTarget - this.written, WRITE_SCRATCH.length);
      const state = this.socket.state;
      // write() throws outside these states (API misuse); a reset connection just stops.
      if (state !== TcpState.Established && state !== TcpState.CloseWait) return;
      fillStream(this.sendKey, this.written, WRITE_SCRATCH, n);
      const taken = this.socket.write(WRITE_SCRATCH.subarray(0, n));
      this.written += taken;
      if (taken < n) return;
    }
  }

  /** Enters or completes the current step; true if a step completed. */
  private advance(now: Instant): boolean {
    if (this.pc >= this.script.length) return false;
    const step = this.script[this.pc]!;
    if (!this.entered) {
      this.entered = true;
      switch (step.op) {
        case 'send':
          this.sendTarget += step.bytes;
          this.writeSome();
          break;
        case 'recv':
          this.recvTarget += step.bytes;
          break;
        case 'shutdown':
          this.socket.shutdown(now);
          break;
        case 'close':
          this.socket.close(now);
          break;
        case 'barrier':
          step.barrier.arrive(this, now);
          break;
        case 'sleep':
          this.awake = step.duration === 0;
          if (!this.awake)
            this.run.net.schedule(later(now, step.duration as Duration), (at) => {
              this.awake = true;
              this.pump(at);
            });
          break;
        case 'waitPeerClose':
          break;
      }
    }
    let complete: boolean;
    switch (step.op) {
      case 'send':
        complete = this.written >= this.sendTarget;
        break;
      case 'recv':
        complete = this.received >= this.recvTarget;
        break;
      case 'waitPeerClose':
        // The property, not the event: a FIN may come before the listener hands the socket over.
        complete = this.socket.conn.peerClosed;
        break;
      case 'barrier':
        complete = step.barrier.released;
        break;
      case 'sleep':
        complete = this.awake;
        break;
      case 'shutdown':
      case 'close':
        complete = true;
        break;
    }
    if (!complete) return false;
    this.pc++;
    this.entered = false;
    return true;
  }

  private notifyIfFinished(now: Instant): void {
    if (this.finishedNotified || !this.finished) return;
    this.finishedNotified = true;
    if (this.onFinished !== null) this.onFinished(this, now);
  }

  /**
   * This connection may have been made from a SYN cookie: its listener's
   * host sent cookies, and it negotiated none of the options a cookie
   * cannot carry (timestamps, SACK, window scaling).
   */
  cookieSuspect(): boolean {
    if (this.run.hosts.get('b')!.stack.stats().synCookiesSent === 0) return false;
    const s = this.socket.stats();
    return (
      !s.timestamps && !s.sackPermitted && s.sendWindowScale === 0 && s.receiveWindowScale === 0
    );
  }

  /** The end-of-run checks of one connection end. */
  check(): void {
    const run = this.run;
    const s = this.socket.stats();
    const where = `${this.label} (${this.socket.localAddress.text}:${this.socket.localPort} -> ${this.socket.remoteAddress.text}:${this.socket.remotePort})`;
    if (!this.closed) {
      run.fail(
        'outcome',
        `${where}: never closed; state ${this.socket.state}, step ${this.pc}/${this.script.length}, ` +
          `read ${this.received}/${this.recvLength}, wrote ${this.written}/${this.sendLength}, unacked ${s.sendBuffered}`,
      );
      return;
    }
    if (this.finalLength >= 0 && this.received !== this.finalLength) {
      run.fail(
        'events',
        `${where}: ${this.finalLength} bytes were there when the FIN came, ${this.received} were read in the end`,
      );
    }
    const error = this.closeError;
    let clean = false;
    switch (this.expect) {
      case 'clean':
        clean = true;
        break;
      case 'aborted':
      case 'reset':
        // The receiving victim of an abort may get every byte and the FIN,
        // sent before the RST, ahead of it: it then ends normally, or quietly
        // when the RST meets its LAST-ACK (RFC 9293 §3.10.7.4).
        if (
          this.expect === 'reset' &&
          error === null &&
          this.peerClosedSeen &&
          this.received === this.recvLength
        )
          return;
        if (error !== this.expect)
          run.fail('outcome', `${where}: ended with '${error ?? 'ok'}', expected '${this.expect}'`);
        return;
      case 'stray':
        return;
      case 'any':
        if (error === null) {
          clean = true;
        } else if (
          error !== 'reset' &&
          error !== 'refused' &&
          error !== 'timed-out' &&
          error !== 'unreachable'
        ) {
          run.fail('outcome', `${where}: ended with '${error}'`);
        }
        if (!clean) return;
        break;
    }
    if (!clean) return;
    if (error === 'reset' && this.cookieSuspect()) {
      // SYN cookies (RFC 4987 §3.6): when the handshake's ACK is lost and a
      // later segment arrives first, its sequence number does not give back
      // the cookie and the listener answers RST, as Linux does
      // (cookie_v4_check fails, tcp_rcv_state_process resets an ACK in LISTEN).
      run.cookieResets++;
      return;
    }
    if (error !== null) {
      run.fail(
        'outcome',
        `${where}: ended with '${error}' (read ${this.received}/${this.recvLength}, wrote ${this.written}/${this.sendLength}, ` +
          `acked ${s.bytesAcked}, step ${this.pc}/${this.script.length})`,
      );
      return;
    }
    if (this.received !== this.recvLength)
      run.fail(
        'outcome',
        `${where}: closed cleanly after reading ${this.received} of ${this.recvLength} bytes`,
      );
    if (this.pc < this.script.length)
      run.fail(
        'outcome',
        `${where}: closed cleanly with its script at step ${this.pc}/${this.script.length}`,
      );
    if (s.bytesAcked !== this.written || this.written !== this.sendLength)
      run.fail(
        'outcome',
        `${where}: closed cleanly with ${this.written}/${this.sendLength} bytes written and ${s.bytesAcked} acknowledged`,
      );
    if (s.bytesReceived !== this.received)
      run.fail(
        'counters-bytes-received',
        `${where}: stats().bytesReceived is ${s.bytesReceived}, the application read ${this.received}`,
      );
  }
}

/** What one host's application does with its stack's events. */
class HostApp {
  readonly sockets = new Map<TcpSocket, Peer>();
  readonly listeners = new Map<TcpListener, (now: Instant) => void>();
  readonly udp = new Map<UdpSocket, (now: Instant) => void>();
  private readonly run: Run;
  private readonly host: SimHost;

  constructor(run: Run, host: SimHost) {
    this.run = run;
    this.host = host;
  }

  onEvent(e: StackEvent, now: Instant): void {
    switch (e.type) {
      case 'tcp': {
        const peer = this.sockets.get(e.socket);
        if (peer === undefined) {
          this.run.fail(
            'events',
            `${this.host.name}: '${e.event.type}' event for a socket the application never saw ` +
              `(${e.socket.localPort} -> ${e.socket.remoteAddress.text}:${e.socket.remotePort})`,
          );
          return;
        }
        peer.onTcpEvent(e.event, now);
        return;
      }
      case 'accept': {
        const handler = this.listeners.get(e.listener);
        if (handler !== undefined) handler(now);
        return;
      }
      case 'udp': {
        const handler = this.udp.get(e.socket);
        if (handler !== undefined) handler(now);
        return;
      }
      case 'icmp-error':
        if (this.run.tracing)
          this.run.log(now, `${this.host.name}: ICMP ${e.kind} from ${e.from.text}`);
        return;
      case 'echo-reply':
        return;
    }
  }
}

// =====================================================================
// Workloads
// =====================================================================

interface Workload {
  readonly name: string;
  start(now: Instant): void;
  /** The application has nothing more to do (connections may still sit in TIME-WAIT). */
  done(): boolean;
  /** Closes listeners and UDP sockets once every workload is done. */
  finish(now: Instant): void;
  /** Workload-specific end checks. */
  check(): void;
  /** One line: what happened. */
  describe(): string;
}

interface Endpoints {
  a: SimHost;
  b: SimHost;
  aAddress: string;
  bAddress: string;
}

function describePeers(peers: Peer[]): string {
  const counts = new Map<string, number>();
  for (const p of peers) {
    const k = p.closed ? (p.closeError ?? 'ok') : `open:${p.socket.state}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

abstract class TcpWorkload implements Workload {
  readonly name: string;
  protected readonly run: Run;
  protected readonly ends: Endpoints;
  protected readonly peers: Peer[] = [];
  protected listener: TcpListener | null = null;

  constructor(run: Run, name: string, ends: Endpoints) {
    this.run = run;
    this.name = name;
    this.ends = ends;
  }

  abstract start(now: Instant): void;

  done(): boolean {
    for (const p of this.peers) if (!p.finished) return false;
    return this.moreDone();
  }

  protected moreDone(): boolean {
    return true;
  }

  finish(_now: Instant): void {
    this.closeListener();
  }

  protected closeListener(): void {
    if (this.listener === null) return;
    this.run.appOf(this.ends.b).listeners.delete(this.listener);
    this.listener.close();
    this.listener = null;
  }

  check(): void {}

  describe(): string {
    let bytes = 0;
    for (const p of this.peers) bytes += p.received;
    return `${this.name}: ${this.peers.length} ends (${describePeers(this.peers)}), ${bytes} bytes delivered`;
  }

  /** Listens on b and hands each accepted socket to `onAccepted`. */
  protected listen(
    port: number,
    backlog: number,
    onAccepted: (s: TcpSocket, now: Instant) => void,
  ): TcpListener {
    const listener = this.ends.b.stack.listen({ port, backlog });
    this.listener = listener;
    this.run.appOf(this.ends.b).listeners.set(listener, () => {
      for (let s = listener.accept(); s !== null; s = listener.accept())
        onAccepted(s, this.run.net.now);
    });
    return listener;
  }

  /**
   * An accepted connection that no client opened now: an old duplicate of a
   * handshake's last ACK (seq ISN+1, ack cookie+1) that arrives after its
   * connection closed still carries a valid SYN cookie for up to 128 s and
   * builds a new connection (RFC 4987 §3.6 limits; Linux only checks cookies
   * while the SYN queue recently overflowed, but the same duplicate would
   * pass then). The application closes it; whatever it received must be a
   * prefix of the stream the old connection carried (`recvKey`).
   */
  protected stray(s: TcpSocket, now: Instant, recvKey: number, recvLength: number): void {
    this.run.strays++;
    this.run.log(
      now,
      `${this.name}: accepted a stray connection from ${s.remoteAddress.text}:${s.remotePort}`,
    );
    const peer = new Peer(
      this.run,
      `${this.name} stray from ${s.remotePort}`,
      this.ends.b,
      s,
      { sendKey: 0, recvKey },
      [{ op: 'close' }],
      { expect: 'stray', recvLength },
    );
    this.peers.push(peer);
    peer.start(now);
  }

  protected connect(from: SimHost, to: string, port: number, localPort?: number): TcpSocket {
    return from.stack.connect(this.run.net.now, {
      host: to,
      port,
      ...(localPort !== undefined ? { localPort } : {}),
    });
  }
}

/** One client, one server, a script each: bulk, request/response, half-close, simultaneous close, abort. */
class PairWorkload extends TcpWorkload {
  private readonly port: number;
  private readonly clientScript: Step[];
  private readonly serverScript: Step[];
  private readonly clientPacing: Pacing | null;
  private readonly serverPacing: Pacing | null;
  private readonly keepAliveIdle: number;
  private readonly abort: { senderAborts: boolean; clientSends: boolean; after: number } | null;
  private readonly keys: { c2s: number; s2c: number };
  private client: Peer | null = null;
  private server: Peer | null = null;

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    spec: {
      port: number;
      clientScript: Step[];
      serverScript: Step[];
      clientPacing?: Pacing | null;
      serverPacing?: Pacing | null;
      keepAliveIdle?: number;
      abort?: { senderAborts: boolean; clientSends: boolean; after: number } | null;
    },
  ) {
    super(run, name, ends);
    this.port = spec.port;
    this.clientScript = spec.clientScript;
    this.serverScript = spec.serverScript;
    this.clientPacing = spec.clientPacing ?? null;
    this.serverPacing = spec.serverPacing ?? null;
    this.keepAliveIdle = spec.keepAliveIdle ?? 0;
    this.abort = spec.abort ?? null;
    this.keys = { c2s: run.nextKey(), s2c: run.nextKey() };
  }

  start(now: Instant): void {
    this.listen(this.port, 16, (s, at) => {
      if (this.server !== null) {
        this.stray(s, at, this.keys.c2s, sumOf(this.clientScript, 'send'));
        return;
      }
      this.server = new Peer(
        this.run,
        `${this.name} server`,
        this.ends.b,
        s,
        { sendKey: this.keys.s2c, recvKey: this.keys.c2s },
        this.serverScript,
        { pacing: this.serverPacing },
      );
      this.peers.push(this.server);
      if (this.keepAliveIdle > 0) s.setKeepAlive(at, true, this.keepAliveIdle as Duration);
      this.wireAbort();
      this.server.start(at);
    });
    const socket = this.connect(this.ends.a, this.ends.bAddress, this.port);
    if (this.keepAliveIdle > 0) socket.setKeepAlive(now, true, this.keepAliveIdle as Duration);
    this.client = new Peer(
      this.run,
      `${this.name} client`,
      this.ends.a,
      socket,
      { sendKey: this.keys.c2s, recvKey: this.keys.s2c },
      this.clientScript,
      { pacing: this.clientPacing },
    );
    this.peers.push(this.client);
    this.client.onFinished = (p, at) => {
      // A client that failed before the server accepted leaves nobody to wait for.
      if (p.closed && p.closeError !== null && this.server === null) this.closeListener();
      void at;
    };
  }

  private wireAbort(): void {
    const abort = this.abort;
    if (abort === null || this.client === null || this.server === null) return;
    const receiver = abort.clientSends ? this.server : this.client;
    const sender = abort.clientSends ? this.client : this.server;
    receiver.abortAfterRecv = abort.after;
    receiver.abortTarget = abort.senderAborts ? sender : receiver;
    receiver.abortVictim = abort.senderAborts ? receiver : sender;
  }

  protected override moreDone(): boolean {
    return this.server !== null || (this.client !== null && this.client.closed);
  }
}

class SimultaneousOpen extends TcpWorkload {
  private readonly plan: Extract<WorkloadPlan, { kind: 'simultaneous-open' }>;

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    plan: Extract<WorkloadPlan, { kind: 'simultaneous-open' }>,
  ) {
    super(run, name, ends);
    this.plan = plan;
  }

  start(_now: Instant): void {
    const p = this.plan;
    const ab = this.run.nextKey();
    const ba = this.run.nextKey();
    // Both connect in the same instant, before either SYN can arrive: each
    // side's SYN meets a connection in SYN-SENT (RFC 9293 §3.5, figure 8).
    const sa = this.connect(this.ends.a, this.ends.bAddress, p.portB, p.portA);
    const sb = this.connect(this.ends.b, this.ends.aAddress, p.portA, p.portB);
    const script = (out: number, inn: number): Step[] => [
      { op: 'send', bytes: out },
      { op: 'shutdown' },
      { op: 'recv', bytes: inn },
      { op: 'waitPeerClose' },
    ];
    this.peers.push(
      new Peer(
        this.run,
        `${this.name} a`,
        this.ends.a,
        sa,
        { sendKey: ab, recvKey: ba },
        script(p.aBytes, p.bBytes),
      ),
      new Peer(
        this.run,
        `${this.name} b`,
        this.ends.b,
        sb,
        { sendKey: ba, recvKey: ab },
        script(p.bBytes, p.aBytes),
      ),
    );
  }
}

class ManyShort extends TcpWorkload {
  private readonly plan: Extract<WorkloadPlan, { kind: 'many-short' }>;
  private nextIndex = 0;
  private readonly pending = new Map<string, { index: number; client: Peer }>();
  /** Connections already accepted, by the client's address and port: which one (for strays). */
  private readonly served = new Map<string, number>();
  /** The server end of each accepted connection, by the client's address and port. */
  private readonly servers = new Map<string, Peer>();
  private readonly keys: number[] = [];

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    plan: Extract<WorkloadPlan, { kind: 'many-short' }>,
  ) {
    super(run, name, ends);
    this.plan = plan;
  }

  start(now: Instant): void {
    this.listen(this.plan.port, 64, (s, at) => this.accepted(s, at));
    for (let i = 0; i < this.plan.concurrency; i++) this.startNext(now);
  }

  private startNext(now: Instant): void {
    if (this.nextIndex >= this.plan.connections.length) return;
    const index = this.nextIndex++;
    const c = this.plan.connections[index]!;
    const c2s = this.run.nextKey();
    const s2c = this.run.nextKey();
    this.keys[index * 2] = c2s;
    this.keys[index * 2 + 1] = s2c;
    const reuse = this.plan.clientPort > 0;
    let socket: TcpSocket;
    try {
      socket = this.connect(
        this.ends.a,
        this.ends.bAddress,
        this.plan.port,
        reuse ? this.plan.clientPort : undefined,
      );
    } catch (e) {
      this.run.fail('outcome', `${this.name} #${index}: connect failed: ${String(e)}`);
      this.nextIndex = this.plan.connections.length;
      return;
    }
    const script: Step[] =
      c.closer === 'client'
        ? [
            { op: 'send', bytes: c.request },
            { op: 'recv', bytes: c.response },
            { op: 'shutdown' },
            { op: 'waitPeerClose' },
          ]
        : [
            { op: 'send', bytes: c.request },
            { op: 'recv', bytes: c.response },
            { op: 'waitPeerClose' },
            { op: 'shutdown' },
          ];
    const client = new Peer(
      this.run,
      `${this.name} #${index} client`,
      this.ends.a,
      socket,
      { sendKey: c2s, recvKey: s2c },
      script,
    );
    this.peers.push(client);
    this.pending.set(`${socket.localAddress.text}|${socket.localPort}`, { index, client });
    // With one client port, the next connection waits for this one to be
    // CLOSED (the tuple is in use until then), not just for its script.
    client.onClosed = (p, at) => {
      if (p.closeError === 'reset' && p.cookieSuspect()) this.giveUp(p, at);
      if (reuse) this.startNext(at);
    };
    if (!reuse) client.onFinished = (_p, at) => this.startNext(at);
    void now;
  }

  private accepted(s: TcpSocket, now: Instant): void {
    const key = `${s.remoteAddress.text}|${s.remotePort}`;
    const entry = this.pending.get(key);
    if (entry === undefined || entry.client.closed) {
      // A client already reset (a failed SYN cookie) has nobody to serve.
      const old = entry?.index ?? this.served.get(key);
      if (entry !== undefined) this.pending.delete(key);
      if (old === undefined)
        this.run.fail(
          'events',
          `${this.name}: accepted a connection from ${key} no client ever opened`,
        );
      this.stray(
        s,
        now,
        old === undefined ? 0 : this.keys[old * 2]!,
        old === undefined ? 0 : this.plan.connections[old]!.request,
      );
      return;
    }
    this.pending.delete(key);
    this.served.set(key, entry.index);
    const c = this.plan.connections[entry.index]!;
    const script: Step[] =
      c.closer === 'client'
        ? [
            { op: 'recv', bytes: c.request },
            { op: 'send', bytes: c.response },
            { op: 'waitPeerClose' },
            { op: 'shutdown' },
          ]
        : [
            { op: 'recv', bytes: c.request },
            { op: 'send', bytes: c.response },
            { op: 'shutdown' },
            { op: 'waitPeerClose' },
          ];
    const server = new Peer(
      this.run,
      `${this.name} #${entry.index} server`,
      this.ends.b,
      s,
      { sendKey: this.keys[entry.index * 2 + 1]!, recvKey: this.keys[entry.index * 2]! },
      script,
    );
    this.peers.push(server);
    this.servers.set(key, server);
    server.start(now);
  }

  /**
   * The client was reset by a failed SYN cookie while the listener may have
   * built the connection from a later segment: that server would wait for a
   * request for ever. Its application gives up, as a real server times out.
   */
  private giveUp(client: Peer, now: Instant): void {
    const key = `${client.socket.localAddress.text}|${client.socket.localPort}`;
    const server = this.servers.get(key);
    if (server === undefined || server.closed || server.finished) return;
    server.expect = 'stray';
    this.run.log(now, `${server.label} gives up: its client was reset`);
    server.socket.abort(now);
  }

  protected override moreDone(): boolean {
    return this.nextIndex >= this.plan.connections.length;
  }
}

class Backlog extends TcpWorkload {
  private readonly plan: Extract<WorkloadPlan, { kind: 'backlog' }>;
  private readonly clients = new Map<string, { index: number; client: Peer; served: boolean }>();
  private readonly keys: number[] = [];
  private accepted = 0;
  private started = 0;
  private listenerClosed = false;

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    plan: Extract<WorkloadPlan, { kind: 'backlog' }>,
  ) {
    super(run, name, ends);
    this.plan = plan;
  }

  start(now: Instant): void {
    const p = this.plan;
    const listener = this.ends.b.stack.listen({ port: p.port, backlog: p.backlog });
    this.listener = listener;
    this.run.appOf(this.ends.b).listeners.set(listener, (at) => {
      // After acceptCount the application stops calling accept(): the queue fills.
      while (this.accepted < p.acceptCount) {
        const s = listener.accept();
        if (s === null) return;
        this.accepted++;
        this.serve(s, at);
      }
    });
    this.run.net.schedule(later(now, p.closeListenerAfter as Duration), (at) => {
      this.run.log(at, `${this.name}: the listener closes`);
      this.listenerClosed = true;
      this.closeListener();
    });
    for (let i = 0; i < p.clients.length; i++) {
      const c = p.clients[i]!;
      this.run.net.schedule(later(now, c.delay as Duration), (at) => this.open(i, at));
    }
  }

  private open(index: number, now: Instant): void {
    const c = this.plan.clients[index]!;
    const c2s = this.run.nextKey();
    const s2c = this.run.nextKey();
    this.keys[index * 2] = c2s;
    this.keys[index * 2 + 1] = s2c;
    const socket = this.connect(this.ends.a, this.ends.bAddress, this.plan.port);
    // Keepalive: a client whose connection sits unaccepted learns of the
    // listener's RST even when that RST is lost.
    socket.setKeepAlive(now, true, this.plan.keepAliveIdle as Duration);
    const client = new Peer(
      this.run,
      `${this.name} #${index} client`,
      this.ends.a,
      socket,
      { sendKey: c2s, recvKey: s2c },
      [
        { op: 'send', bytes: c.request },
        { op: 'recv', bytes: c.response },
        { op: 'shutdown' },
        { op: 'waitPeerClose' },
      ],
      { expect: 'any' },
    );
    this.peers.push(client);
    this.clients.set(`${socket.localAddress.text}|${socket.localPort}`, {
      index,
      client,
      served: false,
    });
    this.started++;
  }

  private serve(s: TcpSocket, now: Instant): void {
    const key = `${s.remoteAddress.text}|${s.remotePort}`;
    const entry = this.clients.get(key);
    if (entry === undefined || entry.served) {
      if (entry === undefined)
        this.run.fail(
          'events',
          `${this.name}: accepted a connection from ${key} no client ever opened`,
        );
      const index = entry?.index ?? -1;
      this.stray(
        s,
        now,
        index < 0 ? 0 : this.keys[index * 2]!,
        index < 0 ? 0 : this.plan.clients[index]!.request,
      );
      return;
    }
    entry.served = true;
    const c = this.plan.clients[entry.index]!;
    entry.client.expect = 'clean';
    const server = new Peer(
      this.run,
      `${this.name} #${entry.index} server`,
      this.ends.b,
      s,
      { sendKey: this.keys[entry.index * 2 + 1]!, recvKey: this.keys[entry.index * 2]! },
      [
        { op: 'recv', bytes: c.request },
        { op: 'send', bytes: c.response },
        { op: 'waitPeerClose' },
        { op: 'shutdown' },
      ],
    );
    this.peers.push(server);
    server.start(now);
  }

  protected override moreDone(): boolean {
    return this.listenerClosed && this.started === this.plan.clients.length;
  }

  override check(): void {
    if (this.accepted > this.plan.acceptCount)
      this.run.fail(
        'outcome',
        `${this.name}: ${this.accepted} accepted, more than ${this.plan.acceptCount}`,
      );
  }
}

class UdpEcho implements Workload {
  readonly name: string;
  private readonly run: Run;
  private readonly ends: Endpoints;
  private readonly plan: Extract<WorkloadPlan, { kind: 'udp-echo' }>;
  private readonly key: number;
  private server: UdpSocket | null = null;
  private client: UdpSocket | null = null;
  private readonly sizes: number[] = [];
  private readonly echoed: number[] = [];
  private readonly served: number[] = [];
  private burstsSent = 0;
  private settled = false;
  bad = 0;
  /** Datagrams damaged in a way the UDP checksum cannot catch (see verify). */
  undetectable = 0;

  constructor(
    run: Run,
    name: string,
    ends: Endpoints,
    plan: Extract<WorkloadPlan, { kind: 'udp-echo' }>,
  ) {
    this.run = run;
    this.name = name;
    this.ends = ends;
    this.plan = plan;
    this.key = run.nextKey();
  }

  start(now: Instant): void {
    const server = this.ends.b.stack.bindUdp({ port: this.plan.port });
    const client = this.ends.a.stack.bindUdp({});
    this.server = server;
    this.client = client;
    this.run.appOf(this.ends.b).udp.set(server, (at) => {
      for (let d = server.receive(); d !== null; d = server.receive()) {
        const id = this.verify(d.data, 'server');
        if (id >= 0) this.served[id] = (this.served[id] ?? 0) + 1;
        server.sendTo(at, d.data, d.address, d.port);
      }
    });
    this.run.appOf(this.ends.a).udp.set(client, () => {
      for (let d = client.receive(); d !== null; d = client.receive()) {
        const id = this.verify(d.data, 'client');
        if (id >= 0) this.echoed[id] = (this.echoed[id] ?? 0) + 1;
      }
    });
    const to = IpAddr.parseOrThrow(this.ends.bAddress);
    let last = 0;
    for (const burst of this.plan.bursts) {
      last = Math.max(last, burst.after);
      this.run.net.schedule(later(now, burst.after as Duration), (at) => {
        for (const size of burst.sizes) {
          const id = this.sizes.length;
          this.sizes.push(size);
          client.sendTo(at, this.datagram(id, size), to, this.plan.port);
        }
        this.burstsSent++;
      });
    }
    // Echoes come back within a second on these links; five is generous.
    this.run.net.schedule(later(now, (last + 5_000_000) as Duration), () => {
      this.settled = true;
    });
  }

  private datagram(id: number, size: number): Uint8Array {
    const d = new Uint8Array(Math.max(size, 4));
    d[0] = id >>> 24;
    d[1] = (id >>> 16) & 0xff;
    d[2] = (id >>> 8) & 0xff;
    d[3] = id & 0xff;
    fillStream(streamWord(this.key, id), 0, EXPECT_SCRATCH, d.length - 4);
    d.set(EXPECT_SCRATCH.subarray(0, d.length - 4), 4);
    return d;
  }

  /** The datagram's id if it is exactly one that was sent, else -1 (and a failure). */
  private verify(data: Uint8Array, who: string): number {
    const id =
      data.length >= 4
        ? ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0
        : -1;
    const ok = id >= 0 && id < this.sizes.length && data.length === Math.max(this.sizes[id]!, 4);
    let detail = '';
    if (ok) {
      fillStream(streamWord(this.key, id), 0, EXPECT_SCRATCH, data.length - 4);
      let first = -1;
      let differ = 0;
      for (let i = 4; i < data.length; i++) {
        if (data[i] === EXPECT_SCRATCH[i - 4]) continue;
        if (first < 0) first = i;
        differ++;
      }
      if (first < 0) return id;
      if (onesSum(data, 4) === onesSum(EXPECT_SCRATCH.subarray(0, data.length - 4), 0)) {
        // Damage the Internet checksum cannot see (RFC 1071: errors that
        // cancel in the ones' complement sum), possible only when several
        // fragments were each damaged on the way: the UDP layer is not at fault.
        this.undetectable++;
        this.run.log(
          this.run.net.now,
          `${this.name}: datagram ${id} damaged past the UDP checksum`,
        );
        return -1;
      }
      detail = `: ${differ} bytes differ from offset ${first}`;
    }
    this.bad++;
    if (this.bad <= 3)
      this.run.fail(
        'udp',
        `${this.name}: the ${who} received a ${data.length}-byte datagram that was never sent (id ${id})${detail}`,
      );
    return -1;
  }

  done(): boolean {
    return this.settled && this.burstsSent === this.plan.bursts.length;
  }

  finish(_now: Instant): void {
    for (const [host, socket] of [
      [this.ends.b, this.server],
      [this.ends.a, this.client],
    ] as const) {
      if (socket === null) continue;
      this.run.appOf(host).udp.delete(socket);
      socket.close();
    }
    this.server = null;
    this.client = null;
  }

  get datagramsEchoed(): number {
    let n = 0;
    for (const c of this.echoed) if (c !== undefined && c > 0) n++;
    return n;
  }

  check(): void {
    if (!this.run.nothingLost()) return;
    for (let id = 0; id < this.sizes.length; id++) {
      if ((this.echoed[id] ?? 0) === 0) {
        this.run.fail(
          'udp',
          `${this.name}: datagram ${id} (${this.sizes[id]} bytes) was never echoed although nothing was lost ` +
            `(server got it ${this.served[id] ?? 0} times)`,
        );
        return;
      }
    }
  }

  describe(): string {
    return (
      `${this.name}: ${this.sizes.length} datagrams sent, ${this.datagramsEchoed} echoed` +
      (this.bad > 0 ? `, ${this.bad} bad` : '') +
      (this.undetectable > 0 ? `, ${this.undetectable} damaged past the checksum` : '')
    );
  }
}

// =====================================================================
// The run
// =====================================================================

interface BuiltEnd {
  host: SimHost;
  observer: WireObserver;
  link: ImpairedLink;
}

interface BuiltLink {
  plan: LinkPlan;
  left: BuiltEnd;
  right: BuiltEnd;
  tap: PcapTap | null;
}

/** Route a scenario's traffic: subnets 10.0.i.0/24 and fd00:0:0:i::/64 on link i, .1 left and .2 right. */
function address(link: number, side: 1 | 2, family: Family): string {
  return family === 4 ? `10.0.${link}.${side}` : `fd00:0:0:${link}::${side}`;
}

class Run {
  readonly plan: ScenarioPlan;
  readonly net: Network;
  readonly peers: Peer[] = [];
  readonly failures: ScenarioFailure[] = [];
  readonly tracing: boolean;
  private readonly trace: ((line: string) => void) | null;
  private readonly apps = new Map<SimHost, HostApp>();
  readonly hosts = new Map<string, SimHost>();
  readonly links: BuiltLink[] = [];
  readonly ledgers = new Map<SimHost, TcpWireLedger>();
  readonly workloads: Workload[] = [];
  private readonly keyRng: SeededRng;
  private oversize = 0;
  /** Connections reset by a failed SYN cookie (see Peer.cookieSuspect). */
  cookieResets = 0;
  /** Connections accepted that no client opened (see TcpWorkload.stray). */
  strays = 0;

  constructor(plan: ScenarioPlan, options: ScenarioOptions) {
    this.plan = plan;
    this.trace = options.trace ?? null;
    this.tracing = this.trace !== null;
    this.net = new Network({ seed: plan.seed });
    this.keyRng = new SeededRng((plan.seed ^ 0x6a09e667) >>> 0);
    this.build(options.capture ?? false);
  }

  nextKey(): number {
    return this.keyRng.nextU32();
  }

  appOf(host: SimHost): HostApp {
    let app = this.apps.get(host);
    if (app === undefined) {
      app = new HostApp(this, host);
      this.apps.set(host, app);
      const bound = app;
      host.onEvent = (e, now) => bound.onEvent(e, now);
    }
    return app;
  }

  fail(check: string, message: string): void {
    // A broken run can repeat one complaint thousands of times; keep the first few.
    if (this.failures.length < 50) this.failures.push({ check, message });
  }

  log(now: Instant, line: string): void {
    if (this.trace !== null) this.trace(`[${(now / 1e6).toFixed(6)}] ${line}`);
  }

  private build(capture: boolean): void {
    const plan = this.plan;
    let pathMtu = 65535;
    for (const l of plan.links) pathMtu = Math.min(pathMtu, l.mtu);
    for (const h of plan.hosts) {
      const host = this.net.addHost(h.name, {
        tcp: h.tcp,
        forwarding: h.router,
        maxSynBacklog: h.maxSynBacklog,
      });
      this.hosts.set(h.name, host);
      if (!h.router) this.ledgers.set(host, new TcpWireLedger(pathMtu));
      this.appOf(host);
    }
    const ifCount = new Map<string, number>();
    const attach = (name: string, endpoint: ImpairedLink, link: number, side: 1 | 2): BuiltEnd => {
      const host = this.hosts.get(name)!;
      const observer = new WireObserver(
        endpoint,
        this.ledgers.get(host) ?? null,
        (length) => {
          this.oversize++;
          if (this.oversize <= 3)
            this.fail(
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
      this.net.attach(host, observer, {
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
      const left = impair(tap ?? l, { rng: this.net.rng(), outgoing: lp.leftToRight });
      const right = impair(r, { rng: this.net.rng(), outgoing: lp.rightToLeft });
      const built: BuiltLink = {
        plan: lp,
        left: attach(lp.left, left, i + 1, 1),
        right: attach(lp.right, right, i + 1, 2),
        tap,
      };
      this.links.push(built);
      if (lp.cut !== null) {
        const cut = lp.cut;
        this.net.schedule(cut.at as Instant, (now) => {
          this.log(now, `${lp.name} cut for ${(cut.duration / 1e6).toFixed(3)} s`);
          left.cut(now);
        });
        this.net.schedule((cut.at + cut.duration) as Instant, (now) => {
          this.log(now, `${lp.name} healed`);
          left.heal();
        });
      }
    });
    const drop = plan.mtuDrop;
    if (drop !== null) {
      const host = this.hosts.get(drop.host)!;
      const index = plan.links
        .filter((l) => l.left === drop.host || l.right === drop.host)
        .findIndex((l) => l.name === drop.link);
      this.net.schedule(drop.at as Instant, (now) => {
        this.log(now, `${drop.host} lowers its MTU on ${drop.link} to ${drop.mtu}`);
        host.stack.setMtu(index, drop.mtu);
      });
    }
    // Routes: a and b point at their router; each router at the next one for the far subnets.
    const n = plan.links.length;
    const names = plan.hosts.map((h) => h.name);
    for (let pos = 0; pos < names.length; pos++) {
      const stack = this.hosts.get(names[pos]!)!.stack;
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

  /** Sets up the workloads, each starting at its time. */
  setupWorkloads(): void {
    const a = this.hosts.get('a')!;
    const b = this.hosts.get('b')!;
    const n = this.plan.links.length;
    this.plan.workloads.forEach((w, i) => {
      const ends: Endpoints = {
        a,
        b,
        aAddress: address(1, 1, w.family),
        bAddress: address(n, 2, w.family),
      };
      const name = `w${i}:${w.kind}/v${w.family}`;
      const workload = this.makeWorkload(w, name, ends);
      this.workloads.push(workload);
      this.net.schedule(w.start as Instant, (now) => {
        this.log(now, `${name} starts`);
        workload.start(now);
      });
    });
  }

  private makeWorkload(w: WorkloadPlan, name: string, ends: Endpoints): Workload {
    switch (w.kind) {
      case 'bulk':
        return new PairWorkload(this, name, ends, {
          port: w.port,
          clientScript: w.clientCloses
            ? [{ op: 'send', bytes: w.clientBytes }, { op: 'close' }]
            : [
                { op: 'send', bytes: w.clientBytes },
                { op: 'shutdown' },
                { op: 'recv', bytes: w.serverBytes },
                { op: 'waitPeerClose' },
              ],
          serverScript: [
            { op: 'send', bytes: w.serverBytes },
            { op: 'shutdown' },
            { op: 'recv', bytes: w.clientBytes },
            { op: 'waitPeerClose' },
          ],
          clientPacing: w.clientPacing,
          serverPacing: w.serverPacing,
        });
      case 'request-response': {
        const client: Step[] = [];
        const server: Step[] = [];
        for (const r of w.rounds) {
          if (r.think > 0) client.push({ op: 'sleep', duration: r.think });
          client.push({ op: 'send', bytes: r.request }, { op: 'recv', bytes: r.response });
          server.push({ op: 'recv', bytes: r.request }, { op: 'send', bytes: r.response });
        }
        client.push({ op: 'shutdown' }, { op: 'waitPeerClose' });
        server.push({ op: 'waitPeerClose' }, { op: 'shutdown' });
        return new PairWorkload(this, name, ends, {
          port: w.port,
          clientScript: client,
          serverScript: server,
        });
      }
      case 'half-close':
        // The server keeps sending after the client's FIN (RFC 9293 §3.6: CLOSE-WAIT may still send).
        return new PairWorkload(this, name, ends, {
          port: w.port,
          clientScript: [
            { op: 'send', bytes: w.clientBytes },
            { op: 'shutdown' },
            { op: 'recv', bytes: w.serverBefore + w.serverAfter },
            { op: 'waitPeerClose' },
          ],
          serverScript: [
            { op: 'send', bytes: w.serverBefore },
            { op: 'recv', bytes: w.clientBytes },
            { op: 'waitPeerClose' },
            { op: 'send', bytes: w.serverAfter },
            { op: 'shutdown' },
          ],
        });
      case 'simultaneous-close': {
        const barrier = new Barrier(2);
        return new PairWorkload(this, name, ends, {
          port: w.port,
          clientScript: [
            { op: 'send', bytes: w.clientBytes },
            { op: 'recv', bytes: w.serverBytes },
            { op: 'barrier', barrier },
            { op: 'shutdown' },
            { op: 'waitPeerClose' },
          ],
          serverScript: [
            { op: 'send', bytes: w.serverBytes },
            { op: 'recv', bytes: w.clientBytes },
            { op: 'barrier', barrier },
            { op: 'shutdown' },
            { op: 'waitPeerClose' },
          ],
        });
      }
      case 'abort': {
        const senderScript: Step[] = [
          { op: 'send', bytes: w.bytes },
          { op: 'shutdown' },
          { op: 'waitPeerClose' },
        ];
        const receiverScript: Step[] = [
          { op: 'recv', bytes: w.bytes },
          { op: 'waitPeerClose' },
          { op: 'shutdown' },
        ];
        return new PairWorkload(this, name, ends, {
          port: w.port,
          clientScript: w.clientSends ? senderScript : receiverScript,
          serverScript: w.clientSends ? receiverScript : senderScript,
          // Keepalive on both ends: if the RST is lost, a probe draws another from the aborted side's stack.
          keepAliveIdle: w.keepAliveIdle,
          abort: { senderAborts: w.senderAborts, clientSends: w.clientSends, after: w.abortAfter },
        });
      }
      case 'simultaneous-open':
        return new SimultaneousOpen(this, name, ends, w);
      case 'many-short':
        return new ManyShort(this, name, ends, w);
      case 'backlog':
        return new Backlog(this, name, ends, w);
      case 'udp-echo':
        return new UdpEcho(this, name, ends, w);
    }
  }

  allDone(): boolean {
    for (const w of this.workloads) if (!w.done()) return false;
    return true;
  }

  /** Nothing was dropped or damaged anywhere: no link drop, no corruption, no stack drop that loses data. */
  nothingLost(): boolean {
    for (const l of this.links) {
      for (const end of [l.left, l.right]) {
        const s = end.link.stats();
        if (s.txDropped + s.rxDropped > 0) return false;
        const imp = end.link.impairStats();
        if (imp.outgoing.corrupted + imp.incoming.corrupted > 0) return false;
      }
    }
    for (const host of this.hosts.values()) {
      const d = host.stack.stats().drops;
      for (const reason of [
        'neighbor-unresolved',
        'neighbor-queue-full',
        'mtu-exceeded',
        'fragment-timeout',
        'fragment-memory',
        'udp-queue-full',
      ]) {
        if ((d[reason] ?? 0) > 0) return false;
      }
      for (const i of host.stack.stats().interfaces)
        if ((i.drops['neighbor-queue-full'] ?? 0) > 0) return false;
    }
    return true;
  }

  // ------------------------------------------------------------ end checks

  checkEnd(): void {
    for (const p of this.peers) p.check();
    for (const w of this.workloads) w.check();
    this.checkTables();
    this.checkInterfaceCounters();
    this.checkLinkCounters();
    this.checkTcpWire();
  }

  /** Checks that hold even for a run that got stuck. */
  checkAlways(): void {
    for (const [host, ledger] of this.ledgers) {
      if (ledger.sackOversize > 0)
        this.fail(
          'oversize',
          `${host.name} sent ${ledger.sackOversize} data segments too big for the path by their SACK option, ` +
            `e.g. ${ledger.sackOversizeExample}`,
        );
    }
  }

  private checkTables(): void {
    for (const host of this.hosts.values()) {
      const s = host.stack.stats();
      const left: string[] = [];
      if (s.tcpConnections > 0) {
        const states = host.stack
          .tcpSockets()
          .slice(0, 5)
          .map((t) => `${t.localPort}->${t.remoteAddress.text}:${t.remotePort} ${t.state}`);
        left.push(`${s.tcpConnections} TCP connections (${states.join(', ')})`);
      }
      if (s.tcpListeners > 0) left.push(`${s.tcpListeners} listeners`);
      if (s.udpSockets > 0) left.push(`${s.udpSockets} UDP sockets`);
      if (s.pendingFragments > 0) left.push(`${s.pendingFragments} partial datagrams`);
      const t = host.stack.pollTimeout();
      if (t !== NEVER) left.push(`a timer at ${t} µs`);
      if (left.length > 0) this.fail('tables', `${host.name}: left at the end: ${left.join('; ')}`);
    }
    for (const l of this.links) {
      for (const end of [l.left, l.right]) {
        if (end.observer.pollTimeout() !== NEVER)
          this.fail(
            'tables',
            `${l.plan.name} at ${end.host.name}: frames still in flight at the end`,
          );
      }
    }
  }

  private checkInterfaceCounters(): void {
    for (const host of this.hosts.values()) {
      const ifaces = host.stack.stats().interfaces;
      let index = 0;
      for (const l of this.links) {
        for (const end of [l.left, l.right]) {
          if (end.host !== host) continue;
          const i = ifaces[index++]!;
          if (i.framesOut !== end.observer.framesOut || i.framesIn !== end.observer.framesIn)
            this.fail(
              'counters-interface',
              `${host.name} ${i.name}: the stack counts ${i.framesOut} out / ${i.framesIn} in, ` +
                `the link was handed ${end.observer.framesOut} and gave ${end.observer.framesIn}`,
            );
        }
      }
    }
  }

  private checkLinkCounters(): void {
    for (const l of this.links) {
      for (const [from, to] of [
        [l.left, l.right],
        [l.right, l.left],
      ] as const) {
        const dup = from.link.impairStats().outgoing.duplicated;
        const txDropped = from.link.stats().txDropped;
        const rxDropped = to.link.stats().rxDropped;
        const lhs = from.observer.framesOut + dup;
        const rhs = to.observer.framesIn + txDropped + rxDropped;
        if (lhs !== rhs)
          this.fail(
            'counters-link',
            `${l.plan.name} ${from.host.name}->${to.host.name}: ${from.observer.framesOut} sent + ${dup} duplicated ` +
              `!= ${to.observer.framesIn} received + ${txDropped} dropped on the way out + ${rxDropped} on the way in`,
          );
      }
    }
  }

  private checkTcpWire(): void {
    for (const [host, ledger] of this.ledgers) {
      for (const a of ledger.anomalies) this.fail('counters-tcp-wire', `${host.name}: ${a}`);

      let bytesSent = 0;
      let bytesRetransmitted = 0;
      let dataSegmentsSent = 0;
      for (const p of this.peers) {
        if (p.host !== host) continue;
        const s = p.socket.stats();
        bytesSent += s.bytesSent;
        bytesRetransmitted += s.bytesRetransmitted;
        dataSegmentsSent += s.dataSegmentsSent;
      }
      const stats = host.stack.stats();
      // Packets the stack dropped before the link never reached the wire.
      let lostInStack = stats.drops['neighbor-unresolved'] ?? 0;
      for (const i of stats.interfaces) lostInStack += i.drops['neighbor-queue-full'] ?? 0;
      const rtxOnWire = ledger.payloadBytes - ledger.newBytes;
      const pairs: Array<[string, number, number]> = [
        ['bytesSent (new data)', bytesSent, ledger.newBytes],
        ['bytesRetransmitted', bytesRetransmitted, rtxOnWire],
        ['dataSegmentsSent', dataSegmentsSent, ledger.newSegments],
      ];
      for (const [what, counted, seen] of pairs) {
        const ok = lostInStack === 0 ? counted === seen : counted >= seen;
        if (!ok)
          this.fail(
            'counters-tcp-wire',
            `${host.name}: the connections count ${counted} ${what}, the wire shows ${seen}` +
              (lostInStack > 0 ? ` (${lostInStack} packets lost in the stack)` : ''),
          );
      }
    }
  }

  // ------------------------------------------------------------ summary

  summary(): string[] {
    const lines: string[] = [];
    for (const w of this.workloads) lines.push(w.describe());
    for (const l of this.links) {
      for (const [from, to] of [
        [l.left, l.right],
        [l.right, l.left],
      ] as const) {
        const s = from.link.stats();
        const imp = from.link.impairStats().outgoing;
        const drops = Object.entries(s.drops)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ');
        lines.push(
          `${l.plan.name} ${from.host.name}->${to.host.name}: ${from.observer.framesOut} frames` +
            (drops.length > 0 ? `, dropped ${drops}` : '') +
            (imp.duplicated > 0 ? `, ${imp.duplicated} duplicated` : '') +
            (imp.corrupted > 0 ? `, ${imp.corrupted} corrupted` : '') +
            (imp.reordered > 0 ? `, ${imp.reordered} reordered` : ''),
        );
      }
    }
    for (const host of this.hosts.values()) {
      const d = Object.entries(host.stack.stats().drops)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
      if (d.length > 0) lines.push(`${host.name} stack drops: ${d}`);
    }
    return lines;
  }
}

function formatImpairment(imp: Impairment): string {
  const parts: string[] = [];
  if (imp.delay !== undefined)
    parts.push(
      `delay ${imp.delay / 1000} ms${imp.jitter !== undefined ? `±${imp.jitter / 1000}` : ''}`,
    );
  if (imp.loss !== undefined) parts.push(`loss ${imp.loss * 100}%`);
  if (imp.burst !== undefined && imp.burst !== null)
    parts.push(`burst ${imp.burst.pGoodToBad}/${imp.burst.pBadToGood}`);
  if (imp.reorder !== undefined)
    parts.push(`reorder ${imp.reorder * 100}% +${(imp.reorderDelay ?? 0) / 1000} ms`);
  if (imp.duplicate !== undefined) parts.push(`dup ${imp.duplicate * 100}%`);
  if (imp.corrupt !== undefined) parts.push(`corrupt ${imp.corrupt * 100}%`);
  if (imp.rate !== undefined)
    parts.push(`rate ${imp.rate / 1e6} Mbit/s queue ${imp.queueBytes ?? 65536} B`);
  return parts.length > 0 ? parts.join(', ') : 'clean';
}

function formatTcp(tcp: Partial<TcpConfig>): string {
  const flags = [
    tcp.timestamps === true ? 'ts' : '-ts',
    tcp.sack === true ? 'sack' : '-sack',
    tcp.windowScaling === true ? 'wscale' : '-wscale',
    tcp.noDelay === true ? 'nodelay' : 'nagle',
    tcp.delayedAck === true ? 'delack' : '-delack',
  ];
  return `${flags.join(' ')} snd ${tcp.sendBufferSize} rcv ${tcp.receiveBufferSize} iw ${tcp.initialCwndSegments}`;
}

function formatWorkload(w: WorkloadPlan): string {
  const at = `at ${(w.start / 1e6).toFixed(3)} s`;
  switch (w.kind) {
    case 'bulk':
      return (
        `bulk v${w.family} ${at}: a->b ${w.clientBytes} B, b->a ${w.serverBytes} B` +
        (w.clientPacing !== null
          ? `, a reads ${w.clientPacing.bytes} B/${w.clientPacing.interval / 1000} ms`
          : '') +
        (w.serverPacing !== null
          ? `, b reads ${w.serverPacing.bytes} B/${w.serverPacing.interval / 1000} ms`
          : '') +
        (w.clientCloses ? ', a ends with close()' : '')
      );
    case 'request-response':
      return `request-response v${w.family} ${at}: ${w.rounds.map((r) => `${r.think > 0 ? `(${r.think / 1000} ms) ` : ''}${r.request}/${r.response}`).join(' ')}`;
    case 'many-short':
      return (
        `many-short v${w.family} ${at}: ${w.connections.length} connections, ${w.concurrency} at once` +
        (w.clientPort > 0 ? `, all from port ${w.clientPort}` : '')
      );
    case 'half-close':
      return `half-close v${w.family} ${at}: a->b ${w.clientBytes} B then FIN; b->a ${w.serverBefore} B before, ${w.serverAfter} B after`;
    case 'simultaneous-open':
      return `simultaneous-open v${w.family} ${at}: a:${w.portA} <-> b:${w.portB}, ${w.aBytes} B / ${w.bBytes} B`;
    case 'simultaneous-close':
      return `simultaneous-close v${w.family} ${at}: ${w.clientBytes} B / ${w.serverBytes} B`;
    case 'abort':
      return `abort v${w.family} ${at}: ${w.clientSends ? 'a->b' : 'b->a'} ${w.bytes} B, the ${w.senderAborts ? 'sender' : 'receiver'} aborts after ${w.abortAfter} B`;
    case 'backlog':
      return `backlog v${w.family} ${at}: backlog ${w.backlog}, accepts ${w.acceptCount} of ${w.clients.length}, listener closes after ${(w.closeListenerAfter / 1e6).toFixed(1)} s`;
    case 'udp-echo':
      return `udp-echo v${w.family} ${at}: bursts of ${w.bursts.map((b) => b.sizes.length).join(', ')} datagrams`;
  }
}

/** The plan as readable lines: topology, links, host options, workloads. */
export function describePlan(plan: ScenarioPlan): string[] {
  const lines = [`seed ${plan.seed}: ${plan.hosts.map((h) => h.name).join(' - ')}`];
  for (const l of plan.links) {
    lines.push(
      `${l.name} ${l.left}-${l.right} ${l.kind} mtu ${l.mtu}` +
        (l.cut !== null
          ? `, cut at ${(l.cut.at / 1e6).toFixed(3)} s for ${(l.cut.duration / 1e6).toFixed(3)} s`
          : ''),
    );
    lines.push(`  ${l.left}->${l.right}: ${formatImpairment(l.leftToRight)}`);
    lines.push(`  ${l.right}->${l.left}: ${formatImpairment(l.rightToLeft)}`);
  }
  const drop = plan.mtuDrop;
  if (drop !== null)
    lines.push(
      `${drop.host} lowers its MTU on ${drop.link} to ${drop.mtu} at ${(drop.at / 1e6).toFixed(3)} s`,
    );
  for (const h of plan.hosts)
    if (!h.router)
      lines.push(
        `${h.name}: ${formatTcp(h.tcp)}` +
          (h.maxSynBacklog < 1024 ? `, SYN backlog ${h.maxSynBacklog}` : ''),
      );
  for (const w of plan.workloads) lines.push(formatWorkload(w));
  return lines;
}

/**
 * Fills in what plans saved by an earlier generator lack, with the value
 * that reproduces what they did then: a saved failing plan keeps working
 * as a regression test after the generator grows.
 */
function withDefaults(saved: ScenarioPlan): ScenarioPlan {
  return {
    ...saved,
    hosts: saved.hosts.map((h) => ({ ...h, maxSynBacklog: h.maxSynBacklog ?? 1024 })),
    mtuDrop: saved.mtuDrop ?? null,
    workloads: saved.workloads.map((w) => {
      if (w.kind === 'many-short') return { ...w, clientPort: w.clientPort ?? 0 };
      if (w.kind === 'request-response')
        return { ...w, rounds: w.rounds.map((r) => ({ ...r, think: r.think ?? 0 })) };
      return w;
    }),
  };
}

/**
 * Runs a plan and checks every invariant (see the module comment). Never
 * throws: an exception inside the run is itself a failure ('exception').
 */
export function runPlan(saved: ScenarioPlan, options: ScenarioOptions = {}): ScenarioResult {
  const plan = withDefaults(saved);
  const limit = options.timeLimit ?? seconds(3 * 3600);
  let run: Run | null = null;
  const early: ScenarioFailure[] = [];
  try {
    run = new Run(plan, options);
    const r = run;
    r.setupWorkloads();
    const finished = r.net.runUntil(() => r.allDone(), later(0 as Instant, limit));
    if (!finished) {
      const open = r.peers.filter((p) => !p.finished).slice(0, 5);
      r.fail(
        'stuck',
        `the workloads did not finish by ${(r.net.now / 1e6).toFixed(1)} s of virtual time` +
          (open.length > 0
            ? `: ${open.map((p) => `${p.label} in ${p.socket.state} at step ${p.pc}/${p.script.length}, read ${p.received}/${p.recvLength}`).join('; ')}`
            : ''),
      );
    } else {
      for (const w of r.workloads) w.finish(r.net.now);
      // Let TIME-WAIT, neighbour and fragment timers run out: the network must fall quiet.
      r.net.runUntil(() => false, (r.net.now + seconds(2 * 3600)) as Instant);
    }
    if (finished) r.checkEnd();
    r.checkAlways();
  } catch (e) {
    const message =
      e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 6).join('\n') : String(e);
    (run?.failures ?? early).push({ check: 'exception', message });
  }
  const all = run?.failures ?? early;
  const strict = options.strict ?? false;
  const tainted = !strict && all.some((f) => KNOWN_ISSUES[f.check]?.taints === true);
  const isKnown = (f: ScenarioFailure): boolean =>
    !strict && (tainted || KNOWN_ISSUES[f.check] !== undefined);
  const failures = all.filter((f) => !isKnown(f));
  const known = all.filter(isKnown);
  let bytesDelivered = 0;
  let datagramsEchoed = 0;
  let tcpSegmentsOnWire = 0;
  const captures: LinkCapture[] = [];
  let summary: string[] = [];
  if (run !== null) {
    for (const p of run.peers) bytesDelivered += p.received;
    for (const w of run.workloads) if (w instanceof UdpEcho) datagramsEchoed += w.datagramsEchoed;
    for (const l of run.ledgers.values()) tcpSegmentsOnWire += l.segments;
    for (const l of run.links)
      if (l.tap !== null)
        captures.push({ name: l.plan.name, kind: l.plan.kind, bytes: l.tap.bytes() });
    try {
      summary = run.summary();
    } catch (e) {
      summary = [`(no summary: ${String(e)})`];
    }
  }
  return {
    seed: plan.seed,
    plan,
    ok: failures.length === 0,
    failures,
    known,
    virtualTime: run?.net.now ?? (0 as Instant),
    steps: run?.net.steps ?? 0,
    summary,
    captures,
    totals: {
      connections: run?.peers.length ?? 0,
      bytesDelivered,
      datagramsEchoed,
      tcpSegmentsOnWire,
      strays: run?.strays ?? 0,
    },
  };
}

/** Plans the scenario of `seed` and runs it: the one call behind `npm run sim` and the soak. */
export function runScenario(seed: number, options: ScenarioOptions = {}): ScenarioResult {
  return runPlan(planScenario(seed), options);
}
