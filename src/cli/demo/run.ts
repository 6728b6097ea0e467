/**
 * One demo run: two hosts on the simulator joined by an impaired link,
 * captured at both ends, the scenario's applications, and afterwards the
 * frames seen leaving one end paired with those seen arriving at the other.
 */
import { instant, micros } from '../../base/index.js';
import {
  LinkType,
  holdFirst,
  impair,
  memoryPair,
  observeFrames,
  pcapTap,
  type LinkEndpoint,
} from '../../link/index.js';
import { Network } from '../../sim/index.js';
import type { TcpSocket } from '../../stack/index.js';
import { TcpState, type TcpSample } from '../../tcp/index.js';
import { TcpFlags } from '../../wire/index.js';
import { Side, buildPackets, segmentOf, type LadderDiagram } from '../ladder-model.js';
import type { App } from './app.js';
import {
  DEMO_DEFAULTS,
  MAX_DEMO_BYTES,
  SCENARIOS,
  type ConnectionRecord,
  type DemoOptions,
  type DemoResult,
  type DemoSummary,
} from './options.js';
import { StateRecorder, transitionRecord } from './recorder.js';
import { SCENES, SERVER_PORT, type SceneContext } from './scenes.js';
import { pairFrames, segmentsOf } from './pairing.js';

/** The queue in front of a rate-limited link: large, so that a rate alone loses nothing. */
const RATE_QUEUE_BYTES = 16 << 20;

/** How long a demo may run in virtual time before it gives up (a connection stuck in loss, say). */
const VIRTUAL_LIMIT = instant(3600 * 1_000_000);

/** True for a SYN without ACK: the first frame of an active open. */
function isOpeningSyn(frame: Uint8Array): boolean {
  const segment = segmentOf(
    { time: instant(0), linkType: LinkType.Raw, data: frame, originalLength: frame.length },
    0,
  );
  return segment !== null && (segment.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN;
}

/**
 * A big transfer keeps only the headers at the server's end: they are all
 * the pairing of frames needs, and the client's end (what --pcap saves) is
 * kept whole.
 */
const SERVER_SNAPLEN_ABOVE = 16 * 1024 * 1024;
const HEADERS_SNAPLEN = 128;

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
  // The global performance (Node and browsers both have it): run.ts stays free of node: imports for the web page.
  const clock = options.clock ?? (() => globalThis.performance.now());
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
  const inputs = pairFrames(
    segmentsOf(clientTap.bytes()),
    segmentsOf(serverTap.bytes()),
    clientAddress,
    recorder.notes,
  );
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
