/**
 * TCP sequence numbers: unsigned 32-bit values compared modulo 2^32
 * (RFC 9293 §3.4). A branded number, so that a plain number is not taken
 * for a sequence number by accident. The brand alone does not stop a raw `<`
 * (TypeScript compares any two number-like values), so the lint rule
 * eslint-rules/no-raw-seq-compare.js refuses relational operators on SeqNum
 * everywhere in src/ but this file: compare only through these helpers (the
 * same idea as Linux's before()/after() and gVisor's seqnum package).
 */
export type SeqNum = number & { readonly __seq: unique symbol };

/** Wraps any integer into the sequence space. */
export function seq(value: number): SeqNum {
  return (value >>> 0) as SeqNum;
}

/** `a + n` modulo 2^32 (n may be negative). */
export function seqAdd(a: SeqNum, n: number): SeqNum {
  return ((a + n) >>> 0) as SeqNum;
}

/** Signed distance `a - b`, valid while the two are within 2^31 of each other. */
export function seqDiff(a: SeqNum, b: SeqNum): number {
  return (a - b) | 0;
}

/** `a < b` in sequence space. */
export function seqLt(a: SeqNum, b: SeqNum): boolean {
  return ((a - b) | 0) < 0;
}

/** `a <= b` in sequence space. */
export function seqLe(a: SeqNum, b: SeqNum): boolean {
  return ((a - b) | 0) <= 0;
}

/** `a > b` in sequence space. */
export function seqGt(a: SeqNum, b: SeqNum): boolean {
  return ((a - b) | 0) > 0;
}

/** `a >= b` in sequence space. */
export function seqGe(a: SeqNum, b: SeqNum): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: SeqNum, b: SeqNum): SeqNum {
  return seqGt(a, b) ? a : b;
}

/** The earlier of two sequence numbers. */
export function seqMin(a: SeqNum, b: SeqNum): SeqNum {
  return seqLt(a, b) ? a : b;
}

/** `start <= x < start + length`, the window test of RFC 9293 §3.10.7.4. */
export function inWindow(x: SeqNum, start: SeqNum, length: number): boolean {
  const offset = (x - start) >>> 0;
  return offset < length;
}

/** `low <= x <= high` in sequence space (both ends included). */
export function seqBetween(low: SeqNum, x: SeqNum, high: SeqNum): boolean {
  return (x - low) >>> 0 <= (high - low) >>> 0;
}
