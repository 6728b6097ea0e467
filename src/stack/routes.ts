/**
 * Interfaces, their addresses and the routing table: longest-prefix match
 * (RFC 1812 §5.2.4.3), source address selection (RFC 6724 in miniature), a
 * per-destination route cache, and the path MTUs learned from ICMP, which
 * belong to destinations as routes do (RFC 1191 §6.3, RFC 8201 §5; Linux
 * keeps them with the route too).
 */
import type { Instant } from '../base/index.js';
import {
  IPV6_MIN_MTU,
  formatMacAddress,
  ipv6SolicitedNode,
  parseMacAddress,
  type MacAddress,
} from '../wire/index.js';
import {
  IpAddr,
  inPrefix,
  ipv4Broadcast,
  linkLocalFromMac,
  parseCidr,
  type Cidr,
} from './address.js';
import type { DropCounts } from './drop.js';

/** One network interface of a stack. */
export interface InterfaceOptions {
  /** A name for diagnostics ("eth0", "tun0"). */
  name?: string;
  /** `ethernet` frames (ARP/NDP resolve neighbours) or bare `ip` packets (as on a TUN device). */
  kind: 'ethernet' | 'ip';
  /** Largest IP packet the link carries (default 1500). */
  mtu?: number;
  /** The interface's MAC ("02:00:00:00:00:01"), ethernet only; default derived from the interface index. */
  mac?: string;
  /** Addresses with prefix ("10.0.0.2/24", "fd00::2/64"); each adds a connected route. */
  addresses?: string[];
  /**
   * The link needs no TCP checksums (a link endpoint's `checksumOffload`):
   * segments leave with 0 in the checksum field and arriving ones are not
   * verified, as on Linux's loopback. Default false. Ignored on a forwarding
   * stack: a router passes segments on to links that need the checksum.
   */
  checksumOffload?: boolean;
}

/** One interface as the stack keeps it. */
export interface NetInterface {
  index: number;
  name: string;
  kind: 'ethernet' | 'ip';
  mtu: number;
  mac: MacAddress;
  addresses: Cidr[];
  drops: DropCounts;
  framesIn: number;
  framesOut: number;
  /** See InterfaceOptions.checksumOffload. */
  checksumOffload: boolean;
}

interface Route {
  network: IpAddr;
  prefixLength: number;
  ifIndex: number;
  gateway: IpAddr | null;
}

/** Where a packet to some destination goes: out of which interface, to which next hop, from which source. */
export interface RouteResult {
  iface: NetInterface;
  nextHop: IpAddr;
  source: IpAddr;
}

/** Entries of the route cache before it starts afresh. */
const ROUTE_CACHE_MAX = 1024;
const MAX_PATH_MTU_ENTRIES = 4096;
/** Linux's min_pmtu (net.ipv4.route.min_pmtu): no IPv4 path MTU below it is believed. */
export const DEFAULT_MIN_PATH_MTU = 552;
/** RFC 8201 §4 suggests (and Linux's mtu_expires defaults to) 10 minutes before a lowered MTU is tried again. */
export const DEFAULT_PATH_MTU_EXPIRY = 600_000_000;

/** Path MTU policy of one stack (see StackOptions). */
export interface PathMtuOptions {
  /** Smallest IPv4 path MTU believed; ICMP reporting less is ignored. IPv6 never goes below 1280 (RFC 8201 §4). */
  minPathMtu: number;
  /** Microseconds a learned path MTU lasts before the interface MTU applies again. */
  pathMtuExpiry: number;
}

/** A path MTU learned from ICMP and when it stops applying. */
interface PathMtuEntry {
  mtu: number;
  expiresAt: Instant;
}
/** RFC 4291 §2.7.1: the all-nodes multicast group. */
export const IPV6_ALL_NODES = IpAddr.parse('ff02::1')!;

