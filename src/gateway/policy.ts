/**
 * Which destinations a guest may reach, and where its flows go on the host.
 * As slirp4netns: everything the host reaches, except the host's own
 * loopback, which needs `allowHostLoopback`; then the gateway's own address
 * stands for it (10.0.2.2 -> 127.0.0.1, fd00::2 -> ::1). `--allow` and
 * `--deny` rules decide the rest by longest prefix (the most specific rule
 * wins; with any `--allow` rule given, what no rule matches is denied).
 */
import { IpAddr, inPrefix, parseCidr, type Cidr } from '../stack/index.js';

/** Why a flow was refused (a counter name each). */
export const DenyReason = {
  /** The host's loopback, or the gateway's own address standing for it, without --allow-host-loopback. */
  HostLoopback: 'denied-host-loopback',
  /** A --deny rule matched, or --allow rules exist and none matched. */
  Rule: 'denied-rule',
  /** The guest's own network: nobody there but the guest and the gateway's services. */
  GuestNetwork: 'denied-guest-network',
  /** The unspecified, multicast or broadcast addresses are not destinations. */
  NotUnicast: 'denied-not-unicast',
} as const;
export type DenyReason = (typeof DenyReason)[keyof typeof DenyReason];

/** Where an allowed flow goes: a host address (text, for node:net and node:dgram). */
export type Decision = { allowed: true; host: string } | { allowed: false; reason: DenyReason };

/** The addresses of the guest's network. */
export interface GatewayAddresses {
  /** The guest network, e.g. 10.0.2.0/24. */
  network4: Cidr;
  gateway4: IpAddr;
  dns4: IpAddr;
  guest4: IpAddr;
  /** The IPv6 prefix (a /64 for SLAAC), e.g. fd00::/64. */
  network6: Cidr;
  gateway6: IpAddr;
  dns6: IpAddr;
}

/** The reachability rules of a gateway. */
export interface PolicyOptions {
  addresses: GatewayAddresses;
  allowHostLoopback: boolean;
  allow: string[];
  deny: string[];
}

const LOOPBACK4 = parseCidr('127.0.0.0/8');
const LOOPBACK6 = IpAddr.parse('::1')!;
const V4_MAPPED = parseCidr('::ffff:0:0/96');

/** The reachability rules, applied to each new flow's destination. */
export class Policy {
  private readonly addresses: GatewayAddresses;
  private readonly allowHostLoopback: boolean;
  private readonly rules: Array<{ cidr: Cidr; allow: boolean }>;
  private readonly haveAllow: boolean;

  constructor(options: PolicyOptions) {
    this.addresses = options.addresses;
    this.allowHostLoopback = options.allowHostLoopback;
    this.rules = [
      ...options.allow.map((text) => ({ cidr: parseCidrOrThrow(text, '--allow'), allow: true })),
      ...options.deny.map((text) => ({ cidr: parseCidrOrThrow(text, '--deny'), allow: false })),
    ];
    this.haveAllow = options.allow.length > 0;
  }

  /** The decision for a new flow to `destination` (the address the guest wrote to). */
  decide(destination: IpAddr): Decision {
    const a = this.addresses;
    if (destination.isUnspecified || destination.isMulticast)
      return { allowed: false, reason: DenyReason.NotUnicast };
    if (destination.equals(a.gateway4) || destination.equals(a.gateway6)) {
      // slirp4netns: the gateway's address is the host's loopback, when allowed.
      if (!this.allowHostLoopback) return { allowed: false, reason: DenyReason.HostLoopback };
      return { allowed: true, host: destination.family === 4 ? '127.0.0.1' : '::1' };
    }
    if (isLoopback(destination) && !this.allowHostLoopback)
      return { allowed: false, reason: DenyReason.HostLoopback };
    if (
      inCidr(destination, a.network4) ||
      inCidr(destination, a.network6) ||
      destination.isLinkLocal
    ) {
      return { allowed: false, reason: DenyReason.GuestNetwork };
    }
    let best: { cidr: Cidr; allow: boolean } | null = null;
    for (const rule of this.rules) {
      if (!inCidr(destination, rule.cidr)) continue;
      // The most specific rule wins; at equal length a deny wins.
      if (
        best === null ||
        rule.cidr.prefixLength > best.cidr.prefixLength ||
        (rule.cidr.prefixLength === best.cidr.prefixLength && !rule.allow)
      )
        best = rule;
    }
    const allowed = best !== null ? best.allow : !this.haveAllow;
    if (!allowed) return { allowed: false, reason: DenyReason.Rule };
    return { allowed: true, host: destination.text };
  }
}

function isLoopback(address: IpAddr): boolean {
  if (address.family === 4) return inCidr(address, LOOPBACK4);
  if (address.equals(LOOPBACK6)) return true;
  // ::ffff:127.0.0.1 reaches the IPv4 loopback through a dual-stack socket.
  return inCidr(address, V4_MAPPED) && address.bytes()[12] === 127;
}

function inCidr(address: IpAddr, cidr: Cidr): boolean {
  return (
    address.family === cidr.address.family && inPrefix(address, cidr.address, cidr.prefixLength)
  );
}

/** Parses "10.0.0.0/8" (a bare address is a host route); throws a usage error naming `flag`. */
export function parseCidrOrThrow(text: string, flag: string): Cidr {
  try {
    return parseCidr(text);
  } catch {
    throw new RangeError(`${flag} takes an address prefix such as 192.0.2.0/24, got '${text}'`);
  }
}
