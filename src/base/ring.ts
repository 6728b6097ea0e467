const EMPTY = new Uint8Array(0);
const INITIAL_STORAGE = 4096;

/**
 * Storage that rings hand back when they empty and take again when data
 * comes, so a busy connection's buffer is recycled rather than allocated,
 * zeroed and collected once per read (the way the kernel's page allocator
 * recycles socket-buffer memory). One pool serves the rings of one owner,
 * such as a stack. It holds at most `maxBytes`; beyond that, storage given
 * back is left to the garbage collector.
 *
 * Recycled storage is not zeroed: a ring never exposes bytes it did not
 * write since it took the storage (reads, peeks and views stop at what it
 * holds).
 */
export class BufferPool {
  /** Most bytes of storage the pool keeps. */
  readonly maxBytes: number;
  /** Idle storage by exact size. */
  private readonly idle = new Map<number, Uint8Array[]>();
  private held = 0;

  constructor(maxBytes: number) {
    if (!(maxBytes >= 0)) {
      throw new RangeError(`BufferPool maxBytes must be a non-negative number, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
  }

  /** Bytes of storage waiting in the pool. */
  get pooledBytes(): number {
    return this.held;
  }

  /** Storage of exactly `size` bytes: recycled if the pool has one, else new (zeroed). */
  take(size: number): Uint8Array {
    const list = this.idle.get(size);
    if (list !== undefined && list.length > 0) {
      this.held -= size;
      return list.pop()!;
    }
    return new Uint8Array(size);
  }

  /**
   * Hands storage back. The giver must hold no view into it any more: the
   * next `take` of this size may write into it.
   */
  give(storage: Uint8Array): void {
    const size = storage.length;
    if (size === 0 || this.held + size > this.maxBytes) return;
    let list = this.idle.get(size);
    if (list === undefined) {
      list = [];
      this.idle.set(size, list);
    }
    list.push(storage);
    this.held += size;
  }
}

/**
 * A FIFO of bytes with a fixed limit and storage that grows on demand, used
 * for send and receive buffers. Storage is allocated lazily (an idle
 * connection holds none) and released again when the ring empties through
 * `release()`, into the {@link BufferPool} given, if any. The ring remembers
 * how much storage it last had, so the next data takes that much at once
 * instead of growing through every size again. Bytes can be peeked at any
 * offset without consuming them, which the sender uses to retransmit.
 */
export class ByteRing {
  private storage: Uint8Array = EMPTY;
  private head = 0;
  private used = 0;
  private max: number;
  /** Storage size before the last release (0: none yet): what the next reserve takes. */
  private lastCapacity = 0;
  private readonly pool: BufferPool | null;

  constructor(limit: number, pool: BufferPool | null = null) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`ByteRing limit must be a non-negative integer, got ${limit}`);
    }
    this.max = limit;
    this.pool = pool;
  }

  /** Bytes held. */
  get length(): number {
    return this.used;
  }

  /** Most bytes the ring may hold. */
  get limit(): number {
    return this.max;
  }

  /** Bytes that can still be written. */
  get free(): number {
    return this.max - this.used;
  }

  /** Bytes of storage currently allocated (for memory accounting). */
  get allocated(): number {
    return this.storage.length;
  }

  /** Changes the limit; it never drops below what is held. */
  setLimit(limit: number): void {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`ByteRing limit must be a non-negative integer, got ${limit}`);
    }
    this.max = Math.max(limit, this.used);
  }

  /** Appends as much of `src` as fits; returns how many bytes were taken. */
  write(src: Uint8Array): number {
    const n = Math.min(src.length, this.max - this.used);
    if (n === 0) return 0;
    this.reserve(this.used + n);
    const cap = this.storage.length;
    const tail = (this.head + this.used) % cap;
    const first = Math.min(n, cap - tail);
    this.storage.set(src.subarray(0, first), tail);
    if (first < n) this.storage.set(src.subarray(first, n), 0);
    this.used += n;
    return n;
  }

  /** Copies bytes starting `offset` bytes from the front into `dst` without consuming; returns the count. */
  peek(offset: number, dst: Uint8Array): number {
    if (offset < 0 || offset >= this.used) return 0;
    const n = Math.min(dst.length, this.used - offset);
    const cap = this.storage.length;
    const start = (this.head + offset) % cap;
    const first = Math.min(n, cap - start);
    dst.set(this.storage.subarray(start, start + first), 0);
    if (first < n) dst.set(this.storage.subarray(0, n - first), first);
    return n;
  }

  /**
   * A view (`subarray`, no copy) of `length` bytes starting `offset` bytes
   * from the front, or null when they are not all held or wrap around the end
   * of the storage (then {@link peek} copies them). The view shares the
   * ring's storage: it stays valid until those bytes are discarded and the
   * space is written again, so a caller copies what it keeps.
   */
  view(offset: number, length: number): Uint8Array | null {
    if (offset < 0 || length < 0 || offset + length > this.used) return null;
    const cap = this.storage.length;
    if (cap === 0) return length === 0 ? EMPTY : null;
    const start = (this.head + offset) % cap;
    if (start + length > cap) return null;
    return this.storage.subarray(start, start + length);
  }

  /** Moves bytes from the front into `dst`; returns the count. */
  read(dst: Uint8Array): number {
    const n = this.peek(0, dst);
    this.discard(n);
    return n;
  }

  /** Drops `n` bytes from the front (acknowledged or consumed data). */
  discard(n: number): void {
    const k = Math.min(Math.max(n, 0), this.used);
    if (k === 0) return;
    this.used -= k;
    this.head = this.used === 0 ? 0 : (this.head + k) % this.storage.length;
  }

  /**
   * Frees the storage when nothing is held (into the pool, if any), so idle
   * connections cost no buffer memory. A view from {@link view} must not be
   * used after this.
   */
  release(): void {
    if (this.used === 0 && this.storage.length > 0) {
      this.lastCapacity = this.storage.length;
      if (this.pool !== null) this.pool.give(this.storage);
      this.storage = EMPTY;
      this.head = 0;
    }
  }

  private reserve(needed: number): void {
    const cap = this.storage.length;
    if (needed <= cap) return;
    // After a release, start from the size the ring had: a connection that
    // was busy is likely to be busy again in the same way.
    let next = Math.max(cap * 2, INITIAL_STORAGE, cap === 0 ? this.lastCapacity : 0);
    while (next < needed) next *= 2;
    next = Math.min(next, Math.max(this.max, needed));
    const grown = this.pool !== null ? this.pool.take(next) : new Uint8Array(next);
    if (this.used > 0) this.peek(0, grown.subarray(0, this.used));
    if (this.pool !== null && cap > 0) this.pool.give(this.storage);
    this.storage = grown;
    this.head = 0;
  }
}
