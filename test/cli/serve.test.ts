// `tcpts serve` and `tcpts connect` without a device: help, usage errors,
// the link options (default peer, impairment, ranges), the one-line errors
// for what the host lacks (with the host's facts replaced, and for real as
// an unprivileged user), RFC 864's pattern, and the --http file handler
// over tcpts sockets in memory. The commands against the kernel are in
// test/interop/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '../../src/cli/main.js';
import { runConnect } from '../../src/cli/connect.js';
import { chargenCycle, fileHandler, runServe } from '../../src/cli/serve.js';
import {
  defaultPeer,
  missingPrerequisite,
  parseLinkConfig,
  type HostFacts,
  type LinkValues,
} from '../../src/cli/tun-setup.js';
import { parseCidr } from '../../src/stack/index.js';
import { B4, realPair } from '../net/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

async function run(argv: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runProgram(argv, {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  });
  return { status, out, err };
}

const ALL_THERE: HostFacts = {
  platform: 'linux',
  addon: { available: true },
  tunDevice: true,
  netAdmin: true,
  sysAdmin: true,
  iproute2: true,
};

test('tcpts --help lists serve and connect; each has its own --help', async () => {
  const help = await run(['--help']);
  assert.match(help.out.join('\n'), /\n {2}serve {4}serve HTTP, echo, discard or chargen on tcpts/);
  assert.match(
    help.out.join('\n'),
    /\n {2}connect {2}a netcat whose TCP is tcpts, over a TUN\/TAP device$/m,
  );
  const serve = await run(['serve', '--help']);
  assert.equal(serve.status, 0);
  assert.match(serve.out[0]!, /^Usage: tcpts serve \(--tun NAME \| --tap NAME\) --addr CIDR/);
  for (const flag of [
    '--http DIR',
    '--echo',
    '--discard',
    '--chargen',
    '--port P',
    '--peer ADDR',
    '--netns NAME',
    '--loss F',
    '--delay MS',
    '--reorder F',
    '--duplicate F',
    '--pcap FILE',
    '--mtu N',
  ])
    assert.ok(serve.out[0]!.includes(flag), `serve --help mentions ${flag}`);
  const connect = await run(['connect', '-h']);
  assert.equal(connect.status, 0);
  assert.match(
    connect.out[0]!,
    /^Usage: tcpts connect \(--tun NAME \| --tap NAME\) --addr CIDR \[options\] HOST PORT/,
  );
  assert.match(connect.out[0]!, /--timeout S/);
});

