/**
 * The one walk over a TCP option area (RFC 9293 §3.2): a cursor that steps
 * from option to option and says where each lies, leaving what to make of
 * it to the caller. The segment parser, the option lister and tcpdump-style
 * printers all walk with it, so they agree on where options begin and end.
 * It allocates nothing per option: a caller keeps one cursor and resets it
 * for each segment.
 */

/** RFC 9293 §3.2: the one-byte kinds (EOL and NOP; plain numbers here because tcp.ts imports this file). */
const EOL = 0;
const NOP = 1;

/** What {@link TcpOptionCursor.next} found. */
export const TcpOptionStep = {
  /** An option: its kind, offset and length are in the cursor. */
  Option: 0,
  /** No more options: the area ends here, or an EOL ended it. */
  End: 1,
  /**
   * An option whose length byte is missing (the area ends after its kind),
   * below 2, or reaches past the area: the rest cannot be delimited.
   */
  Malformed: 2,
  /** The bytes given end inside the area (a capture cut short) before the kind or length byte. */
  Truncated: 3,
} as const;

/** One of {@link TcpOptionStep}. */
export type TcpOptionStep = (typeof TcpOptionStep)[keyof typeof TcpOptionStep];

const NO_BYTES = new Uint8Array(0);

/**
 * Walks the options in `bytes[start, end)`:
 *
 * ```ts
 * cursor.reset(segment, TCP_HEADER_LENGTH, headerLength);
 * for (let step = cursor.next(); step === TcpOptionStep.Option; step = cursor.next()) {
 *   switch (cursor.kind) { ... read bytes at cursor.offset ... }
 * }
 * ```
 *
 * RFC 9293 §3.2: EOL and NOP are one byte; every other kind has a length
 * byte that counts the kind byte and itself, so it is at least 2 and must
 * end inside the area. EOL ends the list (what follows up to the data
 * offset is padding): the cursor reports the EOL, then End. Whether a known
 * kind has the right length is the caller's question
 * (parseTcp and listTcpOptions check it); the cursor only delimits.
 *
 * `end` may lie beyond `bytes.length` when the bytes are a capture cut
 * short; reading past them then gives Truncated rather than Malformed.
 * Call {@link clear} when done so the cursor does not keep the segment
 * (and the receive buffer under it) alive.
 */
export class TcpOptionCursor {
  /** The bytes walked: a whole TCP segment or header, from its first byte. */
  bytes: Uint8Array = NO_BYTES;
  /** Where the option area ends (the header length). */
  end = 0;
  /** Offset in `bytes` of the current option's kind byte. */
  offset = 0;
  /** Kind of the current option. */
  kind = 0;
  /** Length of the current option, kind (and length) bytes included: 1 for EOL and NOP. */
  length = 0;
  /** Where the next option starts. */
  private following = 0;

  /** Starts a walk over `bytes[start, end)`. */
  reset(bytes: Uint8Array, start: number, end: number): void {
    this.bytes = bytes;
    this.end = end;
    this.offset = start;
    this.kind = 0;
    this.length = 0;
    this.following = start;
  }

  /** Steps to the next option and says what is there. */
  next(): TcpOptionStep {
    const at = this.following;
    const end = this.end;
    if (at >= end) return TcpOptionStep.End;
    const bytes = this.bytes;
    if (at >= bytes.length) return TcpOptionStep.Truncated;
    const kind = bytes[at]!;
    this.offset = at;
    this.kind = kind;
    if (kind === EOL) {
      this.length = 1;
      this.following = end;
      return TcpOptionStep.Option;
    }
    if (kind === NOP) {
      this.length = 1;
      this.following = at + 1;
      return TcpOptionStep.Option;
    }
    if (at + 1 >= bytes.length) return TcpOptionStep.Truncated;
    if (at + 1 >= end) return TcpOptionStep.Malformed;
    const length = bytes[at + 1]!;
    if (length < 2 || at + length > end) return TcpOptionStep.Malformed;
    this.length = length;
    this.following = at + length;
    return TcpOptionStep.Option;
  }

  /**
   * Continues the walk at `offset` instead of after the current option's
   * length: for a printer that, like tcpdump, steps over the data a kind
   * should have rather than what its length byte claims.
   */
  resumeAt(offset: number): void {
    this.following = offset;
  }

  /** Lets go of the bytes walked. */
  clear(): void {
    this.bytes = NO_BYTES;
  }
}
