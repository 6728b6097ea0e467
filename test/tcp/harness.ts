/**
 * Test fixtures for the TCP core (docs/architecture.md convention 8): a scripted peer
 * for segment-by-segment tests, and a pair of connections joined by a seeded,
 * impaired channel in virtual time.
 */
import assert from 'node:assert/strict';
import {
  NEVER,
  SeededRng,
  chance,
  instant,
  millis,
  randomFloat,
  seq,
  seqAdd,
  type Instant,
  type SeqNum,
} from '../../src/base/index.js';
import { TcpFlags, noTcpOptions, type TcpOptions, type TcpRepr } from '../../src/wire/index.js';
import {
  Connection,
  TcpState,
  tcpConfig,
  type TcpConfig,
  type TcpEvent,
} from '../../src/tcp/index.js';

export const CLIENT_PORT = 40000;
export const SERVER_PORT = 80;

/** An instant `ms` milliseconds after zero. */
export function at(ms: number): Instant {
  return instant(Math.round(ms * 1000));
}

/** Fields of a segment to build; the rest default to a bare ACK from the peer. */
export interface SegmentSpec {
  seq: number;
  ack?: number;
  flags?: number;
  window?: number;
  payload?: Uint8Array | number;
  options?: Partial<TcpOptions>;
  /** The urgent pointer field (meaningful with the URG flag). */
  urgent?: number;
}

/** A segment from the scripted peer (ports from server to client). */
export function segment(spec: SegmentSpec): TcpRepr {
  const payload =
    typeof spec.payload === 'number' ? pattern(spec.payload) : (spec.payload ?? new Uint8Array(0));
  return {
    srcPort: SERVER_PORT,
    dstPort: CLIENT_PORT,
    seq: seq(spec.seq),
    ack: seq(spec.ack ?? 0),
    flags: spec.flags ?? (spec.ack === undefined ? 0 : TcpFlags.ACK),
    window: spec.window ?? 65535,
    urgent: spec.urgent ?? 0,
    options: { ...noTcpOptions(), ...spec.options },
    payload,
  };
}

/** Deterministic bytes (i & 0xff), so that order errors show. */
export function pattern(length: number, start = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (start + i) & 0xff;
  return out;
}

/** Delivers a segment at time `t` and returns what the connection sends in response. */
export function deliver(conn: Connection, t: Instant, seg: TcpRepr): TcpRepr[] {
  conn.handleSegment(t, seg);
  return drain(conn, t);
}

/** Everything the connection wants to send at `t`. */
export function drain(conn: Connection, t: Instant): TcpRepr[] {
  const out: TcpRepr[] = [];
  for (let s = conn.pollTransmit(t); s !== null; s = conn.pollTransmit(t)) out.push(s);
  return out;
}

/** Runs timers at the connection's deadline and returns what it sends. */
export function fireTimer(conn: Connection): { at: Instant; sent: TcpRepr[] } {
  const t = conn.pollTimeout();
  assert.notEqual(t, NEVER, 'a timer should be armed');
  conn.handleTimeout(t);
  return { at: t, sent: drain(conn, t) };
}

/** All pending events. */
export function events(conn: Connection): TcpEvent[] {
  const out: TcpEvent[] = [];
  for (let e = conn.pollEvent(); e !== null; e = conn.pollEvent()) out.push(e);
  return out;
}

/** Event types, ignoring state changes. */
export function eventTypes(conn: Connection): string[] {
  return events(conn)
    .filter((e) => e.type !== 'state')
    .map((e) => (e.type === 'closed' ? `closed:${e.error ?? 'ok'}` : e.type));
}

/** Human-readable flags as tcpdump writes them, for assertion messages. */
export function flagsOf(seg: TcpRepr): string {
  const f = seg.flags;
  let s = '';
  if (f & TcpFlags.FIN) s += 'F';
  if (f & TcpFlags.SYN) s += 'S';
  if (f & TcpFlags.RST) s += 'R';
  if (f & TcpFlags.PSH) s += 'P';
  if (f & TcpFlags.ACK) s += '.';
  return s;
}

