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
}

/** An option declaration, as node:util's parseArgs takes it. */
export interface OptionSpec {
  type: 'boolean' | 'string';
  short?: string;
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
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    const named = /'([^']+)'/.exec(message);
    const argument = named === null ? '' : ` '${named[1]}'`;
    const hint = `(see 'tcpts ${command} --help')`;
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
