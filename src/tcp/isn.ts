/**
 * Initial sequence numbers, RFC 6528: ISN = M + F(4-tuple, secretkey), where
 * M is a clock ticking every 4 µs and F a keyed pseudorandom function. The
 * clock keeps successive incarnations of one 4-tuple moving forward (the RFC
 * 9293 §3.4.1 reason for a clock-driven ISN); the keyed hash makes each
 * 4-tuple's sequence space start somewhere an off-path attacker cannot guess
 * (RFC 6528 §3, the defence against sequence-number guessing of RFC 1948).
 */
import type { Instant, Rng, SeqNum } from '../base/index.js';
import { siphash24 } from '../base/index.js';

/** RFC 6528 §3 (after RFC 793): M ticks once every 4 microseconds. */
const CLOCK_TICK_MICROS = 4;

/**
 * Hash input layout in the scratch buffer: a tag byte, then local address,
 * local port, remote address, remote port, and for `hash()` a 32-bit extra
 * word. The tag records both address lengths and whether `extra` is present,
 * so no two different argument lists give the same bytes (a v4/v6 pair cannot
 * collide with a v6/v4 pair, nor an ISN input with a `hash()` input).
 */
const TAG_LOCAL_V6 = 0x01;
const TAG_REMOTE_V6 = 0x02;
const TAG_EXTRA = 0x04;
const SCRATCH_BYTES = 1 + 16 + 2 + 16 + 2 + 4;

/**
 * RFC 6528 initial sequence number generator keyed by a 128-bit secret.
 *
 * Like Linux (secure_tcp_seq: SipHash of the 4-tuple under a boot-time
 * secret, plus a clock), F is SipHash-2-4. Linux's clock, though, ticks every
 * 64 ns (ktime_get_real_ns() >> 6, "as close as possible to RFC 793" while
 * wrapping faster than the MSL); we keep RFC 6528's 4 µs.
 *
 * One instance per stack; it reuses one scratch buffer and allocates nothing
 * per call.
 */
export class IsnGenerator {
  private readonly key: Uint32Array;
  private readonly scratch: Uint8Array;

  /** Draws the 128-bit secret key from `rng` once (RFC 6528 §3 secretkey). */
  constructor(rng: Rng) {
    this.key = new Uint32Array(4);
    for (let i = 0; i < 4; i++) this.key[i] = rng.nextU32();
    this.scratch = new Uint8Array(SCRATCH_BYTES);
  }

  /**
   * ISN = M + F(localAddr, localPort, remoteAddr, remotePort, key): M a
   * 4-microsecond clock (RFC 6528 §3), F SipHash-2-4 (Linux uses siphash
   * too). Addresses are 4 or 16 bytes. Throws on another address length or
   * a port outside 0..65535 (API misuse).
   */
  next(
    now: Instant,
    localAddr: Uint8Array,
    localPort: number,
    remoteAddr: Uint8Array,
    remotePort: number,
  ): SeqNum {
    const length = this.fill(localAddr, localPort, remoteAddr, remotePort, 0);
    const f = siphash24(this.key, this.scratch, length);
    // M mod 2^32: `>>> 0` wraps any safe integer modulo 2^32 exactly.
    const m = Math.floor(now / CLOCK_TICK_MICROS);
    return ((m + f) >>> 0) as SeqNum;
  }

  /**
   * The keyed hash alone (also useful for SYN cookies and RFC 6056 port
   * selection): SipHash-2-4 of the 4-tuple and the 32-bit `extra` word, low
   * 32 bits, unsigned. Its input is tagged differently from the F of
   * `next()`, so the two are independent pseudorandom functions: values
   * handed out from `hash()` (in a SYN cookie, say) reveal nothing about ISNs.
   */
  hash(
    localAddr: Uint8Array,
    localPort: number,
    remoteAddr: Uint8Array,
    remotePort: number,
    extra: number,
  ): number {
    const length = this.fill(localAddr, localPort, remoteAddr, remotePort, TAG_EXTRA);
    const s = this.scratch;
    s[length] = extra >>> 24;
    s[length + 1] = (extra >>> 16) & 0xff;
    s[length + 2] = (extra >>> 8) & 0xff;
    s[length + 3] = extra & 0xff;
    return siphash24(this.key, s, length + 4);
  }

  /** Writes tag, addresses and ports into the scratch buffer; returns the bytes written. */
  private fill(
    localAddr: Uint8Array,
    localPort: number,
    remoteAddr: Uint8Array,
    remotePort: number,
    tag: number,
  ): number {
    checkAddress(localAddr, 'localAddr');
    checkAddress(remoteAddr, 'remoteAddr');
    checkPort(localPort, 'localPort');
    checkPort(remotePort, 'remotePort');
    if (localAddr.length === 16) tag |= TAG_LOCAL_V6;
    if (remoteAddr.length === 16) tag |= TAG_REMOTE_V6;
    const s = this.scratch;
    s[0] = tag;
    s.set(localAddr, 1);
    let at = 1 + localAddr.length;
    s[at] = localPort >>> 8;
    s[at + 1] = localPort & 0xff;
    at += 2;
    s.set(remoteAddr, at);
    at += remoteAddr.length;
    s[at] = remotePort >>> 8;
    s[at + 1] = remotePort & 0xff;
    return at + 2;
  }
}

function checkAddress(addr: Uint8Array, what: string): void {
  if (addr.length !== 4 && addr.length !== 16) {
    throw new RangeError(
      `IsnGenerator: ${what} must be 4 (IPv4) or 16 (IPv6) bytes, got ${addr.length}`,
    );
  }
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`IsnGenerator: ${what} must be an integer in 0..65535, got ${port}`);
  }
}