/** Asserts exactly one segment was sent and returns it, checking the given fields. */
export function expectSent(
  sent: TcpRepr[],
  expected: { flags?: string; seq?: number; ack?: number; len?: number; window?: number },
): TcpRepr {
  assert.equal(
    sent.length,
    1,
    `expected one segment, got ${sent.length}: ${sent.map(describe).join(' | ')}`,
  );
  const seg = sent[0]!;
  if (expected.flags !== undefined) assert.equal(flagsOf(seg), expected.flags, describe(seg));
  if (expected.seq !== undefined)
    assert.equal(seg.seq, seq(expected.seq), `seq of ${describe(seg)}`);
  if (expected.ack !== undefined)
    assert.equal(seg.ack, seq(expected.ack), `ack of ${describe(seg)}`);
  if (expected.len !== undefined)
    assert.equal(seg.payload.length, expected.len, `length of ${describe(seg)}`);
  if (expected.window !== undefined)
    assert.equal(seg.window, expected.window, `window of ${describe(seg)}`);
  return seg;
}

export function expectNothing(sent: TcpRepr[]): void {
  assert.equal(sent.length, 0, `expected nothing, got ${sent.map(describe).join(' | ')}`);
}

export function describe(seg: TcpRepr): string {
  return `[${flagsOf(seg)}] seq ${seg.seq} ack ${seg.ack} win ${seg.window} len ${seg.payload.length}`;
}

/** Configuration for scripted tests: no timestamps/SACK/window scaling unless asked, no quick ACKs. */
export function plainConfig(overrides: Partial<TcpConfig> = {}): TcpConfig {
  return tcpConfig({
    timestamps: false,
    sack: false,
    windowScaling: false,
    initialQuickAcks: 0,
    // RFC 6298 (2.4)'s floor on the whole RTO: the timings these tests
    // script assume a 200 ms RTO on their short paths.
    minRtoOnVariance: false,
    ...overrides,
  });
}

export const CLIENT_ISS = 1000;
export const SERVER_ISS = 5000;

/**
 * A client connection taken through the handshake with a scripted server:
 * client ISS 1000, server ISS 5000, MSS 1460 both ways. Returns it in
 * ESTABLISHED at time 10 ms with all events drained.
 */
export function established(overrides: Partial<TcpConfig> = {}, peerWindow = 65535): Connection {
  const conn = Connection.connect(at(0), { iss: seq(CLIENT_ISS), config: plainConfig(overrides) });
  const syn = drain(conn, at(0));
  expectSent(syn, { flags: 'S', seq: CLIENT_ISS });
  const synAck = segment({
    seq: SERVER_ISS,
    ack: CLIENT_ISS + 1,
    flags: TcpFlags.SYN | TcpFlags.ACK,
    window: peerWindow,
    options: { mss: 1460 },
  });
  expectSent(deliver(conn, at(10), synAck), {
    flags: '.',
    seq: CLIENT_ISS + 1,
    ack: SERVER_ISS + 1,
  });
  assert.equal(conn.state, TcpState.Established);
  events(conn);
  return conn;
}

/** How `establishedWith` and `accepted` run the handshake. */
export interface HandshakeSpec {
  /** Overrides on top of `plainConfig()`. */
  config?: Partial<TcpConfig>;
  /** Our ISS; default CLIENT_ISS. */
  iss?: number;
  /** The scripted peer's ISS; default SERVER_ISS. */
  peerIss?: number;
  /** The window field of the peer's SYN or SYN,ACK (never scaled). */
  peerWindow?: number;
  /** Options on the peer's SYN or SYN,ACK; default MSS 1460 only. */
  peerOptions?: Partial<TcpOptions>;
}

/**
 * An active open taken to ESTABLISHED at 10 ms, like `established()` but with
 * the ISSs and the peer's SYN,ACK options chosen. When the peer offers
 * timestamps its TSecr echoes our SYN's TSval (0 at time 0), its TSval is the
 * one given. Events drained.
 */
