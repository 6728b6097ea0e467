/**
 * TCP through the gateway: each connection the guest opens, to any address,
 * is terminated by the stack's transparent listener and carried over a host
 * socket of node:net.
 *
 * The guest's SYN is held until the host connection is up (as slirp4netns
 * and passt do): then the SYN-ACK goes out. A host that refuses, resets or
 * is unreachable earns the guest a RST (ECONNREFUSED there); a host connect
 * that times out sends nothing, so the guest's own SYN retries run out and
 * it times out too (ETIMEDOUT), as under slirp4netns.
 *
 * Bytes are piped both ways with backpressure: a host socket whose write
 * buffer is full pauses reading from the guest's connection, whose receive
 * window then closes, and the other way round; each side buffers at most
 * its high-water mark. A FIN is passed on as a FIN (half-close both ways),
 * a RST as a RST.
 */
import net from 'node:net';
import type { Driver } from '../runtime/index.js';
import type { Socket as StackSocket, TcptsNet } from '../net/index.js';
import type { SynRequest, TcpListener } from '../stack/index.js';
import type { Counters } from './counters.js';
import type { Policy } from './policy.js';
import { splice } from './splice.js';

/** Bounds on TCP flows. */
export interface TcpNatLimits {
  /** Flows open or opening at once; SYNs past it are refused with RST and counted. */
  maxFlows: number;
  /** Bytes each stream of a flow buffers before it stops reading its source. */
  flowBuffer: number;
  /** Bytes buffered over all flows before new flows are refused. */
  maxMemory: number;
}

/** One TCP flow: the guest's connection and its host socket. */
interface Flow {
  readonly id: number;
  readonly guestText: string;
  readonly destinationText: string;
  readonly host: net.Socket;
  guest: StackSocket | null;
}

/** A one-line flow log (opened, closed with bytes each way), or null for none. */
export type FlowLog = ((line: string) => void) | null;

function tupleText(remote: string, remotePort: number, local: string, localPort: number): string {
  return `${remote}|${remotePort}|${local}|${localPort}`;
}

function endpointText(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Errors of a host connect that the guest hears as a RST (the rest: silence, it times out). */
const REFUSING_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EACCES',
  'EPERM',
  'EINVAL',
  'EAFNOSUPPORT',
]);

/** The TCP half of the NAT. */
export class TcpNat {
  private readonly driver: Driver;
  private readonly stackNet: TcptsNet;
  private readonly policy: Policy;
  private readonly limits: TcpNatLimits;
  private readonly counters: Counters;
  private readonly log: FlowLog;
  private listener: TcpListener | null = null;
  /** Flows whose host connection is up and whose guest connection is being accepted. */
  private readonly accepting = new Map<string, Flow>();
  private readonly flows = new Set<Flow>();
  private nextId = 1;
  private unsubscribe: (() => void) | null = null;

  constructor(
    driver: Driver,
    stackNet: TcptsNet,
    policy: Policy,
    limits: TcpNatLimits,
    counters: Counters,
    log: FlowLog,
  ) {
    this.driver = driver;
    this.stackNet = stackNet;
    this.policy = policy;
    this.limits = limits;
    this.counters = counters;
    this.log = log;
  }

  /** Flows open or opening. */
  get flowCount(): number {
    return this.flows.size;
  }

  /** Bytes buffered in the streams of every flow now. */
  bufferedBytes(): number {
    let n = 0;
    for (const f of this.flows) {
      n += f.host.writableLength + f.host.readableLength;
      if (f.guest !== null) n += f.guest.writableLength + f.guest.readableLength;
    }
    return n;
  }

  /** Starts taking the guest's connections. */
  start(): void {
    const listener = this.driver.stack.listenTransparent({ maxHeldSyns: this.limits.maxFlows });
    listener.owner = { onAccept: () => this.onAccept() };
    this.listener = listener;
    this.unsubscribe = this.driver.onEvent((event) => {
      if (event.type === 'syn') this.onSyn(event.request);
    });
    this.driver.ref();
  }

  /** Stops taking connections and resets every flow. */
  stop(): void {
    if (this.listener === null) return;
    this.listener.close();
    this.listener = null;
    this.unsubscribe?.();
    for (const f of this.flows) {
      f.host.destroy();
      f.guest?.destroy();
    }
    this.driver.unref();
    this.driver.kick();
  }