test('usage errors are one line and exit 2, before anything is opened', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['serve', '--tun', 't0', '--addr', '10.0.0.2/24'],
      /^tcpts serve: choose a service: --http DIR, --echo, --discard or --chargen \(see 'tcpts serve --help'\)$/,
    ],
    [
      ['serve', '--tun', 't0', '--addr', '10.0.0.2/24', '--echo', '--discard'],
      /one service at a time, got --echo and --discard/,
    ],
    [['serve', '--echo', '--addr', '10.0.0.2/24'], /give the device: --tun NAME or --tap NAME/],
    [
      ['serve', '--echo', '--tun', 'a', '--tap', 'b', '--addr', '10.0.0.2/24'],
      /give --tun or --tap, not both/,
    ],
    [['serve', '--echo', '--tun', 't0'], /give tcpts's address: --addr CIDR/],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.300/24'],
      /--addr takes an address with its prefix/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2'],
      /^tcpts serve: --addr needs the prefix length too \(e\.g\. 10\.0\.0\.2\/24\), got '10\.0\.0\.2' /,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', 'fd00::2'],
      /^tcpts serve: --addr needs the prefix length too \(e\.g\. fd00::2\/64\), got 'fd00::2' /,
    ],
    [
      ['serve', '--echo', '--tun', 'a-name-that-is-too-long', '--addr', '10.0.0.2/24'],
      /must be 1 to 15 bytes/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2/24', '--mtu', '70000'],
      /--mtu takes an integer from 68 to 65535, got '70000'/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', 'fd00::2/64', '--mtu', '1000'],
      /IPv6 needs an MTU of at least 1280/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2/24', '--peer', '10.1.0.1'],
      /--peer 10\.1\.0\.1 is not in 10\.0\.0\.2\/24/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2/24', '--peer', '10.0.0.2'],
      /is tcpts's own address/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2/24', '--peer', 'fd00::1'],
      /--peer fd00::1 has no --addr of its family \(IPv6\)/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2/32'],
      /a \/32 address has no room for the kernel's: give --peer/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2/24', '--loss', '1.5'],
      /--loss takes a fraction from 0 to 1/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2/24', '--delay', 'soon'],
      /--delay takes milliseconds/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2/24', '--port', '0'],
      /--port takes 1 to 65535, got '0'/,
    ],
    [
      ['serve', '--echo', '--tun', 't0', '--addr', '10.0.0.2/24', 'extra'],
      /unexpected argument 'extra'/,
    ],
    [['serve', '--bogus'], /^tcpts serve: unknown option '--bogus'/],
    [
      ['connect', '--tun', 't0', '--addr', '10.0.0.2/24', '10.0.0.1'],
      /^tcpts connect: give HOST and PORT/,
    ],
    [
      ['connect', '--tun', 't0', '--addr', '10.0.0.2/24', '10.0.0.1', '99999'],
      /PORT takes 1 to 65535, got '99999'/,
    ],
    [
      ['connect', '--tun', 't0', '--addr', '10.0.0.2/24', '--timeout', '0', '10.0.0.1', '80'],
      /--timeout takes seconds, more than 0/,
    ],
  ];
  for (const [argv, pattern] of cases) {
    const r = await run(argv);
    assert.equal(r.status, 2, argv.join(' '));
    assert.equal(r.err.length, 1, argv.join(' '));
    assert.match(r.err[0]!, pattern);
    assert.deepEqual(r.out, []);
  }
});

test('the kernel gets the first other host of the prefix unless --peer says otherwise', () => {
  const peer = (text: string) => defaultPeer(parseCidr(text))?.text ?? null;
  assert.equal(peer('10.0.0.2/24'), '10.0.0.1');
  assert.equal(peer('10.0.0.1/24'), '10.0.0.2');
  assert.equal(peer('192.168.7.200/16'), '192.168.0.1');
  assert.equal(peer('10.0.0.4/31'), '10.0.0.5', 'RFC 3021: the other end of a /31');
  assert.equal(peer('10.0.0.5/31'), '10.0.0.4');
  assert.equal(peer('10.0.0.2/32'), null);
  assert.equal(peer('fd00::2/64'), 'fd00::1');
  assert.equal(peer('fd00::1/64'), 'fd00::2');
  assert.equal(peer('fd00:1:2:3:4::9/80'), 'fd00:1:2:3:4::1');
  assert.equal(peer('fd00::2/128'), null);

  const values: LinkValues = {
    tap: 'tap7',
    addr: ['10.9.0.9/24', 'fd09::9/64'],
    peer: ['fd09::1'],
    mtu: '9000',
    netns: 'lab',
    loss: '0.02',
    delay: '20',
    jitter: '2.5',
    reorder: '.1',
    duplicate: '0',
    seed: '42',
    pcap: 'out.pcap',
  };
  const config = parseLinkConfig(values);
  assert.ok(typeof config !== 'string', String(config));
  assert.equal(config.kind, 'tap');
  assert.equal(config.name, 'tap7');
  assert.equal(config.mtu, 9000);
  assert.equal(config.netns, 'lab');
  assert.equal(config.pcap, 'out.pcap');
  assert.deepEqual(
    config.addresses.map((a) => [`${a.ours.address.text}/${a.ours.prefixLength}`, a.peer.text]),
    [
      ['10.9.0.9/24', '10.9.0.1'],
      ['fd09::9/64', 'fd09::1'],
    ],
  );
  // Milliseconds on the command line, microseconds (Duration) for the link.
  assert.deepEqual(config.impairment, {
    loss: 0.02,
    reorder: 0.1,
    duplicate: 0,
    delay: 20_000,
    jitter: 2_500,
    seed: 42,
  });

  const plain = parseLinkConfig({ tun: 'tun0', addr: '10.0.0.2/32', peer: '10.0.0.1' });
  assert.ok(typeof plain !== 'string', String(plain));
  assert.equal(plain.impairment, null, 'no impairment flag: a clean link');
  assert.equal(plain.mtu, 1500);
  assert.equal(plain.netns, null);
  assert.equal(plain.addresses[0]!.peer.text, '10.0.0.1', 'a /32 with --peer is point-to-point');
});