export function establishedWith(spec: HandshakeSpec = {}): Connection {
  const iss = spec.iss ?? CLIENT_ISS;
  const peerIss = spec.peerIss ?? SERVER_ISS;
  const conn = Connection.connect(at(0), { iss: seq(iss), config: plainConfig(spec.config) });
  expectSent(drain(conn, at(0)), { flags: 'S', seq: iss });
  const synAck = segment({
    seq: peerIss,
    ack: iss + 1,
    flags: TcpFlags.SYN | TcpFlags.ACK,
    window: spec.peerWindow ?? 65535,
    options: spec.peerOptions ?? { mss: 1460 },
  });
  expectSent(deliver(conn, at(10), synAck), { flags: '.', seq: iss + 1, ack: peerIss + 1 });
  assert.equal(conn.state, TcpState.Established);
  events(conn);
  return conn;
}

/**
 * A passive open taken to ESTABLISHED: LISTEN with our ISS, the peer's SYN at
 * 0 ms, our SYN,ACK, the peer's ACK at 10 ms. Events drained. Returns the
 * connection and the SYN,ACK it sent.
 */
export function accepted(spec: HandshakeSpec = {}): { conn: Connection; synAck: TcpRepr } {
  const iss = spec.iss ?? CLIENT_ISS;
  const peerIss = spec.peerIss ?? SERVER_ISS;
  const conn = Connection.listen({ iss: seq(iss), config: plainConfig(spec.config) });
  const syn = segment({
    seq: peerIss,
    flags: TcpFlags.SYN,
    window: spec.peerWindow ?? 65535,
    options: spec.peerOptions ?? { mss: 1460 },
  });
  const synAck = expectSent(deliver(conn, at(0), syn), {
    flags: 'S.',
    seq: iss,
    ack: peerIss + 1,
  });
  const ts = spec.peerOptions?.timestamp;
  const ack = segment({
    seq: peerIss + 1,
    ack: iss + 1,
    window: spec.peerWindow ?? 65535,
    options:
      ts === undefined || ts === null
        ? {}
        : { timestamp: { value: ts.value + 10, echo: synAck.options.timestamp?.value ?? 0 } },
  });
  expectNothing(deliver(conn, at(10), ack));
  assert.equal(conn.state, TcpState.Established);
  events(conn);
  return { conn, synAck };
}

/** A connection in a given state with the numbers a script needs to talk to it. */
export interface StateFixture {
  conn: Connection;
  /** The time of the last step; scripts continue from here. */
  now: number;
  /** Our SND.NXT: the sequence number our next segment (or RST) carries. */
  sndNxt: number;
  /** Our RCV.NXT: the sequence number we expect from the peer next. */
  rcvNxt: number;
}

/**
 * A connection driven into `state` by a scripted peer (our ISS 1000, the
 * peer's 5000, no options but MSS), events drained:
 * SYN-RECEIVED is a passive open that has sent its SYN,ACK (or, with
 * `active`, a simultaneous open); the closing states come from
 * `shutdown()` and the peer's FIN in the usual orders.
 */
