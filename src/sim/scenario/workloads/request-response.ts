/**
 * Request and response over one connection, round after round; the client
 * may sit idle between rounds (think time), long enough for the window to
 * restart after idle.
 */
import type { Step } from '../peer.js';
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { PairWorkload } from './pair.js';
import type { Endpoints, Workload } from './workload.js';

/** The request-response workload of plan `w`: one pair, the rounds in its scripts. */
export function requestResponse(
  run: Run,
  name: string,
  ends: Endpoints,
  w: Extract<WorkloadPlan, { kind: 'request-response' }>,
): Workload {
  const client: Step[] = [];
  const server: Step[] = [];
  for (const r of w.rounds) {
    if (r.think > 0) client.push({ op: 'sleep', duration: r.think });
    client.push({ op: 'send', bytes: r.request }, { op: 'recv', bytes: r.response });
    server.push({ op: 'recv', bytes: r.request }, { op: 'send', bytes: r.response });
  }
  client.push({ op: 'shutdown' }, { op: 'waitPeerClose' });
  server.push({ op: 'waitPeerClose' }, { op: 'shutdown' });
  return new PairWorkload(run, name, ends, {
    port: w.port,
    clientScript: client,
    serverScript: server,
  });
}
