// The real `tcpts serve` command (a child process) against the kernel's
// clients in the test's namespace:
// - curl downloads a 20 MB file from `--http` over TUN and TAP, IPv4 and
//   IPv6; SHA-256 digests compared;
// - a kernel socket streams 20 MB through `--echo` and reads it back;
// - `--discard` takes what it is sent; `--chargen` sends RFC 864's lines;
// - the kernel half-closes first and still gets the whole echo, sent by
//   tcpts in CLOSE-WAIT;
// - SIGINT ends an open connection with a FIN (the kernel reads EOF), the
//   command exits 0 and the device is gone.
// Each test has its own namespace and device; both go even if it fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCapture } from '../../src/cli/decode.js';
import { KERNEL_V4, TCPTS_V4, TCPTS_V6, kernel } from './driver.js';
import { closeLines, curl, startServe, withTcpts } from './cli.js';
import { pythonSkipReason, withNetns, type Netns } from './netns.js';

const MB = 1024 * 1024;
const SIZE = 20 * MB;

function curlSkipReason(): string | null {
  const base = pythonSkipReason();
  if (base !== null) return base;
  const r = spawnSync('curl', ['--version']);
  return r.error === undefined && r.status === 0 ? null : 'curl is not installed';
}
const skip = curlSkipReason() ?? false;

let dir = '';
let fileSha = '';

before(() => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), 'tcpts-serve-'));
  const data = randomBytes(SIZE);
  fileSha = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(dir, 'big.bin'), data);
  writeFileSync(join(dir, 'hello.txt'), 'hello from tcpts\n');
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** A close line without an error at its end: `close A -> B: received N B, sent M B, T s`. */
const CLEAN_CLOSE = /^close \S+ -> \S+: received (\d+) B, sent (\d+) B, [\d.]+ s$/;

function deviceGone(ns: Netns, name: string): boolean {
  return !ns.tryExec('ip', ['link', 'show', 'dev', name]).ok;
}

for (const kind of ['tun', 'tap'] as const) {
  test(
    `curl downloads 20 MB from tcpts serve --http over ${kind.toUpperCase()}, IPv4 and IPv6; Ctrl-C removes the device`,
    { skip, timeout: 90_000 },
    async (t) => {
      await withNetns((ns) =>
        withTcpts(async (start) => {
          const serve = await startServe(start, ns, kind, ['--http', dir]);
          const started = performance.now();
          const v4 = await curl(ns, `http://${TCPTS_V4}/big.bin`);
          const v4ms = performance.now() - started;
          const v6 = await curl(ns, `http://[${TCPTS_V6}]/big.bin`);
          const v6ms = performance.now() - started - v4ms;
          assert.equal(v4.bytes, SIZE);
          assert.equal(v4.sha256, fileSha, 'IPv4 download intact');
          assert.equal(v6.bytes, SIZE);
          assert.equal(v6.sha256, fileSha, 'IPv6 download intact');
          // A small file and a missing one: status and body as curl sees them.
          const small = ns.exec('curl', ['-sS', '--fail', `http://${TCPTS_V4}/hello.txt`]);
          assert.equal(small, 'hello from tcpts');
          const missing = ns.tryExec('curl', [
            '-s',
            '-o',
            '/dev/null',
            '-w',
            '%{http_code}',
            `http://[${TCPTS_V6}]/nope`,
          ]);
          assert.equal(missing.output, '404');
          t.diagnostic(
            `20 MB: IPv4 ${(v4ms / 1000).toFixed(2)} s, IPv6 ${(v6ms / 1000).toFixed(2)} s (curl in the namespace)`,
          );

          const exit = await serve.stop('SIGINT');
          assert.equal(exit.code, 0, serve.transcript());
          const closes = closeLines(serve);
          assert.equal(closes.length, 4, serve.transcript());
          for (const line of closes) assert.match(line, CLEAN_CLOSE);
          const sent = closes.map((l) => Number(CLEAN_CLOSE.exec(l)![2]));
          assert.ok(sent[0]! > SIZE && sent[1]! > SIZE, 'both big responses went out whole');
          assert.ok(
            serve.lines.some((l) => / GET \/big\.bin 200 20971520$/.test(l)),
            serve.transcript(),
          );
          assert.equal(serve.lines.at(-1), `tcpts serve: ${kind}0 removed`);
          assert.ok(deviceGone(ns, `${kind}0`), 'the device is gone from the namespace');
        }),
      );
    },
  );
}

