/**
 * The faults a plan schedules on the built network: a link cut and its
 * healing, and a router lowering the MTU of one of its interfaces mid-run
 * (path MTU discovery on live connections).
 */
import type { Instant } from '../../base/index.js';
import type { Run } from './run.js';

/** Schedules the plan's cuts and MTU drop; call once the topology is built. */
export function scheduleFaults(run: Run): void {
  const plan = run.plan;
  for (const built of run.links) {
    const lp = built.plan;
    if (lp.cut === null) continue;
    const cut = lp.cut;
    const left = built.left.link;
    run.net.schedule(cut.at as Instant, (now) => {
      run.log(now, `${lp.name} cut for ${(cut.duration / 1e6).toFixed(3)} s`);
      left.cut(now);
    });
    run.net.schedule((cut.at + cut.duration) as Instant, (now) => {
      run.log(now, `${lp.name} healed`);
      left.heal();
    });
  }
  const drop = plan.mtuDrop;
  if (drop !== null) {
    const host = run.hosts.get(drop.host)!;
    const index = plan.links
      .filter((l) => l.left === drop.host || l.right === drop.host)
      .findIndex((l) => l.name === drop.link);
    run.net.schedule(drop.at as Instant, (now) => {
      run.log(now, `${drop.host} lowers its MTU on ${drop.link} to ${drop.mtu}`);
      host.stack.setMtu(index, drop.mtu);
    });
  }
}
