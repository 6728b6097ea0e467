// The web page's build (`npm run web`): web/ typechecks against the DOM,
// esbuild bundles it with no Node builtin reachable (the build script fails
// on a node: import), and `tcpts web` serves the files it wrote, on
// 127.0.0.1 only, never a file outside them. Prints the gzip size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWeb, serveWeb } from '../../src/cli/web.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface BuildResult {
  files: string[];
  bytes: number;
  gzipBytes: number;
}

async function build(outdir: string): Promise<BuildResult> {
  // A variable path: the build script is plain JavaScript without types.
  const script = join(ROOT, 'scripts', 'build-web.mjs');
  const { buildWeb } = (await import(script)) as {
    buildWeb(outdir: string): Promise<BuildResult>;
  };
  return buildWeb(outdir);
}

test('web/ typechecks with the DOM library (strict, as src/)', () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'web', 'tsconfig.json')], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});

test('npm run web: builds index.html, style.css and one script; tcpts web serves them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-web-build-'));
  try {
    const result = await build(dir);
    assert.deepEqual(result.files, ['index.html', 'style.css', 'main.js']);
    t.diagnostic(
      `page: ${(result.bytes / 1024).toFixed(1)} KiB, ${(result.gzipBytes / 1024).toFixed(1)} KiB gzipped`,
    );
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    // A classic deferred script, so that index.html also works opened from disk (file://).
    assert.match(html, /<script defer src="main.js"><\/script>/);
    const server = await serveWeb(dir);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(server.url);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.equal(await page.text(), html);
      const script = await fetch(new URL('main.js', server.url));
      assert.match(script.headers.get('content-type') ?? '', /javascript/);
      assert.equal(
        (await script.arrayBuffer()).byteLength,
        readFileSync(join(dir, 'main.js')).length,
      );
      const outside = await fetch(new URL('/..%2f..%2fetc/passwd', server.url));
      assert.equal(outside.status, 404);
      const post = await fetch(server.url, { method: 'POST' });
      assert.equal(post.status, 405);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tcpts web: --help, bad usage, a missing page', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
  assert.equal(await runWeb(['--help'], io), 0);
  assert.match(out.join('\n'), /Usage: tcpts web/);
  assert.equal(await runWeb(['--port', 'x'], io), 2);
  assert.equal(await runWeb(['extra'], io), 2);
  const empty = mkdtempSync(join(tmpdir(), 'tcpts-web-empty-'));
  try {
    assert.equal(await runWeb(['--dir', empty], io), 1);
    assert.match(err[err.length - 1]!, /npm run web/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
