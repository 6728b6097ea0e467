// `tcpts serve` under attack, in the test's namespace only (every packet
// goes to tcpts's address on the test's device):
// - slowloris: clients that send half a request header and trickle the
//   rest are closed by --header-timeout, while another client is served;
// - idle clients of --echo, --discard and --chargen are closed by
//   --idle-timeout.
// Each test is bounded in clients and time; the namespace and the device go
// even if it fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL_V4, TCPTS_V4, TCPTS_V6, kernel } from './driver.js';
import { closeLines, curl, startServe, withTcpts } from './cli.js';
import { pythonSkipReason, withNetns } from './netns.js';

function curlSkipReason(): string | null {
  const base = pythonSkipReason();
  if (base !== null) return base;
  const r = spawnSync('curl', ['--version']);
  return r.error === undefined && r.status === 0 ? null : 'curl is not installed';
}
const skip = curlSkipReason() ?? false;

let dir = '';
let bigSha = '';
const BIG = 20 * 1024 * 1024;

function hpingSkipReason(): string | null {
  const r = spawnSync('hping3', ['--version']);
  return r.error === undefined ? null : 'hping3 is not installed (Debian: apt-get install hping3)';
}

before(() => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), 'tcpts-attack-'));
  writeFileSync(join(dir, 'hello.txt'), 'hello from tcpts\n');
  const big = randomBytes(BIG);
  bigSha = createHash('sha256').update(big).digest('hex');
  writeFileSync(join(dir, 'big.bin'), big);
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const SLOW_CLIENTS = 50;
const HEADER_TIMEOUT_S = 2;

test(
  `serve --http --header-timeout ${HEADER_TIMEOUT_S} closes ${SLOW_CLIENTS} slowloris clients in time, and serves another client meanwhile`,
  { skip, timeout: 60_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tun', [
          '--http',
          dir,
          '--header-timeout',
          String(HEADER_TIMEOUT_S),
        ]);
        // Trickling for up to 20 s: ten times the limit.
        const loris = kernel(ns, ['slowloris', TCPTS_V4, 80, SLOW_CLIENTS, 20], 40_000);
        await loris.ready;
        const page = ns.exec('curl', [
          '-sS',
          '--fail',
          '--max-time',
          '10',
          `http://${TCPTS_V4}/hello.txt`,
        ]);
        assert.equal(page, 'hello from tcpts', 'a legitimate client is served during the attack');
        const r = await loris.result;
        t.diagnostic(
          `slowloris: ${r.closed} of ${SLOW_CLIENTS} closed (${r.got408} with a 408), first at ${r.firstClose} s, last at ${r.lastClose} s`,
        );
        assert.equal(r.open, 0, 'every slowloris connection was closed');
        // The check runs every quarter of the limit: the last close comes
        // by 1.25 times the limit, plus the time to open them all and slack
        // for a loaded machine.
        assert.ok(
          (r.lastClose as number) <= HEADER_TIMEOUT_S * 1.25 + 3,
          `closed by ${r.lastClose} s`,
        );
        assert.equal((await serve.stop()).code, 0);
        assert.ok(closeLines(serve).length >= SLOW_CLIENTS + 1, serve.transcript());
      }),
    );
  },
);

test(
  'serve --idle-timeout 1 closes an idle client of --echo and --discard, and one of --chargen that never reads',
  { skip, timeout: 60_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        for (const service of ['--echo', '--discard', '--chargen']) {
          const serve = await startServe(start, ns, 'tun', [service, '--idle-timeout', '1']);
          const port = service === '--echo' ? 7 : service === '--discard' ? 9 : 19;
          const opened = performance.now();
          if (service === '--chargen') {
            // Its window fills and stays shut: no byte moves either way.
            const client = kernel(ns, ['never-read', TCPTS_V4, port, 1, 0, 6], 20_000);
            await client.ready;
            await serve.waitFor(/^close .*idle timeout$/, 10_000);
            client.kill();
          } else {
            const r = await kernel(ns, ['idle-client', TCPTS_V4, port], 20_000).result;
            assert.equal(r.outcome, 'eof', `${service}: the idle client is sent a FIN`);
            await serve.waitFor(/^close /, 10_000);
          }
          const seconds = (performance.now() - opened) / 1000;
          t.diagnostic(`${service}: closed after ${seconds.toFixed(2)} s`);
          const [line] = closeLines(serve);
          assert.match(line!, /, idle timeout$/, serve.transcript());
          // One second's limit, with slack for a loaded machine.
          assert.ok(seconds < 6, `${service}: closed after ${seconds} s`);
          assert.equal((await serve.stop()).code, 0);
        }
      }),
    );
  },
);

