/**
 * The gateway: a transparent tcpts stack on a guest's link (a TAP device),
 * with the NAT (tcp-nat.ts, udp-nat.ts), the services a guest expects of
 * its network (DHCP, DNS, router advertisements) and port forwards from the
 * host into the guest. The addresses are slirp4netns's by default.
 */
import net from 'node:net';
import { openTap, type HostLink } from '../link/node/index.js';
import { createNet, type TcptsNet } from '../net/index.js';
import { RealDriver } from '../runtime/index.js';
import { IpAddr, linkLocalFromMac, parseCidr, type Cidr } from '../stack/index.js';
import { parseMacAddress } from '../wire/index.js';
import { Counters } from './counters.js';
import { DhcpServer } from './dhcp-server.js';
import { DnsForwarder, type DnsUpstream } from './dns-forwarder.js';
import { Policy, type GatewayAddresses } from './policy.js';
import { ADVERT_INTERVAL_MS, INITIAL_ADVERTS, routerAdvertFrame } from './router-advert.js';
import { splice } from './splice.js';
import { TcpNat, type FlowLog } from './tcp-nat.js';
import { UdpNat } from './udp-nat.js';

/** A port forward from the host into the guest. */
export interface PortForward {
  protocol: 'tcp';
  /** The host address the listener binds (127.0.0.1 by default). */
  hostAddress: string;
  hostPort: number;
  guestPort: number;
}

/** Everything a gateway is set up with. */
export interface GatewayOptions {
  /** The TAP device's name. */
  tap: string;
  /** The network namespace the device goes to (the guest's), or null for this one. */
  netns: string | null;
  mtu: number;
  /** The gateway's MAC on the guest link. */
  mac: string;
  network4: string;
  gateway4: string;
  dns4: string;
  guest4: string;
  network6: string;
  gateway6: string;
  dns6: string;
  /** Whether IPv6 is served at all (addresses, router advertisements). */
  ipv6: boolean;
  allowHostLoopback: boolean;
  allow: string[];
  deny: string[];
  dnsUpstream: DnsUpstream | null;
  forwards: PortForward[];
  maxTcpFlows: number;
  maxUdpFlows: number;
  flowBuffer: number;
  maxMemory: number;
  udpIdleMs: number;
  /** DHCP lease, seconds. */
  leaseTime: number;
  /** A line per flow, or null. */
  log: FlowLog;
}

/** slirp4netns's addresses and our limits. */
export const GATEWAY_DEFAULTS = {
  mtu: 1500,
  mac: '52:55:0a:00:02:02',
  network4: '10.0.2.0/24',
  gateway4: '10.0.2.2',
  dns4: '10.0.2.3',
  guest4: '10.0.2.100',
  network6: 'fd00::/64',
  gateway6: 'fd00::2',
  dns6: 'fd00::3',
  maxTcpFlows: 4096,
  maxUdpFlows: 1024,
  flowBuffer: 256 * 1024,
  maxMemory: 256 * 1024 * 1024,
  udpIdleMs: 60_000,
  leaseTime: 86_400,
} as const;

/** The addresses of the guest network, checked: each in its network. */
export function gatewayAddresses(options: GatewayOptions): GatewayAddresses {
  const network4 = parseCidr(options.network4);
  const network6 = parseCidr(options.network6);
  const inside = (text: string, network: Cidr, flag: string): IpAddr => {
    const address = IpAddr.parseOrThrow(text, flag);
    if (address.family !== network.address.family)
      throw new RangeError(`${flag} ${text} is not of the family of ${network.address.text}`);
    return address;
  };
  return {
    network4,
    gateway4: inside(options.gateway4, network4, '--gateway'),
    dns4: inside(options.dns4, network4, '--dns'),
    guest4: inside(options.guest4, network4, '--guest'),
    network6,
    gateway6: inside(options.gateway6, network6, '--gateway6'),
    dns6: inside(options.dns6, network6, '--dns6'),
  };
}