test(
  'a kernel socket streams 20 MB through tcpts serve --echo and reads it back (TAP, IPv4)',
  { skip, timeout: 90_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tap', ['--echo']);
        const r = await kernel(ns, ['echo-client', TCPTS_V4, 7, SIZE, 11]).result;
        assert.deepEqual(r.errors, []);
        assert.equal(r.received, SIZE);
        assert.equal(r.receivedSha256, r.sentSha256, 'every byte came back, in order');
        await serve.waitFor(/^close /);
        const [line] = closeLines(serve);
        assert.match(line!, CLEAN_CLOSE);
        assert.match(line!, new RegExp(`received ${SIZE} B, sent ${SIZE} B`));
        t.diagnostic(`echo 20 MB each way: ${r.seconds} s`);
        assert.equal((await serve.stop()).code, 0);
      }),
    );
  },
);

test(
  'tcpts serve --discard takes 4 MB and closes after the kernel does; --chargen sends RFC 864 lines (TUN, IPv4 and IPv6)',
  { skip, timeout: 60_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const discard = await startServe(start, ns, 'tun', ['--discard']);
        const r = await kernel(ns, ['echo-client', TCPTS_V6, 9, 4 * MB, 12]).result;
        assert.deepEqual(r.errors, []);
        assert.equal(r.received, 0, 'discard sends nothing back, and ends after our FIN');
        await discard.waitFor(/^close /);
        assert.match(closeLines(discard)[0]!, new RegExp(`received ${4 * MB} B, sent 0 B`));
        assert.equal((await discard.stop()).code, 0);

        const chargen = await startServe(start, ns, 'tun', ['--chargen', '--port', '1919']);
        const c = await kernel(ns, ['chargen-client', TCPTS_V4, 1919, 1_000_000]).result;
        assert.equal(c.received, 1_000_000);
        assert.equal(c.intact, true, 'the lines follow RFC 864 rotation');
        // The kernel closed with unread data: its RST ends tcpts's stream.
        const line = await chargen.waitFor(/^close /);
        assert.match(line, /ECONNRESET$/);
        assert.equal((await chargen.stop()).code, 0);
      }),
    );
  },
);

test(
  'the kernel half-closes first and keeps reading: tcpts serve --echo sends the rest from CLOSE-WAIT, then its FIN (TUN, IPv6)',
  { skip, timeout: 60_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tun', ['--echo']);
        const r = await kernel(ns, ['half-client', TCPTS_V6, 7, 256 * 1024, 13]).result;
        assert.equal(r.received, 256 * 1024);
        assert.equal(r.receivedSha256, r.sentSha256);
        await serve.waitFor(/^close /);
        assert.match(closeLines(serve)[0]!, CLEAN_CLOSE);
        assert.equal((await serve.stop()).code, 0);
      }),
    );
  },
);

test(
  'SIGINT closes an open connection with a FIN (the kernel reads EOF), exits 0 and removes the device (TAP, IPv4)',
  { skip, timeout: 60_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tap', ['--echo']);
        const idle = kernel(ns, ['idle-client', TCPTS_V4, 7]);
        await idle.ready;
        await serve.waitFor(/^open /);
        const exit = await serve.stop('SIGINT');
        assert.equal(exit.code, 0, serve.transcript());
        assert.equal((await idle.result).outcome, 'eof', 'a FIN, not a reset');
        assert.ok(serve.lines.includes('tcpts serve: SIGINT: closing 1 connection'));
        assert.match(closeLines(serve)[0]!, CLEAN_CLOSE);
        assert.ok(deviceGone(ns, 'tap0'));
        // The kernel's address went with the device.
        assert.doesNotMatch(ns.ip(['-4', 'addr']), new RegExp(KERNEL_V4.replaceAll('.', '\\.')));
      }),
    );
  },
);

