/**
 * The wire fuzzer: two hosts on one Ethernet link, two established
 * connections (IPv4 and IPv6) carrying checked streams both ways, and a
 * stream of mutated frames of every protocol injected into one host (the
 * target) in virtual time. Invariants, each a `check` name of a failure:
 *
 * - [exception] nothing the frames do makes the stack (or the simulation) throw;
 * - [drop-counted] every frame the fuzzer knows to be invalid (judge.ts,
 *   mustDrop) moves one of the target's drop counters, and every counter it
 *   has is a named reason (StackDropReason or WireDropReason);
 * - [stream] every byte of the four streams arrives once, in order and
 *   unchanged (checked per byte, and a hash of what was written against a
 *   hash of what was read), and the connections then close cleanly;
 * - [bounded] while the frames come, the target's connections, partial
 *   datagrams and neighbour entries stay under fixed bounds, and once the
 *   network falls quiet none of the fuzz's connections or fragments remain.
 *
 * Sans-IO like the rest of sim/: everything follows from the seed, so a
 * failure names the seed and the frame's number, which repeat it.
 */
import {
  NEVER,
  SeededRng,
  chance,
  later,
  randomInt,
  type Duration,
  type Instant,
} from '../../base/index.js';
import {
  impair,
  memoryPair,
  type LinkEndpoint,
  type LinkKind,
  type LinkStats,
} from '../../link/index.js';
import {
  DATAGRAM_OVERHEAD,
  FRAGMENT_OVERHEAD,
  StackDropReason,
  type StackEvent,
  type TcpListener,
  type TcpSocket,
  type UdpSocket,
} from '../../stack/index.js';
import { TcpState } from '../../tcp/index.js';
import { WireDropReason } from '../../wire/index.js';
import { Network, type SimHost } from '../network.js';
import { fillStream } from '../scenario/streams.js';
import { buildFrames, type FuzzAddresses } from './build.js';
import { dissect } from './dissect.js';
import { forgery, knownIssueOf, mustDrop } from './judge.js';
import { mutate } from './mutate.js';

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Frames to inject. */
  frames: number;
  /** Seed of every choice. */
  seed: number;
  /** Frames injected per millisecond of virtual time; default 10. */
  framesPerTick?: number;
  /** Called every `progressEvery` frames with the frames done and the failures found so far. */
  onProgress?: ((framesDone: number, failures: number) => void) | null;
  progressEvery?: number;
  /** Count frames that run into a {@link KNOWN_FUZZ_ISSUES} entry as failures too. Default false. */
  strict?: boolean;
}

/** One broken invariant. */
export interface FuzzFailure {
  check: 'exception' | 'drop-counted' | 'stream' | 'bounded';
  message: string;
}

/** What a fuzz run did and found. */
export interface FuzzResult {
  ok: boolean;
  seed: number;
  failures: FuzzFailure[];
  /** Frames handed to the target. */
  injected: number;
  /** Frames held back as forgeries of the live connections (judge.ts). */
  heldBack: number;
  /** Injected frames the fuzzer knew to be invalid, each checked against the drop counters. */
  knownInvalid: number;
  /** Frames that ran into a known issue (KNOWN_FUZZ_ISSUES), by issue: how many, and the first. */
  known: Record<string, { frames: number; first: string }>;
  /** The target's drop counters at the end, by reason. */
  drops: Record<string, number>;
  /** Bytes carried by the checked streams, all four together. */
  streamBytes: number;
  /** The most the target held at once while the frames came. */
  peak: { tcpConnections: number; pendingFragments: number; neighbors: number };
  virtualTime: Instant;
}

const TARGET_MAC = '02:00:00:00:02:01';
const PEER_MAC = '02:00:00:00:01:01';
const LISTEN_PORT = 80;
const UDP_PORT = 53;
const MAX_SYN_BACKLOG = 64;
const LISTEN_BACKLOG = 16;
/** The live connections' sockets on both hosts and the listener's accept queue and SYN queue. */
const MAX_CONNECTIONS = 4 + LISTEN_BACKLOG + MAX_SYN_BACKLOG;
/**
 * The stack charges every partial datagram at least one fragment's and one
 * datagram's overhead against its 4 MB of reassembly memory (stack.ts,
 * reassembly.ts): no more can be pending at once.
 */
