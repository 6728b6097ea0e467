// `tcpts gateway` (a child process, in the root namespace) serving a guest
// namespace over a TAP device, the way slirp4netns serves a container:
// - udhcpc in the guest gets 10.0.2.100, the router and the DNS server;
// - the guest's resolver (glibc, and raw UDP and TCP queries) is answered
//   through the gateway by a test DNS server on the host's loopback;
// - curl in the guest downloads 100 MB from an HTTP server on the host's
//   loopback (--allow-host-loopback, 10.0.2.2), SHA-256 compared;
// - a host client reaches a server in the guest through --forward;
// - half-close both ways, RST both ways, a refusing host port, a denied
//   destination (TCP and UDP), UDP both ways;
// - malformed DHCP and DNS messages are counted and dropped; a flood of
//   flows past --max-flows is refused and counted while a flow that was
//   open keeps working; without --allow-host-loopback the host's loopback
//   is refused.
// Traffic goes only to the host's loopback and the namespaces made here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tcpts, curl } from '../interop/cli.js';
import { Netns, pythonSkipReason } from '../interop/netns.js';

const GUEST_PY = join(import.meta.dirname, 'guest.py');
const UDHCPC_SCRIPT = join(import.meta.dirname, 'udhcpc-script.sh');
const UDHCPC = '/usr/sbin/udhcpc';
const SIZE = 100 * 1024 * 1024;
/** What the test DNS server answers for every A question. */
const ANSWER_ADDRESS = '192.0.2.44';

function skipReason(): string | false {
  const base = pythonSkipReason();
  if (base !== null) return base;
  if (spawnSync(UDHCPC, ['--help']).error !== undefined)
    return `${UDHCPC} is not installed (Debian's udhcpc; scripts/ensure-tools.sh installs it)`;
  const c = spawnSync('curl', ['--version']);
  if (c.error !== undefined || c.status !== 0) return 'curl is not installed';
  return false;
}
const skip = skipReason();

/** Listens on 127.0.0.1, port chosen by the kernel. */
async function listenLoopback(server: net.Server | http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listenLoopback(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** A DNS answer to `query`: one A record, ANSWER_ADDRESS, whatever was asked. */
function dnsAnswer(query: Buffer): Buffer {
  const header = Buffer.from(query.subarray(0, 12));
  header.writeUInt16BE(0x8180, 2);
  header.writeUInt16BE(1, 6);
  const question = query.subarray(12);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0);
  record.writeUInt16BE(1, 2);
  record.writeUInt16BE(1, 4);
  record.writeUInt32BE(60, 6);
  record.writeUInt16BE(4, 10);
  Buffer.from(ANSWER_ADDRESS.split('.').map(Number)).copy(record, 12);
  return Buffer.concat([header, question, record]);
}

/** A DNS server on the host's loopback (UDP and TCP on the same port). */
async function startDnsServer(): Promise<{ port: number; close: () => void }> {
  const tcp = net.createServer((s) => {
    let buffered = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const q = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + q.length);
        const a = dnsAnswer(q);
        const length = Buffer.alloc(2);
        length.writeUInt16BE(a.length);
        s.write(Buffer.concat([length, a]));
      }
    });
    s.on('error', () => undefined);
  });
  const port = await listenLoopback(tcp);
  const udp = dgram.createSocket('udp4');
  udp.on('message', (q, remote) => udp.send(dnsAnswer(q), remote.port, remote.address));
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  return {
    port,
    close: () => {
      tcp.close();
      udp.close();
    },
  };
}

/** Runs guest.py in the guest namespace and returns its JSON line. */
async function guest(
  ns: Netns,
  args: string[],
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  return ns.runJson('python3', [GUEST_PY, ...args], timeoutMs, `guest.py ${args.join(' ')}`).result;
}

