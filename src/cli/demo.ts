/**
 * `tcpts demo`: TCP at work on the simulated network, no root needed. Two
 * hosts (client 10.0.0.1, server 10.0.0.2, or fd00::1 and fd00::2), one
 * link with a one-way delay (and loss if asked), one connection, and a
 * scenario for the applications at each end. Both ends of the link are
 * captured (pcapTap); every frame seen leaving one host and arriving at the
 * other becomes an arrow from the time it left to the time it arrived, and
 * each side's state after it is read from the connection's own record of
 * transitions, at the moment the stack sent or processed that frame. The
 * work is in {@link runDemo}, which returns data, and {@link demoLines},
 * which returns the terminal text, so tests need no build.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  SeededRng,
  instant,
  later,
  micros,
  randomBytes,
  seq,
  type Instant,
} from '../base/index.js';
import {
  LinkType,
  holdFirst,
  impair,
  memoryPair,
  observeFrames,
  pcapTap,
  readPcap,
  type FrameObserver,
  type LinkEndpoint,
} from '../link/index.js';
import { Network, type SimHost } from '../sim/index.js';
import { IpAddr, type StackEvent, type TcpListener, type TcpSocket } from '../stack/index.js';
import {
  TcpState,
  type StateTransition,
  type TcpEvent,
  type TcpSample,
  type TcpStats,
} from '../tcp/index.js';
import {
  TcpFlags,
  buildTcpPacket,
  noTcpOptions,
  type TcpPacketRepr,
  type TcpRepr,
} from '../wire/index.js';
import type { CommandIo } from './args.js';
import { parseCommandArgs } from './args.js';
import {
  Side,
  buildPackets,
  formatDuration,
  segmentOf,
  type ArrowInput,
  type CapturedSegment,
  type LadderDiagram,
  type LayoutOptions,
  type StateNote,
  type StateRow,
  type TransitionRecord,
} from './ladder-model.js';
import { describeFsError, renderLadderText } from './ladder.js';
import { formatBytes, progressBarFor, type ProgressStream } from './progress.js';
import { renderLadderSvg } from './svg.js';
import { plotFromSamples } from './plot-model.js';
import { renderPlotSvg } from './plot.js';

// ---------------------------------------------------------------- options

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

/** The queue in front of a rate-limited link: large, so that a rate alone loses nothing. */
const RATE_QUEUE_BYTES = 16 << 20;

/** Largest `--bytes`: both ends' captures are kept in memory. */
export const MAX_DEMO_BYTES = 256 * 1024 * 1024;

/** How long a demo may run in virtual time before it gives up (a connection stuck in loss, say). */
const VIRTUAL_LIMIT = instant(3600 * 1_000_000);

// ---------------------------------------------------------------- results

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

// ---------------------------------------------------------------- recording states

/** Where a probe note came from. */
interface Note {
  record: number;
  time: number;
  order: number;
  state: StateNote | null;
}

function transitionRecord(t: StateTransition, index: number): TransitionRecord {
  return { at: t.at, from: t.from, to: t.to, cause: t.cause, index };
}

function socketKey(local: string, localPort: number, remote: string, remotePort: number): string {
  return `${local}|${localPort}|${remote}|${remotePort}`;
}

/**
 * The state a side is shown in. A half-open connection that a RST sends
 * back to LISTEN (RFC 9293 §3.10.7.4) is then discarded by the stack, so its
 * record ends in CLOSED; the host is listening all along, so LISTEN is shown.
 */
function shownState(socket: TcpSocket): string {
  const state = socket.conn.state;
  const list = socket.conn.transitions;
  const last = list[list.length - 1];
  if (socket.listener !== null && state === TcpState.Closed && last?.from === TcpState.Listen) {
    return TcpState.Listen;
  }
  return state;
}

/**
 * Pairs every frame a host sends or receives with that host's connection
 * state right after: notes for sends are taken as the frame leaves, notes
 * for arrivals once the stack has processed the frame (at the next call to
 * `receive`, which the simulator makes before anything else happens on
 * that host). The transitions a connection recorded since its previous
 * note are attributed to the note; those no frame explains (a timer) are
 * flushed as rows of their own after every simulation step.
 */
class StateRecorder {
  order = 0;
  readonly notes: Record<Side, Map<number, Note>> = { client: new Map(), server: new Map() };
  readonly rows: StateRow[] = [];
  readonly sockets: Record<Side, TcpSocket[]> = { client: [], server: [] };
  private readonly known: Record<Side, Map<string, TcpSocket>> = {
    client: new Map(),
    server: new Map(),
  };
  private readonly cursor = new Map<TcpSocket, number>();
  private readonly carry = new Map<TcpSocket, TransitionRecord[]>();
  private readonly hosts: Record<Side, SimHost>;

  constructor(hosts: Record<Side, SimHost>) {
    this.hosts = hosts;
  }

  /** Learns the side's live connections (new ones, and new ones reusing a 4-tuple). */
  private refresh(side: Side): void {
    for (const s of this.hosts[side].stack.tcpSockets()) {
      const key = socketKey(s.localAddress.text, s.localPort, s.remoteAddress.text, s.remotePort);
      if (this.known[side].get(key) !== s) {
        this.known[side].set(key, s);
        if (!this.sockets[side].includes(s)) this.sockets[side].push(s);
      }
    }
  }

  private take(socket: TcpSocket): TransitionRecord[] {
    const list = socket.conn.transitions;
    const from = this.cursor.get(socket) ?? 0;
    this.cursor.set(socket, list.length);
    return list.slice(from).map((t, i) => transitionRecord(t, from + i));
  }

  /** The connection of `side` that a frame belongs to, if it has one. */
  private socketOf(
    side: Side,
    time: Instant,
    frame: Uint8Array,
    sent: boolean,
  ): TcpSocket | undefined {
    this.refresh(side);
    const segment = segmentOf(
      { time, linkType: LinkType.Raw, data: frame, originalLength: frame.length },
      0,
    );
    if (segment === null) return undefined;
    const key = sent
      ? socketKey(segment.src, segment.srcPort, segment.dst, segment.dstPort)
      : socketKey(segment.dst, segment.dstPort, segment.src, segment.srcPort);
    return this.known[side].get(key);
  }

