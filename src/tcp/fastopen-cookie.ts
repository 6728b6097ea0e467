/**
 * TCP Fast Open server cookies (RFC 7413 §4.1.2), computed as Linux does so
 * that a client's cached cookie and packetdrill's expectations agree: a
 * SipHash-2-4 MAC of the client's and the server's IP addresses under a
 * secret of the stack, 8 bytes, in the byte order Linux stores them
 * (tcp_fastopen.c: the 64-bit hash written little-endian). RFC 7413 §4.1.2
 * leaves the algorithm to the server; what matters is that a cookie is bound
 * to the client's address and cannot be forged without the secret.
 */
import { sipKeyFromBytes, siphash24Pair } from '../base/index.js';

/** Linux's cookie length (TCP_FASTOPEN_COOKIE_SIZE). */
export const FAST_OPEN_COOKIE_LENGTH = 8;

/**
 * Parses a key in the format of Linux's net.ipv4.tcp_fastopen_key: four
 * 32-bit hex words joined by '-' (`a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4`).
 * Linux accepts a second, backup key after a ',': only the first (primary)
 * one signs new cookies, and it is the one returned. Null when malformed.
 */
export function parseFastOpenKey(text: string): Uint32Array | null {
  const primary = text.trim().split(',')[0]!;
  const words = primary.split('-');
  if (words.length !== 4) return null;
  const key = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const w = words[i]!;
    if (!/^[0-9a-fA-F]{1,8}$/.test(w)) return null;
    // Linux stores each word little-endian, then reads the 16 bytes as
    // SipHash's two little-endian 64-bit key halves: word i is key word i.
    key[i] = parseInt(w, 16) >>> 0;
  }
  return key;
}

/** A key from 16 secret bytes (a stack's random secret, when no sysctl set one). */
export function fastOpenKeyFromBytes(bytes: Uint8Array): Uint32Array {
  return sipKeyFromBytes(bytes);
}

/**
 * The cookie a server with `key` gives the client at `clientAddress` when it
 * is reached at `serverAddress` (both 4 or both 16 bytes, as on the wire).
 * @throws RangeError when the two addresses are not of one family (API misuse).
 */
export function fastOpenCookie(
  key: Uint32Array,
  clientAddress: Uint8Array,
  serverAddress: Uint8Array,
): Uint8Array {
  if (
    clientAddress.length !== serverAddress.length ||
    (clientAddress.length !== 4 && clientAddress.length !== 16)
  ) {
    throw new RangeError(
      `fastOpenCookie: addresses must both be IPv4 (4 bytes) or both IPv6 (16), got ${clientAddress.length} and ${serverAddress.length}`,
    );
  }
  // Linux hashes the SYN's source then destination address, as they sit in the IP header.
  const data = new Uint8Array(clientAddress.length * 2);
  data.set(clientAddress, 0);
  data.set(serverAddress, clientAddress.length);
  const [hi, lo] = siphash24Pair(key, data);
  const cookie = new Uint8Array(FAST_OPEN_COOKIE_LENGTH);
  for (let i = 0; i < 4; i++) {
    cookie[i] = (lo >>> (8 * i)) & 0xff;
    cookie[4 + i] = (hi >>> (8 * i)) & 0xff;
  }
  return cookie;
}

/** Whether `cookie` is the one {@link fastOpenCookie} gives this client (constant work whatever matches). */
export function isValidFastOpenCookie(
  key: Uint32Array,
  cookie: Uint8Array,
  clientAddress: Uint8Array,
  serverAddress: Uint8Array,
): boolean {
  if (cookie.length !== FAST_OPEN_COOKIE_LENGTH) return false;
  const expected = fastOpenCookie(key, clientAddress, serverAddress);
  let diff = 0;
  for (let i = 0; i < FAST_OPEN_COOKIE_LENGTH; i++) diff |= cookie[i]! ^ expected[i]!;
  return diff === 0;
}
