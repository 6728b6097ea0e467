/**
 * A set of disjoint half-open ranges [start, end) of non-negative integers,
 * kept sorted and merged. TCP code stores byte offsets from the initial
 * sequence number here (never wrapping, exact up to 2^53), which serves both
 * out-of-order reassembly and SACK scoreboards.
 */
export class RangeSet {
  /** Flat pairs: starts at even indices, ends at odd ones. */
  private bounds: number[] = [];

  /** Number of disjoint ranges. */
  get count(): number {
    return this.bounds.length >> 1;
  }

  /** Total length of all ranges. */
  get size(): number {
    let total = 0;
    for (let i = 0; i < this.bounds.length; i += 2) total += this.bounds[i + 1]! - this.bounds[i]!;
    return total;
  }

  get isEmpty(): boolean {
    return this.bounds.length === 0;
  }

  /** Start of range `i` (0-based, in ascending order). */
  startAt(i: number): number {
    return this.bounds[2 * i]!;
  }

  /** End (exclusive) of range `i`. */
  endAt(i: number): number {
    return this.bounds[2 * i + 1]!;
  }

  /** Whether `x` lies in some range. */
  has(x: number): boolean {
    const i = this.indexContaining(x);
    return i >= 0;
  }

  /** Whether [start, end) is entirely inside one range. */
  covers(start: number, end: number): boolean {
    if (end <= start) return true;
    const i = this.indexContaining(start);
    return i >= 0 && this.bounds[2 * i + 1]! >= end;
  }

  /** Index of the range containing `x`, or -1. */
  indexContaining(x: number): number {
    const b = this.bounds;
    let lo = 0;
    let hi = (b.length >> 1) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (x < b[2 * mid]!) hi = mid - 1;
      else if (x >= b[2 * mid + 1]!) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Bytes of [start, end) already in the set. */
  overlap(start: number, end: number): number {
    let covered = 0;
    const b = this.bounds;
    for (let i = 0; i < b.length; i += 2) {
      const s = Math.max(start, b[i]!);
      const e = Math.min(end, b[i + 1]!);
      if (e > s) covered += e - s;
      if (b[i]! >= end) break;
    }
    return covered;
  }

  /**
   * Adds [start, end), merging with neighbours that overlap or touch.
   * Returns the number of values that were not in the set before.
   */
  add(start: number, end: number): number {
    if (end <= start) return 0;
    const added = end - start - this.overlap(start, end);
    const b = this.bounds;
    // First range whose end reaches start (touching merges too).
    let i = 0;
    while (i < b.length && b[i + 1]! < start) i += 2;
    // Last range whose start is not beyond end.
    let j = i;
    while (j < b.length && b[j]! <= end) j += 2;
    if (i === j) {
      b.splice(i, 0, start, end);
    } else {
      const newStart = Math.min(start, b[i]!);
      const newEnd = Math.max(end, b[j - 1]!);
      b.splice(i, j - i, newStart, newEnd);
    }
    return added;
  }

  /** Removes everything below `x`. */
  removeBelow(x: number): void {
    const b = this.bounds;
    let k = 0;
    while (k < b.length && b[k + 1]! <= x) k += 2;
    if (k > 0) b.splice(0, k);
    if (b.length > 0 && b[0]! < x) b[0] = x;
  }

  /** Removes [start, end) from the set. */
  remove(start: number, end: number): void {
    if (end <= start) return;
    const b = this.bounds;
    const out: number[] = [];
    for (let i = 0; i < b.length; i += 2) {
      const s = b[i]!;
      const e = b[i + 1]!;
      if (e <= start || s >= end) {
        out.push(s, e);
        continue;
      }
      if (s < start) out.push(s, start);
      if (e > end) out.push(end, e);
    }
    this.bounds = out;
  }

  clear(): void {
    this.bounds.length = 0;
  }

  /** The ranges as [start, end] pairs (a copy, for tests and diagnostics). */
  toArray(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.bounds.length; i += 2)
      out.push([this.bounds[i]!, this.bounds[i + 1]!]);
    return out;
  }
}
