/**
 * The oracle: the end-of-run checks of the invariants listed in ./index.ts
 * (outcome, events, tables, the counters, udp, oversize), per connection
 * end and over the whole network, and whether the run lost anything at all
 * (which makes the udp check strict).
 */
import { NEVER } from '../../base/index.js';
import { TcpState } from '../../tcp/index.js';
import type { Peer } from './peer.js';
import type { Run } from './run.js';
import { unreachableCause } from './unreachable.js';

/** Nothing was dropped or damaged anywhere: no link drop, no corruption, no stack drop that loses data. */
export function nothingLost(run: Run): boolean {
  for (const l of run.links) {
    for (const end of [l.left, l.right]) {
      const s = end.link.stats();
      if (s.txDropped + s.rxDropped > 0) return false;
      const imp = end.link.impairStats();
      if (imp.outgoing.corrupted + imp.incoming.corrupted > 0) return false;
    }
  }
  for (const host of run.hosts.values()) {
    const d = host.stack.stats().drops;
    for (const reason of [
      'neighbor-unresolved',
      'neighbor-queue-full',
      'mtu-exceeded',
      'fragment-timeout',
      'fragment-memory',
      'udp-queue-full',
    ]) {
      if ((d[reason] ?? 0) > 0) return false;
    }
    for (const i of host.stack.stats().interfaces)
      if ((i.drops['neighbor-queue-full'] ?? 0) > 0) return false;
  }
  return true;
}

/** The checks of a run whose workloads finished and whose network then fell quiet. */
export function checkEnd(run: Run): void {
  for (const p of run.peers) checkConnectionEnd(p);
  for (const w of run.workloads) w.check();
  checkTables(run);
  checkInterfaceCounters(run);
  checkLinkCounters(run);
  checkTcpWire(run);
}

/** Checks that hold even for a run that got stuck. */
export function checkAlways(run: Run): void {
  for (const [host, ledger] of run.ledgers) {
    if (ledger.sackOversize > 0)
      run.fail(
        'oversize',
        `${host.name} sent ${ledger.sackOversize} data segments too big for the path by their SACK option, ` +
          `e.g. ${ledger.sackOversizeExample}`,
      );
  }
}

function checkTables(run: Run): void {
  for (const host of run.hosts.values()) {
    const s = host.stack.stats();
    const left: string[] = [];
    if (s.tcpConnections > 0) {
      const states = host.stack
        .tcpSockets()
        .slice(0, 5)
        .map((t) => `${t.localPort}->${t.remoteAddress.text}:${t.remotePort} ${t.state}`);
      left.push(`${s.tcpConnections} TCP connections (${states.join(', ')})`);
    }
    if (s.tcpListeners > 0) left.push(`${s.tcpListeners} listeners`);
    if (s.udpSockets > 0) left.push(`${s.udpSockets} UDP sockets`);
    if (s.pendingFragments > 0) left.push(`${s.pendingFragments} partial datagrams`);
    const t = host.stack.pollTimeout();
    if (t !== NEVER) left.push(`a timer at ${t} µs`);
    if (left.length > 0) run.fail('tables', `${host.name}: left at the end: ${left.join('; ')}`);
  }
  for (const l of run.links) {
    for (const end of [l.left, l.right]) {
      if (end.observer.pollTimeout() !== NEVER)
        run.fail('tables', `${l.plan.name} at ${end.host.name}: frames still in flight at the end`);
    }
  }
}

function checkInterfaceCounters(run: Run): void {
  for (const host of run.hosts.values()) {
    const ifaces = host.stack.stats().interfaces;
    let index = 0;
    for (const l of run.links) {
      for (const end of [l.left, l.right]) {
        if (end.host !== host) continue;
        const i = ifaces[index++]!;
        if (i.framesOut !== end.observer.framesOut || i.framesIn !== end.observer.framesIn)
          run.fail(
            'counters-interface',
            `${host.name} ${i.name}: the stack counts ${i.framesOut} out / ${i.framesIn} in, ` +
              `the link was handed ${end.observer.framesOut} and gave ${end.observer.framesIn}`,
          );
      }
    }
  }
}

