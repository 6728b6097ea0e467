/**
 * Abort: one side sends, and once the receiver has read part of the
 * stream the sender or the receiver calls abort(); that side must end
 * `aborted` and the other `reset` (or normally, when everything and the
 * FIN beat the RST).
 */
import type { Step } from '../peer.js';
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { PairWorkload } from './pair.js';
import type { Endpoints, Workload } from './workload.js';

/** The abort workload of plan `w`: a pair whose receiver aborts, or makes the sender abort, mid-stream. */
export function abort(
  run: Run,
  name: string,
  ends: Endpoints,
  w: Extract<WorkloadPlan, { kind: 'abort' }>,
): Workload {
  const senderScript: Step[] = [
    { op: 'send', bytes: w.bytes },
    { op: 'shutdown' },
    { op: 'waitPeerClose' },
  ];
  const receiverScript: Step[] = [
    { op: 'recv', bytes: w.bytes },
    { op: 'waitPeerClose' },
    { op: 'shutdown' },
  ];
  return new PairWorkload(run, name, ends, {
    port: w.port,
    clientScript: w.clientSends ? senderScript : receiverScript,
    serverScript: w.clientSends ? receiverScript : senderScript,
    // Keepalive on both ends: if the RST is lost, a probe draws another from the aborted side's stack.
    keepAliveIdle: w.keepAliveIdle,
    abort: { senderAborts: w.senderAborts, clientSends: w.clientSends, after: w.abortAfter },
  });
}
