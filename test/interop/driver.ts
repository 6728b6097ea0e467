// A small driver for the interop tests: one Stack on one TUN/TAP link, a
// real clock, and the loop the calling protocol asks for (src/link/link.ts,
// src/stack/stack.ts): when the device is readable or the one timer fires,
// receive every frame and feed the stack, run due timers, hand events to the
// test's applications, send everything the stack has to the device, and arm
// one timer at the earliest deadline. (src/runtime/ will be the real one.)
//
// Also the applications the tests run on tcpts (an echo server, a bulk
// client) and the plumbing to run kernel.py inside a namespace.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NEVER, SeededRng, instant, type Instant } from '../../src/base/index.js';
import { Stack, type StackEvent, type TcpListener, type TcpSocket } from '../../src/stack/index.js';
import { TcpState, type TcpConfig, type TcpError, type TcpEvent } from '../../src/tcp/index.js';
import { pcapTap, type LinkEndpoint } from '../../src/link/index.js';
import { openTap, openTun, type HostLink } from '../../src/link/node/index.js';
import { withNetns, type JsonChild, type Netns } from './netns.js';

/** Frames taken from the device per round before the stack's output is sent (ACK clocking). */
const RX_BUDGET = 256;
/** Rounds in one run before yielding to the event loop. */
const MAX_ROUNDS = 64;

/** What gets a connection's events: an application on one socket. */
export interface SocketApp {
  onEvent(socket: TcpSocket, event: TcpEvent, now: Instant): void;
}

/** One tcpts host on one host device, driven by the event loop. */
export class TestHost {
  readonly stack: Stack;
  /** The device: it says when it is readable. */
  readonly link: HostLink;
  /** What the stack sends into and receives from: the device, or a wrapper of it (pcapTap, impair). */
  readonly endpoint: LinkEndpoint;
  readonly ifIndex: number;
  /** Events no application claimed (echo replies, ICMP errors). */
  readonly otherEvents: StackEvent[] = [];
  /** Called for every accept event, to take connections off the listener. */
  onAccept: ((listener: TcpListener, now: Instant) => void) | null = null;
  private readonly origin = performance.now();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = NEVER;
  private running = false;
  private again = false;
  private closed = false;

  constructor(
    link: HostLink,
    options: {
      addresses: string[];
      seed?: number;
      tcp?: Partial<TcpConfig>;
      wrap?: (link: HostLink) => LinkEndpoint;
    },
  ) {
    this.link = link;
    this.endpoint = options.wrap !== undefined ? options.wrap(link) : link;
    this.stack = new Stack({
      rng: new SeededRng(options.seed ?? 0x7c975),
      ...(options.tcp !== undefined ? { tcp: options.tcp } : {}),
    });
    this.ifIndex = this.stack.addInterface({
      name: link.name,
      kind: link.kind,
      mtu: link.mtu,
      addresses: options.addresses,
    });
    link.onReadable(this.run);
  }

  /** Microseconds since this host started, from the monotonic clock. */
  now(): Instant {
    return instant(Math.floor((performance.now() - this.origin) * 1000));
  }

  /** Runs the loop now (after the test called into the stack: connect, write, ...). */
  readonly run = (): void => {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    let yielded = false;
    try {
      for (let round = 0; ; round++) {
        this.again = false;
        const now = this.now();
        let frames = 0;
        while (frames < RX_BUDGET) {
          const frame = this.endpoint.receive(now);
          if (frame === null) break;
          this.stack.receiveFrame(now, this.ifIndex, frame);
          frames++;
        }
        if (this.stack.pollTimeout() <= now) this.stack.handleTimeout(now);
        this.dispatch(now);
        for (
          let out = this.stack.pollTransmit(now);
          out !== null;
          out = this.stack.pollTransmit(now)
        ) {
          this.endpoint.send(now, out.frame);
        }
        this.dispatch(now);
        this.link.flush();
        const busy =
          frames === RX_BUDGET ||
          this.again ||
          this.stack.pollTimeout() <= now ||
          this.endpoint.pollTimeout() <= now;
        if (!busy) break;
        if (round >= MAX_ROUNDS) {
          // Let the event loop breathe (the kernel side, timers) and go on.
          yielded = true;
          setImmediate(this.run);
          break;
        }
      }
    } finally {
      this.running = false;
    }
    if (!yielded) this.arm();
  };

