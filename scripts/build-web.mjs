// Builds the web page (web/) into web/dist/ with esbuild: one bundle of
// web/main.ts for the browser, with index.html and style.css beside it. The
// result runs from plain files, with no server-side code. `npm run web`
// runs it; the tests call buildWeb().
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Fails the build when a Node builtin is reachable from the page. */
const noNodeImports = {
  name: 'no-node-imports',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.path} imported by ${args.importer}: the page must not use Node` }],
    }));
  },
};

/**
 * Builds the site into `outdir` (default web/dist) and returns its files and
 * the bundle's size, raw and gzipped.
 */
export async function buildWeb(outdir = join(ROOT, 'web', 'dist')) {
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(ROOT, 'web', 'main.ts')],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    logLevel: 'silent',
    plugins: [noNodeImports],
  });
  for (const name of ['index.html', 'style.css']) {
    copyFileSync(join(ROOT, 'web', name), join(outdir, name));
  }
  const files = ['index.html', 'style.css', 'main.js'];
  let bytes = 0;
  let gzipBytes = 0;
  for (const name of files) {
    const data = readFileSync(join(outdir, name));
    bytes += data.length;
    gzipBytes += gzipSync(data, { level: 9 }).length;
  }
  return { outdir, files, bytes, gzipBytes };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await buildWeb(process.argv[2]);
  console.log(
    `web page built in ${result.outdir}: ${(result.bytes / 1024).toFixed(1)} KiB, ${(result.gzipBytes / 1024).toFixed(1)} KiB gzipped; open index.html or run tcpts web`,
  );
}
