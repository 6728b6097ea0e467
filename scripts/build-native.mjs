// Builds the TUN/TAP addon (native/) at `npm install`. It never fails the
// install: tcpts is pure TypeScript and works without the addon, so where it
// cannot be built (not Linux, no compiler, no Node headers) this prints one
// line saying why and exits 0; opening a TUN/TAP device then says the same.
//
// node-gyp comes with npm. It is given the headers of the running Node when
// they are installed next to it (a distribution's node, or an official
// tarball), so that the build needs no download.
import { existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = join(root, 'native');
const built = join(native, 'build', 'Release', 'tuntap.node');
const reasonFile = join(native, 'build', 'not-built.txt');

function giveUp(reason) {
  try {
    mkdirSync(join(native, 'build'), { recursive: true });
    writeFileSync(reasonFile, reason + '\n');
  } catch {
    // Only a hint for the error message; nothing to do if it cannot be written.
  }
  console.log(
    `tcpts: TUN/TAP addon not built (${reason}); everything else works. ` +
      'Run `npm rebuild tcpts` on Linux with a C compiler to use TUN/TAP devices.',
  );
  process.exit(0);
}

if (process.platform !== 'linux')
  giveUp(`TUN/TAP devices are Linux-only, this is ${process.platform}`);
if (!existsSync(join(native, 'tuntap.c'))) giveUp('native/tuntap.c is not in this package');

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const prefix = dirname(dirname(process.execPath));
  candidates.push(
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  );
  candidates.push(join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c)) ?? null;
}

function nodeHeaders() {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

const gyp = findNodeGyp();
if (gyp === null) giveUp('node-gyp was not found next to npm');
const args = [gyp, 'rebuild', '--directory', native, '--loglevel', 'error'];
const headers = nodeHeaders();
if (headers !== null) args.push(`--nodedir=${headers}`);
rmSync(reasonFile, { force: true });
const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
if (result.status === 0 && existsSync(built)) process.exit(0);

// Keep the compiler's last words: they say which tool or header is missing.
const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n');
const last = output.filter((line) => /error|not found|missing/i.test(line)).slice(-1)[0];
giveUp(last !== undefined ? `node-gyp failed: ${last.trim()}` : 'node-gyp failed');