export function inState(
  state: TcpState,
  config: Partial<TcpConfig> = {},
  active = false,
): StateFixture {
  const fin = TcpFlags.FIN | TcpFlags.ACK;
  const fixture = (conn: Connection, now: number, sndNxt: number, rcvNxt: number) => {
    assert.equal(conn.state, state, 'fixture reached the state');
    events(conn);
    return { conn, now, sndNxt, rcvNxt };
  };
  switch (state) {
    case TcpState.SynReceived: {
      if (active) {
        const conn = Connection.connect(at(0), {
          iss: seq(CLIENT_ISS),
          config: plainConfig(config),
        });
        expectSent(drain(conn, at(0)), { flags: 'S', seq: CLIENT_ISS });
        const syn = segment({ seq: SERVER_ISS, flags: TcpFlags.SYN, options: { mss: 1460 } });
        expectSent(deliver(conn, at(5), syn), {
          flags: 'S.',
          seq: CLIENT_ISS,
          ack: SERVER_ISS + 1,
        });
        return fixture(conn, 5, CLIENT_ISS + 1, SERVER_ISS + 1);
      }
      const conn = Connection.listen({ iss: seq(CLIENT_ISS), config: plainConfig(config) });
      const syn = segment({ seq: SERVER_ISS, flags: TcpFlags.SYN, options: { mss: 1460 } });
      expectSent(deliver(conn, at(0), syn), { flags: 'S.', seq: CLIENT_ISS, ack: SERVER_ISS + 1 });
      return fixture(conn, 0, CLIENT_ISS + 1, SERVER_ISS + 1);
    }
    case TcpState.Established:
      return fixture(established(config), 10, CLIENT_ISS + 1, SERVER_ISS + 1);
    case TcpState.FinWait1:
    case TcpState.FinWait2:
    case TcpState.Closing:
    case TcpState.TimeWait: {
      const conn = established(config);
      conn.shutdown(at(20));
      expectSent(drain(conn, at(20)), { flags: 'F.', seq: CLIENT_ISS + 1, ack: SERVER_ISS + 1 });
      if (state === TcpState.FinWait1) return fixture(conn, 20, CLIENT_ISS + 2, SERVER_ISS + 1);
      if (state === TcpState.Closing) {
        const peerFin = segment({ seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1, flags: fin });
        expectSent(deliver(conn, at(30), peerFin), { flags: '.', ack: SERVER_ISS + 2 });
        return fixture(conn, 30, CLIENT_ISS + 2, SERVER_ISS + 2);
      }
      expectNothing(deliver(conn, at(30), segment({ seq: SERVER_ISS + 1, ack: CLIENT_ISS + 2 })));
      if (state === TcpState.FinWait2) return fixture(conn, 30, CLIENT_ISS + 2, SERVER_ISS + 1);
      const peerFin = segment({ seq: SERVER_ISS + 1, ack: CLIENT_ISS + 2, flags: fin });
      expectSent(deliver(conn, at(40), peerFin), { flags: '.', ack: SERVER_ISS + 2 });
      return fixture(conn, 40, CLIENT_ISS + 2, SERVER_ISS + 2);
    }
    case TcpState.CloseWait:
    case TcpState.LastAck: {
      const conn = established(config);
      const peerFin = segment({ seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1, flags: fin });
      expectSent(deliver(conn, at(20), peerFin), { flags: '.', ack: SERVER_ISS + 2 });
      if (state === TcpState.CloseWait) return fixture(conn, 20, CLIENT_ISS + 1, SERVER_ISS + 2);
      conn.shutdown(at(30));
      expectSent(drain(conn, at(30)), { flags: 'F.', seq: CLIENT_ISS + 1, ack: SERVER_ISS + 2 });
      return fixture(conn, 30, CLIENT_ISS + 2, SERVER_ISS + 2);
    }
    default:
      throw new Error(`inState: no fixture for ${state}`);
  }
}

// ---------------------------------------------------------------------------
// A pair of connections over a seeded, impaired channel in virtual time.
// ---------------------------------------------------------------------------

export interface Impairment {
  loss: number;
  duplicate: number;
  /** Probability that a segment is held back by an extra delay (reordering). */
  reorder: number;
  /** One-way delay. */
  delayMs: number;
  /** Extra random delay up to this many ms for reordered segments. */
  reorderMs: number;
}

export const NO_IMPAIRMENT: Impairment = {
  loss: 0,
  duplicate: 0,
  reorder: 0,
  delayMs: 5,
  reorderMs: 0,
};

interface InFlight {
  at: Instant;
  order: number;
  toServer: boolean;
  seg: TcpRepr;
  /** The IP ECN codepoint it travels with (RFC 3168 §5). */
  ecn: number;
}

/** A segment leaving one side of a Pair, for the test's hooks. */
export interface Departure {
  seg: TcpRepr;
  toServer: boolean;
  now: Instant;
  /** Segments sent so far in this direction, this one excluded. */
  index: number;
}

