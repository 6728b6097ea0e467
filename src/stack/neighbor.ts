/**
 * Neighbours: ARP (RFC 826) and NDP address resolution (RFC 4861 §7.2).
 * NeighborDiscovery (at the end) speaks them on the wire; the neighbour cache
 * it keeps answers which link address stands for an IP address on an
 * interface. The cache never sends anything itself; it tells its owner when
 * to solicit, holds packets while a neighbour resolves, and hands them back
 * when the answer comes.
 *
 * Neighbour Unreachability Detection is a simplified RFC 4861 §7.3.2:
 *
 * - INCOMPLETE: a solicitation went out, packets wait. Every
 *   `retransmitInterval` another goes out (RFC 4861 §7.2.2 RetransTimer);
 *   after `maxProbes` solicitations without an answer (MAX_MULTICAST_SOLICIT)
 *   the entry is removed and its packets are handed back as failed (RFC 4861
 *   §7.3.3; the caller sends ICMP destination unreachable for them).
 * - REACHABLE: resolved within the last `reachableTime`.
 * - STALE: older than `reachableTime`. Following RFC 4861 §7.3.3 a stale entry
 *   is still used, so `lookup` keeps answering with its MAC.
 * - DELAY: a stale entry was used; if nothing confirms it within
 *   `delayFirstProbe` (RFC 4861 DELAY_FIRST_PROBE_TIME, 5 s) it moves to
 * - PROBE: unicast solicitations to the cached MAC every `retransmitInterval`,
 *   at most `maxUnicastProbes` (RFC 4861 MAX_UNICAST_SOLICIT 3; Linux
 *   ucast_solicit 3); no answer removes the entry, so the next packet starts a
 *   new (broadcast) resolution. This is what recovers from a cached MAC that
 *   is wrong — a neighbour that changed its card, or an ARP reply damaged on
 *   the way (found by the simulator, seed 4199).
 *
 * Confirmation comes only from ARP/NDP (an update), not from upper layers
 * (Linux also takes TCP's forward progress as a hint, dst_confirm), so a busy
 * entry is probed once per reachable period; the probes are unicast and cheap.
 *
 * RFC 4861 §6.3.2 randomises ReachableTime between 0.5 and 1.5 times the base
 * (Linux does too); here it is exactly `reachableTime`, which keeps the cache
 * free of randomness and simulations easy to read.
 *
 * A failed entry is removed rather than kept in a FAILED state: the next
 * packet for it starts a new resolution at once, which is what Linux does for
 * a NUD_FAILED entry that gets traffic.
 */
import type { Duration, Instant } from '../base/index.js';
import { NEVER, later, seconds } from '../base/index.js';
import {
  ArpOperation,
  EtherType,
  IPV6_HEADER_LENGTH,
  Icmpv6Type,
  IpProtocol,
  MAC_BROADCAST,
  NDP_HOP_LIMIT,
  NeighborAdvertFlags,
  emitArp,
  emitIcmpv6,
  emitIpv6,
  icmpv6Length,
  ipv6MulticastMac,
  ipv6SolicitedNode,
  isDropReason,
  parseArp,
  type Icmpv6Repr,
  type MacAddress,
} from '../wire/index.js';
import { IpAddr, ipv4Broadcast } from './address.js';
import { StackDropReason, countDrop, countInterfaceDrop, type DropCounts } from './drop.js';
import { HEADROOM, type TxQueue } from './frames.js';
import { IPV6_ALL_NODES, type NetInterface, type Routing } from './routes.js';

