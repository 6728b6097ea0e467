/**
 * What `tcpts demo` takes and gives back: the scenarios, the options of a
 * run with their defaults, and the result (diagram, captures, connection
 * records, summary), as plain data.
 */
import type { TcpSample, TcpStats } from '../../tcp/index.js';
import type { LadderDiagram, TransitionRecord } from '../ladder-model.js';

/** The scenarios, in the order `--help` lists them. */
export const SCENARIOS = [
  'handshake',
  'transfer',
  'half-close',
  'old-duplicate-syn',
  'simultaneous-open',
  'simultaneous-close',
  'reset',
] as const;
/** One of {@link SCENARIOS}. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** What {@link runDemo} takes; every field has the default `tcpts demo` uses. */
export interface DemoOptions {
  /** Default `handshake`. */
  scenario?: ScenarioName;
  /** Seeds everything random: ISNs, ports, losses, the data. Default 1. */
  seed?: number;
  /** Fraction of frames lost, each way (0.05 is 5%). Default 0. */
  loss?: number;
  /** One-way delay in milliseconds. Default 10. */
  delayMs?: number;
  /** Link bandwidth each way in Mbit/s; 0 (the default) for none, so that frames sent together arrive together. */
  rateMbps?: number;
  /** Bytes the client sends in `transfer` (default 100000) and tries to send in `reset` (default 20000). */
  bytes?: number;
  /** IPv6 (fd00::1, fd00::2) instead of IPv4. */
  ipv6?: boolean;
  /** Label absolute sequence numbers instead of relative ones. Default: relative, but absolute for old-duplicate-syn. */
  absolute?: boolean;
  /** Milliseconds of real time, for the summary's "real time". Default performance.now. */
  clock?: () => number;
  /** Called after every step of the simulation with the bytes delivered so far, the total, and virtual time (µs). */
  progress?: (done: number, total: number, virtualUs: number) => void;
  /** Keep this many samples of the client's connection (TcpConfig.recordSamples) for `--plot`. Default 0: none. */
  recordSamples?: number;
}

/** The defaults of {@link DemoOptions}. */
export const DEMO_DEFAULTS = {
  scenario: 'handshake',
  seed: 1,
  loss: 0,
  delayMs: 10,
  transferBytes: 100_000,
  resetBytes: 20_000,
} as const;

/** Largest `--bytes`: both ends' captures are kept in memory. */
export const MAX_DEMO_BYTES = 256 * 1024 * 1024;

/** One connection a host had during the demo, with its full record. */
export interface ConnectionRecord {
  /** The stack's socket id. */
  id: number;
  /** True when a listener made it (passive open). */
  passive: boolean;
  /** True for a half-open connection the stack discarded (it never reached ESTABLISHED and was reset). */
  discarded: boolean;
  /** Every state change, as `Connection.transitions` holds it (µs of virtual time). */
  transitions: TransitionRecord[];
  finalState: string;
  /** How it ended: null for an orderly close, a TcpError name, or "open" if it has not ended. */
  error: string | null;
  stats: TcpStats;
}

/** The numbers under the picture. */
export interface DemoSummary {
  /** Payload bytes each way that the receiving application read. */
  bytesClientToServer: number;
  bytesServerToClient: number;
  /** For transfer and reset: whether what the server read equals what the client meant to send (null otherwise). */
  intact: boolean | null;
  /** Bytes the client meant to send (transfer, reset), or 0. */
  bytesIntended: number;
  packets: number;
  packetsFromClient: number;
  packetsFromServer: number;
  lost: number;
  /** Segments the stacks retransmitted (their own counters). */
  retransmissions: number;
  /** Virtual time of the last packet, and of the end of everything (TIME-WAIT included), µs. */
  lastPacketUs: number;
  endUs: number;
  /** Real time the simulation took, ms. */
  realTimeMs: number;
  rtt: {
    client: { srttUs: number; minRttUs: number } | null;
    server: { srttUs: number; minRttUs: number } | null;
  };
  finalStates: { client: string; server: string };
  /** How each side's connection ended (see {@link ConnectionRecord.error}). */
  endings: { client: string | null; server: string | null };
  /** Time each side spent in TIME-WAIT, µs (0 if it did not). */
  timeWaitUs: { client: number; server: number };
}

/** What {@link runDemo} returns. */
export interface DemoResult {
  scenario: ScenarioName;
  /** The options in force, defaults filled in. */
  options: {
    seed: number;
    loss: number;
    delayMs: number;
    rateMbps: number;
    bytes: number;
    ipv6: boolean;
    absolute: boolean;
  };
  /** What to notice, a few lines. */
  caption: string[];
  diagram: LadderDiagram;
  /** The capture at the client's end of the link (what `--pcap` saves), and at the server's. */
  clientPcap: Uint8Array;
  serverPcap: Uint8Array;
  connections: { client: ConnectionRecord[]; server: ConnectionRecord[] };
  summary: DemoSummary;
  /** The command that repeats this run. */
  rerun: string;
  /** The client connection's recorded samples when `recordSamples` asked for them, else null. */
  samples: { list: TcpSample[]; dropped: number } | null;
}