test(
  'serve restarts on a persistent TUN device after kill -9 (the kernel addresses it left behind are taken back)',
  { skip, timeout: 60_000 },
  async () => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        ns.ip(['tuntap', 'add', 'dev', 'tun0', 'mode', 'tun']);
        const first = await startServe(start, ns, 'tun', ['--echo']);
        first.child.kill('SIGKILL');
        await first.exited;
        // The device outlives the process, with the kernel's addresses on it.
        assert.match(ns.ip(['addr', 'show', 'dev', 'tun0']), /10\.99\.0\.1\/24/);
        const second = await startServe(start, ns, 'tun', ['--echo']);
        const r = await kernel(ns, ['echo-client', TCPTS_V4, 7, 100_000, 3]).result;
        assert.equal(r.receivedSha256, r.sentSha256, 'the restarted echo works');
        const r6 = await kernel(ns, ['echo-client', TCPTS_V6, 7, 100_000, 4]).result;
        assert.equal(r6.receivedSha256, r6.sentSha256, 'over IPv6 too');
        assert.equal((await second.stop()).code, 0);
        assert.equal(second.lines.at(-1), 'tcpts serve: tun0 left as it was found');
        const left = ns.ip(['addr', 'show', 'dev', 'tun0']);
        assert.doesNotMatch(left, /10\.99\.0\.1|fd99::1/, 'a clean stop removes its addresses');
      }),
    );
  },
);

test(
  'a forged ICMP "fragmentation needed" (MTU 68, quoting a UDP datagram of no socket) leaves the next connection\'s MSS as it was',
  { skip, timeout: 60_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tun', ['--echo']);
        const before = await kernel(ns, ['mss-client', TCPTS_V4, 7, 200_000]).result;
        await kernel(ns, ['frag-needed', KERNEL_V4, TCPTS_V4, 68]).result;
        const after = await kernel(ns, ['mss-client', TCPTS_V4, 7, 200_000]).result;
        t.diagnostic(
          `largest segment from tcpts: ${before.rcvMss} B before the ICMP, ${after.rcvMss} B after`,
        );
        assert.equal(after.received, 200_000);
        // 1500 - 20 (IPv4) - 20 (TCP) - 12 (timestamps).
        assert.equal(before.rcvMss, 1448);
        assert.equal(after.rcvMss, 1448, 'the forged ICMP did not shrink the path MTU');
        assert.equal((await serve.stop()).code, 0);
      }),
    );
  },
);

const FLOOD_SECONDS = 5;
const NEW_CONNECTIONS = 20;