/** Tunables of a {@link NeighborCache}. */
export interface NeighborConfig {
  /**
   * How long a resolved entry counts as reachable (RFC 4861 §10
   * REACHABLE_TIME 30 s; Linux base_reachable_time 30 s). After that it is
   * stale but still used.
   */
  reachableTime: Duration;
  /** Time between solicitations while resolving (RFC 4861 §10 RETRANS_TIMER 1 s; Linux retrans_time). */
  retransmitInterval: Duration;
  /**
   * Solicitations sent before resolution fails, counting the first (RFC 4861
   * §10 MAX_MULTICAST_SOLICIT 3; Linux mcast_solicit 3). At least 1.
   */
  maxProbes: number;
  /** RFC 4861 DELAY_FIRST_PROBE_TIME (5 s): grace before a used stale entry is probed. */
  delayFirstProbe?: Duration;
  /** RFC 4861 MAX_UNICAST_SOLICIT (3; Linux ucast_solicit): unicast probes before the entry is dropped. */
  maxUnicastProbes?: number;
  /**
   * Packets held per unresolved neighbour; the oldest is dropped beyond it,
   * like Linux's arp_queue. Linux bounds it in bytes (unres_qlen_bytes); we
   * count packets.
   */
  maxQueuePerNeighbor: number;
  /**
   * Most entries in the cache (Linux gc_thresh3 is 1024). Stale entries are
   * evicted first, oldest first, then reachable ones; entries still
   * resolving are never evicted.
   */
  maxEntries: number;
}

/** Defaults that match Linux and RFC 4861 §10. */
export const DEFAULT_NEIGHBOR_CONFIG: NeighborConfig = {
  reachableTime: 30_000_000 as Duration,
  retransmitInterval: 1_000_000 as Duration,
  maxProbes: 3,
  maxQueuePerNeighbor: 100,
  maxEntries: 1024,
};

/** A packet held while its next hop resolves: the ethertype and the bytes above the Ethernet header. */
export interface QueuedPacket {
  ethertype: number;
  packet: Uint8Array;
}

/** The NUD states this cache uses (a subset of RFC 4861 §7.3.2). */
export const NeighborState = {
  /** Resolution in progress: solicitations out, packets waiting. */
  Incomplete: 'incomplete',
  /** Confirmed within the last `reachableTime`. */
  Reachable: 'reachable',
  /** Not confirmed recently; still used (RFC 4861 §7.3.3). */
  Stale: 'stale',
  /** Stale and used: waiting `delayFirstProbe` for a confirmation before probing. */
  Delay: 'delay',
  /** Unicast solicitations out to the cached MAC; still used meanwhile. */
  Probe: 'probe',
} as const;

/** One of the values of {@link NeighborState}. */
export type NeighborState = (typeof NeighborState)[keyof typeof NeighborState];

/** One cache entry. Every field is set in the constructor (stable shape). */
class Entry {
  key: string;
  /** A private copy of the link address, or null while incomplete. */
  mac: MacAddress | null;
  state: NeighborState;
  /** Next retransmission (incomplete), end of reachability (reachable), or NEVER (stale). */
  deadline: Instant;
  /** Solicitations sent so far in this resolution. */
  probes: number;
  /** When the MAC was last recorded (for eviction order); creation time while incomplete. */
  updatedAt: Instant;
  /** Packets waiting for resolution, oldest first. Empty once resolved. */
  queue: QueuedPacket[];

  constructor(key: string, now: Instant) {
    this.key = key;
    this.mac = null;
    this.state = NeighborState.Incomplete;
    this.deadline = NEVER;
    this.probes = 0;
    this.updatedAt = now;
    this.queue = [];
  }
}

/**
 * ARP / NDP resolution cache, sans-IO. Keys are built by the caller
 * (`${ifIndex}/${addressText}`), so one cache serves every interface and both
 * families. Time comes in as `now`; deadlines go out through `pollTimeout()`.
 */
export class NeighborCache {
  private readonly config: NeighborConfig;
  private readonly table: Map<string, Entry>;
  private readonly delayFirstProbe: Duration;
  private readonly maxUnicastProbes: number;
  /** Earliest deadline of any entry, valid unless `deadlineDirty`. */
  private nextDeadline: Instant;
  /** Set when the entry holding `nextDeadline` moved or went; `pollTimeout` then rescans. */
  private deadlineDirty: boolean;

  /** Throws if a setting is out of range (API misuse). */
  constructor(config: NeighborConfig) {
    checkPositive(config.reachableTime, 'reachableTime');
    checkPositive(config.retransmitInterval, 'retransmitInterval');
    checkCount(config.maxProbes, 'maxProbes', 1);
    checkCount(config.maxQueuePerNeighbor, 'maxQueuePerNeighbor', 0);
    checkCount(config.maxEntries, 'maxEntries', 1);
    this.config = { ...config };
    this.delayFirstProbe = config.delayFirstProbe ?? (5_000_000 as Duration);
    this.maxUnicastProbes = config.maxUnicastProbes ?? 3;
    this.table = new Map();
    this.nextDeadline = NEVER;
    this.deadlineDirty = false;
  }

