/**
 * The workloads a plan can ask for, one per file, and the switch that
 * turns a workload's plan into the object that runs it.
 */
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { abort } from './abort.js';
import { Backlog } from './backlog.js';
import { bulk } from './bulk.js';
import { halfClose } from './half-close.js';
import { ManyShort } from './many-short.js';
import { requestResponse } from './request-response.js';
import { simultaneousClose } from './simultaneous-close.js';
import { SimultaneousOpen } from './simultaneous-open.js';
import { UdpEcho } from './udp-echo.js';
import type { Endpoints, Workload } from './workload.js';

export type { Endpoints, Workload } from './workload.js';
export { UdpEcho } from './udp-echo.js';

/** The runner of one planned workload; it starts when the run calls start(). */
export function makeWorkload(run: Run, w: WorkloadPlan, name: string, ends: Endpoints): Workload {
  switch (w.kind) {
    case 'bulk':
      return bulk(run, name, ends, w);
    case 'request-response':
      return requestResponse(run, name, ends, w);
    case 'half-close':
      return halfClose(run, name, ends, w);
    case 'simultaneous-close':
      return simultaneousClose(run, name, ends, w);
    case 'abort':
      return abort(run, name, ends, w);
    case 'simultaneous-open':
      return new SimultaneousOpen(run, name, ends, w);
    case 'many-short':
      return new ManyShort(run, name, ends, w);
    case 'backlog':
      return new Backlog(run, name, ends, w);
    case 'udp-echo':
      return new UdpEcho(run, name, ends, w);
  }
}
