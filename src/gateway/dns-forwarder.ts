/**
 * The gateway's DNS service at the DNS address (10.0.2.3 by default): each
 * query, over UDP or TCP (RFC 1035 §4.2, RFC 7766), is checked and then
 * forwarded as it is to one upstream server (by default the host's first
 * nameserver in /etc/resolv.conf), and the answer goes back unchanged but
 * for the ID. Raw forwarding is exact: whatever record types, EDNS or DNSSEC
 * bits the guest asks for, the upstream answers. Malformed queries and
 * answers are dropped and counted by reason.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { Driver } from '../runtime/index.js';
import type { Server, Socket as StackSocket, TcptsNet } from '../net/index.js';
import { IpAddr, type UdpSocket } from '../stack/index.js';
import type { Counters } from './counters.js';
import { checkDnsAnswer, checkDnsQuery, dnsId, withDnsId } from './dns-wire.js';

const DNS_PORT = 53;
/** How long a query waits for its answer before it is forgotten (the guest retries). */
const QUERY_TIMEOUT_MS = 5000;
/** Queries waiting for an answer at once; more are dropped and counted. */
const MAX_PENDING = 512;
/** A TCP query may be at most 65535 bytes (RFC 1035 §4.2.2: a two-byte length). */
const TCP_LENGTH_BYTES = 2;

/** An upstream DNS server. */
export interface DnsUpstream {
  address: string;
  port: number;
}

/**
 * Parses `ADDR`, `ADDR:PORT` or `[ADDR6]:PORT`; throws a RangeError that
 * says what was expected.
 */
export function parseDnsUpstream(text: string): DnsUpstream {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain4 = /^([\d.]+)(?::(\d+))?$/.exec(text);
  let address: string | undefined;
  let port: string | undefined;
  if (bracket !== null) [, address, port] = bracket;
  else if (plain4 !== null) [, address, port] = plain4;
  else if (IpAddr.parse(text) !== null) address = text;
  const number = port === undefined ? DNS_PORT : Number(port);
  if (
    address === undefined ||
    IpAddr.parse(address) === null ||
    !Number.isInteger(number) ||
    number < 1 ||
    number > 65535
  ) {
    throw new RangeError(
      `--dns-upstream takes ADDR, ADDR:PORT or [ADDR6]:PORT (e.g. 1.1.1.1 or 127.0.0.1:5353), got '${text}'`,
    );
  }
  return { address: IpAddr.parse(address)!.text, port: number };
}

/** The first `nameserver` of resolv.conf(5), or null. */
export function systemDnsUpstream(path = '/etc/resolv.conf'): DnsUpstream | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m === null) continue;
    // A scoped IPv6 address (fe80::1%eth0) keeps its zone out of IpAddr.
    const address = IpAddr.parse(m[1]!.split('%')[0]!);
    if (address !== null) return { address: address.text, port: DNS_PORT };
  }
  return null;
}

/** The DNS forwarder of a gateway. */
export class DnsForwarder {
  private readonly driver: Driver;
  private readonly stackNet: TcptsNet;
  private readonly addresses: IpAddr[];
  private readonly upstream: DnsUpstream;
  private readonly counters: Counters;
  private readonly udpSockets: UdpSocket[] = [];
  private readonly tcpServers: Server[] = [];
  private pending = 0;
  private unsubscribe: (() => void) | null = null;
  private readonly upstreamFamily: 'udp4' | 'udp6';

  constructor(
    driver: Driver,
    stackNet: TcptsNet,
    addresses: IpAddr[],
    upstream: DnsUpstream,
    counters: Counters,
  ) {
    this.driver = driver;
    this.stackNet = stackNet;
    this.addresses = addresses;
    this.upstream = upstream;
    this.counters = counters;
    this.upstreamFamily = IpAddr.parse(upstream.address)?.family === 6 ? 'udp6' : 'udp4';
  }

