/**
 * Bulk transfer: each side sends its bytes and shuts down, both read to the
 * end (a reader may be paced). When only the client sends it may end with
 * close() instead, which leaves an orphaned FIN-WAIT-2 on its side.
 */
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { PairWorkload } from './pair.js';
import type { Endpoints, Workload } from './workload.js';

/** The bulk workload of plan `w`: a pair with one script each way. */
export function bulk(
  run: Run,
  name: string,
  ends: Endpoints,
  w: Extract<WorkloadPlan, { kind: 'bulk' }>,
): Workload {
  return new PairWorkload(run, name, ends, {
    port: w.port,
    clientScript: w.clientCloses
      ? [{ op: 'send', bytes: w.clientBytes }, { op: 'close' }]
      : [
          { op: 'send', bytes: w.clientBytes },
          { op: 'shutdown' },
          { op: 'recv', bytes: w.serverBytes },
          { op: 'waitPeerClose' },
        ],
    serverScript: [
      { op: 'send', bytes: w.serverBytes },
      { op: 'shutdown' },
      { op: 'recv', bytes: w.clientBytes },
      { op: 'waitPeerClose' },
    ],
    clientPacing: w.clientPacing,
    serverPacing: w.serverPacing,
  });
}