  private answer(request: SynRequest, answer: 'accept' | 'refuse' | 'forget'): void {
    this.driver.stack.answerSyn(this.driver.now(), request, answer);
    this.driver.kick();
  }

  private onSyn(request: SynRequest): void {
    const decision = this.policy.decide(request.localAddress);
    if (!decision.allowed) {
      this.counters.add(`tcp-${decision.reason}`);
      this.answer(request, 'refuse');
      return;
    }
    if (this.flows.size >= this.limits.maxFlows) {
      this.counters.add('tcp-refused-flow-limit');
      this.answer(request, 'refuse');
      return;
    }
    if (this.bufferedBytes() >= this.limits.maxMemory) {
      this.counters.add('tcp-refused-memory-limit');
      this.answer(request, 'refuse');
      return;
    }
    // node:net hands these on to stream.Duplex; its typings only omit them.
    const hostOptions: net.SocketConstructorOpts = { allowHalfOpen: true };
    Object.assign(hostOptions, {
      readableHighWaterMark: this.limits.flowBuffer,
      writableHighWaterMark: this.limits.flowBuffer,
    });
    const host = new net.Socket(hostOptions);
    const flow: Flow = {
      id: this.nextId++,
      guestText: endpointText(request.remoteAddress.text, request.remotePort),
      destinationText: endpointText(request.localAddress.text, request.localPort),
      host,
      guest: null,
    };
    this.flows.add(flow);
    const key = tupleText(
      request.remoteAddress.text,
      request.remotePort,
      request.localAddress.text,
      request.localPort,
    );
    const onConnectError = (error: NodeJS.ErrnoException): void => {
      this.flows.delete(flow);
      const code = error.code ?? 'EIO';
      this.counters.add(`tcp-connect-${code.toLowerCase()}`);
      this.log?.(`tcp ${flow.id} ${flow.guestText} -> ${flow.destinationText} failed: ${code}`);
      this.answer(request, REFUSING_ERRORS.has(code) ? 'refuse' : 'forget');
    };
    host.once('error', onConnectError);
    host.connect({ host: decision.host, port: request.localPort }, () => {
      host.off('error', onConnectError);
      // Until both ends are wired, an error is handled by closeFlow's listeners.
      host.on('error', () => undefined);
      this.accepting.set(key, flow);
      this.answer(request, 'accept');
    });
  }

  private onAccept(): void {
    const listener = this.listener;
    if (listener === null) return;
    for (let tcp = listener.accept(); tcp !== null; tcp = listener.accept()) {
      const key = tupleText(
        tcp.remoteAddress.text,
        tcp.remotePort,
        tcp.localAddress.text,
        tcp.localPort,
      );
      const flow = this.accepting.get(key);
      if (flow === undefined || flow.host.destroyed) {
        tcp.abort(this.driver.now());
        this.driver.kick();
        if (flow !== undefined) {
          this.accepting.delete(key);
          this.flows.delete(flow);
        }
        continue;
      }
      this.accepting.delete(key);
      const guest = new this.stackNet.Socket({
        allowHalfOpen: true,
        highWaterMark: this.limits.flowBuffer,
      });
      guest.adopt(tcp, false);
      flow.guest = guest;
      this.wire(flow, guest);
    }
  }

  /** Pipes both ways, FIN for FIN and RST for RST (splice.ts). */
  private wire(flow: Flow, guest: StackSocket): void {
    this.counters.add('tcp-flows-opened');
    this.log?.(`tcp ${flow.id} ${flow.guestText} -> ${flow.destinationText} opened`);
    splice(flow.host, guest, (totals) => {
      this.flows.delete(flow);
      this.counters.add('tcp-flows-closed');
      this.counters.add('tcp-bytes-to-host', totals.toHost);
      this.counters.add('tcp-bytes-to-guest', totals.toGuest);
      this.log?.(
        `tcp ${flow.id} ${flow.guestText} -> ${flow.destinationText} closed: ` +
          `${totals.toHost} B to host, ${totals.toGuest} B to guest`,
      );
    });
  }
}
