// Network namespaces for the tests that put tcpts against the Linux kernel.
// Each test makes its own namespace (`tcpts-<pid>-<n>`), creates its TUN/TAP
// device inside it, gives the kernel side its addresses there, and deletes
// the namespace afterwards even when the test fails (withNetns). Nothing is
// configured outside the namespaces. Namespaces left by a process that died
// are removed the next time this module loads.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tuntapAvailability } from '../../src/link/node/index.js';

let counter = 0;

function run(command: string, args: string[], input?: string): { ok: boolean; output: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', input, timeout: 10_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.error !== undefined) return { ok: false, output: r.error.message };
  return { ok: r.status === 0, output };
}

function must(command: string, args: string[], input?: string): string {
  const r = run(command, args, input);
  if (!r.ok) throw new Error(`${command} ${args.join(' ')} failed: ${r.output}`);
  return r.output;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces of earlier test processes that did not live to clean up. */
function sweepStale(): void {
  if (!existsSync('/run/netns')) return;
  for (const name of readdirSync('/run/netns')) {
    const m = /^tcpts-(\d+)-\d+$/.exec(name);
    if (m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]))) {
      run('ip', ['netns', 'del', name]);
    }
  }
}

let skipReason: string | null | undefined;

/**
 * Why the kernel interop tests cannot run here, or null when they can: they
 * need Linux, root, /dev/net/tun, the addon, iproute2 and permission to make
 * a network namespace. Checked once.
 */
export function interopSkipReason(): string | null {
  if (skipReason !== undefined) return skipReason;
  skipReason = findSkipReason();
  if (skipReason === null) sweepStale();
  return skipReason;
}

