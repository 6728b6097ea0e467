// Builds the TUN/TAP addon (tuntap.c) when @tcpts/tuntap is installed. It
// never fails the install: tcpts is pure TypeScript and works without the
// addon, so where it cannot be built (not Linux, no compiler, no Node
// headers) this prints one line saying why and exits 0; opening a TUN/TAP
// device then says the same.
//
// node-gyp comes with npm. It is given the headers of the running Node when
// they are installed next to it (a distribution's node, or an official
// tarball), so that the build needs no download.
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const native = dirname(fileURLToPath(import.meta.url));
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
      'Run `npm rebuild @tcpts/tuntap` on Linux with a C compiler to use TUN/TAP devices.',
  );
  process.exit(0);
}

if (process.platform !== 'linux')
  giveUp(`TUN/TAP devices are Linux-only, this is ${process.platform}`);
if (!existsSync(join(native, 'tuntap.c'))) giveUp('tuntap.c is not in this package');

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const prefix = dirname(dirname(process.execPath));
  candidates.push(
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  );
  candidates.push(join(native, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c)) ?? null;
}

function nodeHeaders() {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

/** Whether `command` is an executable file on PATH (or a path to one). */
function onPath(command) {
  const dirs = command.includes('/') ? [''] : (process.env.PATH ?? '').split(delimiter);
  for (const dir of dirs) {
    try {
      accessSync(dir === '' ? command : join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

// node-gyp's own errors for a missing tool are many lines long; say it in one.
if (!process.env.PYTHON && !onPath('python3') && !onPath('python')) {
  giveUp('no Python for node-gyp: install python3');
}
if (!onPath('make')) giveUp('no make: install make (Debian: build-essential)');
if (process.env.CC !== undefined && !onPath(process.env.CC.split(' ')[0])) {
  giveUp(`CC=${process.env.CC} is not an executable on PATH`);
}
if (!onPath('cc') && !onPath('gcc') && !onPath('clang')) {
  giveUp('no C compiler: install gcc or clang (Debian: build-essential)');
}
const gyp = findNodeGyp();
if (gyp === null) giveUp('node-gyp was not found next to npm');
const args = [gyp, 'rebuild', '--directory', native, '--loglevel', 'error'];
const headers = nodeHeaders();
if (headers !== null) args.push(`--nodedir=${headers}`);
rmSync(reasonFile, { force: true });
const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
if (result.status === 0 && existsSync(built)) process.exit(0);

// Keep the line that says what went wrong: a compiler error, or node-gyp's
// own "stack Error: ..." line (its other lines are the command and a trace).
const lines = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').map((l) => l.trim());
const compiler = lines.find((l) => /\berror:/.test(l) && !l.startsWith('gyp'));
const gypError = lines.find((l) => /^gyp ERR! stack Error:/.test(l));
const why = compiler ?? gypError?.replace(/^gyp ERR! stack /, '') ?? lines.filter(Boolean).pop();
giveUp(why !== undefined ? `node-gyp failed: ${why}` : `node-gyp exited with ${result.status}`);
