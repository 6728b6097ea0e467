/**
 * `npm run conformance -- SUITE_DIR [--update] [--manifest FILE] [-v]`:
 * runs a checkout of google/packetdrill's suites (gtests/net/tcp and
 * gtests/net/packetdrill/tests) through the tcpts interpreter as their own
 * runner, run_all.py, would (the script's directory as working directory,
 * its addresses and -D definitions, `--mtu=1520` for IPv6; a script ending
 * in v4.pkt runs only over IPv4, one ending in v6.pkt only over IPv6), and
 * compares each script's outcome with test/conformance/google-packetdrill.tsv.
 * Prints `N passed, N failed, N skipped` and every difference, and exits 1
 * on any; --update rewrites the manifest from the run instead.
 *
 * A script passes when every variant it runs in passes; it fails when any
 * fails, and is skipped otherwise when any is skipped. run_all.py's third
 * variant, ipv4-mapped-ipv6, is left out: tcpts has no dual-stack sockets.
 *
 * A development tool, not a `tcpts` command: it is about this repository's
 * manifest, and only the suite's names, blob ids and outcomes are kept.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScript, type RunOptions, type ScriptResult } from '../src/packetdrill/index.js';
import {
  compareWithManifest,
  countOutcomes,
  formatDifference,
  formatManifest,
  parseManifest,
  type ManifestRow,
  type Outcome,
} from '../src/packetdrill/manifest.js';

const SUITES = ['gtests/net/tcp', 'gtests/net/packetdrill/tests'];
const DEFAULT_MANIFEST = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'test',
  'conformance',
  'google-packetdrill.tsv',
);

/** run_all.py's command-line options and definitions for each address family. */
const VARIANTS = {
  ipv4: {
    options: {
      ip_version: 'ipv4',
      local_ip: '192.168.0.1',
      gateway_ip: '192.168.0.1',
      netmask_ip: '255.255.0.0',
      remote_ip: '192.0.2.1',
    },
    defines: {
      TFO_COOKIE: '3021b9d889017eeb',
      CODE: 'host_unreachable',
      CMSG_LEVEL_IP: 'SOL_IP',
      CMSG_TYPE_RECVERR: 'IP_RECVERR',
    },
  },
  ipv6: {
    options: {
      ip_version: 'ipv6',
      mtu: '1520',
      local_ip: 'fd3d:0a0b:17d6::1',
      gateway_ip: 'fd3d:0a0b:17d6:8888::1',
      remote_ip: 'fd3d:fa7b:d17d::1',
    },
    defines: {
      TFO_COOKIE: 'c1d1e9742a47a9bc',
      CMSG_LEVEL_IP: 'SOL_IPV6',
      CMSG_TYPE_RECVERR: 'IPV6_RECVERR',
    },
  },
} as const;

