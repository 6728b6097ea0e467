/**
 * Stepping through a ladder: what each side's state is after the first `n`
 * packets. Events (a packet leaving, a packet arriving, a timer's state
 * change) are replayed in the diagram's own time order, and a step ends at
 * the arrival of its packet (or its departure, when it was lost or the other
 * end was not seen).
 */
import type { LadderDiagram, LadderPacket, StateNote } from '../src/cli/ladder-model.js';

/** Each side's state after a step, and the transitions that step caused. */
export interface StepStates {
  client: string;
  server: string;
  /** The states just before this step's packet, to light the edge taken. */
  previous: { client: string; server: string };
  /** Why each state changed during this step ("rcv SYN,ACK" ...), oldest first. */
  causes: string[];
}

interface Event {
  time: number;
  order: number;
  side: 'client' | 'server';
  note: StateNote | null;
  state: string | null;
  packet: number;
}

/** Precomputes the states after every step 0..packets.length. */
export function statesByStep(diagram: LadderDiagram): StepStates[] {
  const events: Event[] = [];
  const other = (p: LadderPacket): 'client' | 'server' =>
    p.from === 'client' ? 'server' : 'client';
  for (const p of diagram.packets) {
    if (p.sentAt !== null)
      events.push({
        time: p.sentAt,
        order: p.sendOrder,
        side: p.from,
        note: p.senderState,
        state: p.senderState?.state ?? null,
        packet: p.number,
      });
    if (p.arrivedAt !== null)
      events.push({
        time: p.arrivedAt,
        order: p.arriveOrder,
        side: other(p),
        note: p.receiverState,
        state: p.receiverState?.state ?? null,
        packet: p.number,
      });
  }
  for (const row of diagram.stateRows) {
    events.push({
      time: row.at,
      order: row.order,
      side: row.side,
      note: { state: row.state, connection: row.connection, transitions: row.transitions },
      state: row.state,
      packet: Number.POSITIVE_INFINITY,
    });
  }
  events.sort((a, b) => a.time - b.time || a.order - b.order);

  const steps: StepStates[] = [];
  const initial = { ...diagram.initialStates };
  steps.push({ ...initial, previous: initial, causes: [] });
  const packets = diagram.packets;
  // Time never runs backward from one step to the next: a lost packet (which
  // ends where it left) comes after an earlier packet's arrival in the list.
  let end = Number.NEGATIVE_INFINITY;
  let endOrder = 0;
  for (let n = 1; n <= packets.length; n++) {
    const p = packets[n - 1]!;
    const time = p.arrivedAt ?? p.sentAt ?? 0;
    const order = p.arrivedAt !== null ? p.arriveOrder : p.sendOrder;
    if (time > end || (time === end && order > endOrder)) {
      end = time;
      endOrder = order;
    }
    const state = { ...initial };
    const before = { ...initial };
    const causes: string[] = [];
    for (const e of events) {
      if (e.time > end || (e.time === end && e.order > endOrder)) break;
      // Only the packets up to this step count; timers count when their time has come.
      if (e.packet > n && e.packet !== Number.POSITIVE_INFINITY) continue;
      if (e.state === null) continue;
      if (e.packet !== n) before[e.side] = e.state;
      if (e.packet === n && e.note !== null) {
        for (const t of e.note.transitions)
          causes.push(`${e.side}: ${t.from} → ${t.to} (${t.cause})`);
      }
      state[e.side] = e.state;
    }
    steps.push({ ...state, previous: before, causes });
  }
  return steps;
}
