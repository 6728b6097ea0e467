/**
 * A one-line progress bar for long runs, redrawn in place on a terminal and
 * silent anywhere else (a pipe, a file, a test), so `tcpts demo ... > out`
 * holds only the results.
 */

/** Where a bar draws: a stream that may be a terminal (process.stderr fits). */
export interface ProgressStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of {@link ProgressBar}. */
export interface ProgressOptions {
  /** What is counted, after the numbers ("bytes delivered"). */
  unit: string;
  /** The count at which the bar is full. */
  total: number;
  /** Milliseconds from some origin; redraws are at most every `intervalMs` of it. */
  clock: () => number;
  /** Default 100 ms. */
  intervalMs?: number;
}

const BAR_WIDTH = 20;

/** "12.3 MB", "456 kB", "789 B": decimal units, as the bar prints counts of bytes. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

/**
 * A progress bar. {@link ProgressBar.update} is cheap to call often: it
 * redraws only when the clock has moved on. {@link ProgressBar.finish}
 * erases the line so what follows starts clean.
 */
export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly options: ProgressOptions;
  private readonly interval: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(stream: ProgressStream, options: ProgressOptions) {
    this.stream = stream;
    this.options = options;
    this.interval = options.intervalMs ?? 100;
  }

  /** Reports `done` of the total; `detail` is appended (virtual time, say). */
  update(done: number, detail = ''): void {
    const now = this.options.clock();
    if (now - this.lastDraw < this.interval) return;
    this.lastDraw = now;
    this.stream.write(`\r${this.line(done, detail)}\u001b[K`);
    this.drawn = true;
  }

  /** Erases the bar (if one was drawn). */
  finish(): void {
    if (this.drawn) this.stream.write('\r\u001b[K');
    this.drawn = false;
  }

  /** The text of the bar for `done` (without the carriage return). */
  line(done: number, detail = ''): string {
    const total = this.options.total;
    const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    let text = `${bar} ${percent}  ${formatBytes(done)} of ${formatBytes(total)} ${this.options.unit}`;
    if (detail !== '') text += `  ${detail}`;
    // A terminal of unknown size (0 columns, as under script(1)) is taken as 80 wide.
    const columns =
      this.stream.columns !== undefined && this.stream.columns > 0 ? this.stream.columns : 80;
    return text.length >= columns ? text.slice(0, columns - 1) : text;
  }
}

/** A bar on `stream` when it is a terminal, else null (be quiet). */
export function progressBarFor(
  stream: ProgressStream,
  options: ProgressOptions,
): ProgressBar | null {
  return stream.isTTY === true ? new ProgressBar(stream, options) : null;
}
