// Runs many deterministic simulation scenarios, one seed after another.
//
//   npm run soak -- --scenarios N [--from SEED]
//
// Shows progress (one line rewritten in place on a terminal, a line every 10%
// otherwise), ends with `N passed, N failed`, lists each failing seed with
// the command that reproduces it and the pcaps it wrote, and exits with
// status 1 if any seed failed. Failures of known, reported issues are listed
// apart and do not fail the soak.
import { parseArgs } from 'node:util';
import { reproduceCommand, runScenario, type ScenarioFailure } from '../src/sim/scenario/index.js';
import { defaultCaptureDir, writeCaptures } from './sim.js';

function main(): number {
  const { values } = parseArgs({
    options: {
      scenarios: { type: 'string', default: '100' },
      from: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.error('usage: npm run soak -- --scenarios N [--from SEED]');
    return 0;
  }
  const count = Number(values.scenarios);
  const from = Number(values.from);
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(from) || from < 0) {
    console.error('--scenarios must be a positive integer and --from a non-negative integer');
    return 2;
  }
  const tty = process.stdout.isTTY === true;
  const failed: Array<{ seed: number; failures: ScenarioFailure[] }> = [];
  const known = new Map<string, number[]>();
  const started = performance.now();
  let virtual = 0;
  let nextReport = 0.1;
  for (let i = 0; i < count; i++) {
    const seed = from + i;
    const result = runScenario(seed);
    virtual += result.virtualTime;
    if (!result.ok) failed.push({ seed, failures: result.failures });
    for (const k of result.known) {
      const seeds = known.get(k.check) ?? [];
      if (seeds[seeds.length - 1] !== seed) seeds.push(seed);
      known.set(k.check, seeds);
    }
    const done = i + 1;
    const line =
      `[${done}/${count}] seed ${seed}, ${failed.length} failed, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s (${(virtual / 3.6e9).toFixed(1)} h virtual)`;
    if (tty) {
      process.stdout.write(`\r${line}\x1b[K`);
      if (done === count) process.stdout.write('\n');
    } else if (done / count >= nextReport - 1e-9 || done === count) {
      console.log(line);
      while (done / count >= nextReport - 1e-9) nextReport += 0.1;
    }
  }
  for (const f of failed) {
    console.log(`seed ${f.seed}: ${reproduceCommand(f.seed)}`);
    for (const x of f.failures.slice(0, 3)) console.log(`  [${x.check}] ${x.message}`);
    // The same seed again, captured this time (capturing changes nothing in the run).
    const files = writeCaptures(runScenario(f.seed, { capture: true }), defaultCaptureDir(f.seed));
    if (files.length > 0) console.log(`  pcaps: ${files.join(' ')}`);
  }
  for (const [check, seeds] of known) {
    console.log(
      `known issue [${check}] in ${seeds.length} seeds (first: ${seeds.slice(0, 5).join(', ')})`,
    );
  }
  console.log(`${count - failed.length} passed, ${failed.length} failed`);
  return failed.length > 0 ? 1 : 0;
}

process.exit(main());
