/**
 * When `unreachable` is the right end of a connect: the stack gives up on a
 * next hop whose neighbour resolution (ARP, NDP) went unanswered and hands
 * its own connection an ICMP host unreachable, which aborts a connection in
 * SYN-SENT (as Linux does: EHOSTUNREACH after a failed ARP, and tcp_v4_err
 * aborts a connect on any ICMP unreachable; RFC 1122 §4.2.3.9 would allow a
 * soft error instead). The oracle accepts that end only when the plan's
 * fault schedule accounts for the failed resolution, derived here from the
 * instant the connection ended; anything else is still a failure.
 */
import { DEFAULT_NEIGHBOR_CONFIG } from '../../stack/index.js';
import type { Impairment } from '../../link/index.js';
import type { Peer } from './peer.js';
import type { LinkPlan } from './plan.js';

/** The longest one direction of a link can hold a frame: delay, jitter, a reorder hold, a full queue. */
function worstOneWay(imp: Impairment, maxFrame: number): number {
  let t = (imp.delay ?? 0) + (imp.jitter ?? 0);
  if ((imp.reorder ?? 0) > 0) t += imp.reorderDelay ?? 10_000;
  const rate = imp.rate ?? 0;
  if (rate > 0) t += Math.ceil((((imp.queueBytes ?? 65536) + maxFrame) * 8 * 1e6) / rate);
  return t;
}

/** A direction that can lose a frame without a cut (random loss, bursts, damage, a full queue). */
function lossy(imp: Impairment): boolean {
  return (
    (imp.loss ?? 0) > 0 ||
    (imp.burst ?? null) !== null ||
    (imp.corrupt ?? 0) > 0 ||
    (imp.rate ?? 0) > 0
  );
}

/**
 * Why the connect of `peer` may end `unreachable`, or null when nothing in
 * the plan accounts for it. The rule, for an end that never connected and
 * ended at instant T:
 *
 * - its host resolves its next hop with ARP/NDP: an Ethernet link (an IP
 *   link has no neighbour resolution, and a router that cannot resolve a
 *   forwarded packet's next hop tells nobody, see stack.ts neighborFailed);
 * - the stack counted `neighbor-unresolved` drops;
 * - the failed resolution sent its solicitations at T - k * RetransTimer,
 *   k = MAX_MULTICAST_SOLICIT .. 1 (RFC 4861 §7.2.2, the stack's
 *   DEFAULT_NEIGHBOR_CONFIG), and each went unanswered: the link was cut
 *   before its answer could come back (the cut also drops frames in flight)
 *   and not yet healed when it was sent, or else the link loses frames at
 *   random; and at least one of them fell in the cut.
 */
export function unreachableCause(peer: Peer): string | null {
  if (peer.closeError !== 'unreachable' || peer.connectedSeen) return null;
  const run = peer.run;
  const name = peer.host.name;
  const link: LinkPlan | undefined = run.plan.links.find(
    (l) => l.left === name || l.right === name,
  );
  if (link === undefined || link.kind !== 'ethernet' || link.cut === null) return null;
  if ((peer.host.stack.stats().drops['neighbor-unresolved'] ?? 0) === 0) return null;
  const maxFrame = link.mtu + 14;
  const roundTrip =
    worstOneWay(link.leftToRight, maxFrame) + worstOneWay(link.rightToLeft, maxFrame);
  const canLose = lossy(link.leftToRight) || lossy(link.rightToLeft);
  const cutStart = link.cut.at;
  const cutEnd = link.cut.at + link.cut.duration;
  const end = peer.closedAt;
  if (end < peer.createdAt) return null;
  const retrans = DEFAULT_NEIGHBOR_CONFIG.retransmitInterval;
  let inCut = 0;
  for (let k = DEFAULT_NEIGHBOR_CONFIG.maxProbes; k >= 1; k--) {
    const sent = end - k * retrans;
    if (cutStart <= sent + roundTrip && sent < cutEnd) inCut++;
    else if (!canLose) return null;
  }
  if (inCut === 0) return null;
  return (
    `${link.name} was cut from ${(cutStart / 1e6).toFixed(3)} s to ${(cutEnd / 1e6).toFixed(3)} s, ` +
    `over ${inCut} of the solicitations of the resolution that failed at ${(end / 1e6).toFixed(3)} s`
  );
}