  /** Number of entries, in any state. */
  get size(): number {
    return this.table.size;
  }

  /**
   * The MAC for `key` if resolved, else null. A stale entry still answers
   * (RFC 4861 §7.3.3; see the module comment for why we do not re-probe).
   * The returned array is the cache's own copy: do not modify it.
   */
  lookup(now: Instant, key: string): MacAddress | null {
    const e = this.table.get(key);
    if (e === undefined || e.mac === null) return null;
    if (e.state === NeighborState.Reachable && now >= e.deadline) this.makeStale(e);
    if (e.state === NeighborState.Stale) {
      // RFC 4861 §7.3.3: using a stale entry starts the DELAY timer.
      e.state = NeighborState.Delay;
      this.setDeadline(e, later(now, this.delayFirstProbe));
    }
    return e.mac;
  }

  /**
   * Holds `item` until `key` resolves. `solicit` is true when the caller
   * should send a solicitation (ARP request or NS) now: for the first packet
   * to an unknown neighbour. Later packets only queue; the retransmissions
   * come from `handleTimeout`. When the neighbour's queue is full the oldest
   * packet is dropped and returned in `dropped` (Linux drops the head of
   * arp_queue too). When the cache is full of entries that are all still
   * resolving, no entry can be made and `item` itself comes back as
   * `dropped`, with `solicit` false.
   *
   * Throws if `key` is already resolved: call `lookup` first (API misuse).
   */
  enqueue(
    now: Instant,
    key: string,
    item: QueuedPacket,
  ): { solicit: boolean; dropped: QueuedPacket | null } {
    let e = this.table.get(key);
    let solicit = false;
    if (e === undefined) {
      if (!this.makeRoom()) return { solicit: false, dropped: item };
      e = new Entry(key, now);
      e.probes = 1;
      this.table.set(key, e);
      this.setDeadline(e, later(now, this.config.retransmitInterval));
      solicit = true;
    } else if (e.state !== NeighborState.Incomplete) {
      throw new Error(
        `NeighborCache.enqueue: ${key} is already resolved; call lookup() first and enqueue only when it returns null`,
      );
    }
    if (this.config.maxQueuePerNeighbor === 0) return { solicit, dropped: item };
    let dropped: QueuedPacket | null = null;
    // Array#shift only on this overflow path, bounded by maxQueuePerNeighbor.
    if (e.queue.length >= this.config.maxQueuePerNeighbor) dropped = e.queue.shift() ?? null;
    e.queue.push(item);
    return { solicit, dropped };
  }

  /**
   * Records `mac` for `key` (from an ARP reply or request, an NA, or an NS
   * with a source link-layer address option), creating the entry if needed,
   * and marks it reachable. Returns the packets that were waiting, oldest
   * first, now to be sent to `mac`. `mac` is copied.
   *
   * Whether an unsolicited message may create or override an entry (RFC 826's
   * merge flag, RFC 4861 §7.2.5's Override flag) is the caller's decision;
   * this records whatever it is given. When the cache is full of entries
   * that are all resolving, a new key is not recorded.
   */
  update(now: Instant, key: string, mac: MacAddress): QueuedPacket[] {
    let e = this.table.get(key);
    if (e === undefined) {
      if (!this.makeRoom()) return [];
      e = new Entry(key, now);
      this.table.set(key, e);
    }
    if (e.mac === null || !sameBytes(e.mac, mac)) e.mac = mac.slice(); // slice: a copy, the input may be a view
    e.state = NeighborState.Reachable;
    e.probes = 0;
    e.updatedAt = now;
    this.setDeadline(e, later(now, this.config.reachableTime));
    if (e.queue.length === 0) return [];
    const waiting = e.queue;
    e.queue = [];
    return waiting;
  }