test(
  'tcpts serve says in one line why it cannot start: no such namespace, a device already in use (TUN)',
  { skip, timeout: 30_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const nowhere = start([
          'serve',
          '--tun',
          'tun0',
          '--addr',
          '10.99.0.2/24',
          '--netns',
          `${ns.name}-x`,
          '--echo',
        ]);
        const e1 = await nowhere.exited;
        assert.equal(e1.code, 1);
        assert.equal(
          e1.stderr,
          `tcpts serve: no network namespace '${ns.name}-x' (create it with: ip netns add ${ns.name}-x)\n`,
        );
        const first = await startServe(start, ns, 'tun', ['--echo']);
        const second = start([
          'serve',
          '--tun',
          'tun0',
          '--addr',
          '10.99.0.2/24',
          '--netns',
          ns.name,
          '--discard',
        ]);
        const e2 = await second.exited;
        assert.equal(e2.code, 1);
        assert.match(
          e2.stderr,
          /^tcpts serve: TUN device 'tun0' is busy: another process has it open \(.*\)\n$/,
        );
        // The first one is untouched and still serves.
        const r = await kernel(ns, ['echo-client', TCPTS_V4, 7, 1000, 3]).result;
        assert.equal(r.receivedSha256, r.sentSha256);
        assert.equal((await first.stop()).code, 0);
      }),
    );
  },
);

test(
  'a persistent device (ip tuntap add) is used as found and left so: only the addresses tcpts added go (TAP)',
  { skip, timeout: 30_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        ns.ip(['tuntap', 'add', 'dev', 'tap0', 'mode', 'tap']);
        ns.ip(['addr', 'add', '192.168.50.1/24', 'dev', 'tap0']);
        const serve = await startServe(start, ns, 'tap', ['--echo']);
        const r = await kernel(ns, ['echo-client', TCPTS_V6, 7, 100_000, 4]).result;
        assert.equal(r.receivedSha256, r.sentSha256);
        const exit = await serve.stop();
        assert.equal(exit.code, 0, serve.transcript());
        assert.equal(serve.lines.at(-1), 'tcpts serve: tap0 left as it was found');
        const addresses = ns.ip(['addr', 'show', 'dev', 'tap0']);
        assert.match(addresses, /192\.168\.50\.1\/24/, 'the address that was there stays');
        assert.doesNotMatch(addresses, /10\.99\.0\.1|fd99::1/, 'the ones tcpts added are gone');
      }),
    );
  },
);

test(
  'tcpts serve --pcap records what tcpts sent and received: ARP, the handshake, the data and both FINs (TAP, IPv4)',
  { skip, timeout: 30_000 },
  async () => {
    const file = join(dir, 'serve.pcap');
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tap', ['--echo'], ['--pcap', file]);
        const r = await kernel(ns, ['echo-client', TCPTS_V4, 7, 3000, 5]).result;
        assert.equal(r.receivedSha256, r.sentSha256);
        assert.equal((await serve.stop()).code, 0);
      }),
    );
    const { lines, error } = decodeCapture(readFileSync(file));
    assert.equal(error, null, 'a whole, well-formed capture');
    const has = (pattern: RegExp) =>
      assert.ok(
        lines.some((l) => pattern.test(l)),
        `${pattern}\n${lines.join('\n')}`,
      );
    has(/ARP, Reply 10\.99\.0\.2 is-at 02:00:00:00:00:01/);
    has(/IP 10\.99\.0\.1\.\d+ > 10\.99\.0\.2\.7: Flags \[S\]/);
    has(/IP 10\.99\.0\.2\.7 > 10\.99\.0\.1\.\d+: Flags \[S\.\]/);
    has(/IP 10\.99\.0\.1\.\d+ > 10\.99\.0\.2\.7: Flags \[F\.\]/);
    has(/IP 10\.99\.0\.2\.7 > 10\.99\.0\.1\.\d+: Flags \[FP?\.\]/);
    const echoed = lines
      .filter((l) => / 10\.99\.0\.2\.7 > /.test(l))
      .reduce((n, l) => n + Number(/length (\d+)$/.exec(l)?.[1] ?? 0), 0);
    assert.equal(echoed, 3000, 'the echo went out as 3000 bytes of TCP payload');
  },
);