  /** Stops the loop and closes the device. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.link.onReadable(null);
    this.link.close();
  }

  private arm(): void {
    const at = Math.min(this.stack.pollTimeout(), this.endpoint.pollTimeout()) as Instant;
    if (at === this.timerAt && this.timer !== null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at === NEVER) return;
    const delay = Math.max(0, Math.ceil((at - this.now()) / 1000));
    this.timer = setTimeout(this.fire, delay);
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.timerAt = NEVER;
    this.run();
  };

  private dispatch(now: Instant): void {
    for (let e = this.stack.pollEvent(); e !== null; e = this.stack.pollEvent()) {
      if (e.type === 'tcp') {
        const app = e.socket.owner as SocketApp | null;
        if (app !== null) app.onEvent(e.socket, e.event, now);
      } else if (e.type === 'accept') {
        if (this.onAccept !== null) this.onAccept(e.listener, now);
      } else {
        this.otherEvents.push(e);
      }
    }
  }
}

/** How a connection ended and what went through it. */
export interface TransferResult {
  sent: number;
  received: number;
  sentSha256: string;
  receivedSha256: string;
  error: TcpError | null;
  /** Wall-clock milliseconds from the first event to `closed`. */
  ms: number;
}

/**
 * Echoes what it reads, never holding more than one read's worth: a write
 * that is not taken whole waits for `writable` before anything more is
 * read, so the peer is held back by our receive window. Half-closes once the
 * peer has and everything is echoed.
 */
export class EchoApp implements SocketApp {
  private readonly buffer = new Uint8Array(64 * 1024);
  private pending: Uint8Array | null = null;
  private peerClosed = false;
  private shutdownSent = false;
  private readonly sentHash: Hash = createHash('sha256');
  private sent = 0;
  private received = 0;
  private readonly started = performance.now();
  readonly done: Promise<TransferResult>;
  private resolve!: (result: TransferResult) => void;

  constructor() {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  onEvent(socket: TcpSocket, event: TcpEvent, now: Instant): void {
    switch (event.type) {
      case 'readable':
      case 'writable':
      case 'connected':
        this.pump(socket, now);
        break;
      case 'peer-closed':
        this.peerClosed = true;
        this.pump(socket, now);
        break;
      case 'closed': {
        const digest = this.sentHash.digest('hex');
        this.resolve({
          sent: this.sent,
          received: this.received,
          sentSha256: digest,
          receivedSha256: digest,
          error: event.error,
          ms: performance.now() - this.started,
        });
        break;
      }
      default:
        break;
    }
  }

  /** Moves bytes from the receive side to the send side until one of them stalls. */
  pump(socket: TcpSocket, now: Instant): void {
    for (;;) {
      if (this.pending !== null) {
        const taken = socket.write(this.pending);
        this.sent += taken;
        this.sentHash.update(this.pending.subarray(0, taken));
        if (taken < this.pending.length) {
          // A copy (slice): the rest must outlive the next read into the buffer.
          this.pending = this.pending.slice(taken);
          return;
        }
        this.pending = null;
      }
      const n = socket.read(this.buffer);
      if (n === 0) break;
      this.received += n;
      this.pending = this.buffer.subarray(0, n);
    }
    if (this.peerClosed && !this.shutdownSent && socket.readableBytes === 0) {
      this.shutdownSent = true;
      socket.shutdown(now);
    }
  }
}

/**
 * Sends `data` and reads everything the peer sends at the same time,
 * hashing both; half-closes after the last byte is taken.
 */
export class BulkApp implements SocketApp {
  private readonly buffer = new Uint8Array(64 * 1024);
  private readonly data: Uint8Array;
  private offset = 0;
  private shutdownSent = false;
  private readonly receivedHash: Hash = createHash('sha256');
  // Hashed as it is taken, not at the end: 20 MB hashed in one go inside the
  // driver's round delays that round's segments (the ACK of the peer's FIN)
  // by tens of milliseconds, and the peer then retransmits.
  private readonly sentHash: Hash = createHash('sha256');
  private received = 0;
  private started = -1;
  private finished = false;
  readonly done: Promise<TransferResult>;
  private resolve!: (result: TransferResult) => void;