function checkLinkCounters(run: Run): void {
  for (const l of run.links) {
    for (const [from, to] of [
      [l.left, l.right],
      [l.right, l.left],
    ] as const) {
      const dup = from.link.impairStats().outgoing.duplicated;
      const txDropped = from.link.stats().txDropped;
      const rxDropped = to.link.stats().rxDropped;
      const lhs = from.observer.framesOut + dup;
      const rhs = to.observer.framesIn + txDropped + rxDropped;
      if (lhs !== rhs)
        run.fail(
          'counters-link',
          `${l.plan.name} ${from.host.name}->${to.host.name}: ${from.observer.framesOut} sent + ${dup} duplicated ` +
            `!= ${to.observer.framesIn} received + ${txDropped} dropped on the way out + ${rxDropped} on the way in`,
        );
    }
  }
}

function checkTcpWire(run: Run): void {
  for (const [host, ledger] of run.ledgers) {
    for (const a of ledger.anomalies) run.fail('counters-tcp-wire', `${host.name}: ${a}`);

    let bytesSent = 0;
    let bytesRetransmitted = 0;
    let dataSegmentsSent = 0;
    for (const p of run.peers) {
      if (p.host !== host) continue;
      const s = p.socket.stats();
      bytesSent += s.bytesSent;
      bytesRetransmitted += s.bytesRetransmitted;
      dataSegmentsSent += s.dataSegmentsSent;
    }
    const stats = host.stack.stats();
    // Packets the stack dropped before the link never reached the wire.
    let lostInStack = stats.drops['neighbor-unresolved'] ?? 0;
    for (const i of stats.interfaces) lostInStack += i.drops['neighbor-queue-full'] ?? 0;
    const rtxOnWire = ledger.payloadBytes - ledger.newBytes;
    const pairs: Array<[string, number, number]> = [
      ['bytesSent (new data)', bytesSent, ledger.newBytes],
      ['bytesRetransmitted', bytesRetransmitted, rtxOnWire],
      ['dataSegmentsSent', dataSegmentsSent, ledger.newSegments],
    ];
    for (const [what, counted, seen] of pairs) {
      const ok = lostInStack === 0 ? counted === seen : counted >= seen;
      if (!ok)
        run.fail(
          'counters-tcp-wire',
          `${host.name}: the connections count ${counted} ${what}, the wire shows ${seen}` +
            (lostInStack > 0 ? ` (${lostInStack} packets lost in the stack)` : ''),
        );
    }
  }
}

/**
 * The last ACKs of a connection end in LAST-ACK never came through, yet
 * nothing was lost: its partner read every byte and the FIN, then its
 * TIME-WAIT ran out (2MSL, RFC 9293 §3.6.1) before a retransmission got
 * through, answered it with RST, and the RST closed this end quietly (RFC
 * 9293 §3.10.7.4: in LAST-ACK a reset just closes). What it wrote was then
 * delivered though not all acknowledged.
 */
function ackLostToTimeWait(peer: Peer): boolean {
  const by = peer.closedBy;
  if (by === null || by.from !== TcpState.LastAck || !by.cause.includes('RST')) return false;
  for (const other of peer.run.peers) {
    if (other === peer || other.sendKey !== peer.recvKey || other.recvKey !== peer.sendKey)
      continue;
    if (
      other.closed &&
      other.closeError === null &&
      other.received === peer.written &&
      other.peerClosedSeen &&
      other.closedAt <= peer.closedAt
    )
      return true;
  }
  return false;
}

