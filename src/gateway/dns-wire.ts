/**
 * Just enough of DNS messages (RFC 1035 §4.1) for a forwarder to tell a
 * well-formed query from garbage before it goes upstream, and to match an
 * answer to its query. Pure; malformed input gives a named drop reason.
 */

/** Why a DNS message was dropped. */
export const DnsDropReason = {
  /** Shorter than the 12-byte header. */
  Truncated: 'dns-truncated',
  /** QR set: a response where a query belongs (RFC 1035 §4.1.1). */
  NotQuery: 'dns-not-query',
  /** QDCOUNT is 0: nothing asked. */
  NoQuestion: 'dns-no-question',
  /** A question's name or type/class runs past the end, a label is too long, or a name loops. */
  BadQuestion: 'dns-bad-question',
  /** An answer from upstream that is no response to the query it came for. */
  BadAnswer: 'dns-bad-answer',
} as const;
export type DnsDropReason = (typeof DnsDropReason)[keyof typeof DnsDropReason];

const HEADER_LENGTH = 12;
/** RFC 1035 §2.3.4: labels of 63 bytes at most, names of 255. */
const MAX_LABEL = 63;
const MAX_NAME = 255;

/** The message ID (RFC 1035 §4.1.1). */
export function dnsId(message: Uint8Array): number {
  return (message[0]! << 8) | message[1]!;
}

/** A message's ID changed (the forwarder's own on the upstream leg), as a copy. */
export function withDnsId(message: Uint8Array, id: number): Uint8Array {
  const copy = message.slice();
  copy[0] = id >>> 8;
  copy[1] = id & 0xff;
  return copy;
}

/** Checks a query: header, QR clear, and every question whole. Null when it is well formed. */
export function checkDnsQuery(message: Uint8Array): DnsDropReason | null {
  if (message.length < HEADER_LENGTH) return DnsDropReason.Truncated;
  if ((message[2]! & 0x80) !== 0) return DnsDropReason.NotQuery;
  const questions = (message[4]! << 8) | message[5]!;
  if (questions === 0) return DnsDropReason.NoQuestion;
  let at = HEADER_LENGTH;
  for (let q = 0; q < questions; q++) {
    const end = skipName(message, at);
    if (end < 0 || end + 4 > message.length) return DnsDropReason.BadQuestion;
    at = end + 4;
  }
  return null;
}

/** Checks an answer to a query with `id`: header, QR set, the same ID. */
export function checkDnsAnswer(message: Uint8Array, id: number): DnsDropReason | null {
  if (message.length < HEADER_LENGTH) return DnsDropReason.Truncated;
  if ((message[2]! & 0x80) === 0 || dnsId(message) !== id) return DnsDropReason.BadAnswer;
  return null;
}

/**
 * The offset after the name at `at`, or -1 if it is malformed. A
 * compression pointer (RFC 1035 §4.1.4) ends the name in place; its target
 * is followed, and must point backwards, so that no name loops.
 */
function skipName(message: Uint8Array, at: number): number {
  let length = 0;
  let position = at;
  let end = -1;
  for (let steps = 0; steps < MAX_NAME; steps++) {
    if (position >= message.length) return -1;
    const byte = message[position]!;
    if (byte === 0) return end >= 0 ? end : position + 1;
    if ((byte & 0xc0) === 0xc0) {
      if (position + 2 > message.length) return -1;
      const target = ((byte & 0x3f) << 8) | message[position + 1]!;
      if (target >= position) return -1;
      if (end < 0) end = position + 2;
      position = target;
      continue;
    }
    if ((byte & 0xc0) !== 0 || byte > MAX_LABEL) return -1;
    length += byte + 1;
    if (length > MAX_NAME) return -1;
    position += byte + 1;
  }
  return -1;
}
