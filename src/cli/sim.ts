/**
 * `tcpts sim`: runs one deterministic simulation scenario (from a seed, or a
 * saved plan) and checks its invariants. Only argument handling and output
 * live here; the harness is sim/'s (planScenario, runPlan, describePlan).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  describePlan,
  planScenario,
  reproduceCommand,
  runPlan,
  type ScenarioPlan,
  type ScenarioResult,
} from '../sim/scenario/index.js';
import { parseCommandArgs, type CommandIo } from './args.js';

/** `tcpts sim --help`. */
export const SIM_USAGE = `Usage: tcpts sim (--seed N | --plan FILE.json) [--pcap DIR] [--verbose] [--strict]

Runs one seeded simulation scenario in virtual time and checks its
invariants (every byte delivered once and in order, both ends finish, no
stuck connection, consistent counters). Prints what the seed chose
(topology, impairments, TCP options, workloads) and what happened.

On a failure it prints the broken invariants, writes a pcap of every link and
the plan as plan.json (to DIR, or tmp/sim/seed-N) and exits with status 1.

Options:
  --seed N          the scenario of seed N (0 to 4294967295)
  --plan FILE.json  run a saved plan (a plan.json a failing run wrote)
  --pcap DIR        write the captures and plan.json to DIR even on success
  --verbose         print connections, state changes and cuts as they happen
  --strict          count known issues as failures too
  -h, --help        this help`;

const MAX_SEED = 0xffffffff;

/** Writes plan.json and one pcap per link into `dir`; returns the file names. */
export function writeCaptures(result: ScenarioResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, `${JSON.stringify(result.plan, null, 2)}\n`);
  const files = [planFile];
  for (const capture of result.captures) {
    const file = join(dir, `${capture.name}.pcap`);
    writeFileSync(file, capture.bytes);
    files.push(file);
  }
  return files;
}

/** Where a failing seed's captures go unless --pcap says otherwise. */
export function defaultCaptureDir(seed: number): string {
  return join('tmp', 'sim', `seed-${seed}`);
}

/** `value` as a seed, or null. */
export function parseSeed(value: string): number | null {
  if (!/^\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n <= MAX_SEED ? n : null;
}

/** Reads a saved plan, or says in one line why it is not one. */
function readPlan(path: string): ScenarioPlan | string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code;
    return `tcpts sim: cannot read ${path}: ${why ?? String(error)}`;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return `tcpts sim: ${path} is not JSON (${(error as Error).message})`;
  }
  // The harness trusts a plan's shape; check the parts every run touches first.
  const plan = data as Partial<Record<keyof ScenarioPlan, unknown>> | null;
  if (
    typeof plan !== 'object' ||
    plan === null ||
    typeof plan.seed !== 'number' ||
    !Array.isArray(plan.hosts) ||
    !Array.isArray(plan.links) ||
    !Array.isArray(plan.workloads)
  ) {
    return `tcpts sim: ${path} is not a scenario plan (want an object with seed, hosts, links and workloads, as a failing run writes to plan.json)`;
  }
  return data as ScenarioPlan;
}

/** Runs `tcpts sim` with `args`; returns the exit status. */
export function runSim(args: string[], io: CommandIo): number {
  const parsed = parseCommandArgs('sim', args, {
    seed: { type: 'string' },
    plan: { type: 'string' },
    pcap: { type: 'string' },
    verbose: { type: 'boolean' },
    strict: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  const values = parsed.values;
  if (values.help === true) {
    io.out(SIM_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    io.err(`tcpts sim: unexpected argument '${parsed.positionals[0]}' (see 'tcpts sim --help')`);
    return 2;
  }
  const seedText = typeof values.seed === 'string' ? values.seed : undefined;
  const planPath = typeof values.plan === 'string' ? values.plan : undefined;
  const pcapDir = typeof values.pcap === 'string' ? values.pcap : undefined;
  if ((seedText === undefined) === (planPath === undefined)) {
    io.err(`tcpts sim: give one of --seed N or --plan FILE.json (see 'tcpts sim --help')`);
    return 2;
  }
  let plan: ScenarioPlan;
  if (planPath !== undefined) {
    const read = readPlan(planPath);
    if (typeof read === 'string') {
      io.err(read);
      return 2;
    }
    plan = read;
  } else {
    const seed = parseSeed(seedText!);
    if (seed === null) {
      io.err(
        `tcpts sim: --seed takes a whole number from 0 to ${MAX_SEED}, got '${seedText}' (see 'tcpts sim --help')`,
      );
      return 2;
    }
    plan = planScenario(seed);
  }
  const seed = plan.seed;
  const again = planPath !== undefined ? `tcpts sim --plan ${planPath}` : reproduceCommand(seed);
  const started = performance.now();
  const result = runPlan(plan, {
    capture: pcapDir !== undefined,
    strict: values.strict === true,
    trace: values.verbose === true ? (line) => io.out(`  ${line}`) : null,
  });
  const wall = performance.now() - started;
  for (const line of describePlan(result.plan)) io.out(line);
  io.out('--');
  for (const line of result.summary) io.out(line);
  io.out(
    `${(result.virtualTime / 1e6).toFixed(3)} s of virtual time in ${(wall / 1000).toFixed(2)} s, ` +
      `${result.steps} steps, ${result.totals.connections} connection ends, ` +
      `${result.totals.bytesDelivered} bytes delivered, ${result.totals.tcpSegmentsOnWire} TCP segments sent`,
  );
  for (const k of result.known) io.out(`known issue [${k.check}] ${k.message}`);
  let captures = result;
  if (!result.ok && pcapDir === undefined) {
    // Same plan, same run: capture it this time (the tap changes nothing).
    captures = runPlan(plan, { capture: true });
  }
  if (pcapDir !== undefined || !result.ok) {
    for (const file of writeCaptures(captures, pcapDir ?? defaultCaptureDir(seed))) {
      io.out(`wrote ${file}`);
    }
  }
  if (result.ok) {
    const note = result.known.length > 0 ? ' (only known issues, listed above)' : '';
    io.out(`PASS seed ${seed}${note}`);
    return 0;
  }
  for (const f of result.failures) io.out(`FAIL [${f.check}] ${f.message}`);
  io.out(`FAIL seed ${seed}: reproduce with ${again}`);
  return 1;
}
