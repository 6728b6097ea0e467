/**
 * How many SYNs per second one stack answers while a SYN flood keeps its
 * listener's SYN queue full (every SYN then gets a cookie): the cost of the
 * path `hping3 --flood --rand-source` exercises. Not a test; it prints
 * figures.
 *
 *   node --import tsx bench/syn-flood.ts [--seconds 3] [--options]
 *
 * The SYNs come from random sources in 10.0.0.0/8, as hping3's would, each
 * with a correct checksum and, with --options, the options Linux puts in its
 * SYNs (MSS, SACK-permitted, timestamps, window scale); without them, bare
 * SYNs as hping3 sends. They go to the stack in batches of 64 frames, the
 * SYN-ACKs drained after each batch, as the runtime driver does.
 */
import { SeededRng, instant, type Instant, type SeqNum } from '../src/base/index.js';
import { Stack } from '../src/stack/index.js';
import {
  IpProtocol,
  TcpFlags,
  emitIpv4,
  emitTcp,
  noTcpOptions,
  pseudoHeaderSumV4,
  tcpHeaderLength,
  type TcpRepr,
} from '../src/wire/index.js';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 3) || 3;
const withOptions = args.includes('--options');
const DISTINCT_SYNS = 65536;
const BATCH = 64;
const SERVER = (10 << 24) | 2;

/** A SYN from a random 10.x.y.z source port to 10.0.0.2:80. */
function makeSyn(rng: SeededRng): Uint8Array {
  const src = ((10 << 24) | (rng.nextU32() & 0xffffff)) >>> 0;
  const options = noTcpOptions();
  if (withOptions) {
    options.mss = 1460;
    options.sackPermitted = true;
    options.timestamp = { value: rng.nextU32(), echo: 0 };
    options.windowScale = 7;
  }
  const seg: TcpRepr = {
    srcPort: 1024 + (rng.nextU32() % 60000),
    dstPort: 80,
    seq: rng.nextU32() as SeqNum,
    ack: 0 as SeqNum,
    flags: TcpFlags.SYN,
    window: 64240,
    urgent: 0,
    options,
    payload: new Uint8Array(0),
  };
  const tcp = new Uint8Array(tcpHeaderLength(seg));
  emitTcp(seg, tcp, pseudoHeaderSumV4(src, SERVER >>> 0, IpProtocol.Tcp, tcp.length));
  const packet = new Uint8Array(20 + tcp.length);
  emitIpv4(
    {
      src,
      dst: SERVER >>> 0,
      protocol: IpProtocol.Tcp,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      identification: rng.nextU32() & 0xffff,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      payload: tcp,
    },
    packet,
  );
  return packet;
}

const rng = new SeededRng(1);
const syns: Uint8Array[] = [];
for (let i = 0; i < DISTINCT_SYNS; i++) syns.push(makeSyn(rng));

const stack = new Stack({ rng: new SeededRng(2) });
stack.addInterface({ kind: 'ip', addresses: ['10.0.0.2/8'] });
stack.listen({ port: 80, backlog: 128 });

let now: Instant = instant(1_000_000);
let synAcks = 0;
function drain(): void {
  for (let f = stack.pollTransmit(now); f !== null; f = stack.pollTransmit(now)) {
    synAcks++;
    stack.recycleFrame(f.frame);
  }
}

function run(durationMs: number): { packets: number; elapsedMs: number } {
  let packets = 0;
  let next = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let i = 0; i < BATCH; i++) {
      stack.receiveFrame(now, 0, syns[next]!);
      next = next + 1 === DISTINCT_SYNS ? 0 : next + 1;
    }
    drain();
    packets += BATCH;
    // A microsecond per batch: the cookie clock moves, the half-open ones do not time out.
    now = (now + 1) as Instant;
    if ((packets & 4095) === 0) elapsed = performance.now() - start;
  }
  return { packets, elapsedMs: performance.now() - start };
}

run(500); // warm-up: the JIT, and the SYN queue fills so every later SYN gets a cookie
synAcks = 0;
const cookiesBefore = stack.stats().synCookiesSent;
const heapBefore = process.memoryUsage().heapUsed;
const cpuBefore = process.cpuUsage();
const { packets, elapsedMs } = run(seconds * 1000);
const cpu = process.cpuUsage(cpuBefore);
const heapAfter = process.memoryUsage().heapUsed;
// On a shared machine the wall clock counts other processes' turns too; CPU
// time counts only ours (the collector's threads included).
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const stats = stack.stats();
const perSecond = (packets / elapsedMs) * 1000;
console.log(
  `SYN flood (${withOptions ? 'SYNs with Linux options' : 'bare SYNs'}): ` +
    `${packets} SYNs in ${(elapsedMs / 1000).toFixed(2)} s = ${Math.round(perSecond).toLocaleString('en')} SYNs/s, ` +
    `${Math.round(packets / cpuSeconds).toLocaleString('en')} per CPU second; ` +
    `${synAcks} SYN-ACKs (${stats.synCookiesSent - cookiesBefore} with a cookie); ` +
    `${stats.tcpConnections} connections held; heap ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB`,
);
