/**
 * Deadlines of many owners, earliest first: a binary heap with lazy deletion
 * (a changed or cancelled deadline leaves its old entry behind, skipped when
 * it reaches the top). A stack with 100,000 connections finds its next timer
 * in O(log n) instead of scanning them all; this is the one-level-up version
 * of the timers-are-data rule in docs/architecture.md (no RFC governs it).
 */
import { NEVER, type Instant } from './time.js';

interface HeapEntry<K> {
  at: Instant;
  key: K;
}

/** The earliest of many keyed deadlines; each key has at most one live deadline. */
export class DeadlineHeap<K> {
  private readonly heap: Array<HeapEntry<K>> = [];
  private readonly current = new Map<K, Instant>();

  /** Sets (or with NEVER, cancels) the deadline of `key`. */
  set(key: K, at: Instant): void {
    const before = this.current.get(key);
    if (before === at) return;
    if (at === NEVER) {
      this.current.delete(key);
      return;
    }
    this.current.set(key, at);
    this.push({ at, key });
  }

  /** The earliest live deadline, or NEVER. */
  peek(): Instant {
    this.prune();
    return this.heap.length > 0 ? this.heap[0]!.at : NEVER;
  }

  /** Removes and returns a key whose deadline is due at `now`, or null. */
  popDue(now: Instant): K | null {
    this.prune();
    const top = this.heap[0];
    if (top === undefined || top.at > now) return null;
    this.pop();
    this.current.delete(top.key);
    return top.key;
  }

  private prune(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (this.current.get(top.key) === top.at) return;
      this.pop();
    }
  }

  private push(item: HeapEntry<K>): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.at < h[m]!.at) m = l;
      if (r < h.length && h[r]!.at < h[m]!.at) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