  /** The earliest deadline: a retransmission or the end of a reachable period; NEVER if none. */
  pollTimeout(): Instant {
    if (this.deadlineDirty) this.recomputeDeadline();
    return this.nextDeadline;
  }

  /**
   * Runs the timers due at `now`. Returns the keys to solicit again, and the
   * keys whose resolution failed after `maxProbes` solicitations, each with
   * the packets that were waiting (dropped: 'neighbor-unresolved'). Failed
   * entries are removed. A late or early call is harmless.
   */
  handleTimeout(now: Instant): {
    solicit: string[];
    failed: Array<{ key: string; packets: QueuedPacket[] }>;
    probe: Array<{ key: string; mac: MacAddress }>;
  } {
    const solicit: string[] = [];
    const probe: Array<{ key: string; mac: MacAddress }> = [];
    const failed: Array<{ key: string; packets: QueuedPacket[] }> = [];
    let next = NEVER;
    // Deleting the current entry while iterating a Map is well defined.
    for (const e of this.table.values()) {
      if (e.deadline <= now) {
        if (e.state === NeighborState.Incomplete) {
          if (e.probes < this.config.maxProbes) {
            // RFC 4861 §7.2.2: retransmit every RetransTimer. From `now`, so a late call
            // does not fire a burst of catch-up solicitations.
            e.probes++;
            e.deadline = later(now, this.config.retransmitInterval);
            solicit.push(e.key);
          } else {
            // RFC 4861 §7.3.3: no answer after MAX_MULTICAST_SOLICIT; give up on the packets.
            this.table.delete(e.key);
            failed.push({ key: e.key, packets: e.queue });
            continue;
          }
        } else if (e.state === NeighborState.Reachable) {
          this.makeStale(e);
        } else if (e.state === NeighborState.Delay || e.state === NeighborState.Probe) {
          if (e.state === NeighborState.Delay) {
            e.state = NeighborState.Probe;
            e.probes = 0;
          }
          if (e.probes < this.maxUnicastProbes && e.mac !== null) {
            // RFC 4861 §7.3.3: unicast solicitations to the cached address.
            e.probes++;
            e.deadline = later(now, this.config.retransmitInterval);
            probe.push({ key: e.key, mac: e.mac });
          } else {
            // No answer: forget it; the next packet resolves afresh by broadcast.
            this.table.delete(e.key);
            continue;
          }
        }
      }
      if (e.deadline < next) next = e.deadline;
    }
    this.nextDeadline = next;
    this.deadlineDirty = false;
    return { solicit, failed, probe };
  }

  /** Every entry, for diagnostics (an `ip neigh`-like listing). MACs are copies. */
  entries(): Array<{ key: string; mac: MacAddress | null; state: string }> {
    const out: Array<{ key: string; mac: MacAddress | null; state: string }> = [];
    for (const e of this.table.values()) {
      out.push({ key: e.key, mac: e.mac === null ? null : e.mac.slice(), state: e.state });
    }
    return out;
  }

  /** Forgets `key` (for example when an address is removed); returns its waiting packets. */
  remove(key: string): QueuedPacket[] {
    const e = this.table.get(key);
    if (e === undefined) return [];
    this.table.delete(key);
    if (e.deadline === this.nextDeadline) this.deadlineDirty = true;
    return e.queue;
  }

  private makeStale(e: Entry): void {
    e.state = NeighborState.Stale;
    if (e.deadline === this.nextDeadline) this.deadlineDirty = true;
    e.deadline = NEVER;
  }

  private setDeadline(e: Entry, deadline: Instant): void {
    if (e.deadline === this.nextDeadline && deadline > e.deadline) this.deadlineDirty = true;
    e.deadline = deadline;
    if (deadline < this.nextDeadline) this.nextDeadline = deadline;
  }

  private recomputeDeadline(): void {
    let next = NEVER;
    for (const e of this.table.values()) if (e.deadline < next) next = e.deadline;
    this.nextDeadline = next;
    this.deadlineDirty = false;
  }

