/**
 * `tcpts fuzz`: the wire fuzzer of sim/fuzz/ from the command line. It
 * injects mutated frames of every protocol into a simulated stack whose
 * established connections carry checked streams, and reports what broke:
 * an exception, an invalid frame no drop counter saw, a damaged stream,
 * state that grew past its bound. Everything follows from --seed.
 */
import { KNOWN_FUZZ_ISSUES, runFuzz } from '../sim/index.js';
import { parseCommandArgs, positiveInteger } from './args.js';
import type { DemoCommandIo } from './demo/index.js';

/** `tcpts fuzz --help`. */
export const FUZZ_USAGE = `Usage: tcpts fuzz [--frames N] [--seed S] [--strict]

Feed N mutated frames (Ethernet, ARP, IPv4 with options and fragments, IPv6
with extension headers and fragments, ICMPv4/v6 errors quoting TCP and UDP,
NDP, UDP, TCP with every option-length edge) to a simulated stack while two
established connections carry checked data through it, in virtual time.

Checks: no exception; every frame known to be invalid moves a named drop
counter; the streams arrive intact (each byte, and a hash end to end) and
close cleanly; connections, partial datagrams and neighbour entries stay
bounded and are gone once the network falls quiet.

Options:
  --frames N   frames to inject (default 100000)
  --seed S     seed of every choice (default 1); a failure names the seed
               and the frame's number, which repeat it
  --strict     count frames that run into a known, reported stack bug as
               failures too (they are listed apart otherwise)
  -h, --help   show this help

Exit status: 0 when every check held, 1 when one failed, 2 on bad usage.`;

/** Runs `tcpts fuzz` with the arguments after its name; returns the exit status. */
export function runFuzzCommand(args: string[], io: DemoCommandIo): number {
  const parsed = parseCommandArgs('fuzz', args, {
    frames: { type: 'string' },
    seed: { type: 'string' },
    strict: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  if (parsed.values.help === true) {
    io.out(FUZZ_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    io.err(`tcpts fuzz: unexpected argument '${parsed.positionals[0]}' (see 'tcpts fuzz --help')`);
    return 2;
  }
  const frames = positiveInteger('fuzz', 'frames', String(parsed.values.frames ?? '100000'));
  if (typeof frames === 'string') {
    io.err(frames);
    return 2;
  }
  const seedText = String(parsed.values.seed ?? '1');
  if (!/^\d+$/.test(seedText) || Number(seedText) > 0xffffffff) {
    io.err(`tcpts fuzz: --seed takes a whole number from 0 to 4294967295, got '${seedText}'`);
    return 2;
  }
  const seed = Number(seedText);
  const clock = io.clock ?? (() => performance.now());
  const started = clock();
  const step = Math.max(1, Math.ceil(frames / 10));
  const result = runFuzz({
    frames,
    seed,
    strict: parsed.values.strict === true,
    progressEvery: step,
    onProgress: (done, failures) =>
      io.out(
        `[${done}/${frames}] ${((clock() - started) / 1000).toFixed(1)} s, ${failures} failures so far`,
      ),
  });
  const seconds = (clock() - started) / 1000;
  io.out(
    `seed ${seed}: ${result.injected} frames injected (${result.knownInvalid} known invalid, ` +
      `${result.heldBack} held back as forgeries of the live connections) in ${seconds.toFixed(1)} s, ` +
      `${(result.virtualTime / 1e6).toFixed(1)} s of virtual time`,
  );
  io.out(
    `streams: ${result.streamBytes} bytes checked; peak: ${result.peak.tcpConnections} TCP connections, ` +
      `${result.peak.pendingFragments} partial datagrams, ${result.peak.neighbors} neighbour entries`,
  );
  const drops = Object.entries(result.drops).sort((a, b) => b[1] - a[1]);
  io.out(`drops: ${drops.map(([reason, n]) => `${reason} ${n}`).join(', ')}`);
  for (const [issue, k] of Object.entries(result.known)) {
    io.out(`known issue [${issue}] in ${k.frames} frames, first ${k.first}`);
    io.out(`  ${KNOWN_FUZZ_ISSUES[issue] ?? ''}`);
  }
  for (const f of result.failures) io.out(`FAIL [${f.check}] ${f.message}`);
  io.out(result.ok ? 'ok' : `${result.failures.length} failures`);
  return result.ok ? 0 : 1;
}