  /**
   * A frame is about to be processed: changes its connection made since the
   * last note (an application's call, say) are not the frame's doing. They
   * are carried to the connection's next send, or to a row of their own.
   */
  beforeArrival(side: Side, time: Instant, frame: Uint8Array): void {
    const socket = this.socketOf(side, time, frame, false);
    if (socket === undefined) return;
    const fresh = this.take(socket);
    if (fresh.length > 0) this.carry.set(socket, [...(this.carry.get(socket) ?? []), ...fresh]);
  }

  /** Notes the state after frame number `record` of `side`'s capture went out or was processed. */
  note(side: Side, record: number, time: Instant, frame: Uint8Array, sent: boolean): void {
    const socket = this.socketOf(side, time, frame, sent);
    let state: StateNote | null = null;
    if (socket !== undefined) {
      const carried = this.carry.get(socket) ?? [];
      const own = this.take(socket);
      if (sent) {
        this.carry.delete(socket);
        state = {
          state: shownState(socket),
          connection: socket.id,
          transitions: [...carried, ...own],
        };
      } else {
        // An arrival that changed nothing shows the state from before the carried changes.
        const shown =
          own.length === 0 && carried.length > 0 ? carried[0]!.from : shownState(socket);
        state = { state: shown, connection: socket.id, transitions: own };
      }
    }
    this.notes[side].set(record, { record, time, order: this.order++, state });
  }

  /**
   * The observer of `side`'s link, below the host and above its tap: the
   * index of each frame it reports is the frame's record in that tap.
   */
  observer(side: Side): FrameObserver {
    return {
      sent: (index, now, frame) => this.note(side, index, now, frame, true),
      arriving: (_index, now, frame) => this.beforeArrival(side, now, frame),
      processed: (index, arrivedAt, frame) => this.note(side, index, arrivedAt, frame, false),
    };
  }

  /** Turns transitions no frame explained into rows of their own, at `now`. */
  flush(now: Instant): void {
    for (const side of [Side.Client, Side.Server]) {
      this.refresh(side);
      for (const socket of this.sockets[side]) {
        const fresh = [...(this.carry.get(socket) ?? []), ...this.take(socket)];
        this.carry.delete(socket);
        if (fresh.length === 0) continue;
        this.rows.push({
          at: now,
          side,
          state: shownState(socket),
          connection: socket.id,
          transitions: fresh,
          order: this.order++,
        });
      }
    }
  }
}

