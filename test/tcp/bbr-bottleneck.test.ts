/**
 * BBR in real connections across the dumbbell (test/tcp/bottleneck.ts), in
 * virtual time: it fills the link with a short queue where CUBIC fills the
 * buffer, keeps its rate under random loss, shares fairly with itself, and
 * coexists with CUBIC. CUBIC's figures are printed beside BBR's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BbrState } from '../../src/tcp/index.js';
import { Dumbbell, type FlowSpec } from './bottleneck.js';

const SECOND = 1000;
const BUFFERS = { receiveBufferSize: 16 << 20, sendBufferSize: 16 << 20 };
/** 50 Mbit/s and a 20 ms base RTT: a BDP of 125 kB; the buffer holds four. */
const LINK = { rateBps: 50e6, bufferBytes: 4 * 125_000, delayMs: 10 };

function flow(congestionControl: string, startMs = 0): FlowSpec {
  return { config: { congestionControl, ...BUFFERS }, startMs };
}

/** Jain's fairness index of the shares (1 when all are equal). */
function jain(xs: number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0);
  const squares = xs.reduce((a, b) => a + b * b, 0);
  return (sum * sum) / (xs.length * squares);
}

const mbit = (bps: number): string => `${(bps / 1e6).toFixed(1)} Mbit/s`;

test('BBR fills a 50 Mbit/s, 20 ms bottleneck with a 4-BDP buffer and keeps its queue short; CUBIC fills the buffer', () => {
  const endMs = 6 * SECOND;
  // BBR: step in 100 ms slices to see when Startup and Drain end.
  const bbr = new Dumbbell(LINK, [flow('bbr')]);
  let startupEndMs = -1;
  for (let t = 100; t <= endMs; t += 100) {
    bbr.run(t);
    const state = bbr.flows[0]!.client.stats().bbr!.state;
    if (startupEndMs < 0 && state !== BbrState.Startup && state !== BbrState.Drain)
      startupEndMs = t;
  }
  assert.ok(
    startupEndMs > 0 && startupEndMs < 2 * SECOND,
    `Startup and Drain end (${startupEndMs} ms)`,
  );
  const from = startupEndMs + 500;
  const bbrRate = bbr.flows[0]!.goodputBps(from, endMs, 100);
  const bbrDelay = bbr.medianQueueDelayUs(from, endMs);
  const bbrStats = bbr.flows[0]!.client.stats();

  const cubic = new Dumbbell(LINK, [flow('cubic')]);
  cubic.run(endMs);
  const cubicRate = cubic.flows[0]!.goodputBps(from, endMs, 100);
  const cubicDelay = cubic.medianQueueDelayUs(from, endMs);

  console.log(
    `# 50 Mbit/s, 20 ms, 4-BDP buffer, from ${from} ms to ${endMs} ms:\n` +
      `#   BBR   ${mbit(bbrRate)}, median queueing delay ${(bbrDelay / 1000).toFixed(2)} ms, ` +
      `max queue ${bbr.maxQueueBytes} B, drops ${bbr.flows[0]!.drops}, Startup+Drain ended by ${startupEndMs} ms\n` +
      `#   CUBIC ${mbit(cubicRate)}, median queueing delay ${(cubicDelay / 1000).toFixed(2)} ms, ` +
      `max queue ${cubic.maxQueueBytes} B, drops ${cubic.flows[0]!.drops}`,
  );
  // Goodput counts payload only: 1448 of every 1488 bytes on the link.
  assert.ok(bbrRate >= 0.9 * LINK.rateBps, `BBR ${mbit(bbrRate)}`);
  assert.ok(bbrDelay <= 0.25 * 20_000, `BBR median queueing delay ${bbrDelay} µs`);
  assert.equal(bbrStats.retransmitTimeouts, 0);
  const info = bbrStats.bbr!;
  assert.ok(info.minRtt >= 20_000 && info.minRtt < 22_000, `min_rtt ${info.minRtt} µs`);
  assert.ok(
    info.maxBw > 0.9 * (LINK.rateBps / 8) && info.maxBw < 1.05 * (LINK.rateBps / 8),
    `max_bw ${info.maxBw} B/s`,
  );
  assert.equal(bbrStats.pacingRate, Math.round(info.pacingRate));
  // The contrast that makes the test worth having: CUBIC keeps the buffer full.
  assert.ok(cubicDelay > 4 * bbrDelay + 1000, `CUBIC ${cubicDelay} µs`);
});

test('under 1% random loss BBR keeps far more goodput than CUBIC', () => {
  const lossy = { ...LINK, lossRate: 0.01 };
  const endMs = 10 * SECOND;
  const rates: Record<string, number> = {};
  for (const cc of ['bbr', 'cubic']) {
    const d = new Dumbbell(lossy, [flow(cc)], 100, 7);
    d.run(endMs);
    rates[cc] = d.flows[0]!.goodputBps(2 * SECOND, endMs, 100);
    const s = d.flows[0]!.client.stats();
    console.log(
      `# 1% loss, 2-10 s: ${cc} ${mbit(rates[cc]!)}, drops ${d.flows[0]!.drops}, ` +
        `retransmitted ${s.segmentsRetransmitted}, timeouts ${s.retransmitTimeouts}`,
    );
  }
  assert.ok(
    rates.bbr! > 1.5 * rates.cubic!,
    `BBR ${mbit(rates.bbr!)} vs CUBIC ${mbit(rates.cubic!)}`,
  );
  assert.ok(rates.bbr! > 0.3 * LINK.rateBps, `BBR ${mbit(rates.bbr!)}`);
});

test('two BBR flows started 2 s apart share the bottleneck fairly (Jain index over the last 10 s)', () => {
  const d = new Dumbbell(LINK, [flow('bbr'), flow('bbr', 2 * SECOND)]);
  // BBR converges slowly with a deep buffer (each bandwidth probe shifts
  // the shares a little); 40 s leaves 28 s after the second flow's Startup.
  const endMs = 40 * SECOND;
  d.run(endMs);
  const shares = d.flows.map((f) => f.goodputBps(endMs - 10 * SECOND, endMs, 100));
  const index = jain(shares);
  console.log(
    `# two BBR flows, last 10 s: ${shares.map(mbit).join(' and ')}, Jain index ${index.toFixed(3)}, ` +
      `median queueing delay ${(d.medianQueueDelayUs(endMs - 10 * SECOND, endMs) / 1000).toFixed(2)} ms`,
  );
  assert.ok(index >= 0.95, `Jain index ${index}`);
  assert.ok(shares[0]! + shares[1]! > 0.85 * LINK.rateBps, 'the link stays full');
});

test('BBR against CUBIC: both make progress (shares reported)', () => {
  const d = new Dumbbell(LINK, [flow('bbr'), flow('cubic', 1 * SECOND)]);
  const endMs = 20 * SECOND;
  d.run(endMs);
  const [bbr, cubic] = d.flows.map((f) => f.goodputBps(5 * SECOND, endMs, 100));
  console.log(
    `# BBR vs CUBIC, 5-20 s: BBR ${mbit(bbr!)}, CUBIC ${mbit(cubic!)}, ` +
      `median queueing delay ${(d.medianQueueDelayUs(5 * SECOND, endMs) / 1000).toFixed(2)} ms`,
  );
  assert.ok(bbr! > 0 && cubic! > 0);
});
