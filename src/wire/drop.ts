/**
 * Why the wire layer refused a packet. Parsers never throw on bad input:
 * they return one of these names, and the stack counts it (in the spirit of
 * Linux's skb drop reasons and gVisor's Stats). Each protocol module adds its
 * reasons here so that the vocabulary stays in one place.
 */
export const WireDropReason = {
  /** Fewer bytes than the fixed header needs. */
  Truncated: 'truncated',
  /** A length field claims more bytes than there are. */
  BadLength: 'bad-length',
  /** A checksum did not verify. */
  BadChecksum: 'bad-checksum',
  /** A version field was not the one expected. */
  BadVersion: 'bad-version',
  /** IPv4 IHL below 5 or TCP data offset below 5. */
  BadHeaderLength: 'bad-header-length',
  /** An option's length is zero, too short, or runs past the header. */
  BadOption: 'bad-option',
  /** A TCP segment with SYN and FIN, or SYN and RST together. */
  BadFlags: 'bad-flags',
  /** IPv6 extension headers that do not parse or run past the packet. */
  BadExtensionHeader: 'bad-extension-header',
  /** A field holds a value the protocol forbids (e.g. ARP hardware type). */
  BadField: 'bad-field',
  /** A protocol or type we do not speak. */
  Unsupported: 'unsupported',
} as const;

export type WireDropReason = (typeof WireDropReason)[keyof typeof WireDropReason];

/** True when a parse result is a drop reason rather than a value. */
export function isDropReason(result: unknown): result is WireDropReason {
  return typeof result === 'string';
}