type VariantName = keyof typeof VARIANTS;

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run conformance -- SUITE_DIR [--update] [--manifest FILE] [-v]\n`,
  );
  process.exit(2);
}

function findScripts(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findScripts(path));
    else if (name.endsWith('.pkt')) out.push(path);
  }
  return out;
}

/** The id git gives the file's content (`git hash-object`). */
function blobId(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

function runVariant(path: string, text: string, variant: VariantName): ScriptResult {
  const v = VARIANTS[variant];
  const directory = dirname(path);
  const options: RunOptions = {
    scriptOptions: new Map(Object.entries(v.options)),
    defines: new Map(Object.entries(v.defines)),
    readFile: (file: string): string | null => {
      try {
        return readFileSync(resolve(directory, file), 'utf8');
      } catch {
        return null;
      }
    },
  };
  try {
    return runScript(text, options);
  } catch (error) {
    // An interpreter or stack bug: record it against the script, keep going.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      status: 'fail',
      line: null,
      message: `the run threw ${message}`,
      details: [],
      time: null,
      knownFailure: null,
    };
  }
}

function outcomeOf(result: ScriptResult): Outcome {
  return result.status === 'pass' ? 'PASS' : result.status === 'fail' ? 'FAIL' : 'SKIP';
}

function reasonOf(variant: VariantName, result: ScriptResult): string {
  const at = result.line !== null ? `line ${result.line}: ` : '';
  return `${variant}: ${at}${result.message}`;
}

function runOne(root: string, path: string, verbose: boolean): ManifestRow {
  const bytes = readFileSync(path);
  const text = bytes.toString('utf8');
  const rel = relative(root, path).split(sep).join('/');
  const variants: VariantName[] = [];
  if (!path.endsWith('v6.pkt')) variants.push('ipv4');
  if (!path.endsWith('v4.pkt')) variants.push('ipv6');
  const results: Array<{ variant: VariantName; result: ScriptResult; outcome: Outcome }> = [];
  for (const variant of variants) {
    const result = runVariant(path, text, variant);
    const outcome = outcomeOf(result);
    if (verbose) process.stdout.write(`  ${variant} ${outcome} ${result.message}\n`);
    results.push({ variant, result, outcome });
  }
  // The worst variant decides: FAIL over SKIP over PASS.
  const outcome: Outcome = results.some((r) => r.outcome === 'FAIL')
    ? 'FAIL'
    : results.some((r) => r.outcome === 'SKIP')
      ? 'SKIP'
      : 'PASS';
  const reasons = results
    .filter((r) => r.outcome === outcome && outcome !== 'PASS')
    .map((r) => reasonOf(r.variant, r.result));
  // packetdrill's own self-tests include scripts written to fail, each
  // saying how in a `// Failure:` comment: say so next to the reason.
  if (outcome === 'FAIL' && /^\s*\/\/\s*Failure:/m.test(text))
    reasons.unshift('written to fail (a // Failure: comment says how)');
  return { path: rel, blob: blobId(bytes), outcome, reason: reasons.join('; ') };
}

function main(argv: string[]): number {
  let suite: string | null = null;
  let update = false;
  let verbose = false;
  let manifestPath = DEFAULT_MANIFEST;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--update') update = true;
    else if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '--manifest') manifestPath = argv[++i] ?? usage('--manifest needs a file');
    else if (a.startsWith('-')) usage(`unknown option '${a}'`);
    else if (suite === null) suite = a;
    else usage('one SUITE_DIR only');
  }
  if (suite === null) usage('no SUITE_DIR given (a checkout of google/packetdrill)');
  const root = resolve(suite);
  const scripts: string[] = [];
  for (const s of SUITES) {
    let found: string[];
    try {
      found = findScripts(join(root, s));
    } catch {
      usage(`${join(root, s)} is not a directory: SUITE_DIR must be a google/packetdrill checkout`);
    }
    scripts.push(...found);
  }
  const rows: ManifestRow[] = [];
  for (const path of scripts) {
    if (verbose) process.stdout.write(`${relative(root, path)}\n`);
    rows.push(runOne(root, path, verbose));
  }
  for (const s of SUITES) {
    const part = rows.filter((r) => r.path.startsWith(`${s}/`));
    process.stdout.write(`${s}: ${countOutcomes(part)} (of ${part.length})\n`);
  }
  process.stdout.write(`${countOutcomes(rows)}\n`);
  if (update) {
    writeFileSync(manifestPath, formatManifest(rows));
    process.stdout.write(`wrote ${manifestPath} (${rows.length} scripts)\n`);
    return 0;
  }
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch {
    process.stderr.write(
      `cannot read the manifest ${manifestPath} (run with --update to make it)\n`,
    );
    return 1;
  }
  const expected = parseManifest(text);
  if (!Array.isArray(expected)) {
    process.stderr.write(`${manifestPath}:${expected.line}: ${expected.error}\n`);
    return 1;
  }
  const differences = compareWithManifest(expected, rows);
  for (const d of differences) process.stdout.write(`DIFF ${formatDifference(d)}\n`);
  process.stdout.write(
    differences.length === 0
      ? 'no differences from the manifest\n'
      : `${differences.length} differences from the manifest\n`,
  );
  return differences.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