  /**
   * Makes space for one more entry when the cache is full: evicts the stale
   * entry recorded longest ago, else the oldest reachable one. Entries still
   * resolving hold packets and are kept (Linux's forced GC likewise spares
   * entries in use). Returns false when nothing can go.
   */
  private makeRoom(): boolean {
    if (this.table.size < this.config.maxEntries) return true;
    let stale: Entry | null = null;
    let reachable: Entry | null = null;
    for (const e of this.table.values()) {
      if (e.state === NeighborState.Stale) {
        if (stale === null || e.updatedAt < stale.updatedAt) stale = e;
      } else if (e.state !== NeighborState.Incomplete) {
        if (reachable === null || e.updatedAt < reachable.updatedAt) reachable = e;
      }
    }
    const victim = stale ?? reachable;
    if (victim === null) return false;
    this.remove(victim.key);
    return true;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkPositive(d: number, what: string): void {
  if (!Number.isFinite(d) || d <= 0) {
    throw new RangeError(`NeighborConfig.${what} must be a positive duration, got ${d}`);
  }
}

function checkCount(n: number, what: string, min: number): void {
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`NeighborConfig.${what} must be an integer >= ${min}, got ${n}`);
  }
}

/**
 * ARP (RFC 826) and NDP's address resolution (RFC 4861 §7.2) on the wire:
 * the requests and answers around the {@link NeighborCache}, and the frames
 * that wait for them.
 */
export class NeighborDiscovery {
  readonly cache: NeighborCache;
  private readonly routing: Routing;
  private readonly tx: TxQueue;
  private readonly drops: DropCounts;
  /** A router says so in its neighbour advertisements (RFC 4861 §4.4 R flag). */
  private readonly router: boolean;

  constructor(routing: Routing, tx: TxQueue, drops: DropCounts, router: boolean) {
    this.routing = routing;
    this.tx = tx;
    this.drops = drops;
    this.router = router;
    this.cache = new NeighborCache({
      reachableTime: seconds(30),
      retransmitInterval: seconds(1),
      maxProbes: 3,
      maxQueuePerNeighbor: 100,
      maxEntries: 4096,
    });
  }

  /** Entries in the cache. */
  get size(): number {
    return this.cache.size;
  }

  pollTimeout(): Instant {
    return this.cache.pollTimeout();
  }

  /**
   * Runs the cache's timers: sends the solicitations and probes due, and
   * returns the entries whose resolution failed, with the packets that
   * waited for them (the caller tells their senders).
   */
  handleTimeout(now: Instant): Array<{ key: string; packets: QueuedPacket[] }> {
    const { solicit, failed, probe } = this.cache.handleTimeout(now);
    for (const key of solicit) this.solicitKey(key);
    for (const p of probe) this.solicitKey(p.key, p.mac);
    return failed;
  }

  /**
   * Sends an IP packet (in `buffer`, after HEADROOM) over Ethernet to
   * `nextHop`: at once when its MAC is known, else after resolution.
   */
  transmit(
    now: Instant,
    iface: NetInterface,
    nextHop: IpAddr,
    dst: IpAddr,
    ethertype: number,
    buffer: Uint8Array,
  ): void {
    const mac = this.resolveMac(now, iface, nextHop, dst);
    if (mac !== null) {
      this.tx.ethernet(iface, mac, ethertype, buffer);
      return;
    }
    const key = neighborKey(iface.index, nextHop);
    const { solicit, dropped } = this.cache.enqueue(now, key, { ethertype, packet: buffer });
    if (dropped !== null) countDrop(iface.drops, StackDropReason.NeighborQueueFull);
    if (solicit) this.solicit(iface, nextHop);
  }

  /** Destination MAC without resolution, or null if the neighbour cache must be asked. */
  private resolveMac(
    now: Instant,
    iface: NetInterface,
    nextHop: IpAddr,
    dst: IpAddr,
  ): MacAddress | null {
    if (dst.isMulticast) {
      if (dst.family === 6) return ipv6MulticastMac(dst.v6, new Uint8Array(6));
      return Uint8Array.of(
        0x01,
        0x00,
        0x5e,
        (dst.v4 >>> 16) & 0x7f,
        (dst.v4 >>> 8) & 0xff,
        dst.v4 & 0xff,
      );
    }
    if (dst.family === 4) {
      if (dst.v4 === 0xffffffff) return MAC_BROADCAST;
      for (const a of iface.addresses) {
        if (
          a.address.family === 4 &&
          ipv4Broadcast(a.address, a.prefixLength) === dst.v4 &&
          a.prefixLength < 31
        )
          return MAC_BROADCAST;
      }
    }
    return this.cache.lookup(now, neighborKey(iface.index, nextHop));
  }

