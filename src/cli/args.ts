/**
 * The little argument parsing every `tcpts` command shares: node:util's
 * parseArgs in strict mode, with its errors turned into one line that names
 * the command and the offending argument.
 */
import { parseArgs } from 'node:util';

/** Where a command writes. `out` and `err` each take one or more whole lines (no trailing newline). */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  /** The terminal's width when `out` goes to a terminal, for pictures that fit it; else undefined. */
  columns?: number;
}

/** An option declaration, as node:util's parseArgs takes it. */
export interface OptionSpec {
  type: 'boolean' | 'string';
  short?: string;
  /** What the value is, for the message when it is missing ("a scenario: handshake, transfer, ..."). */
  takes?: string;
}

/** What {@link parseCommandArgs} returns on success. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `args` against `options`. Returns the values and positionals, or a
 * one-line error message for an unknown option, a missing option value, or a
 * value given to a flag.
 */
export function parseCommandArgs(
  command: string,
  args: string[],
  options: Record<string, OptionSpec>,
): ParsedArgs | string {
  const hint = `(see 'tcpts ${command} --help')`;
  const prepared = joinOptionValues(args, options);
  if ('problem' in prepared) return `tcpts ${command}: ${prepared.problem} ${hint}`;
  // parseArgs gets each declaration as the command wrote it (a repeatable
  // option's `multiple` included, see tun-setup.ts), less our own `takes`.
  const specs: Record<string, Omit<OptionSpec, 'takes'>> = {};
  for (const [name, spec] of Object.entries(options)) {
    const { takes: _takes, ...declaration } = spec;
    specs[name] = declaration;
  }
  try {
    const parsed = parseArgs({
      args: prepared.args,
      options: specs,
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    const named = /'([^']+)'/.exec(message);
    const argument = named === null ? '' : ` '${named[1]}'`;
    switch (code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        return `tcpts ${command}: unknown option${argument} ${hint}`;
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        return `tcpts ${command}: bad value for option${argument} ${hint}`;
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        return `tcpts ${command}: unexpected argument${argument} ${hint}`;
      default:
        return `tcpts ${command}: ${message.split('\n')[0]} ${hint}`;
    }
  }
}

/**
 * Prepares `args` for parseArgs so that every value reaches the command's
 * own check, which says what the option takes: `--loss -0.1` (which
 * parseArgs refuses as ambiguous) becomes `--loss=-0.1`, since a negative
 * number is never an option. A string option with no value after it, or
 * followed by another option, is reported here in words, naming the option
 * as the user typed it.
 */
function joinOptionValues(
  args: string[],
  options: Record<string, OptionSpec>,
): { args: string[] } | { problem: string } {
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options))
    if (spec.short !== undefined) byShort.set(spec.short, name);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = arg.startsWith('--')
      ? arg.slice(2)
      : /^-[^-]$/.test(arg)
        ? byShort.get(arg.slice(1))
        : undefined;
    const spec = name === undefined ? undefined : options[name];
    if (name === undefined || spec === undefined || spec.type !== 'string') {
      out.push(arg);
      continue;
    }
    const takes = spec.takes === undefined ? '' : `: ${spec.takes}`;
    const next = args[i + 1];
    if (next === undefined) return { problem: `--${name} needs a value${takes}` };
    if (/^-(\d|\.\d)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else if (next.startsWith('-')) {
      return {
        problem: `--${name} needs a value${takes}, got option '${next}' (write --${name}=${next} if that is the value)`,
      };
    } else {
      out.push(arg);
    }
  }
  return { args: out };
}

/** `value` as a positive whole number, or a one-line usage error naming `--name`. */
export function positiveInteger(command: string, name: string, value: string): number | string {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    return `tcpts ${command}: --${name} takes a positive whole number, got '${value}' (see 'tcpts ${command} --help')`;
  }
  return Number(value);
}

/** What {@link parseFileCommand} gives a command that goes on. */
export interface FileCommandArgs {
  values: ParsedArgs['values'];
  /** The one FILE. */
  path: string;
  /** `--connection N` when the command declares it, else 1. */
  connection: number;
}

/**
 * The front every command that reads one capture shares (decode, ladder,
 * plot): parse `args`, answer `--help` with `usage`, want exactly one FILE,
 * and read `--connection N` (default 1) if `options` declares it. Returns
 * the arguments, or the exit status when the command is already done (0
 * after the help, 2 after a usage error on stderr).
 */
export function parseFileCommand(
  command: string,
  args: string[],
  options: Record<string, OptionSpec>,
  usage: string,
  io: CommandIo,
): FileCommandArgs | number {
  const parsed = parseCommandArgs(command, args, options);
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  const values = parsed.values;
  if (values.help === true) {
    io.out(usage);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    io.err(
      `tcpts ${command}: expected one FILE, got ${parsed.positionals.length} (see 'tcpts ${command} --help')`,
    );
    return 2;
  }
  let connection = 1;
  if (typeof values.connection === 'string') {
    const n = positiveInteger(command, 'connection', values.connection);
    if (typeof n === 'string') {
      io.err(n);
      return 2;
    }
    connection = n;
  }
  return { values, path: parsed.positionals[0]!, connection };
}
