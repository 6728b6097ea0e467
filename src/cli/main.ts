#!/usr/bin/env node
/**
 * The `tcpts` command: a subcommand dispatcher with `--help` for the program
 * and for each command. Bad usage prints one line to stderr and exits 2.
 * Most commands run synchronously ({@link main}); one that reads files as it
 * goes (packetdrill) returns a promise, and {@link runProgram} awaits either.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DECODE_USAGE, runDecode } from './decode.js';
import { DEMO_USAGE, runDemoCommand, type DemoCommandIo } from './demo/index.js';
import { FUZZ_USAGE, runFuzzCommand } from './fuzz.js';
import { LADDER_USAGE, runLadder } from './ladder.js';
import { PACKETDRILL_USAGE, runPacketdrillCommand } from './packetdrill.js';
import { PLOT_USAGE, runPlot } from './plot.js';
import { CONNECT_USAGE, runConnect } from './connect.js';
import { SERVE_USAGE, runServe } from './serve.js';
import { RELAY_USAGE, runRelay } from './relay.js';
import { SIM_USAGE, runSim } from './sim.js';
import { SOAK_USAGE, runSoak } from './soak.js';
import { WEB_USAGE, runWeb } from './web.js';
import { GATEWAY_USAGE, runGateway } from './gateway.js';

/** One subcommand. */
export interface Command {
  /** One line for the command list of `tcpts --help`. */
  summary: string;
  /** The full text of `tcpts <command> --help`. */
  usage: string;
  /** Runs the command with the arguments after its name; returns the exit status, or a promise of it. */
  run(args: string[], io: ProgramIo): number | Promise<number>;
}

/** Where the program writes; `progress` (a terminal, or nothing) takes progress bars. */
export type ProgramIo = DemoCommandIo;

/** Every subcommand, by name. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  decode: {
    summary: 'print a pcap capture one line per packet, like tcpdump -n -r',
    usage: DECODE_USAGE,
    run: runDecode,
  },
  demo: {
    summary: 'TCP at work on a simulated network: a ladder diagram from real packets',
    usage: DEMO_USAGE,
    run: runDemoCommand,
  },
  ladder: {
    summary: 'draw a TCP connection of a pcap capture as a ladder diagram',
    usage: LADDER_USAGE,
    run: runLadder,
  },
  plot: {
    summary: 'draw a TCP connection of a pcap capture as a time-sequence graph (SVG)',
    usage: PLOT_USAGE,
    run: runPlot,
  },
  packetdrill: {
    summary: 'run packetdrill scripts against a tcpts stack in virtual time',
    usage: PACKETDRILL_USAGE,
    run: runPacketdrillCommand,
  },
  fuzz: {
    summary: 'feed a simulated stack mutated frames of every protocol and check it',
    usage: FUZZ_USAGE,
    run: runFuzzCommand,
  },
  serve: {
    summary: 'serve HTTP, echo, discard or chargen on tcpts over a TUN/TAP device',
    usage: SERVE_USAGE,
    run: runServe,
  },
  connect: {
    summary: 'a netcat whose TCP is tcpts, over a TUN/TAP device',
    usage: CONNECT_USAGE,
    run: runConnect,
  },
  relay: {
    summary: 'a WebSocket relay joining browser stacks on one Ethernet segment (and a TAP device)',
    usage: RELAY_USAGE,
    run: runRelay,
  },
  sim: {
    summary: 'run one seeded simulation scenario and check its invariants',
    usage: SIM_USAGE,
    run: runSim,
  },
  soak: {
    summary: 'run many seeded simulation scenarios: N passed, N failed',
    usage: SOAK_USAGE,
    run: runSoak,
  },
  web: {
    summary: 'serve the page that shows TCP at work, live, in a browser',
    usage: WEB_USAGE,
    run: (args, io) => runWeb(args, io),
  },
  gateway: {
    summary:
      'a user-mode NAT (like slirp4netns) giving a VM or namespace a network over a TAP device',
    usage: GATEWAY_USAGE,
    run: runGateway,
  },
};

/** Command names longer than this get a line of their own in `tcpts --help`, their summary below. */
const NAME_COLUMN = 8;

/** `tcpts --help`. */
export function programUsage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.filter((n) => n.length <= NAME_COLUMN).map((n) => n.length));
  const list = names.map((name) =>
    name.length <= NAME_COLUMN
      ? `  ${name.padEnd(width)}  ${COMMANDS[name]!.summary}`
      : `  ${name}\n  ${' '.repeat(width)}  ${COMMANDS[name]!.summary}`,
  );
  return [
    'Usage: tcpts <command> [options]',
    '',
    'A userspace TCP/IP stack in TypeScript, and tools around it.',
    '',
    'Commands:',
    ...list,
    '',
    "Run 'tcpts <command> --help' for the options of a command,",
    "and 'tcpts --version' for the version.",
  ].join('\n');
}

/**
 * Runs the program with `argv` (the arguments after `tcpts`) and returns the
 * exit status: 0 success, 1 failure, 2 bad usage. For a command that runs
 * asynchronously this throws: use {@link runProgram}, which takes every command.
 */
export function main(argv: string[], io: ProgramIo): number {
  const status = dispatch(argv, io);
  if (typeof status !== 'number') {
    throw new TypeError(
      `tcpts ${argv[0]} runs asynchronously: call runProgram() instead of main()`,
    );
  }
  return status;
}

/** Runs the program with `argv` and resolves to the exit status, whatever the command. */
export async function runProgram(argv: string[], io: ProgramIo): Promise<number> {
  return dispatch(argv, io);
}

function dispatch(argv: string[], io: ProgramIo): number | Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(programUsage());
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.out(programUsage());
    return 0;
  }
  if (first === '--version' || first === '-V') {
    io.out(packageVersion());
    return 0;
  }
  if (first.startsWith('-')) {
    io.err(`tcpts: unknown option '${first}' (see 'tcpts --help')`);
    return 2;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (command === undefined) {
    io.err(`tcpts: unknown command '${first}' (see 'tcpts --help' for the list)`);
    return 2;
  }
  return command.run(rest, io);
}

/**
 * The version in package.json, two folders up from this file both in src/cli
 * (run through tsx) and in dist/cli (installed).
 */
export function packageVersion(): string {
  const manifest: unknown = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  );
  const version = (manifest as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}

/** True when this module is the program node was asked to run (not an import). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // `tcpts decode big.pcap | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const io: ProgramIo = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    progress: process.stderr,
  };
  // Pictures fit the terminal ($COLUMNS first, as the shell sets it), only when printing to one.
  if (process.stdout.isTTY) {
    const columns = Number(process.env.COLUMNS) || process.stdout.columns;
    if (columns > 0) io.columns = columns;
  }
  process.exitCode = await runProgram(process.argv.slice(2), io);
}