  constructor(data: Uint8Array) {
    this.data = data;
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  onEvent(socket: TcpSocket, event: TcpEvent, now: Instant): void {
    if (this.started < 0) this.started = performance.now();
    switch (event.type) {
      case 'connected':
      case 'writable':
        this.write(socket, now);
        break;
      case 'readable':
        this.read(socket);
        break;
      case 'peer-closed':
        this.read(socket);
        break;
      case 'state':
        // Both FINs sent and acknowledged: the transfer is over. The
        // connection then waits out TIME-WAIT (2 MSL) before its `closed`.
        if (event.transition.to === TcpState.TimeWait) this.finish(null);
        break;
      case 'closed':
        this.finish(event.error);
        break;
      default:
        break;
    }
  }

  private finish(error: TcpError | null): void {
    if (this.finished) return;
    this.finished = true;
    this.resolve({
      sent: this.offset,
      received: this.received,
      sentSha256: this.sentHash.digest('hex'),
      receivedSha256: this.receivedHash.digest('hex'),
      error,
      ms: performance.now() - this.started,
    });
  }

  private write(socket: TcpSocket, now: Instant): void {
    while (this.offset < this.data.length) {
      const taken = socket.write(this.data.subarray(this.offset));
      this.sentHash.update(this.data.subarray(this.offset, this.offset + taken));
      this.offset += taken;
      if (taken === 0) return;
    }
    if (!this.shutdownSent) {
      this.shutdownSent = true;
      socket.shutdown(now);
    }
  }

  private read(socket: TcpSocket): void {
    for (let n = socket.read(this.buffer); n > 0; n = socket.read(this.buffer)) {
      this.receivedHash.update(this.buffer.subarray(0, n));
      this.received += n;
    }
  }
}

/** Listens on `port` and runs an {@link EchoApp} on every connection; resolves with each one's result. */
export function echoServer(host: TestHost, port: number): { results: Promise<TransferResult>[] } {
  const listener = host.stack.listen({ port });
  const results: Promise<TransferResult>[] = [];
  host.onAccept = (l, now) => {
    if (l !== listener) return;
    for (let socket = l.accept(); socket !== null; socket = l.accept()) {
      const app = new EchoApp();
      socket.owner = app;
      results.push(app.done);
      // Data may have come with the handshake, before anyone owned the socket.
      app.pump(socket, now);
    }
  };
  return { results };
}

const KERNEL_PY = fileURLToPath(new URL('./kernel.py', import.meta.url));

/** A kernel.py command running in a namespace. */
export type KernelProcess = JsonChild;

/** Runs `python3 kernel.py <args>` inside `ns`, killed after `timeoutMs`. */
export function kernel(ns: Netns, args: (string | number)[], timeoutMs = 30_000): KernelProcess {
  const argv = args.map(String);
  return ns.runJson('python3', [KERNEL_PY, ...argv], timeoutMs, `kernel.py ${argv.join(' ')}`);
}

/** The addresses of the interop tests: the kernel is .1 / ::1, tcpts .2 / ::2. */
export const KERNEL_V4 = '10.99.0.1';
export const TCPTS_V4 = '10.99.0.2';
export const KERNEL_V6 = 'fd99::1';
export const TCPTS_V6 = 'fd99::2';

/** What a test body gets: its namespace, the device, and the tcpts host on it. */
export interface InteropContext {
  ns: Netns;
  link: HostLink;
  host: TestHost;
}

/**
 * Makes a namespace, a TUN or TAP device inside it with the kernel's
 * addresses (10.99.0.1/24, fd99::1/64), a tcpts host on the device's file
 * descriptor (10.99.0.2/24, fd99::2/64), runs `body`, and removes it all,
 * whatever happens.
 */
export async function withHost<T>(
  kind: 'tun' | 'tap',
  body: (context: InteropContext) => Promise<T>,
  options: {
    mtu?: number;
    tcp?: Partial<TcpConfig>;
    deadlineMs?: number;
    /** Wraps the device for the stack (impair, pcapTap); the device still says when it is readable. */
    wrap?: (link: HostLink) => LinkEndpoint;
  } = {},
): Promise<T> {
  return withNetns(async (ns) => {
    const open = kind === 'tap' ? openTap : openTun;
    const link = open({ name: `${kind}%d`, netns: ns.path, mtu: options.mtu ?? 1500 });
    // TCPTS_INTEROP_PCAP=<dir>: record what tcpts sends and receives, one
    // pcap per test, named after the namespace.
    const pcapDir = process.env.TCPTS_INTEROP_PCAP;
    const pcapFd = pcapDir !== undefined ? openSync(join(pcapDir, `${ns.name}.pcap`), 'w') : -1;
    const host = new TestHost(link, {
      addresses: [`${TCPTS_V4}/24`, `${TCPTS_V6}/64`],
      ...(options.tcp !== undefined ? { tcp: options.tcp } : {}),
      wrap: (device: HostLink) => {
        const inner = options.wrap !== undefined ? options.wrap(device) : device;
        if (pcapFd < 0) return inner;
        return pcapTap(inner, {
          epochMicros: Date.now() * 1000,
          sink: (chunk) => writeSync(pcapFd, chunk),
        });
      },
    });
    let timer: ReturnType<typeof setTimeout> | null = null;
    try {
      // nodad: the kernel's address is usable at once (no 1 s of duplicate
      // address detection on the TAP link).
      ns.batch('ip', [
        ['addr', 'add', `${KERNEL_V4}/24`, 'dev', link.name],
        ['addr', 'add', `${KERNEL_V6}/64`, 'dev', link.name, 'nodad'],
      ]);
      // A stuck test still cleans up (the test runner's own timeout would
      // leave the body pending and skip every finally), and says where it stuck.
      const deadlineMs = options.deadlineMs ?? 40_000;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(stuck(ns, host, deadlineMs))), deadlineMs);
      });
      return await Promise.race([body({ ns, link, host }), deadline]);
    } finally {
      if (timer !== null) clearTimeout(timer);
      host.close();
      if (pcapFd >= 0) closeSync(pcapFd);
    }
  });
}

