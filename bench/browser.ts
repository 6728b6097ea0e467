/**
 * `npm run bench -- --browser`: row 1's in-memory bulk transfer at MTU 1500
 * in Chromium (Debian's, headless, through playwright-core), beside Node's
 * figure of the same run. Each run gets a fresh browser, as each Node run
 * gets a fresh process (no garbage or JIT state carried over).
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

/** Runs row 1 at `mtu` `runs` times in Chromium, printing each run as the Node rows do. */
export async function runBrowserBulk(
  runs: number,
  bytes: number,
  mtu = 1500,
): Promise<BrowserBench> {
  const result: BrowserBench = {
    mtu,
    bytes,
    values: [],
    median: null,
    nodeRatio: null,
    skipped: chromiumSkipReason() || null,
    errors: [],
  };
  if (result.skipped !== null) return result;
  for (let run = 1; run <= runs; run++) {
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
        [mtu, bytes] as [number, number],
      );
      result.values.push(gbps);
      console.log(
        `  chromium-mem-bulk-${mtu} run ${run}/${runs}: gbps ${sig3(gbps)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      result.errors.push(message);
      console.log(`  chromium-mem-bulk-${mtu} run ${run}/${runs}: FAILED ${message}`);
    } finally {
      await page.close();
    }
  }
  result.median = summarize(result.values)?.median ?? null;
  return result;
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
