/**
 * `tcpts soak`: many seeded simulation scenarios, one after another, with a
 * progress line, ending `N passed, N failed`. Only argument handling and
 * output live here; each scenario is sim/'s runScenario.
 */
import { reproduceCommand, runScenario, type ScenarioFailure } from '../sim/scenario/index.js';
import { parseCommandArgs, positiveInteger, type CommandIo } from './args.js';
import type { ProgressStream } from './progress.js';
import { defaultCaptureDir, parseSeed, writeCaptures } from './sim.js';

/** `tcpts soak --help`. */
export const SOAK_USAGE = `Usage: tcpts soak [--scenarios N] [--from SEED]

Runs N seeded simulation scenarios (seeds SEED, SEED+1, ...) and checks the
invariants of each, as 'tcpts sim --seed N' does. Shows a progress line
(rewritten in place on a terminal, one line every 10% otherwise), ends with
'N passed, N failed', lists each failing seed with the command that
reproduces it and the pcaps it wrote, and exits with status 1 if any seed
failed. Failures of known, reported issues are listed apart and do not fail
the soak.

Options:
  --scenarios N  how many scenarios (default 100)
  --from SEED    the first seed (default 1)
  -h, --help     this help`;

/** Where the soak writes; `progress` (a terminal) takes the line redrawn in place. */
export interface SoakIo extends CommandIo {
  progress?: ProgressStream;
}

/** Runs `tcpts soak` with `args`; returns the exit status. */
export function runSoak(args: string[], io: SoakIo): number {
  const parsed = parseCommandArgs('soak', args, {
    scenarios: { type: 'string' },
    from: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  const values = parsed.values;
  if (values.help === true) {
    io.out(SOAK_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    io.err(`tcpts soak: unexpected argument '${parsed.positionals[0]}' (see 'tcpts soak --help')`);
    return 2;
  }
  const count = positiveInteger(
    'soak',
    'scenarios',
    typeof values.scenarios === 'string' ? values.scenarios : '100',
  );
  if (typeof count === 'string') {
    io.err(count);
    return 2;
  }
  const fromText = typeof values.from === 'string' ? values.from : '1';
  const from = parseSeed(fromText);
  if (from === null) {
    io.err(
      `tcpts soak: --from takes a seed, a whole number from 0 to 4294967295, got '${fromText}' (see 'tcpts soak --help')`,
    );
    return 2;
  }
  const terminal = io.progress?.isTTY === true ? io.progress : null;
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
    if (terminal !== null) {
      terminal.write(`\r${line}\x1b[K${done === count ? '\n' : ''}`);
    } else if (done / count >= nextReport - 1e-9 || done === count) {
      io.out(line);
      while (done / count >= nextReport - 1e-9) nextReport += 0.1;
    }
  }
  for (const f of failed) {
    io.out(`seed ${f.seed}: ${reproduceCommand(f.seed)}`);
    for (const x of f.failures.slice(0, 3)) io.out(`  [${x.check}] ${x.message}`);
    // The same seed again, captured this time (capturing changes nothing in the run).
    const files = writeCaptures(runScenario(f.seed, { capture: true }), defaultCaptureDir(f.seed));
    if (files.length > 0) io.out(`  pcaps: ${files.join(' ')}`);
  }
  for (const [check, seeds] of known) {
    io.out(
      `known issue [${check}] in ${seeds.length} seeds (first: ${seeds.slice(0, 5).join(', ')})`,
    );
  }
  io.out(`${count - failed.length} passed, ${failed.length} failed`);
  return failed.length > 0 ? 1 : 0;
}