  /** ARP request (RFC 826) or neighbour solicitation (RFC 4861 §7.2.2) for `target`. */
  private solicit(iface: NetInterface, target: IpAddr, unicastMac?: MacAddress): void {
    if (target.family === 4) {
      const source = this.routing.sourceFor(iface, 4, target);
      const buffer = new Uint8Array(HEADROOM + 28);
      emitArp(
        {
          operation: ArpOperation.Request,
          senderHardware: iface.mac,
          senderProtocol: source === null ? 0 : source.v4,
          targetHardware: new Uint8Array(6),
          targetProtocol: target.v4,
        },
        buffer.subarray(HEADROOM),
      );
      // RFC 4861-style unicast probes are ARP requests sent to the cached MAC (as Linux's arp_solicit).
      this.tx.ethernet(iface, unicastMac?.slice() ?? MAC_BROADCAST, EtherType.Arp, buffer);
      return;
    }
    const source = this.routing.sourceFor(iface, 6, target);
    if (source === null) return;
    if (unicastMac !== undefined) {
      // RFC 4861 §7.2.2: a NUD probe is an NS sent to the target's own address and MAC.
      const probeNs: Icmpv6Repr = {
        type: Icmpv6Type.NeighborSolicitation,
        target: target.v6,
        sourceLinkLayer: iface.mac,
      };
      const probeBody = new Uint8Array(icmpv6Length(probeNs));
      emitIcmpv6(probeNs, source.v6, target.v6, probeBody);
      const probeBuffer = ndpPacket(source, target, probeBody);
      this.tx.ethernet(iface, unicastMac.slice(), EtherType.Ipv6, probeBuffer);
      return;
    }
    const group = IpAddr.fromV6(ipv6SolicitedNode(target.v6, new Uint8Array(16)));
    const ns: Icmpv6Repr = {
      type: Icmpv6Type.NeighborSolicitation,
      target: target.v6,
      sourceLinkLayer: iface.mac,
    };
    const body = new Uint8Array(icmpv6Length(ns));
    emitIcmpv6(ns, source.v6, group.v6, body);
    // The same packet IP output would build (hop limit 255 for NDP, RFC 4861
    // §7.1), sent to the group's multicast MAC (RFC 2464 §7).
    const buffer = ndpPacket(source, group, body);
    this.tx.ethernet(iface, ipv6MulticastMac(group.v6, new Uint8Array(6)), EtherType.Ipv6, buffer);
  }

  private solicitKey(key: string, unicastMac?: MacAddress): void {
    const slash = key.indexOf('/');
    const iface = this.routing.interfaces[Number(key.slice(0, slash))];
    const target = IpAddr.parse(key.slice(slash + 1));
    if (iface !== undefined && target !== null) this.solicit(iface, target, unicastMac);
  }

  receiveArp(now: Instant, iface: NetInterface, bytes: Uint8Array): void {
    const arp = parseArp(bytes);
    if (isDropReason(arp)) {
      countInterfaceDrop(this.drops, iface, arp);
      return;
    }
    const ours = iface.addresses.some(
      (a) => a.address.family === 4 && a.address.v4 === arp.targetProtocol,
    );
    const sender = IpAddr.fromV4(arp.senderProtocol);
    // RFC 826 "merge": refresh a known sender; learn it when the packet is for us.
    if (
      arp.senderProtocol !== 0 &&
      (ours || this.cache.lookup(now, neighborKey(iface.index, sender)) !== null)
    ) {
      this.learn(now, iface, sender, arp.senderHardware);
    }
    if (!ours) {
      countInterfaceDrop(this.drops, iface, StackDropReason.NotForUs);
      return;
    }
    if (arp.operation === ArpOperation.Request) {
      const buffer = new Uint8Array(HEADROOM + 28);
      emitArp(
        {
          operation: ArpOperation.Reply,
          senderHardware: iface.mac,
          senderProtocol: arp.targetProtocol,
          targetHardware: arp.senderHardware,
          targetProtocol: arp.senderProtocol,
        },
        buffer.subarray(HEADROOM),
      );
      this.tx.ethernet(iface, arp.senderHardware.slice(), EtherType.Arp, buffer);
    }
  }

