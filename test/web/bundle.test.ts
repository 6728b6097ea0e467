// The browser-facing entry points bundle for a browser with esbuild, with no
// polyfills: no node: import and no Node builtin is reachable from them.
// Also the size a page pays for a stack with web sockets, in gzip bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The entry files of the package exports that must run in a browser. */
const ENTRIES = {
  tcpts: 'src/index.ts',
  'tcpts/web': 'src/web/index.ts',
  'tcpts/runtime': 'src/runtime/index.ts',
  'tcpts/sim': 'src/sim/index.ts',
};

/** What a page that runs a stack with web sockets over a browser link imports. */
const WEB_PAGE_ENTRY = `
export * from './src/web/index.ts';
export { RealDriver, joinDrivers } from './src/runtime/index.ts';
export { Stack, IpAddr } from './src/stack/index.ts';
export { webSocketEndpoint, messagePortEndpoint, frameStreamEndpoint, memoryPair } from './src/link/index.ts';
`;

/** At most this many gzip bytes for the page's stack and sockets (the task's bound). */
const GZIP_BOUND = 60 * 1024;

const builtins = new Set(builtinModules);

/** Records every import of a Node builtin (and leaves it out, so the build lists them all). */
function nodeImports(found: string[]): esbuild.Plugin {
  return {
    name: 'node-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.startsWith('node:') ? args.path.slice(5) : args.path;
        if (!args.path.startsWith('node:') && !builtins.has(bare.split('/')[0]!)) return undefined;
        found.push(`${args.path} (from ${args.importer.replace(ROOT, '')})`);
        return { path: args.path, external: true };
      });
    },
  };
}

async function bundle(
  options: esbuild.BuildOptions,
): Promise<{ nodeImports: string[]; bytes: Uint8Array; errors: string[] }> {
  const found: string[] = [];
  const result = await esbuild.build({
    ...options,
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [nodeImports(found)],
  });
  return {
    nodeImports: found,
    bytes: result.outputFiles![0]!.contents,
    errors: result.errors.map((e) => e.text),
  };
}

for (const [name, entry] of Object.entries(ENTRIES)) {
  test(`${name} (${entry}) bundles for the browser with no Node builtin`, async () => {
    const r = await bundle({ entryPoints: [entry] });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.nodeImports, [], `${name} reaches Node builtins`);
    assert.ok(r.bytes.length > 1000, 'the bundle has the code in it');
  });
}

test('a page with a stack and tcpts/web: at most 60 KB gzip', async () => {
  const r = await bundle({
    stdin: { contents: WEB_PAGE_ENTRY, resolveDir: ROOT, loader: 'ts', sourcefile: 'page.ts' },
    minify: true,
  });
  assert.deepEqual(r.nodeImports, []);
  const gzip = gzipSync(r.bytes, { level: 9 }).length;
  console.log(
    `core + tcpts/web, minified: ${(r.bytes.length / 1024).toFixed(1)} KB, ` +
      `gzip ${(gzip / 1024).toFixed(1)} KB (bound ${GZIP_BOUND / 1024} KB)`,
  );
  assert.ok(gzip <= GZIP_BOUND, `gzip size ${gzip} bytes exceeds ${GZIP_BOUND}`);
});
