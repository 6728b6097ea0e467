// The real `tcpts connect` command (a child process) against kernel
// listeners in the test's namespace:
// - it uploads 20 MB from its stdin while downloading 20 MB to its stdout,
//   at once (TUN IPv4, TAP IPv6); SHA-256 digests compared both ways;
// - half-close both ways: the kernel half-closes first and tcpts keeps
//   sending; tcpts half-closes first (end of stdin) and keeps receiving;
// - refused, reset and timed-out connections exit 1 with one line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL_V4, KERNEL_V6, TCPTS_V4, TCPTS_V6, kernel } from './driver.js';
import { deviceArgs, digest, withTcpts, type Tcpts } from './cli.js';
import { pythonSkipReason, withNetns } from './netns.js';

const MB = 1024 * 1024;
const SIZE = 20 * MB;
const skip = pythonSkipReason() ?? false;

let dir = '';
let uploadPath = '';
let uploadSha = '';

before(() => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), 'tcpts-connect-'));
  const data = randomBytes(SIZE);
  uploadSha = createHash('sha256').update(data).digest('hex');
  uploadPath = join(dir, 'upload.bin');
  writeFileSync(uploadPath, data);
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Starts `tcpts connect` with its stdin from a file. */
function connectFromFile(
  start: (args: string[], options: { stdoutAsData: true; stdin: number }) => Tcpts,
  args: string[],
  path: string,
): Tcpts {
  const fd = openSync(path, 'r');
  try {
    return start(['connect', ...args], { stdoutAsData: true, stdin: fd });
  } finally {
    // The child has its own copy of the descriptor.
    closeSync(fd);
  }
}

const bulkCases = [
  { kind: 'tun', family: 4 },
  { kind: 'tap', family: 6 },
] as const;

for (const { kind, family } of bulkCases) {
  test(
    `tcpts connect uploads 20 MB from stdin while downloading 20 MB to stdout, with a kernel listener (${kind.toUpperCase()}, IPv${family})`,
    { skip, timeout: 90_000 },
    async (t) => {
      await withNetns((ns) =>
        withTcpts(async (start) => {
          const wildcard = family === 4 ? '0.0.0.0' : '::';
          const server = kernel(ns, ['server', wildcard, 7008, SIZE, 21]);
          await server.ready;
          const target = family === 4 ? KERNEL_V4 : KERNEL_V6;
          const started = performance.now();
          const nc = connectFromFile(start, [...deviceArgs(ns, kind), target, '7008'], uploadPath);
          const [down, exit] = await Promise.all([digest(nc.stdout), nc.exited]);
          const ms = performance.now() - started;
          const theirs = await server.result;
          assert.equal(exit.code, 0, nc.transcript());
          assert.equal(exit.stderr, '', 'nothing to say on success without -v');
          assert.deepEqual(theirs.errors, []);
          assert.equal(theirs.peer, family === 4 ? TCPTS_V4 : TCPTS_V6);
          assert.equal(theirs.received, SIZE, 'the kernel got the whole upload');
          assert.equal(theirs.receivedSha256, uploadSha, 'upload intact');
          assert.equal(down.bytes, SIZE, 'stdout got the whole download');
          assert.equal(down.sha256, theirs.sentSha256, 'download intact');
          t.diagnostic(
            `20 MB each way at once: ${(ms / 1000).toFixed(2)} s for the whole command (device set-up included), ` +
              `${theirs.seconds} s on the kernel's connection; kernel retransmits ${theirs.kernelRetransmits}`,
          );
          assert.ok(
            !ns.tryExec('ip', ['link', 'show', 'dev', `${kind}0`]).ok,
            'the device is gone after the command',
          );
        }),
      );
    },
  );
}

test(
  'half-close, the kernel first: it shuts down writing at once, tcpts connect then sends 2 MB into its open read side (TUN, IPv4)',
  { skip, timeout: 60_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const server = kernel(ns, ['fin-first-server', '0.0.0.0', 7010]);
        await server.ready;
        const nc = start(['connect', '-v', ...deviceArgs(ns, 'tun'), KERNEL_V4, '7010'], {
          stdoutAsData: true,
        });
        const output = digest(nc.stdout);
        // Only once the kernel's FIN is in does the test give tcpts its data.
        await nc.waitFor(/the peer closed its side$/);
        const data = randomBytes(2 * MB);
        nc.child.stdin!.end(data);
        const exit = await nc.exited;
        assert.equal(exit.code, 0, nc.transcript());
        assert.equal((await output).bytes, 0, 'the kernel sent nothing');
        const r = await server.result;
        assert.equal(r.received, 2 * MB, 'every byte sent after the FIN arrived');
        assert.equal(r.receivedSha256, createHash('sha256').update(data).digest('hex'));
      }),
    );
  },
);

test(
  'half-close, tcpts first: an empty stdin sends the FIN at once, and tcpts connect still receives 2 MB after it (TAP, IPv6)',
  { skip, timeout: 60_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const server = kernel(ns, ['read-first-server', '::', 7011, 2 * MB, 22]);
        await server.ready;
        const nc = start(['connect', '-v', ...deviceArgs(ns, 'tap'), KERNEL_V6, '7011'], {
          stdoutAsData: true,
        });
        const output = digest(nc.stdout);
        await nc.waitFor(/connected /);
        nc.child.stdin!.end();
        const exit = await nc.exited;
        assert.equal(exit.code, 0, nc.transcript());
        const r = await server.result;
        assert.equal(r.receivedBeforeSending, 0, 'the kernel read our FIN first');
        const got = await output;
        assert.equal(got.bytes, 2 * MB);
        assert.equal(got.sha256, r.sentSha256, 'everything the kernel sent after our FIN');
        assert.match(exit.stderr, /closed: sent 0 B, received 2097152 B/);
      }),
    );
  },
);

test(
  'tcpts connect exits 1 with one line when refused, reset or timed out (TUN, IPv4 and IPv6)',
  { skip, timeout: 60_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        // Nobody listens on port 9 in the namespace: the kernel answers RST.
        const refused = start(['connect', ...deviceArgs(ns, 'tun'), KERNEL_V6, '9'], {
          stdoutAsData: true,
        });
        const r1 = await refused.exited;
        assert.equal(r1.code, 1);
        assert.equal(r1.stderr, 'tcpts connect: connection refused (ECONNREFUSED)\n');

        // The kernel accepts, then resets (SO_LINGER 0) while our stdin is still open.
        const server = kernel(ns, ['reset-server', '0.0.0.0', 7012]);
        await server.ready;
        const reset = start(['connect', ...deviceArgs(ns, 'tun'), KERNEL_V4, '7012'], {
          stdoutAsData: true,
        });
        const r2 = await reset.exited;
        assert.equal(r2.code, 1);
        assert.equal(r2.stderr, 'tcpts connect: connection reset by peer (ECONNRESET)\n');
        assert.equal((await server.result).reset, true);

        // An address on the link that nobody has: the kernel does not
        // forward, the SYNs go unanswered.
        const started = performance.now();
        const silent = start(
          ['connect', '--timeout', '1', ...deviceArgs(ns, 'tun'), '10.99.0.77', '80'],
          { stdoutAsData: true },
        );
        const r3 = await silent.exited;
        const ms = performance.now() - started;
        assert.equal(r3.code, 1);
        assert.equal(r3.stderr, 'tcpts connect: connection timed out (ETIMEDOUT)\n');
        assert.ok(ms < 10_000, `gave up after the timeout, not TCP's own (${ms} ms)`);
      }),
    );
  },
);