test('what the host lacks is named in one sentence, in order of what to fix first', () => {
  assert.equal(missingPrerequisite(ALL_THERE, true), null);
  const lacking = (change: Partial<HostFacts>, netns = false) =>
    missingPrerequisite({ ...ALL_THERE, ...change }, netns);
  assert.equal(lacking({ platform: 'darwin' }), 'TUN/TAP devices need Linux, this is darwin');
  assert.equal(
    lacking({
      addon: {
        available: false,
        reason: '@tcpts/tuntap is not installed',
        hint: "run 'npm install @tcpts/tuntap'",
      },
    }),
    "TUN/TAP devices need the addon (@tcpts/tuntap is not installed): run 'npm install @tcpts/tuntap'",
  );
  assert.match(
    lacking({ addon: { available: false, reason: 'no C compiler' } })!,
    /^TUN\/TAP devices need the addon \(no C compiler\): run 'npm install @tcpts\/tuntap'/,
  );
  assert.match(
    lacking({ tunDevice: false })!,
    /^\/dev\/net\/tun does not exist: load the tun module \(modprobe tun\)/,
  );
  assert.equal(
    lacking({ netAdmin: false }),
    'needs root (CAP_NET_ADMIN) to create the device and address it: run it with sudo',
  );
  assert.equal(lacking({ sysAdmin: false }), null, 'CAP_SYS_ADMIN only matters for --netns');
  assert.match(lacking({ sysAdmin: false }, true)!, /^--netns needs root \(CAP_SYS_ADMIN\)/);
  assert.match(lacking({ iproute2: false })!, /^iproute2 \('ip'\) is not installed/);
  // The first missing thing wins: no addon on a host without /dev/net/tun names the addon.
  assert.match(lacking({ tunDevice: false, addon: { available: false, reason: 'x' } })!, /addon/);
});

test('serve and connect stop at a missing prerequisite with exit 1 and that one line', async () => {
  const err: string[] = [];
  const io = {
    out: (t: string) => assert.fail(`unexpected output ${t}`),
    err: (t: string) => err.push(t),
  };
  const facts: HostFacts = { ...ALL_THERE, tunDevice: false };
  const s = await runServe(['--tun', 't0', '--addr', '10.0.0.2/24', '--echo'], io, { facts });
  assert.equal(s, 1);
  const c = await runConnect(['--tap', 't0', '--addr', '10.0.0.2/24', '10.0.0.1', '80'], io, {
    facts: {
      ...ALL_THERE,
      addon: { available: false, reason: '@tcpts/tuntap is not installed' },
    },
  });
  assert.equal(c, 1);
  assert.equal(err.length, 2);
  assert.match(err[0]!, /^tcpts serve: \/dev\/net\/tun does not exist/);
  assert.match(
    err[1]!,
    /^tcpts connect: TUN\/TAP devices need the addon \(@tcpts\/tuntap is not installed\): run 'npm install @tcpts\/tuntap'/,
  );
  const noDir = await runServe(
    ['--tun', 't0', '--addr', '10.0.0.2/24', '--http', join(tmpdir(), 'no-such-dir-tcpts')],
    io,
    { facts: ALL_THERE },
  );
  assert.equal(noDir, 1);
  assert.match(err[2]!, /^tcpts serve: --http .*no-such-dir-tcpts: no such directory$/);
});