  start(): void {
    for (const address of this.addresses) {
      const socket = this.driver.stack.bindUdp({ host: address.text, port: DNS_PORT });
      this.udpSockets.push(socket);
      const server = this.stackNet.createServer((s) => this.serveTcp(s));
      server.listen({ host: address.text, port: DNS_PORT });
      this.tcpServers.push(server);
    }
    this.unsubscribe = this.driver.onEvent((event) => {
      if (event.type === 'udp' && this.udpSockets.includes(event.socket)) this.drain(event.socket);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    for (const s of this.udpSockets) s.close();
    for (const s of this.tcpServers) s.close();
  }

  private drain(socket: UdpSocket): void {
    for (let d = socket.receive(); d !== null; d = socket.receive()) {
      const bad = checkDnsQuery(d.data);
      if (bad !== null) {
        this.counters.add(bad);
        continue;
      }
      if (this.pending >= MAX_PENDING) {
        this.counters.add('dns-dropped-busy');
        continue;
      }
      this.counters.add('dns-udp-queries');
      const guest = { address: d.address, port: d.port };
      this.forwardUdp(d.data, (answer) => {
        socket.sendTo(this.driver.now(), answer, guest.address, guest.port);
        this.driver.kick();
      });
    }
  }

  /** One query upstream over UDP, on a socket of its own (a fresh source port and ID each time). */
  private forwardUdp(query: Uint8Array, reply: (answer: Uint8Array) => void): void {
    this.pending++;
    const id = randomInt(0x10000);
    const originalId = dnsId(query);
    const upstream = dgram.createSocket(this.upstreamFamily);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.pending--;
      clearTimeout(timer);
      upstream.close();
    };
    const timer = setTimeout(() => {
      this.counters.add('dns-upstream-timeout');
      finish();
    }, QUERY_TIMEOUT_MS);
    upstream.on('error', () => {
      this.counters.add('dns-upstream-error');
      finish();
    });
    upstream.on('message', (message, remote) => {
      if (remote.port !== this.upstream.port) return;
      const bad = checkDnsAnswer(message, id);
      if (bad !== null) {
        this.counters.add(bad);
        return;
      }
      finish();
      reply(withDnsId(message, originalId));
    });
    upstream.send(withDnsId(query, id), this.upstream.port, this.upstream.address);
  }

  /**
   * DNS over TCP: messages with a two-byte length (RFC 1035 §4.2.2), each
   * checked and forwarded upstream over TCP, the answer framed back.
   */
  private serveTcp(socket: StackSocket): void {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('end', () => socket.end());
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= TCP_LENGTH_BYTES) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < TCP_LENGTH_BYTES + length) break;
        const query = new Uint8Array(
          buffered.subarray(TCP_LENGTH_BYTES, TCP_LENGTH_BYTES + length),
        );
        buffered = buffered.subarray(TCP_LENGTH_BYTES + length);
        const bad = checkDnsQuery(query);
        if (bad !== null) {
          this.counters.add(bad);
          continue;
        }
        if (this.pending >= MAX_PENDING) {
          this.counters.add('dns-dropped-busy');
          continue;
        }
        this.counters.add('dns-tcp-queries');
        this.forwardTcp(query, (answer) => {
          if (socket.destroyed || !socket.writable) return;
          const framed = Buffer.alloc(TCP_LENGTH_BYTES + answer.length);
          framed.writeUInt16BE(answer.length, 0);
          framed.set(answer, TCP_LENGTH_BYTES);
          socket.write(framed);
        });
      }
    });
  }

  /** One query upstream over TCP, so that large answers arrive whole. */
  private forwardTcp(query: Uint8Array, reply: (answer: Uint8Array) => void): void {
    this.pending++;
    const id = randomInt(0x10000);
    const originalId = dnsId(query);
    const upstream = net.connect({ host: this.upstream.address, port: this.upstream.port });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.pending--;
      upstream.destroy();
    };
    upstream.setTimeout(QUERY_TIMEOUT_MS, () => {
      this.counters.add('dns-upstream-timeout');
      finish();
    });
    upstream.on('error', () => {
      this.counters.add('dns-upstream-error');
      finish();
    });
    upstream.on('close', finish);
    upstream.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < TCP_LENGTH_BYTES) return;
      const length = received.readUInt16BE(0);
      if (received.length < TCP_LENGTH_BYTES + length) return;
      const answer = new Uint8Array(received.subarray(TCP_LENGTH_BYTES, TCP_LENGTH_BYTES + length));
      finish();
      const bad = checkDnsAnswer(answer, id);
      if (bad !== null) {
        this.counters.add(bad);
        return;
      }
      reply(withDnsId(answer, originalId));
    });
    const framed = Buffer.alloc(TCP_LENGTH_BYTES + query.length);
    framed.writeUInt16BE(query.length, 0);
    framed.set(withDnsId(query, id), TCP_LENGTH_BYTES);
    upstream.write(framed);
  }
}