/** The interfaces and routes of one stack. */
export class Routing {
  readonly interfaces: NetInterface[] = [];
  private readonly routes: Route[] = [];
  private readonly forwarding: boolean;
  /** Routes by destination text, valid while {@link Routing.epoch} stands; for sendSegment. */
  private readonly routeCache = new Map<string | number, RouteResult | null>();
  /** Bumped whenever interfaces, addresses or routes change: the route cache is then stale. */
  private epoch = 0;
  private cacheEpoch = 0;
  /** Path MTUs learned from ICMP, by destination (RFC 1191, RFC 8201), oldest first. */
  private readonly pathMtus = new Map<string, PathMtuEntry>();
  private readonly minPathMtu: number;
  private readonly pathMtuExpiry: number;

  constructor(forwarding: boolean, pathMtu: PathMtuOptions) {
    this.forwarding = forwarding;
    if (!Number.isInteger(pathMtu.minPathMtu) || pathMtu.minPathMtu < 68) {
      throw new RangeError(
        `minPathMtu must be an integer of at least 68 (RFC 791), got ${pathMtu.minPathMtu}`,
      );
    }
    if (!(pathMtu.pathMtuExpiry > 0)) {
      throw new RangeError(
        `pathMtuExpiry must be a positive number of microseconds, got ${pathMtu.pathMtuExpiry}`,
      );
    }
    this.minPathMtu = pathMtu.minPathMtu;
    this.pathMtuExpiry = pathMtu.pathMtuExpiry;
  }

