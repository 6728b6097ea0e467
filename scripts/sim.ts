// Runs one deterministic simulation scenario and checks its invariants.
//
//   npm run sim -- --seed 1234 [--pcap DIR] [--verbose]
//
// Prints what the seed chose (topology, impairments, TCP options, workloads)
// and what happened. On an invariant failure it prints the failures, writes a
// pcap of every link (to DIR, or tmp/sim/seed-N) and exits with status 1.
// With --pcap the captures are written whether or not the scenario passes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  describePlan,
  reproduceCommand,
  runScenario,
  type ScenarioResult,
} from '../src/sim/index.js';

/** Writes one pcap per link into `dir`; returns the file names. */
export function writeCaptures(result: ScenarioResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const c of result.captures) {
    const file = join(dir, `${c.name}.pcap`);
    writeFileSync(file, c.bytes);
    files.push(file);
  }
  return files;
}

/** Where a failing seed's captures go unless --pcap says otherwise. */
export function defaultCaptureDir(seed: number): string {
  return join('tmp', 'sim', `seed-${seed}`);
}

function main(): number {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      pcap: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help || values.seed === undefined) {
    console.error('usage: npm run sim -- --seed N [--pcap DIR] [--verbose]');
    return values.help ? 0 : 2;
  }
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    console.error(`--seed must be an integer from 0 to 4294967295, got '${values.seed}'`);
    return 2;
  }
  const started = performance.now();
  const result = runScenario(seed, {
    capture: values.pcap !== undefined,
    trace: values.verbose ? (line) => console.log(`  ${line}`) : null,
  });
  const wall = performance.now() - started;
  for (const line of describePlan(result.plan)) console.log(line);
  console.log('--');
  for (const line of result.summary) console.log(line);
  console.log(
    `${(result.virtualTime / 1e6).toFixed(3)} s of virtual time in ${(wall / 1000).toFixed(2)} s, ` +
      `${result.steps} steps, ${result.totals.connections} connection ends, ` +
      `${result.totals.bytesDelivered} bytes delivered, ${result.totals.tcpSegmentsOnWire} TCP segments sent`,
  );
  for (const k of result.known) console.log(`known issue [${k.check}] ${k.message}`);
  let captures = result;
  if (!result.ok && values.pcap === undefined) {
    // Same seed, same run: capture it this time (the tap changes nothing).
    captures = runScenario(seed, { capture: true });
  }
  if (values.pcap !== undefined || !result.ok) {
    const dir = values.pcap ?? defaultCaptureDir(seed);
    for (const file of writeCaptures(captures, dir)) console.log(`wrote ${file}`);
  }
  if (result.ok) {
    const note = result.known.length > 0 ? ' (only known issues, listed above)' : '';
    console.log(`PASS seed ${seed}${note}`);
    return 0;
  }
  for (const f of result.failures) console.log(`FAIL [${f.check}] ${f.message}`);
  console.log(`FAIL seed ${seed}: reproduce with ${reproduceCommand(seed)}`);
  return 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main());