/** What both sides look like when a test runs out of time. */
function stuck(ns: Netns, host: TestHost, ms: number): string {
  const sockets = host.stack.tcpSockets().map((s) => {
    const st = s.stats();
    return {
      local: `${s.localAddress.text}:${s.localPort}`,
      remote: `${s.remoteAddress.text}:${s.remotePort}`,
      state: st.state,
      caState: st.caState,
      cwnd: st.cwnd,
      inFlight: st.bytesInFlight,
      sendWindow: st.sendWindow,
      receiveWindow: st.receiveWindow,
      sent: st.bytesSent,
      acked: st.bytesAcked,
      received: st.bytesReceived,
      retransmitted: st.segmentsRetransmitted,
      rtos: st.retransmitTimeouts,
      backoffs: st.backoffs,
      sendBuffered: st.sendBuffered,
      receiveBuffered: st.receiveBuffered,
      outOfOrder: st.outOfOrderBytes,
      drops: st.drops,
    };
  });
  const kernelView = ns.tryExec('ss', ['-tnie']).output;
  return (
    `still running after ${ms} ms\n` +
    `tcpts sockets: ${JSON.stringify(sockets, null, 1)}\n` +
    `tcpts stack: ${JSON.stringify(host.stack.stats())}\n` +
    `link: ${JSON.stringify(host.link.stats())} ${JSON.stringify(host.link.deviceStats())}\n` +
    `kernel (ss -tnie):\n${kernelView}`
  );
}