/** Asks the gateway for its counters (SIGUSR1) and parses the line it prints. */
async function counters(gw: Tcpts): Promise<Record<string, number>> {
  const before = gw.lines.length;
  gw.child.kill('SIGUSR1');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const line = gw.lines.slice(before).find((l) => l.startsWith('tcpts gateway: tcp-flows-open='));
    if (line !== undefined) {
      const values: Record<string, number> = {};
      for (const pair of line.slice('tcpts gateway: '.length).split(' ')) {
        const [k, v] = pair.split('=');
        values[k!] = Number(v);
      }
      return values;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no counters after SIGUSR1:\n${gw.transcript()}`);
}

/** Starts a gateway for `ns` and runs udhcpc in it; returns the gateway and udhcpc's lease line. */
async function startGateway(ns: Netns, extra: string[]): Promise<{ gw: Tcpts; lease: string }> {
  const gw = new Tcpts(['gateway', '--tap', 'gw0', '--netns', ns.name, '-v', ...extra]);
  await gw.waitFor(/^tcpts gateway: gw0 /);
  const dhcp = ns.exec(UDHCPC, [
    '-i',
    'gw0',
    '-f',
    '-q',
    '-n',
    '-t',
    '5',
    '-T',
    '1',
    '-s',
    UDHCPC_SCRIPT,
  ]);
  const lease = dhcp.split('\n').find((l) => l.startsWith('lease ')) ?? '';
  return { gw, lease };
}

let ns: Netns | null = null;
let gw: Tcpts | null = null;
let lease = '';
let dir = '';
let fileSha = '';
let httpPort = 0;
let forwardPort = 0;
let dnsPort = 0;
const closers: Array<() => void> = [];

before(async () => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), 'tcpts-gateway-'));
  const data = randomBytes(SIZE);
  fileSha = createHash('sha256').update(data).digest('hex');
  const server = http.createServer((_req, res) => {
    res.setHeader('Content-Length', data.length);
    res.end(data);
  });
  httpPort = await listenLoopback(server);
  closers.push(() => server.close());
  const dns = await startDnsServer();
  dnsPort = dns.port;
  closers.push(dns.close);
  forwardPort = await freePort();
  ns = new Netns();
  const started = await startGateway(ns, [
    '--allow-host-loopback',
    '--dns-upstream',
    `127.0.0.1:${dnsPort}`,
    '--deny',
    '192.0.2.0/24',
    '--forward',
    `tcp:${forwardPort}:7000`,
  ]);
  gw = started.gw;
  lease = started.lease;
});

after(() => {
  gw?.kill();
  ns?.delete();
  for (const close of closers) close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test(
  'udhcpc in the guest gets 10.0.2.100, the route via 10.0.2.2 and the DNS server',
  { skip },
  () => {
    assert.match(lease, /ip=10\.0\.2\.100 mask=24 router=10\.0\.2\.2 dns=10\.0\.2\.3 lease=86400/);
    const address = ns!.ip(['-4', 'addr', 'show', 'dev', 'gw0']);
    assert.match(address, /inet 10\.0\.2\.100\/24/);
    assert.match(ns!.ip(['-4', 'route']), /default via 10\.0\.2\.2 dev gw0/);
  },
);

test(
  "the guest's resolver is answered through the gateway (UDP, TCP, and glibc's)",
  { skip },
  async () => {
    const udp = await guest(ns!, ['dns', '10.0.2.3', 'probe.tcpts.test', 'udp']);
    assert.deepEqual(udp, { id: 0x1234, address: ANSWER_ADDRESS });
    const tcp = await guest(ns!, ['dns', '10.0.2.3', 'probe.tcpts.test', 'tcp']);
    assert.deepEqual(tcp, { id: 0x1234, address: ANSWER_ADDRESS });
    // glibc's own resolver, with a resolv.conf naming 10.0.2.3 mounted over the guest's view only.
    const conf = join(dir, 'resolv.conf');
    writeFileSync(conf, 'nameserver 10.0.2.3\noptions attempts:2 timeout:2\n');
    // Spawned, not run synchronously: the upstream DNS server lives in this process.
    const child = ns!.spawn('unshare', [
      '-m',
      'sh',
      '-c',
      `mount --bind ${conf} /etc/resolv.conf && getent ahostsv4 probe.tcpts.test`,
    ]);
    let output = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (t: string) => (output += t));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const resolved = { ok: code === 0, output };
    assert.ok(
      resolved.ok,
      `getent failed: ${resolved.output}\n${JSON.stringify(await counters(gw!))}`,
    );
    assert.match(resolved.output, new RegExp(`^${ANSWER_ADDRESS.replaceAll('.', '\\.')}\\s`, 'm'));
    const c = await counters(gw!);
    assert.ok(c['dns-udp-queries']! >= 2, JSON.stringify(c));
    assert.equal(c['dns-tcp-queries'], 1);
  },
);

test(
  "the guest's curl downloads 100 MB from the host's loopback through the gateway",
  { skip },
  async () => {
    const got = await curl(ns!, `http://10.0.2.2:${httpPort}/big.bin`, 120);
    assert.equal(got.bytes, SIZE);
    assert.equal(got.sha256, fileSha);
    assert.ok(
      gw!.lines.some((l) => /^tcp \d+ 10\.0\.2\.100:\d+ -> 10\.0\.2\.2:\d+ opened$/.test(l)),
    );
  },
);