  learn(now: Instant, iface: NetInterface, address: IpAddr, mac: MacAddress): void {
    const waiting = this.cache.update(now, neighborKey(iface.index, address), mac);
    for (const item of waiting) this.tx.ethernet(iface, mac.slice(), item.ethertype, item.packet);
  }

  /** RFC 4861 §7.2.3-4: a neighbour solicitation for one of our addresses gets an advertisement. */
  receiveSolicitation(
    now: Instant,
    iface: NetInterface,
    src: IpAddr,
    targetBytes: Uint8Array,
    sourceLinkLayer: MacAddress | null,
    hopLimit: number,
  ): void {
    if (hopLimit !== NDP_HOP_LIMIT || iface.kind !== 'ethernet') {
      countInterfaceDrop(this.drops, iface, StackDropReason.BadNdp);
      return;
    }
    const target = IpAddr.fromV6(targetBytes);
    if (!iface.addresses.some((a) => a.address.equals(target))) {
      countInterfaceDrop(this.drops, iface, StackDropReason.NotForUs);
      return;
    }
    if (sourceLinkLayer !== null && !src.isUnspecified)
      this.learn(now, iface, src, sourceLinkLayer);
    // RFC 4861 §7.2.4: answer with S (unless the source is ::) and O, with our link-layer address.
    const to = src.isUnspecified ? IPV6_ALL_NODES : src;
    const na: Icmpv6Repr = {
      type: Icmpv6Type.NeighborAdvertisement,
      flags:
        (src.isUnspecified ? 0 : NeighborAdvertFlags.Solicited) |
        NeighborAdvertFlags.Override |
        (this.router ? NeighborAdvertFlags.Router : 0),
      target: target.v6,
      targetLinkLayer: iface.mac,
    };
    const body = new Uint8Array(icmpv6Length(na));
    emitIcmpv6(na, target.v6, to.v6, body);
    const mac = sourceLinkLayer ?? null;
    const buffer = ndpPacket(target, to, body);
    const dstMac = to.isMulticast
      ? ipv6MulticastMac(to.v6, new Uint8Array(6))
      : (mac ?? this.cache.lookup(now, neighborKey(iface.index, to)));
    if (dstMac !== null) this.tx.ethernet(iface, dstMac.slice(), EtherType.Ipv6, buffer);
  }

  /** RFC 4861 §7.2.5: an advertisement tells us a neighbour's MAC. */
  receiveAdvertisement(
    now: Instant,
    iface: NetInterface,
    target: Uint8Array,
    targetLinkLayer: MacAddress | null,
    hopLimit: number,
  ): void {
    if (hopLimit !== NDP_HOP_LIMIT) {
      countInterfaceDrop(this.drops, iface, StackDropReason.BadNdp);
      return;
    }
    if (targetLinkLayer !== null) this.learn(now, iface, IpAddr.fromV6(target), targetLinkLayer);
  }
}

/**
 * An NDP message in an IPv6 packet with headroom for Ethernet: hop limit 255,
 * as RFC 4861 §7.1 requires of every NS/NA, so receivers know it was not routed.
 */
function ndpPacket(src: IpAddr, dst: IpAddr, body: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(HEADROOM + IPV6_HEADER_LENGTH + body.length);
  buffer.set(body, HEADROOM + IPV6_HEADER_LENGTH);
  emitIpv6(
    {
      src: src.v6,
      dst: dst.v6,
      hopLimit: NDP_HOP_LIMIT,
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      protocol: IpProtocol.Icmpv6,
      headerLength: IPV6_HEADER_LENGTH,
      fragment: null,
      payload: buffer.subarray(HEADROOM + IPV6_HEADER_LENGTH),
    },
    buffer.subarray(HEADROOM),
  );
  return buffer;
}

function neighborKey(ifIndex: number, address: IpAddr): string {
  return `${ifIndex}/${address.text}`;
}
