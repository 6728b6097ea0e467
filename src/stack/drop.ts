/**
 * Why the stack dropped a packet. The wire layer has its own vocabulary
 * (`WireDropReason` in wire/drop.ts) for bytes that do not parse; these are
 * the reasons a well-formed packet still goes nowhere. The stack counts each
 * one per stack and per interface, in the spirit of Linux's skb drop reasons
 * (`enum skb_drop_reason`) and gVisor's Stats.
 */
export const StackDropReason = {
  /** Destination address is not one of ours (and we do not forward). */
  NotForUs: 'not-for-us',
  /** No route to the destination of an outgoing packet. */
  NoRoute: 'no-route',
  /** TTL / hop limit reached zero. */
  TtlExpired: 'ttl-expired',
  /** ARP/NDP gave up on the next hop (RFC 4861 §7.3.3: after MAX_MULTICAST_SOLICIT probes). */
  NeighborUnresolved: 'neighbor-unresolved',
  /** Too many packets already waiting for one neighbour to resolve; the oldest went (like Linux). */
  NeighborQueueFull: 'neighbor-queue-full',
  /** A fragment overlapped another of its datagram (RFC 5722: the whole datagram is dropped). */
  FragmentOverlap: 'fragment-overlap',
  /** Reassembly would exceed the largest datagram allowed. */
  FragmentTooBig: 'fragment-too-big',
  /** A partial datagram's reassembly timer ran out (RFC 791, RFC 8200 §4.5). */
  FragmentTimeout: 'fragment-timeout',
  /** Reassembly memory is exhausted (Linux ipfrag_high_thresh). */
  FragmentMemory: 'fragment-memory',
  /** A malformed fragment: bad length, or a last fragment that contradicts another. */
  FragmentBad: 'fragment-bad',
  /** A TCP SYN for a port nobody listens on (answered with RST). */
  NoListener: 'no-listener',
  /** A segment or datagram for no socket. */
  NoSocket: 'no-socket',
  /** The accept queue of a listener is full. */
  BacklogFull: 'backlog-full',
  /** The SYN queue of a listener is full. */
  SynQueueFull: 'syn-queue-full',
  /**
   * A SYN dropped unparsed because this round of polling already answered
   * its budget of SYN cookies (StackOptions.synCookieBudget): under a flood,
   * the segments of established connections go first.
   */
  SynBudget: 'syn-budget',
  /** An NDP message that fails RFC 4861 validation (hop limit 255, code 0, lengths). */
  BadNdp: 'bad-ndp',
  /** An IP protocol or ethertype the stack does not handle. */
  UnsupportedProtocol: 'unsupported-protocol',
  /** A packet larger than the interface MTU that may not be fragmented. */
  MtuExceeded: 'mtu-exceeded',
  /** An ICMP message we read and deliberately ignore (type we do not act on). */
  IcmpIgnored: 'icmp-ignored',
  /** An ICMP error whose quoted packet is too short or matches no socket. */
  IcmpBadQuote: 'icmp-bad-quote',
  /**
   * An ICMP "fragmentation needed" or Packet Too Big reporting an MTU below
   * the stack's floor (minPathMtu; 1280 for IPv6, RFC 8201 §4): ignored.
   */
  IcmpMtuBelowFloor: 'icmp-mtu-below-floor',
  /** A UDP socket's receive queue is full. */
  UdpQueueFull: 'udp-queue-full',
  /** A source address that can never be valid on the wire (RFC 1812 §5.3.7: multicast, broadcast, loopback). */
  MartianSource: 'martian-source',
  /** The interface's transmit queue is full. */
  TxQueueFull: 'tx-queue-full',
} as const;

/** One of the values of {@link StackDropReason}. */
export type StackDropReason = (typeof StackDropReason)[keyof typeof StackDropReason];

/**
 * Drop counters by reason. Keys are strings rather than `StackDropReason` so
 * that one table can also count wire-layer reasons (`WireDropReason`).
 */
export type DropCounts = Record<string, number>;

/** Adds one to `counts[reason]`, starting from zero. */
export function countDrop(counts: DropCounts, reason: string): void {
  counts[reason] = (counts[reason] ?? 0) + 1;
}

/** Counts a dropped packet on the stack and on the interface it arrived on. */
export function countInterfaceDrop(
  stack: DropCounts,
  iface: { drops: DropCounts },
  reason: string,
): void {
  countDrop(stack, reason);
  countDrop(iface.drops, reason);
}
