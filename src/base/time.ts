/**
 * Time for the sans-IO core. The core never reads a clock: every input comes
 * with an `Instant`, and deadlines go out as `Instant`s. Both are integral
 * microseconds (packetdrill and TCP_INFO speak microseconds; 2^53 µs is
 * 285 years, so a plain number is exact). The brands keep a point in time
 * apart from a length of time.
 */
export type Instant = number & { readonly __instant: unique symbol };
export type Duration = number & { readonly __duration: unique symbol };

/** A deadline that never comes: the answer of `pollTimeout()` with no timer armed. */
export const NEVER = Number.POSITIVE_INFINITY as Instant;

/** An instant `micros` microseconds after the driver's epoch. */
export function instant(micros: number): Instant {
  return micros as Instant;
}

export function micros(n: number): Duration {
  return Math.round(n) as Duration;
}

export function millis(n: number): Duration {
  return Math.round(n * 1000) as Duration;
}

export function seconds(n: number): Duration {
  return Math.round(n * 1_000_000) as Duration;
}

export const ZERO_DURATION = 0 as Duration;

/** `t + d`. */
export function later(t: Instant, d: Duration): Instant {
  return (t + d) as Instant;
}

/** `a - b` as a duration (negative if `a` is before `b`). */
export function elapsed(a: Instant, b: Instant): Duration {
  return (a - b) as Duration;
}

/** The earlier of two instants. */
export function earliest(a: Instant, b: Instant): Instant {
  return a < b ? a : b;
}

export function minDuration(a: Duration, b: Duration): Duration {
  return a < b ? a : b;
}

export function maxDuration(a: Duration, b: Duration): Duration {
  return a > b ? a : b;
}

/** Whole milliseconds of a duration, rounded down. */
export function toMillis(d: Duration): number {
  return Math.floor(d / 1000);
}
