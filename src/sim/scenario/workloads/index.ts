/**
 * The workloads a plan can ask for, and the one switch that turns a
 * workload's plan into the object that runs it (the scripts of the
 * one-connection kinds are written here).
 */
import { Barrier, type Step } from '../peer.js';
import type { WorkloadPlan } from '../plan.js';
import type { Run } from '../run.js';
import { Backlog } from './backlog.js';
import { ManyShort } from './many-short.js';
import { PairWorkload } from './pair.js';
import { SimultaneousOpen } from './simultaneous-open.js';
import { UdpEcho } from './udp-echo.js';
import type { Endpoints, Workload } from './workload.js';

export type { Endpoints, Workload } from './workload.js';
export { UdpEcho } from './udp-echo.js';

/** The runner of one planned workload; it starts when the run calls start(). */
export function makeWorkload(run: Run, w: WorkloadPlan, name: string, ends: Endpoints): Workload {
  switch (w.kind) {
    case 'bulk':
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
    case 'request-response': {
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
    case 'half-close':
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
    case 'simultaneous-close': {
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
    case 'abort': {
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
