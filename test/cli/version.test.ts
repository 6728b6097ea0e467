// `tcpts --version` and `-V` print the version of package.json, in process
// and as the installed command runs (the built dist/ when there is one, the
// sources through tsx otherwise: both sit two folders below package.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProgram } from '../../src/cli/main.js';

const ROOT = join(import.meta.dirname, '..', '..');
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

test('--version and -V print the package version and exit 0', async () => {
  assert.match(VERSION, /^\d+\.\d+\.\d+/);
  for (const flag of ['--version', '-V']) {
    const out: string[] = [];
    const err: string[] = [];
    const status = await runProgram([flag], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    assert.equal(status, 0);
    assert.deepEqual(out, [VERSION]);
    assert.deepEqual(err, []);
  }
});

test('the tcpts program prints its version', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), '--version'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${VERSION}\n`);
});