test(
  'as an unprivileged user, the real command says root is needed and exits 1',
  { skip: process.getuid?.() !== 0 ? 'needs root to run a child as nobody' : false },
  () => {
    for (const argv of [
      ['serve', '--tun', 't0', '--addr', '10.0.0.2/24', '--echo'],
      ['connect', '--tap', 't0', '--addr', 'fd00::2/64', 'fd00::1', '80'],
    ]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...argv], {
        cwd: ROOT,
        uid: 65534,
        gid: 65534,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 1, r.stderr);
      // The first line: under c8 a child run as nobody also reports that it could not write
      // its coverage file into the root-owned coverage folder.
      assert.equal(
        r.stderr.split('\n')[0] + '\n',
        `tcpts ${argv[0]}: needs root (CAP_NET_ADMIN) to create the device and address it: run it with sudo\n`,
      );
      assert.equal(r.stdout, '');
    }
  },
);

// RFC 864 numbers the 95 printing characters from the space: line 0 is
// characters 0..71, from ' ' to 'g'.
test("chargen: RFC 864's 95 lines of 72 characters, each starting one further on, CR LF", () => {
  const cycle = chargenCycle();
  assert.equal(cycle.length, 95 * 74);
  const lines = cycle.toString('latin1').split('\r\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 95);
  assert.equal(
    lines[0],
    ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg',
  );
  assert.equal(lines[1]!.slice(0, 3), '!"#');
  assert.equal(
    lines[94]!.slice(0, 2),
    '~ ',
    'the last line starts at the last character and wraps',
  );
  for (const line of lines) assert.match(line, /^[ -~]{72}$/);
});

test('--http serves files over node:http on tcpts sockets: GET, HEAD, 404, 405, index, listing, no escape from the root', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tcpts-http-'));
  const pair = realPair();
  try {
    writeFileSync(join(root, 'a.txt'), 'alpha\n');
    writeFileSync(join(root, 'data.bin'), Buffer.alloc(300_000, 7));
    mkdirSync(join(root, 'site'));
    writeFileSync(join(root, 'site', 'index.html'), '<p>home</p>');
    mkdirSync(join(root, 'empty dir'));
    writeFileSync(join(root, 'empty dir', '<b>.txt'), 'x');
    const httpServer = http.createServer(fileHandler(root));
    const server = pair.netB.createServer({ allowHalfOpen: true }, (s) =>
      httpServer.emit('connection', s),
    );
    server.listen(80);
    await once(server, 'listening');

    const get = (path: string, method = 'GET') =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
        (resolve, reject) => {
          const req = http.request(
            { host: B4, port: 80, path, method, createConnection: () => pair.netA.connect(80, B4) },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () =>
                resolve({
                  status: res.statusCode!,
                  headers: res.headers,
                  body: Buffer.concat(chunks),
                }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        },
      );

    const a = await get('/a.txt');
    assert.equal(a.status, 200);
    assert.equal(a.body.toString(), 'alpha\n');
    assert.equal(a.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(a.headers['content-length'], '6');
    const big = await get('/data.bin');
    assert.equal(big.body.length, 300_000);
    assert.ok(big.body.every((b) => b === 7));
    assert.equal(big.headers['content-type'], 'application/octet-stream');
    const head = await get('/data.bin', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '300000');
    assert.equal(head.body.length, 0);
    assert.equal((await get('/missing')).status, 404);
    assert.equal((await get('/../../etc/passwd')).status, 404, 'no way above the root');
    assert.equal((await get('/%2e%2e/%2e%2e/etc/passwd')).status, 404);
    const post = await get('/a.txt', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await get('/%E0%A4%A')).status, 400);
    const redirect = await get('/site');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/site/');
    assert.equal((await get('/site/')).body.toString(), '<p>home</p>');
    const listing = await get('/empty%20dir/');
    assert.equal(listing.status, 200);
    assert.match(
      listing.body.toString(),
      /<a href="%3Cb%3E\.txt">&#60;b&#62;\.txt<\/a>/,
      'names escaped',
    );
    server.close();
    httpServer.close();
  } finally {
    pair.close();
    rmSync(root, { recursive: true, force: true });
  }
});
