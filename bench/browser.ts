/**
 * `npm run bench -- --browser`: row 1's in-memory bulk transfer at MTU 1500
 * in Chromium (Debian's, headless, through playwright-core), beside Node's
 * figure of the same run. Each run gets a fresh browser, as each Node run
 * gets a fresh process (no garbage or JIT state carried over), and the page
 * is cross-origin isolated, so its clock ticks in 5 µs (not 100 µs) steps.
 */
import { chromiumSkipReason, openBrowserPage } from '../test/helpers/browser.js';
import { sig3, summarize } from './lib/stats.js';

/** The browser figures of one bench run. */
export interface BrowserBench {
  mtu: number;
  bytes: number;
  /** Gbit/s of each run. */
  values: number[];
  median: number | null;
  /** Chromium's median over Node's (mem-bulk-1500) of the same run. */
  nodeRatio: number | null;
  skipped: string | null;
  errors: string[];
}

/** The target of the task: Chromium reaches at least 0.8x Node at MTU 1500. */
export const BROWSER_TARGET = 0.8;

/**
 * Row 1 at `mtu` in Chromium, one run at a time: bench/run.ts calls
 * {@link BrowserBulk.run} right after each round of the Node rows 1-3, so
 * both see the same load on a shared machine.
 */
export class BrowserBulk {
  readonly result: BrowserBench;
  private readonly runs: number;

  constructor(runs: number, bytes: number, mtu = 1500) {
    this.runs = runs;
    this.result = {
      mtu,
      bytes,
      values: [],
      median: null,
      nodeRatio: null,
      skipped: chromiumSkipReason() || null,
      errors: [],
    };
  }

  /** Run number `run`, printed as the Node rows print theirs. */
  async run(run: number): Promise<void> {
    const r = this.result;
    if (r.skipped !== null) return;
    const id = `chromium-mem-bulk-${r.mtu}`;
    const t0 = performance.now();
    const page = await openBrowserPage('bench/browser-page.ts');
    try {
      const gbps = await page.page.evaluate(
        ([m, b]) =>
          (
            globalThis as unknown as {
              tcpts: { memBulk(mtu: number, bytes: number): Promise<number> };
            }
          ).tcpts.memBulk(m, b),
        [r.mtu, r.bytes] as [number, number],
      );
      r.values.push(gbps);
      const took = ((performance.now() - t0) / 1000).toFixed(1);
      console.log(`  ${id} run ${run}/${this.runs}: gbps ${sig3(gbps)} (${took} s)`);
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      r.errors.push(message);
      console.log(`  ${id} run ${run}/${this.runs}: FAILED ${message}`);
    } finally {
      await page.close();
    }
    r.median = summarize(r.values)?.median ?? null;
  }
}

/** The table lines of the browser figure, against Node's median of the same row and MTU. */
export function browserLines(b: BrowserBench, nodeMedian: number | null): string[] {
  if (b.median !== null && nodeMedian !== null && nodeMedian > 0)
    b.nodeRatio = b.median / nodeMedian;
  const label = `in memory, MTU ${b.mtu}, in Chromium (headless)`.padEnd(56);
  let value: string;
  if (b.skipped !== null) value = `skipped: ${b.skipped}`;
  else if (b.median === null) value = `failed: ${b.errors[0]?.slice(0, 100) ?? 'no value'}`;
  else {
    const s = summarize(b.values)!;
    value = `${sig3(s.median)} Gbit/s (${b.values.map(sig3).join(', ')})`;
  }
  const ratio =
    b.nodeRatio !== null ? `  ${b.nodeRatio.toFixed(2)}x Node (${sig3(nodeMedian!)})` : '';
  return [
    '',
    '1b. bulk throughput in a browser: the row 1 transfer in Chromium',
    `   tcpts  ${label} ${value}${ratio}`,
  ];
}
