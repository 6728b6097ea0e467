/** Summaries and formatting of measured figures. */

/** Median, minimum and maximum of several runs. */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** The median (mean of the middle two for an even count), min and max; null for no values. */
export function summarize(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** A number with three significant digits (1.23, 12.3, 123, 1234), as the table shows them. */
export function sig3(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(3);
}

/** Bits per second from bytes and seconds, in Gbit/s. */
export function gbits(bytes: number, seconds: number): number {
  return (bytes * 8) / seconds / 1e9;
}