/** True for a SYN without ACK: the first frame of an active open. */
function isOpeningSyn(frame: Uint8Array): boolean {
  const segment = segmentOf(
    { time: instant(0), linkType: LinkType.Raw, data: frame, originalLength: frame.length },
    0,
  );
  return segment !== null && (segment.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN;
}

// ---------------------------------------------------------------- applications

/** A small application on one connection: sends what it is given (then FIN if asked), counts what it reads. */
class App {
  socket: TcpSocket | null = null;
  read = 0;
  ending: string | null | undefined = undefined;
  onData: ((chunk: Uint8Array, now: Instant) => void) | null = null;
  onConnected: ((now: Instant) => void) | null = null;
  onPeerClosed: ((now: Instant) => void) | null = null;
  private readonly outbox: Uint8Array[] = [];
  private finAfter = false;
  private finSent = false;
  private readonly buffer = new Uint8Array(65536);

  /**
   * Takes a connection from a listener. Data and a FIN may have arrived
   * before it was accepted (their events went to the listener), so look.
   */
  adopt(socket: TcpSocket, now: Instant): void {
    this.socket = socket;
    this.drain(now);
    const state = socket.state;
    if (state === TcpState.CloseWait || state === TcpState.LastAck) this.onPeerClosed?.(now);
    this.pump(now);
  }

  send(now: Instant, data: Uint8Array): void {
    if (data.length > 0) this.outbox.push(data);
    this.pump(now);
  }

  /** FIN once everything queued so far has been written. */
  finish(now: Instant): void {
    this.finAfter = true;
    this.pump(now);
  }

  pump(now: Instant): void {
    const s = this.socket;
    if (s === null || this.ending !== undefined) return;
    if (s.state === TcpState.SynSent || s.state === TcpState.SynReceived) return;
    while (this.outbox.length > 0) {
      const head = this.outbox[0]!;
      const n = s.write(head);
      if (n < head.length) {
        this.outbox[0] = head.subarray(n);
        return;
      }
      this.outbox.shift();
    }
    if (this.finAfter && !this.finSent) {
      this.finSent = true;
      s.shutdown(now);
    }
  }

  handle(event: TcpEvent, now: Instant): void {
    switch (event.type) {
      case 'connected':
        this.onConnected?.(now);
        this.pump(now);
        break;
      case 'writable':
        this.pump(now);
        break;
      case 'readable':
        this.drain(now);
        break;
      case 'peer-closed':
        this.drain(now);
        this.onPeerClosed?.(now);
        break;
      case 'closed':
        this.ending = event.error;
        break;
      case 'state':
        break;
    }
  }

  private drain(now: Instant): void {
    const s = this.socket;
    if (s === null) return;
    for (let n = s.read(this.buffer); n > 0; n = s.read(this.buffer)) {
      this.read += n;
      this.onData?.(this.buffer.slice(0, n), now);
    }
  }
}

/** Routes a host's events to its app: the first connection a listener offers, or the app's own socket. */
function wire(host: SimHost, app: App): void {
  host.onEvent = (e: StackEvent, now: Instant) => {
    if (e.type === 'accept') {
      for (let s = e.listener.accept(); s !== null; s = e.listener.accept()) {
        if (app.socket === null) app.adopt(s, now);
      }
    } else if (e.type === 'tcp' && e.socket === app.socket) {
      app.handle(e.event, now);
    }
  };
}

const ASCII = new TextEncoder();
const SERVER_PORT = 80;
const PORT_A = 7000;
const PORT_B = 8000;

/** What a scenario set up: its caption and what its summary checks. */
interface Scene {
  caption: string[];
  client: App;
  server: App;
  /** Whether the server read exactly what it should have. */
  intact: () => boolean | null;
  /** For scenarios where the server initiates too: its initial state. */
  serverInitial: string;
}

interface SceneContext {
  net: Network;
  client: SimHost;
  server: SimHost;
  clientAddress: string;
  serverAddress: string;
  delayUs: number;
  bytes: number;
  seed: number;
  /** Injects a frame into the link toward the server at `at` (it bypasses the client and its capture). */
  inject: (at: Instant, build: () => Uint8Array) => void;
  /** The sequence number of the first SYN the client sent (read from its capture), or 0. */
  clientSynSeq: () => number;
  /** Reports bytes the server application has read (for the progress bar). */
  onProgress: (read: number) => void;
}

/** A request/response pair small enough to read in the labels. */
const REQUEST = ASCII.encode('hello, server\n');
const REPLY = ASCII.encode('hello, client\n');

function listenWith(ctx: SceneContext, app: App): TcpListener {
  const listener = ctx.server.stack.listen({ port: SERVER_PORT });
  wire(ctx.server, app);
  return listener;
}

function connectWith(ctx: SceneContext, app: App): TcpSocket {
  const socket = ctx.client.stack.connect(ctx.net.now, {
    host: ctx.serverAddress,
    port: SERVER_PORT,
  });
  app.socket = socket;
  wire(ctx.client, app);
  return socket;
}

/** Collects what the server reads and compares it with what the client meant to send. */
function checker(app: App, expected: Uint8Array): () => boolean {
  let ok = true;
  let offset = 0;
  app.onData = (chunk) => {
    for (let i = 0; i < chunk.length; i++) {
      if (offset + i >= expected.length || chunk[i] !== expected[offset + i]) ok = false;
    }
    offset += chunk.length;
  };
  return () => ok && offset === expected.length;
}

function sceneHandshake(ctx: SceneContext): Scene {
  const client = new App();
  const server = new App();
  listenWith(ctx, server);
  let replied = false;
  server.onData = (_chunk, now) => {
    if (!replied && server.read >= REQUEST.length) {
      replied = true;
      server.send(now, REPLY);
    }
  };
  server.onPeerClosed = (now) => server.finish(now);
  client.onConnected = (now) => client.send(now, REQUEST);
  client.onData = (_chunk, now) => {
    if (client.read >= REPLY.length) client.finish(now);
  };
  connectWith(ctx, client);
  return {
    caption: [
      "Opening takes three messages: the client's SYN, the server's SYN,ACK (its own SYN",
      "and the ACK of the client's), and the client's ACK. Each side picks its own initial",
      'sequence number, and each SYN counts as one byte: after the SYNs, both sides are at 1.',
      'Closing takes four: each direction is closed on its own by a FIN, and each FIN is',
      'acknowledged. The side that closed first (the client) waits in TIME-WAIT for 2 MSL',
      '(60 s here, as Linux) so that a lost last ACK can be sent again and so that stray',
      'segments of this connection die before the same ports are used again.',
    ],
    client,
    server,
    intact: () => null,
    serverInitial: TcpState.Listen,
  };
}

function sceneTransfer(ctx: SceneContext): Scene {
  const client = new App();
  const server = new App();
  const data = randomBytes(new SeededRng(ctx.seed ^ 0x5eed), new Uint8Array(ctx.bytes));
  listenWith(ctx, server);
  const intact = checker(server, data);
  const count = server.onData!;
  server.onData = (chunk, now) => {
    count(chunk, now);
    ctx.onProgress(server.read);
  };
  server.onPeerClosed = (now) => server.finish(now);
  client.onConnected = (now) => {
    client.send(now, data);
    client.finish(now);
  };
  connectWith(ctx, client);
  return {
    caption: [
      `The client sends ${formatBytes(ctx.bytes)} and closes; the server checks every byte and closes too.`,
      'Watch the sender start with ten segments (the initial congestion window, RFC 6928) and',
      'send more each round trip as ACKs come back (slow start). The link has no bandwidth',
      'limit unless --rate sets one, so segments sent together arrive together and are',
      'acknowledged together. With --loss, lost segments are sent again: after duplicate ACKs',
      '(fast retransmit, SACK saying what arrived), or after a retransmission timeout.',
    ],
    client,
    server,
    intact,
    serverInitial: TcpState.Listen,
  };
}

function sceneHalfClose(ctx: SceneContext): Scene {
  const client = new App();
  const server = new App();
  const chunk = new Uint8Array(1000).fill(0x2e);
  listenWith(ctx, server);
  server.onPeerClosed = (now) => {
    // The client has said all it will say; the server still has plenty to say.
    const gap = Math.max(1000, ctx.delayUs);
    // TCP_NODELAY: each chunk leaves when written, not when the last is acknowledged (Nagle).
    server.socket?.setNoDelay(true);
    server.send(now, chunk);
    ctx.net.schedule(later(now, micros(gap)), (t) => server.send(t, chunk));
    ctx.net.schedule(later(now, micros(2 * gap)), (t) => {
      server.send(t, chunk);
      server.finish(t);
    });
  };
  client.onConnected = (now) => {
    client.send(now, ASCII.encode('send me the file\n'));
    client.finish(now);
  };
  connectWith(ctx, client);
  return {
    caption: [
      'The client sends its request and closes its sending direction at once (shutdown: FIN).',
      'That FIN only says "no more data from me". The server acknowledges it and goes on',
      'sending for a while (CLOSE-WAIT), and the client goes on receiving and acknowledging',
      '(FIN-WAIT-2), until the server closes its own direction with its own FIN. Because each',
      'direction ends on its own, the ACK of a FIN and the FIN of the other side cannot always',
      'travel together: that is why closing takes four messages where opening takes three.',
    ],
    client,
    server,
    intact: () => null,
    serverInitial: TcpState.Listen,
  };
}

/** A SYN like the one a Linux client sends: the old duplicate. */
function buildSyn(
  src: IpAddr,
  dst: IpAddr,
  srcPort: number,
  dstPort: number,
  isn: number,
  tsval: number,
): Uint8Array {
  const options = noTcpOptions();
  options.mss = src.family === 4 ? 1460 : 1440;
  options.sackPermitted = true;
  options.windowScale = 10;
  options.timestamp = { value: tsval >>> 0, echo: 0 };
  const tcp: TcpRepr = {
    srcPort,
    dstPort,
    seq: seq(isn >>> 0),
    ack: seq(0),
    flags: TcpFlags.SYN,
    window: 64240,
    urgent: 0,
    options,
    payload: new Uint8Array(0),
  };
  const ip: TcpPacketRepr['ip'] =
    src.family === 4
      ? {
          version: 4,
          src: src.v4,
          dst: dst.v4,
          ttl: 64,
          dscp: 0,
          ecn: 0,
          identification: 0,
          dontFragment: true,
        }
      : { version: 6, src: src.v6, dst: dst.v6, hopLimit: 64, dscp: 0, ecn: 0, flowLabel: 0 };
  return buildTcpPacket({ ethernet: null, ip, tcp });
}

/** How much older the old duplicate's sequence number is than the current ISN. */
const OLD_ISN_DISTANCE = 1_000_000;

function sceneOldDuplicateSyn(ctx: SceneContext): Scene {
  const client = new App();
  const server = new App();
  listenWith(ctx, server);
  server.onPeerClosed = (now) => server.finish(now);
  client.onConnected = (now) => client.finish(now);
  const socket = connectWith(ctx, client);
  // The SYN of an earlier incarnation of this connection (same ports),
  // delayed in the network: it turns up before the current SYN, which is
  // itself slow (the link holds it back, see holdFirst). Its sequence number
  // lies well before the current one, as an earlier ISN would (RFC 9293 §3.4.1).
  ctx.inject(instant(Math.floor(ctx.delayUs / 2)), () =>
    buildSyn(
      IpAddr.parseOrThrow(ctx.clientAddress),
      IpAddr.parseOrThrow(ctx.serverAddress),
      socket.localPort,
      SERVER_PORT,
      (ctx.clientSynSeq() - OLD_ISN_DISTANCE) >>> 0,
      1,
    ),
  );
  return {
    caption: [
      'A SYN from an earlier connection between the same ports, delayed in the network, arrives',
      'while the current SYN is still on its way (sequence numbers are absolute here: the point',
      'is which SYN an ACK acknowledges). The server cannot tell it is old and answers with',
      'SYN,ACK acknowledging the old sequence number. Only the client knows which SYN is',
      'current: that ACK is wrong, so it answers RST, and the server drops the half-open',
      'connection and listens on. The current SYN then opens the connection normally. With',
      'two messages the old SYN would have opened a connection: the third message is the',
      'client confirming which SYN it meant (RFC 9293 §3.5, figure 8).',
    ],
    client,
    server,
    intact: () => null,
    serverInitial: TcpState.Listen,
  };
}

function sceneSimultaneousOpen(ctx: SceneContext): Scene {
  const client = new App();
  const server = new App();
  client.socket = ctx.client.stack.connect(ctx.net.now, {
    host: ctx.serverAddress,
    port: PORT_B,
    localPort: PORT_A,
  });
  server.socket = ctx.server.stack.connect(ctx.net.now, {
    host: ctx.clientAddress,
    port: PORT_A,
    localPort: PORT_B,
  });
  wire(ctx.client, client);
  wire(ctx.server, server);
  client.onConnected = (now) => client.finish(now);
  server.onPeerClosed = (now) => server.finish(now);
  return {
    caption: [
      `Both hosts connect to each other at the same moment, each from a fixed port (${PORT_A} and ${PORT_B}),`,
      'and neither listens. The two SYNs cross; each host, in SYN-SENT, receives a SYN without an',
      'ACK, moves to SYN-RECEIVED and answers SYN,ACK; each SYN,ACK then completes a handshake.',
      'One connection results, after four messages instead of three (RFC 9293 §3.5, figure 7).',
    ],
    client,
    server,
    intact: () => null,
    serverInitial: TcpState.Closed,
  };
}

function sceneSimultaneousClose(ctx: SceneContext): Scene {
  const client = new App();
  const server = new App();
  listenWith(ctx, server);
  // Once the request has arrived (so both ends are ESTABLISHED), both
  // applications close at the same instant, a little later.
  let scheduled = false;
  server.onData = (_chunk, now) => {
    if (scheduled || server.read < REQUEST.length) return;
    scheduled = true;
    ctx.net.schedule(later(now, micros(Math.max(1000, ctx.delayUs))), (t) => {
      client.finish(t);
      server.finish(t);
    });
  };
  client.onConnected = (now) => client.send(now, REQUEST);
  connectWith(ctx, client);
  return {
    caption: [
      'Both applications close at the same instant. The two FINs cross: each side, in FIN-WAIT-1,',
      'receives a FIN that does not acknowledge its own, moves to CLOSING and acknowledges it; when',
      'the ACK of its own FIN arrives it moves to TIME-WAIT. Both sides wait out TIME-WAIT, since',
      'both closed actively (RFC 9293 §3.6, figure 13).',
    ],
    client,
    server,
    intact: () => null,
    serverInitial: TcpState.Listen,
  };
}

/** Bytes after which the server of the reset scenario gives up on the upload. */
const RESET_AFTER = 4000;

function sceneReset(ctx: SceneContext): Scene {
  const client = new App();
  const server = new App();
  const data = randomBytes(new SeededRng(ctx.seed ^ 0x5eed), new Uint8Array(ctx.bytes));
  listenWith(ctx, server);
  let aborted = false;
  server.onData = (_chunk, now) => {
    ctx.onProgress(server.read);
    if (!aborted && server.read >= RESET_AFTER) {
      aborted = true;
      server.socket!.abort(now);
    }
  };
  client.onConnected = (now) => client.send(now, data);
  connectWith(ctx, client);
  return {
    caption: [
      `The client starts sending ${formatBytes(ctx.bytes)}; after ${RESET_AFTER} bytes the server application aborts`,
      '(as close() with SO_LINGER 0 does). An abort sends RST instead of FIN: no handshake, no',
      'TIME-WAIT, the connection is gone at once on both sides, and whatever was in flight or',
      'unread is lost. The client learns of it from the RST (ECONNRESET) (RFC 9293 §3.10.5).',
    ],
    client,
    server,
    intact: () => null,
    serverInitial: TcpState.Listen,
  };
}

const SCENES: Readonly<Record<ScenarioName, (ctx: SceneContext) => Scene>> = {
  handshake: sceneHandshake,
  transfer: sceneTransfer,
  'half-close': sceneHalfClose,
  'old-duplicate-syn': sceneOldDuplicateSyn,
  'simultaneous-open': sceneSimultaneousOpen,
  'simultaneous-close': sceneSimultaneousClose,
  reset: sceneReset,
};

// ---------------------------------------------------------------- the run

function hex(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += b.toString(16).padStart(2, '0');
  return text;
}

/** Bytes of a frame that identify it: the IP and TCP headers, options included (checksums cover the rest). */
const KEY_BYTES = 120;

/**
 * A big transfer keeps only the headers at the server's end: they are all
 * the pairing of frames needs, and the client's end (what --pcap saves) is
 * kept whole.
 */
const SERVER_SNAPLEN_ABOVE = 16 * 1024 * 1024;
const HEADERS_SNAPLEN = 128;

/** A key under which a frame seen at both ends of the link matches: its first bytes and its length. */
function frameKey(s: CapturedSegment): string {
  return `${s.length}:${hex(s.ip.subarray(0, KEY_BYTES))}`;
}

function segmentsOf(pcap: Uint8Array): CapturedSegment[] {
  const file = readPcap(pcap);
  if (typeof file === 'string')
    throw new Error(`tcpts demo: internal error reading its own capture (${file})`);
  const out: CapturedSegment[] = [];
  file.records.forEach((r, i) => {
    const s = segmentOf(r, i);
    if (s !== null) out.push(s);
  });
  return out;
}

function connectionRecord(socket: TcpSocket, ending: string | null | undefined): ConnectionRecord {
  const transitions = socket.conn.transitions.map(transitionRecord);
  const discarded =
    socket.listener !== null && !transitions.some((t) => t.to === TcpState.Established);
  return {
    id: socket.id,
    passive: socket.listener !== null,
    discarded,
    transitions,
    finalState: socket.conn.state,
    error: ending === undefined ? (socket.conn.state === TcpState.Closed ? null : 'open') : ending,
    stats: socket.stats(),
  };
}

function timeIn(record: ConnectionRecord | undefined, state: string): number {
  if (record === undefined) return 0;
  const t = record.transitions;
  for (let i = 0; i < t.length; i++) {
    if (t[i]!.to === state) return (t[i + 1]?.at ?? t[i]!.at) - t[i]!.at;
  }
  return 0;
}

/**
 * Runs one scenario on the simulator and returns everything about it: the
 * diagram, both captures, every connection's record and the summary. The
 * same options (seed included) give the same result, except
 * `summary.realTimeMs`.
 */
export function runDemo(options: DemoOptions = {}): DemoResult {
  const scenario = options.scenario ?? DEMO_DEFAULTS.scenario;
  const seed = options.seed ?? DEMO_DEFAULTS.seed;
  const loss = options.loss ?? DEMO_DEFAULTS.loss;
  let delayMs = options.delayMs ?? DEMO_DEFAULTS.delayMs;
  // The old duplicate must overtake the current SYN: that needs some delay.
  if (scenario === 'old-duplicate-syn' && delayMs < 1) delayMs = 1;
  const bytes =
    options.bytes ??
    (scenario === 'reset'
      ? DEMO_DEFAULTS.resetBytes
      : scenario === 'transfer'
        ? DEMO_DEFAULTS.transferBytes
        : 0);
  const ipv6 = options.ipv6 ?? false;
  const rateMbps = options.rateMbps ?? 0;
  const absolute = options.absolute ?? scenario === 'old-duplicate-syn';
  const clock = options.clock ?? (() => performance.now());
  if (!SCENES[scenario])
    throw new TypeError(
      `runDemo: unknown scenario '${String(scenario)}'; one of ${SCENARIOS.join(', ')}`,
    );
  if (!(loss >= 0 && loss < 1))
    throw new RangeError(`runDemo: loss must be in [0, 1), got ${loss}`);
  if (!(delayMs >= 0)) throw new RangeError(`runDemo: delayMs must be >= 0, got ${delayMs}`);
  if (!(rateMbps >= 0)) throw new RangeError(`runDemo: rateMbps must be >= 0, got ${rateMbps}`);
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_DEMO_BYTES) {
    throw new RangeError(
      `runDemo: bytes must be a whole number up to ${MAX_DEMO_BYTES}, got ${bytes}`,
    );
  }
  const started = clock();
  const delayUs = Math.round(delayMs * 1000);

  const net = new Network({ seed });
  const recordSamples = options.recordSamples ?? 0;
  const clientHost = net.addHost('client', recordSamples > 0 ? { tcp: { recordSamples } } : {});
  const serverHost = net.addHost('server');
  const clientAddress = ipv6 ? 'fd00::1' : '10.0.0.1';
  const serverAddress = ipv6 ? 'fd00::2' : '10.0.0.2';
  const [ea, eb] = memoryPair({ kind: 'ip', mtu: 1500 });
  // With a rate, frames are serialised one after another on the link, and
  // its queue is big enough that nothing is lost unless --loss says so.
  const oneWay = {
    loss,
    delay: micros(delayUs),
    rate: rateMbps * 1e6,
    queueBytes: RATE_QUEUE_BYTES,
  };
  let clientSide: LinkEndpoint = impair(ea, { rng: net.rng(), outgoing: oneWay });
  const serverSide: LinkEndpoint = impair(eb, { rng: net.rng(), outgoing: oneWay });
  // The current SYN is slow in the network, so that the old duplicate overtakes it.
  if (scenario === 'old-duplicate-syn')
    clientSide = holdFirst(clientSide, { matches: isOpeningSyn, holdFor: micros(4 * delayUs) });
  const clientTap = pcapTap(clientSide);
  const serverTap = pcapTap(
    serverSide,
    bytes > SERVER_SNAPLEN_ABOVE ? { snaplen: HEADERS_SNAPLEN } : {},
  );
  const recorder = new StateRecorder({ client: clientHost, server: serverHost });
  net.attach(clientHost, observeFrames(clientTap, recorder.observer(Side.Client)), {
    addresses: [ipv6 ? 'fd00::1/64' : '10.0.0.1/24'],
  });
  net.attach(serverHost, observeFrames(serverTap, recorder.observer(Side.Server)), {
    addresses: [ipv6 ? 'fd00::2/64' : '10.0.0.2/24'],
  });

  let delivered = 0;
  const ctx: SceneContext = {
    net,
    client: clientHost,
    server: serverHost,
    clientAddress,
    serverAddress,
    delayUs,
    bytes,
    seed,
    inject: (at, build) => net.schedule(at, (now) => void ea.send(now, build())),
    clientSynSeq: () => {
      const syn = segmentsOf(clientTap.bytes()).find((x) => (x.flags & TcpFlags.SYN) !== 0);
      return syn === undefined ? 0 : syn.seq;
    },
    onProgress: (read) => {
      delivered = read;
    },
  };
  const scene = SCENES[scenario](ctx);
  const progress = options.progress;
  net.runUntil(() => {
    recorder.flush(net.now);
    if (progress !== undefined) progress(delivered, bytes, net.now);
    return false;
  }, VIRTUAL_LIMIT);
  recorder.flush(net.now);
  const realTimeMs = clock() - started;

  // Pair the frames seen leaving one end with those seen arriving at the other.
  const clientSegments = segmentsOf(clientTap.bytes());
  const serverSegments = segmentsOf(serverTap.bytes());
  const isClient = (s: CapturedSegment): boolean => s.src === clientAddress;
  const arrivals = new Map<string, CapturedSegment[]>();
  const addArrival = (s: CapturedSegment): void => {
    const key = frameKey(s);
    const list = arrivals.get(key);
    if (list === undefined) arrivals.set(key, [s]);
    else list.push(s);
  };
  for (const s of clientSegments) if (!isClient(s)) addArrival(s);
  for (const s of serverSegments) if (isClient(s)) addArrival(s);
  const matched = new Set<CapturedSegment>();
  const notesOf = (side: Side, s: CapturedSegment): StateNote | null =>
    recorder.notes[side].get(s.record)?.state ?? null;
  const orderOf = (side: Side, s: CapturedSegment): number =>
    recorder.notes[side].get(s.record)?.order ?? 0;
  const inputs: ArrowInput[] = [];
  const sent: Array<{ side: Side; s: CapturedSegment }> = [
    ...clientSegments.filter(isClient).map((s) => ({ side: Side.Client, s })),
    ...serverSegments.filter((s) => !isClient(s)).map((s) => ({ side: Side.Server, s })),
  ];
  for (const { side, s } of sent) {
    const queue = arrivals.get(frameKey(s));
    const arrival = queue !== undefined && queue.length > 0 ? queue.shift()! : null;
    if (arrival !== null) matched.add(arrival);
    const receiver = side === Side.Client ? Side.Server : Side.Client;
    inputs.push({
      from: side,
      segment: s,
      sentAt: s.time,
      arrivedAt: arrival === null ? null : arrival.time,
      estimated: false,
      lost: arrival === null,
      note: arrival === null ? 'lost' : null,
      senderState: notesOf(side, s),
      receiverState: arrival === null ? null : notesOf(receiver, arrival),
      sendOrder: orderOf(side, s),
      arriveOrder: arrival === null ? 0 : orderOf(receiver, arrival),
    });
  }
  // Frames that arrived without ever being sent by the other host: injected.
  for (const [side, list] of [
    [Side.Server, serverSegments.filter(isClient)],
    [Side.Client, clientSegments.filter((s) => !isClient(s))],
  ] as const) {
    for (const s of list) {
      if (matched.has(s)) continue;
      inputs.push({
        from: side === Side.Server ? Side.Client : Side.Server,
        segment: s,
        sentAt: null,
        arrivedAt: s.time,
        estimated: false,
        lost: false,
        note: 'old duplicate, from an earlier connection',
        senderState: null,
        receiverState: notesOf(side, s),
        sendOrder: 0,
        arriveOrder: orderOf(side, s),
      });
    }
  }
  const first = (i: ArrowInput): number => i.sentAt ?? i.arrivedAt ?? 0;
  const firstOrder = (i: ArrowInput): number => (i.sentAt !== null ? i.sendOrder : i.arriveOrder);
  inputs.sort((a, b) => first(a) - first(b) || firstOrder(a) - firstOrder(b));
  const packets = buildPackets(inputs, absolute);

  const endings = (app: App, socket: TcpSocket): string | null | undefined =>
    app.socket === socket ? app.ending : undefined;
  const records = {
    client: recorder.sockets.client.map((s) => connectionRecord(s, endings(scene.client, s))),
    server: recorder.sockets.server.map((s) => connectionRecord(s, endings(scene.server, s))),
  };
  const main = (side: Side): ConnectionRecord | undefined => {
    const app = side === Side.Client ? scene.client : scene.server;
    const id = app.socket?.id;
    return records[side].find((r) => r.id === id) ?? records[side][records[side].length - 1];
  };
  const mainClient = main(Side.Client);
  const mainServer = main(Side.Server);
  const rttOf = (r: ConnectionRecord | undefined): { srttUs: number; minRttUs: number } | null =>
    r === undefined || r.stats.srtt === 0
      ? null
      : { srttUs: r.stats.srtt, minRttUs: r.stats.minRtt };
  let lastPacket = 0;
  for (const p of packets) lastPacket = Math.max(lastPacket, p.arrivedAt ?? p.sentAt ?? 0);
  let retransmissions = 0;
  for (const r of [...records.client, ...records.server])
    retransmissions += r.stats.segmentsRetransmitted;

  const intact = scene.intact();
  const summary: DemoSummary = {
    bytesClientToServer: scene.server.read,
    bytesServerToClient: scene.client.read,
    intact,
    bytesIntended: scenario === 'transfer' || scenario === 'reset' ? bytes : 0,
    packets: packets.length,
    packetsFromClient: packets.filter((p) => p.from === Side.Client).length,
    packetsFromServer: packets.filter((p) => p.from === Side.Server).length,
    lost: packets.filter((p) => p.lost).length,
    retransmissions,
    lastPacketUs: lastPacket,
    endUs: net.now,
    realTimeMs,
    rtt: { client: rttOf(mainClient), server: rttOf(mainServer) },
    finalStates: {
      client: mainClient?.finalState ?? TcpState.Closed,
      server: mainServer?.finalState ?? scene.serverInitial,
    },
    endings: { client: mainClient?.error ?? null, server: mainServer?.error ?? null },
    timeWaitUs: {
      client: timeIn(mainClient, TcpState.TimeWait),
      server: timeIn(mainServer, TcpState.TimeWait),
    },
  };

  const client = {
    name: 'client',
    address: clientAddress,
    port: scene.client.socket?.localPort ?? 0,
  };
  const server = {
    name: 'server',
    address: serverAddress,
    port: scene.server.socket?.localPort ?? SERVER_PORT,
  };
  const diagram: LadderDiagram = {
    client,
    server,
    start: 0,
    initialStates: { client: TcpState.Closed, server: scene.serverInitial },
    packets,
    stateRows: recorder.rows,
    statesInferred: false,
    absolute,
  };
  const flags: string[] = [`--scenario ${scenario}`];
  if (loss !== 0) flags.push(`--loss ${loss}`);
  if (delayMs !== DEMO_DEFAULTS.delayMs) flags.push(`--delay ${delayMs}`);
  if (rateMbps !== 0) flags.push(`--rate ${rateMbps}`);
  if (options.bytes !== undefined) flags.push(`--bytes ${bytes}`);
  if (ipv6) flags.push('--ipv6');
  flags.push(`--seed ${seed}`);
  return {
    scenario,
    options: { seed, loss, delayMs, rateMbps, bytes, ipv6, absolute },
    caption: scene.caption,
    diagram,
    clientPcap: clientTap.bytes(),
    serverPcap: serverTap.bytes(),
    connections: records,
    summary,
    rerun: `tcpts demo ${flags.join(' ')}`,
    samples: samplesOf(scene.client.socket),
  };
}