  /** Adds an interface; returns its index (used by `receiveFrame` and `OutgoingFrame`). */
  addInterface(options: InterfaceOptions): number {
    const index = this.interfaces.length;
    const mtu = options.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
      throw new RangeError(`interface MTU must be an integer in 68..65535, got ${mtu}`);
    }
    let mac: MacAddress = Uint8Array.of(0x02, 0, 0, 0, (index >> 8) & 0xff, (index + 1) & 0xff);
    if (options.mac !== undefined) {
      const parsed = parseMacAddress(options.mac);
      if (parsed === null)
        throw new TypeError(`invalid MAC address '${options.mac}': expected aa:bb:cc:dd:ee:ff`);
      mac = parsed;
    }
    const iface: NetInterface = {
      index,
      name: options.name ?? `if${index}`,
      kind: options.kind,
      mtu,
      mac,
      addresses: [],
      drops: {},
      framesIn: 0,
      framesOut: 0,
      checksumOffload: options.checksumOffload === true && !this.forwarding,
    };
    this.interfaces.push(iface);
    this.epoch++;
    if (options.kind === 'ethernet') {
      // RFC 4291 §2.1: every IPv6 interface has a link-local address.
      iface.addresses.push({ address: linkLocalFromMac(mac), prefixLength: 64 });
      this.routes.push({
        network: IpAddr.parse('fe80::')!,
        prefixLength: 64,
        ifIndex: index,
        gateway: null,
      });
    }
    for (const text of options.addresses ?? []) this.addAddress(index, text);
    return index;
  }

  /** Adds an address ("10.0.0.2/24") to an interface, with its connected route. */
  addAddress(ifIndex: number, cidrText: string): void {
    const iface = this.requireInterface(ifIndex);
    const cidr = parseCidr(cidrText);
    iface.addresses.push(cidr);
    this.epoch++;
    this.routes.push({
      network: cidr.address,
      prefixLength: cidr.prefixLength,
      ifIndex,
      gateway: null,
    });
  }

  /** Adds a route: `addRoute('0.0.0.0/0', { via: '10.0.0.1' })`, or to an interface directly. */
  addRoute(cidrText: string, target: { via?: string; ifIndex?: number }): void {
    const cidr = parseCidr(cidrText);
    const gateway = target.via !== undefined ? IpAddr.parseOrThrow(target.via, 'gateway') : null;
    let ifIndex = target.ifIndex;
    if (ifIndex === undefined) {
      if (gateway === null)
        throw new TypeError('addRoute needs a gateway (via) or an interface (ifIndex)');
      const r = this.route(gateway);
      if (r === null)
        throw new Error(
          `gateway ${gateway.text} is not on a connected network; add its interface address first`,
        );
      ifIndex = r.iface.index;
    }
    this.requireInterface(ifIndex);
    this.routes.push({ network: cidr.address, prefixLength: cidr.prefixLength, ifIndex, gateway });
    this.epoch++;
  }

  /** Interface facts for drivers: kind, MTU, MAC text. */
  interfaceInfo(ifIndex: number): {
    name: string;
    kind: 'ethernet' | 'ip';
    mtu: number;
    mac: string;
    addresses: string[];
  } {
    const iface = this.requireInterface(ifIndex);
    return {
      name: iface.name,
      kind: iface.kind,
      mtu: iface.mtu,
      mac: formatMacAddress(iface.mac),
      addresses: iface.addresses.map((a) => `${a.address.text}/${a.prefixLength}`),
    };
  }

  /** Changes an interface's MTU (e.g. to test path MTU discovery). */
  setMtu(ifIndex: number, mtu: number): void {
    this.requireInterface(ifIndex).mtu = mtu;
  }

  /** Longest-prefix match; the source address is the interface's address of that family. */
  route(dst: IpAddr): RouteResult | null {
    let best: Route | null = null;
    for (const r of this.routes) {
      if (
        inPrefix(dst, r.network, r.prefixLength) &&
        (best === null || r.prefixLength > best.prefixLength)
      )
        best = r;
    }
    // A local address routes to itself over its own interface (Linux uses lo; we keep it on the interface).
    if (best === null) return null;
    const iface = this.interfaces[best.ifIndex]!;
    const nextHop = best.gateway ?? dst;
    const source = this.sourceFor(iface, dst.family, dst);
    if (source === null) return null;
    return { iface, nextHop, source };
  }

  /**
   * {@link Routing.route} remembered per destination until interfaces,
   * addresses or routes change: a connection sends many segments to one
   * place. The result is shared, so nobody may change it.
   */
  cachedRoute(dst: IpAddr): RouteResult | null {
    const cache = this.routeCache;
    if (this.cacheEpoch !== this.epoch || cache.size >= ROUTE_CACHE_MAX) {
      cache.clear();
      this.cacheEpoch = this.epoch;
    }
    // IPv4 by number: no address text is formatted for a route.
    const key = dst.family === 4 ? dst.v4 : dst.text;
    let route = cache.get(key);
    if (route === undefined) {
      route = this.route(dst);
      cache.set(key, route);
    }
    return route;
  }

  /** The MTU to `dst`: the interface's, lowered by what ICMP told us of the path (RFC 1191, RFC 8201). */
  pathMtuTo(now: Instant, route: RouteResult, dst: IpAddr): number {
    const learned = this.learnedPathMtu(now, dst);
    return learned !== undefined && learned < route.iface.mtu ? learned : route.iface.mtu;
  }

  /** The smallest path MTU believed for a family: the option for IPv4, 1280 for IPv6 (RFC 8201 §4). */
  pathMtuFloor(family: 4 | 6): number {
    return family === 4 ? this.minPathMtu : IPV6_MIN_MTU;
  }

  /**
   * Remembers a smaller path MTU for a destination until it expires (bounded:
   * the oldest entries go first). The caller has checked that the news is
   * about a packet we sent (RFC 5927 §4); a value below the floor is ignored,
   * for a forger would otherwise shrink every later connection's segments.
   * Returns whether the path MTU changed.
   */
  learnPathMtu(now: Instant, dst: IpAddr, mtu: number): boolean {
    if (mtu < this.pathMtuFloor(dst.family)) return false;
    const before = this.learnedPathMtu(now, dst);
    if (before !== undefined && before <= mtu) return false;
    this.pathMtus.delete(dst.text);
    this.pathMtus.set(dst.text, { mtu, expiresAt: (now + this.pathMtuExpiry) as Instant });
    if (this.pathMtus.size > MAX_PATH_MTU_ENTRIES) {
      const oldest = this.pathMtus.keys().next().value;
      if (oldest !== undefined) this.pathMtus.delete(oldest);
    }
    return true;
  }

  /** RFC 6724 in miniature: same family, same scope (link-local for link-local), prefer the same subnet. */
  sourceFor(iface: NetInterface, family: 4 | 6, dst: IpAddr): IpAddr | null {
    let fallback: IpAddr | null = null;
    for (const a of iface.addresses) {
      if (a.address.family !== family) continue;
      if (family === 6 && a.address.isLinkLocal !== dst.isLinkLocal) {
        if (fallback === null && !dst.isLinkLocal) fallback = a.address;
        continue;
      }
      if (inPrefix(dst, a.address, a.prefixLength)) return a.address;
      if (fallback === null || (family === 6 && fallback.isLinkLocal)) fallback = a.address;
    }
    if (fallback !== null) return fallback;
    // Any address of the family on another interface (a host with several interfaces).
    for (const other of this.interfaces)
      for (const a of other.addresses)
        if (a.address.family === family && !a.address.isLinkLocal) return a.address;
    return null;
  }

  /**
   * Whether some interface has `address` (or, for IPv4, it is one of our
   * broadcast addresses, which Linux lets a socket bind to).
   */
  ownsAddress(address: IpAddr): boolean {
    if (address.family === 4) return this.isLocalV4(address.v4);
    for (const iface of this.interfaces) if (this.isLocalV6(iface, address)) return true;
    return false;
  }

  isLocalV4(address: number): boolean {
    if (address === 0xffffffff) return true;
    for (const iface of this.interfaces) {
      for (const a of iface.addresses) {
        if (a.address.family !== 4) continue;
        if (a.address.v4 === address) return true;
        if (a.prefixLength < 31 && ipv4Broadcast(a.address, a.prefixLength) === address)
          return true;
      }
    }
    return false;
  }

  isBroadcastV4(address: number): boolean {
    if (address === 0xffffffff) return true;
    for (const iface of this.interfaces) {
      for (const a of iface.addresses) {
        if (
          a.address.family === 4 &&
          a.prefixLength < 31 &&
          ipv4Broadcast(a.address, a.prefixLength) === address
        )
          return true;
      }
    }
    return false;
  }

  isLocalV6(iface: NetInterface, address: IpAddr): boolean {
    if (address.isMulticast) {
      if (address.equals(IPV6_ALL_NODES)) return true;
      // Solicited-node groups of our addresses (RFC 4291 §2.7.1).
      for (const a of iface.addresses) {
        if (
          a.address.family === 6 &&
          ipv6SolicitedNode(a.address.v6, new Uint8Array(16)).every((b, i) => b === address.v6[i])
        )
          return true;
      }
      return false;
    }
    for (const i of this.interfaces)
      for (const a of i.addresses)
        if (a.address.family === 6 && a.address.equals(address)) return true;
    return false;
  }

  acceptsMulticastMac(iface: NetInterface, mac: MacAddress): boolean {
    if ((mac[0]! & 1) === 0) return false;
    if (mac[0] === 0x33 && mac[1] === 0x33) {
      // IPv6 multicast: all-nodes and our solicited-node groups.
      if (mac[2] === 0 && mac[3] === 0 && mac[4] === 0 && mac[5] === 1) return true;
      for (const a of iface.addresses) {
        if (a.address.family !== 6) continue;
        const v6 = a.address.v6;
        if (mac[2] === 0xff && mac[3] === v6[13] && mac[4] === v6[14] && mac[5] === v6[15])
          return true;
      }
    }
    return false;
  }

  requireInterface(ifIndex: number): NetInterface {
    const iface = this.interfaces[ifIndex];
    if (iface === undefined)
      throw new RangeError(`no interface ${ifIndex}; the stack has ${this.interfaces.length}`);
    return iface;
  }

  /**
   * The path MTU learned for `dst`, if any and not yet expired. An expired
   * entry is forgotten here, so the interface MTU applies again (RFC 8201
   * §4: try a larger MTU again after a while; no timer is needed for that).
   */
  learnedPathMtu(now: Instant, dst: IpAddr): number | undefined {
    if (this.pathMtus.size === 0) return undefined;
    const entry = this.pathMtus.get(dst.text);
    if (entry === undefined) return undefined;
    if (now >= entry.expiresAt) {
      this.pathMtus.delete(dst.text);
      return undefined;
    }
    return entry.mtu;
  }

  /** How many destinations have a learned path MTU (expired ones may still count until looked up). */
  get pathMtuEntries(): number {
    return this.pathMtus.size;
  }
}