test('a host client reaches a server in the guest through --forward', { skip }, async () => {
  const server = ns!.runJson('python3', [GUEST_PY, 'echo-server', '7000'], 30_000, 'echo-server');
  await server.ready;
  const reply = await new Promise<string>((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port: forwardPort, allowHalfOpen: true });
    let text = '';
    c.setEncoding('utf8');
    c.on('data', (t: string) => (text += t));
    c.on('end', () => resolve(text));
    c.on('error', reject);
    c.end('through the forward');
  });
  assert.equal(reply, 'THROUGH THE FORWARD');
  const seen = await server.result;
  assert.equal(seen.received, 'through the forward');
  // The guest sees the gateway as the client, as under slirp4netns.
  assert.equal(seen.peer, '10.0.2.2');
});

test('half-close both ways: each side still sends after the other FIN', { skip }, async () => {
  // Guest FIN first: the host answers after it.
  const first = net.createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (t: string) => (got += t));
    s.on('end', () => s.end(`after-your-fin:${got}`));
  });
  const p1 = await listenLoopback(first);
  const r1 = await guest(ns!, ['half-close-from-guest', '10.0.2.2', String(p1)]);
  assert.equal(r1.received, 'after-your-fin:guest-data');
  first.close();
  // Host FIN first: the guest answers after it.
  let answer = '';
  const answered = new Promise<void>((resolve) => {
    const second = net.createServer({ allowHalfOpen: true }, (s) => {
      s.setEncoding('utf8');
      s.on('data', (t: string) => (answer += t));
      s.on('end', () => {
        s.end();
        second.close();
        resolve();
      });
      s.end('host-data-then-fin');
    });
    void listenLoopback(second).then(async (p2) => {
      const r2 = await guest(ns!, ['half-close-from-host', '10.0.2.2', String(p2)]);
      assert.equal(r2.received, 'host-data-then-fin');
    });
  });
  await answered;
  assert.equal(answer, 'answer-after-eof');
});

