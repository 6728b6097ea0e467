// scripts/ensure-tools.sh with a fake apt-get and id on a PATH that holds
// none of the tools: it installs only when TCPTS_INSTALL_TOOLS=1, waits for
// the dpkg lock, and when apt fails it prints apt's own error lines, not just
// "failed". It never fails the test run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'ensure-tools.sh');

function which(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** A PATH with the shell utilities the script uses, a fake `id` (root) and a fake apt-get. */
function fakeHost(aptInstall: string): { dir: string; calls: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-ensure-'));
  for (const tool of ['grep', 'sed', 'tail', 'mktemp', 'rm']) {
    const path = which(tool);
    assert.ok(path !== null, `${tool} is on PATH`);
    symlinkSync(path, join(dir, tool));
  }
  const calls = join(dir, 'apt-calls');
  writeFileSync(join(dir, 'id'), '#!/bin/sh\necho 0\n');
  writeFileSync(
    join(dir, 'apt-get'),
    `#!/bin/sh\necho "$*" >> ${calls}\ncase "$*" in *install*) ${aptInstall} ;; esac\nexit 0\n`,
  );
  chmodSync(join(dir, 'id'), 0o755);
  chmodSync(join(dir, 'apt-get'), 0o755);
  return { dir, calls };
}

function runScript(dir: string, install: boolean) {
  return spawnSync(which('bash')!, [SCRIPT], {
    encoding: 'utf8',
    env: { PATH: dir, ...(install ? { TCPTS_INSTALL_TOOLS: '1' } : {}) },
  });
}

test('without TCPTS_INSTALL_TOOLS=1 it lists what is missing and installs nothing', () => {
  const { dir, calls } = fakeHost('exit 0');
  try {
    const r = runScript(dir, false);
    assert.equal(r.status, 0);
    assert.match(
      r.stderr,
      /missing tcpdump tshark iproute2 curl python3 librsvg2-bin chromium hping3: the tests that need them will be skipped/,
    );
    assert.match(r.stderr, /TCPTS_INSTALL_TOOLS=1/);
    assert.throws(() => readFileSync(calls), /ENOENT/, 'apt-get was not run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with TCPTS_INSTALL_TOOLS=1 it waits for the dpkg lock and prints apt's error when the install fails", () => {
  const lockError =
    'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)';
  const { dir, calls } = fakeHost(
    `echo 'Reading package lists...'; echo '${lockError}' >&2; exit 100`,
  );
  try {
    const r = runScript(dir, true);
    assert.equal(r.status, 0, 'a missing tool never fails the test run');
    assert.match(
      r.stderr,
      /apt-get install tcpdump .* failed; the tests that need them will be skipped\. apt said:/,
    );
    assert.ok(r.stderr.includes(`  ${lockError}`), r.stderr);
    const invocations = readFileSync(calls, 'utf8').trim().split('\n');
    assert.equal(invocations.length, 2);
    for (const line of invocations) assert.match(line, /-o DPkg::Lock::Timeout=120/);
    assert.match(invocations[1]!, /install -y -qq --no-install-recommends tcpdump tshark/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
