/**
 * Simultaneous close: both sides exchange their bytes, meet at a barrier
 * and shut down in the same instant, so the FINs cross (RFC 9293 §3.6).
 */
import { Barrier } from '../peer.js';
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { PairWorkload } from './pair.js';
import type { Endpoints, Workload } from './workload.js';

/** The simultaneous-close workload of plan `w`. */
export function simultaneousClose(
  run: Run,
  name: string,
  ends: Endpoints,
  w: Extract<WorkloadPlan, { kind: 'simultaneous-close' }>,
): Workload {
  const barrier = new Barrier(2);
  return new PairWorkload(run, name, ends, {
    port: w.port,
    clientScript: [
      { op: 'send', bytes: w.clientBytes },
      { op: 'recv', bytes: w.serverBytes },
      { op: 'barrier', barrier },
      { op: 'shutdown' },
      { op: 'waitPeerClose' },
    ],
    serverScript: [
      { op: 'send', bytes: w.serverBytes },
      { op: 'recv', bytes: w.clientBytes },
      { op: 'barrier', barrier },
      { op: 'shutdown' },
      { op: 'waitPeerClose' },
    ],
  });
}
