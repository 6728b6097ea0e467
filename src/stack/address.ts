import {
  formatIpv4Address,
  formatIpv6Address,
  parseIpv4Address,
  parseIpv6Address,
  type Ipv6Address,
} from '../wire/index.js';

/**
 * An IP address of either family as the stack handles it: the wire form
 * (a uint32 for IPv4, 16 bytes for IPv6) and the canonical text, which is
 * also the key in the stack's tables. Immutable.
 */
export class IpAddr {
  readonly family: 4 | 6;
  /** IPv4 address as a uint32 (0 for IPv6). */
  readonly v4: number;
  /** IPv6 address bytes (empty for IPv4). */
  readonly v6: Ipv6Address;
  /**
   * The text, formatted when first asked for: a SYN flood from random
   * sources brings a new address per packet, and most are never looked up
   * by text (see TcpDemux's table of remote addresses).
   */
  private formatted: string;

  private constructor(family: 4 | 6, v4: number, v6: Ipv6Address, text: string) {
    this.family = family;
    this.v4 = v4;
    this.v6 = v6;
    this.formatted = text;
  }

  /** Canonical text: dotted quad or RFC 5952. */
  get text(): string {
    if (this.formatted === '') this.formatted = formatIpv4Address(this.v4);
    return this.formatted;
  }

  static fromV4(address: number): IpAddr {
    return new IpAddr(4, address >>> 0, EMPTY, '');
  }

  /** Copies the 16 bytes (inputs are often views into a packet). */
  static fromV6(address: Ipv6Address): IpAddr {
    const bytes = address.slice(0, 16);
    return new IpAddr(6, 0, bytes, formatIpv6Address(bytes));
  }

  /** Parses text of either family; null if it is neither. */
  static parse(text: string): IpAddr | null {
    const v4 = parseIpv4Address(text);
    if (v4 !== null) return IpAddr.fromV4(v4);
    const v6 = parseIpv6Address(text);
    if (v6 !== null) return IpAddr.fromV6(v6);
    return null;
  }

  /** Parses text or throws a TypeError that says what was wrong (for API arguments). */
  static parseOrThrow(text: string, what = 'address'): IpAddr {
    const parsed = IpAddr.parse(text);
    if (parsed === null)
      throw new TypeError(`invalid ${what} '${text}': expected an IPv4 or IPv6 address`);
    return parsed;
  }

  /** The address bytes: 4 for IPv4, 16 for IPv6 (for hashing). */
  bytes(): Uint8Array {
    if (this.family === 6) return this.v6;
    return Uint8Array.of(
      this.v4 >>> 24,
      (this.v4 >>> 16) & 0xff,
      (this.v4 >>> 8) & 0xff,
      this.v4 & 0xff,
    );
  }

  equals(other: IpAddr): boolean {
    if (this.family !== other.family) return false;
    return this.family === 4 ? this.v4 === other.v4 : this.text === other.text;
  }

  get isUnspecified(): boolean {
    return this.family === 4 ? this.v4 === 0 : this.v6.every((b) => b === 0);
  }

  get isMulticast(): boolean {
    return this.family === 4 ? this.v4 >>> 28 === 0xe : this.v6[0] === 0xff;
  }

  get isLinkLocal(): boolean {
    return this.family === 6 && this.v6[0] === 0xfe && (this.v6[1]! & 0xc0) === 0x80;
  }

  toString(): string {
    return this.text;
  }
}

const EMPTY = new Uint8Array(0);

/** An address with a prefix length ("10.0.0.2/24"). */
export interface Cidr {
  address: IpAddr;
  prefixLength: number;
}

/** Parses "address/prefix" (the prefix defaults to a host route); throws a TypeError on bad input. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const address = IpAddr.parseOrThrow(slash >= 0 ? text.slice(0, slash) : text);
  const max = address.family === 4 ? 32 : 128;
  const prefixLength = slash >= 0 ? Number(text.slice(slash + 1)) : max;
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max) {
    throw new TypeError(`invalid prefix length in '${text}': expected 0..${max}`);
  }
  return { address, prefixLength };
}

/** Whether `address` lies in `network/prefixLength`. */
export function inPrefix(address: IpAddr, network: IpAddr, prefixLength: number): boolean {
  if (address.family !== network.family) return false;
  if (address.family === 4) {
    if (prefixLength === 0) return true;
    const mask = prefixLength === 32 ? 0xffffffff : ~(0xffffffff >>> prefixLength) >>> 0;
    return (address.v4 & mask) >>> 0 === (network.v4 & mask) >>> 0;
  }
  let bits = prefixLength;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address.v6[i]! & mask) !== (network.v6[i]! & mask)) return false;
  }
  return true;
}

/** The IPv4 directed broadcast address of a prefix. */
export function ipv4Broadcast(network: IpAddr, prefixLength: number): number {
  if (prefixLength >= 31) return 0xffffffff;
  return (network.v4 | (0xffffffff >>> prefixLength)) >>> 0;
}

/** fe80::/64 with an EUI-64 interface identifier from a MAC (RFC 4291 §2.5.1, Appendix A). */
export function linkLocalFromMac(mac: Uint8Array): IpAddr {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a[8] = mac[0]! ^ 0x02;
  a[9] = mac[1]!;
  a[10] = mac[2]!;
  a[11] = 0xff;
  a[12] = 0xfe;
  a[13] = mac[3]!;
  a[14] = mac[4]!;
  a[15] = mac[5]!;
  return IpAddr.fromV6(a);
}