function samplesOf(socket: TcpSocket | null): { list: TcpSample[]; dropped: number } | null {
  const recorder = socket === null ? null : socket.conn.recorder;
  return recorder === null ? null : { list: recorder.samples(), dropped: recorder.dropped };
}

// ---------------------------------------------------------------- output

/** Packets a long demo shows at the start and at the end. */
export const DEMO_HEAD = 30;
/** See {@link DEMO_HEAD}. */
export const DEMO_TAIL = 15;

function ms(us: number): string {
  return `${(us / 1000).toFixed(1)} ms`;
}

/** The summary as lines. */
export function summaryLines(result: DemoResult): string[] {
  const s = result.summary;
  const lines: string[] = ['Summary'];
  let data = `client -> server ${s.bytesClientToServer} bytes, server -> client ${s.bytesServerToClient} bytes`;
  if (s.intact === true) data += `; all ${s.bytesIntended} arrived intact, in order`;
  if (s.intact === false) data += `; NOT what was sent (${s.bytesIntended} bytes expected)`;
  if (result.scenario === 'reset') data += ` (of ${s.bytesIntended} the client meant to send)`;
  lines.push(`  data          ${data}`);
  lines.push(
    `  packets       ${s.packets} (client sent ${s.packetsFromClient}, server sent ${s.packetsFromServer}); ` +
      `${s.lost} lost; ${s.retransmissions} retransmitted`,
  );
  lines.push(
    `  time          ${formatDuration(s.lastPacketUs)} of virtual time to the last packet, ` +
      `${formatDuration(s.endUs)} until every connection ended; ${s.realTimeMs.toFixed(0)} ms of real time`,
  );
  const rtt = (r: { srttUs: number; minRttUs: number } | null): string =>
    r === null ? 'no sample' : `smoothed ${ms(r.srttUs)}, min ${ms(r.minRttUs)}`;
  lines.push(`  RTT           client ${rtt(s.rtt.client)}; server ${rtt(s.rtt.server)}`);
  const final = (side: 'client' | 'server'): string => {
    const state = s.finalStates[side];
    const ending = s.endings[side];
    let text = `${side} ${state}`;
    const tw = s.timeWaitUs[side];
    if (tw > 0) text += ` (after ${formatDuration(tw)} in TIME-WAIT)`;
    if (ending !== null && ending !== 'open') text += ` (${ending})`;
    return text;
  };
  lines.push(`  final states  ${final('client')}, ${final('server')}`);
  lines.push(`  repeat        ${result.rerun}`);
  return lines;
}