/** A running gateway. */
export class Gateway {
  readonly counters = new Counters();
  readonly driver: RealDriver;
  readonly stackNet: TcptsNet;
  readonly link: HostLink;
  readonly addresses: GatewayAddresses;
  private readonly tcp: TcpNat;
  private readonly udp: UdpNat;
  private readonly dhcp: DhcpServer;
  private readonly dns: DnsForwarder | null;
  private readonly forwardServers: net.Server[] = [];
  private advertTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  /** Opens the device and starts everything; throws an Error whose message says what failed. */
  constructor(options: GatewayOptions) {
    this.addresses = gatewayAddresses(options);
    const a = this.addresses;
    const mac = parseMacAddress(options.mac);
    if (mac === null) throw new RangeError(`--mac takes aa:bb:cc:dd:ee:ff, got '${options.mac}'`);
    const policy = new Policy({
      addresses: a,
      allowHostLoopback: options.allowHostLoopback,
      allow: options.allow,
      deny: options.deny,
    });
    this.link = openTap({
      name: options.tap,
      mtu: options.mtu,
      ...(options.netns !== null ? { netns: options.netns } : {}),
    });
    this.driver = new RealDriver({ stack: { transparent: true } });
    const stack = this.driver.stack;
    const addresses = [`${a.gateway4.text}/${a.network4.prefixLength}`, `${a.dns4.text}/32`];
    if (options.ipv6)
      addresses.push(`${a.gateway6.text}/${a.network6.prefixLength}`, `${a.dns6.text}/128`);
    const ifIndex = this.driver.attach(this.link, {
      name: this.link.name,
      mac: options.mac,
      addresses,
    });
    // DHCP answers a client without an address by broadcast (RFC 2131 §4.1).
    stack.addRoute('255.255.255.255/32', { ifIndex });
    this.link.onReadable(() => this.driver.wake());
    this.stackNet = createNet(this.driver);

    this.tcp = new TcpNat(
      this.driver,
      this.stackNet,
      policy,
      {
        maxFlows: options.maxTcpFlows,
        flowBuffer: options.flowBuffer,
        maxMemory: options.maxMemory,
      },
      this.counters,
      options.log,
    );
    this.udp = new UdpNat(
      this.driver,
      policy,
      { maxFlows: options.maxUdpFlows, idleMs: options.udpIdleMs, queueBytes: 4 << 20 },
      this.counters,
      options.log,
    );
    this.dhcp = new DhcpServer(
      this.driver,
      {
        server: a.gateway4,
        guest: a.guest4,
        prefixLength: a.network4.prefixLength,
        router: a.gateway4,
        dns: [a.dns4],
        leaseTime: options.leaseTime,
      },
      this.counters,
    );
    this.dns =
      options.dnsUpstream === null
        ? null
        : new DnsForwarder(
            this.driver,
            this.stackNet,
            options.ipv6 ? [a.dns4, a.dns6] : [a.dns4],
            options.dnsUpstream,
            this.counters,
          );
    this.tcp.start();
    this.udp.start();
    this.dhcp.start();
    this.dns?.start();
    for (const forward of options.forwards) this.startForward(forward);
    if (options.ipv6) this.startAdverts(mac, options.mtu);
  }

  /** Flows open now, TCP and UDP. */
  get flows(): { tcp: number; udp: number } {
    return { tcp: this.tcp.flowCount, udp: this.udp.flowCount };
  }

  /** Resolves once every port forward listens. */
  async ready(): Promise<void> {
    await Promise.all(
      this.forwardServers.map((server) =>
        server.listening
          ? Promise.resolve()
          : new Promise<void>((resolve, reject) => {
              server.once('listening', resolve);
              server.once('error', reject);
            }),
      ),
    );
  }

  /** Counters of the gateway and the stack's drops, one line. */
  summary(): string {
    const drops = Object.entries(this.driver.stack.stats().drops)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `stack-drop-${reason}=${n}`);
    const flows = this.flows;
    return [
      `tcp-flows-open=${flows.tcp}`,
      `udp-flows-open=${flows.udp}`,
      `tcp-buffered-bytes=${this.tcp.bufferedBytes()}`,
      this.counters.format(),
      ...drops,
    ]
      .filter((s) => s.length > 0)
      .join(' ');
  }

  /** Stops everything and closes the device. Twice is harmless. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.advertTimer !== null) clearTimeout(this.advertTimer);
    for (const server of this.forwardServers) server.close();
    this.tcp.stop();
    this.udp.stop();
    this.dhcp.stop();
    this.dns?.stop();
    this.driver.close();
    this.link.onReadable(null);
    this.link.close();
  }

  /** A host listener whose connections the gateway opens into the guest. */
  private startForward(forward: PortForward): void {
    const a = this.addresses;
    const server = net.createServer({ allowHalfOpen: true }, (host) => {
      this.counters.add('forward-connections');
      const guest = this.stackNet.connect({
        host: a.guest4.text,
        port: forward.guestPort,
        localAddress: a.gateway4.text,
        allowHalfOpen: true,
      });
      splice(host, guest, (totals) => {
        this.counters.add('forward-bytes-to-guest', totals.toHost);
        this.counters.add('forward-bytes-to-host', totals.toGuest);
      });
    });
    server.on('error', () => this.counters.add('forward-listen-error'));
    server.listen({ host: forward.hostAddress, port: forward.hostPort });
    this.forwardServers.push(server);
  }

  private startAdverts(mac: Uint8Array, mtu: number): void {
    const a = this.addresses;
    const frame = routerAdvertFrame({
      mac,
      linkLocal: linkLocalFromMac(mac),
      prefix: a.network6.address,
      prefixLength: a.network6.prefixLength,
      mtu,
    });
    let sent = 0;
    const advertise = (): void => {
      if (this.closed) return;
      this.link.send(this.driver.now(), frame);
      this.counters.add('ra-sent');
      sent++;
      this.advertTimer = setTimeout(advertise, sent < INITIAL_ADVERTS ? 1000 : ADVERT_INTERVAL_MS);
      this.advertTimer.unref();
    };
    advertise();
  }
}
