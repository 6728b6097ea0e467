/**
 * The README's Node example runs as written: the code block under "Use it
 * from Node" is extracted, saved inside the package (so `tcpts/...` resolves
 * to this package by its own name) and run with node against the build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

test('the README example prints what the README says', () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Use it from Node'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(match, 'a js code block under "Use it from Node"');
  assert.ok(existsSync('dist/net/index.js'), 'the build (npm install runs it) produced dist/');
  mkdirSync('tmp', { recursive: true });
  writeFileSync('tmp/readme-example.mjs', match[1]!);
  const run = spawnSync(process.execPath, ['tmp/readme-example.mjs'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'echoed: hello, tcpts\n');
});
