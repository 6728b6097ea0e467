// Running the real `tcpts serve` and `tcpts connect` commands as child
// processes for the interop tests: each runs in this (root) namespace and
// puts the kernel's end of its device into the test's namespace (--netns).
// Every child started here is killed when the test's namespace goes
// (withTcpts), so a failing test leaves nothing running.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Netns } from './netns.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

/** How to start a child. */
export interface StartOptions {
  /**
   * stdout is the connection's data (connect): read it through
   * {@link Tcpts.stdout}; {@link Tcpts.waitFor} then matches stderr lines.
   */
  stdoutAsData?: boolean;
  /** The child's stdin: a file descriptor, or 'pipe' (default) to write it through `child.stdin`. */
  stdin?: number | 'pipe';
}

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Everything it wrote to stderr. */
  stderr: string;
}

/** A `tcpts` child process. */
export class Tcpts {
  readonly child: ChildProcess;
  /** Lines written to stdout so far (serve's log); stderr's lines instead when stdout is data. */
  readonly lines: string[] = [];
  stderr = '';
  /** Resolves when the process exits. */
  readonly exited: Promise<Exit>;
  private waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  private partial = '';

  constructor(args: string[], options: StartOptions = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      this.stderr += text;
      // Lines of stderr are matched by waitFor too (connect -v reports there).
      if (options.stdoutAsData === true) this.take(text);
    });
    if (options.stdoutAsData !== true) {
      this.child.stdout!.setEncoding('utf8');
      this.child.stdout!.on('data', (text: string) => this.take(text));
    }
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        // stderr may still be draining: give it the turn it needs.
        setImmediate(() => resolve({ code, signal, stderr: this.stderr }));
      });
    });
  }

  /** The child's stdout (for `connect`, whose stdout is the connection's data). */
  get stdout(): Readable {
    return this.child.stdout!;
  }

  /** Resolves with the first line (past or future) matching `pattern`; rejects if the process exits first or after `ms`. */
  waitFor(pattern: RegExp, ms = 15_000): Promise<string> {
    const seen = this.lines.find((l) => pattern.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no line matching ${pattern} after ${ms} ms:\n${this.transcript()}`));
      }, ms);
      const entry = {
        pattern,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.push(entry);
      void this.exited.then((exit) => {
        clearTimeout(timer);
        if (this.waiters.includes(entry)) {
          reject(
            new Error(
              `exited (${exit.code ?? exit.signal}) before a line matching ${pattern}:\n${this.transcript()}`,
            ),
          );
        }
      });
    });
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGINT', ms = 15_000): Promise<Exit> {
    this.child.kill(signal);
    let timer: ReturnType<typeof setTimeout> | null = null;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`did not exit ${ms} ms after ${signal}:\n${this.transcript()}`));
      }, ms);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  }

  /** Kills the process if it is still running. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** stdout lines and stderr, for failure messages. */
  transcript(): string {
    return `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`;
  }

  private take(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) {
      this.lines.push(line);
      const waiting = this.waiters;
      this.waiters = [];
      for (const w of waiting) {
        if (w.pattern.test(line)) w.resolve(line);
        else this.waiters.push(w);
      }
    }
  }
}

/** The device arguments of a test: `--tun tun0` or `--tap tap0`, both families, kernel side in `ns`. */
export function deviceArgs(ns: Netns, kind: 'tun' | 'tap'): string[] {
  return [
    `--${kind}`,
    `${kind}0`,
    '--addr',
    '10.99.0.2/24',
    '--addr',
    'fd99::2/64',
    '--peer',
    '10.99.0.1',
    '--peer',
    'fd99::1',
    '--netns',
    ns.name,
  ];
}

/**
 * Runs `body` with a helper that starts tcpts children, and kills every one
 * still running afterwards, whatever happens.
 */
export async function withTcpts<T>(
  body: (start: (args: string[], options?: StartOptions) => Tcpts) => Promise<T>,
): Promise<T> {
  const started: Tcpts[] = [];
  try {
    return await body((args, options) => {
      const t = new Tcpts(args, options);
      started.push(t);
      return t;
    });
  } finally {
    for (const t of started) t.kill();
  }
}

/** Starts `tcpts serve` and waits until it listens. */
export async function startServe(
  start: (args: string[]) => Tcpts,
  ns: Netns,
  kind: 'tun' | 'tap',
  service: string[],
  extra: string[] = [],
): Promise<Tcpts> {
  const serve = start(['serve', ...deviceArgs(ns, kind), ...extra, ...service]);
  await serve.waitFor(/ on port \d+; Ctrl-C to stop$/);
  return serve;
}

/** SHA-256 and length of everything `stream` delivers. */
export function digest(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    stream.on('end', () => resolve({ sha256: hash.digest('hex'), bytes }));
    stream.on('error', reject);
  });
}

/** Runs curl inside `ns` and hashes what it downloads; resolves when curl exits 0, rejects otherwise. */
export async function curl(
  ns: Netns,
  url: string,
  timeoutSeconds = 60,
): Promise<{ sha256: string; bytes: number }> {
  const child = ns.spawn('curl', ['-sS', '--fail', '--max-time', String(timeoutSeconds), url]);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => (stderr += t));
  const [got, code] = await Promise.all([
    digest(child.stdout!),
    new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c))),
  ]);
  if (code !== 0) throw new Error(`curl ${url} exited ${code}: ${stderr}`);
  return got;
}

/** The close lines of serve's log. */
export function closeLines(serve: Tcpts): string[] {
  return serve.lines.filter((l) => l.startsWith('close '));
}
