/**
 * The plan of a scenario: everything a seed chose, as plain data (hosts,
 * links and their impairments, faults, workloads). A plan can be printed,
 * saved as JSON, edited, and run again with runPlan.
 */
import type { Impairment, LinkKind } from '../../link/index.js';
import type { TcpConfig } from '../../tcp/index.js';

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
