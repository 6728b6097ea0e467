// Tells whether the command-line tools the tests compare against are
// installed (scripts/ensure-tools.sh installs them before `npm test` when
// TCPTS_INSTALL_TOOLS=1, as CI sets it). A
// test that needs a missing tool passes the reason as `skip`, so the run
// reports it skipped and why, instead of failing or silently passing:
//   test('tcpdump reads it', { skip: missingTool('tcpdump') }, () => ...)
import { spawnSync } from 'node:child_process';

const cache = new Map<string, string | false>();

/** False when `name` runs (`name --version` exits 0), else a sentence saying it is missing. */
export function missingTool(name: 'tcpdump' | 'tshark' | 'python3' | 'ip'): string | false {
  const known = cache.get(name);
  if (known !== undefined) return known;
  const args = name === 'ip' ? ['-V'] : ['--version'];
  const result = spawnSync(name, args, { stdio: 'ignore', timeout: 20_000 });
  const reason =
    result.error === undefined && result.status === 0
      ? false
      : `${name} is not installed (TCPTS_INSTALL_TOOLS=1 npm test installs it as root on Debian)`;
  cache.set(name, reason);
  return reason;
}

/**
 * Runs a tool and returns its stdout; throws with stderr on a non-zero exit.
 * TZ=UTC so tcpdump prints timestamps in UTC, as `tcpts decode` does.
 */
export function runTool(name: string, args: string[]): { stdout: string; stderr: string } {
  const result = spawnSync(name, args, {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${name} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return { stdout: result.stdout, stderr: result.stderr };
}
