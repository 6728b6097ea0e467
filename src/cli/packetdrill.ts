/**
 * `tcpts packetdrill FILE.pkt...`: reads the scripts (a directory stands for
 * the .pkt files in it) and runs each against a fresh tcpts stack in virtual
 * time. The interpreter itself lives in src/packetdrill/ and touches no host
 * API; this file only reads files and prints.
 */
import { readFileSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  PROFILES,
  SCRIPT_OPTIONS,
  exitStatus,
  formatResult,
  runScript,
  summarize,
  type NamedResult,
} from '../packetdrill/index.js';
import type { CommandIo } from './args.js';

/** `tcpts packetdrill --help`. */
export const PACKETDRILL_USAGE = [
  'Usage: tcpts packetdrill [options] FILE.pkt|DIR...',
  '',
  'Runs packetdrill scripts against a fresh tcpts stack on a virtual clock and',
  'prints one line per script: PASS, FAIL (line, expected, actual, time) or',
  'SKIPPED (reason), then "N passed, N failed, N skipped".',
  'Exit status: 0 all passed, 1 any failed, 2 none failed but some skipped.',
  '',
  'Options:',
  '  -v, --verbose         show every packet both ways and every system call',
  '  --strict              exact timing (no tolerance), and a packet the stack sent that',
  '                        no > line takes fails (packetdrill never looks at leftovers)',
  '  --strict_packets      only the second half of --strict (how our own scripts run)',
  '  --strict_segments     do not let equal-size segments match one larger line',
  `  --profile NAME        stack defaults the scripts assume (${Object.keys(PROFILES).join(', ')}; default linux)`,
  '  -D NAME=VALUE         define NAME for #ifdef and substitution (repeatable)',
  '  --sysctl NAME=VALUE   set a sysctl before the first line (repeatable)',
  `  --NAME=VALUE          a packetdrill option, as a script's own lines give it (${[...SCRIPT_OPTIONS].filter((o) => o !== 'profile' && o !== 'verbose').join(', ')}); the script's lines win`,
  '',
  "A shell line that runs a script file (`../common/defaults.sh`) reads it relative to the script's directory.",
  "  --seed N              seed of the stack's random numbers (default 1)",
  '  -h, --help            this text',
].join('\n');

const defaultIo: CommandIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

interface Parsed {
  files: string[];
  verbose: boolean;
  strict: boolean;
  strictPackets: boolean;
  coalesce: boolean;
  sysctls: Map<string, string>;
  scriptOptions: Map<string, string>;
  profile: string;
  seed: number;
  defines: Map<string, string>;
  help: boolean;
}

function parse(argv: string[]): Parsed | string {
  const p: Parsed = {
    files: [],
    verbose: false,
    strict: false,
    strictPackets: false,
    coalesce: true,
    sysctls: new Map(),
    scriptOptions: new Map(),
    profile: 'linux',
    seed: 1,
    defines: new Map(),
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | null => {
      const eq = a.indexOf('=');
      if (a.startsWith('--') && eq > 0) return a.slice(eq + 1);
      const next = argv[i + 1];
      if (next === undefined) return null;
      i++;
      return next;
    };
    const name = a.startsWith('--') && a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    switch (name) {
      case '-v':
      case '--verbose':
        p.verbose = true;
        break;
      case '--strict':
        p.strict = true;
        p.strictPackets = true;
        break;
      case '--strict_packets':
      case '--strict-packets':
        p.strictPackets = true;
        break;
      case '--sysctl': {
        const v = value();
        const m = v === null ? null : /^([A-Za-z0-9_./-]+)=(.*)$/.exec(v);
        if (m === null) return 'tcpts packetdrill: --sysctl needs NAME=VALUE';
        p.sysctls.set(m[1]!, m[2]!);
        break;
      }
      case '--strict_segments':
      case '--strict-segments':
        p.coalesce = false;
        break;
      case '-h':
      case '--help':
        p.help = true;
        break;
      case '--profile': {
        const v = value();
        if (v === null)
          return "tcpts packetdrill: --profile needs a name (see 'tcpts packetdrill --help')";
        if (PROFILES[v] === undefined)
          return `tcpts packetdrill: unknown profile '${v}' (known: ${Object.keys(PROFILES).join(', ')})`;
        p.profile = v;
        break;
      }
      case '--seed': {
        const v = value();
        if (v === null || !/^[0-9]+$/.test(v)) return 'tcpts packetdrill: --seed needs a number';
        p.seed = Number(v);
        break;
      }
      case '-D':
      case '--define': {
        const v = a.startsWith('-D') && a.length > 2 ? a.slice(2) : value();
        const m = v === null ? null : /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(v);
        if (m === null) return 'tcpts packetdrill: -D needs NAME=VALUE';
        p.defines.set(m[1]!, m[2] ?? '1');
        break;
      }
      default:
        if (a.startsWith('-D') && a.length > 2) {
          const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(a.slice(2));
          if (m === null) return 'tcpts packetdrill: -D needs NAME=VALUE';
          p.defines.set(m[1]!, m[2] ?? '1');
          break;
        }
        if (a.startsWith('--') && SCRIPT_OPTIONS.has(name.slice(2))) {
          // packetdrill takes a script's options on its command line too.
          const eq = a.indexOf('=');
          p.scriptOptions.set(name.slice(2), eq > 0 ? a.slice(eq + 1) : '');
          break;
        }
        if (a.startsWith('-') && a !== '-')
          return `tcpts packetdrill: unknown option '${a}' (see 'tcpts packetdrill --help')`;
        p.files.push(a);
    }
  }
  return p;
}

async function expand(paths: string[]): Promise<string[] | string> {
  const out: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      return `tcpts packetdrill: cannot read '${path}'`;
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => n.endsWith('.pkt')).sort();
      for (const n of names) out.push(join(path, n));
    } else {
      out.push(path);
    }
  }
  return out;
}

/**
 * Runs `tcpts packetdrill` with the arguments after the command name and
 * returns the exit status (2 also for bad usage, with a one-line error).
 */
export async function runPacketdrillCommand(
  argv: string[],
  io: CommandIo = defaultIo,
): Promise<number> {
  const p = parse(argv);
  if (typeof p === 'string') {
    io.err(p);
    return 2;
  }
  if (p.help) {
    io.out(PACKETDRILL_USAGE);
    return 0;
  }
  if (p.files.length === 0) {
    io.err("tcpts packetdrill: no scripts given (see 'tcpts packetdrill --help')");
    return 2;
  }
  const files = await expand(p.files);
  if (typeof files === 'string') {
    io.err(files);
    return 2;
  }
  const results: NamedResult[] = [];
  for (const path of files) {
    const text = await readFile(path, 'utf8');
    if (p.verbose) io.out(`== ${path}`);
    const result = runScript(text, {
      profile: p.profile,
      strict: p.strict,
      unexpectedPackets: p.strictPackets ? 'strict' : 'packetdrill',
      coalesce: p.coalesce,
      sysctls: p.sysctls,
      scriptOptions: p.scriptOptions,
      readFile: (file) => {
        try {
          return readFileSync(resolve(dirname(path), file), 'utf8');
        } catch {
          return null;
        }
      },
      defines: p.defines,
      seed: p.seed,
      verbose: p.verbose ? (line) => io.out(`  ${line}`) : null,
    });
    const named = { path, result };
    results.push(named);
    for (const line of formatResult(named)) io.out(line);
  }
  io.out(summarize(results));
  return exitStatus(results);
}