test(
  `a ${FLOOD_SECONDS} s SYN flood from random sources (hping3) at serve --http: a download completes intact and ${NEW_CONNECTIONS} of ${NEW_CONNECTIONS} new connections succeed`,
  { skip: skip !== false ? skip : (hpingSkipReason() ?? false), timeout: 120_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tun', ['--http', dir]);
        const url = `http://${TCPTS_V4}/big.bin`;
        let started = performance.now();
        const quiet = await curl(ns, url);
        const quietSeconds = (performance.now() - started) / 1000;
        assert.equal(quiet.sha256, bigSha);

        // The flood runs inside the test's namespace and targets tcpts's
        // address on the test's device only: the random sources are on
        // packets that never leave the namespace (the SYN-ACKs to them go
        // nowhere: the namespace does not forward).
        const flood = ns.spawn('timeout', [
          String(FLOOD_SECONDS),
          'hping3',
          '-q',
          '-S',
          '-p',
          '80',
          '--flood',
          '--rand-source',
          TCPTS_V4,
        ]);
        const flooded = new Promise<void>((resolve) => flood.on('exit', () => resolve()));
        await new Promise((r) => setTimeout(r, 500));
        started = performance.now();
        const during = await curl(ns, url, 90);
        const floodSeconds = (performance.now() - started) / 1000;
        assert.equal(during.sha256, bigSha, 'the download under the flood is intact');
        let served = 0;
        for (let i = 0; i < NEW_CONNECTIONS; i++) {
          const r = ns.tryExec('curl', [
            '-sS',
            '--fail',
            '--max-time',
            '15',
            `http://${TCPTS_V4}/hello.txt`,
          ]);
          if (r.ok && r.output === 'hello from tcpts') served++;
        }
        const connectionsSeconds = (performance.now() - started) / 1000 - floodSeconds;
        await flooded;
        const exit = await serve.stop();
        assert.equal(exit.code, 0);
        const summary = serve.lines.find((l) => /received \d+ frames/.test(l)) ?? '';
        const frames = Number(/received (\d+) frames/.exec(summary)?.[1] ?? 0);
        const quietRate = BIG / quietSeconds / 1e6;
        const floodRate = BIG / floodSeconds / 1e6;
        t.diagnostic(
          `goodput: ${quietRate.toFixed(1)} MB/s without the flood, ${floodRate.toFixed(1)} MB/s under it ` +
            `(${((floodRate / quietRate) * 100).toFixed(0)} %, target >= 50 %); ` +
            `${served} of ${NEW_CONNECTIONS} new connections in ${connectionsSeconds.toFixed(1)} s; ` +
            `tcpts received ${frames} frames in all, about ${Math.round(frames / FLOOD_SECONDS)} per second of flood`,
        );
        assert.equal(served, NEW_CONNECTIONS, serve.transcript().slice(-2000));
      }),
    );
  },
);

const NEVER_READING = 200;

/** A process's resident set, in MB, from /proc. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}

test(
  `${NEVER_READING} clients each send 1 MB to serve --echo and never read: another client is still served; RSS reported`,
  { skip, timeout: 120_000 },
  async (t) => {
    await withNetns((ns) =>
      withTcpts(async (start) => {
        const serve = await startServe(start, ns, 'tun', ['--echo']);
        const pid = serve.child.pid!;
        const before = rssMb(pid);
        const hogs = kernel(
          ns,
          ['never-read', TCPTS_V4, 7, NEVER_READING, 1024 * 1024, 10],
          60_000,
        );
        await hogs.ready;
        await serve.waitFor(new RegExp(`^open .*`), 10_000);
        // Let the windows fill both ways.
        await new Promise((r) => setTimeout(r, 4000));
        const during = rssMb(pid);
        const other = await kernel(ns, ['echo-client', TCPTS_V4, 7, 1_000_000, 5]).result;
        assert.deepEqual(other.errors, []);
        assert.equal(other.receivedSha256, other.sentSha256, 'the other client is served whole');
        const duringAfterOther = rssMb(pid);
        const r = await hogs.result;
        // The clients close with unread data: their resets end the connections.
        const deadline = performance.now() + 20_000;
        while (closeLines(serve).length < NEVER_READING + 1 && performance.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
        }
        await new Promise((r) => setTimeout(r, 1000));
        const afterwards = rssMb(pid);
        t.diagnostic(
          `serve RSS: ${before.toFixed(0)} MB before, ${during.toFixed(0)} MB with ${NEVER_READING} never-reading clients ` +
            `(${duringAfterOther.toFixed(0)} MB after serving another), ${afterwards.toFixed(0)} MB after they went; ` +
            `they got ${((r.sent as number) / 1e6).toFixed(0)} MB into the kernel's buffers and tcpts's windows`,
        );
        assert.equal(closeLines(serve).length, NEVER_READING + 1, 'every connection ended');
        assert.equal((await serve.stop()).code, 0);
      }),
    );
  },
);