/** One side of a pair: the connection plus what its application does. */
export class Side {
  readonly received: Uint8Array[] = [];
  receivedBytes = 0;
  toSend: Uint8Array;
  sentOffset = 0;
  sawPeerClosed = false;
  closedWith: string | null = null;
  /** Shut down the sending side once everything is written. */
  shutdownWhenDone = true;
  /** Stop reading (to test flow control) until this is cleared. */
  paused = false;
  readonly conn: Connection;
  constructor(conn: Connection, data: Uint8Array) {
    this.conn = conn;
    this.toSend = data;
  }
  receivedData(): Uint8Array {
    const out = new Uint8Array(this.receivedBytes);
    let o = 0;
    for (const chunk of this.received) {
      out.set(chunk, o);
      o += chunk.length;
    }
    return out;
  }
}

export class Pair {
  now: Instant = at(0);
  readonly client: Side;
  server: Side;
  private readonly flying: InFlight[] = [];
  private order = 0;
  private readonly rng: SeededRng;
  segmentsSent = 0;
  segmentsLost = 0;

  constructor(options: {
    seed: number;
    clientData: Uint8Array;
    serverData: Uint8Array;
    clientConfig?: Partial<TcpConfig>;
    serverConfig?: Partial<TcpConfig>;
    impairment?: Impairment;
    serverImpairment?: Impairment;
    /** Force the client's ISS (e.g. just below 2^32 to cross the wrap); random from the seed otherwise. */
    clientIss?: number;
    /** Force the server's ISS. */
    serverIss?: number;
    /** Drop this segment (besides random loss): to lose exactly the segments a test wants. */
    drop?: (d: Departure) => boolean;
    /** Extra one-way delay in ms for this segment (reordering a test controls). */
    delay?: (d: Departure) => number;
    /** Mark this ECN-capable segment Congestion Experienced (an AQM a test controls). */
    markCe?: (d: Departure) => boolean;
  }) {
    this.dropHook = options.drop ?? null;
    this.delayHook = options.delay ?? null;
    this.markHook = options.markCe ?? null;
    this.rng = new SeededRng(options.seed);
    this.impairToServer = options.impairment ?? NO_IMPAIRMENT;
    this.impairToClient = options.serverImpairment ?? this.impairToServer;
    // The RNG is drawn from in the same order whether or not an ISS is forced,
    // so that forcing one does not change the rest of the run.
    const clientIss = this.rng.nextU32();
    const clientConn = Connection.connect(this.now, {
      iss: seq(options.clientIss ?? clientIss),
      config: tcpConfig(options.clientConfig),
      timestampOffset: this.rng.nextU32(),
    });
    const serverIss = this.rng.nextU32();
    const serverConn = Connection.listen({
      iss: seq(options.serverIss ?? serverIss),
      config: tcpConfig(options.serverConfig),
      timestampOffset: this.rng.nextU32(),
    });
    this.client = new Side(clientConn, options.clientData);
    this.server = new Side(serverConn, options.serverData);
  }

  private readonly impairToServer: Impairment;
  private readonly impairToClient: Impairment;
  private readonly dropHook: ((d: Departure) => boolean) | null;
  private readonly delayHook: ((d: Departure) => number) | null;
  private readonly markHook: ((d: Departure) => boolean) | null;
  private readonly sentCount = [0, 0];
  /** Segments the drop hook took. */
  segmentsDropped = 0;
  /** Segments the mark hook marked CE. */
  segmentsMarked = 0;

  /** Runs until both sides are CLOSED or TIME-WAIT with nothing in flight, or `limitMs` of virtual time. */
  run(limitMs = 600_000, untilQuiet = false): void {
    const limit = at(limitMs);
    for (let steps = 0; steps < 5_000_000; steps++) {
      this.serviceApp(this.client);
      this.serviceApp(this.server);
      this.transmit(this.client, true);
      this.transmit(this.server, false);
      if (!untilQuiet && this.done()) {
        this.serviceApp(this.client);
        this.serviceApp(this.server);
        return;
      }
      const next = this.nextTime();
      if (next === NEVER || next > limit) {
        this.serviceApp(this.client);
        this.serviceApp(this.server);
        return;
      }
      this.now = next;
      this.deliverDue();
      for (const side of [this.client, this.server]) {
        if (side.conn.pollTimeout() <= this.now) side.conn.handleTimeout(this.now);
      }
    }
    throw new Error('pair did not settle in 5M steps');
  }

