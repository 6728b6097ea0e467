// The reporter scripts/run-tests.mjs adds: skipped tests summed up by reason
// at the end of the run, so a missing tool is seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPORTER = join(import.meta.dirname, '..', '..', 'scripts', 'skip-summary.mjs');

test('skipped tests are counted by reason after the run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-skips-'));
  try {
    const file = join(dir, 'sample.test.mjs');
    writeFileSync(
      file,
      [
        "import { test } from 'node:test';",
        "test('a', { skip: 'frobnicator is not installed' }, () => {});",
        "test('b', { skip: 'frobnicator is not installed' }, () => {});",
        "test('c', (t) => t.skip('no root'));",
        "test('d', () => {});",
      ].join('\n'),
    );
    const r = spawnSync(
      process.execPath,
      ['--test', `--test-reporter=${REPORTER}`, '--test-reporter-destination=stdout', file],
      // Without the parent's NODE_TEST_CONTEXT, the child reports as a run of its own.
      { encoding: 'utf8', env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      '\n3 test(s) skipped:\n     2  frobnicator is not installed\n     1  no root\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
