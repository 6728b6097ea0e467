// Runs one deterministic simulation scenario and checks its invariants.
//
//   npm run sim -- --seed 1234 [--pcap DIR] [--verbose] [--strict]
//   npm run sim -- --plan FILE.json [...]
//
// Prints what the seed chose (topology, impairments, TCP options, workloads)
// and what happened. On an invariant failure it prints the failures, writes a
// pcap of every link and the plan as plan.json (to DIR, or tmp/sim/seed-N)
// and exits with status 1. With --pcap the captures are written whether or
// not the scenario passes. --plan runs a saved plan (a plan.json, or one of
// the REGRESSIONS of test/sim/dst.test.ts); --strict counts known issues too.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import {
  describePlan,
  planScenario,
  reproduceCommand,
  runPlan,
  type ScenarioPlan,
  type ScenarioResult,
} from '../src/sim/scenario/index.js';

/** Writes one pcap per link into `dir`; returns the file names. */
export function writeCaptures(result: ScenarioResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, `${JSON.stringify(result.plan, null, 2)}\n`);
  files.push(planFile);
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
      plan: { type: 'string' },
      pcap: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help || (values.seed === undefined) === (values.plan === undefined)) {
    console.error(
      'usage: npm run sim -- --seed N | --plan FILE.json [--pcap DIR] [--verbose] [--strict]',
    );
    return values.help ? 0 : 2;
  }
  let plan: ScenarioPlan;
  if (values.plan !== undefined) {
    plan = JSON.parse(readFileSync(values.plan, 'utf8')) as ScenarioPlan;
  } else {
    const n = Number(values.seed);
    if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) {
      console.error(`--seed must be an integer from 0 to 4294967295, got '${values.seed}'`);
      return 2;
    }
    plan = planScenario(n);
  }
  const seed = plan.seed;
  const again =
    values.plan !== undefined ? `npm run sim -- --plan ${values.plan}` : reproduceCommand(seed);
  const started = performance.now();
  const result = runPlan(plan, {
    capture: values.pcap !== undefined,
    strict: values.strict,
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
    captures = runPlan(plan, { capture: true });
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
  console.log(`FAIL seed ${seed}: reproduce with ${again}`);
  return 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main());