  done(): boolean {
    const final = (s: Side) =>
      s.conn.state === TcpState.Closed || s.conn.state === TcpState.TimeWait;
    return final(this.client) && final(this.server) && this.flying.length === 0;
  }

  private nextTime(): Instant {
    let t = NEVER;
    for (const f of this.flying) if (f.at < t) t = f.at;
    const a = this.client.conn.pollTimeout();
    const b = this.server.conn.pollTimeout();
    if (a < t) t = a;
    if (b < t) t = b;
    return t;
  }

  private deliverDue(): void {
    this.flying.sort((x, y) => x.at - y.at || x.order - y.order);
    while (this.flying.length > 0 && this.flying[0]!.at <= this.now) {
      const f = this.flying.shift()!;
      const target = f.toServer ? this.server : this.client;
      target.conn.handleSegment(this.now, f.seg, f.ecn);
    }
  }

  private transmit(side: Side, toServer: boolean): void {
    const impair = toServer ? this.impairToServer : this.impairToClient;
    for (
      let seg = side.conn.pollTransmit(this.now);
      seg !== null;
      seg = side.conn.pollTransmit(this.now)
    ) {
      this.segmentsSent++;
      let ecn = side.conn.transmitEcn;
      const index = this.sentCount[toServer ? 0 : 1]++;
      const hooked = this.dropHook !== null || this.markHook !== null || this.delayHook !== null;
      const departure: Departure | null = hooked ? { seg, toServer, now: this.now, index } : null;
      if (this.dropHook !== null && this.dropHook(departure!)) {
        this.segmentsDropped++;
        continue;
      }
      if (chance(this.rng, impair.loss)) {
        this.segmentsLost++;
        continue;
      }
      if (ecn !== 0 && this.markHook !== null && this.markHook(departure!)) {
        ecn = 3;
        this.segmentsMarked++;
      }
      const extra = this.delayHook !== null ? this.delayHook(departure!) : 0;
      const copies = chance(this.rng, impair.duplicate) ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        let delay = impair.delayMs + extra;
        if (chance(this.rng, impair.reorder)) delay += randomFloat(this.rng) * impair.reorderMs;
        this.flying.push({
          at: seqAddTime(this.now, delay),
          order: this.order++,
          toServer,
          seg: { ...seg, payload: seg.payload.slice() },
          ecn,
        });
      }
    }
  }

  private serviceApp(side: Side): void {
    const conn = side.conn;
    for (let e = conn.pollEvent(); e !== null; e = conn.pollEvent()) {
      if (e.type === 'peer-closed') side.sawPeerClosed = true;
      if (e.type === 'closed') side.closedWith = e.error ?? 'ok';
    }
    if (!side.paused) {
      const buf = READ_BUFFER;
      for (let n = conn.read(buf); n > 0; n = conn.read(buf)) {
        side.received.push(buf.slice(0, n));
        side.receivedBytes += n;
      }
    }
    const state = conn.state;
    const canWrite =
      state === TcpState.Established || state === TcpState.CloseWait || state === TcpState.SynSent;
    if (canWrite && side.sentOffset < side.toSend.length && conn.writableBytes > 0) {
      side.sentOffset += conn.write(side.toSend.subarray(side.sentOffset));
    }
    if (
      side.shutdownWhenDone &&
      side.sentOffset === side.toSend.length &&
      (state === TcpState.Established || state === TcpState.CloseWait)
    ) {
      conn.shutdown(this.now);
    }
  }
}

/** Where Pair reads into (copied out at once, so one buffer serves every read). */
const READ_BUFFER = new Uint8Array(64 * 1024);

function seqAddTime(t: Instant, ms: number): Instant {
  return instant(t + Math.round(millis(ms)));
}

export { seqAdd, type SeqNum };
