/**
 * A small ordered list of one-shot timers on a driver's clock. The driver
 * folds the earliest of them into its single host timer, so upper layers
 * (socket idle timeouts) never arm host timers of their own.
 */
import { NEVER, type Instant } from '../base/index.js';
import type { DriverTimer } from './driver.js';

class Entry implements DriverTimer {
  readonly at: Instant;
  readonly callback: () => void;
  cancelled = false;

  constructor(at: Instant, callback: () => void) {
    this.at = at;
    this.callback = callback;
  }

  cancel(): void {
    this.cancelled = true;
  }
}

/**
 * Timers sorted by deadline (insertion keeps the order; equal deadlines run
 * in the order they were set). Cancelled entries are skipped lazily: there
 * are few timers (one per socket with an idle timeout at most) and a socket
 * re-arms its timer only when the old one fires (see net/socket.ts), so the
 * list stays short.
 */
export class TimerList {
  private readonly entries: Entry[] = [];

  /** Adds a timer; returns its handle. */
  add(at: Instant, callback: () => void): DriverTimer {
    const entry = new Entry(at, callback);
    const list = this.entries;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, entry);
    return entry;
  }

  /** The earliest deadline of a live timer; NEVER if none. */
  next(): Instant {
    const list = this.entries;
    while (list.length > 0 && list[0]!.cancelled) list.shift();
    return list.length > 0 ? list[0]!.at : NEVER;
  }

  /** Runs every live timer due at `now`; returns whether any ran. */
  runDue(now: Instant): boolean {
    let ran = false;
    const list = this.entries;
    while (list.length > 0 && list[0]!.at <= now) {
      const entry = list.shift()!;
      if (entry.cancelled) continue;
      entry.cancelled = true;
      ran = true;
      entry.callback();
    }
    return ran;
  }

  /** Live timers (for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (const e of this.entries) if (!e.cancelled) n++;
    return n;
  }
}
