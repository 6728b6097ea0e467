/**
 * The state each side's connection was in at every frame: a recorder that
 * watches both hosts' links (through observeFrames) and reads the
 * connections' own records of transitions.
 */
import type { Instant } from '../../base/index.js';
import { LinkType, type FrameObserver } from '../../link/index.js';
import type { SimHost } from '../../sim/index.js';
import type { TcpSocket } from '../../stack/index.js';
import { TcpState, type StateTransition } from '../../tcp/index.js';
import {
  Side,
  segmentOf,
  type StateNote,
  type StateRow,
  type TransitionRecord,
} from '../ladder-model.js';

/** Where a probe note came from. */
interface Note {
  record: number;
  time: number;
  order: number;
  state: StateNote | null;
}

export function transitionRecord(t: StateTransition, index: number): TransitionRecord {
  return { at: t.at, from: t.from, to: t.to, cause: t.cause, index };
}

function socketKey(local: string, localPort: number, remote: string, remotePort: number): string {
  return `${local}|${localPort}|${remote}|${remotePort}`;
}

/**
 * The state a side is shown in. A half-open connection that a RST sends
 * back to LISTEN (RFC 9293 §3.10.7.4) is then discarded by the stack, so its
 * record ends in CLOSED; the host is listening all along, so LISTEN is shown.
 */
function shownState(socket: TcpSocket): string {
  const state = socket.conn.state;
  const list = socket.conn.transitions;
  const last = list[list.length - 1];
  if (socket.listener !== null && state === TcpState.Closed && last?.from === TcpState.Listen) {
    return TcpState.Listen;
  }
  return state;
}

/**
 * Pairs every frame a host sends or receives with that host's connection
 * state right after: notes for sends are taken as the frame leaves, notes
 * for arrivals once the stack has processed the frame (at the next call to
 * `receive`, which the simulator makes before anything else happens on
 * that host). The transitions a connection recorded since its previous
 * note are attributed to the note; those no frame explains (a timer) are
 * flushed as rows of their own after every simulation step.
 */
export class StateRecorder {
  order = 0;
  readonly notes: Record<Side, Map<number, Note>> = { client: new Map(), server: new Map() };
  readonly rows: StateRow[] = [];
  readonly sockets: Record<Side, TcpSocket[]> = { client: [], server: [] };
  private readonly known: Record<Side, Map<string, TcpSocket>> = {
    client: new Map(),
    server: new Map(),
  };
  private readonly cursor = new Map<TcpSocket, number>();
  private readonly carry = new Map<TcpSocket, TransitionRecord[]>();
  private readonly hosts: Record<Side, SimHost>;

  constructor(hosts: Record<Side, SimHost>) {
    this.hosts = hosts;
  }

  /** Learns the side's live connections (new ones, and new ones reusing a 4-tuple). */
  private refresh(side: Side): void {
    for (const s of this.hosts[side].stack.tcpSockets()) {
      const key = socketKey(s.localAddress.text, s.localPort, s.remoteAddress.text, s.remotePort);
      if (this.known[side].get(key) !== s) {
        this.known[side].set(key, s);
        if (!this.sockets[side].includes(s)) this.sockets[side].push(s);
      }
    }
  }

  private take(socket: TcpSocket): TransitionRecord[] {
    const list = socket.conn.transitions;
    const from = this.cursor.get(socket) ?? 0;
    this.cursor.set(socket, list.length);
    return list.slice(from).map((t, i) => transitionRecord(t, from + i));
  }

  /** The connection of `side` that a frame belongs to, if it has one. */
  private socketOf(
    side: Side,
    time: Instant,
    frame: Uint8Array,
    sent: boolean,
  ): TcpSocket | undefined {
    this.refresh(side);
    const segment = segmentOf(
      { time, linkType: LinkType.Raw, data: frame, originalLength: frame.length },
      0,
    );
    if (segment === null) return undefined;
    const key = sent
      ? socketKey(segment.src, segment.srcPort, segment.dst, segment.dstPort)
      : socketKey(segment.dst, segment.dstPort, segment.src, segment.srcPort);
    return this.known[side].get(key);
  }

  /**
   * A frame is about to be processed: changes its connection made since the
   * last note (an application's call, say) are not the frame's doing. They
   * are carried to the connection's next send, or to a row of their own.
   */
  beforeArrival(side: Side, time: Instant, frame: Uint8Array): void {
    const socket = this.socketOf(side, time, frame, false);
    if (socket === undefined) return;
    const fresh = this.take(socket);
    if (fresh.length > 0) this.carry.set(socket, [...(this.carry.get(socket) ?? []), ...fresh]);
  }

  /** Notes the state after frame number `record` of `side`'s capture went out or was processed. */
  note(side: Side, record: number, time: Instant, frame: Uint8Array, sent: boolean): void {
    const socket = this.socketOf(side, time, frame, sent);
    let state: StateNote | null = null;
    if (socket !== undefined) {
      const carried = this.carry.get(socket) ?? [];
      const own = this.take(socket);
      if (sent) {
        this.carry.delete(socket);
        state = {
          state: shownState(socket),
          connection: socket.id,
          transitions: [...carried, ...own],
        };
      } else {
        // An arrival that changed nothing shows the state from before the carried changes.
        const shown =
          own.length === 0 && carried.length > 0 ? carried[0]!.from : shownState(socket);
        state = { state: shown, connection: socket.id, transitions: own };
      }
    }
    this.notes[side].set(record, { record, time, order: this.order++, state });
  }

  /**
   * The observer of `side`'s link, below the host and above its tap: the
   * index of each frame it reports is the frame's record in that tap.
   */
  observer(side: Side): FrameObserver {
    return {
      sent: (index, now, frame) => this.note(side, index, now, frame, true),
      arriving: (_index, now, frame) => this.beforeArrival(side, now, frame),
      processed: (index, arrivedAt, frame) => this.note(side, index, arrivedAt, frame, false),
    };
  }

  /** Turns transitions no frame explained into rows of their own, at `now`. */
  flush(now: Instant): void {
    for (const side of [Side.Client, Side.Server]) {
      this.refresh(side);
      for (const socket of this.sockets[side]) {
        const fresh = [...(this.carry.get(socket) ?? []), ...this.take(socket)];
        this.carry.delete(socket);
        if (fresh.length === 0) continue;
        this.rows.push({
          at: now,
          side,
          state: shownState(socket),
          connection: socket.id,
          transitions: fresh,
          order: this.order++,
        });
      }
    }
  }
}
