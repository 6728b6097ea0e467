/**
 * UDP through the gateway: datagrams the guest sends to any address and
 * port (no gateway service bound there) are carried by a node:dgram socket
 * per flow (guest address and port, destination address and port). Replies
 * from the destination go back to the guest from the address and port it
 * wrote to. A flow ends after `idleMs` without traffic, as slirp4netns
 * expires its UDP sockets. A denied destination, or a new flow past the
 * limit, gets ICMP port unreachable from the stack (the filter says no) and
 * is counted.
 */
import dgram from 'node:dgram';
import type { Driver } from '../runtime/index.js';
import { IpAddr } from '../stack/index.js';
import type { Counters } from './counters.js';
import type { FlowLog } from './tcp-nat.js';
import type { Policy } from './policy.js';

/** Bounds on UDP flows. */
export interface UdpNatLimits {
  maxFlows: number;
  /** A flow with no datagram either way for this long is closed. */
  idleMs: number;
  /** Bytes of datagrams waiting in the stack's catch-all queue at most. */
  queueBytes: number;
}

interface UdpFlow {
  readonly id: number;
  readonly key: string;
  readonly guest: { address: IpAddr; port: number };
  readonly destination: { address: IpAddr; port: number };
  readonly hostAddress: string;
  readonly socket: dgram.Socket;
  timer: ReturnType<typeof setTimeout>;
  toHost: number;
  toGuest: number;
}

/** The UDP half of the NAT. */
export class UdpNat {
  private readonly driver: Driver;
  private readonly policy: Policy;
  private readonly limits: UdpNatLimits;
  private readonly counters: Counters;
  private readonly log: FlowLog;
  private readonly flows = new Map<string, UdpFlow>();
  private nextId = 1;
  private unsubscribe: (() => void) | null = null;

  constructor(
    driver: Driver,
    policy: Policy,
    limits: UdpNatLimits,
    counters: Counters,
    log: FlowLog,
  ) {
    this.driver = driver;
    this.policy = policy;
    this.limits = limits;
    this.counters = counters;
    this.log = log;
  }

  get flowCount(): number {
    return this.flows.size;
  }

  /** Starts intercepting the guest's datagrams. */
  start(): void {
    this.driver.stack.interceptUdp(
      (src, srcPort, dst, dstPort) => this.admit(src, srcPort, dst, dstPort),
      this.limits.queueBytes,
    );
    this.unsubscribe = this.driver.onEvent((event) => {
      if (event.type === 'udp-intercepted') this.drain();
    });
  }

  stop(): void {
    this.unsubscribe?.();
    for (const flow of [...this.flows.values()]) this.close(flow);
  }

  /** The stack's filter: an existing flow, or a new one that the policy and the limit allow. */
  private admit(src: IpAddr, srcPort: number, dst: IpAddr, dstPort: number): boolean {
    if (this.flows.has(flowKey(src, srcPort, dst, dstPort))) return true;
    const decision = this.policy.decide(dst);
    if (!decision.allowed) {
      this.counters.add(`udp-${decision.reason}`);
      return false;
    }
    if (this.flows.size >= this.limits.maxFlows) {
      this.counters.add('udp-refused-flow-limit');
      return false;
    }
    return true;
  }

  private drain(): void {
    const stack = this.driver.stack;
    for (let d = stack.receiveIntercepted(); d !== null; d = stack.receiveIntercepted()) {
      const key = flowKey(d.sourceAddress, d.sourcePort, d.destinationAddress, d.destinationPort);
      let flow = this.flows.get(key) ?? null;
      if (flow === null) {
        // Admitted by the filter a moment ago; the policy is asked again in
        // case the flow it matched has expired in between.
        const decision = this.policy.decide(d.destinationAddress);
        if (!decision.allowed || this.flows.size >= this.limits.maxFlows) continue;
        flow = this.open(key, d.sourceAddress, d.sourcePort, d, decision.host);
      }
      flow.toHost += d.data.length;
      this.touch(flow);
      flow.socket.send(d.data, d.destinationPort, flow.hostAddress);
    }
  }

  private open(
    key: string,
    guestAddress: IpAddr,
    guestPort: number,
    d: { destinationAddress: IpAddr; destinationPort: number },
    hostAddress: string,
  ): UdpFlow {
    const family = IpAddr.parse(hostAddress)?.family === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket(family);
    const flow: UdpFlow = {
      id: this.nextId++,
      key,
      guest: { address: guestAddress, port: guestPort },
      destination: { address: d.destinationAddress, port: d.destinationPort },
      hostAddress,
      socket,
      timer: setTimeout(() => this.close(flow), this.limits.idleMs),
      toHost: 0,
      toGuest: 0,
    };
    socket.on('message', (message, remote) => {
      // Only the destination's answers belong to this flow (a connected socket's rule).
      if (remote.port !== flow.destination.port || !sameHost(remote.address, hostAddress)) {
        this.counters.add('udp-foreign-reply');
        return;
      }
      flow.toGuest += message.length;
      this.touch(flow);
      this.driver.stack.sendUdpFrom(this.driver.now(), flow.destination, flow.guest, message);
      this.driver.kick();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.counters.add(`udp-error-${(error.code ?? 'eio').toLowerCase()}`);
    });
    this.flows.set(key, flow);
    this.counters.add('udp-flows-opened');
    this.log?.(`udp ${flow.id} ${text(flow.guest)} -> ${text(flow.destination)} opened`);
    return flow;
  }

  private touch(flow: UdpFlow): void {
    flow.timer.refresh();
  }

  private close(flow: UdpFlow): void {
    if (this.flows.get(flow.key) !== flow) return;
    this.flows.delete(flow.key);
    clearTimeout(flow.timer);
    flow.socket.close();
    this.counters.add('udp-flows-closed');
    this.counters.add('udp-bytes-to-host', flow.toHost);
    this.counters.add('udp-bytes-to-guest', flow.toGuest);
    this.log?.(
      `udp ${flow.id} ${text(flow.guest)} -> ${text(flow.destination)} closed: ` +
        `${flow.toHost} B to host, ${flow.toGuest} B to guest`,
    );
  }
}

function flowKey(src: IpAddr, srcPort: number, dst: IpAddr, dstPort: number): string {
  return `${src.text}|${srcPort}|${dst.text}|${dstPort}`;
}

function text(end: { address: IpAddr; port: number }): string {
  return end.address.family === 6
    ? `[${end.address.text}]:${end.port}`
    : `${end.address.text}:${end.port}`;
}

function sameHost(a: string, b: string): boolean {
  const x = IpAddr.parse(a);
  const y = IpAddr.parse(b);
  return x !== null && y !== null && x.equals(y);
}