/** Options of {@link demoLines}. */
export interface DemoTextOptions extends LayoutOptions {
  laneWidth?: number;
}

/** The whole terminal output of a demo: heading, caption, ladder, summary. */
export function demoLines(result: DemoResult, options: DemoTextOptions = {}): string[] {
  const o = result.options;
  const conditions = [
    `one-way delay ${o.delayMs} ms`,
    o.loss > 0 ? `${(o.loss * 100).toFixed(1).replace(/\.0$/, '')}% loss each way` : 'no loss',
    ...(o.rateMbps > 0 ? [`${o.rateMbps} Mbit/s`] : []),
    o.ipv6 ? 'IPv6' : 'IPv4',
    `seed ${o.seed}`,
  ];
  const layout: DemoTextOptions =
    options.head === undefined && options.tail === undefined
      ? { head: DEMO_HEAD, tail: DEMO_TAIL, ...options }
      : options;
  return [
    `tcpts demo: ${result.scenario} (${conditions.join(', ')})`,
    '',
    ...result.caption.map((line) => `  ${line}`),
    '',
    ...renderLadderText(result.diagram, layout),
    '',
    ...summaryLines(result),
  ];
}

/** The JSON `--json` prints: the packets, every transition, the summary. */
export function demoJson(result: DemoResult): unknown {
  return {
    scenario: result.scenario,
    options: result.options,
    caption: result.caption,
    client: result.diagram.client,
    server: result.diagram.server,
    initialStates: result.diagram.initialStates,
    absolute: result.diagram.absolute,
    packets: result.diagram.packets,
    stateRows: result.diagram.stateRows,
    connections: result.connections,
    summary: result.summary,
    rerun: result.rerun,
  };
}

