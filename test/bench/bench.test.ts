// `npm run bench` in its tiny mode (a few MB, a few connections, one run):
// every job of every row still runs to the end and the report holds what
// the README says it holds. Nothing here looks at how fast anything was:
// benchmarks are not tests (docs/architecture.md), and a loaded CI machine's figures
// mean nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Figure {
  id: string;
  row: number;
  label: string;
  unit: string;
  kernel: boolean;
  values: number[];
  median: number | null;
  min: number | null;
  max: number | null;
  reference: string | null;
  ratio: number | null;
  skipped: string | null;
  errors: string[];
}

interface Report {
  mode: string;
  machine: { nproc: number; memoryBytes: number; kernel: string; cpuModel: string; node: string };
  figures: Figure[];
  targets: { what: string; value: number | null; met: boolean | null }[];
}

test('npm run bench -- --tiny runs every row and writes the report', { timeout: 300_000 }, (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tcpts-bench-'));
  try {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--tiny', '--out', out],
      { cwd: ROOT, encoding: 'utf8', timeout: 280_000 },
    );
    assert.equal(r.status, 0, `bench exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 1, 'one JSON report');
    assert.deepEqual(
      readdirSync(out).filter((f) => f.endsWith('.cpuprofile')),
      [],
      'the tiny mode profiles nothing',
    );
    const report = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as Report;
    assert.equal(report.mode, 'tiny');
    assert.ok(report.machine.nproc >= 1);
    assert.ok(report.machine.memoryBytes > 0);
    assert.equal(report.machine.node, process.version);
    assert.ok(report.machine.kernel.length > 0 && report.machine.cpuModel.length > 0);

    const rows = new Set(report.figures.map((f) => f.row));
    assert.deepEqual([...rows].sort(), [1, 2, 3, 4, 5, 6, 7], 'all seven rows');
    for (const f of report.figures) {
      // The table on the terminal shows every figure under its row.
      assert.ok(r.stdout.includes(f.label), `${f.id} is in the table`);
      if (f.skipped !== null) {
        assert.ok(f.skipped.length > 10, `${f.id} says why it was skipped`);
        assert.equal(f.values.length, 0);
        t.diagnostic(`${f.id} skipped: ${f.skipped}`);
        continue;
      }
      assert.deepEqual(f.errors, [], `${f.id} ran without errors`);
      assert.equal(f.values.length, 1, `${f.id}: one run in tiny mode`);
      assert.ok(Number.isFinite(f.median), `${f.id} has a figure`);
      assert.ok(f.min! <= f.median! && f.median! <= f.max!);
      if (f.unit !== 'bytes') assert.ok(f.median! > 0, `${f.id}: something moved`);
    }
    // Every tcpts figure whose kernel figure was measured is printed with the ratio.
    const byId = new Map(report.figures.map((f) => [f.id, f]));
    let ratios = 0;
    for (const f of report.figures) {
      if (f.kernel) {
        assert.equal(f.reference, null, 'kernel figures are the yardstick, not compared');
        continue;
      }
      assert.ok(f.reference !== null, `${f.id} has a kernel figure to compare with`);
      const ref = byId.get(f.reference);
      assert.ok(ref !== undefined && ref.kernel, `${f.id}'s reference is a kernel figure`);
      if (f.median !== null && ref.median !== null && ref.median !== 0) {
        assert.ok(Math.abs(f.ratio! - f.median / ref.median) < 1e-9);
        ratios++;
      }
    }
    t.diagnostic(`${ratios} tcpts figures with a kernel ratio`);
    assert.ok(ratios > 0 || report.figures.some((f) => f.skipped !== null));
    assert.ok(report.targets.length >= 8, "the issue's targets are judged");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
