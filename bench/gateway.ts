/**
 * `tcpts gateway` next to slirp4netns and pasta: the same guest namespace,
 * the same host servers on 127.0.0.1, the same guest client
 * (bench/gateway-guest.py), one NAT at a time, each reached by the guest at
 * 10.0.2.2 (the host's loopback):
 *
 *   node --import tsx bench/gateway.ts [--megabytes N] [--runs N] [--mtu N]
 *
 * Prints guest -> host bulk throughput, connections per second (connect,
 * wait for the host's close), and the median and 99th percentile of 1-byte
 * round trips, each the median of its runs. Needs root, iproute2, python3,
 * /usr/bin/slirp4netns and /usr/bin/pasta (a NAT that is missing is
 * skipped with the reason).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUEST = fileURLToPath(new URL('./gateway-guest.py', import.meta.url));

const { values } = parseArgs({
  options: {
    megabytes: { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
    mtu: { type: 'string', default: '1500' },
  },
});
const megabytes = Number(values.megabytes);
const runs = Number(values.runs);
const mtu = Number(values.mtu);

interface Figures {
  bulkMbitPerSecond: number;
  connectionsPerSecond: number;
  rttMedianMicros: number;
  rttP99Micros: number;
}

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Waits until the namespace's device has 10.0.2.100. */
async function addressed(ns: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (/inet 10\.0\.2\.100\//.test(run('ip', ['-n', ns, '-4', 'addr']))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no 10.0.2.100 in ${ns}`);
}

/** How each NAT is started for namespace `ns` (the guest configured statically for all three). */
const NATS: Record<string, { binary: string; start: (ns: string) => Promise<ChildProcess> }> = {
  tcpts: {
    binary: process.execPath,
    start: async (ns) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'gateway',
          '--tap',
          'gw0',
          '--netns',
          ns,
          '--allow-host-loopback',
          '--no-ipv6',
          '--mtu',
          String(mtu),
        ],
        { cwd: ROOT, stdio: 'ignore' },
      );
      // The guest is configured as slirp4netns --configure does (no DHCP round in the figures).
      for (let i = 0; i < 200; i++) {
        if (spawnSync('ip', ['-n', ns, 'link', 'show', 'gw0']).status === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      run('ip', ['-n', ns, 'addr', 'add', '10.0.2.100/24', 'dev', 'gw0']);
      run('ip', ['-n', ns, 'route', 'add', 'default', 'via', '10.0.2.2']);
      return child;
    },
  },
  slirp4netns: {
    binary: '/usr/bin/slirp4netns',
    start: async (ns) =>
      spawn(
        '/usr/bin/slirp4netns',
        ['--configure', `--mtu=${mtu}`, '--netns-type=path', `/run/netns/${ns}`, 'tap0'],
        { stdio: 'ignore' },
      ),
  },
  pasta: {
    binary: '/usr/bin/pasta',
    start: async (ns) =>
      spawn(
        '/usr/bin/pasta',
        [
          '-f',
          '-q',
          // As root, pasta would drop to nobody and not enter a namespace made by root.
          '--netns-only',
          '--runas',
          '0',
          '--config-net',
          '-a',
          '10.0.2.100',
          '-n',
          '24',
          '-g',
          '10.0.2.2',
          '-m',
          String(mtu),
          '-t',
          'none',
          '-u',
          'none',
          '-T',
          'none',
          '-U',
          'none',
          '--netns',
          `/run/netns/${ns}`,
        ],
        { stdio: 'ignore' },
      ),
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('bench/gateway.ts needs root (network namespaces, TAP)');
  const sink = net.createServer((s) => {
    s.resume();
    s.on('end', () => s.end());
  });
  const accept = net.createServer((s) => s.end());
  const echo = net.createServer((s) => {
    s.setNoDelay(true);
    s.pipe(s);
  });
  for (const server of [sink, accept, echo]) server.on('error', () => undefined);
  const ports = [await listen(sink), await listen(accept), await listen(echo)];
  const results: Record<string, Figures[]> = {};
  const failures: Record<string, string> = {};
  for (let r = 0; r < runs; r++) {
    for (const [name, nat] of Object.entries(NATS)) {
      if (!existsSync(nat.binary)) {
        if (r === 0) console.log(`${name}: skipped (${nat.binary} is not installed)`);
        continue;
      }
      const ns = `tcpts-bench-${process.pid}`;
      run('ip', ['netns', 'add', ns]);
      let child: ChildProcess | null = null;
      try {
        run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        console.log(`${name}: run ${r + 1} of ${runs}`);
        child = await nat.start(ns);
        await addressed(ns);
        // pasta configures the address before its data path is up: give every NAT a moment.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const out = await new Promise<string>((resolve, reject) => {
          const guest = spawn('ip', [
            'netns',
            'exec',
            ns,
            'python3',
            GUEST,
            '10.0.2.2',
            ...ports.map(String),
            String(megabytes),
          ]);
          let text = '';
          let err = '';
          guest.stdout.on('data', (d: Buffer) => (text += d.toString()));
          guest.stderr.on('data', (d: Buffer) => (err += d.toString()));
          guest.on('exit', (code) =>
            code === 0 ? resolve(text) : reject(new Error(`${name}: ${err}`)),
          );
        });
        (results[name] ??= []).push(JSON.parse(out) as Figures);
      } catch (error) {
        // One NAT failing leaves the others' figures standing; its row says why.
        failures[name] =
          error instanceof Error ? error.message.split('\n').slice(-3).join(' ') : String(error);
      } finally {
        child?.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 300));
        child?.kill('SIGKILL');
        spawnSync('ip', ['netns', 'del', ns]);
      }
    }
  }
  for (const server of [sink, accept, echo]) server.close();
  console.log(
    `guest -> host (127.0.0.1 as 10.0.2.2), MTU ${mtu}, ${megabytes} MB bulk, median of ${runs} runs`,
  );
  console.log(
    `${'NAT'.padEnd(12)} ${'bulk Mbit/s'.padStart(12)} ${'conn/s'.padStart(8)} ${'RTT p50 us'.padStart(11)} ${'RTT p99 us'.padStart(11)}`,
  );
  for (const [name, list] of Object.entries(results)) {
    const f = (key: keyof Figures) => median(list.map((x) => x[key]));
    console.log(
      `${name.padEnd(12)} ${f('bulkMbitPerSecond').toFixed(0).padStart(12)} ${f('connectionsPerSecond').toFixed(0).padStart(8)} ${f('rttMedianMicros').toFixed(0).padStart(11)} ${f('rttP99Micros').toFixed(0).padStart(11)}`,
    );
  }
  for (const [name, why] of Object.entries(failures)) console.log(`${name}: failed: ${why}`);
}

await main();