test(
  'RST both ways: a host reset reaches the guest, a guest reset reaches the host',
  { skip },
  async () => {
    const resetting = net.createServer((s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    const p1 = await listenLoopback(resetting);
    const r1 = await guest(ns!, ['expect-reset', '10.0.2.2', String(p1)]);
    assert.equal(r1.error, 'ECONNRESET');
    resetting.close();
    const hostError = new Promise<string>((resolve) => {
      const listening = net.createServer((s) => {
        s.resume();
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        s.on('close', () => resolve('closed without error'));
      });
      void listenLoopback(listening).then((p2) =>
        guest(ns!, ['reset-from-guest', '10.0.2.2', String(p2)]).finally(() => listening.close()),
      );
    });
    assert.equal(await hostError, 'ECONNRESET');
  },
);

test(
  'flow control end to end: a host that stops reading closes the guest window; nothing is lost',
  { skip },
  async () => {
    const TOTAL = 64 * 1024 * 1024;
    let received = 0;
    let paused: net.Socket | null = null;
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const slow = net.createServer({ allowHalfOpen: true }, (s) => {
      paused = s;
      s.pause();
      s.on('data', (chunk: Buffer) => (received += chunk.length));
      s.on('end', () => {
        s.end();
        finished();
      });
    });
    const port = await listenLoopback(slow);
    const sender = ns!.runJson(
      'python3',
      [GUEST_PY, 'stall-send', '10.0.2.2', String(port), String(TOTAL)],
      120_000,
      'stall-send',
    );
    await sender.ready;
    // The guest is stalled: the gateway holds no more than its per-flow buffers.
    const c = await counters(gw!);
    assert.ok(c['tcp-buffered-bytes']! <= 4 * 256 * 1024 + 65536, JSON.stringify(c));
    (paused as net.Socket | null)?.resume();
    const result = await sender.result;
    await done;
    slow.close();
    assert.ok((result.stalled_at as number) < TOTAL / 2, JSON.stringify(result));
    assert.equal(result.sent, TOTAL);
    assert.equal(received, TOTAL);
  },
);

test('ICMP echo to the gateway address is answered', { skip }, async () => {
  const r = await guest(ns!, ['ping', '10.0.2.2']);
  assert.deepEqual(r, { from_: '10.0.2.2', payload: 'tcpts-ping' });
});

test('a host port that refuses: the guest sees ECONNREFUSED', { skip }, async () => {
  const closed = await freePort();
  const r = await guest(ns!, ['connect', '10.0.2.2', String(closed)]);
  assert.equal(r.error, 'ECONNREFUSED');
  assert.ok(gw!.lines.some((l) => l.endsWith(`-> 10.0.2.2:${closed} failed: ECONNREFUSED`)));
});

test(
  'UDP both ways through the gateway, and a denied destination refused (TCP and UDP), counted',
  { skip },
  async () => {
    const echo = dgram.createSocket('udp4');
    echo.on('message', (m, remote) =>
      echo.send(Buffer.concat([Buffer.from('echo:'), m]), remote.port, remote.address),
    );
    await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', resolve));
    const port = echo.address().port;
    try {
      const r = await guest(ns!, ['udp', '10.0.2.2', String(port)]);
      assert.deepEqual(r, { error: null, received: 'echo:udp-ping' });
    } finally {
      echo.close();
    }
    const tcp = await guest(ns!, ['connect', '192.0.2.1', '80']);
    assert.equal(tcp.error, 'ECONNREFUSED');
    const udp = await guest(ns!, ['udp', '192.0.2.1', '9']);
    assert.equal(udp.error, 'ECONNREFUSED');
    const c = await counters(gw!);
    assert.equal(c['tcp-denied-rule'], 1);
    assert.ok(c['udp-denied-rule']! >= 1, JSON.stringify(c));
  },
);

test(
  'IPv6: SLAAC from the router advertisements; TCP and UDP to fd00::2 reach the host loopback ::1',
  { skip },
  async () => {
    let global = '';
    for (let i = 0; i < 100 && !/inet6 fd00::\S+ scope global(?! tentative)/.test(global); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      global = ns!.ip(['-6', 'addr', 'show', 'dev', 'gw0']);
    }
    assert.match(global, /inet6 fd00::\S+\/64 scope global/);
    assert.match(ns!.ip(['-6', 'route']), /default via fe80::\S+ dev gw0 proto ra/);
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (t: string) => (got += t));
      s.on('end', () => s.end(`v6:${got}`));
    });
    await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const echo = dgram.createSocket('udp6');
    echo.on('message', (m, remote) =>
      echo.send(Buffer.concat([Buffer.from('echo:'), m]), remote.port, remote.address),
    );
    await new Promise<void>((resolve) => echo.bind(0, '::1', resolve));
    try {
      const tcp = await guest(ns!, ['half-close-from-guest', 'fd00::2', String(port)]);
      assert.equal(tcp.received, 'v6:guest-data');
      const udp = await guest(ns!, ['udp', 'fd00::2', String(echo.address().port)]);
      assert.deepEqual(udp, { error: null, received: 'echo:udp-ping' });
    } finally {
      server.close();
      echo.close();
    }
  },
);

