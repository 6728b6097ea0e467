// Where the TUN/TAP addon is looked for: through package resolution of
// @tcpts/tuntap (so a bundled application that has it installed finds it), or wherever
// TCPTS_TUNTAP_ADDON or setTuntapAddonPath says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { tuntapAvailability } from '../../src/link/node/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

function runChild(code: string, env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  assert.ok(last.startsWith('{'), `child said: ${r.stdout}${r.stderr}`);
  return JSON.parse(last) as { available: boolean; reason?: string };
}

test(
  'TCPTS_TUNTAP_ADDON names the addon file',
  { skip: process.platform !== 'linux' && 'Linux only' },
  () => {
    const a = runChild(
      "const m = await import('./src/link/node/index.ts'); console.log(JSON.stringify(m.tuntapAvailability()));",
      { TCPTS_TUNTAP_ADDON: '/nonexistent/tuntap.node' },
    );
    assert.deepEqual(a, {
      available: false,
      reason: '/nonexistent/tuntap.node (from TCPTS_TUNTAP_ADDON) does not exist',
      hint: 'give the path of a built tuntap.node',
    });
  },
);

test(
  'setTuntapAddonPath names the addon file, before the first load',
  { skip: process.platform !== 'linux' && 'Linux only' },
  () => {
    const a = runChild(
      [
        "const m = await import('./src/link/node/index.ts');",
        "m.setTuntapAddonPath('/elsewhere/tuntap.node');",
        'console.log(JSON.stringify(m.tuntapAvailability()));',
      ].join('\n'),
      { TCPTS_TUNTAP_ADDON: undefined },
    );
    assert.deepEqual(a, {
      available: false,
      reason: '/elsewhere/tuntap.node (from setTuntapAddonPath) does not exist',
      hint: 'give the path of a built tuntap.node',
    });
  },
);

test('bundled into one file elsewhere, tcpts still finds the addon of the installed package', async () => {
  const app = mkdtempSync(join(tmpdir(), 'tcpts-bundle-'));
  try {
    // An application with tcpts and @tcpts/tuntap installed (links to this checkout) and its code bundled.
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(ROOT, join(app, 'node_modules', 'tcpts'));
    mkdirSync(join(app, 'node_modules', '@tcpts'));
    symlinkSync(join(ROOT, 'packages', 'tuntap'), join(app, 'node_modules', '@tcpts', 'tuntap'));
    mkdirSync(join(app, 'dist', 'deep'), { recursive: true });
    const bundle = join(app, 'dist', 'deep', 'app.mjs');
    await build({
      stdin: {
        contents: `import { tuntapAvailability } from ${JSON.stringify(join(ROOT, 'src', 'link', 'node', 'index.ts'))};\nconsole.log(JSON.stringify(tuntapAvailability()));`,
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'silent',
    });
    const r = spawnSync(process.execPath, [bundle], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, TCPTS_TUNTAP_ADDON: undefined },
    });
    assert.equal(r.status, 0, r.stderr);
    // The same answer as the package itself gives: the path relative to the
    // bundle (app/native/...) would not exist.
    assert.deepEqual(JSON.parse(r.stdout.trim()), tuntapAvailability());
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});
