/**
 * `tcpts decode FILE.pcap`: one line per packet, as `tcpdump -n -r FILE`
 * prints it with TZ=UTC. The work is in {@link decodeCapture}, which takes
 * bytes and returns lines, so tests run it in-process without a build.
 */
import { readFileSync } from 'node:fs';
import { readPcap } from '../link/index.js';
import { describeDamage, describeFileError } from './capture-errors.js';
import { TcpdumpFormatter } from './tcpdump-format.js';
import type { CommandIo } from './args.js';
import { parseFileCommand } from './args.js';

/** Options of {@link decodeCapture}. */
export interface DecodeOptions {
  /** Absolute TCP sequence numbers, like `tcpdump -S`. */
  absolute?: boolean;
}

/** What {@link decodeCapture} found. */
export interface DecodeResult {
  /** One line per packet that could be read, in capture order. */
  lines: string[];
  /**
   * Null when the whole file was read; otherwise a one-line description of
   * what is wrong with it (no packets at all for a bad header, the packets
   * before the damage otherwise).
   */
  error: string | null;
}

/**
 * Decodes a whole capture held in memory. Never throws on bad bytes: a bad
 * file comes back as `error`, an undecodable packet as a line that says why.
 */
export function decodeCapture(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  const file = readPcap(bytes);
  if (typeof file === 'string') return { lines: [], error: describeFileError(file) };
  const formatter = new TcpdumpFormatter({ absolute: options.absolute ?? false });
  const lines: string[] = [];
  for (const record of file.records) lines.push(formatter.formatRecord(record));
  const error = file.error === null ? null : describeDamage(file.error, file.records.length);
  return { lines, error };
}

/** `tcpts decode --help`. */
export const DECODE_USAGE = `Usage: tcpts decode [options] FILE.pcap|FILE.pcapng

Print each packet of a pcap or pcapng capture on one line, as
\`tcpdump -n -r FILE\` prints it (timestamps in UTC, as with TZ=UTC). Reads
classic pcap (either byte order, micro- or nanosecond timestamps) and pcapng
(any number of sections and interfaces, any timestamp resolution), with
Ethernet, raw IP, IPv4, IPv6 or Linux cooked (SLL, SLL2) link types. Protocols
tcpdump decodes but tcpts does not (DNS, OSPF, ...) print as their transport
or as ip-proto-N; an SLL2 interface is shown by index (#3), not by name.

Options:
  -S, --absolute   print absolute TCP sequence numbers (tcpdump -S)
  -h, --help       show this help

Exit status: 0 when every packet was read, 1 for an unreadable or damaged
file (the packets before the damage are printed), 2 for bad usage.`;

/** Runs `tcpts decode` with its arguments; returns the exit status. */
export function runDecode(args: string[], io: CommandIo): number {
  const front = parseFileCommand(
    'decode',
    args,
    {
      absolute: { type: 'boolean', short: 'S' },
      help: { type: 'boolean', short: 'h' },
    },
    DECODE_USAGE,
    io,
  );
  if (typeof front === 'number') return front;
  const { values: v, path } = front;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    io.err(`tcpts decode: cannot read ${path}: ${describeReadError(code)}`);
    return 1;
  }
  const result = decodeCapture(bytes, { absolute: v.absolute === true });
  if (result.lines.length > 0) io.out(result.lines.join('\n'));
  if (result.error !== null) {
    io.err(`tcpts decode: ${path}: ${result.error}`);
    return 1;
  }
  return 0;
}

function describeReadError(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return code;
  }
}
