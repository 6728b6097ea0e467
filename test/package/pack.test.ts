// What `npm pack` would publish: the LICENSE, the sources the source maps
// point at, no test fixtures, and the metadata a registry shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

function packedFiles(): string[] {
  // --ignore-scripts: list the files without running the build (prepare) again.
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>;
  return pack!.files.map((f) => f.path);
}

const files = packedFiles();

test('the package has its LICENSE and the sources, and no fixtures', () => {
  assert.ok(files.includes('LICENSE'));
  // The README shown on the registry: every image and local link it uses is in the package.
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const m of readme.matchAll(/\]\((docs\/[^)#\s]+)\)/g))
    assert.ok(files.includes(m[1]!), `README uses ${m[1]}, which is not packed`);
  assert.match(
    readFileSync(join(ROOT, 'LICENSE'), 'utf8'),
    /^MIT License\n\nCopyright \(c\) \d{4} the tcpts authors\n/,
  );
  assert.deepEqual(
    files.filter((f) => f.startsWith('fixtures/')),
    [],
  );
  assert.ok(files.includes('src/cli/main.ts'));
  assert.ok(files.includes('src/index.ts'));
  assert.deepEqual(
    files.filter((f) => f.startsWith('test/')),
    [],
  );
  // The addon is its own package: tcpts compiles nothing at install.
  assert.deepEqual(
    files.filter((f) => f.startsWith('native/') || f.startsWith('packages/') || f.endsWith('.c')),
    [],
  );
});

test('@tcpts/tuntap packs its C source, build script and LICENSE', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(ROOT, 'packages', 'tuntap'),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as Array<{ name: string; files: Array<{ path: string }> }>;
  assert.equal(pack!.name, '@tcpts/tuntap');
  assert.deepEqual(pack!.files.map((f) => f.path).sort(), [
    'LICENSE',
    'README.md',
    'binding.gyp',
    'build.mjs',
    'package.json',
    'tuntap.c',
  ]);
});

test('package.json says what a registry shows, and nothing invented', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(manifest.license, 'MIT');
  assert.equal(manifest.sideEffects, false);
  assert.ok(Array.isArray(manifest.keywords) && manifest.keywords.includes('tcp'));
  assert.equal(typeof manifest.bin, 'object');
  const scripts = manifest.scripts as Record<string, string>;
  assert.equal(scripts.install, undefined, 'no install step: the addon is @tcpts/tuntap');
  assert.deepEqual(manifest.peerDependenciesMeta, { '@tcpts/tuntap': { optional: true } });
});

test(
  'every source map of dist/ points at a file the package ships',
  {
    skip: existsSync(join(ROOT, 'dist', 'index.js')) ? false : 'dist/ is not built (npm run build)',
  },
  () => {
    const maps = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js.map'));
    assert.ok(maps.length > 10, `${maps.length} source maps packed`);
    const shipped = new Set(files);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as {
        sources: string[];
      };
      for (const source of sources) {
        const target = normalize(join(dirname(map), source));
        assert.ok(shipped.has(target), `${map} points at ${target}, which is not packed`);
      }
    }
  },
);