// ---------------------------------------------------------------- the command

/** `tcpts demo --help`. */
export const DEMO_USAGE = `Usage: tcpts demo [options]

Show TCP at work on a simulated network (no root, no kernel): two hosts,
client 10.0.0.1 and server 10.0.0.2, one link, one connection. The ladder
diagram is drawn from the packets captured at both ends of the link: each
arrow leaves one host's line when the packet was sent and reaches the other's
when it arrived, labelled with its flags, sequence and acknowledgment numbers
(relative, like tcpdump), window and options; beside each line, the state the
connection entered, from its own record of transitions. A summary follows.

Scenarios (--scenario):
  handshake           three-way handshake, a small exchange, four-way close
                      ending in TIME-WAIT (the default)
  transfer            the client sends --bytes (default 100000), checked at the
                      server, then both close; try --loss 0.05
  half-close          the server goes on sending after the client's FIN: why
                      closing takes four messages
  old-duplicate-syn   a delayed SYN from an earlier connection arrives and the
                      handshake refuses it: why opening takes three
  simultaneous-open   both hosts connect to each other at once
  simultaneous-close  both hosts close at once
  reset               the server aborts mid-transfer: RST

Options:
  -s, --scenario NAME  one of the scenarios above (default handshake)
      --loss F         lose this fraction of packets each way (0.05 is 5%)
      --delay MS       one-way delay in milliseconds (default 10)
      --rate MBIT      link bandwidth each way in Mbit/s (default: none, so
                       packets sent together arrive together)
      --bytes N        bytes for transfer and reset; k and M suffixes (1000s)
      --seed S         seed for everything random; the same seed repeats a run
                       exactly (default 1)
      --ipv6           use fd00::1 and fd00::2
  -S, --absolute       label absolute sequence numbers
      --pcap FILE      save the capture taken at the client's end of the link
      --svg FILE       write the ladder as an SVG picture
      --plot FILE      write the client's time-sequence graph (sent,
                       retransmitted, SACKed, ACKed, receive window) and its
                       cwnd, ssthresh, pipe and RTT over time as SVG
      --json           print JSON (packets, transitions, summary) instead
      --all            draw every packet (a long run shows the first ${DEMO_HEAD}
                       and the last ${DEMO_TAIL} otherwise)
  -h, --help           show this help

Exit status: 0 on success, 1 when the run did not end as it should (data
damaged, a connection left open) or a file cannot be written, 2 for bad usage.`;