/** The end-of-run checks of one connection end. */
export function checkConnectionEnd(peer: Peer): void {
  const run = peer.run;
  const s = peer.socket.stats();
  const where = `${peer.label} (${peer.socket.localAddress.text}:${peer.socket.localPort} -> ${peer.socket.remoteAddress.text}:${peer.socket.remotePort})`;
  if (!peer.closed) {
    run.fail(
      'outcome',
      `${where}: never closed; state ${peer.socket.state}, step ${peer.pc}/${peer.script.length}, ` +
        `read ${peer.received}/${peer.recvLength}, wrote ${peer.written}/${peer.sendLength}, unacked ${s.sendBuffered}`,
    );
    return;
  }
  if (peer.finalLength >= 0 && peer.received !== peer.finalLength) {
    run.fail(
      'events',
      `${where}: ${peer.finalLength} bytes were there when the FIN came, ${peer.received} were read in the end`,
    );
  }
  const error = peer.closeError;
  let clean = false;
  switch (peer.expect) {
    case 'clean':
      clean = true;
      break;
    case 'aborted':
    case 'reset':
      // The receiving victim of an abort may get every byte and the FIN,
      // sent before the RST, ahead of it: it then ends normally, or quietly
      // when the RST meets its LAST-ACK (RFC 9293 §3.10.7.4).
      if (
        peer.expect === 'reset' &&
        error === null &&
        peer.peerClosedSeen &&
        peer.received === peer.recvLength
      )
        return;
      if (error !== peer.expect)
        run.fail('outcome', `${where}: ended with '${error ?? 'ok'}', expected '${peer.expect}'`);
      return;
    case 'stray':
      return;
    case 'any':
      if (error === null) {
        clean = true;
      } else if (error === 'unreachable') {
        if (unreachableCause(peer) === null)
          run.fail(
            'outcome',
            `${where}: ended with 'unreachable', which no cut of the plan explains`,
          );
      } else if (error !== 'reset' && error !== 'refused' && error !== 'timed-out') {
        run.fail('outcome', `${where}: ended with '${error}'`);
      }
      if (!clean) return;
      break;
  }
  if (!clean) return;
  if (error === 'reset' && peer.cookieSuspect()) {
    // SYN cookies (RFC 4987 §3.6): when the handshake's ACK is lost and a
    // later segment arrives first, its sequence number does not give back
    // the cookie and the listener answers RST, as Linux does
    // (cookie_v4_check fails, tcp_rcv_state_process resets an ACK in LISTEN).
    run.cookieResets++;
    return;
  }
  if (error === 'unreachable' && peer.supersededBy !== null && unreachableCause(peer) !== null) {
    // The path was cut while it resolved its next hop (see unreachable.ts);
    // its application connected again, and that attempt is judged in full.
    run.unreachableRetries++;
    return;
  }
  if (error !== null) {
    run.fail(
      'outcome',
      `${where}: ended with '${error}' (read ${peer.received}/${peer.recvLength}, wrote ${peer.written}/${peer.sendLength}, ` +
        `acked ${s.bytesAcked}, step ${peer.pc}/${peer.script.length})`,
    );
    return;
  }
  if (peer.received !== peer.recvLength)
    run.fail(
      'outcome',
      `${where}: closed cleanly after reading ${peer.received} of ${peer.recvLength} bytes`,
    );
  if (peer.pc < peer.script.length)
    run.fail(
      'outcome',
      `${where}: closed cleanly with its script at step ${peer.pc}/${peer.script.length}`,
    );
  if (
    (s.bytesAcked !== peer.written && !ackLostToTimeWait(peer)) ||
    peer.written !== peer.sendLength
  )
    run.fail(
      'outcome',
      `${where}: closed cleanly with ${peer.written}/${peer.sendLength} bytes written and ${s.bytesAcked} acknowledged`,
    );
  if (s.bytesReceived !== peer.received)
    run.fail(
      'counters-bytes-received',
      `${where}: stats().bytesReceived is ${s.bytesReceived}, the application read ${peer.received}`,
    );
}
