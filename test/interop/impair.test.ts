// The kernel against tcpts over a bad path: tcpts's own link layer loses 2%
// of the frames each way, delays each by 20 ms each way (a 40 ms round
// trip), holds back 2% to be overtaken and delivers 1% twice — the flags
// of the real commands (this machine's kernel has no netem). The kernel
// sees that path in both directions; all bytes must arrive intact and every
// connection close cleanly (serve logs no error, connect exits 0).
//
// 4 MB each way: at a 40 ms round trip with 2% random loss a loss-based
// sender (tcpts's CUBIC, or the kernel's) holds its window near the Mathis
// bound, a few Mbit/s, so each transfer takes several seconds. The point
// here is that every byte survives the path, not speed (`npm run bench`
// measures goodput under loss).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL_V6, TCPTS_V4, TCPTS_V6, kernel } from './driver.js';
import { closeLines, curl, deviceArgs, digest, startServe, withTcpts } from './cli.js';
import { pythonSkipReason, withNetns } from './netns.js';

const MB = 1024 * 1024;
const SIZE = 4 * MB;
const IMPAIR = ['--loss', '0.02', '--delay', '20', '--reorder', '0.02', '--duplicate', '0.01'];

function skipReason(): string | null {
  const base = pythonSkipReason();
  if (base !== null) return base;
  const r = spawnSync('curl', ['--version']);
  return r.error === undefined && r.status === 0 ? null : 'curl is not installed';
}
const skip = skipReason() ?? false;

let dir = '';
let fileSha = '';
let uploadPath = '';
let uploadSha = '';

before(() => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), 'tcpts-impair-'));
  const file = randomBytes(SIZE);
  fileSha = createHash('sha256').update(file).digest('hex');
  writeFileSync(join(dir, 'file.bin'), file);
  const upload = randomBytes(SIZE);
  uploadSha = createHash('sha256').update(upload).digest('hex');
  uploadPath = join(dir, 'upload.bin');
  writeFileSync(uploadPath, upload);
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const CLEAN_CLOSE = /^close \S+ -> \S+: received (\d+) B, sent (\d+) B, [\d.]+ s$/;
/** The counters line serve logs as it stops (and connect -v writes): drops and duplicates both ways. */
const IMPAIRED =
  /dropped [1-9]\d* outgoing, [1-9]\d* incoming \(loss \d+.*\); duplicated [1-9]\d* outgoing, [1-9]\d* incoming; reordered [1-9]\d* outgoing, [1-9]\d* incoming$/;

test(
  `over an impaired path (2% loss, 20 ms, reordering, duplication), curl downloads ${SIZE / MB} MB from tcpts serve --http intact (TUN, IPv4)`,
  { skip, timeout: 120_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(
          start,
          ns,
          'tun',
          ['--http', dir],
          [...IMPAIR, '--seed', '31'],
        );
        const started = performance.now();
        const got = await curl(ns, `http://${TCPTS_V4}/file.bin`);
        const ms = performance.now() - started;
        assert.equal(got.bytes, SIZE);
        assert.equal(got.sha256, fileSha);
        const exit = await serve.stop();
        assert.equal(exit.code, 0, serve.transcript());
        const [line] = closeLines(serve);
        assert.match(line!, CLEAN_CLOSE, 'closed cleanly');
        const summary = serve.lines.find((l) => l.startsWith('tcpts serve: tun0: sent '));
        assert.match(summary ?? '', IMPAIRED, serve.transcript());
        t.diagnostic(`${SIZE / MB} MB in ${(ms / 1000).toFixed(2)} s; ${summary}`);
      }),
    );
  },
);

test(
  `over an impaired path, a kernel socket streams ${SIZE / MB} MB through tcpts serve --echo and reads it back (TAP, IPv6)`,
  { skip, timeout: 120_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tap', ['--echo'], [...IMPAIR, '--seed', '32']);
        const r = await kernel(ns, ['echo-client', TCPTS_V6, 7, SIZE, 33], 100_000).result;
        assert.deepEqual(r.errors, []);
        assert.equal(r.received, SIZE);
        assert.equal(r.receivedSha256, r.sentSha256);
        await serve.waitFor(/^close /);
        const exit = await serve.stop();
        assert.equal(exit.code, 0, serve.transcript());
        const [line] = closeLines(serve);
        assert.match(line!, CLEAN_CLOSE, 'closed cleanly');
        assert.match(line!, new RegExp(`received ${SIZE} B, sent ${SIZE} B`));
        const summary = serve.lines.find((l) => l.startsWith('tcpts serve: tap0: sent '));
        assert.match(summary ?? '', IMPAIRED, serve.transcript());
        t.diagnostic(`${SIZE / MB} MB each way: ${r.seconds} s; ${summary}`);
      }),
    );
  },
);

test(
  `over an impaired path, tcpts connect uploads and downloads ${SIZE / MB} MB at once with a kernel listener (TUN, IPv6)`,
  { skip, timeout: 120_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const server = kernel(ns, ['server', '::', 7020, SIZE, 34], 100_000);
        await server.ready;
        const fd = openSync(uploadPath, 'r');
        const nc = start(
          ['connect', '-v', ...deviceArgs(ns, 'tun'), ...IMPAIR, '--seed', '35', KERNEL_V6, '7020'],
          { stdoutAsData: true, stdin: fd },
        );
        closeSync(fd);
        const [down, exit] = await Promise.all([digest(nc.stdout), nc.exited]);
        const theirs = await server.result;
        assert.equal(exit.code, 0, nc.transcript());
        assert.equal(theirs.received, SIZE);
        assert.equal(theirs.receivedSha256, uploadSha, 'upload intact');
        assert.equal(down.bytes, SIZE);
        assert.equal(down.sha256, theirs.sentSha256, 'download intact');
        const summary = exit.stderr
          .split('\n')
          .find((l) => l.startsWith('tcpts connect: tun0: sent '));
        assert.match(summary ?? '', IMPAIRED, nc.transcript());
        t.diagnostic(
          `${SIZE / MB} MB each way at once: ${theirs.seconds} s on the kernel's connection, ` +
            `kernel retransmits ${theirs.kernelRetransmits}; ${summary}`,
        );
      }),
    );
  },
);