function findSkipReason(): string | null {
  if (process.platform !== 'linux')
    return `TUN/TAP interop needs Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'TUN/TAP interop needs root (CAP_NET_ADMIN)';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun does not exist';
  const addon = tuntapAvailability();
  if (!addon.available) return `the TUN/TAP addon is not built: ${addon.reason}`;
  if (!run('ip', ['-V']).ok) return 'iproute2 (`ip`) is not installed';
  const probe = `tcpts-${process.pid}-probe`;
  const made = run('ip', ['netns', 'add', probe]);
  if (!made.ok) return `cannot create a network namespace: ${made.output}`;
  run('ip', ['netns', 'del', probe]);
  return null;
}

/** Why a test that also needs python3 in the namespace cannot run, or null. */
export function pythonSkipReason(): string | null {
  const base = interopSkipReason();
  if (base !== null) return base;
  return run('python3', ['-c', 'import hashlib, socket, threading']).ok
    ? null
    : 'python3 is not installed';
}

/** Why a test that needs tc (u32 + mirred) cannot run, or null; checked in a namespace. */
export function tcSkipReason(ns: Netns): string | null {
  if (!run('tc', ['-V']).ok) return 'tc (iproute2) is not installed';
  const made = run('ip', ['-n', ns.name, 'tuntap', 'add', 'dev', 'probe0', 'mode', 'tun']);
  if (!made.ok) return `cannot make a TUN device to probe tc: ${made.output}`;
  const q = run('tc', ['-n', ns.name, 'qdisc', 'add', 'dev', 'probe0', 'ingress']);
  const f = q.ok
    ? run('tc', ['-n', ns.name, ...mirredFilter('probe0', 'lo')])
    : { ok: false, output: q.output };
  run('ip', ['-n', ns.name, 'link', 'del', 'probe0']);
  return f.ok ? null : `the kernel has no tc ingress/u32/mirred: ${f.output}`;
}

/**
 * `tc` arguments that send everything arriving on `from` out of `to`,
 * untouched. u32 always loads four bytes at its offset, and the offset
 * counts from the network header: at -4 it reads the end of the Ethernet
 * header (TAP) or the buffer's headroom (TUN), which every frame has, so
 * even a 1-byte IP packet or a bare Ethernet header matches.
 */
export function mirredFilter(from: string, to: string): string[] {
  return [
    'filter',
    'add',
    'dev',
    from,
    'ingress',
    'protocol',
    'all',
    'u32',
    'match',
    'u32',
    '0',
    '0',
    'at',
    '-4',
    'action',
    'mirred',
    'egress',
    'redirect',
    'dev',
    to,
  ];
}

/** A helper script running in a namespace (see {@link Netns.runJson}). */
export interface JsonChild {
  /** Resolves when it printed "ready" (servers). */
  ready: Promise<void>;
  /** Its last line, JSON, when it exits 0; rejects with its output otherwise. */
  result: Promise<Record<string, unknown>>;
  /** Kills it (servers that run until killed). */
  kill(): void;
}

/** A network namespace of this test process. */
export class Netns {
  readonly name: string;
  /** The namespace file, for `openTun({ netns })`. */
  readonly path: string;
  private readonly children = new Set<ChildProcess>();
  private deleted = false;

  constructor() {
    this.name = `tcpts-${process.pid}-${++counter}`;
    this.path = `/run/netns/${this.name}`;
    must('ip', ['netns', 'add', this.name]);
    this.ip(['link', 'set', 'lo', 'up']);
  }

  /** `ip -n <ns> ...`; throws with ip's message on failure. */
  ip(args: string[]): string {
    return must('ip', ['-n', this.name, ...args]);
  }

  /** `tc -n <ns> ...`; throws with tc's message on failure. */
  tc(args: string[]): string {
    return must('tc', ['-n', this.name, ...args]);
  }

  /** Several commands of `ip` or `tc` in one process (`-batch`): one spawn instead of many. */
  batch(tool: 'ip' | 'tc', commands: string[][]): string {
    return must(
      tool,
      ['-n', this.name, '-batch', '-'],
      commands.map((c) => c.join(' ')).join('\n'),
    );
  }

  /** Writes a sysctl of the namespace (`net.ipv6.conf.all.disable_ipv6` → /proc/sys/...). */
  sysctl(key: string, value: string): void {
    const path = `/proc/sys/${key.replaceAll('.', '/')}`;
    must('ip', ['netns', 'exec', this.name, 'sh', '-c', `echo ${value} > ${path}`]);
  }

  /** Runs a command inside the namespace to completion; returns its output, throws on failure. */
  exec(command: string, args: string[]): string {
    return must('ip', ['netns', 'exec', this.name, command, ...args]);
  }

  /** Runs a command inside the namespace to completion; returns its status and output. */
  tryExec(command: string, args: string[]): { ok: boolean; output: string } {
    return run('ip', ['netns', 'exec', this.name, command, ...args]);
  }

  /**
   * Starts a helper script in the namespace that prints "ready" once it
   * serves (if it is a server) and ends with one JSON line: `ready` resolves
   * at "ready", `result` with the JSON line when it exits 0, and both reject
   * with its output otherwise. It is killed after `timeoutMs`. `label` names
   * it in errors (e.g. "kernel.py sink ...").
   */
  runJson(command: string, args: string[], timeoutMs: number, label: string): JsonChild {
    const child = this.spawn(command, args);
    let stdout = '';
    let stderr = '';
    let markReady: () => void = () => {};
    let failReady: (error: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      stdout += text;
      if (/^ready$/m.test(stdout)) markReady();
    });
    child.stderr!.on('data', (text: string) => (stderr += text));
    const result = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const lines = stdout.trim().split('\n');
        const last = lines[lines.length - 1] ?? '';
        if (code === 0 && last.startsWith('{')) {
          resolve(JSON.parse(last) as Record<string, unknown>);
        } else {
          const why =
            signal !== null ? `killed by ${signal} (timeout ${timeoutMs} ms?)` : `exit ${code}`;
          const error = new Error(`${label}: ${why}\n${stderr}${stdout}`);
          failReady(error);
          reject(error);
        }
      });
    });
    // A caller awaiting only one of them must not see the other's rejection as unhandled.
    ready.catch(() => {});
    result.catch(() => {});
    return { ready, result, kill: () => child.kill('SIGKILL') };
  }

  /** Starts a command inside the namespace; it is killed when the namespace is deleted. */
  spawn(command: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Kills what is still running in it and deletes it. Twice is harmless. */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    for (const child of this.children) child.kill('SIGKILL');
    run('ip', ['netns', 'del', this.name]);
  }
}

/** Runs `body` with a fresh namespace and deletes the namespace afterwards, whatever happens. */
export async function withNetns<T>(body: (ns: Netns) => Promise<T> | T): Promise<T> {
  const ns = new Netns();
  try {
    return await body(ns);
  } finally {
    ns.delete();
  }
}