/** Samples kept for `--plot` (TcpConfig.recordSamples of the client). */
const PLOT_SAMPLES = 1 << 18;

/** Where a demo shows its progress bar: process.stderr in the program. */
export interface DemoCommandIo extends CommandIo {
  progress?: ProgressStream;
  clock?: () => number;
}

function parseNumber(text: string): number | null {
  return /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : null;
}

function parseBytes(text: string): number | null {
  const m = /^(\d+)([kKmM]?)$/.exec(text);
  if (m === null) return null;
  const scale = m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1000 : 1_000_000;
  return Number(m[1]) * scale;
}

/** Runs `tcpts demo`; returns the exit status. */
export function runDemoCommand(args: string[], io: DemoCommandIo): number {
  const parsed = parseCommandArgs('demo', args, {
    scenario: { type: 'string', short: 's' },
    loss: { type: 'string' },
    delay: { type: 'string' },
    rate: { type: 'string' },
    bytes: { type: 'string' },
    seed: { type: 'string' },
    ipv6: { type: 'boolean' },
    absolute: { type: 'boolean', short: 'S' },
    pcap: { type: 'string' },
    svg: { type: 'string' },
    plot: { type: 'string' },
    json: { type: 'boolean' },
    all: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const fail = (message: string): number => {
    io.err(`tcpts demo: ${message} (see 'tcpts demo --help')`);
    return 2;
  };
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  const v = parsed.values;
  if (v.help === true) {
    io.out(DEMO_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) return fail(`unexpected argument '${parsed.positionals[0]}'`);
  const options: DemoOptions = {};
  if (typeof v.scenario === 'string') {
    const name = SCENARIOS.find((s) => s === v.scenario);
    if (name === undefined)
      return fail(`unknown scenario '${v.scenario}'; one of ${SCENARIOS.join(', ')}`);
    options.scenario = name;
  }
  if (typeof v.loss === 'string') {
    const loss = parseNumber(v.loss);
    if (loss === null || loss >= 1)
      return fail(`--loss takes a fraction from 0 to below 1 (0.05 is 5%), got '${v.loss}'`);
    options.loss = loss;
  }
  if (typeof v.delay === 'string') {
    const delay = parseNumber(v.delay);
    if (delay === null || delay > 60_000)
      return fail(`--delay takes milliseconds from 0 to 60000, got '${v.delay}'`);
    options.delayMs = delay;
  }
  if (typeof v.rate === 'string') {
    const rate = parseNumber(v.rate);
    if (rate === null || rate <= 0 || rate > 100_000) {
      return fail(`--rate takes Mbit/s, more than 0 and at most 100000, got '${v.rate}'`);
    }
    options.rateMbps = rate;
  }
  if (typeof v.bytes === 'string') {
    const scenario = options.scenario ?? DEMO_DEFAULTS.scenario;
    if (scenario !== 'transfer' && scenario !== 'reset')
      return fail('--bytes is for --scenario transfer or reset');
    const n = parseBytes(v.bytes);
    if (n === null || n < 1 || n > MAX_DEMO_BYTES) {
      return fail(
        `--bytes takes a whole number from 1 to ${MAX_DEMO_BYTES} (k and M suffixes allowed), got '${v.bytes}'`,
      );
    }
    options.bytes = n;
  }
  if (typeof v.seed === 'string') {
    if (!/^\d+$/.test(v.seed) || Number(v.seed) > 0xffffffff)
      return fail(`--seed takes a whole number from 0 to 4294967295, got '${v.seed}'`);
    options.seed = Number(v.seed);
  }
  if (v.ipv6 === true) options.ipv6 = true;
  if (v.absolute === true) options.absolute = true;
  // The recorder is bounded: this holds a --bytes 256M transfer's last stretch in ~10 MB.
  if (typeof v.plot === 'string') options.recordSamples = PLOT_SAMPLES;
  const clock = io.clock ?? (() => performance.now());
  options.clock = clock;
  const scenario = options.scenario ?? DEMO_DEFAULTS.scenario;
  const bar =
    io.progress !== undefined && (scenario === 'transfer' || scenario === 'reset')
      ? progressBarFor(io.progress, {
          unit: 'delivered',
          total:
            options.bytes ??
            (scenario === 'reset' ? DEMO_DEFAULTS.resetBytes : DEMO_DEFAULTS.transferBytes),
          clock,
        })
      : null;
  if (bar !== null)
    options.progress = (done, _total, us) => bar.update(done, `virtual ${(us / 1e6).toFixed(2)} s`);
  const result = runDemo(options);
  bar?.finish();
  const layout: LayoutOptions = v.all === true ? { head: Number.POSITIVE_INFINITY, tail: 0 } : {};
  let status = 0;
  for (const [flag, path, content] of [
    ['pcap', v.pcap, () => result.clientPcap],
    [
      'svg',
      v.svg,
      () =>
        renderLadderSvg(result.diagram, {
          ...(v.all === true ? {} : { head: DEMO_HEAD, tail: DEMO_TAIL }),
          title: `tcpts demo: ${result.scenario}`,
          caption: result.caption,
        }),
    ],
    [
      'plot',
      v.plot,
      () =>
        renderPlotSvg(plotFromSamples(result.samples?.list ?? [], result.samples?.dropped ?? 0), {
          title: `${result.rerun}: the client's connection`,
        }),
    ],
  ] as const) {
    if (typeof path !== 'string') continue;
    try {
      writeFileSync(path, content());
    } catch (error) {
      io.err(`tcpts demo: cannot write --${flag} ${path}: ${describeFsError(error)}`);
      status = 1;
    }
  }
  if (v.json === true) io.out(JSON.stringify(demoJson(result), null, 2));
  else io.out(demoLines(result, layout).join('\n'));
  const s = result.summary;
  if (s.intact === false) status = 1;
  if (s.endings.client === 'open' || s.endings.server === 'open') status = 1;
  return status;
}
