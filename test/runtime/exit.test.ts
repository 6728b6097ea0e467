// Whether a process using tcpts exits on its own, like one using node:net:
// a listening server or an open socket keeps it alive; once everything is
// closed it exits although TCP timers (TIME-WAIT: 60 s) are still pending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./scripts/exit-scenario.ts', import.meta.url));

/** Runs the scenario; resolves with its exit code (null if still alive after `aliveMs`, then killed) and output. */
function run(
  mode: string,
  aliveMs: number,
): Promise<{ code: number | null; out: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', script, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, aliveMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: killed ? null : code, out, ms: performance.now() - started });
    });
  });
}

test('everything closed: the process exits although TIME-WAIT is pending', async () => {
  const r = await run('closed', 15_000);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /got ping/);
  assert.match(r.out, /closed/);
});

test('a listening server keeps the process alive', async () => {
  const r = await run('listening', 3_000);
  assert.equal(r.code, null, `exited by itself: ${r.out}`);
  assert.match(r.out, /listening/);
});

test('an unref’d listening server does not', async () => {
  const r = await run('unref', 15_000);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /unref/);
});

test('an open connection keeps the process alive', async () => {
  const r = await run('open', 3_000);
  assert.equal(r.code, null, `exited by itself: ${r.out}`);
  assert.match(r.out, /got ping/);
});

test('virtual clock: everything closed, the process exits', async () => {
  const r = await run('virtual', 15_000);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /got ping/);
  assert.match(r.out, /closed/);
});
