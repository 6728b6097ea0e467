/**
 * The scenarios of `tcpts demo`: what each application does, and the
 * caption that says what to notice.
 */
import {
  SeededRng,
  instant,
  later,
  micros,
  randomBytes,
  seq,
  type Instant,
} from '../../base/index.js';
import type { Network, SimHost } from '../../sim/index.js';
import { IpAddr, type TcpListener, type TcpSocket } from '../../stack/index.js';
import { TcpState } from '../../tcp/index.js';
import {
  TcpFlags,
  buildTcpPacket,
  noTcpOptions,
  type TcpPacketRepr,
  type TcpRepr,
} from '../../wire/index.js';
import { formatBytes } from '../progress.js';
import { App, wire } from './app.js';
import type { ScenarioName } from './options.js';

const ASCII = new TextEncoder();
export const SERVER_PORT = 80;
const PORT_A = 7000;
const PORT_B = 8000;

/** What a scenario set up: its caption and what its summary checks. */
export interface Scene {
  caption: string[];
  client: App;
  server: App;
  /** Whether the server read exactly what it should have. */
  intact: () => boolean | null;
  /** For scenarios where the server initiates too: its initial state. */
  serverInitial: string;
}

export interface SceneContext {
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

export const SCENES: Readonly<Record<ScenarioName, (ctx: SceneContext) => Scene>> = {
  handshake: sceneHandshake,
  transfer: sceneTransfer,
  'half-close': sceneHalfClose,
  'old-duplicate-syn': sceneOldDuplicateSyn,
  'simultaneous-open': sceneSimultaneousOpen,
  'simultaneous-close': sceneSimultaneousClose,
  reset: sceneReset,
};
