/**
 * The measurements. Each job runs in a process of its own (bench/child.ts),
 * so one job's garbage, JIT state or namespaces never reach another, and
 * returns named figures. bench/run.ts decides which jobs run, how often,
 * and what the figures are compared with.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import {
  BulkSender,
  CycleClient,
  Echo,
  RoundTripClient,
  Sink,
  acceptAll,
  adopt,
  closingServer,
  ms,
} from './lib/apps.js';
import {
  MEM_B,
  TUN_KERNEL,
  TUN_TCPTS,
  VETH_B,
  kernel,
  memoryHosts,
  sleep,
  tunHost,
  tunRouter,
  ROUTED_RECEIVER,
  vethPair,
  type PathImpairment,
} from './lib/hosts.js';
import { gbits } from './lib/stats.js';
import { Netns } from '../test/interop/netns.js';
import type { TcpSocket } from '../src/stack/index.js';
import type { Instant } from '../src/base/index.js';
import type { TcpEvent } from '../src/tcp/index.js';
import type { RealDriver, TcpSocketOwner } from '../src/runtime/index.js';
import { createNet } from '../src/net/index.js';

/** Parameters of a job (from the command line of bench/child.ts). */
export type JobParams = Record<string, number | string>;
/** What a job measured, by name. */
export type Figures = Record<string, number>;
/** A measurement. */
export type Job = (params: JobParams) => Promise<Figures>;

const PORT = 5001;

function num(params: JobParams, key: string): number {
  const value = params[key];
  if (typeof value !== 'number') throw new TypeError(`job parameter ${key} must be a number`);
  return value;
}

function str(params: JobParams, key: string): string {
  const value = params[key];
  if (typeof value !== 'string') throw new TypeError(`job parameter ${key} must be a string`);
  return value;
}

