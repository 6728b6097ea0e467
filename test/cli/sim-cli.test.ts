// `tcpts sim` and `tcpts soak` (and their `npm run` aliases): bad usage is
// one line on stderr and status 2, never a stack trace; a seed runs and
// passes; a plan a run wrote runs again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '../../src/cli/main.js';

const ROOT = join(import.meta.dirname, '..', '..');

async function run(argv: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runProgram(argv, {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  });
  return { status, out, err };
}

test('bad usage of sim and soak is one line and status 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-sim-'));
  try {
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{ nope');
    const notPlan = join(dir, 'other.json');
    writeFileSync(notPlan, '{"seed": 1}');
    const cases: Array<[string[], RegExp]> = [
      [
        ['soak', '--scenarios', '-1'],
        /^tcpts soak: --scenarios takes a positive whole number, got '-1'/,
      ],
      [
        ['soak', '--scenarios=-1'],
        /^tcpts soak: --scenarios takes a positive whole number, got '-1'/,
      ],
      [['soak', '--scenarios', '0'], /^tcpts soak: --scenarios takes a positive whole number/],
      [['soak', '--from', 'x'], /^tcpts soak: --from takes a seed/],
      [['soak', '--frob'], /^tcpts soak: unknown option '--frob'/],
      [['sim', '--frob'], /^tcpts sim: unknown option '--frob'/],
      [['sim'], /^tcpts sim: give one of --seed N or --plan FILE.json/],
      [['sim', '--seed', '1', '--plan', notPlan], /^tcpts sim: give one of/],
      [
        ['sim', '--seed', '4294967296'],
        /^tcpts sim: --seed takes a whole number from 0 to 4294967295/,
      ],
      [
        ['sim', '--plan', '/nonexistent.json'],
        /^tcpts sim: cannot read \/nonexistent.json: no such file$/,
      ],
      [['sim', '--plan', notJson], /^tcpts sim: .*bad.json is not JSON/],
      [['sim', '--plan', notPlan], /^tcpts sim: .*other.json is not a scenario plan/],
    ];
    for (const [argv, expected] of cases) {
      const r = await run(argv);
      assert.equal(r.status, 2, argv.join(' '));
      assert.equal(r.err.length, 1, argv.join(' '));
      assert.match(r.err[0]!, expected);
      assert.deepEqual(r.out, []);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sim and soak have --help and are listed by tcpts --help', async () => {
  const help = await run(['--help']);
  assert.match(help.out.join('\n'), /\n {2}sim {6}run one seeded simulation scenario/);
  assert.match(help.out.join('\n'), /\n {2}soak {5}run many seeded simulation scenarios/);
  for (const name of ['sim', 'soak']) {
    const r = await run([name, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.out[0]!, new RegExp(`^Usage: tcpts ${name} `));
  }
});

test('sim --seed runs a scenario; the plan it writes runs again with --plan', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-sim-'));
  try {
    const first = await run(['sim', '--seed', '5', '--pcap', dir]);
    assert.equal(first.status, 0, first.out.join('\n'));
    assert.equal(first.out.at(-1), 'PASS seed 5');
    assert.ok(first.out.includes(`wrote ${join(dir, 'plan.json')}`));
    assert.equal(JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')).seed, 5);
    const again = await run(['sim', '--plan', join(dir, 'plan.json')]);
    assert.equal(again.status, 0);
    assert.equal(again.out.at(-1), 'PASS seed 5');
    // The same plan gives the same run: everything but the wall-clock line.
    const same = (lines: string[]) =>
      lines.filter((l) => !/ s of virtual time in /.test(l) && !l.startsWith('wrote '));
    assert.deepEqual(same(again.out), same(first.out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('soak runs N seeds and ends with the tally', async () => {
  const r = await run(['soak', '--scenarios', '2', '--from', '3']);
  assert.equal(r.status, 0);
  assert.match(r.out[0]!, /^\[1\/2\] seed 3, 0 failed/);
  assert.equal(r.out.at(-1), '2 passed, 0 failed');
});

test('npm run soak is an alias of tcpts soak: one line, status 2, no stack trace', () => {
  const r = spawnSync('npm', ['run', '--silent', 'soak', '--', '--frob'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim(), "tcpts soak: unknown option '--frob' (see 'tcpts soak --help')");
});
