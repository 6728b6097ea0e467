/** A plan as readable lines: the topology, each link's conditions, host options, workloads. */
import type { Impairment } from '../../link/index.js';
import type { TcpConfig } from '../../tcp/index.js';
import type { ScenarioPlan, WorkloadPlan } from './plan.js';

function formatImpairment(imp: Impairment): string {
  const parts: string[] = [];
  if (imp.delay !== undefined)
    parts.push(
      `delay ${imp.delay / 1000} ms${imp.jitter !== undefined ? `±${imp.jitter / 1000}` : ''}`,
    );
  if (imp.loss !== undefined) parts.push(`loss ${imp.loss * 100}%`);
  if (imp.burst !== undefined && imp.burst !== null)
    parts.push(`burst ${imp.burst.pGoodToBad}/${imp.burst.pBadToGood}`);
  if (imp.reorder !== undefined)
    parts.push(`reorder ${imp.reorder * 100}% +${(imp.reorderDelay ?? 0) / 1000} ms`);
  if (imp.duplicate !== undefined) parts.push(`dup ${imp.duplicate * 100}%`);
  if (imp.corrupt !== undefined) parts.push(`corrupt ${imp.corrupt * 100}%`);
  if (imp.rate !== undefined)
    parts.push(`rate ${imp.rate / 1e6} Mbit/s queue ${imp.queueBytes ?? 65536} B`);
  return parts.length > 0 ? parts.join(', ') : 'clean';
}

function formatTcp(tcp: Partial<TcpConfig>): string {
  const flags = [
    tcp.timestamps === true ? 'ts' : '-ts',
    tcp.sack === true ? 'sack' : '-sack',
    tcp.windowScaling === true ? 'wscale' : '-wscale',
    tcp.noDelay === true ? 'nodelay' : 'nagle',
    tcp.delayedAck === true ? 'delack' : '-delack',
  ];
  return `${flags.join(' ')} snd ${tcp.sendBufferSize} rcv ${tcp.receiveBufferSize} iw ${tcp.initialCwndSegments}`;
}

function formatWorkload(w: WorkloadPlan): string {
  const at = `at ${(w.start / 1e6).toFixed(3)} s`;
  switch (w.kind) {
    case 'bulk':
      return (
        `bulk v${w.family} ${at}: a->b ${w.clientBytes} B, b->a ${w.serverBytes} B` +
        (w.clientPacing !== null
          ? `, a reads ${w.clientPacing.bytes} B/${w.clientPacing.interval / 1000} ms`
          : '') +
        (w.serverPacing !== null
          ? `, b reads ${w.serverPacing.bytes} B/${w.serverPacing.interval / 1000} ms`
          : '') +
        (w.clientCloses ? ', a ends with close()' : '')
      );
    case 'request-response':
      return `request-response v${w.family} ${at}: ${w.rounds.map((r) => `${r.think > 0 ? `(${r.think / 1000} ms) ` : ''}${r.request}/${r.response}`).join(' ')}`;
    case 'many-short':
      return (
        `many-short v${w.family} ${at}: ${w.connections.length} connections, ${w.concurrency} at once` +
        (w.clientPort > 0 ? `, all from port ${w.clientPort}` : '')
      );
    case 'half-close':
      return `half-close v${w.family} ${at}: a->b ${w.clientBytes} B then FIN; b->a ${w.serverBefore} B before, ${w.serverAfter} B after`;
    case 'simultaneous-open':
      return `simultaneous-open v${w.family} ${at}: a:${w.portA} <-> b:${w.portB}, ${w.aBytes} B / ${w.bBytes} B`;
    case 'simultaneous-close':
      return `simultaneous-close v${w.family} ${at}: ${w.clientBytes} B / ${w.serverBytes} B`;
    case 'abort':
      return `abort v${w.family} ${at}: ${w.clientSends ? 'a->b' : 'b->a'} ${w.bytes} B, the ${w.senderAborts ? 'sender' : 'receiver'} aborts after ${w.abortAfter} B`;
    case 'backlog':
      return `backlog v${w.family} ${at}: backlog ${w.backlog}, accepts ${w.acceptCount} of ${w.clients.length}, listener closes after ${(w.closeListenerAfter / 1e6).toFixed(1)} s`;
    case 'udp-echo':
      return `udp-echo v${w.family} ${at}: bursts of ${w.bursts.map((b) => b.sizes.length).join(', ')} datagrams`;
  }
}

/** The plan as readable lines: topology, links, host options, workloads. */
export function describePlan(plan: ScenarioPlan): string[] {
  const lines = [`seed ${plan.seed}: ${plan.hosts.map((h) => h.name).join(' - ')}`];
  for (const l of plan.links) {
    lines.push(
      `${l.name} ${l.left}-${l.right} ${l.kind} mtu ${l.mtu}` +
        (l.cut !== null
          ? `, cut at ${(l.cut.at / 1e6).toFixed(3)} s for ${(l.cut.duration / 1e6).toFixed(3)} s`
          : ''),
    );
    lines.push(`  ${l.left}->${l.right}: ${formatImpairment(l.leftToRight)}`);
    lines.push(`  ${l.right}->${l.left}: ${formatImpairment(l.rightToLeft)}`);
  }
  const drop = plan.mtuDrop;
  if (drop !== null)
    lines.push(
      `${drop.host} lowers its MTU on ${drop.link} to ${drop.mtu} at ${(drop.at / 1e6).toFixed(3)} s`,
    );
  for (const h of plan.hosts)
    if (!h.router)
      lines.push(
        `${h.name}: ${formatTcp(h.tcp)}` +
          (h.maxSynBacklog < 1024 ? `, SYN backlog ${h.maxSynBacklog}` : ''),
      );
  for (const w of plan.workloads) lines.push(formatWorkload(w));
  return lines;
}
