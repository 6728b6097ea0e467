/**
 * Half-close: the client sends and shuts down; the server sends some bytes
 * before the client's FIN arrives and more after it, then shuts down.
 */
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { PairWorkload } from './pair.js';
import type { Endpoints, Workload } from './workload.js';

/** The half-close workload of plan `w`. */
export function halfClose(
  run: Run,
  name: string,
  ends: Endpoints,
  w: Extract<WorkloadPlan, { kind: 'half-close' }>,
): Workload {
  // The server keeps sending after the client's FIN (RFC 9293 §3.6: CLOSE-WAIT may still send).
  return new PairWorkload(run, name, ends, {
    port: w.port,
    clientScript: [
      { op: 'send', bytes: w.clientBytes },
      { op: 'shutdown' },
      { op: 'recv', bytes: w.serverBefore + w.serverAfter },
      { op: 'waitPeerClose' },
    ],
    serverScript: [
      { op: 'send', bytes: w.serverBefore },
      { op: 'recv', bytes: w.clientBytes },
      { op: 'waitPeerClose' },
      { op: 'send', bytes: w.serverAfter },
      { op: 'shutdown' },
    ],
  });
}