test(
  'malformed DHCP and DNS messages are counted and dropped; the services go on',
  { skip },
  async () => {
    const before = await counters(gw!);
    // A BOOTREQUEST cut short, and one with a wrong magic cookie.
    await guest(ns!, ['garbage', '255.255.255.255', '67', '01010600deadbeef']);
    await guest(ns!, [
      'garbage',
      '255.255.255.255',
      '67',
      `010106${'00'.repeat(233)}01020304350101ff`,
    ]);
    // A DNS header alone, a response where a query belongs, a name that runs off the end.
    await guest(ns!, ['garbage', '10.0.2.3', '53', '1234']);
    await guest(ns!, ['garbage', '10.0.2.3', '53', '123481800001000000000000036162630000010001']);
    await guest(ns!, ['garbage', '10.0.2.3', '53', '12340100000100000000000005616263']);
    const deadline = Date.now() + 5000;
    let c = await counters(gw!);
    while (Date.now() < deadline && (c['dns-bad-question'] ?? 0) < 1) c = await counters(gw!);
    assert.equal((c['dhcp-truncated'] ?? 0) - (before['dhcp-truncated'] ?? 0), 1);
    assert.equal((c['dhcp-bad-cookie'] ?? 0) - (before['dhcp-bad-cookie'] ?? 0), 1);
    assert.equal((c['dns-truncated'] ?? 0) - (before['dns-truncated'] ?? 0), 1);
    assert.equal((c['dns-not-query'] ?? 0) - (before['dns-not-query'] ?? 0), 1);
    assert.equal((c['dns-bad-question'] ?? 0) - (before['dns-bad-question'] ?? 0), 1);
    const still = await guest(ns!, ['dns', '10.0.2.3', 'after.garbage.test', 'udp']);
    assert.equal(still.address, ANSWER_ADDRESS);
    const renewed = ns!.exec(UDHCPC, [
      '-i',
      'gw0',
      '-f',
      '-q',
      '-n',
      '-t',
      '5',
      '-T',
      '1',
      '-s',
      UDHCPC_SCRIPT,
    ]);
    assert.match(renewed, /lease ip=10\.0\.2\.100 /);
  },
);

test(
  'a flood of flows past --max-flows is refused and counted; the open flow keeps working; no host loopback without the flag',
  { skip },
  async () => {
    const echo = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    const port = await listenLoopback(echo);
    const other = new Netns();
    const started = await startGateway(other, ['--max-flows', '8', '--deny', '10.0.2.0/24']);
    try {
      assert.match(started.lease, /ip=10\.0\.2\.100 /);
      // Without --allow-host-loopback, 10.0.2.2 is not the host's loopback: refused, counted.
      const refused = await guest(other, ['connect', '10.0.2.2', String(port)]);
      assert.equal(refused.error, 'ECONNREFUSED');
      const c0 = await counters(started.gw);
      assert.equal(c0['tcp-denied-host-loopback'], 1);
    } finally {
      started.gw.kill();
      other.delete();
    }
    // The flood needs a reachable host server: the main gateway, with a second one on a low limit.
    const flooded = new Netns();
    const limited = await startGateway(flooded, ['--allow-host-loopback', '--max-flows', '8']);
    try {
      const r = await guest(flooded, ['flood', '10.0.2.2', String(port), '20'], 60_000);
      assert.equal(r.opened, 7);
      assert.equal(r.refused, 13);
      assert.equal(r.echoed, 'still-alive');
      const c = await counters(limited.gw);
      assert.equal(c['tcp-refused-flow-limit'], 13);
    } finally {
      limited.gw.kill();
      flooded.delete();
      echo.close();
    }
  },
);