const MAX_PENDING_FRAGMENTS = Math.floor((4 << 20) / (FRAGMENT_OVERHEAD + DATAGRAM_OVERHEAD));
/** The stack's neighbour cache holds at most 4096 entries (stack.ts builds it so). */
const MAX_NEIGHBORS = 4096;
/** Bytes each stream may write per tick: keeps the link (10 Mbit/s) busy but not the CPU. */
const STREAM_BYTES_PER_TICK = 150;
const TICK = 1000 as Duration;
const MAX_FAILURES = 20;
const KNOWN_REASONS = new Set<string>([
  ...Object.values(StackDropReason),
  ...Object.values(WireDropReason),
]);

function macBytes(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

function hex(frame: Uint8Array, max = 96): string {
  let s = '';
  for (let i = 0; i < Math.min(frame.length, max); i++)
    s += frame[i]!.toString(16).padStart(2, '0');
  return frame.length > max ? `${s}... (${frame.length} bytes)` : `${s} (${frame.length} bytes)`;
}

/** FNV-1a over a stream's bytes, as written or as read. */
function fnv(hash: number, bytes: Uint8Array, n: number): number {
  let h = hash;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}

/** Keeps a copy of some frames the live peer sends: replays, quotes for ICMP errors, splices. */
class Recorder implements LinkEndpoint {
  readonly kind: LinkKind;
  readonly inner: LinkEndpoint;
  readonly recent: Uint8Array[] = [];
  private count = 0;

  constructor(inner: LinkEndpoint) {
    this.kind = inner.kind;
    this.inner = inner;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  send(now: Instant, frame: Uint8Array): boolean {
    if (this.count++ % 7 === 0) {
      if (this.recent.length >= 64) this.recent[this.count % 64] = frame.slice();
      else this.recent.push(frame.slice()); // slice: a copy, the frame goes on to the link
    }
    return this.inner.send(now, frame);
  }

  receive(now: Instant): Uint8Array | null {
    return this.inner.receive(now);
  }

  pollTimeout(): Instant {
    return this.inner.pollTimeout();
  }

  stats(): LinkStats {
    return this.inner.stats();
  }
}

/** One end of a checked stream pair: writes its stream, reads and checks its partner's. */
class StreamEnd {
  readonly label: string;
  readonly socket: TcpSocket;
  readonly sendKey: number;
  readonly recvKey: number;
  written = 0;
  read = 0;
  writtenHash = 0x811c9dc5;
  readHash = 0x811c9dc5;
  allowance = 0;
  finishing = false;
  shutDown = false;
  closed = false;
  error: string | null = null;
  mismatch = false;
  private readonly scratch = new Uint8Array(16_384);
  private readonly expected = new Uint8Array(16_384);
  private readonly fail: (f: FuzzFailure) => void;

  constructor(
    label: string,
    socket: TcpSocket,
    keys: { send: number; recv: number },
    fail: (f: FuzzFailure) => void,
  ) {
    this.label = label;
    this.socket = socket;
    this.sendKey = keys.send;
    this.recvKey = keys.recv;
    this.fail = fail;
  }

  pump(now: Instant): void {
    for (;;) {
      const n = this.socket.read(this.scratch);
      if (n <= 0) break;
      if (!this.mismatch) {
        fillStream(this.recvKey, this.read, this.expected, n);
        for (let i = 0; i < n; i++) {
          if (this.scratch[i] !== this.expected[i]) {
            this.mismatch = true;
            this.fail({
              check: 'stream',
              message: `${this.label}: byte ${this.read + i} of the stream it reads is ${this.scratch[i]}, expected ${this.expected[i]}`,
            });
            break;
          }
        }
      }
      this.readHash = fnv(this.readHash, this.scratch, n);
      this.read += n;
    }
    const state = this.socket.state;
    if (state === TcpState.Established || state === TcpState.CloseWait) {
      while (this.written < this.allowance) {
        const n = Math.min(
          this.allowance - this.written,
          this.socket.writableBytes,
          this.scratch.length,
        );
        if (n <= 0) break;
        fillStream(this.sendKey, this.written, this.scratch, n);
        const taken = this.socket.write(this.scratch.subarray(0, n));
        this.writtenHash = fnv(this.writtenHash, this.scratch, taken);
        this.written += taken;
        if (taken < n) break;
      }
      if (this.finishing && !this.shutDown && this.written >= this.allowance) {
        this.shutDown = true;
        this.socket.shutdown(now);
      }
    }
  }
}

/** Runs the fuzzer; never throws (an exception is itself a failure). */
export function runFuzz(options: FuzzOptions): FuzzResult {
  const failures: FuzzFailure[] = [];
  const fail = (f: FuzzFailure): void => {
    if (failures.length < MAX_FAILURES) failures.push(f);
  };
  const result: FuzzResult = {
    ok: false,
    seed: options.seed,
    failures,
    injected: 0,
    heldBack: 0,
    knownInvalid: 0,
    known: {},
    drops: {},
    streamBytes: 0,
    peak: { tcpConnections: 0, pendingFragments: 0, neighbors: 0 },
    virtualTime: 0 as Instant,
  };
  let net: Network | null = null;
  try {
    net = new Network({ seed: options.seed });
    fuzzOn(net, options, result, fail);
  } catch (e) {
    const message =
      e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 8).join('\n') : String(e);
    fail({ check: 'exception', message });
  }
  result.virtualTime = net?.now ?? (0 as Instant);
  result.ok = failures.length === 0;
  return result;
}

function fuzzOn(
  net: Network,
  options: FuzzOptions,
  result: FuzzResult,
  fail: (f: FuzzFailure) => void,
): void {
  const rng = new SeededRng((options.seed ^ 0x2545f491) >>> 0);
  const peer = net.addHost('a', { maxSynBacklog: MAX_SYN_BACKLOG });
  const target = net.addHost('b', { maxSynBacklog: MAX_SYN_BACKLOG });
  const [left, right] = memoryPair({ kind: 'ethernet', mtu: 1500 });
  const conditions = { delay: 1000 as Duration, rate: 10_000_000 };
  const recorder = new Recorder(impair(left, { rng: net.rng(), outgoing: conditions }));
  net.attach(peer, recorder, {
    name: 'a-eth0',
    mac: PEER_MAC,
    addresses: ['10.0.1.1/24', 'fd00:0:0:1::1/64'],
  });
  const targetIf = net.attach(target, impair(right, { rng: net.rng(), outgoing: conditions }), {
    name: 'b-eth0',
    mac: TARGET_MAC,
    addresses: ['10.0.1.2/24', 'fd00:0:0:1::2/64'],
  });
  const addr: FuzzAddresses = {
    peerMac: macBytes(PEER_MAC),
    targetMac: macBytes(TARGET_MAC),
    peer4: Uint8Array.of(10, 0, 1, 1),
    target4: Uint8Array.of(10, 0, 1, 2),
    peer6: Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1),
    target6: Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2),
    tcpPort: LISTEN_PORT,
    udpPort: UDP_PORT,
  };

  // The applications: the streams' ends, a listener that takes the live
  // connections and aborts any other (a fuzz handshake that completed), a
  // UDP socket that reads and discards.
  const ends = new Map<TcpSocket, StreamEnd>();
  const strangers = new Set<TcpSocket>();
  let listener: TcpListener | null = target.stack.listen({
    port: LISTEN_PORT,
    backlog: LISTEN_BACKLOG,
  });
  let udp: UdpSocket | null = target.stack.bindUdp({ port: UDP_PORT });
  const keyRng = new SeededRng((options.seed ^ 0x68e31da4) >>> 0);
  const clients: StreamEnd[] = [];
  const servers: StreamEnd[] = [];
  for (const [family, host] of [
    [4, '10.0.1.2'],
    [6, 'fd00:0:0:1::2'],
  ] as const) {
    const keys = { send: keyRng.nextU32(), recv: keyRng.nextU32() };
    const socket = peer.stack.connect(net.now, { host, port: LISTEN_PORT });
    const end = new StreamEnd(`v${family} client`, socket, keys, fail);
    ends.set(socket, end);
    clients.push(end);
  }
  const onEvent =
    (host: SimHost) =>
    (e: StackEvent, now: Instant): void => {
      switch (e.type) {
        case 'accept': {
          for (let s = listener?.accept() ?? null; s !== null; s = listener?.accept() ?? null) {
            const client = clients.find(
              (c) =>
                c.socket.localPort === s!.remotePort &&
                c.socket.localAddress.text === s!.remoteAddress.text,
            );
            if (client === undefined || servers.some((x) => x.recvKey === client.sendKey)) {
              strangers.add(s);
              s.abort(now);
              continue;
            }
            const end = new StreamEnd(
              `v${s.remoteAddress.family} server`,
              s,
              { send: client.recvKey, recv: client.sendKey },
              fail,
            );
            ends.set(s, end);
            servers.push(end);
            end.pump(now);
          }
          return;
        }
        case 'tcp': {
          const end = ends.get(e.socket);
          if (end === undefined) return; // a stranger's connection: nobody listens
          if (e.event.type === 'closed') {
            end.closed = true;
            end.error = e.event.error;
          }
          end.pump(now);
          return;
        }
        case 'udp':
          if (udp !== null) while (udp.receive() !== null);
          return;
        case 'icmp-error':
        case 'echo-reply':
          return;
      }
      void host;
    };
  peer.onEvent = onEvent(peer);
  target.onEvent = onEvent(target);

  const connected = net.runUntil(
    () => servers.length === 2 && clients.every((c) => c.socket.state === TcpState.Established),
    later(net.now, 30_000_000 as Duration),
  );
  if (!connected) {
    fail({ check: 'stream', message: 'the live connections did not connect before the fuzzing' });
    return;
  }
  const all = [...clients, ...servers];

  // The frames, a few per millisecond of virtual time.
  const perTick = options.framesPerTick ?? 10;
  const progressEvery = options.progressEvery ?? 100_000;
  const built: Uint8Array[] = [];
  const pending: Uint8Array[] = [];
  let index = 0;
  const nextFrame = (): { frame: Uint8Array; origin: Uint8Array | null } => {
    if (pending.length > 0) {
      const f = pending.shift()!;
      return { frame: chance(rng, 0.25) ? mutate(rng, f, built) : f, origin: null };
    }
    const live = recorder.recent;
    if (live.length > 0 && chance(rng, 0.25)) {
      const origin = live[randomInt(rng, live.length)]!;
      return { frame: chance(rng, 0.8) ? mutate(rng, origin, built) : origin.slice(), origin };
    }
    const set = buildFrames(rng, addr, live);
    for (const f of set) {
      if (built.length >= 64) built[randomInt(rng, 64)] = f;
      else built.push(f);
    }
    const first = set[0]!;
    pending.push(...set.slice(1));
    return { frame: chance(rng, 0.75) ? mutate(rng, first, built) : first, origin: null };
  };
  const dropTotal = (): number => {
    let n = 0;
    for (const v of Object.values(target.stack.stats().drops)) n += v;
    return n;
  };
  const sample = (): void => {
    const s = target.stack.stats();
    const p = result.peak;
    p.tcpConnections = Math.max(p.tcpConnections, s.tcpConnections);
    p.pendingFragments = Math.max(p.pendingFragments, s.pendingFragments);
    p.neighbors = Math.max(p.neighbors, s.neighbors);
  };
  const tick = (now: Instant): void => {
    for (let i = 0; i < perTick && index < options.frames; i++, index++) {
      const { frame, origin } = nextFrame();
      const d = dissect(frame);
      const held = forgery(frame, d, origin);
      if (held !== null) {
        result.heldBack++;
        continue;
      }
      const invalid = mustDrop(frame, d, addr);
      const before = invalid !== null ? dropTotal() : 0;
      try {
        target.stack.receiveFrame(now, targetIf, frame);
      } catch (e) {
        const message =
          e instanceof Error
            ? (e.stack ?? e.message).split('\n').slice(0, 6).join('\n')
            : String(e);
        fail({
          check: 'exception',
          message: `frame ${index} (seed ${options.seed}): ${message}\n  frame ${hex(frame)}`,
        });
      }
      result.injected++;
      if (invalid !== null) {
        result.knownInvalid++;
        const issue = dropTotal() === before ? knownIssueOf(frame, d) : null;
        if (issue !== null && options.strict !== true) {
          const k = (result.known[issue] ??= {
            frames: 0,
            first: `frame ${index} (seed ${options.seed}): ${hex(frame)}`,
          });
          k.frames++;
        } else if (dropTotal() === before)
          fail({
            check: 'drop-counted',
            message: `frame ${index} (seed ${options.seed}), ${invalid}: no drop counter moved\n  frame ${hex(frame)}`,
          });
      }
      if ((index + 1) % 1000 === 0) sample();
      if (options.onProgress && (index + 1) % progressEvery === 0)
        options.onProgress(index + 1, result.failures.length);
    }
    for (const end of all) {
      end.allowance += STREAM_BYTES_PER_TICK;
      end.pump(now);
    }
    if (index < options.frames) net.schedule(later(now, TICK), tick);
  };
  net.schedule(later(net.now, TICK), tick);
  net.runUntil(() => index >= options.frames, NEVER);
  sample();

  // The streams end: each side writes what it was allowed, shuts down, reads to the end.
  for (const end of all) {
    end.finishing = true;
    end.pump(net.now);
  }
  const closed = net.runUntil(
    () => all.every((e) => e.closed),
    later(net.now, 3_600_000_000 as Duration),
  );
  for (const c of clients) {
    const s = servers.find((x) => x.recvKey === c.sendKey)!;
    for (const [from, to] of [
      [c, s],
      [s, c],
    ] as const) {
      result.streamBytes += to.read;
      if (to.read !== from.written || to.readHash !== from.writtenHash)
        fail({
          check: 'stream',
          message:
            `${from.label} -> ${to.label}: wrote ${from.written} bytes (hash ${from.writtenHash.toString(16)}), ` +
            `${to.read} arrived (hash ${to.readHash.toString(16)})`,
        });
    }
  }
  if (!closed) {
    fail({
      check: 'stream',
      message: `the live connections did not close: ${all.map((e) => `${e.label} ${e.socket.state}`).join(', ')}`,
    });
  }
  for (const end of all)
    if (end.closed && end.error !== null)
      fail({ check: 'stream', message: `${end.label} closed with '${end.error}'` });

  // The network falls quiet: nothing the fuzz made may remain but stale neighbour entries.
  listener?.close();
  listener = null;
  udp?.close();
  udp = null;
  net.runUntil(() => false, later(net.now, 7_200_000_000 as Duration));
  const s = target.stack.stats();
  const p = result.peak;
  if (p.tcpConnections > MAX_CONNECTIONS)
    fail({
      check: 'bounded',
      message: `the target held ${p.tcpConnections} TCP connections at once (bound ${MAX_CONNECTIONS})`,
    });
  if (p.pendingFragments > MAX_PENDING_FRAGMENTS)
    fail({
      check: 'bounded',
      message: `the target held ${p.pendingFragments} partial datagrams at once (bound ${MAX_PENDING_FRAGMENTS})`,
    });
  if (p.neighbors > MAX_NEIGHBORS)
    fail({
      check: 'bounded',
      message: `the target held ${p.neighbors} neighbour entries (bound ${MAX_NEIGHBORS})`,
    });
  if (s.tcpConnections > 0 || s.pendingFragments > 0 || s.tcpListeners > 0 || s.udpSockets > 0)
    fail({
      check: 'bounded',
      message:
        `left once quiet: ${s.tcpConnections} TCP connections, ${s.pendingFragments} partial datagrams, ` +
        `${s.tcpListeners} listeners, ${s.udpSockets} UDP sockets`,
    });
  for (const stats of [s.drops, ...s.interfaces.map((i) => i.drops)])
    for (const reason of Object.keys(stats))
      if (!KNOWN_REASONS.has(reason))
        fail({
          check: 'drop-counted',
          message: `a drop counted under an unnamed reason '${reason}'`,
        });
  result.drops = s.drops;
  void strangers;
}
