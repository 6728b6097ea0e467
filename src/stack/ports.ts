/**
 * Ephemeral port selection, RFC 6056 §3.3.3 (Algorithm 3, "Simple
 * Hash-Based Port Selection"): the search for a free port starts at
 * F(local address, remote address, remote port, secret) plus a global
 * counter. Within one destination successive connections walk through the
 * range one by one (so a port is not reused soon, which keeps clear of
 * TIME-WAIT there), while the start point for each destination is one an
 * off-path attacker cannot predict (the blind-attack defence of RFC 6056 §1).
 *
 * Linux uses the refinement of Algorithm 4 (a table of counters indexed by a
 * second hash, and a step of 2 so that connect() and bind() prefer ports of
 * different parity); Algorithm 3 is the simpler one the RFC recommends as a
 * baseline, and the difference matters only under heavy port reuse.
 */
import type { Rng } from '../base/index.js';
import { randomBytes, sipKeyFromBytes, siphash24 } from '../base/index.js';

/** Linux's default ip_local_port_range, low end. */
export const EPHEMERAL_PORT_LOW = 32768;
/** Linux's default ip_local_port_range, high end (inclusive). */
export const EPHEMERAL_PORT_HIGH = 60999;

/**
 * Hash input: a tag byte (which address lengths follow), local address,
 * remote address, remote port. The tag keeps a v4/v6 pair from colliding
 * with a v6/v4 pair of the same bytes.
 */
const TAG_LOCAL_V6 = 0x01;
const TAG_REMOTE_V6 = 0x02;
const SCRATCH_BYTES = 1 + 16 + 16 + 2;

/** Chooses local ports for outgoing connections (RFC 6056 Algorithm 3). One per stack. */
export class PortAllocator {
  private readonly key: Uint32Array;
  private readonly scratch: Uint8Array;
  private readonly low: number;
  private readonly count: number;
  /** RFC 6056 next_ephemeral, kept modulo the range size. */
  private next: number;

  /**
   * Ports from `low` to `high` inclusive, Linux's ip_local_port_range
   * (32768..60999) by default. The SipHash key (RFC 6056 secret_key) and the
   * counter's start come from `rng`, so a seeded rng repeats every choice.
   * Throws on a range that is empty or outside 1..65535 (API misuse).
   */
  constructor(rng: Rng, low: number = EPHEMERAL_PORT_LOW, high: number = EPHEMERAL_PORT_HIGH) {
    if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 0xffff) {
      throw new RangeError(
        `PortAllocator: ports must be integers in 1..65535, got ${low}..${high}`,
      );
    }
    if (low > high) {
      throw new RangeError(`PortAllocator: low (${low}) must not exceed high (${high})`);
    }
    this.key = sipKeyFromBytes(randomBytes(rng, new Uint8Array(16)));
    this.scratch = new Uint8Array(SCRATCH_BYTES);
    this.low = low;
    this.count = high - low + 1;
    this.next = rng.nextU32() % this.count;
  }

  /**
   * A local port for a connection from `localAddr` to `remoteAddr`:`remotePort`
   * that `inUse` says is free, or -1 when every port in the range is taken
   * (the caller reports EADDRNOTAVAIL, as Linux does). Addresses are 4 or 16
   * bytes. Throws on another address length or a bad port (API misuse).
   */
  allocate(
    localAddr: Uint8Array,
    remoteAddr: Uint8Array,
    remotePort: number,
    inUse: (port: number) => boolean,
  ): number {
    const offset = this.hash(localAddr, remoteAddr, remotePort);
    // RFC 6056 §3.3.3: port = min + (next_ephemeral + offset) % num_ephemeral,
    // with next_ephemeral advanced on every attempt, for at most num_ephemeral attempts.
    for (let tries = 0; tries < this.count; tries++) {
      const port = this.low + ((this.next + offset) % this.count);
      this.next = (this.next + 1) % this.count;
      if (!inUse(port)) return port;
    }
    return -1;
  }

  /** RFC 6056 F(): SipHash-2-4 of the tagged (local, remote, remote port) under the secret key. */
  private hash(localAddr: Uint8Array, remoteAddr: Uint8Array, remotePort: number): number {
    checkAddress(localAddr, 'localAddr');
    checkAddress(remoteAddr, 'remoteAddr');
    if (!Number.isInteger(remotePort) || remotePort < 0 || remotePort > 0xffff) {
      throw new RangeError(
        `PortAllocator: remotePort must be an integer in 0..65535, got ${remotePort}`,
      );
    }
    const s = this.scratch;
    s[0] =
      (localAddr.length === 16 ? TAG_LOCAL_V6 : 0) | (remoteAddr.length === 16 ? TAG_REMOTE_V6 : 0);
    s.set(localAddr, 1);
    let at = 1 + localAddr.length;
    s.set(remoteAddr, at);
    at += remoteAddr.length;
    s[at] = remotePort >>> 8;
    s[at + 1] = remotePort & 0xff;
    return siphash24(this.key, s, at + 2);
  }
}

function checkAddress(addr: Uint8Array, what: string): void {
  if (addr.length !== 4 && addr.length !== 16) {
    throw new RangeError(
      `PortAllocator: ${what} must be 4 (IPv4) or 16 (IPv6) bytes, got ${addr.length}`,
    );
  }
}

/** Throws a RangeError unless `port` is a port number (0 too when `allowZero`). */
export function checkPort(port: number, allowZero: boolean): void {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new RangeError(
      `port must be an integer in ${allowZero ? 0 : 1}..65535, got ${String(port)}`,
    );
  }
}

/** The EADDRINUSE error of a bind or listen. */
export function addressInUse(address: string, port: number): Error {
  return Object.assign(new Error(`address ${address} port ${port} is already in use`), {
    code: 'EADDRINUSE',
    address,
    port,
  });
}
