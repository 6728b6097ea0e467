/**
 * Deterministic simulation testing (DST): one seed gives one random scenario
 * (a topology of hosts and routers, impaired links, TCP options, a mix of
 * workloads), runs it in virtual time and checks invariants. Everything
 * follows from the seed, so a failing seed is a complete reproducer:
 * `tcpts sim --seed N` (or `npm run sim -- --seed N`) runs it again, byte for byte.
 *
 * Invariants checked in every scenario (the `check` name of a failure in
 * brackets):
 *
 * - [data] Every byte a connection delivers is the byte sent at that offset
 *   of the stream (each stream is a keyed function of the offset, so the
 *   comparison needs no copy), and never more bytes than were sent. So data
 *   arrives exactly once and in order; for a connection that ends in a reset
 *   what arrived is a prefix of what was sent.
 * - [outcome] Each connection ends as its workload expects: cleanly (all
 *   bytes both ways, error null, CLOSED after TIME-WAIT, every byte written
 *   acknowledged), `aborted` on the side that called abort(), `reset` on the
 *   other side (or normally, when all data and the FIN beat the RST), or
 *   for a listener that stops accepting, cleanly if accepted and otherwise
 *   refused, reset or timed out. Two legitimate exceptions are tolerated
 *   and counted: a connection reset by a failed SYN cookie (a later segment
 *   reached the listener before the handshake's ACK; Linux resets too), and
 *   a connection accepted that nobody opened (an old duplicate of a
 *   handshake's ACK still carrying a valid cookie), which the server closes.
 *   A connect may end `unreachable` only when the plan's cut accounts for
 *   the failed neighbour resolution behind it (unreachable.ts); its
 *   application then connects again after a back-off (1 s doubling, as a
 *   reconnect loop), and the new attempt is held to all of the above, so
 *   the data must get through once the link heals.
 * - [events] Per socket: nothing after `closed`; `connected` and
 *   `peer-closed` at most once; no byte readable after the FIN beyond what
 *   was there when `peer-closed` came.
 * - [stuck] The workloads finish within the time budget (default 3 hours of
 *   virtual time), and the network then falls quiet.
 * - [tables] At the end every stack has no TCP connection (TIME-WAIT
 *   expired), listener, UDP socket or partial fragment left, and
 *   `pollTimeout()` is NEVER on every stack and link endpoint. Neighbour
 *   entries stay (stale, without a timer: RFC 4861 §7.3.3, see
 *   stack/neighbor.ts), which is why the cache is not required to be empty.
 * - [counters-interface] Each interface's `framesOut` / `framesIn` equal the
 *   frames its stack handed to the link and took from it (counted by a
 *   wrapper between the stack and the link).
 * - [counters-link] Per link and direction: frames handed over by one stack
 *   plus the copies the impairment made equal the frames the other stack
 *   received plus the drops both endpoints counted (after the network is
 *   quiet, nothing is in flight).
 * - [counters-tcp-wire] Per end host, watching every TCP segment it emits:
 *   the sum of `bytesSent` over its connections equals the highest stream
 *   offset seen on the wire per connection (new data), `bytesRetransmitted`
 *   equals the payload bytes sent below that offset, and `dataSegmentsSent`
 *   equals the segments that carried new data. Exact unless the stack
 *   dropped packets before the link (neighbour resolution failed or its
 *   queue overflowed), where the counters may only exceed the wire.
 * - [counters-bytes-received] A cleanly closed connection's `bytesReceived`
 *   equals the bytes its application read.
 * - [udp] Every datagram echoed is one that was sent, unchanged (unless the
 *   damage cancels in the Internet checksum, possible when two fragments
 *   were each damaged); when nothing was lost anywhere, every datagram was
 *   echoed.
 * - [oversize] No stack hands its link a frame bigger than the interface
 *   MTU, and no data segment is too big for the path by its SACK option.
 * - [exception] No exception escapes the stacks, the links or the harness.
 * This folder uses no host API (it sits below the sans-IO line);
 * tcpts sim and tcpts soak (src/cli/) write the captures to files. A plan is
 * plain data: failing plans are kept as regression tests in
 * test/sim/dst.test.ts so that they stay the same scenario when the
 * generator (generate.ts) changes.
 *
 * This is the entry of the repository's own test harness (tcpts sim,
 * tcpts soak, test/sim/); the simulator itself (Network, SimHost) is
 * the entry of sim/, ../index.ts.
 */
export { describePlan } from './describe.js';
export { planScenario, type PlanOptions } from './generate.js';
export { KNOWN_ISSUES, type KnownIssue } from './known-issues.js';
export type {
  Closer,
  CutPlan,
  Family,
  HostPlan,
  LinkPlan,
  MtuDropPlan,
  Pacing,
  ScenarioPlan,
  WorkloadPlan,
} from './plan.js';
export {
  reproduceCommand,
  type LinkCapture,
  type ScenarioFailure,
  type ScenarioResult,
} from './report.js';
export { runPlan, runScenario, type ScenarioOptions } from './run.js';