/** Throws unless the receiver got everything: a fast wrong answer is no figure. */
function expectBytes(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: received ${got} bytes of ${want}`);
}

/** Resolves with the first socket accepted on `port`, given to `make`'s owner. */
function acceptOne<T extends TcpSocketOwner>(
  driver: RealDriver,
  port: number,
  make: (socket: TcpSocket) => T,
): Promise<T> {
  const listener = driver.stack.listen({ port });
  return new Promise((resolve) => {
    acceptAll(listener, (socket, now) => {
      const owner = make(socket);
      adopt(socket, owner, now);
      resolve(owner);
    });
  });
}

/** Row 7's path: `loss` each way and `rttMs` of round trip (half each way; default 20 ms). */
function pathOf(params: JobParams): PathImpairment {
  const rttMs = typeof params['rttMs'] === 'number' ? params['rttMs'] : 20;
  return { loss: num(params, 'loss'), delayMs: rttMs / 2, seed: 0x5eed + num(params, 'run') };
}

// ---------------------------------------------------------------------------
// Rows 1-3: bulk throughput

/** Row 1: tcpts to tcpts in memory, one connection. */
async function memBulk(p: JobParams): Promise<Figures> {
  const bytes = num(p, 'bytes');
  const hosts = memoryHosts(num(p, 'mtu'));
  try {
    const sinkP = acceptOne(hosts.b, PORT, (s) => new Sink(s));
    const sender = new BulkSender(
      hosts.a.stack.connect(hosts.a.now(), { host: MEM_B, port: PORT }),
      bytes,
    );
    hosts.a.kick();
    const sink = await sinkP;
    await sink.done;
    expectBytes('in-memory bulk', sink.bytes, bytes);
    return { gbps: gbits(sink.bytes, (sink.endedAt - sender.connectedAt) / 1000) };
  } finally {
    hosts.close();
  }
}

/** Row 2: tcpts and the kernel over TUN, either direction. */
async function tunBulk(p: JobParams): Promise<Figures> {
  const bytes = num(p, 'bytes');
  const host = tunHost(num(p, 'mtu'));
  try {
    if (str(p, 'direction') === 'tcpts-to-kernel') {
      const sink = kernel(host.ns, ['sink', TUN_KERNEL, PORT]);
      await sink.ready;
      const socket = host.driver.stack.connect(host.driver.now(), { host: TUN_KERNEL, port: PORT });
      new BulkSender(socket, bytes);
      host.driver.kick();
      const r = await sink.result;
      expectBytes('tcpts to kernel', r.bytes!, bytes);
      return { gbps: gbits(r.bytes!, r.seconds!) };
    }
    const sinkP = acceptOne(host.driver, PORT, (s) => new Sink(s));
    const source = kernel(host.ns, ['source', TUN_TCPTS, PORT, bytes]);
    const sink = await sinkP;
    await sink.done;
    await source.result;
    expectBytes('kernel to tcpts', sink.bytes, bytes);
    return { gbps: gbits(sink.bytes, (sink.endedAt - sink.startedAt) / 1000) };
  } finally {
    host.close();
  }
}

/** Row 3: the kernel to itself over a veth pair between two namespaces. */
async function vethBulk(p: JobParams): Promise<Figures> {
  const bytes = num(p, 'bytes');
  const veth = vethPair(num(p, 'mtu'));
  try {
    const sink = kernel(veth.b, ['sink', VETH_B, PORT]);
    await sink.ready;
    const source = kernel(veth.a, ['source', VETH_B, PORT, bytes]);
    const r = await sink.result;
    await source.result;
    expectBytes('kernel veth', r.bytes!, bytes);
    return { gbps: gbits(r.bytes!, r.seconds!) };
  } finally {
    veth.close();
  }
}

/** Row 3: Node's own `net` over loopback, both ends in this process (as tcpts in memory). */
async function nodeBulk(p: JobParams): Promise<Figures> {
  const bytes = num(p, 'bytes');
  let startedAt = 0;
  let received = 0;
  const done = new Promise<number>((resolve) => {
    const server = createServer((socket) => {
      startedAt = ms();
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.on('end', () => {
        resolve(ms());
        socket.end();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const client = connect(port, '127.0.0.1', () => {
        const chunk = Buffer.alloc(1 << 20, 0x5a);
        let sent = 0;
        const pump = (): void => {
          while (sent < bytes) {
            const piece = sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent);
            sent += piece.length;
            if (!client.write(piece)) {
              client.once('drain', pump);
              return;
            }
          }
          client.end();
        };
        pump();
      });
    });
  });
  const endedAt = await done;
  expectBytes('node:net loopback', received, bytes);
  return { gbps: gbits(received, (endedAt - startedAt) / 1000) };
}

/**
 * Row 1: the same through tcpts' node:net-compatible sockets (Duplex
 * streams, Buffers), the API most applications would use; both ends in one
 * process, like Node's own net over loopback.
 */
async function memNetBulk(p: JobParams): Promise<Figures> {
  const bytes = num(p, 'bytes');
  const hosts = memoryHosts(num(p, 'mtu'));
  try {
    const netA = createNet(hosts.a);
    const netB = createNet(hosts.b);
    let startedAt = 0;
    let received = 0;
    const endedAt = await new Promise<number>((resolve, reject) => {
      const server = netB.createServer((socket) => {
        startedAt = ms();
        socket.on('data', (chunk: Buffer) => (received += chunk.length));
        socket.on('end', () => {
          resolve(ms());
          socket.end();
          server.close();
        });
        socket.on('error', reject);
      });
      server.listen(PORT, () => {
        const client = netA.connect(PORT, MEM_B, () => {
          const chunk = Buffer.alloc(1 << 20, 0x5a);
          let sent = 0;
          const pump = (): void => {
            while (sent < bytes) {
              const piece = sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent);
              sent += piece.length;
              if (!client.write(piece)) {
                client.once('drain', pump);
                return;
              }
            }
            client.end();
          };
          pump();
        });
        client.on('error', reject);
      });
    });
    expectBytes('tcpts net in memory', received, bytes);
    return { gbps: gbits(received, (endedAt - startedAt) / 1000) };
  } finally {
    hosts.close();
  }
}

// ---------------------------------------------------------------------------
// Row 4: connection rate

async function memCrr(p: JobParams): Promise<Figures> {
  const hosts = memoryHosts(1500);
  try {
    closingServer(hosts.b.stack.listen({ port: PORT }));
    const client = new CycleClient(hosts.a, MEM_B, PORT);
    const started = ms();
    client.start(num(p, 'parallel'));
    await sleep(num(p, 'seconds') * 1000);
    const cycles = client.cycles;
    const seconds = (ms() - started) / 1000;
    client.stop();
    if (client.errors > 0) throw new Error(`${client.errors} cycles failed`);
    return { rate: cycles / seconds };
  } finally {
    hosts.close();
  }
}

async function tunCrr(p: JobParams): Promise<Figures> {
  const host = tunHost(1500);
  try {
    closingServer(host.driver.stack.listen({ port: PORT }));
    const r = await kernel(host.ns, ['crr', TUN_TCPTS, PORT, num(p, 'seconds'), num(p, 'parallel')])
      .result;
    if (r.errors! > 0) throw new Error(`${r.errors} cycles failed`);
    return { rate: r.cycles! / r.seconds! };
  } finally {
    host.close();
  }
}

async function vethCrr(p: JobParams): Promise<Figures> {
  const veth = vethPair(1500);
  try {
    const server = kernel(veth.b, ['crr-server', VETH_B, PORT]);
    await server.ready;
    const r = await kernel(veth.a, ['crr', VETH_B, PORT, num(p, 'seconds'), num(p, 'parallel')])
      .result;
    server.kill();
    if (r.errors! > 0) throw new Error(`${r.errors} cycles failed`);
    return { rate: r.cycles! / r.seconds! };
  } finally {
    veth.close();
  }
}

async function nodeCrr(p: JobParams): Promise<Figures> {
  const server = createServer((socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let cycles = 0;
  let errors = 0;
  let running = true;
  const open = (): void => {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.on('error', () => errors++);
    socket.resume();
    socket.on('close', (hadError) => {
      if (!hadError) cycles++;
      if (running) open();
    });
  };
  const started = ms();
  for (let i = 0; i < num(p, 'parallel'); i++) open();
  await sleep(num(p, 'seconds') * 1000);
  const seconds = (ms() - started) / 1000;
  const counted = cycles;
  running = false;
  server.close();
  if (errors > 0) throw new Error(`${errors} cycles failed`);
  return { rate: counted / seconds };
}

// ---------------------------------------------------------------------------
// Row 5: request/response

async function memRr(p: JobParams): Promise<Figures> {
  const hosts = memoryHosts(1500);
  try {
    void acceptOne(hosts.b, PORT, (s) => new Echo(s));
    const client = new RoundTripClient(
      hosts.a.stack.connect(hosts.a.now(), { host: MEM_B, port: PORT }),
    );
    hosts.a.kick();
    await client.connected;
    await sleep(num(p, 'seconds') * 1000);
    const count = client.roundTrips;
    const seconds = (ms() - client.startedAt) / 1000;
    client.stop();
    return { rate: count / seconds };
  } finally {
    hosts.close();
  }
}

async function tunRr(p: JobParams): Promise<Figures> {
  const host = tunHost(1500);
  try {
    void acceptOne(host.driver, PORT, (s) => new Echo(s));
    const r = await kernel(host.ns, ['rr', TUN_TCPTS, PORT, num(p, 'seconds')]).result;
    return { rate: r.roundTrips! / r.seconds! };
  } finally {
    host.close();
  }
}

async function vethRr(p: JobParams): Promise<Figures> {
  const veth = vethPair(1500);
  try {
    const server = kernel(veth.b, ['echo-server', VETH_B, PORT]);
    await server.ready;
    const r = await kernel(veth.a, ['rr', VETH_B, PORT, num(p, 'seconds')]).result;
    return { rate: r.roundTrips! / r.seconds! };
  } finally {
    veth.close();
  }
}

async function nodeRr(p: JobParams): Promise<Figures> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const client = connect(port, '127.0.0.1');
  client.setNoDelay(true);
  await once(client, 'connect');
  const one = Buffer.from('x');
  let count = 0;
  let running = true;
  client.on('data', (chunk: Buffer) => {
    count += chunk.length;
    if (running) client.write(one);
  });
  const started = ms();
  client.write(one);
  await sleep(num(p, 'seconds') * 1000);
  const seconds = (ms() - started) / 1000;
  running = false;
  const counted = count;
  client.destroy();
  server.close();
  return { rate: counted / seconds };
}

// ---------------------------------------------------------------------------
// Row 6: scale and memory

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('the scale job needs node --expose-gc');
  collect();
  collect();
}

function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const SCALE_PORTS = 8;
const SCALE_WINDOW = 256;

/**
 * Opens `connections` idle connections from a to b (over 8 listening ports,
 * so ephemeral ports do not run out), at most 256 handshakes at a time;
 * measures the heap per socket (each connection is two sockets in this
 * process) and then the aggregate throughput of `active` of them.
 */
async function memScale(p: JobParams): Promise<Figures> {
  const connections = num(p, 'connections');
  const active = num(p, 'active');
  const activeBytes = num(p, 'activeBytes');
  const hosts = memoryHosts(1500);
  try {
    let accepted = 0;
    for (let i = 0; i < SCALE_PORTS; i++) {
      acceptAll(hosts.b.stack.listen({ port: PORT + i }), () => accepted++);
    }
    gc();
    const before = heapBytes();
    const started = ms();
    let opened = 0;
    let established = 0;
    let failed = 0;
    let resolveOpen: () => void = () => {};
    const allOpen = new Promise<void>((resolve) => (resolveOpen = resolve));
    const a = hosts.a;
    // One owner for every client socket: per-connection closures would be
    // the bench's memory, not tcpts'.
    const owner: TcpSocketOwner = {
      onTcpEvent(event: TcpEvent): void {
        if (event.type === 'connected') {
          established++;
          if (opened < connections) openOne();
          else if (established === connections) resolveOpen();
        } else if (event.type === 'closed' && event.error !== null) failed++;
      },
    };
    const openOne = (): void => {
      const socket = a.stack.connect(a.now(), { host: MEM_B, port: PORT + (opened % SCALE_PORTS) });
      socket.owner = owner;
      opened++;
    };
    for (let i = 0; i < Math.min(SCALE_WINDOW, connections); i++) openOne();
    a.kick();
    await allOpen;
    while (accepted < connections) await sleep(5);
    const openSeconds = (ms() - started) / 1000;
    if (failed > 0) throw new Error(`${failed} connections failed to open`);
    gc();
    const heapPerSocket = (heapBytes() - before) / (2 * connections);

    // The active ones: every (connections / active)-th client socket sends to its server socket.
    const clients = a.stack.tcpSockets();
    const servers = new Map<string, TcpSocket>();
    for (const s of hosts.b.stack.tcpSockets()) servers.set(`${s.remotePort}/${s.localPort}`, s);
    const step = Math.max(1, Math.floor(clients.length / active));
    const sinks: Sink[] = [];
    const t0 = ms();
    const now = a.now() as Instant;
    for (let i = 0; i < active; i++) {
      const c = clients[i * step]!;
      const s = servers.get(`${c.localPort}/${c.remotePort}`)!;
      const sink = new Sink(s);
      adopt(s, sink, now);
      sinks.push(sink);
      const sender = new BulkSender(c, activeBytes);
      sender.onTcpEvent({ type: 'writable' }, now);
    }
    a.kick();
    await Promise.all(sinks.map((s) => s.done));
    const activeSeconds = (ms() - t0) / 1000;
    let total = 0;
    for (const s of sinks) total += s.bytes;
    expectBytes('active connections', total, active * activeBytes);
    return {
      heapPerSocket,
      openRate: connections / openSeconds,
      activeGbps: gbits(total, activeSeconds),
    };
  } finally {
    hosts.close();
  }
}

/** The kernel's figures for row 6: slab growth per socket and the time to open, over loopback. */
async function kernelScale(p: JobParams): Promise<Figures> {
  const ns = new Netns();
  try {
    const connections = num(p, 'connections');
    const r = await kernel(ns, ['scale', '127.0.0.1', 7000, connections], 600_000).result;
    return { heapPerSocket: r.slabBytesPerSocket!, openRate: connections / r.seconds! };
  } finally {
    ns.delete();
  }
}

// ---------------------------------------------------------------------------
// Row 7: loss

/** tcpts to tcpts in memory, 10 ms each way, random loss both ways; goodput over a window. */
async function memLoss(p: JobParams): Promise<Figures> {
  const seconds = num(p, 'seconds');
  const hosts = memoryHosts(1500, pathOf(p));
  try {
    const sinkP = acceptOne(hosts.b, PORT, (s) => new Sink(s, ms(), seconds * 1000));
    new BulkSender(hosts.a.stack.connect(hosts.a.now(), { host: MEM_B, port: PORT }), Infinity);
    hosts.a.kick();
    const sink = await sinkP;
    await sleep(seconds * 1000 + 100);
    const bytes = sink.windowBytes >= 0 ? sink.windowBytes : sink.bytes;
    return { mbps: gbits(bytes, seconds) * 1000 };
  } finally {
    hosts.close();
  }
}

/** tcpts and the kernel over TUN with the same impairment in tcpts' link layer. */
async function tunLoss(p: JobParams): Promise<Figures> {
  const seconds = num(p, 'seconds');
  // The kernel sender's congestion control: "cubic" (Linux's default, what
  // tcpts's CUBIC is compared with) or "bbr"; empty, the namespace's default.
  const congestion = typeof p['congestion'] === 'string' ? p['congestion'] : '';
  if (str(p, 'direction') === 'kernel-to-kernel') {
    const routed = tunRouter(pathOf(p));
    try {
      const sink = kernel(routed.receiver, ['sink', ROUTED_RECEIVER, PORT, seconds]);
      await sink.ready;
      kernel(routed.sender, ['source', ROUTED_RECEIVER, PORT, 0, seconds + 5], 120_000, congestion);
      const r = await sink.result;
      return { mbps: gbits(r.bytes!, seconds) * 1000 };
    } finally {
      routed.close();
    }
  }
  const host = tunHost(1500, pathOf(p));
  try {
    if (str(p, 'direction') === 'tcpts-to-kernel') {
      const sink = kernel(host.ns, ['sink', TUN_KERNEL, PORT, seconds]);
      await sink.ready;
      const socket = host.driver.stack.connect(host.driver.now(), { host: TUN_KERNEL, port: PORT });
      new BulkSender(socket, Infinity);
      host.driver.kick();
      const r = await sink.result;
      return { mbps: gbits(r.bytes!, seconds) * 1000 };
    }
    const sinkP = acceptOne(host.driver, PORT, (s) => new Sink(s, ms(), seconds * 1000));
    kernel(host.ns, ['source', TUN_TCPTS, PORT, 0, seconds + 5], 120_000, congestion);
    const sink = await sinkP;
    await sleep(seconds * 1000 + 100);
    const bytes = sink.windowBytes >= 0 ? sink.windowBytes : sink.bytes;
    return { mbps: gbits(bytes, seconds) * 1000 };
  } finally {
    host.close();
  }
}

/** Every job by name. */
export const JOBS: Record<string, Job> = {
  'mem-bulk': memBulk,
  'mem-net-bulk': memNetBulk,
  'tun-bulk': tunBulk,
  'veth-bulk': vethBulk,
  'node-bulk': nodeBulk,
  'mem-crr': memCrr,
  'tun-crr': tunCrr,
  'veth-crr': vethCrr,
  'node-crr': nodeCrr,
  'mem-rr': memRr,
  'tun-rr': tunRr,
  'veth-rr': vethRr,
  'node-rr': nodeRr,
  'mem-scale': memScale,
  'kernel-scale': kernelScale,
  'mem-loss': memLoss,
  'tun-loss': tunLoss,
};
