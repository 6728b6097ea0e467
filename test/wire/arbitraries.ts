/** fast-check generators shared by the wire codec tests. */
import fc from 'fast-check';

/** A 6-byte MAC address. */
export const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 });

/** A 16-byte IPv6 address. */
export const ipv6Arb = fc.uint8Array({ minLength: 16, maxLength: 16 });

/** A unicast IPv6 address (not ff00::/8). */
export const ipv6UnicastArb = ipv6Arb.filter((a) => a[0] !== 0xff);

/** An IPv4 address as an unsigned 32-bit number. */
export const ipv4Arb = fc.nat({ max: 0xffffffff });

/** A short payload. */
export const payloadArb = fc.uint8Array({ maxLength: 64 });

/** Random bytes up to `max` long, for "never throws" properties. */
export function junkArb(max: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength: max });
}
